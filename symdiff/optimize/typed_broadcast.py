"""Typed rewrites of broadcasting bookkeeping: what ``unbroadcast`` and friends come to
when the ranks and unit axes of their operands are known, and the values that are one
number repeated (``View``), which the elementwise rewrites read through.

``unbroadcast(d, x)`` sums ``d`` over the axes broadcasting stretched ``x`` along. Which
axes those are follows from the types alone: the leading axes ``d`` has beyond ``x``'s rank,
and the axes where ``x`` has length 1 (summed keeping the axis). An axis of ``x`` known not
to be 1 was never stretched (the forward operation ran, so ``d``'s length there is
``x``'s). An axis that may or may not be 1 leaves the call as it is.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..abstract.table import evaluate
from ..abstract.values import AbstractValue, Dim, Extent, Kind, ShapeError, array
from ..ir import primitives as P
from ..ir.nodes import Assign, Atom, Const, Primitive
from .typed import Replacement, Rewrite, Types, fits, same_type, value_key
from .typed_shapes import SHAPE_OF, shape_of


def unbroadcast(stmt: Assign, types: Types) -> Replacement:
    d, x = stmt.args
    td, tx = precise(d, types), precise(x, types)
    if td.shape == () and tx.shape == () and td.is_numeric and tx.is_numeric:
        return d  # nothing to sum: ``unbroadcast`` returns ``d`` as it is
    if tx.is_scalar:  # a scalar operand: everything broadcasting added is summed away
        if td.is_scalar:
            return d
        if td.kind is Kind.ARRAY and td.shape is not None:
            if tx.kind is not Kind.FLOAT:
                return (Assign(stmt.target, P.np_sum, (d,), (), stmt.loc),)
            # a Python float's adjoint is a Python float, as the argument was
            total = types.fresh()
            return (
                Assign(total, P.np_sum, (d,), (), stmt.loc),
                Assign(stmt.target, P.b_float, (total,), (), stmt.loc),
            )
        return None
    if tx.kind is not Kind.ARRAY or tx.shape is None or td.shape is None:
        return None
    if td.kind is not Kind.ARRAY or len(td.shape) < len(tx.shape):
        return None
    if Extent.ANY in tx.shape:
        return None
    lead = len(td.shape) - len(tx.shape)
    tail = td.shape[lead:]
    kept = tuple(k for k, n in enumerate(tx.shape) if n == 1 and tail[k] != 1)
    if not lead and not kept:
        return d
    out: list[Assign] = []
    source = d
    if lead:
        axes = tuple(range(lead))
        target = stmt.target if not kept else types.fresh()
        out.append(Assign(target, P.np_sum, (source,), (("axis", _axis(axes)),), stmt.loc))
        source = target
    if kept:
        params = (("axis", _axis(kept)), ("keepdims", True))
        out.append(Assign(stmt.target, P.np_sum, (source,), params, stmt.loc))
    return tuple(out)


def _axis(axes: tuple[int, ...]) -> int | tuple[int, ...]:
    return axes[0] if len(axes) == 1 else axes


def zeros_like(stmt: Assign, types: Types) -> Replacement:
    """An adjoint accumulator of a Python float starts at ``0.0``, not at a 0-d array (which
    would make every update an array operation and the gradient an array)."""
    if not types.backward:
        return None
    (x,) = stmt.args
    if types.of(x).kind is Kind.FLOAT and not stmt.params:
        return Const(0.0)
    return None


# ----------------------------------------------------------------------------- views


@dataclass(frozen=True)
class View:
    """A value that is ``value`` repeated to ``shape``: every element of
    ``np.broadcast_to(a, S)`` is an element of ``a``, every element of ``np.full_like(x, a)``
    is ``a``. ``like`` is an atom of exactly that shape when the program names one (the
    ``x`` of ``np.shape(x)`` or of ``np.full_like(x, a)``)."""

    value: Atom
    shape: tuple[Dim, ...] | None
    like: Atom | None


def scalar_dtype(v: AbstractValue) -> np.dtype | None:
    """The dtype NumPy stores a scalar of this type with (a Python float: float64)."""
    if v.kind is Kind.FLOAT:
        return np.dtype(np.float64)
    if v.kind in (Kind.NP_SCALAR, Kind.ARRAY) and v.shape == ():
        return v.dtype
    return None


def view(atom: Atom, types: Types) -> View | None:
    """What ``atom`` repeats, when its definition says it is a repetition: a broadcast, a
    full (or ones, zeros) array whose dtype holds its fill exactly, a broadcast scalar with
    an axis added."""
    made = types.definition(atom)
    if made is None:
        return None
    here = types.of(atom)
    if made.prim is P.np_broadcast_to and not made.params:
        a, target = made.args
        shape = shape_of(target, types)
        return View(a, here.shape if shape is None else shape, shape_owner(target, types))
    params = dict(made.params)
    if params.get("dtype") is not None or here.kind is not Kind.ARRAY:
        return None
    if made.prim is P.np_full_like:
        x, a = made.args
        if types.of(a).is_scalar and scalar_dtype(types.of(a)) == here.dtype:
            return View(a, types.of(x).shape, x)
        return None
    if made.prim in (P.np_ones_like, P.np_zeros_like) and here.dtype == np.float64:
        (x,) = made.args
        return View(Const(1.0 if made.prim is P.np_ones_like else 0.0), types.of(x).shape, x)
    if made.prim is P.np_expand_dims and len(made.args) == 2:
        inner = view(made.args[0], types)
        if inner is None or not types.of(inner.value).is_scalar or inner.shape is None:
            return None
        try:
            shaped = evaluate(made, (array(here.dtype, inner.shape), types.of(made.args[1])))
        except ShapeError:
            return None
        return View(inner.value, shaped.shape, None)
    return None


def precise(atom: Atom, types: Types) -> AbstractValue:
    """``atom``'s type, with the shape of the repetition it is when its definition says more
    (the type of ``np.broadcast_to(a, np.shape(x))`` knows only the rank, ``x`` knows which
    axes are 1)."""
    value = types.of(atom)
    seen = view(atom, types)
    if seen is None or seen.shape is None or value.kind is not Kind.ARRAY:
        return value
    return dataclasses.replace(value, shape=seen.shape)


def shape_owner(shape: Atom, types: Types) -> Atom | None:
    """The ``x`` of a shape atom ``np.shape(x)``."""
    made = types.definition(shape)
    if made is not None and made.prim in SHAPE_OF and len(made.args) == 1 and not made.params:
        return made.args[0]
    return None


def broadcast_to(stmt: Assign, types: Types) -> Replacement:
    """``np.broadcast_to(a, S)`` of an array ``a`` that already has the shape ``S`` is ``a``
    (``S`` fits into ``a``'s shape, and ``a`` broadcasts to ``S``: they are equal)."""
    if stmt.params:
        return None
    a, target = stmt.args
    va = types.of(a)
    if va.kind is not Kind.ARRAY or not same_type(va, types.of(stmt.target)):
        return None
    shape = shape_of(target, types)
    if shape is None or va.shape is None or len(shape) != len(va.shape):
        return None
    return a if fits(shape, va.shape) else None


def copy(stmt: Assign, types: Types) -> Replacement:
    """``np.copy(np.broadcast_to(c, np.shape(x)))``, a scalar ``c`` repeated into a new
    array, is ``np.full_like(x, c)`` (``np.ones_like(x)``, ``np.zeros_like(x)``) when ``x``'s
    dtype is the one the copy has."""
    if stmt.params:
        return None
    seen = view(stmt.args[0], types)
    if seen is None or seen.like is None or not types.of(seen.value).is_scalar:
        return None
    made = types.definition(stmt.args[0])
    if made is None or made.prim is not P.np_broadcast_to:
        return None
    key = value_key(seen.value)
    if key in (value_key(Const(1.0)), value_key(Const(0.0))):  # not -0.0
        prim = P.np_ones_like if key == value_key(Const(1.0)) else P.np_zeros_like
        new = Assign(stmt.target, prim, (seen.like,), (), stmt.loc)
    else:
        new = Assign(stmt.target, P.np_full_like, (seen.like, seen.value), (), stmt.loc)
    try:
        value = evaluate(new, tuple(types.of(a) for a in new.args))
    except ShapeError:
        return None
    target = types.of(stmt.target)
    return (new,) if same_type(value, target) and value.dtype == target.dtype else None


def full_like(stmt: Assign, types: Types) -> Replacement:
    """``np.full_like(x, 1.0)`` is ``np.ones_like(x)`` and ``np.full_like(x, 0.0)`` is
    ``np.zeros_like(x)``: 0 and 1 are exact in every dtype, so the fill converts alike."""
    if stmt.params or len(stmt.args) != 2:
        return None
    x, fill = stmt.args
    if types.of(x).kind is not Kind.ARRAY:
        return None
    key = value_key(fill)
    if key == value_key(Const(1.0)):
        return (Assign(stmt.target, P.np_ones_like, (x,), (), stmt.loc),)
    if key == value_key(Const(0.0)):  # not -0.0, which np.zeros_like does not write
        return (Assign(stmt.target, P.np_zeros_like, (x,), (), stmt.loc),)
    return None


def sum_of_repeat(stmt: Assign, types: Types) -> Replacement:
    """``np.sum`` over every axis of a float64 scalar ``c`` repeated to ``x``'s shape is
    ``np.float64(c) * x.size`` (``np.float64(c)`` for one element): the product rounds once
    where the sum of the copies rounds up to log2(n) times, so it is never less accurate."""
    if not _all_axes(stmt, types.of(stmt.args[0]).rank):
        return None
    seen = view(stmt.args[0], types)
    if seen is None or seen.shape is None:
        return None
    value, target = types.of(seen.value), types.of(stmt.target)
    if types.of(stmt.args[0]).dtype != np.float64 or scalar_dtype(value) != np.float64:
        return None
    if target.kind is not Kind.NP_SCALAR or target.dtype != np.float64:
        return None
    if all(d == 1 for d in seen.shape):
        return (Assign(stmt.target, P.np_float64, (seen.value,), (), stmt.loc),)
    if seen.like is None or types.of(seen.like).kind is not Kind.ARRAY:
        return None
    strong, size = types.fresh(), types.fresh()
    return (
        Assign(strong, P.np_float64, (seen.value,), (), stmt.loc),
        Assign(size, P.size_attr, (seen.like,), (), stmt.loc),
        Assign(stmt.target, P.mul, (strong, size), (), stmt.loc),
    )


def _all_axes(stmt: Assign, rank: int | None) -> bool:
    """A sum over every axis, to a scalar: no parameters, or an axis tuple naming each."""
    params = dict(stmt.params)
    if not params:
        return True
    axis = params.pop("axis", None)
    if params or rank is None:
        return False
    axes = axis if isinstance(axis, tuple) else (axis,)
    return all(isinstance(a, int) for a in axes) and sorted(a % rank for a in axes) == list(
        range(rank)
    )


REWRITES: dict[Primitive, Rewrite] = {
    P.np_sum: sum_of_repeat,
    P.np_full_like: full_like,
    P.unbroadcast: unbroadcast,
    P.np_zeros_like: zeros_like,
    P.np_broadcast_to: broadcast_to,
    P.np_copy: copy,
}
