"""Abstract evaluation of the helpers only generated gradients call (``symdiff.runtime``).

An adjoint has the shape of the value it belongs to, so most helpers are described by "an
array shaped like argument k" with the dtype their implementation computes in (most start
from ``np.zeros(x.shape, dtype=np.result_type(g, x, 1.0))``). Helpers whose result kind
depends on run-time branches on the values' ranks in ways not mirrored here are left to the
table's explicit unknown.
"""

from __future__ import annotations

import numpy as np

from ..ir import primitives as P
from ..ir.nodes import Primitive
from . import elementwise
from .call import (
    NOT_CONST,
    Call,
    Rule,
    dim_product,
    float_type,
    given_dtype,
    numeric,
    result_type,
    shape_arg,
)
from .reductions import sum_dtype
from .values import (
    FLOAT,
    INT,
    UNKNOWN,
    AbstractValue,
    Extent,
    Kind,
    array,
    join,
    list_of,
    tuple_of,
)


def unbroadcast_value(call: Call, g: AbstractValue, x: AbstractValue) -> AbstractValue:
    """``g`` summed down to ``x``'s shape. Where it is not known whether a sum happens (an
    axis of ``x`` that may be 1), the result is the join of both possibilities."""
    if not (g.is_numeric and x.is_numeric) or g.shape is None or x.shape is None:
        return UNKNOWN
    lead = len(g.shape) - len(x.shape)
    if lead < 0:
        return UNKNOWN
    tail = g.shape[lead:]
    definite = lead > 0 or any(d == 1 and e != 1 for d, e in zip(x.shape, tail))
    maybe = any(d is Extent.ANY and e != 1 for d, e in zip(x.shape, tail))
    summed = numeric(
        sum_dtype(g),
        tuple(d if d == 1 or d is Extent.ANY else e for d, e in zip(x.shape, tail)),
        scalar=True,
    )
    if definite:
        return summed
    return join(g, summed) if maybe else g


def unbroadcast_rule(call: Call) -> AbstractValue:
    return unbroadcast_value(call, call.args[0], call.args[1])


def sum_to_rule(call: Call) -> AbstractValue:
    shape = shape_arg(call, 1)
    if shape is None:
        return UNKNOWN
    return unbroadcast_value(call, call.args[0], array(None, shape))


def scattered(call: Call) -> AbstractValue:
    """``g`` written into float zeros shaped like ``x`` (``take_grad``, ``sort_grad``...)."""
    g, x = call.args[0], call.args[1]
    if not (g.is_numeric and x.is_numeric):
        return UNKNOWN
    return array(result_type(g, x, FLOAT), x.shape)


def unsplit_rule(call: Call) -> AbstractValue:
    parts, x = call.args
    if not x.is_numeric:
        return UNKNOWN
    if parts.kind is Kind.LIST:
        used = [] if parts.item is None or parts.item.kind is Kind.NONE else [parts.item]
    elif parts.kind is Kind.TUPLE and parts.items is not None:
        used = [p for p in parts.items if p.kind is not Kind.NONE]
    else:
        return UNKNOWN
    return array(result_type(*used, x, FLOAT), x.shape)


def piece_rule(call: Call) -> AbstractValue:
    """``unjoin``/``unconcat``: the piece of ``g`` shaped like ``parts[part]``."""
    g, parts = call.args[0], call.args[1:]
    part = call.param("part")
    if not g.is_numeric or not isinstance(part, int) or not 0 <= part < len(parts):
        return UNKNOWN
    mine = parts[part]
    return array(g.dtype, mine.shape) if mine.is_numeric else UNKNOWN


def matmul_grad_rule(part: int) -> Rule:
    """The adjoint of ``a`` (part 0) or ``b`` (part 1) in ``a @ b``: shaped like it, in the
    dtype of ``g`` with the other operand."""

    def rule(call: Call) -> AbstractValue:
        g, a, b = call.args
        if not all(v.kind is Kind.ARRAY for v in (a, b)) or not g.is_numeric:
            return UNKNOWN
        dt = result_type(g, b if part == 0 else a)
        if dt is None or dt.kind not in "fc":
            return array(None, (a, b)[part].shape)  # integer sums may widen: not mirrored
        return array(dt, (a, b)[part].shape)

    return rule


def rollaxis_grad_rule(call: Call) -> AbstractValue:
    g, x = call.args
    axis, start = call.param("axis"), call.param("start", 0)
    if not g.is_numeric or g.shape is None or x.rank is None or not isinstance(axis, int):
        return UNKNOWN
    nd = x.rank
    if nd == 0 or len(g.shape) != nd:
        return UNKNOWN
    axis, start = axis % nd, start + nd if start < 0 else start
    perm = list(range(nd))
    perm.remove(axis)
    perm.insert(start - 1 if axis < start else start, axis)
    out = [g.shape[0]] * nd
    for i, p in enumerate(perm):
        out[p] = g.shape[i]
    return array(g.dtype, tuple(out))


def unpad_rule(call: Call) -> AbstractValue:
    g, x = call.args
    if g.kind is not Kind.ARRAY or not x.is_numeric:
        return UNKNOWN
    return numeric(g.dtype, x.shape, scalar=True)


def diag_grad_rule(call: Call) -> AbstractValue:
    g, v = call.args
    if not (g.is_numeric and v.is_numeric) or v.rank is None:
        return UNKNOWN
    if v.rank == 1:
        return array(g.dtype, v.shape)
    return scattered(call)


def tile_grad_rule(call: Call) -> AbstractValue:
    g, x = call.args
    if not (g.is_numeric and x.is_numeric):
        return UNKNOWN
    return array(sum_dtype(g), x.shape)


def float_like(k: int, *others: int) -> Rule:
    """A float array shaped like argument ``k`` (linear-algebra adjoints and tangents)."""

    def rule(call: Call) -> AbstractValue:
        if any(call.args[i].kind is not Kind.ARRAY for i in (k, *others)):
            return UNKNOWN
        return array(float_type(*(call.args[i] for i in (k, *others))), call.args[k].shape)

    return rule


def eigvalsh_tangent_rule(call: Call) -> AbstractValue:
    d, v = call.args
    if d.kind is not Kind.ARRAY or v.kind is not Kind.ARRAY or v.shape is None:
        return UNKNOWN
    return array(float_type(d, v), v.shape[:-1])


def _strong(v: AbstractValue) -> AbstractValue:
    """``v`` after ``np.asarray``/``np.expand_dims``: a Python number becomes a 0-d array."""
    if v.kind in (Kind.FLOAT, Kind.INT, Kind.BOOL):
        return array(result_type(v), ())
    return v


def spread_rule(others_dtype) -> Rule:
    """``prod_grad``/``median_grad``: ``g`` (axes restored) times a factor shaped like
    ``x`` of dtype ``others_dtype(x)``: an elementwise product, a scalar if 0-d."""

    def rule(call: Call) -> AbstractValue:
        g, x = call.args
        if not (g.is_numeric and x.is_numeric):
            return UNKNOWN
        g_full = array(result_type(_strong(g)), x.shape)
        return elementwise.ufunc_value(np.multiply, call, (g_full, array(others_dtype(x), x.shape)))

    return rule


def diff_grad_rule(call: Call) -> AbstractValue:
    """``-np.diff(g, prepend=0.0, append=0.0)`` ``n`` times: the axis grows by ``n``; the
    float64 padding is an array, so it promotes float32."""
    g = call.args[0]
    n, axis = call.param("n", 1), call.param("axis", -1)
    if not g.is_numeric or g.shape is None or not g.shape or not isinstance(n, int):
        return UNKNOWN
    ax = axis % len(g.shape)
    d = g.shape[ax]
    grown = d + n if isinstance(d, int) else (Extent.MANY if n else d)
    dtype = result_type(_strong(g), array(np.float64, ()))
    return array(dtype, g.shape[:ax] + (grown,) + g.shape[ax + 1 :])


def convolve_grad_rule(call: Call) -> AbstractValue:
    g, a, v = call.args
    part = call.param("part", 0)
    if not all(x.is_numeric for x in (g, a, v)) or part not in (0, 1):
        return UNKNOWN
    mine, other = (a, v) if part == 0 else (v, a)
    if mine.shape is None:
        return UNKNOWN
    extra = () if call.param("mode", "full") == "full" else (FLOAT,)
    return array(result_type(g, other, *extra), (dim_product(mine.shape),))


def eigh_grad_rule(call: Call) -> AbstractValue:
    """Shaped like the eigenvectors ``v``; ``None`` stands for an unused adjoint."""
    gw, gv, w, v = call.args
    if v.kind is not Kind.ARRAY:
        return UNKNOWN
    used = [x for x in (gw, gv) if x.kind is not Kind.NONE]
    return array(float_type(v, *used), v.shape)


def svd_grad_rule(call: Call) -> AbstractValue:
    """Shaped like the matrix ``u @ diag(s) @ vh`` came from."""
    gu, gs, gvh, u, s, vh = call.args
    if u.kind is not Kind.ARRAY or vh.kind is not Kind.ARRAY or u.shape is None:
        return UNKNOWN
    if vh.shape is None:
        return UNKNOWN
    used = [x for x in (gu, gs, gvh) if x.kind is not Kind.NONE]
    return array(float_type(u, s, vh, *used), u.shape[:-1] + vh.shape[-1:])


# ----------------------------------------------------------------------------- lists, tapes


def first_rule(call: Call) -> AbstractValue:
    """``scalar_checked(x, value)`` returns ``x`` once ``value`` is known to be a scalar."""
    return call.args[0]


def float_rule(call: Call) -> AbstractValue:
    return FLOAT


def unstack_rule(call: Call) -> AbstractValue:
    g = call.args[0]
    if not g.is_numeric or g.shape is None or not g.shape:
        return UNKNOWN
    axis = call.param("axis", 0) % len(g.shape)
    return list_of(array(g.dtype, g.shape[:axis] + g.shape[axis + 1 :]))


def zeros_like_list_rule(call: Call) -> AbstractValue:
    xs = call.args[0]
    if xs.kind is not Kind.LIST:
        return UNKNOWN
    if xs.item is None:
        return list_of(None)
    return list_of(array(np.float64, xs.item.shape) if xs.item.is_numeric else UNKNOWN)


def _add_items(call: Call, a: AbstractValue, b: AbstractValue) -> AbstractValue:
    sub = Call(P.add, (a, b), (NOT_CONST, NOT_CONST), {}, call.loc, ("x", "y"))
    return elementwise.operator_rule(sub)


def add_lists_rule(call: Call) -> AbstractValue:
    a, b = call.args
    if a.kind is not Kind.LIST or b.kind is not Kind.LIST:
        return UNKNOWN
    if a.item is None or b.item is None:
        return list_of(None)  # zip stops at the shorter: an empty list
    return list_of(_add_items(call, a.item, b.item))


def sum_list_grad_rule(call: Call) -> AbstractValue:
    g, xs = call.args
    if xs.kind is not Kind.LIST:
        return UNKNOWN
    return list_of(None if xs.item is None else unbroadcast_value(call, g, xs.item))


def make_list_rule(call: Call) -> AbstractValue:
    item: AbstractValue | None = None
    for a in call.args:
        item = a if item is None else join(item, a)
    return list_of(item)


def append_rule(call: Call) -> AbstractValue:
    xs, v = call.args
    if xs.kind is not Kind.LIST:
        return UNKNOWN
    return list_of(v if xs.item is None else join(xs.item, v))


def sum_list_rule(call: Call) -> AbstractValue:
    """``sum(xs)`` starts from the int 0: an empty list gives 0, so unless the items are
    ints the result is the join of int and ``0 + item``."""
    xs = call.args[0]
    if xs.kind is not Kind.LIST:
        return UNKNOWN
    if xs.item is None:
        return INT
    return join(INT, _add_items(call, INT, xs.item))


def tuple_rule(call: Call) -> AbstractValue:
    return tuple_of(call.args)


def new_tape_rule(call: Call) -> AbstractValue:
    return list_of(None)


def as_float_rule(call: Call) -> AbstractValue:
    m = call.args[0]
    if not m.is_numeric:
        return UNKNOWN
    return array(given_dtype(call, lambda: np.dtype(np.float64)), m.shape)


RULES: dict[Primitive, Rule] = {
    P.unbroadcast: unbroadcast_rule, P.sum_to: sum_to_rule,
    P.take_grad: scattered, P.diagonal_grad: scattered, P.sort_grad: scattered,
    P.cumprod_grad: scattered, P.repeat_grad: scattered, P.unsplit: unsplit_rule,
    P.unjoin: piece_rule, P.unconcat: piece_rule,
    P.matmul_grad_a: matmul_grad_rule(0), P.matmul_grad_b: matmul_grad_rule(1),
    P.rollaxis_grad: rollaxis_grad_rule, P.unpad: unpad_rule, P.diag_grad: diag_grad_rule,
    P.tile_grad: tile_grad_rule, P.prod_grad: spread_rule(sum_dtype),
    P.median_grad: spread_rule(lambda x: np.dtype(np.float64)), P.diff_grad: diff_grad_rule,
    P.convolve_grad: convolve_grad_rule, P.eigh_grad: eigh_grad_rule,
    P.svd_grad: svd_grad_rule,
    P.solve_adjoint: float_like(0, 1, 2), P.solve_grad_a: float_like(2, 0, 1),
    P.cholesky_grad: float_like(1, 0), P.cholesky_tangent: float_like(1, 0),
    P.eigh_vectors_tangent: float_like(2, 0), P.eigvalsh_tangent: eigvalsh_tangent_rule,
    P.scalar_checked: first_rule, P.scalar_seed: float_rule,
    P.unstack: unstack_rule, P.zeros_like_list: zeros_like_list_rule,
    P.add_lists: add_lists_rule, P.sum_list_grad: sum_list_grad_rule,
    P.make_list: make_list_rule, P.list_append: append_rule, P.sum_list: sum_list_rule,
    P.make_tuple: tuple_rule, P.new_tape: new_tape_rule, P.as_float: as_float_rule,
}  # fmt: skip
