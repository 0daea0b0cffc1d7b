"""Adjoints zeroed by a selection stay zero: 0 * inf = 0 in a gradient.

``np.where(x > 0, np.log(x), 0.0)`` evaluates log everywhere; where x <= 0 the unselected
value is -inf or NaN and its adjoint is 0, but log's rule ``g / x`` then gives 0 / 0 = NaN,
which the sum of contributions spreads to the whole gradient. Downstream of a selection
(where, maximum/minimum, clip), the contributions of an elementwise rule with non-constant
partial derivatives are written ``where(g == 0, 0, contribution)``: an adjoint that is
exactly zero contributes exactly zero. Elsewhere rules are left as they are: the guard
costs a pass. ``rules`` wraps the rows this applies to when it builds its table.
"""

from __future__ import annotations

import math
from typing import Callable

from ..ir import primitives as P
from ..ir.nodes import Const, Primitive
from .builder import Sym

Rule = Callable[..., tuple]

_SELECTIONS = frozenset({P.np_where, P.np_maximum, P.np_minimum, P.np_fmax, P.np_fmin})
_SELECTIONS |= frozenset({P.np_clip, P.b_max, P.b_min})
_INDICATORS = frozenset({P.gt, P.lt, P.ge, P.le, P.eq, P.ne})
_CASTS = frozenset(p for p in (P.np_asarray, getattr(P, "as_float", None)) if p is not None)


def _indicator(F, a, depth: int = 0) -> bool:
    """``a`` is 0/1-valued by construction (a comparison, or arithmetic of comparisons)."""
    made = F.defining(a)
    if made is None or depth > 4:
        return False
    if made.prim in _INDICATORS:
        return True
    return made.prim in (P.add, P.sub, P.mul) and all(
        isinstance(b, Const) or _indicator(F, b, depth + 1) for b in made.args
    )


def _selected(F, a, depth: int = 0) -> bool:
    """``a`` (an adjoint) may be zero where a selection left its primal out."""
    made = F.defining(a)
    if made is None or depth > 8:
        return False
    if made.prim is P.np_where:
        return True
    if (made.prim is P.mul or made.prim in _CASTS) and any(_indicator(F, b) for b in made.args):
        return True  # g * (a > b), or the indicator alone as floats when g is 1
    if made.prim in (
        P.mul,
        P.div,
        P.add,
        P.sub,
        P.neg,
        P.pos,
        P.unbroadcast,
        P.sum_to,
        P.np_broadcast_to,
    ):
        return any(_selected(F, b, depth + 1) for b in made.args)
    return False


def _finite_const(a) -> bool:
    v = a.atom if isinstance(a, Sym) else a
    return isinstance(v, Const) and isinstance(v.value, (int, float)) and math.isfinite(v.value)


def guard(rule: Rule, prim: Primitive) -> Rule:
    """``rule`` with its contributions zeroed where a selection zeroed the adjoint."""

    def guarded(F, g, y, *xs, **params):
        parts = rule(F, g, y, *xs, **params)
        if not _selected(F, g.atom):
            return parts
        if (prim is P.mul and any(map(_finite_const, xs))) or (
            prim is P.div and _finite_const(xs[1])
        ):
            return parts  # g * c and g / c are zero where g is: no guard needed
        zero = F.eq(g, 0.0)
        return tuple(None if p is None else F.where(zero, 0.0, p) for p in parts)

    guarded.__doc__ = rule.__doc__
    return guarded


def needs_guard(prim: Primitive) -> bool:
    """The rows the guard applies to: elementwise and not linear (a linear rule passes a
    zero on as a zero), not a selection itself, and not a ``math`` function."""
    return (
        prim.elementwise and not prim.linear and prim not in _SELECTIONS and prim.family != "math"
    )
