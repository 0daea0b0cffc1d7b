"""Abstract evaluation of indexing: ``x[i, 1:, None, ...]``, integer and boolean arrays.

The index layout of a ``getitem`` statement (see ``ir.primitives``) says which items are
slices, ``None``, ``...`` or arguments; the arguments' abstract values say whether an item is
an integer (drops an axis), an integer array (advanced: its shape replaces the axis) or a
boolean mask (its axes become one axis whose length only the values decide). NumPy's
placement rule for advanced indices is followed: together where they are adjacent, in front
otherwise. Constant integers and slices are checked against known lengths.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..ir import primitives as P
from ..ir.nodes import Primitive
from .call import NOT_CONST, Call, Rule, is_int, normalize_axis, numeric, result_type
from .values import (
    FLOAT,
    UNKNOWN,
    AbstractValue,
    Dim,
    Extent,
    Kind,
    array,
    broadcast_shapes,
    list_of,
    of,
    show_shape,
    tuple_of,
)


@dataclass(frozen=True)
class Item:
    """One item of an index: ``int`` (with its value if constant), ``slice`` (with constant
    bounds, or ``None`` where unknown), ``new``, ``ellipsis``, ``array`` (integer array of
    ``shape``) or ``mask`` (boolean array of ``shape``)."""

    tag: str
    value: Any = None
    shape: tuple[Dim, ...] = ()

    @property
    def consumes(self) -> int:
        if self.tag in ("int", "slice", "array"):
            return 1
        return len(self.shape) if self.tag == "mask" else 0


class _Opaque(Exception):
    """An index item the analysis cannot describe: the result is unknown."""


def _argument(v: AbstractValue, c: Any) -> Item:
    if c is not NOT_CONST:
        if c is None:
            return Item("new")
        if c is Ellipsis:
            return Item("ellipsis")
        if isinstance(c, slice):
            return Item("slice", c)
        if isinstance(c, (list, tuple, np.ndarray)):
            c = np.asarray(c)
            if c.dtype.kind == "b" and c.ndim:  # a constant mask: its count is known
                return Item("mask", int(np.count_nonzero(c)), c.shape)
            v = of(c)
        elif is_int(c):
            return Item("int", int(c))
    if v.kind is Kind.INT or (
        v.kind is Kind.NP_SCALAR and v.dtype is not None and v.dtype.kind in "iu"
    ):
        return Item("int")
    if v.kind is Kind.ARRAY and v.dtype is not None and v.shape is not None:
        if v.dtype.kind in "iu":
            return Item("int") if v.shape == () else Item("array", shape=v.shape)
        if v.dtype.kind == "b" and v.shape != ():
            return Item("mask", shape=v.shape)
    if v.kind is Kind.LIST and v.item is not None and v.item.kind in (Kind.INT, Kind.BOOL):
        return Item("array" if v.item.kind is Kind.INT else "mask", shape=(Extent.ANY,))
    if v.kind is Kind.NONE:
        return Item("new")
    raise _Opaque


def items_of(call: Call, offset: int, layout: tuple) -> list[Item]:
    out = []
    for entry in layout:
        tag = entry[0]
        if tag == "tuple":
            continue
        if tag == "at":
            k = entry[1] + offset
            out.append(_argument(call.args[k], call.const(k)))
        elif tag == "slice":
            bounds: list[Any] | None = []
            for k in entry[1:]:
                c = None if k is None else call.const(k + offset)
                if c is NOT_CONST or not (c is None or is_int(c)):
                    bounds = None
                    break
                bounds.append(c)  # type: ignore[union-attr]
            out.append(Item("slice", None if bounds is None else slice(*bounds)))
        elif tag == "newaxis":
            out.append(Item("new"))
        else:
            out.append(Item("ellipsis"))
    return out


def _slice_length(s: slice | None, d: Dim) -> Dim:
    if s is not None and s.start is None and s.stop is None and s.step in (None, 1, -1):
        return d  # the whole axis, forwards or backwards
    if s is not None and isinstance(d, int):
        return len(range(*s.indices(d)))
    return Extent.ANY


def indexed(call: Call, x: AbstractValue, items: list[Item]) -> AbstractValue:
    """``x[items]`` for an array or NumPy scalar ``x``."""
    if x.shape is None:
        return array(x.dtype, None)
    rank = len(x.shape)
    ellipses = [i for i, it in enumerate(items) if it.tag == "ellipsis"]
    if len(ellipses) > 1:
        raise call.fail("an index can only have a single ellipsis")
    used = sum(it.consumes for it in items)
    if used > rank:
        raise call.fail(f"too many indices for an array of shape {show_shape(x.shape)}")
    if not ellipses:
        items = items + [Item("ellipsis")]
    at = next(i for i, it in enumerate(items) if it.tag == "ellipsis")
    items = items[:at] + [Item("slice", slice(None))] * (rank - used) + items[at + 1 :]
    advanced = any(it.tag in ("array", "mask") for it in items)
    out: list[Dim] = []
    adv_shapes: list[tuple[Dim, ...]] = []
    adv_positions: list[int] = []
    axis = 0
    for pos, it in enumerate(items):
        if it.tag == "new":
            out.append(1)
            continue
        d = x.shape[axis] if axis < rank else 1
        if it.tag == "slice":
            out.append(_slice_length(it.value, d))
        elif it.tag == "int":
            if it.value is not None and isinstance(d, int) and not -d <= it.value < d:
                raise call.fail(f"index {it.value} is out of bounds for axis {axis} with size {d}")
            if advanced:
                adv_shapes.append(())
                adv_positions.append(pos)
        elif it.tag == "array":
            adv_shapes.append(it.shape)
            adv_positions.append(pos)
        else:  # mask
            part = x.shape[axis : axis + len(it.shape)]
            for m, n in zip(it.shape, part):
                if isinstance(m, int) and isinstance(n, int) and m != n:
                    raise call.fail(
                        f"a boolean index of shape {show_shape(it.shape)} does not match "
                        f"the indexed shape {show_shape(part)}"
                    )
            adv_shapes.append((Extent.ANY if it.value is None else it.value,))
            adv_positions.append(pos)
        if adv_positions and adv_positions[-1] == pos and len(adv_positions) == 1:
            out.append(None)  # type: ignore[arg-type]  # where the advanced block goes
        axis += it.consumes
    if advanced:
        block = broadcast_shapes(adv_shapes, call.expr, call.loc)
        assert block is not None
        mark = out.index(None)  # type: ignore[arg-type]
        out.pop(mark)
        together = adv_positions == list(range(adv_positions[0], adv_positions[-1] + 1))
        where = mark if together else 0
        out[where:where] = list(block)
    scalar = not advanced and not ellipses and not any(it.tag == "new" for it in items)
    return numeric(x.dtype, tuple(out), scalar=scalar and not out)


def _sequence_item(call: Call, seq: AbstractValue, items: list[Item]) -> AbstractValue:
    """``t[k]`` on a tuple (constant ``k``) or a list; slices keep the sequence."""
    if len(items) != 1:
        return UNKNOWN
    (it,) = items
    if seq.kind is Kind.LIST:
        if it.tag == "int":
            return seq.item or UNKNOWN
        return list_of(seq.item) if it.tag == "slice" else UNKNOWN
    if seq.items is None:
        return UNKNOWN if it.tag != "slice" else tuple_of(None)
    if it.tag == "int" and it.value is not None:
        n = len(seq.items)
        if not -n <= it.value < n:
            raise call.fail(f"index {it.value} is out of range for a tuple of {n} values")
        return seq.items[it.value]
    if it.tag == "slice" and it.value is not None:
        return tuple_of(seq.items[it.value])
    return UNKNOWN


def getitem_rule(call: Call) -> AbstractValue:
    x = call.args[0]
    try:
        items = items_of(call, 1, call.param("index", ()))
    except _Opaque:
        return UNKNOWN
    if x.kind in (Kind.TUPLE, Kind.LIST):
        return _sequence_item(call, x, items)
    if x.kind not in (Kind.ARRAY, Kind.NP_SCALAR):
        return UNKNOWN
    return indexed(call, x, items)


def _copy_with(call: Call, base: AbstractValue, value: AbstractValue) -> AbstractValue:
    if not (base.is_numeric and value.is_numeric):
        return UNKNOWN
    return array(result_type(base, value), base.shape)


def setitem_rule(call: Call) -> AbstractValue:
    """``setitem(x, v, ...)`` and ``index_add(acc, g, ...)``: a copy of the first argument
    in the dtype it shares with the second."""
    return _copy_with(call, call.args[0], call.args[1])


def index_grad_rule(call: Call) -> AbstractValue:
    """``g`` scattered into float zeros shaped like ``x``."""
    g, x = call.args[0], call.args[1]
    if not (g.is_numeric and x.is_numeric):
        return UNKNOWN
    return array(result_type(g, x, FLOAT), x.shape)


def take_rule(call: Call) -> AbstractValue:
    a, idx = call.args
    if isinstance(call.const(1), (tuple, list)):  # constant indices: an array of them
        idx = of(np.asarray(call.const(1)))
    axis = call.param("axis")
    if not (a.is_numeric and idx.is_numeric) or a.shape is None or idx.shape is None:
        return UNKNOWN
    if idx.kind is Kind.FLOAT or (idx.dtype is not None and idx.dtype.kind not in "iu"):
        return UNKNOWN
    if axis is None:
        return numeric(result_type(a), idx.shape, scalar=True)
    ax = normalize_axis(call, axis, a.rank)
    assert ax is not None
    shape = a.shape[:ax] + idx.shape + a.shape[ax + 1 :]
    return numeric(result_type(a), shape, scalar=True)


RULES: dict[Primitive, Rule] = {
    P.getitem: getitem_rule,
    P.tuple_item: getitem_rule,
    P.setitem: setitem_rule,
    P.index_add: setitem_rule,
    P.index_grad: index_grad_rule,
    P.np_take: take_rule,
}
