"""The translation between symdiff's elementwise primitives and SymPy, shared by two users.

``optimize.simplify`` rewrites smooth regions of a program with SymPy and writes them back;
``api.symbolic`` shows a function as a formula. Both read the tables here, so they agree on
what a primitive means. Non-smooth primitives (``abs``, ``maximum``, comparisons,
``where``...) are in the view table only: ``simplify`` must never let SymPy rewrite them.
Living in ``optimize``, the tables keep the optimizer independent of the public API.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any, Callable

from ..ir import primitives as P
from ..ir.nodes import Primitive

if TYPE_CHECKING:
    import sympy as sp

Builder = Callable[..., Any]


@dataclass(frozen=True)
class Tables:
    """The translation tables; built on first use, so ``import symdiff`` does not load SymPy.

    ``smooth``: the smooth elementwise primitives and their SymPy meaning (what simplify
    may rewrite). ``functions``: SymPy function -> {"np": primitive, "math": primitive},
    how simplify writes a function back. ``view``: ``smooth`` plus the primitives a
    symbolic view may show, whose derivatives at kinks follow SymPy's conventions.
    """

    smooth: dict[Primitive, Builder]
    functions: dict[Any, dict[str, Primitive]]
    sqrt: dict[str, Primitive]
    view: dict[Primitive, Builder]
    relations: dict[Primitive, Any]


@functools.cache
def tables() -> Tables:
    import sympy as sp
    from sympy.codegen.cfunctions import expm1, log1p, log2, log10

    # (SymPy function, NumPy spelling, math spelling): one row per elementary function.
    rows: tuple[tuple[Any, str | None, str | None], ...] = (
        (sp.exp, "exp", "exp"),
        (sp.log, "log", "log"),
        (sp.sin, "sin", "sin"),
        (sp.cos, "cos", "cos"),
        (sp.tan, "tan", "tan"),
        (sp.tanh, "tanh", "tanh"),
        (sp.sinh, "sinh", "sinh"),
        (sp.cosh, "cosh", "cosh"),
        (sp.atan, "arctan", "atan"),
        (sp.asin, "arcsin", "asin"),
        (sp.acos, "arccos", "acos"),
        (sp.asinh, "arcsinh", "asinh"),
        (sp.acosh, "arccosh", "acosh"),
        (sp.atanh, "arctanh", "atanh"),
        (sp.erf, None, "erf"),
        # the C99 functions stay themselves: SymPy knows their derivatives but does not
        # expand them, so simplification cannot trade log1p(x) for the worse log(1 + x)
        (log1p, "log1p", "log1p"),
        (expm1, "expm1", "expm1"),
        (log2, "log2", "log2"),
        (log10, "log10", "log10"),
    )
    smooth: dict[Primitive, Builder] = {
        P.add: lambda a, b: a + b,
        P.np_add: lambda a, b: a + b,
        P.sub: lambda a, b: a - b,
        P.np_subtract: lambda a, b: a - b,
        P.mul: lambda a, b: a * b,
        P.np_multiply: lambda a, b: a * b,
        P.div: lambda a, b: a / b,
        P.np_divide: lambda a, b: a / b,
        P.pow: lambda a, b: a**b,
        P.neg: lambda a: -a,
        P.np_negative: lambda a: -a,
        P.pos: lambda a: a,
        P.np_square: lambda a: a**2,
        P.np_sqrt: sp.sqrt,
        P.m_sqrt: sp.sqrt,
    }
    functions: dict[Any, dict[str, Primitive]] = {}
    for func, np_name, math_name in rows:
        entry: dict[str, Primitive] = {}
        for fam, name in (("np", np_name), ("math", math_name)):
            prim = P.ALL.get(f"{fam}.{name}") if name else None
            if prim is not None:
                entry[fam] = prim
                smooth[prim] = func
        functions[func] = entry
    view: dict[Primitive, Builder] = {
        **smooth,
        P.np_power: lambda a, b: a**b,
        P.m_pow: lambda a, b: a**b,
        P.np_reciprocal: lambda a: 1 / a,
        P.b_abs: sp.Abs,
        P.np_abs: sp.Abs,
        P.m_fabs: sp.Abs,
        P.np_maximum: sp.Max,
        P.b_max: sp.Max,
        P.np_minimum: sp.Min,
        P.b_min: sp.Min,
        P.np_sign: sp.sign,
        P.m_hypot: lambda a, b: sp.sqrt(a**2 + b**2),
        P.m_atan2: sp.atan2,
        P.np_clip: lambda x, lo, hi: sp.Min(sp.Max(x, lo), hi),
        P.b_float: lambda a: a,
    }
    relations = {P.lt: sp.Lt, P.le: sp.Le, P.gt: sp.Gt, P.ge: sp.Ge, P.eq: sp.Eq, P.ne: sp.Ne}
    sqrt = {"np": P.np_sqrt, "math": P.m_sqrt}
    return Tables(smooth, functions, sqrt, view, relations)


def family(prim: Primitive) -> str | None:
    """``"np"`` or ``"math"`` for a function primitive, None for an operator."""
    return prim.family


def number(value: Any) -> sp.Expr | None:
    """A real Python/NumPy number as an exact SymPy number, or None.

    Floats go through their shortest repr, so ``0.01`` is 1/100 and converts back to the same
    float; booleans, infinities and NaN are not numbers here.
    """
    import sympy as sp

    if isinstance(value, (bool, complex)) or not isinstance(value, Real):
        return None
    if isinstance(value, Integral):
        return sp.Integer(int(value))
    v = float(value)
    if not math.isfinite(v):
        return None
    return sp.Rational(repr(v))
