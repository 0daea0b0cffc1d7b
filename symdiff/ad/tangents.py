"""The tangent table: forward mode's derivative column, one row per primitive.

Each row maps the output ``y``, the inputs and their tangents (``da`` is the derivative of
``a`` along the direction being pushed forward) to the tangent of ``y``:
``dy = ∂y/∂a da + ∂y/∂b db``. It is the transpose of the matching row of ``rules``: where a
reverse rule multiplies the adjoint ``g`` by ∂y/∂a, a tangent rule multiplies ``da`` by it.
For the elementwise functions that is literally so: their partials are written once, in
``partials``, and ``TANGENTS`` sums them (``from_partials``); the rows below are the rest.

Rows of primitives with a fixed number of inputs are ``lambda F, y, a, b, da, db: ...``;
rows of variadic ones (indexing, ``np.concatenate``, ``np.einsum``, tuples) receive the
inputs and their tangents as two tuples, ``lambda F, y, xs, dxs: ...``. Static parameters
(``axis``, ``index``) come as keywords, as in ``rules``.

The tangent of a value that does not depend on the inputs is a symbolic zero: ``F.zero``.
Arithmetic and every map that is linear in a tangent fold it away (``da * b`` is zero when
``da`` is), so ``da * b + a * db`` writes only the terms that exist. Where tangents are
combined rather than multiplied (``np.concatenate``, ``y[i] = v``), a row makes a zero real
with ``F.dense(da, a)``. A row never needs to broadcast: the forward pass widens a tangent
that came out smaller than its value (``x + b`` with ``b`` constant: ``d_x`` alone).

Conventions at non-differentiable points are those of ``rules``: ``abs`` at 0 has slope 0,
``maximum`` ties split evenly between two varying inputs and go to the constant side of a
ReLU, ``clip`` passes the tangent where ``lo <= x <= hi``.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Callable, Mapping

import numpy as np

from ..errors import InternalError
from ..ir import primitives as P
from ..ir.nodes import Form, Primitive
from ..ir.ruleset import USER_RULES, RuleSet
from .partials import PARTIALS, Partials, same

Rule = Callable[..., Any]


def linear(prim: Primitive) -> Rule:
    """A map that is linear in its first input (the others are shapes, axes or indices):
    its tangent is the same map applied to the first input's tangent."""

    def rule(F, y, *args, **p):
        xs, dxs = _split_args(prim, args)
        return F.apply(prim, dxs[0], *xs[1:], **p)

    return rule


def bilinear(prim: Primitive) -> Rule:
    """``y = a ∘ b``, linear in each of ``a`` and ``b``: ``dy = da ∘ b + a ∘ db``."""
    return lambda F, y, a, b, da, db, **p: F.apply(prim, da, b, **p) + F.apply(prim, a, db, **p)


def in_adjoint(prim: Primitive, others_matter: bool = False) -> Rule:
    """A runtime helper of generated gradients, linear in its first input (an adjoint).

    Its other inputs give shapes, or a selection that is constant almost everywhere (which
    element is the median), so they have no tangent; or, with ``others_matter``, the helper
    depends on them smoothly (``np.prod``'s, ``np.linalg.norm``'s) and a varying one is
    refused: that second derivative is not written.
    """

    def rule(F, y, *args, **p):
        xs, dxs = _split_args(prim, args)
        if others_matter and not all(F.is_zero(d) for d in dxs[1:]):
            F.refuse(f"the derivative of `{prim.name}` with respect to its second input")
        return F.apply(prim, dxs[0], *xs[1:], **p)

    return rule


def adjoint_parts(prim: Primitive) -> Rule:
    """``dot_grad(g, a, b, part=k)`` and kin: linear in ``g`` and in the *other* operand."""

    def rule(F, y, g, a, b, dg, da, db, part=0, **p):
        other = F.apply(prim, g, da, b, part=part, **p) if part else F.apply(prim, g, a, db, **p)
        return F.apply(prim, dg, a, b, part=part, **p) + other

    return rule


def _split_args(prim: Primitive, args: tuple) -> tuple[tuple, tuple]:
    if variadic(prim):
        return args[0], args[1]
    n = len(args) // 2
    return args[:n], args[n:]


def variadic(prim: Primitive) -> bool:
    """Rows of these receive ``(xs, dxs)`` as two tuples."""
    return prim.nargs == -1 or prim.form in (Form.LISTCALL, Form.LIST, Form.TUPLE)


def _expand(F, y, x, axis, keepdims):
    """A reduction's result with the reduced axes put back, so that it broadcasts over x."""
    return F.expand_dims(y, axis) if axis is not None and not keepdims else y


def _select(F, a, b, da, db, larger=True):
    """Tangent of ``max(a, b)`` (or ``min``): the winner's (ties: see the module doc)."""
    a_wins, b_wins = (a > b, b > a) if larger else (a < b, b < a)
    if not F.is_zero(da) and not F.is_zero(db):
        wa = a_wins + 0.5 * F.eq(a, b)
        return da * wa + db * (1.0 - wa)
    return da * a_wins + db * b_wins


def _nan_select(F, a, b, da, db, larger=True):
    """``fmax(a, b)`` (or ``fmin``): like ``maximum``, but a NaN loses to a number."""
    a_wins, b_wins = (a > b, b > a) if larger else (a < b, b < a)
    a_nan, b_nan = F.isnan(a), F.isnan(b)
    if not F.is_zero(da) and not F.is_zero(db):
        wa = F.where(b_nan, 1.0, F.where(a_nan, 0.0, a_wins + 0.5 * F.eq(a, b)))
        return da * wa + db * (1.0 - wa)
    return da * F.where(b_nan, 1.0, a_wins) + db * F.where(a_nan, 1.0, b_wins)


def _reduced(F, weights, dx, axis, keepdims):
    """``sum(dx * weights)`` over the reduced axes: the tangent of a reduction whose
    derivative is ``weights`` (laid out like ``x``)."""
    return F.sum(dx * weights, axis=axis, keepdims=keepdims)


def _extremum(F, y, x, dx, axis=None, keepdims=False):
    hit = F.eq(x, _expand(F, y, x, axis, keepdims))
    return F.sum(dx * hit, axis=axis, keepdims=keepdims) / F.sum(hit, axis=axis, keepdims=keepdims)


def _var(F, y, x, dx, axis=None, dtype=None, keepdims=False, ddof=0):
    """var = sum((x - mean)^2) / (n - ddof): 2 (x - mean) / (n - ddof)."""
    n = F.size(x) / F.size(y)
    centred = x - F.mean(x, axis=axis, keepdims=True)
    return _reduced(F, 2.0 * centred / (n - ddof), dx, axis, keepdims)


def _std(F, y, x, dx, **p):
    """std = sqrt(var): d var / (2 std); 0 at zero spread, as the gradient (rules._std)."""
    return _var(F, y, x, dx, **p) / (2.0 * F.where(F.eq(y, 0.0), 1.0, y))


def _ptp(F, y, x, dx, axis=None, keepdims=False):
    hi = F.eq(x, F.max(x, axis=axis, keepdims=True))
    lo = F.eq(x, F.min(x, axis=axis, keepdims=True))
    spread = hi / F.sum(hi, axis=axis, keepdims=True) - lo / F.sum(lo, axis=axis, keepdims=True)
    return _reduced(F, spread, dx, axis, keepdims)


def _prod(F, y, x, dx, axis=None, dtype=None, keepdims=False):
    """Each element's weight is the product of the others (no division: zeros are fine)."""
    return _reduced(F, F.prod_grad(1.0, x, axis=axis, keepdims=True), dx, axis, keepdims)


def _median(F, y, x, dx, axis=None, keepdims=False):
    return _reduced(F, F.median_grad(1.0, x, axis=axis, keepdims=True), dx, axis, keepdims)


def _norm(F, y, x, dx, ord=None, axis=None, keepdims=False):
    weights = F.norm_grad(F.ones_like(y), x, y, ord=ord, axis=axis, keepdims=keepdims)
    return F.sum(dx * weights, axis=axis, keepdims=keepdims)


def _weighted_average(F, y, a, axis, w, da, daxis, dw, keepdims=False):
    if not F.is_zero(dw):
        F.refuse("the derivative of np.average with respect to its weights")
    return F.apply(P.np_average_weighted, da, axis, w, keepdims=keepdims)


def _cast(F, y, x, dx, dtype=None):
    """A conversion: the identity into floats, a constant (zero) into integers or booleans."""
    if dtype is not None and np.dtype(dtype).kind in "iub":
        return F.zero
    return dx if dtype is None else F.asarray(dx, dtype=dtype)


def _pad(F, y, x, dx, pad_width, mode="constant", constant_values=0):
    if mode != "constant":
        F.refuse(f"np.pad with mode={mode!r}")
    return F.pad(dx, pad_width=pad_width)


def _joined(prim: Primitive) -> Rule:
    """``np.concatenate([a, b])`` and kin: the tangents joined the same way (zeros made real)."""
    return lambda F, y, xs, dxs, **p: F.apply(prim, *(F.dense(d, x) for x, d in zip(xs, dxs)), **p)


def _einsum(F, y, xs, dxs, optimize=False):
    """Multilinear: one term per operand, that operand replaced by its tangent."""
    spec, *ops = xs
    total = F.zero
    for i, d in enumerate(dxs[1:]):
        total = total + F.einsum(spec, *ops[:i], d, *ops[i + 1 :], optimize=optimize)
    return total


def _einsum_grad(F, y, xs, dxs, part):
    g, spec, *ops = xs
    dg, _, *dops = dxs
    total = F.einsum_grad(dg, spec, *ops, part=part)
    for i, d in enumerate(dops):
        if i != part:
            total = total + F.einsum_grad(g, spec, *ops[:i], d, *ops[i + 1 :], part=part)
    return total


def _det(F, y, x, dx):
    """d det X = det X · tr(X⁻¹ dX), batched over leading axes."""
    return y * F.trace(F.apply(P.la_solve, x, dx), axis1=-2, axis2=-1)


def _slogdet(F, y, x, dx):
    """(sign, log|det X|): the sign is piecewise constant, d log|det X| = tr(X⁻¹ dX)."""
    return F.apply(P.make_tuple, None, F.trace(F.apply(P.la_solve, x, dx), axis1=-2, axis2=-1))


def _tuple_item(F, y, xs, dxs, index):
    """Item ``i`` of a tuple-valued result: the matching item of its tangent."""
    dt, i = dxs[0], xs[1].atom.value
    made = F.defining(dt.atom)
    if made is not None and made.prim is P.make_tuple:
        item = made.args[i] if i < len(made.args) else None
        return F.zero if item is None or getattr(item, "value", 0) is None else F.sym(item)
    return F.apply(P.tuple_item, dt, xs[1], index=index)


def _make_tuple(F, y, xs, dxs):
    return F.apply(P.make_tuple, *(None if F.is_zero(d) else d for d in dxs))


def _setitem(F, y, xs, dxs, index):
    """``y = x`` with ``y[index] = v``: the tangent of x with v's written in the same place."""
    (x, _, *idx), (dx, dv, *_) = xs, dxs
    return F.setitem(F.dense(dx, x), dv, *idx, index=index)


def _index_add(F, y, xs, dxs, index):
    """``acc`` with ``g`` added at ``index`` (``np.add.at``): linear in both."""
    (acc, _, *idx), (dacc, dg, *_) = xs, dxs
    if F.is_zero(dg):
        return dacc
    if F.is_zero(dacc):
        return F.index_grad(dg, acc, *idx, index=index)
    return F.index_add(dacc, dg, *idx, index=index)


def _list_append(F, y, xs, v, dxs, dv):
    return F.apply(P.list_append, F.dense(dxs, xs), F.dense(dv, v))


_EXPLICIT: dict[Primitive, Rule] = {
    P.matmul: lambda F, y, a, b, da, db: da @ b + a @ db,
    P.b_float: lambda F, y, x, dx: F.apply(P.b_float, dx),
    # ---- selection ------------------------------------------------------------------
    **same(lambda F, y, a, b, da, db: _select(F, a, b, da, db), P.np_maximum, P.b_max),
    **same(
        lambda F, y, a, b, da, db: _select(F, a, b, da, db, larger=False), P.np_minimum, P.b_min
    ),
    P.np_fmax: lambda F, y, a, b, da, db: _nan_select(F, a, b, da, db),
    P.np_fmin: lambda F, y, a, b, da, db: _nan_select(F, a, b, da, db, larger=False),
    P.np_where: lambda F, y, c, a, b, dc, da, db: F.where(c, da, db),
    # ---- reductions and scans -----------------------------------------------------
    **{prim: linear(prim) for prim in (P.np_sum, P.np_mean, P.np_average, P.np_cumsum)},
    P.np_diff: linear(P.np_diff),
    P.np_average_weighted: _weighted_average,
    P.np_prod: _prod,
    P.np_var: _var,
    P.np_std: _std,
    **same(_extremum, P.np_max, P.np_min),
    P.np_ptp: _ptp,
    P.np_median: _median,
    P.la_norm: _norm,
    # ---- linear algebra -----------------------------------------------------------
    **{
        prim: bilinear(prim)
        for prim in (
            P.np_matmul, P.np_dot, P.np_inner, P.np_vdot, P.np_outer, P.np_tensordot,
            P.np_kron, P.np_convolve, P.np_cross,
        )
    },  # fmt: skip
    P.np_einsum: _einsum,
    **{prim: linear(prim) for prim in (P.np_trace, P.np_diagonal, P.np_diag)},
    **{prim: linear(prim) for prim in (P.np_triu, P.np_tril)},
    P.la_det: _det,
    P.la_slogdet: _slogdet,
    P.la_inv: lambda F, y, x, dx: -(y @ dx @ y),
    P.la_solve: lambda F, y, a, b, da, db: F.apply(P.la_solve, a, db - da @ y),
    # ---- shape and layout: the same map applied to the tangent ---------------------
    **{
        prim: linear(prim)
        for prim in (
            P.np_transpose, P.T_attr, P.np_swapaxes, P.np_moveaxis, P.np_rollaxis, P.np_reshape,
            P.np_ravel, P.np_squeeze, P.np_expand_dims, P.np_broadcast_to, P.np_atleast_1d,
            P.np_atleast_2d, P.np_atleast_3d, P.np_flip, P.np_fliplr, P.np_flipud, P.np_rot90,
            P.np_roll, P.np_tile, P.np_repeat, P.np_copy, P.np_take, P.np_split,
            P.np_array_split, P.np_hsplit, P.np_vsplit, P.np_dsplit,
        )
    },  # fmt: skip
    P.np_pad: _pad,
    P.np_append: lambda F, y, a, v, da, dv, axis=None: F.apply(
        P.np_append, F.dense(da, a), F.dense(dv, v), axis=axis
    ),
    P.np_linspace: lambda F, y, start, stop, dstart, dstop, **p: F.apply(
        P.np_linspace, F.dense(dstart, start), F.dense(dstop, stop), **p
    ),
    **same(_cast, P.np_asarray, P.np_array_of),
    P.np_full_like: lambda F, y, x, v, dx, dv, dtype=None: F.full_like(y, dv),
    P.np_full: lambda F, y, shape, v, dshape, dv, dtype=None: F.full_like(y, dv),
    **{
        prim: _joined(prim)
        for prim in (
            P.np_concatenate, P.np_stack, P.np_vstack, P.np_hstack, P.np_dstack,
            P.np_column_stack, P.np_array,
        )
    },  # fmt: skip
    # ---- reorderings: each output element moves with the input it came from ------------
    P.np_sort: lambda F, y, x, dx, axis=-1, kind=None: F.permutation_tangent(dx, x, y, axis=axis),
    P.np_partition: lambda F, y, x, dx, kth, axis=-1: F.permutation_tangent(dx, x, y, axis=axis),
    # ---- symmetric factorizations (distinct eigenvalues, as for their gradients) ----------
    P.la_cholesky: lambda F, y, x, dx: F.cholesky_tangent(dx, y),
    P.la_eigvalsh: lambda F, y, x, dx, UPLO="L": F.eigvalsh_tangent(
        dx, F.item(F.apply(P.la_eigh, x, UPLO=UPLO), 1), UPLO=UPLO
    ),
    P.la_eigh: lambda F, y, x, dx, UPLO="L": F.apply(
        P.make_tuple,
        F.eigvalsh_tangent(dx, F.item(y, 1), UPLO=UPLO),
        F.eigh_vectors_tangent(dx, F.item(y, 0), F.item(y, 1), UPLO=UPLO),
    ),
    P.make_tuple: _make_tuple,
    P.tuple_item: _tuple_item,
    # ---- indexing ---------------------------------------------------------------------
    P.getitem: lambda F, y, xs, dxs, index: F.getitem(dxs[0], *xs[1:], index=index),
    P.setitem: _setitem,
    P.index_add: _index_add,
    # ---- lists built in loops -----------------------------------------------------------
    P.make_list: lambda F, y, xs, dxs: F.apply(
        P.make_list, *(F.dense(d, x) for x, d in zip(xs, dxs))
    ),
    P.list_append: _list_append,
    **{prim: linear(prim) for prim in (P.np_stack_list, P.np_array_list, P.sum_list)},
    P.add_lists: lambda F, y, a, b, da, db: (
        db if F.is_zero(da) else da if F.is_zero(db) else F.add_lists(da, db)
    ),
    # ---- the helpers generated gradients call (differentiating a gradient again) --------
    P.unbroadcast: in_adjoint(P.unbroadcast),
    P.sum_to: in_adjoint(P.sum_to),
    P.matmul_grad_a: lambda F, y, g, a, b, dg, da, db: (
        F.matmul_grad_a(dg, a, b) + F.matmul_grad_a(g, a, db)
    ),
    P.matmul_grad_b: lambda F, y, g, a, b, dg, da, db: (
        F.matmul_grad_b(dg, a, b) + F.matmul_grad_b(g, da, b)
    ),
    P.index_grad: lambda F, y, xs, dxs, index: F.index_grad(dxs[0], *xs[1:], index=index),
    P.scalar_checked: lambda F, y, x, value, dx, dvalue, name: F.scalar_checked(
        dx, value, name=name
    ),
    **{
        prim: adjoint_parts(prim)
        for prim in (P.dot_grad, P.inner_grad, P.tensordot_grad, P.kron_grad, P.convolve_grad)
    },
    P.einsum_grad: _einsum_grad,
    **{
        prim: in_adjoint(prim)
        for prim in (
            P.unconcat, P.unjoin, P.take_grad, P.diagonal_grad, P.diag_grad, P.tile_grad,
            P.repeat_grad, P.unpad, P.rollaxis_grad, P.diff_grad, P.unstack, P.sum_list_grad,
            P.sort_grad, P.median_grad, P.permutation_grad, P.permutation_tangent,
            P.unsplit, P.linspace_grad,
        )
    },  # fmt: skip
    **{
        prim: in_adjoint(prim, others_matter=True)
        for prim in (
            P.prod_grad,
            P.norm_grad,
            P.cumprod_grad,
            P.average_grad,
            P.cholesky_grad,
            P.cholesky_tangent,
            P.eigvalsh_tangent,
            P.eigh_vectors_tangent,
        )
    },
}


def from_partials(prim: Primitive, row: Partials) -> Rule:
    """The tangent rule of a row of ``partials``: ``Σ_i da_i · ∂y/∂a_i``."""

    def rule(F, y, *args, **p):
        xs, dxs = _split_args(prim, args)
        return row.tangent(F, y, tuple(xs), tuple(dxs), **p)

    rule.__doc__ = f"Σ da_i · ∂y/∂a_i of `{prim.name}` (symdiff.ad.partials)."
    return rule


def _table() -> Mapping[Primitive, Rule]:
    """The rows derived from ``partials`` and the explicit ones, once; then read-only."""
    overlap = PARTIALS.keys() & _EXPLICIT.keys()
    if overlap:
        raise InternalError(f"two tangent rows for {sorted(p.name for p in overlap)}")
    derived = {prim: from_partials(prim, row) for prim, row in PARTIALS.items()}
    return MappingProxyType({**derived, **_EXPLICIT})


TANGENTS: Mapping[Primitive, Rule] = _table()


def from_adjoint(prim: Primitive, adjoint: Callable[..., tuple]) -> Rule:
    """The tangent rule of a declared elementwise function, from its adjoint rule.

    Elementwise, the Jacobian is diagonal: the adjoint of input i is ``g · ∂y/∂a_i``, a
    product by the partial, which is its own transpose. So the adjoint rule called with the
    tangent ``da_i`` in place of ``g`` gives ``da_i · ∂y/∂a_i``, and the tangent is their
    sum, as for the rows of ``partials``. (A rule that asks ``F.active`` sees every input
    as varying here.)
    """

    def rule(F, y, *args, **p):
        xs, dxs = _split_args(prim, args)
        total = None
        for i, dx in enumerate(dxs):
            if F.is_zero(dx):
                continue
            term = adjoint(F, dx, y, *xs, **p)[i]
            if term is not None:
                total = term if total is None else total + term
        return F.zero if total is None else total

    return rule


def tangent_for(prim: Primitive, declared: RuleSet = USER_RULES) -> Rule | None:
    """The tangent rule of ``prim``: a row of the table, or for a function declared with
    ``defrule(..., elementwise=True)``, one derived from its adjoint rule. A declared
    function that is not elementwise has none: its adjoint rule is not a diagonal map."""
    rule = TANGENTS.get(prim)
    if rule is None and prim.elementwise:
        adjoint = declared.adjoint(prim)
        if adjoint is not None:
            return from_adjoint(prim, adjoint)
    return rule
