"""Abstract evaluation of joining, splitting and building arrays, and of shape queries.

Joined parts must agree on every axis but one: a definite mismatch of known lengths is the
user's error, reported at their line; ``np.array([...])`` counts Python numbers as float64
and int64 (array construction does not treat them as weak scalars, unlike arithmetic).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ir import primitives as P
from ..ir.nodes import Primitive
from .call import (
    NOT_CONST,
    Call,
    Rule,
    dim_of,
    dim_product,
    dim_sum,
    given_dtype,
    is_int,
    normalize_axis,
    numeric,
    result_type,
    shape_arg,
)
from .shaping import atleast, checked
from .values import (
    FLOAT,
    INT,
    UNKNOWN,
    AbstractValue,
    Dim,
    Extent,
    Kind,
    array,
    broadcast_shapes,
    join,
    list_of,
    tuple_of,
)

Shape = tuple[Dim, ...]


def _agree(call: Call, dims: list[Dim]) -> Dim:
    """Lengths that must be equal: a definite mismatch is an error, else the best known."""
    known = {d for d in dims if isinstance(d, int)}
    if len(known) > 1:
        raise call.fail(f"shapes {call.shapes()} do not match")
    if known:
        return known.pop()
    out = dims[0]
    for d in dims[1:]:
        out = d if out is Extent.ANY else out
    return out


def concat(call: Call, shapes: list[Shape], axis: int, dtype: Any) -> AbstractValue:
    ranks = {len(s) for s in shapes}
    if len(ranks) != 1:
        raise call.fail(f"shapes {call.shapes()} have different ranks")
    (rank,) = ranks
    if rank == 0:
        raise call.fail("zero-dimensional arrays cannot be concatenated")
    ax = normalize_axis(call, axis, rank)
    out: list[Dim] = []
    for i in range(rank):
        column = [s[i] for s in shapes]
        if i == ax:
            total: Dim = 0
            for d in column:
                total = dim_sum(total, d)
            out.append(total)
        else:
            out.append(_agree(call, column))
    return array(dtype, tuple(out))


def _parts(call: Call) -> list[Shape] | None:
    if not call.args or not all(a.is_numeric and a.shape is not None for a in call.args):
        return None
    return [a.shape for a in call.args]  # type: ignore[misc]


def concatenate_rule(call: Call) -> AbstractValue:
    shapes, axis = _parts(call), call.param("axis", 0)
    if shapes is None:
        return UNKNOWN
    if axis is None:
        shapes = [(dim_product(s),) for s in shapes]
        axis = 0
    return concat(call, shapes, axis, result_type(*call.args))


def stack_rule(call: Call) -> AbstractValue:
    shapes, axis = _parts(call), call.param("axis", 0)
    if shapes is None:
        return UNKNOWN
    if len({len(s) for s in shapes}) != 1:
        raise call.fail(f"shapes {call.shapes()} must be equal to be stacked")
    common = tuple(_agree(call, list(col)) for col in zip(*shapes))
    ax = normalize_axis(call, axis, len(common) + 1)
    assert ax is not None
    shape = common[:ax] + (len(shapes),) + common[ax:]
    return array(result_type(*call.args), shape)


def joiner(n: int, axis_of) -> Rule:
    """``np.vstack`` and kin: each part lifted to rank ``n`` (1-d parts of ``column_stack``
    become columns), then concatenated along ``axis_of(rank)``."""

    def rule(call: Call) -> AbstractValue:
        shapes = _parts(call)
        if shapes is None:
            return UNKNOWN
        if n == -1:  # column_stack
            shapes = [(s[0], 1) if len(s) == 1 else atleast(s, 2) for s in shapes]
            return concat(call, shapes, 1, result_type(*call.args))
        shapes = [atleast(s, n) for s in shapes]
        return concat(call, shapes, axis_of(len(shapes[0])), result_type(*call.args))

    return rule


def strong_dtype(values: tuple[AbstractValue, ...]) -> np.dtype | None:
    """The dtype ``np.array([...])`` gives: Python numbers count as float64/int64/bool here,
    not as weak scalars."""
    parts: list[np.dtype] = []
    for v in values:
        if v.kind is Kind.FLOAT:
            parts.append(np.dtype(np.float64))
        elif v.kind is Kind.INT:
            parts.append(np.dtype(np.int_))
        elif v.kind is Kind.BOOL:
            parts.append(np.dtype(bool))
        elif v.dtype is None:
            return None
        else:
            parts.append(v.dtype)
    return np.result_type(*parts) if parts else np.dtype(np.float64)


def array_rule(call: Call) -> AbstractValue:
    """``np.array([a, b, ...])`` stacks equal shapes along a new first axis."""
    shapes = _parts(call)
    if shapes is None or len({len(s) for s in shapes}) != 1:
        return UNKNOWN
    common = tuple(_agree(call, list(col)) for col in zip(*shapes)) if shapes[0] else ()
    return array(strong_dtype(call.args), (len(shapes),) + common)


def list_consumer(stack: bool) -> Rule:
    """``np.stack(xs)``/``np.array(xs)`` of a Python list built at run time."""

    def rule(call: Call) -> AbstractValue:
        xs = call.args[0]
        if xs.kind is not Kind.LIST or xs.item is None or not xs.item.is_numeric:
            return UNKNOWN
        item = xs.item
        if item.shape is None:
            return array(item.dtype if item.kind is Kind.ARRAY else strong_dtype((item,)), None)
        axis = call.param("axis", 0) if stack else 0
        ax = normalize_axis(call, axis, len(item.shape) + 1)
        assert ax is not None
        dtype = strong_dtype((item,))
        return array(dtype, item.shape[:ax] + (Extent.ANY,) + item.shape[ax:])

    return rule


def copy_rule(call: Call) -> AbstractValue:
    """``np.array(x)``, ``np.asarray(x)``, ``x.astype(t)``: an array of ``x``'s shape; of a
    tuple of numbers or arrays (``np.asarray((x, x * x))``), their stack, as ``np.array``
    of the same items written out."""
    x = call.args[0]
    if x.kind is Kind.TUPLE and x.items:
        items = Call(call.prim, x.items, (NOT_CONST,) * len(x.items), {}, call.loc, call.names)
        stacked = array_rule(items)
        if stacked.kind is not Kind.ARRAY:
            return stacked
        return array(given_dtype(call, lambda: stacked.dtype), stacked.shape)
    if not x.is_numeric:
        return UNKNOWN
    dtype = given_dtype(call, lambda: strong_dtype((x,)))
    return array(dtype, x.shape)


def append_rule(call: Call) -> AbstractValue:
    a, v = call.args
    if not (a.is_numeric and v.is_numeric) or a.shape is None or v.shape is None:
        return UNKNOWN
    axis = call.param("axis")
    dtype = result_type(a, v)
    if axis is None:
        return concat(call, [(dim_product(a.shape),), (dim_product(v.shape),)], 0, dtype)
    return concat(call, [a.shape, v.shape], axis, dtype)


def linspace_rule(call: Call) -> AbstractValue:
    start, stop = call.args
    num = call.param("num", 50)
    if not (start.is_numeric and stop.is_numeric) or not is_int(num):
        return UNKNOWN
    dtype = result_type(start, stop, FLOAT)
    if start.rank == 0 and stop.rank == 0:
        return array(dtype, (num,))
    inner = broadcast_shapes((start.shape, stop.shape), call.expr, call.loc)
    return array(dtype, None if inner is None else (num,) + inner)


def float64_rule(call: Call) -> AbstractValue:
    x = call.args[0]
    if not x.is_numeric:
        return UNKNOWN
    return numeric(np.dtype(np.float64), x.shape, scalar=True)


def like_rule(call: Call) -> AbstractValue:
    """``np.zeros_like(x)``: an array of ``x``'s shape and dtype (or the ``dtype`` given)."""
    x = call.args[0]
    if not x.is_numeric:
        return UNKNOWN
    return array(given_dtype(call, lambda: strong_dtype((x,))), x.shape)


def new_array_rule(call: Call) -> AbstractValue:
    """``np.zeros(shape)``: float64 of the shape given."""
    shape = shape_arg(call, 0)
    return UNKNOWN if shape is None else array(np.float64, shape)


def full_rule(call: Call) -> AbstractValue:
    shape = shape_arg(call, 0)
    fill = call.args[1]
    if shape is None:
        return UNKNOWN
    if not fill.is_numeric:  # always an array of that shape; the dtype follows the fill
        return array(given_dtype(call, lambda: None), shape)
    return array(given_dtype(call, lambda: strong_dtype((fill,))), shape)


def arange_rule(call: Call) -> AbstractValue:
    if not call.args or not all(a.is_scalar for a in call.args):
        return UNKNOWN
    consts = [call.const(i) for i in range(len(call.args))]
    length: Dim = Extent.ANY
    if all(isinstance(c, (int, float, np.integer, np.floating)) for c in consts):
        length = len(np.arange(*consts))
    return array(strong_dtype(call.args), (length,))


def square_rule(call: Call) -> AbstractValue:
    """``np.eye(n)``, ``np.identity(n)``, ``np.tri(n)``: float64 n x n."""
    n = call.args[0]
    if n.kind not in (Kind.INT, Kind.NP_SCALAR):
        return UNKNOWN
    d = dim_of(call.const(0))
    return array(np.float64, (d, d))


def shape_rule(call: Call) -> AbstractValue:
    x = call.args[0]
    if not x.is_numeric:
        return UNKNOWN
    return tuple_of(None) if x.shape is None else tuple_of((INT,) * len(x.shape))


def broadcast_shapes_rule(call: Call) -> AbstractValue:
    if not all(a.kind is Kind.TUPLE for a in call.args):
        return UNKNOWN
    if any(a.items is None for a in call.args):
        return tuple_of(None)
    return tuple_of((INT,) * max((len(a.items or ()) for a in call.args), default=0))


def int_rule(call: Call) -> AbstractValue:
    return INT


def split_rule(axis_of) -> Rule:
    """``np.split`` and kin: a list of pieces; their lengths are computed when the split
    axis has a known length (``np.split`` refuses unequal sections: a definite error)."""

    def rule(call: Call) -> AbstractValue:
        x = checked(call)
        sections = call.param("indices_or_sections")
        if x is None or x.shape is None:
            return UNKNOWN
        ax = normalize_axis(call, axis_of(call, x.rank), x.rank)
        assert ax is not None
        if is_int(sections):
            count = int(sections)
        elif isinstance(sections, (tuple, list)) and all(is_int(n) for n in sections):
            count = len(sections) + 1
        else:
            return UNKNOWN
        d = x.shape[ax]
        lengths: list[Dim] = [Extent.ANY] * count
        if isinstance(d, int):
            how = np.array_split if call.prim is P.np_array_split else np.split
            try:
                lengths = [len(p) for p in how(np.empty(d), sections)]
            except ValueError:
                raise call.fail(
                    f"an axis of length {d} cannot be split into {count} equal parts"
                ) from None
        dt = result_type(x)
        pieces = [array(dt, x.shape[:ax] + (n,) + x.shape[ax + 1 :]) for n in lengths]
        item = pieces[0]
        for p in pieces[1:]:
            item = join(item, p)
        return list_of(item)  # NumPy returns a list of the pieces

    return rule


def _split_axis(default: int | None):
    def axis_of(call: Call, rank: int) -> int:
        if default is None:
            return call.param("axis", 0)
        if default == 1:  # hsplit: columns of a 2-d array, elements of a 1-d one
            return 1 if rank >= 2 else 0
        return default

    return axis_of


RULES: dict[Primitive, Rule] = {
    P.np_concatenate: concatenate_rule,
    P.np_stack: stack_rule, P.np_vstack: joiner(2, lambda r: 0),
    P.np_hstack: joiner(1, lambda r: 0 if r == 1 else 1), P.np_dstack: joiner(3, lambda r: 2),
    P.np_column_stack: joiner(-1, lambda r: 1), P.np_array: array_rule,
    P.np_array_of: copy_rule, P.np_asarray: copy_rule,
    P.np_append: append_rule, P.np_linspace: linspace_rule, P.np_float64: float64_rule,
    P.np_split: split_rule(_split_axis(None)), P.np_array_split: split_rule(_split_axis(None)),
    P.np_hsplit: split_rule(_split_axis(1)), P.np_vsplit: split_rule(_split_axis(0)),
    P.np_dsplit: split_rule(_split_axis(2)),
    P.np_shape: shape_rule, P.shape_attr: shape_rule,
    P.np_broadcast_shapes: broadcast_shapes_rule, P.np_size: int_rule, P.np_ndim: int_rule,
    P.size_attr: int_rule, P.ndim_attr: int_rule,
    P.np_zeros: new_array_rule, P.np_ones: new_array_rule, P.np_empty: new_array_rule,
    P.np_zeros_like: like_rule, P.np_ones_like: like_rule, P.np_empty_like: like_rule,
    P.np_full_like: like_rule, P.np_full: full_rule, P.np_arange: arange_rule,
    P.np_eye: square_rule, P.np_identity: square_rule, P.np_tri: square_rule,
    P.np_stack_list: list_consumer(stack=True), P.np_array_list: list_consumer(stack=False),
}  # fmt: skip
