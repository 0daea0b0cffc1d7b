"""A derivative program as an IR ``Function``, so that it can be differentiated again.

``grad(grad(f))``, ``hessian`` and ``hvp`` differentiate the gradient symdiff built. That
gradient already exists as IR (a ``GradProgram``: forward sweep, backward sweep, tapes, the
helper primitives whose rules are in ``rules`` and ``tangents``), so it is handed to the
forward and reverse passes as it is, never written out as text and read back: the second
derivative then depends only on the IR, not on how one backend happens to print it.

``gradient_function`` assembles what the generated ``<f>_grad`` (or ``<f>_value_and_grad``)
computes, statement for statement:

- the statements the generated function runs: both sweeps pruned to what its results read,
  with shape-only reads detached as the emitter does (``optimize.shapes``), so the program
  differentiated is the one that runs;
- ``np.zeros_like(x)`` for an input the result does not depend on;
- the check that ``f`` returned a scalar, when that is not known by construction, as
  ``scalar_checked`` on the first returned value: a check whose result nobody reads would be
  dead code, and this way it travels into every derivative of the result;
- the result: the gradient, or the tuple of gradients (with the value first, for
  ``value_and_grad``).

Its internal variables are renamed, because the passes that differentiate it make internal
names from the same counters: adjoints after their primals (``d_x``), values read back from
a tape after the value they restore, tapes and trip counts after what they are, everything
else to fresh internal names that the emitter may fold into expressions.
"""

from __future__ import annotations

from typing import Callable

from ..errors import UnsupportedFunctionError
from ..ir import primitives as P
from ..ir.nodes import (  # fmt: skip
    Assign,
    Atom,
    Block,
    Carry,
    Const,
    Function,
    If,
    Loop,
    Phi,
    Pop,
    Push,
    Stmt,
    Var,
    defined_by,
    iter_assigns,
)
from ..naming import INTERNAL_PREFIX, MODULES, Counter, NameGen, is_internal
from ..optimize import shapes
from . import analysis
from .program import GradProgram


def gradient_function(prog: GradProgram, name: str, with_value: bool = False) -> Function:
    """The program of the generated ``name`` (``prog``'s ``_grad`` function, or with
    ``with_value`` its ``_value_and_grad``) as an IR ``Function`` with ``prog``'s
    parameters and signature."""
    _refuse_draws(prog)
    counter = Counter("g")
    fresh = lambda: Var(counter())  # noqa: E731
    grads: list[Atom] = []
    zeros: list[Stmt] = []
    for p, g in zip(prog.wrt, prog.grads):
        if g is None:  # what the emitter writes for an input the result does not reach
            z = fresh()
            zeros.append(Assign(z, P.np_zeros_like, (p,), (), prog.loc))
            g = z
        grads.append(g)
    needs_value = with_value or not prog.scalar_value
    live = {a for a in (*grads, *((prog.value,) if needs_value else ())) if isinstance(a, Var)}
    outputs = set(live)
    backward = analysis.prune(prog.backward, live)
    forward, backward = shapes.detach(analysis.prune(prog.forward, live), backward, outputs)
    live = set(outputs)
    backward = analysis.prune(backward, live)
    forward = analysis.prune(forward, live)

    tail: list[Stmt] = list(zeros)

    def make_tuple(items: list[Atom]) -> Atom:
        t = fresh()
        tail.append(Assign(t, P.make_tuple, tuple(items), (), prog.loc))
        return t

    tupled = len(grads) > 1 or prog.tuple_result
    items: list[Atom] = [prog.value] if with_value else []
    if with_value:
        items.append(make_tuple(grads) if tupled else grads[0])
    else:
        items += grads
    if not prog.scalar_value:
        checked = fresh()
        tail.append(
            Assign(
                checked, P.scalar_checked, (items[0], prog.value), (("name", prog.name),), prog.loc
            )
        )
        items[0] = checked
    result = make_tuple(items) if with_value or tupled else items[0]
    body = _own_indices(forward + backward + tuple(tail), set(), fresh)
    body = _export_branch_values(body, result, fresh)
    body, result = _rename(body, result, prog)
    return Function(
        name=name,
        params=prog.params,
        body=body,
        result=result,
        loc=prog.loc,
        signature=prog.signature,
        defaults=prog.defaults,
    )


# ----------------------------------------------------------------------------- scopes


def _export_branch_values(body: Block, result: Atom, fresh: Callable[[], Var]) -> Block:
    """Values made inside a branch and read after it, made visible there through a phi.

    The backward sweep reads a forward branch's values again under the same condition
    (``if c: t = x * x`` ... ``if c: d_x = 2 * t``). Python scoping allows it, the IR's does
    not: there, a value leaves a branch only through a phi. Such a value gets one, with
    ``None`` on the other branch, the path that never reads it (the forward pass keeps
    ``None``'s tangent ``None``). Inner branches are done first, so a value made two
    branches deep leaves both."""
    total: dict[Var, int] = {}
    for a in (*_reads(body), result):
        if isinstance(a, Var):
            total[a] = total.get(a, 0) + 1

    def block(stmts: Block) -> Block:
        out: list[Stmt] = []
        for s in stmts:
            if isinstance(s, If):
                s = branch(s)
            elif isinstance(s, Loop):
                s = Loop(
                    s.kind, s.header, s.index, s.carries, block(s.body), block(s.cond_block),
                    s.cond, s.exit, s.loc,
                )  # fmt: skip
            out.append(s)
        return tuple(out)

    def branch(s: If) -> If:
        sides = [block(s.then), block(s.orelse)]
        tails = [[p.then for p in s.phis], [p.orelse for p in s.phis]]
        exported: list[Var] = []
        inside: list[dict[Var, Var]] = [{}, {}]
        for k, side in enumerate(sides):
            local: dict[Var, int] = {}
            for a in (*_reads(side), *tails[k]):
                if isinstance(a, Var):
                    local[a] = local.get(a, 0) + 1
            for stmt in side:
                for v in defined_by(stmt):
                    if total.get(v, 0) > local.get(v, 0):
                        exported.append(v)
                        inside[k][v] = fresh()
        if not exported:
            return If(s.cond, sides[0], sides[1], s.phis, s.loc)
        renamed = []
        for k in (0, 1):
            names = inside[k]
            renamed.append(_map_block(sides[k], _renaming(names)))
        phis = [Phi(p.target, _look(inside[0], p.then), _look(inside[1], p.orelse)) for p in s.phis]
        for v in exported:
            then, orelse = (inside[k].get(v, Const(None)) for k in (0, 1))
            phis.append(Phi(v, then, orelse))
        return If(s.cond, renamed[0], renamed[1], tuple(phis), s.loc)

    return block(body)


def _own_indices(block: Block, seen: set[Var], fresh: Callable[[], Var]) -> Block:
    """A backward loop runs over its forward loop's index again (``for i in reversed(...)``)
    under the same name; the IR assigns each variable once, so it gets its own."""
    out: list[Stmt] = []
    for s in block:
        if isinstance(s, If):
            s = If(
                s.cond, _own_indices(s.then, seen, fresh), _own_indices(s.orelse, seen, fresh),
                s.phis, s.loc,
            )  # fmt: skip
        elif isinstance(s, Loop):
            if s.index is not None and s.index in seen:
                # the header is read outside the loop: never its own index
                s = _map_loop(s, _renaming({s.index: fresh()}))
            if s.index is not None:
                seen.add(s.index)
            s = Loop(
                s.kind, s.header, s.index, s.carries, _own_indices(s.body, seen, fresh),
                _own_indices(s.cond_block, seen, fresh), s.cond, s.exit, s.loc,
            )  # fmt: skip
        out.append(s)
    return tuple(out)


def _reads(block: Block):
    """Every atom a block reads, nested blocks included, once per place it is read."""
    for s in block:
        if isinstance(s, Assign):
            yield from s.args
        elif isinstance(s, Push):
            yield s.tape
            yield from s.values
        elif isinstance(s, Pop):
            yield s.tape
        elif isinstance(s, If):
            yield s.cond
            yield from _reads(s.then)
            yield from _reads(s.orelse)
            for p in s.phis:
                yield p.then
                yield p.orelse
        else:
            yield from s.header
            for c in s.carries:
                yield c.init
                yield c.next
            yield from _reads(s.cond_block)
            yield from _reads(s.body)
            for a in (s.cond, s.exit):
                if a is not None:
                    yield a


# ----------------------------------------------------------------------------- renaming


def _rename(body: Block, result: Atom, prog: GradProgram) -> tuple[Block, Atom]:
    """Every internal variable given a name no later pass will make (see the module doc)."""
    taken = {v.name for v in _definitions(body) if not is_internal(v.name)}
    taken |= {p.name for p in prog.params} | {prog.name} | set(MODULES)
    gen = NameGen(taken)
    counter = Counter("r")
    adjoint_of = dict(prog.adjoint_of)
    restored = dict(prog.restored)
    names: dict[Var, Var] = {}

    def readable(v: Var) -> str | None:
        """The user-level name of ``v`` once renamed, if it has one."""
        v = names.get(v, v)
        return None if is_internal(v.name) else v.name

    for v in _definitions(body):
        if not is_internal(v.name) or v in names:
            continue
        new: str | None = None
        primal = readable(adjoint_of[v]) if v in adjoint_of else None
        source = readable(restored[v]) if v in restored else None
        if primal is not None:
            new = gen.derivative(primal, prog.kind.tangent_names)
        elif source is not None:
            new = gen.fresh(source)
        else:
            for hint in ("tape", "steps"):
                if v.name.startswith(INTERNAL_PREFIX + hint):
                    new = gen.fresh(hint)
        names[v] = Var(new if new is not None else counter())
    return _map_block(body, _renaming(names)), _look(names, result)


def _definitions(block: Block):
    """Every variable a block defines, nested ones included, in program order."""
    for s in block:
        if isinstance(s, If):
            yield from _definitions(s.then)
            yield from _definitions(s.orelse)
        elif isinstance(s, Loop):
            yield from (c.var for c in s.carries)
            if s.index is not None:
                yield s.index
            yield from _definitions(s.cond_block)
            yield from _definitions(s.body)
        yield from defined_by(s)


def _map_block(block: Block, sub: Callable[[Atom], Atom]) -> Block:
    """The block with every variable, defined or read, replaced by ``sub`` of it."""

    def var(v: Var) -> Var:
        out = sub(v)
        assert isinstance(out, Var)
        return out

    out: list[Stmt] = []
    for s in block:
        if isinstance(s, Assign):
            s = Assign(var(s.target), s.prim, tuple(map(sub, s.args)), s.params, s.loc)
        elif isinstance(s, Push):
            s = Push(var(s.tape), tuple(map(sub, s.values)), s.loc)
        elif isinstance(s, Pop):
            s = Pop(var(s.tape), tuple(map(var, s.targets)), s.loc)
        elif isinstance(s, If):
            phis = tuple(Phi(var(p.target), sub(p.then), sub(p.orelse)) for p in s.phis)
            s = If(sub(s.cond), _map_block(s.then, sub), _map_block(s.orelse, sub), phis, s.loc)
        else:
            s = _map_loop(s, sub)
        out.append(s)
    return tuple(out)


def _map_loop(s: Loop, sub: Callable[[Atom], Atom]) -> Loop:
    def var(v: Var) -> Var:
        out = sub(v)
        assert isinstance(out, Var)
        return out

    def opt(a: Atom | None) -> Atom | None:
        return None if a is None else sub(a)

    carries = tuple(Carry(var(c.var), sub(c.init), sub(c.next), var(c.out)) for c in s.carries)
    return Loop(
        s.kind, tuple(map(sub, s.header)), None if s.index is None else var(s.index), carries,
        _map_block(s.body, sub), _map_block(s.cond_block, sub), opt(s.cond), opt(s.exit), s.loc,
    )  # fmt: skip


def _look(names: dict[Var, Var], a: Atom) -> Atom:
    return names.get(a, a) if isinstance(a, Var) else a


def _renaming(names: dict[Var, Var]) -> Callable[[Atom], Atom]:
    return lambda a: _look(names, a)


def _refuse_draws(prog: GradProgram) -> None:
    """A gradient that draws random numbers cannot be differentiated again: each run of it
    draws anew, so the passes of its derivative would not see the numbers it saw."""
    for stmt in iter_assigns(prog.forward + prog.backward):
        if stmt.prim in P.RANDOM:
            raise UnsupportedFunctionError(
                f"`{stmt.prim.spelling}` draws random numbers, and a gradient that draws them "
                "cannot be differentiated again: every run of it draws anew, so its passes "
                "would not see the same numbers",
                stmt.loc,
                "draw the numbers outside and pass them in as an argument",
            )
