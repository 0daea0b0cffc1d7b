"""symdiff's intermediate representation.

Grammar (every statement carries the ``Loc`` of the source line it came from)::

    Function ::= Function(name, params: (Var, ...), body: Block, result: Atom)
    Block    ::= (Stmt, ...)
    Stmt     ::= Assign(target: Var, prim: Primitive, args: (Atom, ...), params)
               | If(cond: Atom, then: Block, orelse: Block, phis: (Phi, ...))
               | Loop(kind, header: (Atom, ...), index: Var?, carries: (Carry, ...),
                      body: Block, cond_block: Block, cond: Atom?, exit: Atom?)
               | Push(tape: Var, values: (Atom, ...))     # tape.append(values)
               | Pop(tape: Var, targets: (Var, ...))      # targets = tape.pop()
    Phi      ::= Phi(target: Var, then: Atom, orelse: Atom)   # value after an If
    Carry    ::= Carry(var: Var, init: Atom, next: Atom, out: Var)  # loop state
    Atom     ::= Var(name) | Const(value)

The IR is in three-address, single-assignment form: each ``Assign`` applies one primitive
to atoms and every variable is assigned exactly once (inside a loop body: once per
iteration). Control flow is structured (an ``If`` with two blocks, a ``Loop`` with its body
and explicit loop-carried state), because the output must read as Python and structured IR
maps back to Python one to one. Loop kinds: ``range`` (``for index in range(*header)``),
``reversed`` (the same range backwards, for backward sweeps) and ``while`` (``cond_block``
computes ``cond`` from the carries before every iteration). ``exit``, computed in the body,
stops the loop after the iteration in which it is true (``break``). ``Push``/``Pop`` are the
only statements with effects: the tape a backward sweep reads forward values from.
``params`` holds the static arguments of a primitive (``axis``, ``keepdims``, index layouts)
as a sorted tuple of pairs so that every node is hashable and printing is deterministic.

This module holds only the grammar: the types and the small walks over them that every
stage needs. The three tools that make later bugs cheap to find live beside it, each with its
own job: ``ir.check`` (definitions before uses, single assignment), ``ir.interpret`` (a
reference interpreter) and ``ir.printer`` (a deterministic text form). They import this
module; this module imports none of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any, Callable, Mapping, Union

from ..errors import Loc
from ..naming import family


@dataclass(frozen=True, slots=True)
class Var:
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True, eq=False)
class Const:
    """A value known when the gradient is built. ``name`` is set for module-level values
    (``ALPHA``, ``math.pi``, a global array): the emitter writes the name, not the value.
    """

    value: Any
    name: str | None = None

    def _key(self) -> tuple:
        v = self.value
        try:
            hash(v)
        except TypeError:
            return (self.name, id(v))
        return (self.name, type(v), v)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Const) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        return self.name or repr(self.value)


Atom = Union[Var, Const]


class Form(StrEnum):
    """How the emitter writes a primitive. A closed set: the emitter has one case per member,
    so a new form cannot be introduced by a typo in a string. Members compare equal to their
    old string values, so code written against strings keeps reading them."""

    INFIX = "infix"  # a + b
    PREFIX = "prefix"  # -a
    CALL = "call"  # np.exp(a)
    LISTCALL = "listcall"  # np.stack([a, b], axis=0)
    GETITEM = "getitem"  # a[i, 1:]
    ATTR = "attr"  # a.T
    NEWLIST = "newlist"  # [] (a tape)
    LIST = "list"  # [a, b]
    APPEND = "append"  # xs + [v]
    TUPLE = "tuple"  # (a, b)
    ASSERT = "assert"  # assert a, b (a statement of its own, like every Effect.OUTPUT row)
    FSTRING = "fstring"  # f"text {a:.3f}" (the text and specs are a static parameter)

    @property
    def operator(self) -> bool:
        """Written with an operator symbol: Python's own broadcasting arithmetic."""
        return self is Form.INFIX or self is Form.PREFIX


class Effect(Enum):
    """What a primitive's result shares with its first argument, for the in-place updates
    the emitter writes and the aliasing the lowering refuses; or that it has no result to
    speak of, only an effect (``OUTPUT``)."""

    NONE = "none"  # a new value, which generated code never updates in place
    VIEW = "view"  # may share memory with its first argument (x.T, x[1:], np.reshape)
    FRESH = "fresh"  # always a new array, which generated code may update in place
    UPDATE = "update"  # a copy of its first argument with a part replaced (y[i] = v)
    # made for what it does (print, assert), written as a statement of its own: it is always
    # kept where it runs, and its result (None) is never read
    OUTPUT = "output"


class LoopKind(StrEnum):
    """``range``: ``for index in range(*header)``; ``reversed``: the same range backwards
    (backward sweeps); ``while``: ``cond_block`` computes ``cond`` before every iteration."""

    RANGE = "range"
    REVERSED = "reversed"
    WHILE = "while"


@dataclass(frozen=True, slots=True, eq=False)
class Primitive:
    """One operation symdiff knows: how it is written, evaluated and whether it broadcasts.

    ``form`` says how the emitter writes it: ``infix`` (``a + b``), ``prefix`` (``-a``),
    ``call`` (``np.exp(a)``), ``listcall`` (``np.stack([a, b], axis=0)``), ``getitem``
    (``a[i, 1:]``), ``attr`` (``a.T``) or ``method`` (``a.conj()``).
    ``spelling`` is the operator symbol or the dotted name the emitter writes.
    Identity is by object: two primitives are the same only if they are the same object.
    """

    name: str
    form: Form
    spelling: str
    impl: Callable[..., Any] = field(repr=False)
    nargs: int = 1  # -1: any number of array arguments
    defaults: tuple[tuple[str, Any], ...] = ()
    elementwise: bool = False  # broadcasting: adjoints are summed back to each input's shape
    linear: bool = False
    differentiable: bool = True
    returns_scalar: bool = False  # always a Python/NumPy scalar (math.*, full reductions)
    effect: Effect = Effect.NONE

    def __post_init__(self) -> None:
        object.__setattr__(self, "form", Form(self.form))  # a string spelling is checked here
        object.__setattr__(self, "effect", Effect(self.effect))

    @property
    def family(self) -> str | None:
        """``"math"`` or ``"np"`` for a module's function: a rule builds with the same family
        (``math.cos`` inside a ``math`` rule); None for operators and helpers."""
        return family(self.name)

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"


Params = tuple[tuple[str, Any], ...]


@dataclass(frozen=True, slots=True)
class Assign:
    target: Var
    prim: Primitive
    args: tuple[Atom, ...]
    params: Params = ()
    loc: Loc | None = None

    def param(self, key: str, default: Any = None) -> Any:
        for k, v in self.params:
            if k == key:
                return v
        return default


@dataclass(frozen=True, slots=True)
class Phi:
    target: Var
    then: Atom
    orelse: Atom


@dataclass(frozen=True, slots=True)
class If:
    cond: Atom
    then: tuple["Stmt", ...]
    orelse: tuple["Stmt", ...]
    phis: tuple[Phi, ...] = ()
    loc: Loc | None = None


@dataclass(frozen=True, slots=True)
class Carry:
    var: Var  # the name the body reads
    init: Atom  # value before the first iteration
    next: Atom  # value at the end of an iteration
    out: Var  # value after the loop


@dataclass(frozen=True, slots=True)
class Loop:
    kind: LoopKind
    header: tuple[Atom, ...]
    index: Var | None
    carries: tuple[Carry, ...]
    body: tuple["Stmt", ...]
    cond_block: tuple["Stmt", ...] = ()
    cond: Atom | None = None
    exit: Atom | None = None
    loc: Loc | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", LoopKind(self.kind))  # "range" is checked here


@dataclass(frozen=True, slots=True)
class Push:
    tape: Var
    values: tuple[Atom, ...]
    loc: Loc | None = None


@dataclass(frozen=True, slots=True)
class Pop:
    tape: Var
    targets: tuple[Var, ...]
    loc: Loc | None = None


Stmt = Union[Assign, If, Loop, Push, Pop]
Block = tuple[Stmt, ...]


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    params: tuple[Var, ...]
    body: Block
    result: Atom
    loc: Loc | None = None
    # how the parameters are declared: names with "/" and "*" markers, and default values
    signature: tuple[str, ...] = ()
    defaults: tuple[tuple[str, Any], ...] = ()
    scalar_params: tuple[Var, ...] = ()  # annotated float or int


# ----------------------------------------------------------------------------- walking


def defined_by(stmt: Stmt) -> tuple[Var, ...]:
    """The variables a statement makes visible after it."""
    if isinstance(stmt, Assign):
        return (stmt.target,)
    if isinstance(stmt, If):
        return tuple(p.target for p in stmt.phis)
    if isinstance(stmt, Pop):
        return stmt.targets
    if isinstance(stmt, Push):
        return ()
    return tuple(c.out for c in stmt.carries)


def loop_locals(loop: Loop) -> set[Var]:
    """Variables bound by the loop itself for its body: the carries and the index."""
    local = {c.var for c in loop.carries}
    if loop.index is not None:
        local.add(loop.index)
    return local


def used_by(stmt: Stmt) -> tuple[Atom, ...]:
    """The atoms a statement reads from the enclosing scope (not those made inside it)."""
    if isinstance(stmt, Assign):
        return stmt.args
    if isinstance(stmt, Push):
        return (stmt.tape, *stmt.values)
    if isinstance(stmt, Pop):
        return (stmt.tape,)
    if isinstance(stmt, If):
        inner = free_atoms(stmt.then, [p.then for p in stmt.phis])
        inner += free_atoms(stmt.orelse, [p.orelse for p in stmt.phis])
        return (stmt.cond, *inner)
    tails = [c.next for c in stmt.carries] + [a for a in (stmt.cond, stmt.exit) if a is not None]
    inner = free_atoms(stmt.cond_block + stmt.body, tails, loop_locals(stmt))
    return (*stmt.header, *(c.init for c in stmt.carries), *inner)


def free_atoms(block: Block, tails: list, bound: set | None = None) -> tuple[Atom, ...]:
    """Variables a block reads that it does not define (``tails`` are read at its end)."""
    bound = set(bound or ())
    free: list[Atom] = []
    for stmt in block:
        for a in used_by(stmt):
            if isinstance(a, Var) and a not in bound:
                free.append(a)
        bound.update(defined_by(stmt))
    free += [a for a in tails if isinstance(a, Var) and a not in bound]
    return tuple(free)


def substitute(block: Block, mapping: Mapping[Var, Atom]) -> Block:
    """The block with every read of a mapped variable replaced (definitions untouched)."""

    def sub(a):
        return mapping.get(a, a) if isinstance(a, Var) else a

    out: list = []
    for s in block:
        if isinstance(s, Assign):
            s = Assign(s.target, s.prim, tuple(map(sub, s.args)), s.params, s.loc)
        elif isinstance(s, Push):
            s = Push(s.tape, tuple(map(sub, s.values)), s.loc)
        elif isinstance(s, If):
            phis = tuple(Phi(p.target, sub(p.then), sub(p.orelse)) for p in s.phis)
            s = If(
                sub(s.cond), substitute(s.then, mapping), substitute(s.orelse, mapping), phis, s.loc
            )
        elif isinstance(s, Loop):
            carries = tuple(Carry(c.var, sub(c.init), sub(c.next), c.out) for c in s.carries)
            s = Loop(
                s.kind, tuple(map(sub, s.header)), s.index, carries, substitute(s.body, mapping),
                substitute(s.cond_block, mapping), sub(s.cond) if s.cond is not None else None,
                sub(s.exit) if s.exit is not None else None, s.loc,
            )  # fmt: skip
        out.append(s)
    return tuple(out)


def iter_assigns(block: Block):
    """Every ``Assign`` in a block, nested blocks included, in program order."""
    for stmt in block:
        if isinstance(stmt, Assign):
            yield stmt
        elif isinstance(stmt, If):
            yield from iter_assigns(stmt.then)
            yield from iter_assigns(stmt.orelse)
        elif isinstance(stmt, Loop):
            yield from iter_assigns(stmt.cond_block)
            yield from iter_assigns(stmt.body)
