"""Concrete calls of the helpers only generated gradients call, each shaped as the forward
operation it belongs to would shape it."""

from __future__ import annotations

from typing import Any

import numpy as np

from symdiff.ir import primitives as P
from symdiff.ir.nodes import Primitive

from .calls import Case, a, ba, ia


def helper_cases() -> list[Case]:
    out: list[Case] = []

    def c(prim: Primitive, *args: Any, **params: Any) -> None:
        out.append(Case(prim, args, params))

    for g, x in [(a(2, 3), a(3)), (a(2, 3), a(1, 3)), (a(3), a(3)), (a(2, 3), 0.5),
                 (a(2, 3), a(2, 1)), (ia(2, 3), ia(3)), (0.5, 0.25), (a(4, 1), a(1))]:  # fmt: skip
        c(P.unbroadcast, g, x)
        c(P.sum_list_grad, g, [x, x])
    for x in (0.5, a(3), np.float32(1)):
        c(P.scalar_checked, x, 1.0, name="f")
        c(P.scalar_seed, x, name="f")
        c(P.make_list, x, x)
        c(P.make_tuple, x, 2.0, x)
        c(P.list_append, [x], x)
        c(P.list_append, [], x)
        c(P.zeros_like_list, [x, x])
        c(P.add_lists, [x, x], [x, x])
        c(P.sum_list, [x, x])
        c(P.as_float, x > 0.5 if isinstance(x, np.ndarray) else x)
    for g in (a(3, 2), a(2, 3, 4)):
        c(P.unstack, g)
        c(P.unstack, g, axis=1)
    c(P.new_tape)
    for g, shape in [(a(2, 3), (3,)), (a(2, 3), (1, 3)), (a(3), (3,)), (a(2, 3), ()), (0.5, ())]:
        c(P.sum_to, g, shape)
    spd = np.eye(3) * 2 + 0.1
    L = np.linalg.cholesky(spd)
    w, v = np.linalg.eigh(spd)
    for x in (a(2, 3), a(4), a(2, 3, 4), a(2, 3, dtype=np.float32)):
        idx = np.array([0, 1])
        for axis in (None, 0, -1):
            c(P.take_grad, np.take(x, idx, axis=axis), x, idx, axis=axis)
            c(P.sort_grad, np.sort(x, axis=axis), x, axis=axis)
            c(P.cumprod_grad, np.cumprod(x, axis=axis), x, axis=axis)
            c(P.repeat_grad, np.repeat(x, 2, axis=axis), x, repeats=2, axis=axis)
        parts = np.split(x, 2, axis=-1) if x.shape[-1] % 2 == 0 else [x]
        c(P.unsplit, parts, x, sections=len(parts), axis=-1)
        c(P.unsplit, tuple(parts), x, sections=len(parts), axis=-1)
        out.append(
            Case(
                P.unsplit,
                ([parts[0], None][: len(parts)], x),
                {"sections": len(parts), "axis": -1},
                loose=True,
            )
        )
        for how, fn in [("vstack", np.vstack), ("hstack", np.hstack), ("dstack", np.dstack),
                        ("column_stack", np.column_stack)]:  # fmt: skip
            if x.ndim <= 2:
                c(P.unjoin, fn([x, x]), x, x, part=1, how=how)
        c(P.unconcat, np.concatenate([x, x], axis=0), x, x, part=0, axis=0)
        c(P.unconcat, np.concatenate([x, x], axis=None), x, x, part=1, axis=None)
        c(P.rollaxis_grad, np.rollaxis(x, -1), x, axis=-1)
        c(P.unpad, np.pad(x, 1), x, pad_width=1)
        c(P.tile_grad, np.tile(x, (2, 1)), x, reps=(2, 1))
        if x.ndim >= 2:
            c(P.diagonal_grad, np.diagonal(x), x)
            c(P.diagonal_grad, np.diagonal(x, 1), x, offset=1)
    c(P.unpad, np.pad(a(), 1), a(), pad_width=1)
    for vec in (a(3), a(2, 3)):
        for k in (0, 1):
            c(P.diag_grad, np.diag(vec, k), vec, k=k)
    for x, y in [(a(2, 3), a(3)), (a(2, 3), a(3, 4)), (a(3), a(3, 2)), (a(3), a(3)),
                 (a(5, 2, 3), a(3, 2)), (a(2, 3, dtype=np.float32), a(3, dtype=np.float32))]:  # fmt: skip
        g = np.ones(np.shape(x @ y)) if np.ndim(x @ y) else 1.0
        c(P.matmul_grad_a, g, x, y)
        c(P.matmul_grad_b, g, x, y)
    stack = np.stack([spd, spd + np.eye(3)])
    for m, b in [(spd, a(3)), (spd, a(3, 2)), (stack, a(3)), (stack, a(3, 2)), (spd, a(2, 3, 2))]:
        x = np.linalg.solve(m, b) if b.ndim > 1 else np.linalg.solve(m, b[:, None])[..., 0]
        # the adjoint of x = solve(m, b) is shaped like x, which a stack of m broadcasts
        c(P.solve_adjoint, np.ones_like(x), m, b)
        c(P.solve_grad_a, np.ones_like(x), x, m, b)
    for x in (a(2, 3), a(4), a(2, 3, dtype=np.float32), 0.5, ia(2, 3)):
        for axis, keep in [(None, False), (0, False), (-1, True)]:
            if np.ndim(x) == 0 and axis is not None:
                continue
            g = np.prod(x, axis=axis, keepdims=keep)
            c(P.prod_grad, g, x, axis=axis, keepdims=keep)
            c(P.median_grad, np.median(x, axis=axis, keepdims=keep), x, axis=axis, keepdims=keep)
        if np.ndim(x):
            c(P.diff_grad, np.diff(x), n=1)
            c(P.diff_grad, np.diff(x, 2, axis=0), n=2, axis=0)
    for x, y in [(a(3), a(5)), (a(5), a(3)), (a(4, dtype=np.float32), a(2, dtype=np.float32))]:
        for mode in ("full", "same", "valid"):
            g = np.ones_like(np.convolve(x, y, mode))
            c(P.convolve_grad, g, x, y, mode=mode, part=0)
            c(P.convolve_grad, g, x, y, mode=mode, part=1)
    for gw, gv in [(np.ones(3), np.ones((3, 3))), (None, np.ones((3, 3))), (np.ones(3), None)]:
        c(P.eigh_grad, gw, gv, w, v)
    for m in (a(3, 2), a(2, 3), a(2, 4, 3)):
        for full in (True, False):
            u, s_, vh = np.linalg.svd(m, full_matrices=full)
            if full and m.shape[-1] != m.shape[-2]:
                continue  # svd_grad needs the thin factors
            c(P.svd_grad, np.ones_like(u), np.ones_like(s_), None, u, s_, vh)
            c(P.svd_grad, None, np.ones_like(s_), None, u, s_, vh)
    c(P.cholesky_grad, a(3, 3), L)
    c(P.cholesky_tangent, a(3, 3), L)
    c(P.eigh_vectors_tangent, a(3, 3), w, v)
    c(P.eigvalsh_tangent, a(3, 3), v)
    c(P.sum_list, [])
    c(P.sum_list, [1, 2])
    c(P.as_float, ba(2, 3), dtype="float32")
    return out
