"""Many directions, one pass: Jacobian columns, Hessians and batches of tangents.

``jacobian(f, mode="fwd")`` and ``hessian(f)`` need one tangent per input element. Instead of
calling the tangent program once per direction, they call its batched version
(``optimize.batching``: every tangent has a leading axis of directions), once per chunk of
directions. A chunk holds as many directions as fit ``BUDGET`` float64 elements of the
largest tangent (the input's or the result's), so memory stays bounded for large inputs, and
the progress display counts the directions as chunks finish.

A program that cannot carry the direction axis (a primitive without a batching row, tapes,
a shape-generic program) is pushed one direction at a time, as before: same numbers, slower.
``last_batched`` on the API objects says which happened.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InternalError
from .derivative import Derivative
from .progress import Progress

BUDGET = 1 << 22  # float64 elements per tangent block (32 MB): directions are chunked beyond


def chunk_size(n: int, widest: int, budget: int | None = None) -> int:
    """Directions per pass: all ``n`` when ``n × widest`` fits the budget."""
    limit = BUDGET if budget is None else budget
    return max(1, min(n, limit // max(1, widest)))


class Pusher:
    """One set of arguments, the batched tangent program when there is one for them (else
    the plain one, a direction at a time)."""

    def __init__(
        self,
        plain: Derivative,
        batched: Derivative,
        args: tuple,
        kwargs: dict,
        enabled: bool = True,
    ):
        self._plain = (plain, args, kwargs)
        self.batched = False
        if enabled:
            call = batched.prepare(args, kwargs)  # type: ignore[attr-defined]
            self.batched = call.t.program.batched
        self.call = call if self.batched else plain.prepare(args, kwargs)  # type: ignore
        self.inputs: list[Any] = self.call.inputs

    def unbatch(self) -> None:
        """Fall back to a direction at a time: a batched program that fails when it runs is
        symdiff's fault (known: lists built in loops under the per-direction rows), and the
        plain program gives the same numbers, so the call still answers rightly."""
        plain, args, kwargs = self._plain
        self.batched = False
        self.call = plain.prepare(args, kwargs)  # type: ignore[attr-defined]
        self.inputs = self.call.inputs

    def tangents(self, blocks: list[Any], shape: tuple[int, ...]) -> Any:
        """``(m, *shape)``: the tangents along m directions, given per input as
        ``(m, *x.shape)`` blocks."""
        m = len(blocks[0])
        if self.batched:
            try:
                out = self.call.tangent(blocks)
                return np.broadcast_to(np.asarray(out, dtype=float), (m, *shape))
            except InternalError:
                self.unbatch()
        rows = [self.call.tangent([_item(b[k], x) for b, x in zip(blocks, self.inputs)])
                for k in range(m)]  # fmt: skip
        return np.asarray(rows, dtype=float).reshape((m, *shape))

    def value_and_tangents(self, blocks: list[Any]) -> tuple[Any, np.ndarray]:
        """``(f(args), T)`` with ``T[k]`` the tangent along direction ``k`` of the blocks."""
        m = len(blocks[0])
        if self.batched:
            try:
                value, out = self.call(blocks)
                return value, np.array(np.broadcast_to(out, (m, *np.shape(value))))
            except InternalError:
                self.unbatch()
        value = zero_value(self)
        return value, np.array(self.tangents(blocks, np.shape(value)))


def _item(v: Any, x: Any) -> Any:
    """One direction, typed like its input (a NumPy scalar for a scalar)."""
    dtype = _dtype(x)
    return np.asarray(v, dtype=dtype) if np.ndim(v) else dtype.type(v)


def _dtype(x: Any) -> np.dtype:
    return x.dtype if isinstance(x, np.ndarray) and x.dtype.kind == "f" else np.dtype(np.float64)


def unit_columns(
    pusher: Pusher,
    shape: tuple[int, ...],
    what: str,
    budget: int | None = None,
) -> tuple[np.ndarray, ...]:
    """Forward-mode Jacobian blocks, ``shape + x.shape`` per input, from unit directions
    pushed a chunk at a time."""
    xs = pusher.inputs
    sizes = [int(np.size(x)) for x in xs]
    out_size = int(np.prod(shape, dtype=np.int64))
    n = sum(sizes)
    m = chunk_size(n, max(max(sizes, default=1), out_size), budget)
    columns = []  # per input: (size, *shape)
    with Progress(what, n) as progress:
        for j in range(len(xs)):
            parts = []
            for start in range(0, sizes[j], m):
                stop = min(sizes[j], start + m)
                blocks = [np.zeros((stop - start, *np.shape(v)), _dtype(v)) for v in xs]
                flat = blocks[j].reshape(stop - start, -1)
                flat[np.arange(stop - start), np.arange(start, stop)] = 1.0
                parts.append(pusher.tangents(blocks, shape))
                progress.advance(stop - start)
            columns.append(np.concatenate(parts) if parts else np.zeros((0, *shape)))
    # column k of a block is J·e_k: the block is their transpose, laid out as shape + x.shape
    return tuple(
        c.reshape(int(np.size(x)), out_size).T.reshape(shape + np.shape(x))
        for c, x in zip(columns, xs)
    )


def zero_value(pusher: Pusher) -> Any:
    """``f``'s value, from the tangent program along zero directions (one of them)."""
    blocks = [np.zeros((1, *np.shape(x)), _dtype(x)) for x in pusher.inputs]
    if not pusher.batched:
        blocks = [_item(b[0], x) for b, x in zip(blocks, pusher.inputs)]
    try:
        return pusher.call(blocks)[0]
    except InternalError:
        pusher.unbatch()
        return zero_value(pusher)
