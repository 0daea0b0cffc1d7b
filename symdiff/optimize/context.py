"""The facts about a gradient program that every region of its simplification shares.

Which statements form regions, which values may be inlined where (a region sees the
forward sweep's top level and the unnamed smooth values before it in enclosing blocks),
which values keep their variable, who reads each value, which values may be boolean
arrays (``-m`` and ``m1 + m2`` mean something else there), and how the program's atoms
are named in SymPy.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace
from typing import Any, Iterable

import sympy as sp

from ..ad.program import GradProgram
from ..ir import primitives as P
from ..ir.nodes import Assign, Atom, Block, Const, If, Loop, Var, defined_by, iter_assigns
from ..naming import is_internal
from .budget import Budget, Report
from .sympy_tables import family, number, tables

_T = tables()
SMOOTH = _T.smooth
FUNCTION_PRIMS = _T.functions
SQRT_PRIMS = _T.sqrt

BOOLEAN = frozenset(
    {P.lt, P.le, P.gt, P.ge, P.eq, P.ne, P.and_, P.or_, P.not_, P.invert, P.np_isfinite}
    | {P.np_logical_and, P.np_logical_or, P.np_logical_not}
)
# a boolean array through these is still boolean
KEEPS_BOOL = frozenset(
    {P.mul, P.np_multiply, P.pos, P.getitem, P.np_reshape, P.np_transpose, P.T_attr}
    | {P.np_ravel, P.np_broadcast_to, P.np_expand_dims, P.np_copy, P.np_take}
    | {P.np_concatenate, P.np_stack}
)
ADD = frozenset({P.add, P.np_add, P.sub, P.np_subtract})
NEG = frozenset({P.neg, P.np_negative})


def algebraic(stmt: Assign) -> bool:
    return stmt.prim in SMOOTH and not stmt.params


def nested_blocks(stmt: Any) -> tuple[Block, ...]:
    if isinstance(stmt, If):
        return (stmt.then, stmt.orelse)
    if isinstance(stmt, Loop):
        return (stmt.body, stmt.cond_block)
    return ()


def control_reads(stmt: Any) -> Iterable[Any]:
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


def walk(block: Block) -> Iterable[Any]:
    for stmt in block:
        yield stmt
        for inner in nested_blocks(stmt):
            yield from walk(inner)


class Context:
    """What every region of one program may know: the values that keep their variable
    (``pinned``), the smooth definitions and where each is, the readers of every value,
    which values may be boolean, and the SymPy symbol of every atom. Also the state of the
    region being rewritten (where it is, its deadline, its spellings), which candidates and
    lowering read.
    """

    def __init__(self, prog: GradProgram, budget: Budget, report: Report, start: float):
        self.budget = budget
        self.report = report
        self.stop = start + budget.total_seconds
        self.pinned: set[Var] = {a for a in (prog.value, *prog.grads) if isinstance(a, Var)}
        self.pinned |= {a for a, _ in prog.adjoint_of if a not in _chained_adjoints(prog)}
        self.adjoint_names = {d: p.name for d, p in prog.adjoint_of if not is_internal(p.name)}
        for stmt in walk(prog.forward + prog.backward):
            if isinstance(stmt, Assign):
                if not is_internal(stmt.target.name):
                    self.pinned.add(stmt.target)
            else:
                self.pinned |= {a for a in control_reads(stmt) if isinstance(a, Var)}
        self.prog = prog = self._dedupe(prog)
        blocks = (prog.forward, prog.backward)
        # forward definitions visible to the whole backward sweep
        self.fwd_defs = {
            s.target: s for s in prog.forward if isinstance(s, Assign) and algebraic(s)
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
            made = (v for stmt in walk(block) for v in _defines(stmt))
            for i, v in enumerate(made):
                self.order.setdefault(v, (group, i))
        self.names = {v.name for v in self.order}
        self.counter = 0
        self.readers: dict[Var, Counter] = defaultdict(Counter)
        for stmt in iter_assigns(prog.forward + prog.backward):
            self.count_reads(stmt, 1)
        self.boolish = self._boolish(blocks)
        self.symbols: dict[Any, sp.Symbol] = {}
        self.atoms: dict[sp.Symbol, Atom] = {}
        self._base: dict[Var, frozenset] = {}
        self.in_backward = True
        self.here: tuple[int, ...] = ()  # where the region being rewritten starts
        self.deadline = self.stop  # of the region being rewritten
        # of the region being rewritten: np or math for each function, floats for integers
        self.families: dict[Any, str] = {}
        self.float_consts = False
        self._expansion: dict[Var, tuple[sp.Expr, int]] = {}

    def _locate(self, block: Block, path: tuple[int, ...]) -> None:
        for i, stmt in enumerate(block):
            if isinstance(stmt, Assign):
                self.position[stmt.target] = path + (i,)
                if algebraic(stmt):
                    self.all_defs[stmt.target] = stmt
            for k, inner in enumerate(nested_blocks(stmt)):
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
                    if algebraic(stmt):
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

    def count_reads(self, stmt: Assign, delta: int) -> None:
        for a in stmt.args:
            if isinstance(a, Var):
                self.readers[a][stmt.target] += delta

    def _boolish(self, blocks: tuple[Block, ...]) -> set[Var]:
        """Values that may be boolean arrays: ``-m`` and ``m1 + m2`` mean other things there."""
        wrt = set(self.prog.wrt)
        out = {p for p in self.prog.params if p not in wrt}
        for _ in range(2):  # a second pass for values carried around loops
            for block in blocks:
                for stmt in walk(block):
                    if isinstance(stmt, Assign):
                        vs = [a in out for a in stmt.args if isinstance(a, Var)]
                        if stmt.prim in BOOLEAN or (stmt.prim in KEEPS_BOOL and vs and all(vs)):
                            out.add(stmt.target)
                    elif isinstance(stmt, If):
                        out |= {p.target for p in stmt.phis if p.then in out or p.orelse in out}
                    elif isinstance(stmt, Loop):
                        for c in stmt.carries:
                            if c.init in out or c.next in out:
                                out |= {c.var, c.out}
        return out

    def name_of(self, v: Var) -> str:
        """How a report names ``v``: the user's name, ``d_<name>`` for an adjoint."""
        primal = self.adjoint_names.get(v)
        return f"d_{primal}" if primal is not None else v.name

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
            return frozenset() if a.name is None and number(a.value) is not None else frozenset({a})
        got = self._base.get(a)
        if got is None:
            d = self.all_defs.get(a)
            got = frozenset().union(*(self.base(x) for x in d.args)) if d else frozenset({a})
            self._base[a] = got
        return got

    def is_output(self, v: Var, targets: set[Var]) -> bool:
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

    def families_of(self, stmts: list[Assign]) -> dict[Any, str]:
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


def _chained_adjoints(prog: GradProgram) -> set[Var]:
    """Adjoints of the backward sweep's top level read by exactly one statement, a smooth
    one of the same block: links of a chain (``d_p`` between ``d_t4`` and ``d_t`` in a
    cross-entropy of a sigmoid) that a person composes and cancels through on paper."""
    reads: Counter = Counter()
    smooth_reads: Counter = Counter()
    for stmt in walk(prog.forward + prog.backward):
        got = stmt.args if isinstance(stmt, Assign) else tuple(control_reads(stmt))
        for a in got:
            if isinstance(a, Var):
                reads[a] += 1
    for stmt in prog.backward:
        if isinstance(stmt, Assign) and algebraic(stmt):
            for a in stmt.args:
                if isinstance(a, Var):
                    smooth_reads[a] += 1
    made = {s.target for s in prog.backward if isinstance(s, Assign) and algebraic(s)}
    grads = {g for g in prog.grads if isinstance(g, Var)}
    return {v for v in made if reads[v] == 1 and smooth_reads[v] == 1 and v not in grads}
