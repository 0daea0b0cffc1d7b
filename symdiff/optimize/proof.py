"""A rewritten region is an identity of real arithmetic: SymPy proves it before it is kept.

``verify`` evaluates old and new statements at random points, which catches a rewrite that
SymPy's assumptions make wrong for NumPy (a cancelled variable, an overflow); it cannot show
that the two agree everywhere. Here both versions of every output are written over the
same leaves, every smooth definition the program has expanded down to values that are not
smooth (inputs, reductions, matrix products, masks: independent real symbols), and the
difference must reduce to zero. A forward value a rewrite reads in place of another
(``a * (1 - a)`` for ``t * t * e`` in the sigmoid) is expanded on both sides, so the
relation between them is part of the proof and not an assumption of it.

The effort is bounded: expressions past ``Budget.proof_size`` nodes are not attempted, no
output is started after ``Budget.proof_seconds``, and
only normal forms of bounded cost are tried (``cancel``, the rational normal form, which
decides identities of rational functions of the leaves and of their ``exp``/``log``/...;
then the same after ``expand_log``, for ``log(exp(u) / s) = u - log(s)``). A region whose
rewrite is not proved this way stays as it was: the report says so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import sympy as sp

from ..ir.nodes import Assign, Var
from .context import SMOOTH, Context
from .sympy_ir import tree_size


@dataclass(frozen=True)
class Proof:
    """Whether one region's rewrite was proved, and how (``method``) or why not."""

    proved: bool
    method: str


def prove(c: Context, old: dict[Var, sp.Expr], new: list[Assign], outputs: list[Var]) -> Proof:
    """``new`` computes ``old[o]`` for every output ``o``, as real functions of the leaves."""
    made: dict[Var, sp.Expr] = {}
    for s in new:
        args = (made[a] if isinstance(a, Var) and a in made else c.sym(a) for a in s.args)
        made[s.target] = SMOOTH[s.prim](*args)
    expand = _Expander(c)
    diffs = []
    for o in outputs:
        d = expand(old[o]) - expand(made[o])
        if tree_size(d, c.budget.proof_size) > c.budget.proof_size:
            return Proof(False, "too large to prove within the budget")
        diffs.append(d)
    method = "cancel"
    deadline = time.perf_counter() + c.budget.proof_seconds  # its own: after the search's
    for d in diffs:
        if time.perf_counter() > deadline:
            return Proof(False, "over the proof's time budget")
        if _zero(sp.cancel(sp.together(d))):
            continue
        if _zero(sp.cancel(sp.together(sp.expand_log(d, force=True)))):
            # log(a * b) = log(a) + log(b) needs a, b > 0: where the new form is finite
            # they are (verify checks that it is finite wherever the old one is)
            method = "expand_log, cancel"
            continue
        return Proof(False, "SymPy could not reduce the difference to 0")
    return Proof(True, method)


class _Expander:
    """Expressions with every smooth definition of the program inlined (each symbol a real
    number: a NumPy float64 is one), memoised so both sides of an identity share them."""

    def __init__(self, c: Context):
        self.c = c
        self.memo: dict[sp.Symbol, sp.Expr] = {}

    def __call__(self, e: sp.Expr) -> sp.Expr:
        return e.xreplace({s: self.leaf(s) for s in e.free_symbols})

    def leaf(self, s: sp.Expr) -> sp.Expr:
        if not isinstance(s, sp.Symbol):
            return s  # a number
        got = self.memo.get(s)
        if got is None:
            a = self.c.atoms.get(s)
            d = self.c.all_defs.get(a) if isinstance(a, Var) else None
            if d is None:
                got = sp.Dummy(s.name, real=True)
            else:
                got = SMOOTH[d.prim](*(self.leaf(self.c.sym(x)) for x in d.args))
                if tree_size(got, self.c.budget.proof_size) > self.c.budget.proof_size:
                    got = sp.Dummy(s.name, real=True)  # an independent value: still sound
            self.memo[s] = got
        return got


def _zero(e: sp.Expr) -> bool:
    return e == 0
