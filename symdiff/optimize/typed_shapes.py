"""Typed rewrites of shape reads: ``np.shape``, ``np.size``, ``np.ndim``, ``len`` and
``np.broadcast_shapes`` (and forward mode's rank check, ``scalar_seed``) answered from the types where they fix the answer.

The rules ask for shapes at run time because, written for every argument at once, they
cannot know them: the mean's adjoint divides by ``np.size(x)``, a lazy adjoint is broadcast
to ``np.broadcast_shapes(np.shape(a), np.shape(b))``. The abstract values know the rank of
every array and which of its axes are 1, so some of these answers are constants (the shape of
a scalar is ``()``, the rank of a matrix 2, the length of a unit axis 1) and the rest can at
least be read from a value that is there anyway: ``np.size(y * np.log(p))`` is
``np.size(y)`` when ``y`` already has the broadcast shape, and the broadcast of shapes one of
which every other fits into is that one. Reading an argument's shape rather than a computed
value's keeps the emitter from computing the value, or its shape, for nothing.
"""

from __future__ import annotations

import math

from ..abstract.values import Dim, Kind, ShapeError, broadcast_shapes
from ..ir import primitives as P
from ..ir.nodes import Assign, Atom, Const, Primitive, Var
from .typed import Replacement, Rewrite, Types, covering, fits

SHAPE_OF = (P.np_shape, P.shape_attr)  # x.shape and np.shape(x): the same tuple


def shape_of(atom: Atom, types: Types) -> tuple[Dim, ...] | None:
    """The shape a shape tuple ``atom`` stands for: a constant, ``np.shape(x)`` (``x``'s
    abstract shape) or a broadcast of such; None when it is not known."""
    if isinstance(atom, Const):
        v = atom.value
        if isinstance(v, tuple) and all(type(n) is int for n in v):
            return v
        return None
    stmt = types.definition(atom)
    if stmt is None or stmt.params:
        return None
    if stmt.prim in SHAPE_OF and len(stmt.args) == 1:
        x = types.of(stmt.args[0])
        return x.shape if x.is_numeric else None
    if stmt.prim is P.np_broadcast_shapes:
        parts = [shape_of(a, types) for a in stmt.args]
        try:
            return broadcast_shapes(parts)
        except ShapeError:
            return None
    return None


def exact(shape: tuple[Dim, ...] | None) -> tuple[int, ...] | None:
    """``shape`` when every length in it is known (a scalar's ``()``, unit axes)."""
    if shape is None:
        return None
    known = tuple(d for d in shape if isinstance(d, int))
    return known if len(known) == len(shape) else None


def shape_source(x: Atom, types: Types) -> Atom:
    """An atom certainly of ``x``'s shape, as early in the program as the types show.

    When ``x`` is made by a broadcasting operation, each operand every other one fits into
    has the result's shape, and so on back. The first variable found that no statement
    defines (a parameter, a value read back from a tape) is taken, since it is there
    anyway; failing that, the furthest found along the first operands. Every operand of a
    definition is in scope wherever the value it defines is, so any of them may be read
    instead."""
    found: list[Var] = []
    frontier: list[Atom] = [x]
    while frontier:
        following: list[Atom] = []
        for v in frontier:
            if not isinstance(v, Var) or v in found:
                continue
            found.append(v)
            stmt = types.definition(v)
            if stmt is None:
                return v
            if broadcasts(stmt, types):
                shapes = [types.of(a).shape for a in stmt.args]
                following.extend(
                    a
                    for k, a in enumerate(stmt.args)
                    if all(fits(t, shapes[k]) for j, t in enumerate(shapes) if j != k)
                )
        frontier = following
    return found[-1] if found else x


def broadcasts(stmt: Assign, types: Types) -> bool:
    """``stmt``'s result has the broadcast shape of its arguments, all numbers or arrays."""
    prim = stmt.prim
    if not (prim.elementwise or prim in (P.neg, P.pos)) or not stmt.args:
        return False
    values = [types.of(a) for a in (*stmt.args, stmt.target)]
    return all(v.is_numeric and v.shape is not None for v in values)


def shape_read(stmt: Assign, types: Types) -> Replacement:
    """``np.shape(x)``: a constant when every length is known, else the shape of what
    ``x``'s shape comes from."""
    if len(stmt.args) != 1 or stmt.params:
        return None
    (x,) = stmt.args
    v = types.of(x)
    if not v.is_numeric:
        return None
    known = exact(v.shape)
    if known is not None:
        return Const(known)
    return _from_source(stmt, types)


def size_read(stmt: Assign, types: Types) -> Replacement:
    """``np.size(x)``: 1 for a scalar or an array of unit axes, else read from ``x``'s source."""
    if len(stmt.args) != 1 or stmt.params:
        return None
    v = types.of(stmt.args[0])
    if not v.is_numeric:
        return None
    known = exact(v.shape)
    if known is not None:
        return Const(math.prod(known))
    return _from_source(stmt, types)


def ndim_read(stmt: Assign, types: Types) -> Replacement:
    """``np.ndim(x)``: the rank, which the types always know for an array of known rank."""
    if len(stmt.args) != 1 or stmt.params:
        return None
    v = types.of(stmt.args[0])
    if not v.is_numeric or v.shape is None:
        return None
    return Const(len(v.shape))


def seed_read(stmt: Assign, types: Types) -> Replacement:
    """``scalar_seed(x)``: the tangent ``1.0`` of a scalar, whose rank the types know, so
    the check it makes at run time (``x`` has rank 0) is already answered."""
    v = types.of(stmt.args[0])
    if not v.is_numeric or v.shape != ():
        return None
    return Const(1.0)


def len_read(stmt: Assign, types: Types) -> Replacement:
    """``len(x)``: a tuple's length, or an array's first axis when it is a unit axis."""
    if len(stmt.args) != 1 or stmt.params:
        return None
    v = types.of(stmt.args[0])
    if v.kind is Kind.TUPLE and v.items is not None:
        return Const(len(v.items))
    if v.kind is not Kind.ARRAY or not v.shape:
        return None
    if isinstance(v.shape[0], int):
        return Const(int(v.shape[0]))
    return _from_source(stmt, types)


# the attribute a person reads off an array instead of calling the function
_ATTRIBUTE = {P.np_shape: P.shape_attr, P.np_size: P.size_attr, P.np_ndim: P.ndim_attr}


def _from_source(stmt: Assign, types: Types) -> Replacement:
    """The same read of the earliest atom of the same shape, as an attribute of an array
    (``y.size``, not ``np.size(y)``: the function also takes Python numbers, an array has
    the attribute)."""
    source = shape_source(stmt.args[0], types)
    prim = stmt.prim
    if types.of(source).kind is Kind.ARRAY:
        prim = _ATTRIBUTE.get(prim, prim)
    if source == stmt.args[0] and prim is stmt.prim:
        return None
    return (Assign(stmt.target, prim, (source,), stmt.params, stmt.loc),)


def broadcast_shapes_read(stmt: Assign, types: Types) -> Replacement:
    """``np.broadcast_shapes(s, ...)``: a constant when every length is known; else the
    one shape all others fit into, when there is one; else the same call without the
    shapes that cannot matter (a scalar's ``()``, a repeated one)."""
    if stmt.params:
        return None
    parts = [shape_of(a, types) for a in stmt.args]
    if any(p is None for p in parts):
        return None
    known = [exact(p) for p in parts]
    if all(k is not None for k in known):
        try:
            return Const(tuple(broadcast_shapes(known)))  # type: ignore[arg-type]
        except ShapeError:
            return None
    k = covering(parts)
    if k is not None:
        return stmt.args[k]
    kept: list[Atom] = []
    for a, p in zip(stmt.args, parts):
        if p != () and a not in kept:
            kept.append(a)
    if len(kept) == len(stmt.args):
        return None
    return (Assign(stmt.target, stmt.prim, tuple(kept), (), stmt.loc),)


REWRITES: dict[Primitive, Rewrite] = {
    **dict.fromkeys(SHAPE_OF, shape_read),
    P.np_size: size_read,
    P.size_attr: size_read,
    P.np_ndim: ndim_read,
    P.ndim_attr: ndim_read,
    P.b_len: len_read,
    P.scalar_seed: seed_read,
    P.np_broadcast_shapes: broadcast_shapes_read,
}
