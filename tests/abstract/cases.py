"""Concrete calls of every primitive the abstract table describes: the table's answer for
their arguments is compared with what NumPy actually returns.

Elementwise primitives are called on every operand (pair) of a pool with length-1 axes,
scalars of each kind, float32 and float64; the others get hand-picked calls covering their
static parameters. A call NumPy refuses is skipped by the tests (there is no result to
compare), so a pool may be generous.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from symdiff.ir import primitives as P
from symdiff.ir.nodes import Primitive

from .calls import Case, a, ba, ia
from .helper_cases import helper_cases

UNARY_POOL = [
    0.5, 3, True, np.float64(0.3), np.float32(0.3), np.int64(2), a(), a(3), a(1), a(2, 3),
    a(2, 3, dtype=np.float32), a(1, 3), ia(2, 3), ba(3), a(2, 1, 3),
]  # fmt: skip
BINARY_POOL = [
    0.5, 2, True, np.float64(0.3), np.float32(0.3), a(), a(3), a(1), a(2, 1),
    a(2, 3, dtype=np.float32), ia(3), ba(2, 1),
]  # fmt: skip
TERNARY_POOL = [0.5, np.float32(0.3), a(3), a(2, 1), a(1), ba(3), ba(2, 3)]


def elementwise_cases(prim: Primitive) -> list[Case]:
    n = 2 if prim.nargs == -1 else prim.nargs
    pool = {1: UNARY_POOL, 2: BINARY_POOL, 3: TERNARY_POOL}[n]
    return [Case(prim, args) for args in itertools.product(pool, repeat=n)]


def _hand_cases() -> list[Case]:
    out: list[Case] = []

    def c(prim: Primitive, *args: Any, consts: tuple[int, ...] | None = None, **params: Any):
        out.append(Case(prim, args, params, consts))

    m23, m33, v3 = a(2, 3), a(3, 3), a(3)
    for x, cls in ((0.5, float), (v3, np.ndarray), (3, float)):
        c(P.b_isinstance, x, cls, consts=(1,))  # a Python bool whatever the test
    for args in ((), ("loss", 0.5), (v3, m23)):
        c(P.b_print, *args, end="")  # statements: None, whatever they are given
    for args in ((True,), (np.bool_(True), "a message")):
        c(P.b_assert, *args)
    for args, parts in (
        ((), (("text", "a"),)),
        ((0.5, v3), (("value", -1, ".2f"), ("value", 114, ""))),
    ):
        c(P.fstring, *args, parts=parts)
    m13, t234, f32 = a(1, 3), a(2, 3, 4), a(2, 3, dtype=np.float32)
    reductions = (P.np_sum, P.np_mean, P.np_prod, P.np_var, P.np_std, P.np_max, P.np_min)
    for prim in reductions + (P.np_ptp, P.np_median, P.np_average):
        for x in (0.5, np.float32(0.5), v3, m23, f32, m13, t234, ia(2, 3), ba(3)):
            c(prim, x)
            c(prim, x, axis=0)
            c(prim, x, axis=-1, keepdims=True)
            c(prim, x, axis=(0, 1))
    for prim in (P.np_sum, P.np_mean, P.np_prod):
        c(prim, ia(2, 3), axis=1, dtype="float32")
        c(prim, np.arange(3, dtype=np.int8), axis=0)
    c(P.np_var, m23, axis=0, ddof=1)
    for prim in (P.np_all, P.np_any, P.np_count_nonzero, P.np_flatnonzero, P.np_nonzero):
        for x in (ba(3), m23, ba(2, 3), 0.5, np.float64(0)):
            c(prim, x)
    for prim in (P.np_argmax, P.np_argmin):
        for x in (v3, m23, t234):
            c(prim, x)
            c(prim, x, axis=0)
            c(prim, x, axis=-1)
    c(P.np_average_weighted, m23, None, a(2, 3))
    c(P.np_average_weighted, m23, 1, a(3), keepdims=True)
    c(P.np_average_weighted, f32, 0, a(2, dtype=np.float32))
    for prim in (P.np_cumsum, P.np_cumprod):
        for x in (0.5, v3, m23, ia(2, 3), ba(3)):
            c(prim, x)
            c(prim, x, axis=0)
            c(prim, x, axis=-1, dtype="float32")
    for x in (v3, m23, ia(4), t234):
        c(P.np_diff, x)
        c(P.np_diff, x, n=2, axis=0)
        for prim in (P.np_sort, P.np_argsort):
            c(prim, x)
            c(prim, x, axis=0)
            c(prim, x, axis=None)
        c(P.np_partition, x, kth=1)
        c(P.np_partition, x, kth=0, axis=0)
    c(P.np_searchsorted, np.sort(v3), 0.5)
    c(P.np_searchsorted, np.sort(v3), m23)
    c(P.np_searchsorted, np.sort(v3), np.float32(0.2))

    # products and linear algebra
    pairs = [(m23, v3), (v3, v3), (m23, a(3, 4)), (v3, a(3, 4)), (t234, a(4)), (a(5, 2, 3), a(3, 2)),
             (a(2, 1, 2, 3), a(4, 3, 2)), (f32, a(3, dtype=np.float32)), (m13, a(3, 1))]  # fmt: skip
    for x, y in pairs:
        for prim in (P.matmul, P.np_matmul, P.np_dot):
            c(prim, x, y)
    for x, y in [(2.0, m23), (m23, np.float32(2)), (v3, v3), (m23, a(4, 3)), (0.5, 0.25)]:
        c(P.np_dot, x, y)
        c(P.np_inner, x, y)
    for x, y in [(v3, v3), (m23, a(6)), (f32, a(2, 3, dtype=np.float32))]:
        c(P.np_vdot, x, y)
    for x, y in [(v3, a(4)), (m23, v3), (0.5, v3), (m13, a(2, 1))]:
        c(P.np_outer, x, y)
        c(P.np_kron, x, y)
    for spec, ops in [("ij,jk->ik", (m23, a(3, 4))), ("ij,j", (m23, v3)), ("i,i", (v3, v3)),
                      ("ij->ji", (m23,)), ("...i,i->...", (t234, a(4))), ("ii->i", (m33,)),
                      ("ij,ij->", (m23, m23)), ("i,j", (v3, a(2))), ("bij,bjk->bik", (t234, a(2, 4, 5)))]:  # fmt: skip
        c(P.np_einsum, spec, *ops)
    c(P.np_tensordot, t234, a(3, 4, 5))
    c(P.np_tensordot, m23, a(3, 4), axes=1)
    c(P.np_tensordot, v3, v3, axes=1)
    c(P.np_tensordot, t234, a(4, 2), axes=([2, 0], [0, 1]))
    c(P.np_tensordot, m23, a(2, 5), axes=0)
    c(P.np_cross, v3, a(3))
    c(P.np_cross, a(4, 3), a(3))
    for x in (m33, m23, t234, a(3, 1), ia(3, 3)):
        c(P.np_trace, x)
        c(P.np_trace, x, offset=1, axis1=1, axis2=0)
        c(P.np_diagonal, x)
        c(P.np_diagonal, x, offset=-1)
        c(P.np_triu, x)
        c(P.np_tril, x, k=-1)
    for x in (v3, m23, m33, a(1)):
        c(P.np_diag, x)
        c(P.np_diag, x, k=1)
        c(P.np_triu, x)
    for x, y in [(v3, a(5)), (a(5), v3), (v3, a(1)), (0.5, v3)]:
        for mode in ("full", "same", "valid"):
            c(P.np_convolve, x, y, mode=mode)
    spd = m33 @ m33.T + 3 * np.eye(3)
    spd32 = spd.astype(np.float32)
    batch = np.stack([spd, spd + np.eye(3)])
    for x in (spd, spd32, batch, np.eye(2, dtype=int)):
        for prim in (P.la_det, P.la_slogdet, P.la_inv, P.la_cholesky, P.la_eigh, P.la_eigvalsh):
            c(prim, x)
        c(P.la_solve, x, np.ones(x.shape[-1]))
        c(P.la_solve, x, np.ones(x.shape[:-1] + (2,)))
    for x in (m23, a(3, 2), spd, a(2, 4, 3), f32):
        c(P.la_pinv, x)
        c(P.la_svd, x)
        c(P.la_svd, x, full_matrices=False)
        c(P.la_svd, x, compute_uv=False)
    for x in (v3, m23, t234, 0.5, f32):
        c(P.la_norm, x)
        c(P.la_norm, x, axis=0)
        c(P.la_norm, x, axis=-1, keepdims=True)
        c(P.la_norm, x, ord=1)
        c(P.la_norm, x, ord=np.inf, axis=(0, 1))

    # np.asarray of a tuple: a stack, like np.array of the items
    for items in [(v3, a(3)), (0.5, 2, True), (m23, m23, m23), (a(1), v3), (f32, f32), (0.5, v3)]:
        c(P.np_asarray, items, consts=())
        c(P.np_asarray, items, dtype="float32", consts=())

    # shape manipulation
    for x in (0.5, np.float32(1), v3, m23, t234, a(1, 3, 1), ia(2, 3)):
        for prim in (P.np_transpose, P.T_attr, P.np_ravel, P.np_squeeze, P.np_atleast_1d,
                     P.np_atleast_2d, P.np_atleast_3d, P.np_flip, P.np_copy, P.np_array_of,
                     P.np_asarray, P.np_float64, P.np_shape, P.shape_attr, P.np_size, P.np_ndim,
                     P.size_attr, P.ndim_attr, P.np_zeros_like, P.np_ones_like,
                     P.np_empty_like, P.np_real_if_close):  # fmt: skip
            c(prim, x)
        c(P.np_array_of, x, dtype="float32")
        c(P.np_asarray, x, dtype="int64")
        c(P.np_roll, x, shift=1)
        c(P.np_tile, x, reps=2)
        c(P.np_tile, x, reps=(2, 1))
        c(P.np_repeat, x, repeats=2)
        c(P.np_pad, x, pad_width=1)
        c(P.np_expand_dims, x, 0)
        c(P.np_expand_dims, x, -1)
        c(P.np_full_like, x, 2.0)
        c(P.np_full_like, x, 2, dtype="float32")
        c(P.np_reshape, x, -1)
        c(P.np_broadcast_to, x, (4, 2, 3))
    for x in (m23, t234, a(1, 3, 1)):
        c(P.np_transpose, x, axes=tuple(reversed(range(x.ndim))))
        c(P.np_transpose, x, axes=(1, 0) + tuple(range(2, x.ndim)))
        c(P.np_swapaxes, x, 0, -1)
        c(P.np_moveaxis, x, source=0, destination=-1)
        c(P.np_moveaxis, x, source=(0, 1), destination=(1, 0))
        c(P.np_rollaxis, x, axis=-1)
        c(P.np_rollaxis, x, axis=0, start=2)
        c(P.np_squeeze, x, axis=0) if x.shape[0] == 1 else None
        c(P.np_flip, x, axis=0)
        c(P.np_fliplr, x)
        c(P.np_flipud, x)
        c(P.np_rot90, x)
        c(P.np_rot90, x, k=2, axes=(1, 0))
        c(P.np_roll, x, shift=1, axis=1)
        c(P.np_repeat, x, repeats=3, axis=1)
        c(P.np_pad, x, pad_width=((1, 0),) * x.ndim)
        c(P.np_pad, x, pad_width=(0, 2))
        c(P.np_expand_dims, x, (0, 2))
        c(P.np_reshape, x, (3, -1) if x.size % 3 == 0 else (-1,))
        c(P.np_reshape, x, x.shape[::-1])
        c(P.np_broadcast_to, x, (2,) + x.shape)
        c(P.np_tile, x, reps=(2, 1, 1, 2))
    c(P.np_reshape, t234, (2, 12))
    c(P.np_reshape, v3, ())
    c(P.np_reshape, a(1), ())
    for parts in [(v3, a(2)), (m23, a(1, 3)), (m23, m23, m23), (0.5, 1.0), (ia(3), v3),
                  (t234, a(2, 3, 4)), (a(1), a(1))]:  # fmt: skip
        for prim in (P.np_vstack, P.np_hstack, P.np_dstack, P.np_column_stack, P.np_array):
            c(prim, *parts)
        c(P.np_concatenate, *parts)
        c(P.np_concatenate, *parts, axis=-1)
        c(P.np_concatenate, *parts, axis=None)
        c(P.np_stack, *parts)
        c(P.np_stack, *parts, axis=-1)
        c(P.np_stack_list, list(parts))
        c(P.np_stack_list, list(parts), axis=1)
        c(P.np_array_list, list(parts))
        c(P.np_append, *parts[:2])
        c(P.np_append, *parts[:2], axis=0)
    for x in (a(6), a(4, 6), a(2, 4, 6), a(6, dtype=np.float32)):
        for s in (2, 3, [1, 3], (2,)):
            c(P.np_split, x, indices_or_sections=s)
            c(P.np_array_split, x, indices_or_sections=s)
            c(P.np_array_split, x, indices_or_sections=4, axis=-1)
            c(P.np_hsplit, x, indices_or_sections=s)
            c(P.np_vsplit, x, indices_or_sections=s)
            c(P.np_dsplit, x, indices_or_sections=s)
    for args in [((2, 3),), ((1,), (3, 1)), ((), (2,)), ((4, 1, 2), (3, 1))]:
        c(P.np_broadcast_shapes, *args)
    for shape in (3, (2, 3), (), (1, 4)):
        for prim in (P.np_zeros, P.np_ones, P.np_empty):
            c(prim, shape)
        c(P.np_full, shape, 1.5)
        c(P.np_full, shape, 2)
        c(P.np_full, shape, np.float32(2))
        c(P.np_full, shape, 2.0, dtype="float32")
    for args in [(5,), (1, 4), (0.0, 1.0, 0.25), (3, 0), (2, 7, 2)]:
        c(P.np_arange, *args)
    for n in (1, 3):
        for prim in (P.np_eye, P.np_identity, P.np_tri):
            c(prim, n)
    for x, y in [(0.0, 1.0), (np.float32(0), np.float32(1)), (v3, a(3)), (0.0, m23), (0, 4)]:
        c(P.np_linspace, x, y)
        c(P.np_linspace, x, y, num=5, endpoint=False)
    for x in (v3, m23, t234):
        c(P.np_take, x, 1)
        c(P.np_take, x, np.array([0, 1]))
        c(P.np_take, x, np.array([[0], [1]]), axis=1)
        c(P.np_take, x, 0, axis=-1)
        c(P.np_take, x, (2, 0))
        c(P.np_take, x, [0, 0, 1], axis=0)
    return out


def _index_cases() -> list[Case]:
    out: list[Case] = []

    def g(x: Any, *items: Any) -> None:
        """``x[items]`` as the lowering writes it: every item an argument ("at")."""
        layout = (("tuple",),) + tuple(("at", k) for k in range(len(items)))
        out.append(Case(P.getitem, (x, *items), {"index": layout}))

    def s(x: Any, start: Any, stop: Any, step: Any, *rest: tuple) -> None:
        """``x[start:stop:step, ...]`` with the bounds as arguments (None: omitted)."""
        bounds, args = [], []
        for b in (start, stop, step):
            bounds.append(None if b is None else len(args))
            if b is not None:
                args.append(b)
        layout = (("tuple",), ("slice", *bounds)) + tuple(rest)
        out.append(Case(P.getitem, (x, *args), {"index": layout}))

    m23, t234, v5 = a(2, 3), a(2, 3, 4), a(5)
    for x in (v5, m23, t234, a(1, 3)):
        g(x, 0)
        g(x, -1)
        g(x, Ellipsis)
        g(x, None)
        g(x, 0, Ellipsis)
        g(x, Ellipsis, 0)
        g(x, np.array([0, 0, 1]))
        g(x, [0, 1])
        g(x, np.array([[0], [1]]))
        out.append(Case(P.getitem, (x, x > 0.5), {"index": (("at", 0),)}, loose=True))
        g(x, slice(None), None)
        s(x, 1, None, None)
        s(x, None, None, -1)
        s(x, 0, 1, None, ("newaxis",))
        s(x, None, None, None, ("ellipsis",), ("newaxis",))
        s(x, 1, 2, None)
    for x in (m23, t234):
        g(x, 1, 2)
        g(x, 0, slice(1, None))
        g(x, np.array([0, 1]), np.array([1, 2]))
        g(
            x,
            np.array([0, 1]),
            slice(None),
        )
        g(x, slice(None), np.array([0, 2, 1]))
        g(x, 0, np.array([0, 2]))
        mask = x[..., :1, :] > 0.5 if x.ndim == 3 else x[:1] > 0.5
        out.append(Case(P.getitem, (x, mask), {"index": (("at", 0),)}, loose=True))
        out.append(Case(P.getitem, (x, mask), {"index": (("at", 0),)}, consts=(1,)))
        g(x, Ellipsis, np.array([0, 1]))
        g(x, np.array(1), 1)
        g(x, np.int64(1))
    g(t234, np.array([0, 1]), slice(None), np.array([1, 0]))
    g(t234, slice(None), np.array([[0], [1]]), np.array([0, 3]))
    g(t234, 1, slice(None), np.array([1, 0]))
    g(t234, None, 0, Ellipsis, None)
    g(np.float64(2.0))
    g(a())
    g(a(), None)
    g(a(), Ellipsis)
    tup = (a(3), 2.0, (1, 2))
    for k in (0, 1, -1):
        out.append(Case(P.tuple_item, (tup, k), {"index": (("at", 0),)}))
        out.append(Case(P.getitem, ([1.0, 2.0, 3.0], k), {"index": (("at", 0),)}))
    out.append(Case(P.tuple_item, (np.linalg.eigh(np.eye(2)), 1), {"index": (("at", 0),)}))
    for x, v, items in [(m23, 1.0, (0,)), (m23, a(3), (1,)), (ia(3), 2.5, (0,)),
                        (t234, a(3, 4, dtype=np.float32), (0,)), (a(4, dtype=np.float32), 2.0, (1,))]:  # fmt: skip
        layout = tuple(("at", k) for k in range(len(items)))
        for prim in (P.setitem, P.index_add):
            out.append(Case(prim, (x, v, *items), {"index": layout}))
        out.append(Case(P.index_grad, (v, x, *items), {"index": layout}))
    return out


def all_cases() -> list[Case]:
    """Every case, elementwise primitives on their pools included."""
    cases = _hand_cases() + _index_cases() + helper_cases()
    hand = {c.prim for c in cases}
    for prim in sorted(ELEMENTWISE, key=lambda p: p.name):
        if prim not in hand:
            cases += elementwise_cases(prim)
    return cases


def _elementwise() -> set[Primitive]:
    from symdiff.abstract.table import catalogue

    out = set()
    for prim in catalogue():
        if prim.name.startswith("math.") or prim.elementwise or prim.form in ("infix", "prefix"):
            out.add(prim)
    out |= {P.b_abs, P.b_float, P.b_int, P.b_round, P.b_len, P.real_attr, P.imag_attr}
    out |= {P.np_isclose, P.np_allclose, P.np_array_equal}
    return out - {P.matmul}


ELEMENTWISE = _elementwise()
