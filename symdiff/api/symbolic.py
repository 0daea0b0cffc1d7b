"""Symbolic views: a function and its partial derivatives as SymPy expressions.

``symbolic(f)`` reads ``f`` the way ``grad`` does (source → lower → IR) and translates the
IR statement by statement, so the formula shown is the one symdiff differentiates, inlined
helpers and named constants included. The partial derivatives come from ``sympy.diff``: an
independent derivation, handy for teaching and for cross-checking the generated code.

The translation of primitives to SymPy is ``optimize.sympy_tables``, which ``simplify``
shares, so that both agree on what a primitive means.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from ..errors import Loc, UnsupportedFunctionError, UnsupportedSyntaxError
from ..frontend.source import get_source
from ..ir import primitives as P
from ..ir.nodes import Assign, Atom, Effect, Form, Var
from ..optimize.sympy_tables import number, tables
from ..pipeline import lower_source
from .wrt import resolve_wrt

if TYPE_CHECKING:
    import sympy as sp

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

    src = get_source(f)
    fn, _ = lower_source(src)
    names = [p.name for p in fn.params]
    if wrt is None:
        positions = tuple(range(len(names)))
    else:
        positions, _ = resolve_wrt(names, wrt, f)
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
        if stmt.prim.effect is Effect.OUTPUT or stmt.prim.form is Form.FSTRING:
            continue  # print(...), assert and the f-strings they show change no value
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
