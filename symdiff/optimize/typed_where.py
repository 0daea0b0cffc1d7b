"""Typed rewrites of the adjoints of ``np.where``: one choice where the rules write two.

The rule for ``np.where(c, a, b)`` hands ``np.where(c, g, 0.0)`` to ``a`` and
``np.where(c, 0.0, g)`` to ``b``; when ``a`` and ``b`` are one variable (leaky ReLU's
``np.where(z > 0, z, ALPHA * z)``) its adjoint is their sum, which is one choice:
``np.where(c, a, 0) + np.where(c, 0, b)`` is ``np.where(c, a, b)`` (each element adds a
zero, which changes nothing but a zero's sign). A constant factor of a choice between
constants is folded into them (``np.where(c, 0.0, 1.0) * ALPHA`` is
``np.where(c, 0.0, ALPHA)``), so that the two choices meet. Both keep their target's type
exactly, as every typed rewrite does.
"""

from __future__ import annotations

import math

from ..ir import primitives as P
from ..ir.nodes import Assign, Atom, Primitive
from .typed import Replacement, Rewrite, Types, number
from .typed_elementwise import folded, keeps_type, with_operation


def _choice(atom: Atom, types: Types) -> Assign | None:
    made = types.definition(atom)
    if made is None or made.prim is not P.np_where or made.params or len(made.args) != 3:
        return None
    return made


def _zero(atom: Atom) -> bool:
    return number(atom) == 0.0


def where_sum(stmt: Assign, types: Types) -> Replacement:
    """``np.where(c, a, 0) + np.where(c, 0, b)``, either way round, is ``np.where(c, a, b)``."""
    if stmt.prim is not P.add:
        return None
    first, second = (_choice(a, types) for a in stmt.args)
    if first is None or second is None or first.args[0] != second.args[0]:
        return None
    cond = first.args[0]
    for one, other in ((first, second), (second, first)):
        if _zero(one.args[2]) and _zero(other.args[1]):
            new = with_operation(stmt, P.np_where, (cond, one.args[1], other.args[2]))
            if keeps_type(new, stmt, types):
                return (new,)
    return None


def where_scaled(stmt: Assign, types: Types) -> Replacement:
    """A choice between constants times, over or negated by a constant is a choice between
    the folded constants: ``np.where(c, 0.0, 1.0) * k`` is ``np.where(c, 0.0 * k, k)``."""
    prim, args = stmt.prim, stmt.args
    if prim is P.neg:
        made, scale = _choice(args[0], types), None
    elif prim is P.mul or prim is P.div:
        made, scale = _choice(args[0], types), args[1]
        if made is None and prim is P.mul:
            made, scale = _choice(args[1], types), args[0]
    else:
        return None
    dtype = types.of(stmt.target).dtype
    if made is None or dtype is None or dtype.kind != "f":
        return None  # Python integers do not wrap as the array's integers do
    cond, x, y = made.args
    if scale is None:
        fx, fy = folded(P.neg, (x,)), folded(P.neg, (y,))
    elif number(scale) is not None and math.isfinite(number(scale) or 0.0):
        fx, fy = folded(prim, (x, scale)), folded(prim, (y, scale))
    else:
        return None
    if fx is None or fy is None:
        return None
    new = with_operation(stmt, P.np_where, (cond, fx, fy))
    return (new,) if keeps_type(new, stmt, types) else None


REWRITES: dict[Primitive, Rewrite] = {
    P.add: where_sum,
    P.mul: where_scaled,
    P.div: where_scaled,
    P.neg: where_scaled,
}
