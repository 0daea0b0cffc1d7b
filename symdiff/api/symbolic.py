"""Symbolic views: a function and its partial derivatives as SymPy expressions.

``symbolic(f)`` reads ``f`` the way ``grad`` does (source → lower → IR) and translates the
IR statement by statement, so the formula shown is the one symdiff differentiates, inlined
helpers and named constants included. The partial derivatives come from ``sympy.diff``: an
independent derivation, handy for teaching and for cross-checking the generated code.

The module also holds the translation table between symdiff's smooth elementwise
primitives and SymPy, which ``simplify`` shares, so that both agree on what a primitive
means. Non-smooth primitives (``abs``, ``maximum``, comparisons, ``where``...) are in the
view table only: ``simplify`` must never let SymPy rewrite them.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any, Callable

from ..errors import Loc, UnsupportedFunctionError, UnsupportedSyntaxError
from ..ir import primitives as P
from ..ir.nodes import Assign, Atom, Primitive, Var

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


# ----------------------------------------------------------------------------- the view

_NAMED = {"pi": "pi", "e": "E", "inf": "oo"}


@dataclass(frozen=True)
class Symbolic:
    """A function's formula and its partial derivatives (``grads``: parameter name → expr).

    Named module constants appear as symbols; ``constants`` maps them to their values
    (``expr.subs(view.constants)`` gives the numeric formula).
    """

    name: str
    params: tuple[sp.Symbol, ...]
    value: sp.Expr
    grads: dict[str, sp.Expr]
    constants: dict[sp.Symbol, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        args = ", ".join(map(str, self.params))
        lines = [f"{self.name}({args}) = {self.value}"]
        lines += [f"d{self.name}/d{x} = {g}" for x, g in self.grads.items()]
        return "\n".join(lines)

    def _repr_latex_(self) -> str:
        import sympy as sp

        name = r"\operatorname{" + self.name.replace("_", r"\_") + "}"
        args = ", ".join(sp.latex(p) for p in self.params)
        rows = [f"{name}({args}) &= {sp.latex(self.value)}"]
        for x, g in self.grads.items():
            wrt = sp.latex(sp.Symbol(x))
            rows.append(rf"\frac{{\partial {name}}}{{\partial {wrt}}} &= {sp.latex(g)}")
        return r"$\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}$"


def symbolic(f: Callable[..., Any], wrt: int | str | tuple | list | None = None) -> Symbolic:
    """SymPy expressions of ``f`` and of its partial derivatives with respect to ``wrt``.

    ``wrt`` is a position, a name or a sequence of them (default: every parameter). Only
    straight-line elementwise code has a formula; anything else raises a ``SymdiffError``.
    """
    import sympy as sp

    from ..frontend.lower import lower
    from ..frontend.source import get_source
    from .grad import _resolve_wrt

    src = get_source(f)
    fn, _ = lower(src, reserved=set())
    names = [p.name for p in fn.params]
    if wrt is None:
        positions = tuple(range(len(names)))
    else:
        positions, _ = _resolve_wrt(names, wrt, f)
    symbols = {p: sp.Symbol(p.name, real=True) for p in fn.params}
    env: dict[Var, sp.Expr] = dict(symbols)
    relations: dict[Var, Any] = {}
    constants: dict[sp.Symbol, Any] = {}

    def atom(a: Atom, loc: Loc | None) -> sp.Expr:
        if isinstance(a, Var):
            return env[a]
        if a.name is not None:
            short = a.name.split(".")[-1]
            if a.name.split(".")[0] in ("math", "np") and short in _NAMED:
                return getattr(sp, _NAMED[short])
            if number(a.value) is None:
                raise UnsupportedFunctionError(
                    f"symbolic views need scalar constants, and `{a.name}` is not one", loc
                )
            sym = sp.Symbol(a.name, real=True)
            constants[sym] = a.value
            return sym
        n = number(a.value)
        if n is None:
            raise UnsupportedFunctionError(
                f"symbolic views need numeric constants, not {a.value!r}", loc
            )
        return n

    for stmt in fn.body:
        if not isinstance(stmt, Assign):
            raise UnsupportedSyntaxError(
                f"symbolic views cover straight-line code, and {fn.name} has control flow",
                getattr(stmt, "loc", None),
                "write the branch with np.where, or use symdiff.grad, which handles it",
            )
        args = [atom(a, stmt.loc) for a in stmt.args]
        env[stmt.target] = _view(stmt, args, relations)
    value = atom(fn.result, fn.loc)
    grads = {names[i]: sp.diff(value, symbols[fn.params[i]]) for i in positions}
    params = tuple(symbols[p] for p in fn.params)
    return Symbolic(fn.name, params, value, grads, constants)


def _view(stmt: Assign, args: list[sp.Expr], relations: dict[Var, Any]) -> sp.Expr:
    """One statement as SymPy; comparisons become 0/1 indicators (and ``where`` conditions)."""
    import sympy as sp

    t = tables()
    prim = stmt.prim
    try:
        if prim in t.relations:
            rel = t.relations[prim](*args)
            relations[stmt.target] = rel
            return sp.Piecewise((1, rel), (0, True))
        if prim is P.np_where:
            c, a, b = args
            cond = relations.get(stmt.args[0]) if isinstance(stmt.args[0], Var) else None
            return sp.Piecewise((a, cond if cond is not None else sp.Ne(c, 0)), (b, True))
        build = t.view.get(prim)
        if build is not None and not stmt.params:
            return build(*args)
    except (TypeError, ValueError) as exc:
        raise UnsupportedFunctionError(
            f"`{prim.name}` has no symbolic form here ({exc})", stmt.loc
        ) from None
    raise UnsupportedFunctionError(
        f"symbolic views cover elementwise functions of scalars, and `{prim.name}` is not one",
        stmt.loc,
        "matrix products, reductions and indexing have no scalar formula; "
        "use symdiff.grad for them",
    )
