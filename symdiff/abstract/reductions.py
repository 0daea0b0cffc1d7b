"""Abstract evaluation of reductions, scans, sorting and searching.

A reduction's result shape follows from ``axis`` and ``keepdims`` alone; its dtype follows
NumPy's accumulator rules (``np.sum`` of small ints accumulates in the platform int, ``np.mean``
of ints in float64) unless a ``dtype=`` is given; a 0-d result is a NumPy scalar.
"""

from __future__ import annotations

import numpy as np

from ..ir import primitives as P
from ..ir.nodes import Primitive
from .call import (
    Call,
    Rule,
    axes_of,
    dim_product,
    float_type,
    given_dtype,
    is_int,
    normalize_axis,
    numeric,
    result_type,
)
from .values import UNKNOWN, AbstractValue, Dim, Extent, Kind, array, join, np_scalar, tuple_of


def reduced_shape(call: Call, x: AbstractValue, axis: object, keepdims: bool):
    """The shape left by reducing ``x`` over ``axis``; ``None`` if it cannot be told."""
    if x.rank == 0:  # NumPy lets a 0-d value be reduced over "axis 0"
        items = axis if isinstance(axis, (tuple, list)) else (axis,)
        if not all(a is None or a in (0, -1) for a in items):
            raise call.fail(f"axis {axis!r} is out of bounds for a 0-d value")
        return ()
    axes = axes_of(call, axis, x.rank)
    if axes is None or x.shape is None:
        return None
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(x.shape))
    return tuple(d for i, d in enumerate(x.shape) if i not in axes)


def sum_dtype(x: AbstractValue) -> np.dtype | None:
    """The accumulator ``np.sum``/``np.prod`` use: ints narrower than the platform int widen."""
    dt = result_type(x)
    if dt is None:
        return None
    if dt.kind in "bi" and dt.itemsize < np.dtype(np.int_).itemsize or dt.kind == "b":
        return np.dtype(np.int_)
    if dt.kind == "u" and dt.itemsize < np.dtype(np.uint).itemsize:
        return np.dtype(np.uint)
    return dt


def mean_dtype(x: AbstractValue) -> np.dtype | None:
    """``np.mean`` and kin: ints and bools give float64, floats keep their width."""
    dt = result_type(x)
    if dt is None:
        return None
    return dt if dt.kind in "fc" else np.dtype(np.float64)


def reduction(dtype_of, keeps_param: bool = True) -> Rule:
    """A reduction whose dtype is ``dtype_of(x)`` unless the call names a ``dtype``."""

    def rule(call: Call) -> AbstractValue:
        x = call.args[0]
        if not x.is_numeric:
            return UNKNOWN
        keepdims = bool(call.param("keepdims", False)) if keeps_param else False
        shape = reduced_shape(call, x, call.param("axis"), keepdims)
        dtype = given_dtype(call, lambda: dtype_of(x))
        return numeric(dtype, shape, scalar=True)

    return rule


def same(x: AbstractValue) -> np.dtype | None:
    return result_type(x)


def boolean(x: AbstractValue) -> np.dtype | None:
    return np.dtype(bool)


def index_dtype(x: AbstractValue) -> np.dtype | None:
    return np.dtype(np.intp)


def weighted_average_rule(call: Call) -> AbstractValue:
    """``np.average(a, axis, weights)``: the weights promote the result's dtype."""
    a, axis, w = call.args
    if not (a.is_numeric and w.is_numeric):
        return UNKNOWN
    ax = call.const(1)
    if not (ax is None or is_int(ax) or isinstance(ax, tuple)):
        return UNKNOWN
    shape = reduced_shape(call, a, ax, bool(call.param("keepdims", False)))
    return numeric(float_type(a, w), shape, scalar=True)


def count_nonzero_rule(call: Call) -> AbstractValue:
    """Without ``axis`` ``np.count_nonzero`` returns a NumPy int."""
    return np_scalar(np.intp) if call.args[0].kind is not Kind.UNKNOWN else UNKNOWN


def scan(dtype_of) -> Rule:
    """``np.cumsum``-style scans: the same shape, or flattened without ``axis``; always an
    array (a scan of a scalar is a 1-element array)."""

    def rule(call: Call) -> AbstractValue:
        x = call.args[0]
        if not x.is_numeric:
            return UNKNOWN
        dtype = given_dtype(call, lambda: dtype_of(x))
        axis = call.param("axis")
        if axis is None:
            shape = None if x.shape is None else (dim_product(x.shape),)
            return array(dtype, shape)
        if x.rank == 0:  # a scalar scanned "along axis 0" is a 1-element array
            normalize_axis(call, axis, 1)
            return array(dtype, (1,))
        normalize_axis(call, axis, x.rank)
        return array(dtype, x.shape)

    return rule


def diff_rule(call: Call) -> AbstractValue:
    x = call.args[0]
    if not x.is_numeric or x.shape is None:
        return UNKNOWN
    n, axis = call.param("n", 1), call.param("axis", -1)
    if x.rank == 0:
        raise call.fail("diff requires an input of at least one dimension")
    ax = normalize_axis(call, axis, x.rank)
    assert ax is not None
    d = x.shape[ax]
    new: Dim = max(d - n, 0) if isinstance(d, int) else Extent.ANY
    return array(result_type(x), x.shape[:ax] + (new,) + x.shape[ax + 1 :])


def along_axis(dtype_of) -> Rule:
    """``np.sort``/``np.argsort``/``np.partition``: same shape, flattened with ``axis=None``."""

    def rule(call: Call) -> AbstractValue:
        x = call.args[0]
        if not x.is_numeric or x.shape is None:
            return UNKNOWN
        axis = call.param("axis", -1)
        if axis is None:
            return array(dtype_of(x), (dim_product(x.shape),))
        if x.rank == 0:
            return UNKNOWN  # NumPy refuses or flattens, depending on the function
        normalize_axis(call, axis, x.rank)
        return array(dtype_of(x), x.shape)

    return rule


def nonzero_rule(call: Call) -> AbstractValue:
    """One index array per axis, each of a length only the values decide."""
    x = call.args[0]
    if x.kind is not Kind.ARRAY or x.shape is None or x.rank == 0:
        return tuple_of(None) if x.kind is Kind.ARRAY else UNKNOWN
    item = array(np.intp, (Extent.ANY,))
    return tuple_of((item,) * len(x.shape))


def flatnonzero_rule(call: Call) -> AbstractValue:
    return array(np.intp, (Extent.ANY,)) if call.args[0].is_numeric else UNKNOWN


def searchsorted_rule(call: Call) -> AbstractValue:
    a, v = call.args
    if not (a.is_numeric and v.is_numeric):
        return UNKNOWN
    return numeric(np.dtype(np.intp), v.shape, scalar=True)


def argminmax_rule(call: Call) -> AbstractValue:
    x = call.args[0]
    if not x.is_numeric:
        return UNKNOWN
    return numeric(np.dtype(np.intp), reduced_shape(call, x, call.param("axis"), False), True)


def prefer(*options: AbstractValue) -> AbstractValue:
    out = options[0]
    for o in options[1:]:
        out = join(out, o)
    return out


RULES: dict[Primitive, Rule] = {
    P.np_sum: reduction(sum_dtype), P.np_prod: reduction(sum_dtype),
    P.np_mean: reduction(mean_dtype), P.np_var: reduction(mean_dtype),
    P.np_std: reduction(mean_dtype), P.np_average: reduction(mean_dtype),
    P.np_average_weighted: weighted_average_rule,
    P.np_max: reduction(same), P.np_min: reduction(same), P.np_ptp: reduction(same),
    P.np_median: reduction(mean_dtype), P.np_all: reduction(boolean, keeps_param=False),
    P.np_any: reduction(boolean, keeps_param=False),
    P.np_count_nonzero: count_nonzero_rule,
    P.np_argmax: argminmax_rule, P.np_argmin: argminmax_rule,
    P.np_cumsum: scan(sum_dtype), P.np_cumprod: scan(sum_dtype), P.np_diff: diff_rule,
    P.np_sort: along_axis(same), P.np_partition: along_axis(same),
    P.np_argsort: along_axis(index_dtype),
    P.np_nonzero: nonzero_rule, P.np_flatnonzero: flatnonzero_rule,
    P.np_searchsorted: searchsorted_rule,
}  # fmt: skip
