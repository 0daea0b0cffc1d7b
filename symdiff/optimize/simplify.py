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

import math
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from typing import Any, Iterable

import numpy as np
import sympy as sp

from ..ad import analysis
from ..ad.program import GradProgram
from ..ir import primitives as P
from ..ir.nodes import (
    Assign,
    Atom,
    Block,
    Const,
    If,
    Loop,
    Primitive,
    Var,
    defined_by,
    iter_assigns,
)
from ..naming import is_internal
from .sympy_tables import family, number, tables

_T = tables()
SMOOTH = _T.smooth
FUNCTION_PRIMS = _T.functions
SQRT_PRIMS = _T.sqrt


@dataclass(frozen=True)
class Budget:
    """Limits that keep simplification fast whatever the input."""

    max_ops: int = 40  # statements per region; longer runs are cut into pieces this long
    max_size: int = 120  # nodes of one expression; bigger values stay variables
    small: int = 40  # size up to which cancel/together/factor are tried
    region_seconds: float = 0.2
    total_seconds: float = 5.0


@dataclass
class Report:
    """What one ``simplify`` call did: operation counts of the gradient, time, regions."""

    ops_before: int = 0
    ops_after: int = 0
    seconds: float = 0.0
    regions: int = 0
    rewritten: int = 0
    outcomes: Counter = field(default_factory=Counter)


def simplify(prog: GradProgram, budget: Budget | None = None) -> GradProgram:
    """``prog`` with its elementwise regions simplified; values and names keep their meaning."""
    return simplify_with_report(prog, budget)[0]


def simplify_with_report(
    prog: GradProgram, budget: Budget | None = None
) -> tuple[GradProgram, Report]:
    start = time.perf_counter()
    report = Report(ops_before=count_ops(prog))
    simplifier = _Simplifier(prog, budget or Budget(), report, start)
    backward = simplifier.block(simplifier.prog.backward, backward=True)
    forward = simplifier.block(simplifier.prog.forward, backward=False)
    live = {a for a in (prog.value, *prog.grads) if isinstance(a, Var)}
    backward = analysis.prune(backward, live)
    forward = analysis.prune(forward, live)
    out = replace(prog, forward=forward, backward=backward)
    report.ops_after = count_ops(out)
    report.seconds = time.perf_counter() - start
    return out, report


def count_ops(prog: GradProgram, with_value: bool = False) -> int:
    """Statements the generated ``_grad`` (or ``_value_and_grad``) function executes once."""
    live = {a for a in prog.grads if isinstance(a, Var)}
    if (with_value or not prog.scalar_value) and isinstance(prog.value, Var):
        live.add(prog.value)
    backward = analysis.prune(prog.backward, live)
    forward = analysis.prune(prog.forward, live)
    return sum(1 for _ in iter_assigns(forward + backward))


# ----------------------------------------------------------------------------- helpers

_BOOLEAN = frozenset(
    {P.lt, P.le, P.gt, P.ge, P.eq, P.ne, P.and_, P.or_, P.not_, P.invert, P.np_isfinite}
    | {P.np_logical_and, P.np_logical_or, P.np_logical_not}
)
# a boolean array through these is still boolean
_KEEPS_BOOL = frozenset(
    {P.mul, P.np_multiply, P.pos, P.getitem, P.np_reshape, P.np_transpose, P.T_attr}
    | {P.np_ravel, P.np_broadcast_to, P.np_expand_dims, P.np_copy, P.np_take}
    | {P.np_concatenate, P.np_stack}
)
_ADD = frozenset({P.add, P.np_add, P.sub, P.np_subtract})
_NEG = frozenset({P.neg, P.np_negative})
_POINTS = 10  # ordinary random points a rewritten region is checked on
_HUGE = 6  # and points with huge inputs


class _Unconvertible(Exception):
    """A SymPy expression with no faithful IR form (an unknown function, ``pi``, ``I``...)."""


def _algebraic(stmt: Assign) -> bool:
    return stmt.prim in SMOOTH and not stmt.params


def _nested_blocks(stmt: Any) -> tuple[Block, ...]:
    if isinstance(stmt, If):
        return (stmt.then, stmt.orelse)
    if isinstance(stmt, Loop):
        return (stmt.body, stmt.cond_block)
    return ()


def _control_reads(stmt: Any) -> Iterable[Any]:
    """Everything a non-Assign statement reads itself (conditions, phis, carries, tapes)."""
    if isinstance(stmt, If):
        yield stmt.cond
        for p in stmt.phis:
            yield p.then
            yield p.orelse
    elif isinstance(stmt, Loop):
        yield from stmt.header
        for c in stmt.carries:
            yield c.init
            yield c.next
        yield getattr(stmt, "cond", None)
        yield getattr(stmt, "exit", None)
    else:  # statements this pass does not know: every variable they mention is pinned
        yield from _all_vars(stmt)


def _all_vars(obj: Any) -> Iterable[Var]:
    if isinstance(obj, Var):
        yield obj
    elif isinstance(obj, (tuple, list)):
        for item in obj:
            yield from _all_vars(item)
    elif hasattr(obj, "__dataclass_fields__") and not isinstance(obj, Const):
        for name in obj.__dataclass_fields__:
            yield from _all_vars(getattr(obj, name))


def _defines(stmt: Any) -> Iterable[Var]:
    """Variables a statement binds, loop-local ones included (for ordering operands)."""
    if isinstance(stmt, Assign):
        yield stmt.target
        return
    if isinstance(stmt, Loop):
        yield from (c.var for c in stmt.carries)
        if stmt.index is not None:
            yield stmt.index
    try:
        yield from (v for v in defined_by(stmt) if isinstance(v, Var))
    except AttributeError:  # a statement kind this pass does not know
        return


def _walk(block: Block) -> Iterable[Any]:
    for stmt in block:
        yield stmt
        for inner in _nested_blocks(stmt):
            yield from _walk(inner)


def _size(e: sp.Expr, limit: int) -> int:
    """Nodes of ``e`` as a tree, counting stops past ``limit``."""
    n = 0
    for _ in sp.preorder_traversal(e):
        n += 1
        if n > limit:
            break
    return n


def _safe(prim: Primitive, args: list[float]) -> float:
    """One primitive on Python floats; domain errors and complex results are NaN."""
    try:
        with np.errstate(all="ignore"):
            r = prim.impl(*args)
        if isinstance(r, complex) or np.iscomplexobj(r):
            return math.nan
        return float(r)
    except (ArithmeticError, ValueError, TypeError):
        return math.nan


class _Simplifier:
    def __init__(self, prog: GradProgram, budget: Budget, report: Report, start: float):
        self.budget = budget
        self.report = report
        self.stop = start + budget.total_seconds
        self.pinned: set[Var] = {a for a in (prog.value, *prog.grads) if isinstance(a, Var)}
        self.pinned |= {a for a, _ in prog.adjoint_of}
        for stmt in _walk(prog.forward + prog.backward):
            if isinstance(stmt, Assign):
                if not is_internal(stmt.target.name):
                    self.pinned.add(stmt.target)
            else:
                self.pinned |= {a for a in _control_reads(stmt) if isinstance(a, Var)}
        self.prog = prog = self._dedupe(prog)
        blocks = (prog.forward, prog.backward)
        # forward definitions visible to the whole backward sweep
        self.fwd_defs = {
            s.target: s for s in prog.forward if isinstance(s, Assign) and _algebraic(s)
        }
        # every smooth definition, and where each statement is: (sweep, index, sub-block,
        # index, ...), to tell which earlier definitions a region can see
        self.all_defs: dict[Var, Assign] = {}
        self._math_scalars: set[Var] | None = None
        self.position: dict[Var, tuple[int, ...]] = {}
        for sweep, block in enumerate(blocks):
            self._locate(block, (sweep,))
        self.order: dict[Var, tuple[int, int]] = {}
        for i, p in enumerate(prog.params):
            self.order[p] = (2, i)
        for group, block in ((1, prog.forward), (0, prog.backward)):
            made = (v for stmt in _walk(block) for v in _defines(stmt))
            for i, v in enumerate(made):
                self.order.setdefault(v, (group, i))
        self.names = {v.name for v in self.order}
        self.counter = 0
        self.readers: dict[Var, Counter] = defaultdict(Counter)
        for stmt in iter_assigns(prog.forward + prog.backward):
            self._count(stmt, 1)
        self.boolish = self._boolish(blocks)
        self.rules = self._inverse_rules()
        self.symbols: dict[Any, sp.Symbol] = {}
        self.atoms: dict[sp.Symbol, Atom] = {}
        self._base: dict[Var, frozenset] = {}
        self._patterns: dict[Var, sp.Expr] = {}
        self.in_backward = True
        self.here: tuple[int, ...] = ()
        self._expansion: dict[Var, tuple[sp.Expr, int]] = {}

    def _locate(self, block: Block, path: tuple[int, ...]) -> None:
        for i, stmt in enumerate(block):
            if isinstance(stmt, Assign):
                self.position[stmt.target] = path + (i,)
                if _algebraic(stmt):
                    self.all_defs[stmt.target] = stmt
            for k, inner in enumerate(_nested_blocks(stmt)):
                self._locate(inner, path + (i, k))

    def visible(self, v: Var) -> bool:
        """Whether the region being rewritten may inline ``v``'s definition: a forward value
        of the top level (in the backward sweep), or an unnamed smooth value computed before
        the region in a block that encloses it."""
        if self.in_backward and v in self.fwd_defs:
            return True
        if v not in self.all_defs or v in self.pinned:
            return False
        d, r = self.position[v], self.here
        return r[: len(d) - 1] == d[:-1] and len(r) >= len(d) and r[len(d) - 1] > d[-1]

    def _dedupe(self, prog: GradProgram) -> GradProgram:
        """Drop a smooth statement that repeats one seen earlier where it is visible (the
        forward sweep's top level is visible everywhere); reads are renamed to the first.
        Named values and values control flow reads are never the ones dropped."""
        same: dict[Var, Var] = {}

        def block(stmts: Block, seen: dict) -> Block:
            out = []
            for stmt in stmts:
                if isinstance(stmt, Assign):
                    args = tuple(same.get(a, a) if isinstance(a, Var) else a for a in stmt.args)
                    stmt = replace(stmt, args=args) if args != stmt.args else stmt
                    if _algebraic(stmt):
                        first = seen.setdefault((stmt.prim, args), stmt.target)
                        if first != stmt.target and stmt.target not in self.pinned:
                            same[stmt.target] = first
                            self.report.outcomes["repeated statement"] += 1
                            continue
                elif isinstance(stmt, If):
                    stmt = replace(
                        stmt,
                        then=block(stmt.then, dict(seen)),
                        orelse=block(stmt.orelse, dict(seen)),
                    )
                elif isinstance(stmt, Loop):
                    body, cond = block(stmt.body, dict(seen)), block(stmt.cond_block, dict(seen))
                    stmt = replace(stmt, body=body, cond_block=cond)
                out.append(stmt)
            return tuple(out)

        top: dict = {}
        forward = block(prog.forward, top)
        backward = block(prog.backward, dict(top))
        return replace(prog, forward=forward, backward=backward)

    # ------------------------------------------------------------------ bookkeeping
    def _count(self, stmt: Assign, delta: int) -> None:
        for a in stmt.args:
            if isinstance(a, Var):
                self.readers[a][stmt.target] += delta

    def _boolish(self, blocks: tuple[Block, ...]) -> set[Var]:
        """Values that may be boolean arrays: ``-m`` and ``m1 + m2`` mean other things there."""
        wrt = set(self.prog.wrt)
        out = {p for p in self.prog.params if p not in wrt}
        for _ in range(2):  # a second pass for values carried around loops
            for block in blocks:
                for stmt in _walk(block):
                    if isinstance(stmt, Assign):
                        vs = [a in out for a in stmt.args if isinstance(a, Var)]
                        if stmt.prim in _BOOLEAN or (stmt.prim in _KEEPS_BOOL and vs and all(vs)):
                            out.add(stmt.target)
                    elif isinstance(stmt, If):
                        out |= {p.target for p in stmt.phis if p.then in out or p.orelse in out}
                    elif isinstance(stmt, Loop):
                        for c in stmt.carries:
                            if c.init in out or c.next in out:
                                out |= {c.var, c.out}
        return out

    def fresh(self) -> Var:
        while True:
            self.counter += 1
            name = f"%s{self.counter}"
            if name not in self.names:
                self.names.add(name)
                return Var(name)

    def sym(self, a: Atom) -> sp.Expr:
        """The SymPy form of an atom: a number, or a symbol standing for it."""
        if isinstance(a, Const) and a.name is None:
            n = number(a.value)
            if n is not None:
                return n
        key = a if isinstance(a, Var) else ("const", a)
        s = self.symbols.get(key)
        if s is None:
            base = a.name if isinstance(a, Var) else f"{a.name or 'c'}#{len(self.symbols)}"
            s = sp.Symbol(base)
            self.symbols[key] = s
            self.atoms[s] = a
        return s

    def base(self, a: Atom) -> frozenset:
        """The inputs a value is computed from elementwise: they fix its broadcast shape."""
        if isinstance(a, Const):
            return frozenset() if a.name is None and number(a.value) is not None else {a}
        got = self._base.get(a)
        if got is None:
            d = self.all_defs.get(a)
            got = frozenset().union(*(self.base(x) for x in d.args)) if d else frozenset({a})
            self._base[a] = got
        return got

    # ------------------------------------------------------------------ traversal
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

    def run(self, stmts: list[Assign], backward: bool, path: tuple[int, ...]) -> list[Assign]:
        """A straight-line run: its algebraic stretches are the regions, opaque ops bound them."""
        pieces: list[list[Assign]] = []
        starts: list[int] = []
        for i, s in enumerate(stmts):
            if _algebraic(s) and pieces and _algebraic(pieces[-1][0]):
                if len(pieces[-1]) < self.budget.max_ops:
                    pieces[-1].append(s)
                    continue
            pieces.append([s])
            starts.append(i)
        out = []
        for piece, i in reversed(list(zip(pieces, starts))):
            here = path[:-1] + (path[-1] + i,)
            out.append(self.region(piece, backward, here) if _algebraic(piece[0]) else piece)
        return [s for piece in reversed(out) for s in piece]

    # ------------------------------------------------------------------ one region
    def region(self, stmts: list[Assign], backward: bool, here: tuple[int, ...]) -> list[Assign]:
        self.report.regions += 1
        start = time.perf_counter()
        if start > self.stop:
            self.report.outcomes["over time budget"] += 1
            return stmts
        self.in_backward = backward
        self.here = here
        self.deadline = min(start + self.budget.region_seconds, self.stop)
        try:
            new, outcome = self._rewrite(stmts, backward)
        except Exception as exc:  # a region that cannot be handled stays as it is
            new, outcome = None, f"error ({type(exc).__name__}: {exc})"
        self.report.outcomes[outcome] += 1
        if new is None:
            return stmts
        for s in stmts:
            self._count(s, -1)
        for s in new:
            self._count(s, 1)
        self.report.rewritten += 1
        return new

    def _rewrite(self, stmts: list[Assign], backward: bool) -> tuple[list | None, str]:
        targets = {s.target for s in stmts}
        defs = {s.target: s for s in stmts}
        for s in stmts:  # boolean sums are logical ORs: leave such regions alone
            flags = [isinstance(a, Var) and a in self.boolish for a in s.args]
            if s.prim in _NEG | _ADD and all(flags):
                return None, "boolean arithmetic"
        outputs = [s.target for s in stmts if self._is_output(s.target, targets)]
        # a value whose inlined tree grows past the size limit stays a variable
        size: dict[Var, int] = {}
        cut = set(outputs)
        for s in stmts:
            n = 1 + sum(size[a] if a in size and a not in cut else 1 for a in s.args)
            if n > self.budget.max_size:
                cut.add(s.target)
                n = 1
            size[s.target] = n
        outputs = [s.target for s in stmts if s.target in cut]
        sweep = 1 if backward else 0
        if len(stmts) == len(outputs) and not any(  # one operation per output, nothing to inline
            self.visible(a) and self.position[a][0] == sweep and a not in self.fwd_defs
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
                    args.append(self.sym(a))
                    reads.add(a)
            exprs[s.target] = SMOOTH[s.prim](*args)
            leaves[s.target] = reads
        self.families = self._families(stmts)
        self.float_consts = backward or any(
            isinstance(a, Const) and isinstance(a.value, float) for s in stmts for a in s.args
        )
        chosen: dict[Var, sp.Expr] = {}
        for o in outputs:
            want = frozenset().union(*(self.base(a) for a in leaves[o]))
            chosen[o] = self._best(exprs[o], want, backward)
        new = self._assemble(stmts, outputs, chosen, defs)
        if new is None:
            return None, "no gain"
        if not self._better(stmts, new, [exprs[o] for o in outputs], list(chosen.values())):
            return None, "no gain"
        if not self._bool_safe(new) or not _well_formed(old=stmts, new=new):
            return None, "unsafe"
        if not self._verify(stmts, new, outputs):
            return None, "verification failed"
        return new, "rewritten"

    def _is_output(self, v: Var, targets: set[Var]) -> bool:
        if v in self.pinned:
            return True
        return any(n > 0 and k not in targets for k, n in self.readers[v].items())

    def math_scalars(self) -> set[Var]:
        """Values that are scalars because a ``math`` function took or made them."""
        if self._math_scalars is None:
            self._math_scalars = set()
            for s in self.all_defs.values():
                if family(s.prim) == "math":
                    self._math_scalars.add(s.target)
                    self._math_scalars.update(a for a in s.args if isinstance(a, Var))
        return self._math_scalars

    def _families(self, stmts: list[Assign]) -> dict[Any, str]:
        """Which spelling (np or math) a SymPy function gets back: the one the code used."""
        seen: dict[Any, set] = defaultdict(set)
        pool = list(stmts) + list(self.all_defs.values())
        for s in pool:
            fam = family(s.prim)
            if fam is None:
                continue
            func = SMOOTH[s.prim]
            key = "sqrt" if func is sp.sqrt else func
            seen[key].add(fam)
        own = {family(s.prim) for s in stmts} - {None}
        prefer = "np" if "np" in own or not own else "math"
        return {k: (v.pop() if len(v) == 1 else prefer) for k, v in seen.items()}

    # ------------------------------------------------------------------ candidates
    def _best(self, e0: sp.Expr, want: frozenset, backward: bool) -> sp.Expr:
        """The cheapest faithful rewrite of one output expression (``e0`` if none is)."""
        best, best_key = e0, self._key(e0)
        if best_key is None:
            best_key = (math.inf,)
        seen = {e0}

        def consider(e: sp.Expr) -> None:
            nonlocal best, best_key
            if e in seen or time.perf_counter() > self.deadline:
                return
            seen.add(e)
            if _size(e, self.budget.max_size) > self.budget.max_size:
                return
            if frozenset().union(*(self.base(self.atoms[s]) for s in e.free_symbols)) != want:
                return  # a variable cancelled: the broadcast shape could change
            key = self._key(e)
            if key is None or key > best_key:
                return
            if key < best_key or len(str(e)) < len(str(best)):  # ties: the shorter text
                best, best_key = e, key

        bases = [(e0, False)]
        if backward and self.fwd_defs:
            inv = self._invert(e0)
            if inv != e0:
                bases.append((inv, False))
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
        if _size(e, self.budget.small) <= self.budget.small:
            for c in self._attempt(sp.cancel, e):
                yield c
                yield from self._attempt(sp.factor_terms, c)
            yield from self._attempt(sp.factor, e)
            yield from self._attempt(sp.together, e)

    def _attempt(self, step: Any, e: sp.Expr) -> Iterable[sp.Expr]:
        if time.perf_counter() > self.deadline:
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
            s = self.symbols.get(u)
            if s is not None and s in free:
                e = e.subs(s, inverse(self.sym(reads)))
                free = e.free_symbols
        return e

    def _inverse_rules(self) -> dict[Var, tuple[Any, Var]]:
        """u -> (inverse, v) for forward steps v = f(u, constant) that can be undone exactly.

        Only where ``v`` is ``u``'s one use in the forward sweep: a chain of such steps
        (``-z``, ``exp``, ``1 + e``, ``1 / t``) ends at a value the forward sweep uses more
        than once, which is the value worth writing the derivative in.
        """
        uses: Counter = Counter()
        for stmt in _walk(self.prog.forward):
            reads = stmt.args if isinstance(stmt, Assign) else tuple(_control_reads(stmt))
            uses.update(a for a in reads if isinstance(a, Var))
        rules: dict[Var, tuple[Any, Var]] = {}
        for s in self.prog.forward:
            if not isinstance(s, Assign) or s.target not in self.fwd_defs:
                continue
            vars_ = [a for a in s.args if isinstance(a, Var)]
            if len(vars_) != 1 or vars_[0] not in self.fwd_defs or uses[vars_[0]] != 1:
                continue
            u = vars_[0]
            ks = [number(a.value) for a in s.args if isinstance(a, Const) and a.name is None]
            if len(ks) != len(s.args) - 1 or any(k is None for k in ks):
                continue
            inv = _inverse(s.prim, s.args.index(u), ks[0] if ks else None)
            if inv is not None:
                rules[u] = (inv, s.target)
        return rules

    def _expand(self, e: sp.Expr) -> sp.Expr:
        """``e`` with forward definitions inlined, as far as the size limit allows."""
        reps = {}
        for s in e.free_symbols:
            a = self.atoms[s]
            if isinstance(a, Var) and self.visible(a):
                reps[s] = self._expanded(a)[0]
        return e.xreplace(reps) if reps else e

    def _expanded(self, v: Var) -> tuple[sp.Expr, int]:
        got = self._expansion.get(v)
        if got is None:
            d = self.all_defs.get(v)
            got = (self.sym(v), 1)
            if d is not None and (self.position[v][0] == 0 or v not in self.pinned):
                parts = [
                    self._expanded(a) if isinstance(a, Var) else (self.sym(a), 1) for a in d.args
                ]
                n = 1 + sum(k for _, k in parts)
                if n <= self.budget.max_size:
                    got = (SMOOTH[d.prim](*(x for x, _ in parts)), n)
            self._expansion[v] = got
        return got

    def _resubstitute(self, e: sp.Expr, full: bool) -> sp.Expr:
        """Replace subexpressions that forward values already hold by those values."""
        free = e.free_symbols
        for v in reversed(list(self.fwd_defs)):
            if time.perf_counter() > self.deadline:
                break
            if full:
                pattern = self._expanded(v)[0]
            else:
                pattern = self._patterns.get(v)
                if pattern is None:
                    d = self.fwd_defs[v]
                    pattern = self._patterns[v] = SMOOTH[d.prim](*map(self.sym, d.args))
            if pattern.is_Atom or not pattern.free_symbols <= free:
                continue
            e2 = _substitute(e, pattern, self.sym(v))
            if e2 != e:
                e = e2
                free = e.free_symbols
        return e

    # ------------------------------------------------------------------ costs
    def _key(self, e: sp.Expr) -> tuple | None:
        """(operations, values read, powers) of ``e`` written as IR: fewer operations first,
        then fewer saved values kept alive for the backward sweep, then products over
        powers (the textbook ``a * (1 - a)`` over ``a - a**2``)."""
        try:
            low = _Lower(self, None)
            atom = low.build(e)
        except _Unconvertible:
            return None
        if not low.stmts and isinstance(atom, Var):
            return (0, 1, 0)
        reads = {a for s in low.stmts for a in s.args if isinstance(a, Var)}
        reads -= {s.target for s in low.stmts}
        pows = sum(1 for s in low.stmts if s.prim is P.pow)
        return (len(low.stmts), len(reads), pows)

    def _assemble(self, stmts, outputs, chosen, defs) -> list[Assign] | None:
        """The region's new statements; each output keeps its variable (None: not possible)."""
        best = None
        for use_cse in (False, True):
            if use_cse and (len(outputs) < 2 or time.perf_counter() > self.deadline):
                break
            low = _Lower(self, None)
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
            except _Unconvertible:
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
            outside = (n for k, n in self.readers[v].items() if k not in made and k not in gone)
            return extra[v] > 0 or any(n > 0 for n in outside)

        stack = [a for s in old for a in s.args if isinstance(a, Var) and a not in made]
        while stack:
            v = stack.pop()
            if v in gone or v in self.pinned or v not in self.all_defs or read(v):
                continue
            gone.add(v)
            stack += [a for a in self.all_defs[v].args if isinstance(a, Var)]
        return len(gone)

    def _bool_safe(self, stmts: list[Assign]) -> bool:
        boolish = set(self.boolish)
        for s in stmts:
            flags = [isinstance(a, Var) and a in boolish for a in s.args]
            if s.prim in _NEG | _ADD and all(flags):
                return False
            if s.prim in _KEEPS_BOOL and all(flags):
                boolish.add(s.target)
        return True

    # ------------------------------------------------------------------ verification
    def _verify(self, old: list[Assign], new: list[Assign], outputs: list[Var]) -> bool:
        """Both versions agree at random points, forward values consistent with each other.

        Ordinary points (inputs of both signs, at least three where all is finite) must
        agree to rounding, and in where they are finite. At huge inputs, where rewrites change
        what overflows, the new version must be finite wherever the old one is: it may fix an
        overflow (0 · ∞ in the sigmoid derivative as first derived), never introduce one;
        there, values agree to rounding relative to the largest value computed on the way
        (``1 - a`` rounds to 0 where ``a`` rounds to 1, a loss the textbook form accepts).
        """
        rng = random.Random(0)
        finite = 0
        for k in range(_POINTS + _HUGE):
            shared: dict[Any, float] = {}
            a, scale = self._evaluate(old, outputs, shared, rng, k)
            b, _ = self._evaluate(new, outputs, shared, rng, k)
            ordinary = k < _POINTS
            if ordinary and all(math.isfinite(x) for x in a + b):
                finite += 1
            for x, y in zip(a, b):
                if math.isfinite(x):
                    top = max(abs(x), abs(y)) if ordinary else max(abs(x), abs(y), scale)
                    if not math.isfinite(y) or abs(x - y) > 1e-7 * top + 1e-12:
                        return False
                elif ordinary and (math.isfinite(y) or (x != y and not math.isnan(y))):
                    return False
        return finite >= 3

    def _evaluate(self, stmts, outputs, shared, rng, k) -> tuple[list[float], float]:
        """The outputs at point ``k``, and the largest finite magnitude met on the way."""
        local: dict[Var, float] = {}

        def value(a: Atom) -> float:
            if isinstance(a, Var) and a in local:
                return local[a]
            key = a if isinstance(a, Var) else ("const", a)
            if key in shared:
                return shared[key]
            if isinstance(a, Const) and number(a.value) is not None:
                x = float(a.value)
            elif isinstance(a, Var) and a in self.all_defs:
                d = self.all_defs[a]
                x = _safe(d.prim, [value(b) for b in d.args])
            elif isinstance(a, Var) and a in self.boolish:
                x = float(rng.random() < 0.5)
            elif k >= _POINTS:  # beyond exp's range, or far into a sigmoid's tails
                x = rng.choice((-1, 1)) * (rng.uniform(700, 800) if k % 2 else rng.uniform(20, 40))
            else:
                x = rng.uniform(0.2, 1.4) if k < _POINTS // 2 else rng.uniform(-1.4, 1.4)
            shared[key] = x
            return x

        scale = 0.0
        for s in stmts:
            args = [value(a) for a in s.args]
            local[s.target] = x = _safe(s.prim, args)
            scale = max([scale] + [abs(v) for v in (*args, x) if math.isfinite(v)])
        return [local[o] for o in outputs], scale


def _well_formed(old: list[Assign], new: list[Assign]) -> bool:
    """No statement of ``new`` reads a value of the region before the region defines it."""
    region = {s.target for s in old} | {s.target for s in new}
    made: set[Var] = set()
    for s in new:
        if any(a in region and a not in made for a in s.args if isinstance(a, Var)):
            return False
        made.add(s.target)
    return True


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
    if prim in _NEG:
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


class _Lower:
    """SymPy back to IR statements, sharing identical subexpressions; operands are ordered
    adjoints first, then forward values, then compound factors (``d_a * a * (1 - a)``)."""

    def __init__(self, owner: _Simplifier, loc: Any):
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
                raise _Unconvertible("an output equal to another value")
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
        except _Unconvertible:
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
        raise _Unconvertible(str(n))

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
        raise _Unconvertible(str(e.func))

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
            sqrt = SQRT_PRIMS[self._family(self.o.families["sqrt"], b)]
            if x > 0:
                return self.apply(sqrt, self.build(b), target=target)
            return self.apply(P.div, Const(1.0), self.apply(sqrt, self.build(b)), target=target)
        if x.is_Rational:
            return self.apply(P.pow, self.build(b), self.const(x, True), target=target)
        return self.apply(P.pow, self.build(b), self.build(x), target=target)
