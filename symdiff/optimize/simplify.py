"""Simplify a gradient program with SymPy, region by region, under a budget.

A *region* is a run of consecutive smooth elementwise statements (arithmetic, ``exp``,
``tanh``...) inside one block. Everything else bounds regions and is left as it is: matrix
products, reductions, indexing, runtime helpers, control flow, and the non-smooth
primitives (``maximum``, ``where``, ``abs``, comparisons...), whose conventions at kinks
SymPy does not know. A region's *outputs* are the values something outside it reads, plus
every value whose name means something (user-named values, adjoints, results); they keep
their variable, so names and meanings survive. Values inside a region are inlined into
SymPy expressions over the region's inputs.

For each output, a few cheap candidates are built: the expression as it is, the expression
with forward values inverted along chains of constant steps (with ``a = 1/(1 + e)`` and
``e = exp(-z)``, ``e`` is ``1/a - 1``: that is how σ(1 − σ) appears), and the expression
with forward definitions expanded; each goes through ``factor_terms``, ``cancel``/``factor``
(small expressions only) and substitution of forward values already computed. Never
unbounded ``sympy.simplify``. The cheapest candidate by operation count wins; a region is
rewritten only when it gets smaller (or equal and reads fewer saved values, then shorter),
its variables broadcast to the same shape, and a pointwise evaluation on random inputs
agrees with the original. Every region has a size and a time limit, and the whole pass a
time limit: what does not fit is left unchanged.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import replace
from typing import Any

import sympy as sp

from ..ad import analysis
from ..ad.program import GradProgram
from ..ir import primitives as P
from ..ir.nodes import Assign, Block, Const, If, Loop, Var
from ..ir.printer import format_block
from . import proof, verify
from .budget import Budget, Report, Rewrite, count_ops
from .candidates import Candidates
from .context import ADD, NEG, SMOOTH, Context, algebraic
from .sympy_ir import Lowering, Unconvertible

__all__ = ["Budget", "Report", "Rewrite", "count_ops", "simplify", "simplify_with_report"]


def simplify(prog: GradProgram, budget: Budget | None = None) -> GradProgram:
    """``prog`` with its elementwise regions simplified; values and names keep their meaning."""
    return simplify_with_report(prog, budget)[0]


def simplify_with_report(
    prog: GradProgram, budget: Budget | None = None
) -> tuple[GradProgram, Report]:
    start = time.perf_counter()
    report = Report(ops_before=count_ops(prog))
    simplifier = _Simplifier(Context(prog, budget or Budget(), report, start))
    backward = simplifier.block(simplifier.c.prog.backward, backward=True)
    forward = simplifier.block(simplifier.c.prog.forward, backward=False)
    live = {a for a in (prog.value, *prog.grads) if isinstance(a, Var)}
    backward = analysis.prune(backward, live)
    forward = analysis.prune(forward, live)
    out = replace(prog, forward=forward, backward=backward)
    report.ops_after = count_ops(out)
    if report.ops_after > report.ops_before:
        # each region was kept only if it got no larger, but a region's new form can stop
        # another from sharing a value with it: the whole is judged as the user counts it
        report.outcomes["whole program kept: the rewrite was larger"] += 1
        out, report.ops_after = prog, report.ops_before
    report.seconds = time.perf_counter() - start
    return out, report


class _Simplifier:
    """The regions of a program, rewritten one by one, last first."""

    def __init__(self, c: Context):
        self.c = c
        self.cands = Candidates(c)

    def block(self, block: Block, backward: bool, path: tuple[int, ...] = ()) -> Block:
        """Rewrite a block's regions, last first, so each sees the final readers after it."""
        path = path or ((1,) if backward else (0,))
        items = list(block)
        chunks: list[list] = []
        i = len(items)
        while i > 0:
            if isinstance(items[i - 1], Assign):
                j = i - 1
                while j > 0 and isinstance(items[j - 1], Assign):
                    j -= 1
                chunks.append(self.run(items[j:i], backward, path + (j,)))
                i = j
            else:
                chunks.append([self.nested(items[i - 1], backward, path + (i - 1,))])
                i -= 1
        return tuple(s for chunk in reversed(chunks) for s in chunk)

    def nested(self, stmt: Any, backward: bool, path: tuple[int, ...]) -> Any:
        if isinstance(stmt, If):
            orelse = self.block(stmt.orelse, backward, path + (1,))
            return replace(stmt, then=self.block(stmt.then, backward, path + (0,)), orelse=orelse)
        if isinstance(stmt, Loop):
            body = self.block(stmt.body, backward, path + (0,))
            cond = self.block(stmt.cond_block, backward, path + (1,))
            return replace(stmt, body=body, cond_block=cond)
        return stmt

    def run(self, stmts: list[Any], backward: bool, path: tuple[int, ...]) -> list[Assign]:
        """A straight-line run: its algebraic stretches are the regions, opaque ops bound them."""
        pieces: list[list[Assign]] = []
        starts: list[int] = []
        for i, s in enumerate(stmts):
            if algebraic(s) and pieces and algebraic(pieces[-1][0]):
                if len(pieces[-1]) < self.c.budget.max_ops:
                    pieces[-1].append(s)
                    continue
            pieces.append([s])
            starts.append(i)
        out = []
        for piece, i in reversed(list(zip(pieces, starts))):
            here = path[:-1] + (path[-1] + i,)
            out.append(self.region(piece, backward, here) if algebraic(piece[0]) else piece)
        return [s for piece in reversed(out) for s in piece]

    # ------------------------------------------------------------------ one region

    def region(self, stmts: list[Assign], backward: bool, here: tuple[int, ...]) -> list[Assign]:
        self.c.report.regions += 1
        start = time.perf_counter()
        if start > self.c.stop:
            self.c.report.outcomes["over time budget"] += 1
            return stmts
        self.c.in_backward = backward
        self.c.here = here
        self.c.deadline = min(start + self.c.budget.region_seconds, self.c.stop)
        try:
            new, outcome = self._rewrite(stmts, backward)
        except Exception as exc:  # a region that cannot be handled stays as it is
            new, outcome = None, f"error ({type(exc).__name__}: {exc})"
        self.c.report.outcomes[outcome] += 1
        if new is None:
            return stmts
        for s in stmts:
            self.c.count_reads(s, -1)
        for s in new:
            self.c.count_reads(s, 1)
        self.c.report.rewritten += 1
        return new

    def _rewrite(self, stmts: list[Assign], backward: bool) -> tuple[list | None, str]:
        targets = {s.target for s in stmts}
        defs = {s.target: s for s in stmts}
        for s in stmts:  # boolean sums are logical ORs: leave such regions alone
            flags = [isinstance(a, Var) and a in self.c.boolish for a in s.args]
            if s.prim in NEG | ADD and all(flags):
                return None, "boolean arithmetic"
        outputs = [s.target for s in stmts if self.c.is_output(s.target, targets)]
        # a value whose inlined tree grows past the size limit stays a variable
        size: dict[Var, int] = {}
        cut = set(outputs)
        for s in stmts:
            n = 1 + sum(
                size[a] if isinstance(a, Var) and a in size and a not in cut else 1 for a in s.args
            )
            if n > self.c.budget.max_size:
                cut.add(s.target)
                n = 1
            size[s.target] = n
        outputs = [s.target for s in stmts if s.target in cut]
        sweep = 1 if backward else 0
        if len(stmts) == len(outputs) and not any(  # one operation per output, nothing to inline
            self.c.visible(a) and self.c.position[a][0] == sweep and a not in self.c.fwd_defs
            for s in stmts
            for a in s.args
            if isinstance(a, Var)
        ):
            return None, "nothing to gain"
        exprs: dict[Var, sp.Expr] = {}
        leaves: dict[Var, set] = {}
        for s in stmts:
            args, reads = [], set()
            for a in s.args:
                if isinstance(a, Var) and a in targets and a not in cut:
                    args.append(exprs[a])
                    reads |= leaves[a]
                else:
                    args.append(self.c.sym(a))
                    reads.add(a)
            exprs[s.target] = SMOOTH[s.prim](*args)
            leaves[s.target] = reads
        self.c.families = self.c.families_of(stmts)
        self.c.float_consts = backward or any(
            isinstance(a, Const) and isinstance(a.value, float) for s in stmts for a in s.args
        )
        chosen: dict[Var, sp.Expr] = {}
        for o in outputs:
            want = frozenset().union(*(self.c.base(a) for a in leaves[o]))
            chosen[o] = self.cands.best(exprs[o], want, backward)
        new = self._assemble(stmts, outputs, chosen, defs)
        if new is None:
            return None, "no gain"
        if not self._better(stmts, new, [exprs[o] for o in outputs], list(chosen.values())):
            return None, "no gain"
        if not verify.bool_safe(self.c, new) or not verify.well_formed(old=stmts, new=new):
            return None, "unsafe"
        if not verify.verify(self.c, stmts, new, outputs):
            return None, "verification failed"
        proved = proof.prove(self.c, exprs, new, outputs)
        if not proved.proved:
            return None, f"not proved: {proved.method}"
        # what the report shows: the region's statements, and each output's new expression
        # (SymPy cancels x / e * e as it builds the expression, so the "before" is the IR)
        lines: list[str] = []
        format_block(tuple(stmts), 0, lines)
        before = "; ".join(line.strip() for line in lines)
        for o in outputs:
            rewrite = Rewrite(self.c.name_of(o), before, str(chosen[o]), proved.method)
            self.c.report.rewrites.append(rewrite)
        return new, "rewritten"

    def _assemble(self, stmts, outputs, chosen, defs) -> list[Assign] | None:
        """The region's new statements; each output keeps its variable (None: not possible)."""
        best = None
        for use_cse in (False, True):
            if use_cse and (len(outputs) < 2 or time.perf_counter() > self.c.deadline):
                break
            low = Lowering(self.c, None)
            try:
                if use_cse:
                    names = sp.numbered_symbols("%cse")
                    reps, reduced = sp.cse([chosen[o] for o in outputs], symbols=names)
                    low.shared = dict(reps)  # built where first used: after what they read
                else:
                    reduced = [chosen[o] for o in outputs]
                for o, e in zip(outputs, reduced):
                    low.loc = defs[o].loc
                    if not low.output(e, o):
                        return None
            except Unconvertible:
                continue
            if best is None or len(low.stmts) < len(best):
                best = low.stmts
        return best

    def _better(self, old, new, old_exprs, new_exprs) -> bool:
        """Fewer operations, counting those elsewhere that only the old region read; then
        fewer values read, fewer powers, shorter text."""

        def key(stmts, exprs, freed):
            made = {s.target for s in stmts}
            reads = {a for s in stmts for a in s.args if isinstance(a, Var) and a not in made}
            pows = sum(1 for s in stmts if s.prim is P.pow)
            return (len(stmts) - freed, len(reads), pows, sum(len(str(e)) for e in exprs))

        return key(new, new_exprs, self._freed(old, new)) < key(old, old_exprs, 0)

    def _freed(self, old: list[Assign], new: list[Assign]) -> int:
        """Smooth statements outside the region that nothing reads once ``new`` replaces
        ``old`` (their definitions were inlined): pruning removes them."""
        made = {s.target for s in old}
        gone: set[Var] = set()
        extra = Counter(a for s in new for a in s.args if isinstance(a, Var))

        def read(v: Var) -> bool:
            outside = (n for k, n in self.c.readers[v].items() if k not in made and k not in gone)
            return extra[v] > 0 or any(n > 0 for n in outside)

        stack = [a for s in old for a in s.args if isinstance(a, Var) and a not in made]
        while stack:
            v = stack.pop()
            if v in gone or v in self.c.pinned or v not in self.c.all_defs or read(v):
                continue
            gone.add(v)
            stack += [a for a in self.c.all_defs[v].args if isinstance(a, Var)]
        return len(gone)
