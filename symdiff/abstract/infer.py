"""Abstract interpretation of a whole IR function: an abstract value for every variable.

Straight-line statements go through the table; an ``If`` joins what its branches give each
phi; a ``Loop`` iterates its body on the join of the carried values until they stop changing
(the lattice is finite in height, and a bound widens whatever still changes to ``UNKNOWN``),
which also covers the loop that never runs: its result is the join of the initial values and
every iteration's. A tape is a list whose item is the join of every tuple pushed on it.

A definite user error (``ShapeError``) is raised only from code that certainly runs. In a
branch, or in the body of a loop that may run zero times, the same finding only means "this
fails if it runs" (``if x.ndim == 2: x @ W`` is fine for a vector ``x``): it is recorded in
``Analysis.possible_errors`` and the value it would have defined becomes ``UNKNOWN``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..ir.nodes import Assign, Atom, Block, Const, Function, If, Loop, Pop, Push, Var
from .call import written
from .table import evaluate
from .values import INT, UNKNOWN, AbstractValue, Kind, ShapeError, join, list_of, of, tuple_of

MAX_ROUNDS = 16  # a loop whose carries still change after this many rounds is widened


@dataclass
class Analysis:
    """The abstract value of every variable, keyed by the IR ``Var`` itself, and the errors
    found in code that may not run."""

    values: dict[Var, AbstractValue] = field(default_factory=dict)
    possible_errors: list[ShapeError] = field(default_factory=list)
    texts: dict[Var, str] = field(default_factory=dict)  # temporaries, for messages

    def value(self, atom: Atom) -> AbstractValue:
        if isinstance(atom, Const):
            return of(atom.value)
        return self.values.get(atom, UNKNOWN)

    def block(self, stmts: Block, certain: bool) -> None:
        for stmt in stmts:
            if isinstance(stmt, Assign):
                self.assign(stmt, certain)
            elif isinstance(stmt, If):
                self.branch(stmt)
            elif isinstance(stmt, Loop):
                self.loop(stmt, certain)
            elif isinstance(stmt, Push):
                self.push(stmt)
            elif isinstance(stmt, Pop):
                self.pop(stmt)

    def text(self, atom: Atom) -> str:
        """How ``atom`` reads in a message: a temporary as the expression it stands for."""
        return self.texts.get(atom, str(atom)) if isinstance(atom, Var) else str(atom)

    def assign(self, stmt: Assign, certain: bool) -> None:
        args = tuple(self.value(a) for a in stmt.args)
        names = tuple(self.text(a) for a in stmt.args)
        if stmt.target.name.startswith("%"):  # a temporary of the lowering
            text = written(stmt.prim, names)
            if stmt.prim.form in ("infix", "prefix"):
                text = f"({text})"
            self.texts[stmt.target] = text if len(text) <= 60 else "(...)"
        try:
            result = evaluate(stmt, args, names)
        except ShapeError as err:
            if certain:
                raise
            self.possible_errors.append(err)
            result = UNKNOWN
        self.values[stmt.target] = result

    def branch(self, stmt: If) -> None:
        self.block(stmt.then, certain=False)
        self.block(stmt.orelse, certain=False)
        for phi in stmt.phis:
            self.values[phi.target] = join(self.value(phi.then), self.value(phi.orelse))

    def loop(self, stmt: Loop, certain: bool) -> None:
        state = {c.var: self.value(c.init) for c in stmt.carries}
        if stmt.index is not None:
            self.values[stmt.index] = INT  # range() yields Python ints
        body_runs = certain and stmt.kind != "while" and _runs_at_least_once(self, stmt)
        rounds = 0
        while True:
            self.values.update(state)
            self.block(stmt.cond_block, certain=certain)
            self.block(stmt.body, certain=body_runs)
            new = {c.var: join(state[c.var], self.value(c.next)) for c in stmt.carries}
            if new == state:
                break
            rounds += 1
            if rounds >= MAX_ROUNDS:  # widen what has not settled: each round, one more
                new = {v: (a if a == state[v] else UNKNOWN) for v, a in new.items()}
            state = new
        for c in stmt.carries:
            self.values[c.out] = state[c.var]

    def push(self, stmt: Push) -> None:
        tape = self.value(stmt.tape)
        pushed = tuple_of(self.value(v) for v in stmt.values)
        if tape.kind is not Kind.LIST:
            self.values[stmt.tape] = UNKNOWN
            return
        self.values[stmt.tape] = list_of(pushed if tape.item is None else join(tape.item, pushed))

    def pop(self, stmt: Pop) -> None:
        tape = self.value(stmt.tape)
        item = tape.item if tape.kind is Kind.LIST else None
        if item is not None and item.kind is not Kind.TUPLE and len(stmt.targets) == 1:
            # a list value, not a tape (an adjoint list read back item by item, as
            # ``ir.interpret`` runs it): the target is one of its items
            self.values[stmt.targets[0]] = item
            return
        items = item.items if item is not None and item.kind is Kind.TUPLE else None
        for k, target in enumerate(stmt.targets):
            ok = items is not None and len(items) == len(stmt.targets)
            self.values[target] = items[k] if ok and items is not None else UNKNOWN


def _runs_at_least_once(analysis: Analysis, stmt: Loop) -> bool:
    """A ``range`` loop over constant bounds that are not empty."""
    bounds = [a.value for a in stmt.header if isinstance(a, Const)]
    if len(bounds) != len(stmt.header) or not all(isinstance(b, int) for b in bounds):
        return False
    try:
        return len(range(*bounds)) > 0
    except (TypeError, ValueError):
        return False


def analyse(fn: Function, args: tuple[AbstractValue, ...]) -> Analysis:
    """Abstract values for every variable of ``fn`` called with arguments ``args``."""
    if len(args) != len(fn.params):
        raise TypeError(f"{fn.name} takes {len(fn.params)} arguments, {len(args)} given")
    analysis = Analysis(dict(zip(fn.params, args)))
    analysis.block(fn.body, certain=True)
    return analysis


def infer(fn: Function, args: tuple[AbstractValue, ...]) -> dict[Var, AbstractValue]:
    """The abstract value of every variable of ``fn`` (see ``analyse`` for the errors found
    in code that may not run)."""
    return analyse(fn, args).values
