"""One element of a value, as a C expression: how views, broadcasting and fused elementwise
code read their operands.

The C backend stores an array in a flat row-major buffer (``z[i * 4 + j]``). A value that
has no storage of its own is *virtual*: a view of another value (``A.T``, ``x[1:]``,
``np.reshape``, ``np.broadcast_to``), or a single-use elementwise temporary folded into its
reader (``np.sum(y * t)`` is one loop ``acc += y[i] * t[i]``). ``Elements.at(atom, idx)``
returns the expression of ``atom``'s element at the multi-index ``idx`` (one C index
expression per axis), following virtual values down to stored ones, which is what fuses
elementwise code into one loop and makes views free.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...ir.nodes import Assign, Atom, Const, Loop, LoopKind, Var
from .catalogue import CONTRACT, FILLED, FILLS, LAYOUT, PERMUTE
from .expressions import ELEMENTWISE, EQUALITY, LONG, MUL, UNARY, Ex, binary, literal, ternary
from .storage import Storage
from .text import Index, affine, flat, unravel
from .values import HINT, CBackendError


class Elements:
    """Element expressions over the storage ``st`` decided."""

    def __init__(self, st: Storage):
        self.w = st

    def shape(self, a: Atom) -> tuple[int, ...]:
        return self.w.shape(a)

    def at(self, a: Atom, idx: Index) -> Ex:
        """``a``'s element at ``idx`` (``()`` for a scalar)."""
        w = self.w
        if isinstance(a, Const):
            if isinstance(a.value, np.ndarray) and a.value.shape:
                return Ex(f"{w.constant_name(a)}[{flat(idx, a.value.shape).text}]")
            return self.constant(a)
        if a in w.static:
            return literal(w.static[a])
        if a in w.virtual:
            return self.rule(w.defs[a], idx)
        t = w.types[a]
        name = w.name(a)
        if t.scalar:
            return Ex(name, ctype=t.base)
        return Ex(f"{name}[{flat(idx, t.shape).text}]")

    def broadcast(self, a: Atom, out: Index) -> Ex:
        """``a``'s element where broadcasting ``a`` to an array indexed by ``out`` puts it."""
        shape = self.shape(a)
        lead = len(out) - len(shape)
        return self.at(
            a, tuple(literal(0) if n == 1 else out[lead + k] for k, n in enumerate(shape))
        )

    def constant(self, c: Const) -> Ex:
        value = c.value.item() if isinstance(c.value, (np.ndarray, np.generic)) else c.value
        if isinstance(value, (bool, int, float)):
            return literal(value)
        raise CBackendError(
            f"the constant {c} ({type(c.value).__name__}) cannot be written in C", None, HINT
        )

    def rule(self, s: Assign, idx: Index) -> Ex:
        """The element at ``idx`` of the value ``s`` computes, from its operands' elements."""
        name = s.prim.name
        if name in ELEMENTWISE:
            # np.clip's bound of None is no bound on that side
            unbounded = (None, Ex("-INFINITY", UNARY), Ex("INFINITY"))
            args = [
                unbounded[k] if _is_none(a) and name == "np.clip" else self.broadcast(a, idx)
                for k, a in enumerate(s.args)
            ]
            return ELEMENTWISE[name](*args)
        if name in FILLS:
            return literal(FILLS[name])
        if name in ("np.eye", "np.identity"):  # ones on the diagonal (k: above it)
            k = int(s.param("k", 0) or 0)
            i, j = idx if len(idx) == 2 else (literal(0), literal(0))
            diagonal = binary(affine(k, 1, i), "==", j, EQUALITY, LONG)
            return ternary(diagonal, literal(1.0), literal(0.0))
        if name in FILLED:
            return self.at(s.args[FILLED[name]], ())
        if name in LAYOUT:
            return self.at(
                s.args[0], self.relayout(idx, self.shape(s.target), self.shape(s.args[0]))
            )
        if name in PERMUTE:
            axes = s.param("axes")
            if len(s.args) > 1 and isinstance(s.args[1], Const):
                axes = s.args[1].value
            rank = len(idx)
            axes = tuple(reversed(range(rank))) if axes is None else tuple(a % rank for a in axes)
            src: list[Ex] = [literal(0)] * rank
            for k, ax in enumerate(axes):
                src[ax] = idx[k]
            return self.at(s.args[0], tuple(src))
        if name == "np.broadcast_to":
            return self.broadcast(s.args[0], idx)
        if name == "getitem":
            return self.at(s.args[0], self.gather(s, idx))
        if name == "tuple_item":
            return self.at(self.w.tuple_part(s), idx)
        if name == "np.outer":
            a, b = s.args
            left = unravel(idx[0], self.shape(a)) if self.shape(a) else ()
            right = unravel(idx[1], self.shape(b)) if self.shape(b) else ()
            return binary(self.at(a, left), "*", self.at(b, right), MUL)
        if name in CONTRACT:  # a scalar operand: a product
            return binary(self.broadcast(s.args[0], idx), "*", self.broadcast(s.args[1], idx), MUL)
        raise AssertionError(f"no element rule for {name}")

    def relayout(self, idx: Index, shape: tuple[int, ...], src: tuple[int, ...]) -> Index:
        """The index into ``src`` of the element at ``idx`` of a reshape of it to ``shape``:
        unit axes matched when only they differ, else through the flat offset."""
        if [n for n in shape if n != 1] == [n for n in src if n != 1]:
            kept = iter(i for i, n in zip(idx, shape) if n != 1)
            return tuple(literal(0) if n == 1 else next(kept) for n in src)
        return unravel(flat(idx, shape), src)

    def gather(self, s: Assign, idx: Index) -> Index:
        """The index into ``x`` of the element at ``idx`` of ``x[...]`` (a static layout)."""
        src_shape = self.shape(s.args[0])
        layout = s.param("index")
        operands = s.args[1:]
        consumed = sum(1 for item in layout if item[0] in ("at", "slice"))
        out = iter(idx)
        src: list[Ex] = []
        for item in layout:
            tag = item[0]
            if tag == "at":
                src.append(self.position(operands[item[1]], src_shape[len(src)], s))
            elif tag == "slice":
                lo, hi, st = (
                    None if k is None else self.static_int(operands[k], s) for k in item[1:]
                )
                start, _, step = slice(lo, hi, st).indices(src_shape[len(src)])
                src.append(affine(start, step, next(out)))
            elif tag == "newaxis":
                next(out)
            elif tag == "ellipsis":
                for _ in range(len(src_shape) - consumed):
                    src.append(next(out))
        while len(src) < len(src_shape):
            src.append(next(out))
        return tuple(src)

    def static_int(self, a: Atom, s: Assign) -> int:
        value = a.value if isinstance(a, Const) else self.w.static.get(a, NotImplemented)
        if isinstance(value, bool) or not isinstance(value, int):
            raise CBackendError(
                "an index the C backend cannot fix when it writes the code (a slice bound or "
                "an index that is not an integer constant or a loop index)",
                s.loc,
                HINT,
            )
        return value

    def position(self, a: Atom, n: int, s: Assign) -> Ex:
        """An integer index into an axis of length ``n``: a constant (negative ones counted
        from the end), or the index of a ``for`` loop over a constant range inside the axis."""
        if isinstance(a, Var) and a not in self.w.static:
            loop = self.w.defs.get(a)
            if isinstance(loop, Loop) and loop.index == a and loop.kind is not LoopKind.WHILE:
                bounds = self.w.static_bounds(loop)
                if bounds is not None and (not bounds or (min(bounds) >= 0 and max(bounds) < n)):
                    return Ex(self.w.name(a), ctype=LONG)
            raise CBackendError(
                "an index that is not a constant or the index of a for loop over a constant "
                f"range inside the axis (length {n})",
                s.loc,
                HINT,
            )
        k = self.static_int(a, s)
        if not -n <= k < n:
            raise CBackendError(
                f"index {k} is out of bounds for an axis of length {n}", s.loc, HINT
            )
        return literal(k % n)


def _is_none(a: Any) -> bool:
    return isinstance(a, Const) and a.value is None
