"""symdiff's intermediate representation.

Grammar (every statement carries the ``Loc`` of the source line it came from)::

    Function ::= Function(name, params: (Var, ...), body: Block, result: Atom)
    Block    ::= (Stmt, ...)
    Stmt     ::= Assign(target: Var, prim: Primitive, args: (Atom, ...), params)
               | If(cond: Atom, then: Block, orelse: Block, phis: (Phi, ...))
               | Loop(kind, header: (Atom, ...), index: Var?, carries: (Carry, ...),
                      body: Block, cond: Atom?, exits: ...)
    Phi      ::= Phi(target: Var, then: Atom, orelse: Atom)   # value after an If
    Carry    ::= Carry(var: Var, init: Atom, next: Atom, out: Var)  # loop state
    Atom     ::= Var(name) | Const(value)

The IR is in three-address, single-assignment form: each ``Assign`` applies one primitive
to atoms and every variable is assigned exactly once. Control flow is structured (an ``If``
with two blocks, a loop with its body and explicit loop-carried state), because the output
must read as Python and structured IR maps back to Python one to one. ``params`` holds
the static arguments of a primitive (``axis``, ``keepdims``, index layouts) as a sorted
tuple of pairs so that every node is hashable and printing is deterministic.

After the types come the three tools that make later bugs cheap to find: ``check``
(definitions before uses, single assignment), ``run`` (a reference interpreter) and
``pformat`` (a deterministic printer).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Union

from .errors import InternalError, Loc


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
    form: str
    spelling: str
    impl: Callable[..., Any] = field(repr=False)
    nargs: int = 1  # -1: any number of array arguments
    defaults: tuple[tuple[str, Any], ...] = ()
    elementwise: bool = False  # broadcasting: adjoints are summed back to each input's shape
    linear: bool = False
    differentiable: bool = True
    returns_scalar: bool = False  # always a Python/NumPy scalar (math.*, full reductions)

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
    """``for index in range(*header)`` (kind "range") or ``while cond`` (kind "while").

    For a while loop the body recomputes ``cond`` at its end (``cond_block``); carries hold
    every value that flows around the loop.
    """

    kind: str
    header: tuple[Atom, ...]
    index: Var | None
    carries: tuple[Carry, ...]
    body: tuple["Stmt", ...]
    cond_block: tuple["Stmt", ...] = ()
    cond: Atom | None = None
    loc: Loc | None = None


Stmt = Union[Assign, If, Loop]
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


# ----------------------------------------------------------------------------- walking


def defined_by(stmt: Stmt) -> tuple[Var, ...]:
    """The variables a statement makes visible after it."""
    if isinstance(stmt, Assign):
        return (stmt.target,)
    if isinstance(stmt, If):
        return tuple(p.target for p in stmt.phis)
    return tuple(c.out for c in stmt.carries)


def used_by(stmt: Stmt) -> tuple[Atom, ...]:
    """The atoms a statement reads from the enclosing scope (not those made inside it)."""
    if isinstance(stmt, Assign):
        return stmt.args
    if isinstance(stmt, If):
        inner = _free_atoms(stmt.then, [p.then for p in stmt.phis])
        inner += _free_atoms(stmt.orelse, [p.orelse for p in stmt.phis])
        return (stmt.cond, *inner)
    local = {c.var for c in stmt.carries}
    if stmt.index is not None:
        local.add(stmt.index)
    tails = [c.next for c in stmt.carries] + ([stmt.cond] if stmt.cond is not None else [])
    inner = _free_atoms(stmt.body + stmt.cond_block, tails, local)
    return (*stmt.header, *(c.init for c in stmt.carries), *inner)


def _free_atoms(block: Block, tails: list, bound: set | None = None) -> tuple[Atom, ...]:
    bound = set(bound or ())
    free: list[Atom] = []
    for stmt in block:
        for a in used_by(stmt):
            if isinstance(a, Var) and a not in bound:
                free.append(a)
        bound.update(defined_by(stmt))
    free += [a for a in tails if isinstance(a, Var) and a not in bound]
    return tuple(free)


def iter_assigns(block: Block):
    """Every ``Assign`` in a block, nested blocks included, in program order."""
    for stmt in block:
        if isinstance(stmt, Assign):
            yield stmt
        elif isinstance(stmt, If):
            yield from iter_assigns(stmt.then)
            yield from iter_assigns(stmt.orelse)
        else:
            yield from iter_assigns(stmt.body)
            yield from iter_assigns(stmt.cond_block)


# ----------------------------------------------------------------------------- checker


def check(fn: Function) -> None:
    """Every variable defined before use and assigned once; raises ``InternalError``."""
    seen: set[Var] = set(fn.params)
    if len(seen) != len(fn.params):
        raise InternalError("duplicate parameter", ir=pformat(fn))

    def define(v: Var) -> None:
        if v in seen:
            raise InternalError(f"{v} assigned twice", ir=pformat(fn))
        seen.add(v)

    def need(a: Atom, scope: set[Var]) -> None:
        if isinstance(a, Var) and a not in scope:
            raise InternalError(f"{a} used before it is defined", ir=pformat(fn))

    def block(stmts: Block, scope: set[Var]) -> set[Var]:
        scope = set(scope)
        for s in stmts:
            if isinstance(s, Assign):
                for a in s.args:
                    need(a, scope)
                define(s.target)
                scope.add(s.target)
            elif isinstance(s, If):
                need(s.cond, scope)
                t = block(s.then, scope)
                e = block(s.orelse, scope)
                for p in s.phis:
                    need(p.then, t)
                    need(p.orelse, e)
                    define(p.target)
                    scope.add(p.target)
            else:
                for a in s.header:
                    need(a, scope)
                inner = set(scope)
                for c in s.carries:
                    need(c.init, scope)
                    define(c.var)
                    inner.add(c.var)
                if s.index is not None:
                    define(s.index)
                    inner.add(s.index)
                inner = block(s.body + s.cond_block, inner)
                for c in s.carries:
                    need(c.next, inner)
                if s.cond is not None:
                    need(s.cond, inner)
                for c in s.carries:
                    define(c.out)
                    scope.add(c.out)
        return scope

    need(fn.result, block(fn.body, seen))


# ----------------------------------------------------------------------------- interpreter


def run(fn: Function, *args: Any) -> Any:
    """Evaluate the IR directly: the reference the lowered program is tested against."""
    env: dict[Var, Any] = dict(zip(fn.params, args, strict=True))

    def val(a: Atom) -> Any:
        return a.value if isinstance(a, Const) else env[a]

    def block(stmts: Block) -> None:
        for s in stmts:
            if isinstance(s, Assign):
                env[s.target] = s.prim.impl(*map(val, s.args), **dict(s.params))
            elif isinstance(s, If):
                taken = bool(val(s.cond))
                block(s.then if taken else s.orelse)
                for p in s.phis:
                    env[p.target] = val(p.then if taken else p.orelse)
            else:
                for c in s.carries:
                    env[c.var] = val(c.init)
                if s.kind == "range":
                    for i in range(*map(val, s.header)):
                        if s.index is not None:
                            env[s.index] = i
                        block(s.body)
                        for c in s.carries:
                            env[c.var] = val(c.next)
                else:
                    block(s.cond_block)
                    while val(s.cond):
                        block(s.body)
                        nxt = [val(c.next) for c in s.carries]
                        for c, v in zip(s.carries, nxt):
                            env[c.var] = v
                        block(s.cond_block)
                for c in s.carries:
                    env[c.out] = env[c.var]

    block(fn.body)
    return val(fn.result)


# ----------------------------------------------------------------------------- printer


def pformat(fn: Function) -> str:
    """A stable, line-per-statement text form used in tests and bug reports."""
    lines = [f"def {fn.name}({', '.join(map(str, fn.params))}):"]

    def fmt_assign(s: Assign) -> str:
        args = ", ".join(map(str, s.args))
        params = "".join(f", {k}={v!r}" for k, v in s.params)
        return f"{s.target} = {s.prim.name}({args}{params})"

    def block(stmts: Block, depth: int) -> None:
        pad = "    " * depth
        for s in stmts:
            if isinstance(s, Assign):
                lines.append(pad + fmt_assign(s))
            elif isinstance(s, If):
                lines.append(f"{pad}if {s.cond}:")
                block(s.then, depth + 1)
                lines.append(f"{pad}else:")
                block(s.orelse, depth + 1)
                for p in s.phis:
                    lines.append(f"{pad}{p.target} = phi({p.then}, {p.orelse})")
            else:
                carries = ", ".join(f"{c.var}={c.init}->{c.next}" for c in s.carries)
                head = ", ".join(map(str, s.header)) if s.kind == "range" else str(s.cond)
                lines.append(f"{pad}loop {s.kind}({head}) index={s.index} [{carries}]:")
                block(s.body + s.cond_block, depth + 1)
                for c in s.carries:
                    lines.append(f"{pad}{c.out} = {c.var}")

    block(fn.body, 1)
    lines.append(f"    return {fn.result}")
    return "\n".join(lines)
