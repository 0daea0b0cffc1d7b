"""SymPy expressions back to IR statements.

Identical subexpressions are built once, operands are put in the order people write them
(adjoints first, then forward values, then compound factors: ``d_a * a * (1 - a)``),
signs are moved into sums where they cost nothing, and every function gets the spelling
(``np`` or ``math``) the code used. What has no faithful IR form raises ``Unconvertible``.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from ..ir import primitives as P
from ..ir.nodes import Assign, Atom, Const, Primitive, Var
from .context import FUNCTION_PRIMS, SQRT_PRIMS, Context


class Unconvertible(Exception):
    """A SymPy expression with no faithful IR form (an unknown function, ``pi``, ``I``...)."""


class Lowering:
    """SymPy back to IR statements, sharing identical subexpressions; operands are ordered
    adjoints first, then forward values, then compound factors (``d_a * a * (1 - a)``)."""

    def __init__(self, owner: Context, loc: Any):
        self.o = owner
        self.loc = loc
        self.stmts: list[Assign] = []
        self.memo: dict[sp.Expr, Atom] = {}
        self.keys: dict[tuple, Var] = {}
        self.shared: dict[sp.Symbol, sp.Expr] = {}  # common subexpressions found by sympy.cse

    def apply(self, prim: Primitive, *args: Atom, target: Var | None = None) -> Atom:
        key = (prim, args)
        if key in self.keys:
            if target is not None:
                raise Unconvertible("an output equal to another value")
            return self.keys[key]
        v = target or self.o.fresh()
        self.stmts.append(Assign(v, prim, args, (), self.loc))
        self.keys[key] = v
        return v

    def output(self, e: sp.Expr, target: Var) -> bool:
        """Build ``e`` into ``target``; False when it is a bare value (nothing to assign)."""
        if e in self.memo or e.is_Atom:
            return False
        n = len(self.stmts)
        try:
            atom = self._node(e, target)
        except Unconvertible:
            return False
        if atom != target or len(self.stmts) == n:
            return False
        self.memo[e] = target
        return True

    def build(self, e: sp.Expr) -> Atom:
        got = self.memo.get(e)
        if got is None:
            got = self._node(e, None)
            self.memo[e] = got
        return got

    def const(self, n: sp.Expr, exponent: bool = False) -> Const:
        if n.is_Integer and (exponent or not self.o.float_consts):
            return Const(int(n))
        if n.is_Rational or n.is_Float:
            return Const(float(n))
        raise Unconvertible(str(n))

    def order(self, e: sp.Expr) -> tuple:
        if e.is_Symbol:
            a = self.o.atoms.get(e)
            rank = self.o.order.get(a, (3, 0)) if isinstance(a, Var) else (3, 0)
            return (0, rank, str(e))
        if e.is_Number:
            return (-1, (0, 0), "")
        return (1, (0, 0), "")  # compound factors keep SymPy's order (the sort is stable)

    def _node(self, e: sp.Expr, target: Var | None) -> Atom:
        if e.is_Symbol:
            if e in self.memo:
                return self.memo[e]
            if e in self.shared:
                self.memo[e] = atom = self.build(self.shared.pop(e))
                return atom
            return self.o.atoms[e]
        if e.is_Number:
            return self.const(e)
        if e.is_Add:
            return self._add(e, target)
        if e.is_Mul:
            return self._mul(e, target)
        if e.is_Pow:
            return self._pow(e, target)
        prims = FUNCTION_PRIMS.get(e.func)
        fam = self._family(self.o.families.get(e.func), e.args[0] if e.args else e)
        if prims and fam in prims and len(e.args) == 1:
            return self.apply(prims[fam], self.build(e.args[0]), target=target)
        raise Unconvertible(str(e.func))

    def _family(self, fam: str | None, arg: sp.Expr) -> str | None:
        """``math`` only for an argument known to be a scalar: one built from values the
        code passed to or got from ``math`` functions. An array gets the NumPy function."""
        if fam != "math":
            return fam
        scalars = self.o.math_scalars()
        known = all(
            isinstance(self.o.atoms.get(s), Const) or self.o.atoms.get(s) in scalars
            for s in arg.free_symbols
        )
        return "math" if known else "np"

    def _add(self, e: sp.Expr, target: Var | None) -> Atom:
        const, pos, neg = None, [], []
        for t in e.args:
            if t.is_Number:
                const = t
            elif t.as_coeff_Mul()[0].is_negative:
                neg.append(-t)
            else:
                pos.append(t)
        pos.sort(key=self.order)
        neg.sort(key=self.order)
        if not pos and const is None:
            return self.apply(P.neg, self._sum(neg), target=target)
        terms: list[tuple[bool, Any]] = []
        if const is not None:
            terms.append((True, self.const(const)))
        terms += [(True, t) for t in pos] + [(False, t) for t in neg]
        acc = self._atom(terms[0][1])
        for i, (plus, t) in enumerate(terms[1:], 2):
            last = target if i == len(terms) else None
            acc = self.apply(P.add if plus else P.sub, acc, self._atom(t), target=last)
        return acc

    def _sum(self, terms: list) -> Atom:
        acc = self.build(terms[0])
        for t in terms[1:]:
            acc = self.apply(P.add, acc, self.build(t))
        return acc

    def _atom(self, x: Any) -> Atom:
        return x if isinstance(x, (Var, Const)) else self.build(x)

    def _mul(self, e: sp.Expr, target: Var | None) -> Atom:
        c, factors = e.as_coeff_mul()
        num, den = [], []
        for f in factors:
            if f.is_Pow and f.exp.is_Number and f.exp.is_negative:
                den.append(f.base ** (-f.exp))
            else:
                num.append(f)
        if c.is_negative:  # -(a - 1) * x is (1 - a) * x: the sign costs nothing
            for group in (num, den):
                i = next((i for i, f in enumerate(group) if f.is_Add), None)
                if i is not None:
                    group[i] = -group[i]
                    c = -c
                    break
        num.sort(key=self.order)
        den.sort(key=self.order)
        negate = c == -1
        coeff = None if c in (1, -1) else self.const(c)
        if not num:  # 1 / x, -1 / x, 2.5 / x
            top: Atom = Const(-1.0 if negate else 1.0) if coeff is None else coeff
            negate = False
        else:
            top = coeff if coeff is not None else self.build(num[0])
            rest = num if coeff is not None else num[1:]
            for i, f in enumerate(rest, 1):
                last = target if (i == len(rest) and not den and not negate) else None
                top = self.apply(P.mul, top, self.build(f), target=last)
        if den:
            bottom = self.build(den[0])
            for f in den[1:]:
                bottom = self.apply(P.mul, bottom, self.build(f))
            top = self.apply(P.div, top, bottom, target=None if negate else target)
        if negate:
            top = self.apply(P.neg, top, target=target)
        return top

    def _pow(self, e: sp.Expr, target: Var | None) -> Atom:
        b, x = e.base, e.exp
        if b == sp.E:
            return self._node(sp.exp(x, evaluate=False), target)
        if x.is_Integer:
            if x > 0:
                return self.apply(P.pow, self.build(b), self.const(x, True), target=target)
            inner = self.build(b) if x == -1 else self.build(b ** (-x))
            return self.apply(P.div, Const(1.0), inner, target=target)
        if abs(x) == sp.Rational(1, 2) and "sqrt" in self.o.families:
            sqrt = SQRT_PRIMS[str(self._family(self.o.families["sqrt"], b))]
            if x > 0:
                return self.apply(sqrt, self.build(b), target=target)
            return self.apply(P.div, Const(1.0), self.apply(sqrt, self.build(b)), target=target)
        if x.is_Rational:
            return self.apply(P.pow, self.build(b), self.const(x, True), target=target)
        return self.apply(P.pow, self.build(b), self.build(x), target=target)


def tree_size(e: sp.Expr, limit: int) -> int:
    """Nodes of ``e`` as a tree, counting stops past ``limit``: budgets compare against it,
    and a huge expression must not cost a full traversal to be found too big."""
    n = 0
    for _ in sp.preorder_traversal(e):
        n += 1
        if n > limit:
            break
    return n
