"""Candidate rewrites of one output expression of a region, and their cost.

A few cheap candidates only: the expression as it is, with forward values inverted along
chains of constant steps (with ``a = 1/(1 + e)`` and ``e = exp(-z)``, ``e`` is ``1/a - 1``:
that is how σ(1 − σ) appears), and with forward definitions expanded; each goes through
``factor_terms``, ``cancel``/``factor`` (small expressions only) and substitution of
forward values already computed. Never unbounded ``sympy.simplify``: every step checks
the region's deadline. The cost of a candidate is what it costs written as IR.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from typing import Any, Iterable

import sympy as sp

from ..ir import primitives as P
from ..ir.nodes import Assign, Const, Primitive, Var
from .context import ADD, NEG, SMOOTH, Context, control_reads, walk
from .sympy_ir import Lowering, Unconvertible, tree_size
from .sympy_tables import number


class Candidates:
    """Rewrites of expressions over the atoms of ``c``; the inverse rules are the
    program's, computed once."""

    def __init__(self, c: Context):
        self.c = c
        self.rules = self._inverse_rules()
        self._patterns: dict[Var, sp.Expr] = {}
        self._expansion: dict[Var, tuple[sp.Expr, int]] = {}

    def best(self, e0: sp.Expr, want: frozenset, backward: bool) -> sp.Expr:
        """The cheapest faithful rewrite of one output expression (``e0`` if none is)."""
        best = e0
        best_key: tuple = self.key(e0) or (math.inf,)
        seen = {e0}

        def consider(e: sp.Expr) -> None:
            nonlocal best, best_key
            if e in seen or time.perf_counter() > self.c.deadline:
                return
            seen.add(e)
            if tree_size(e, self.c.budget.max_size) > self.c.budget.max_size:
                return
            if frozenset().union(*(self.c.base(self.c.atoms[s]) for s in e.free_symbols)) != want:
                return  # a variable cancelled: the broadcast shape could change
            key = self.key(e)
            if key is None or key > best_key:
                return
            if key < best_key or len(str(e)) < len(str(best)):  # ties: the shorter text
                best, best_key = e, key

        bases = [(e0, False)]
        if backward and self.c.fwd_defs:
            inv = self._invert(e0)
            if inv != e0:
                bases.append((inv, False))
            stepped = self._one_step(inv)  # 1 - p spelt out: cancels against p
            if stepped != inv:
                bases.append((stepped, False))
        expanded = self._expand(e0)
        if expanded != e0:
            bases.append((expanded, True))
        for b, expanded in bases:
            for e in self._strategies(b):
                consider(e)
                if backward:
                    consider(self._resubstitute(e, full=expanded))
        return best

    def _strategies(self, e: sp.Expr) -> Iterable[sp.Expr]:
        """The cheap rewrites: pulling out common factors, and for small expressions the
        rational normal form, factoring and a common denominator."""
        yield e
        yield from self._attempt(sp.factor_terms, e)
        if tree_size(e, self.c.budget.small) <= self.c.budget.small:
            for c in self._attempt(sp.cancel, e):
                yield c
                yield from self._attempt(sp.factor_terms, c)
            yield from self._attempt(sp.factor, e)
            yield from self._attempt(sp.together, e)

    def _attempt(self, step: Any, e: sp.Expr) -> Iterable[sp.Expr]:
        if time.perf_counter() > self.c.deadline:
            return
        try:
            out = step(e)
        except Exception:  # SymPy gives up on some inputs (PolynomialError...): skip the step
            return
        yield out

    def _invert(self, e: sp.Expr) -> sp.Expr:
        """``e`` with forward values rewritten through later ones along constant steps."""
        free = e.free_symbols
        for u, (inverse, reads) in self.rules.items():
            s = self.c.symbols.get(u)
            if s is not None and s in free:
                e = e.subs(s, inverse(self.c.sym(reads)))
                free = e.free_symbols
        return e

    def _inverse_rules(self) -> dict[Var, tuple[Any, Var]]:
        """u -> (inverse, v) for forward steps v = f(u, constant) that can be undone exactly.

        Only where ``v`` is ``u``'s one use in the forward sweep: a chain of such steps
        (``-z``, ``exp``, ``1 + e``, ``1 / t``) ends at a value the forward sweep uses more
        than once, which is the value worth writing the derivative in.
        """
        uses: Counter = Counter()
        for stmt in walk(self.c.prog.forward):
            reads = stmt.args if isinstance(stmt, Assign) else tuple(control_reads(stmt))
            uses.update(a for a in reads if isinstance(a, Var))
        rules: dict[Var, tuple[Any, Var]] = {}
        for s in self.c.prog.forward:
            if not isinstance(s, Assign) or s.target not in self.c.fwd_defs:
                continue
            vars_ = [a for a in s.args if isinstance(a, Var)]
            if len(vars_) != 1 or vars_[0] not in self.c.fwd_defs or uses[vars_[0]] != 1:
                continue
            u = vars_[0]
            ks = [number(a.value) for a in s.args if isinstance(a, Const) and a.name is None]
            if len(ks) != len(s.args) - 1 or any(k is None for k in ks):
                continue
            inv = _inverse(s.prim, s.args.index(u), ks[0] if ks else None)
            if inv is not None:
                rules[u] = (inv, s.target)
        return rules

    def _one_step(self, e: sp.Expr) -> sp.Expr:
        """``e`` with each forward value that is a constant plus or minus another value
        (``t4 = 1 - p``) written as that sum, so that it can cancel against the
        value it steps from."""
        reps = {}
        for s in e.free_symbols:
            a = self.c.atoms[s]
            d = self.c.fwd_defs.get(a) if isinstance(a, Var) else None
            if d is None or not self.c.in_backward or len(d.args) not in (1, 2):
                continue
            if sum(1 for x in d.args if isinstance(x, Var)) == 1 and d.prim in ADD:
                reps[s] = SMOOTH[d.prim](*map(self.c.sym, d.args))
        return e.xreplace(reps) if reps else e

    def _expand(self, e: sp.Expr) -> sp.Expr:
        """``e`` with forward definitions inlined, as far as the size limit allows."""
        reps = {}
        for s in e.free_symbols:
            a = self.c.atoms[s]
            if isinstance(a, Var) and self.c.visible(a):
                reps[s] = self._expanded(a)[0]
        return e.xreplace(reps) if reps else e

    def _expanded(self, v: Var) -> tuple[sp.Expr, int]:
        got = self._expansion.get(v)
        if got is None:
            d = self.c.all_defs.get(v)
            got = (self.c.sym(v), 1)
            if d is not None and (self.c.position[v][0] == 0 or v not in self.c.pinned):
                parts = [
                    self._expanded(a) if isinstance(a, Var) else (self.c.sym(a), 1) for a in d.args
                ]
                n = 1 + sum(k for _, k in parts)
                if n <= self.c.budget.max_size:
                    got = (SMOOTH[d.prim](*(x for x, _ in parts)), n)
            self._expansion[v] = got
        return got

    def _resubstitute(self, e: sp.Expr, full: bool) -> sp.Expr:
        """Replace subexpressions that forward values already hold by those values."""
        free = e.free_symbols
        for v in reversed(list(self.c.fwd_defs)):
            if time.perf_counter() > self.c.deadline:
                break
            if full:
                pattern = self._expanded(v)[0]
            else:
                pattern = self._patterns.get(v)
                if pattern is None:
                    d = self.c.fwd_defs[v]
                    pattern = self._patterns[v] = SMOOTH[d.prim](*map(self.c.sym, d.args))
            if pattern.is_Atom or not pattern.free_symbols <= free:
                continue
            e2 = _substitute(e, pattern, self.c.sym(v))
            if e2 != e:
                e = e2
                free = e.free_symbols
        return e

    # ------------------------------------------------------------------ costs

    def key(self, e: sp.Expr) -> tuple | None:
        """(operations, values read, powers) of ``e`` written as IR: fewer operations first,
        then fewer saved values kept alive for the backward sweep, then products over
        powers (the textbook ``a * (1 - a)`` over ``a - a**2``)."""
        try:
            low = Lowering(self.c, None)
            atom = low.build(e)
        except Unconvertible:
            return None
        if not low.stmts and isinstance(atom, Var):
            return (0, 1, 0)
        reads = {a for s in low.stmts for a in s.args if isinstance(a, Var)}
        reads -= {s.target for s in low.stmts}
        pows = sum(1 for s in low.stmts if s.prim is P.pow)
        return (len(low.stmts), len(reads), pows)


def _substitute(e: sp.Expr, p: sp.Expr, s: sp.Symbol) -> sp.Expr:
    """``e`` with ``p`` replaced by ``s``: whole subtrees, powers of ``p`` (``1/t**2`` is
    ``a**2`` when ``a = 1/t``) and parts of sums and products. A structural, fast subset of
    ``subs``, whose algebraic matching is far slower."""
    if p.is_Pow and p.exp.is_Number:
        base, n = p.base, p.exp
        e = e.replace(
            lambda x: x.is_Pow and x.base == base and (x.exp / n).is_Integer,
            lambda x: s ** (x.exp / n),
        )
        return e.xreplace({base: s ** (1 / n)}) if n == -1 else e
    if p.is_Add or p.is_Mul:
        e = _replace_part(e, p, s)
        return _replace_part(e, -p, -s) if p.is_Add else e  # a - 1 is -(1 - a)
    return e.xreplace({p: s})


def _replace_part(e: sp.Expr, p: sp.Expr, s: sp.Expr) -> sp.Expr:
    parts = set(p.args)
    return e.replace(
        lambda x: x.func is p.func and parts <= set(x.args),
        lambda x: p.func(s, *(a for a in x.args if a not in parts)),
    )


def _inverse(prim: Primitive, pos: int, k: sp.Expr | None) -> Any:
    """How to get ``u`` back from ``v = prim(..u..)`` (``u`` at ``pos``, ``k`` the constant)."""
    if prim in NEG:
        return lambda v: -v
    if k is None:
        return None
    if prim in (P.add, P.np_add):
        return lambda v: v - k
    if prim in (P.sub, P.np_subtract):
        return (lambda v: v + k) if pos == 0 else (lambda v: k - v)
    if k == 0:
        return None
    if prim in (P.mul, P.np_multiply):
        return lambda v: v / k
    if prim in (P.div, P.np_divide):
        return (lambda v: v * k) if pos == 0 else (lambda v: k / v)
    return None
