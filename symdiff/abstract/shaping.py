"""Abstract evaluation of shape manipulation, joining and array construction.

These functions go through ``np.asarray``, so their results are arrays even when 0-d; the
shapes follow from the static parameters (``axes``, constant ``reshape`` shapes, ``reps``),
and a definite mismatch (reshaping 6 elements into 4 x 2) is reported at the user's line.
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
    axes_of,
    dim_product,
    dim_sum,
    is_int,
    normalize_axis,
    numeric,
    result_type,
    shape_arg,
)
from .values import (
    UNKNOWN,
    AbstractValue,
    Dim,
    Extent,
    Kind,
    array,
    show_shape,
)

Shape = tuple[Dim, ...]


def checked(call: Call) -> AbstractValue | None:
    x = call.args[0]
    return x if x.is_numeric and x.shape is not None else None


def same_shape(call: Call) -> AbstractValue:
    """Reorders values, keeps the shape: ``np.flip``, ``np.roll``, ``np.copy``..."""
    x = call.args[0]
    if not x.is_numeric:
        return UNKNOWN
    return array(result_type(x), x.shape)


def _scalar_stays(call: Call) -> AbstractValue | None:
    """``np.transpose`` and ``np.squeeze`` call the method of a NumPy scalar, which returns
    the scalar itself; a Python number becomes a 0-d array."""
    x = call.args[0]
    return x if x.kind is Kind.NP_SCALAR else None


def flip_rule(call: Call) -> AbstractValue:
    """``np.flip`` indexes: a 0-d input comes back as a NumPy scalar."""
    x = call.args[0]
    if not x.is_numeric:
        return UNKNOWN
    return numeric(result_type(x), x.shape, scalar=True)


def transpose_rule(call: Call) -> AbstractValue:
    if (same := _scalar_stays(call)) is not None:
        return same
    x = checked(call)
    if x is None or x.shape is None:
        return UNKNOWN
    axes = call.param("axes")
    if axes is None:
        return array(result_type(x), x.shape[::-1])
    if not isinstance(axes, (tuple, list)) or len(axes) != x.rank:
        raise call.fail(f"axes {axes!r} do not match an array of rank {x.rank}")
    order = [normalize_axis(call, a, x.rank) for a in axes]
    return array(result_type(x), tuple(x.shape[i] for i in order if i is not None))


def _permuted(call: Call, x: AbstractValue, order: list[int]) -> AbstractValue:
    assert x.shape is not None
    return array(result_type(x), tuple(x.shape[i] for i in order))


def swapaxes_rule(call: Call) -> AbstractValue:
    x = checked(call)
    a, b = call.const(1), call.const(2)
    if x is None or not (is_int(a) and is_int(b)):
        return UNKNOWN
    assert x.rank is not None
    i, j = normalize_axis(call, a, x.rank), normalize_axis(call, b, x.rank)
    order = list(range(x.rank))
    order[i], order[j] = order[j], order[i]  # type: ignore[index]
    return _permuted(call, x, order)


def moveaxis_rule(call: Call) -> AbstractValue:
    x = checked(call)
    if x is None:
        return UNKNOWN
    assert x.rank is not None
    src = axes_list(call, call.param("source"), x.rank)
    dst = axes_list(call, call.param("destination"), x.rank)
    if src is None or dst is None or len(src) != len(dst):
        return UNKNOWN
    order = [n for n in range(x.rank) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return _permuted(call, x, order)


def axes_list(call: Call, axes: Any, rank: int) -> list[int] | None:
    items = axes if isinstance(axes, (tuple, list)) else (axes,)
    if not all(is_int(a) for a in items):
        return None
    return [normalize_axis(call, int(a), rank) or 0 for a in items]


def rollaxis_rule(call: Call) -> AbstractValue:
    x = checked(call)
    if x is None:
        return UNKNOWN
    assert x.rank is not None
    axis, start = call.param("axis"), call.param("start", 0)
    if not (is_int(axis) and is_int(start)):
        return UNKNOWN
    a = normalize_axis(call, axis, x.rank)
    assert a is not None
    start = start + x.rank if start < 0 else start
    if not 0 <= start <= x.rank:
        raise call.fail(f"start {start} is out of bounds for an array of rank {x.rank}")
    order = list(range(x.rank))
    order.remove(a)
    order.insert(start - 1 if a < start else start, a)
    return _permuted(call, x, order)


def reshape_rule(call: Call) -> AbstractValue:
    x = call.args[0]
    target = shape_arg(call, 1)
    if not x.is_numeric or target is None:
        return UNKNOWN if not x.is_numeric else array(result_type(x), None)
    size = None if x.shape is None else dim_product(x.shape)
    known = [n for n in target if n != -1]
    if target.count(-1) > 1:
        raise call.fail(f"can only infer one dimension of {show_shape(target)}")
    rest = dim_product(known)
    if isinstance(size, int) and isinstance(rest, int) and all(isinstance(n, int) for n in target):
        if -1 in target:
            if rest == 0 or size % rest:
                raise call.fail(f"cannot reshape an array of size {size} into {show_shape(target)}")
            target = tuple(size // rest if n == -1 else n for n in target)
        elif size != rest:
            raise call.fail(f"cannot reshape an array of size {size} into {show_shape(target)}")
    else:
        target = tuple(Extent.ANY if n == -1 else n for n in target)
    return array(result_type(x), target)


def ravel_rule(call: Call) -> AbstractValue:
    x = call.args[0]
    if not x.is_numeric:
        return UNKNOWN
    return array(result_type(x), None if x.shape is None else (dim_product(x.shape),))


def squeeze_rule(call: Call) -> AbstractValue:
    if (same := _scalar_stays(call)) is not None:
        return same
    x = checked(call)
    if x is None or x.shape is None:
        return UNKNOWN
    axis = call.param("axis")
    if axis is None:
        if any(d is Extent.ANY for d in x.shape):
            return array(result_type(x), None)
        return array(result_type(x), tuple(d for d in x.shape if d != 1))
    axes = axes_of(call, axis, x.rank)
    if axes is None:
        return UNKNOWN
    for a in axes:
        if x.shape[a] != 1 and x.shape[a] is not Extent.ANY:
            raise call.fail(f"cannot squeeze axis {a} of shape {show_shape(x.shape)}")
    return array(result_type(x), tuple(d for i, d in enumerate(x.shape) if i not in axes))


def expand_dims_rule(call: Call) -> AbstractValue:
    x, axis = call.args[0], call.const(1)
    if not x.is_numeric or axis is NOT_CONST:
        return UNKNOWN
    if x.shape is None:
        return array(result_type(x), None)
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    rank = x.rank + len(items)  # type: ignore[operator]
    where = axes_of(call, tuple(items), rank)
    if where is None:
        return UNKNOWN
    rest = iter(x.shape)
    return array(result_type(x), tuple(1 if i in where else next(rest) for i in range(rank)))


def broadcast_to_rule(call: Call) -> AbstractValue:
    x = call.args[0]
    target = shape_arg(call, 1)
    if not x.is_numeric or target is None:
        return UNKNOWN
    if x.shape is not None:
        if len(x.shape) > len(target):
            raise call.fail(f"cannot broadcast {show_shape(x.shape)} to {show_shape(target)}")
        for d, t in zip(x.shape[::-1], target[::-1]):
            if isinstance(d, int) and isinstance(t, int) and d != 1 and d != t:
                raise call.fail(f"cannot broadcast {show_shape(x.shape)} to {show_shape(target)}")
    return array(result_type(x), target)


def atleast_rule(n: int) -> Rule:
    """``np.atleast_2d`` puts a 1-d array in a row, ``atleast_3d`` a 2-d one in a slab."""

    def rule(call: Call) -> AbstractValue:
        x = call.args[0]
        if not x.is_numeric or x.shape is None:
            return UNKNOWN
        return array(result_type(x), atleast(x.shape, n))

    return rule


def atleast(s: Shape, n: int) -> Shape:
    if len(s) >= n:
        return s
    if n == 1:
        return (1,)
    if n == 2:
        return (1,) * (2 - len(s)) + s
    return {0: (1, 1, 1), 1: (1, *s, 1), 2: (*s, 1)}[len(s)]


def rot90_rule(call: Call) -> AbstractValue:
    x = checked(call)
    k, axes = call.param("k", 1), call.param("axes", (0, 1))
    if x is None or x.shape is None or not is_int(k):
        return UNKNOWN
    i, j = (normalize_axis(call, a, x.rank) for a in axes)
    shape = list(x.shape)
    if k % 2:
        shape[i], shape[j] = shape[j], shape[i]  # type: ignore[index]
    return array(result_type(x), tuple(shape))


def tile_rule(call: Call) -> AbstractValue:
    x, reps = call.args[0], call.param("reps")
    if not x.is_numeric or x.shape is None:
        return UNKNOWN
    reps = tuple(reps) if isinstance(reps, (tuple, list)) else (reps,)
    if not all(is_int(r) for r in reps):
        return UNKNOWN
    d = max(len(reps), len(x.shape))
    shape = (1,) * (d - len(x.shape)) + x.shape
    reps = (1,) * (d - len(reps)) + reps
    return array(result_type(x), tuple(_times(s, r) for s, r in zip(shape, reps)))


def _times(d: Dim, r: int) -> Dim:
    if isinstance(d, int):
        return d * r
    if r == 1:
        return d
    return 0 if r == 0 else Extent.MANY if d is Extent.MANY else Extent.ANY


def repeat_rule(call: Call) -> AbstractValue:
    x, repeats, axis = call.args[0], call.param("repeats"), call.param("axis")
    if not x.is_numeric or x.shape is None:
        return UNKNOWN
    if axis is None:
        n = dim_product(x.shape)
        return array(result_type(x), (_times(n, repeats) if is_int(repeats) else Extent.ANY,))
    a = normalize_axis(call, axis, x.rank)
    assert a is not None
    d = _times(x.shape[a], repeats) if is_int(repeats) else Extent.ANY
    return array(result_type(x), x.shape[:a] + (d,) + x.shape[a + 1 :])


def pad_rule(call: Call) -> AbstractValue:
    x, width = call.args[0], call.param("pad_width")
    if not x.is_numeric or x.shape is None:
        return UNKNOWN
    try:
        widths = np.broadcast_to(np.asarray(width), (len(x.shape), 2))
    except ValueError:
        raise call.fail(f"pad_width {width!r} does not fit shape {show_shape(x.shape)}") from None
    if widths.dtype.kind not in "iu":
        return UNKNOWN
    dims = tuple(
        dim_sum(dim_sum(d, int(b)), int(a)) if (a or b) else d for d, (b, a) in zip(x.shape, widths)
    )
    return array(result_type(x), dims)


RULES: dict[Primitive, Rule] = {
    P.np_transpose: transpose_rule, P.T_attr: transpose_rule, P.np_swapaxes: swapaxes_rule,
    P.np_moveaxis: moveaxis_rule, P.np_rollaxis: rollaxis_rule, P.np_reshape: reshape_rule,
    P.np_ravel: ravel_rule, P.np_squeeze: squeeze_rule, P.np_expand_dims: expand_dims_rule,
    P.np_broadcast_to: broadcast_to_rule, P.np_atleast_1d: atleast_rule(1),
    P.np_atleast_2d: atleast_rule(2), P.np_atleast_3d: atleast_rule(3),
    P.np_flip: flip_rule, P.np_fliplr: same_shape, P.np_flipud: same_shape,
    P.np_rot90: rot90_rule, P.np_roll: same_shape, P.np_tile: tile_rule,
    P.np_repeat: repeat_rule, P.np_pad: pad_rule, P.np_copy: same_shape,
}  # fmt: skip
