"""Reverse mode through control flow: branches, loops and their tapes.

``Reverse`` (``ad.reverse``) walks a block backwards and applies each assignment's rule; an
``If`` or a ``Loop`` is reversed here. A branch is reversed branch by branch on the condition
the forward sweep computed; a loop becomes a backward loop over its iterations, which pops the
values each forward iteration pushed on its tape (nothing is recomputed). Work that raises for
no finite input and reads nothing the iteration changes is hoisted out of the backward body.
The state these methods share with the rest of the sweep is declared below, so each part
reads as a class of its own.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import TypeGuard

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
    LoopKind,
    Phi,
    Pop,
    Push,
    Var,
    defined_by,
    free_atoms,
    substitute,
    used_by,
)
from ..naming import Counter
from . import analysis
from .builder import Builder


class ControlFlow(ABC):
    """The reverse of ``If`` and ``Loop`` statements, over the sweep's shared state."""

    fn: Function
    b: Builder
    counter: Counter
    pending: dict[Var, list[Atom]]
    adjoint_of: dict[Var, Var]
    tape: Var | None
    tapes: list[Var]
    restored: dict[Var, Var]
    extra: dict[int, tuple]
    trip_counts: dict[int, Var]
    lists: set[Var]
    params_scalar_in_loops: set[Var]

    @abstractmethod
    def block(self, stmts: Block) -> None:
        """Reverse a block into the builder's current block (``Reverse``)."""

    @abstractmethod
    def finish(self, v: Var) -> Atom | None:
        """Sum the contributions to ``v``'s adjoint (``Reverse``)."""

    @abstractmethod
    def is_active(self, a: Atom) -> TypeGuard[Var]:
        """Whether ``a`` depends on the ``wrt`` inputs (``Reverse``)."""

    @abstractmethod
    def is_scalar(self, a: Atom) -> bool:
        """Whether ``a`` is certainly a scalar (``Reverse``)."""

    @abstractmethod
    def is_lazy(self, g: Atom, primal: Atom) -> bool:
        """Whether ``g`` is a scalar adjoint standing for an array (``Reverse``)."""

    def hoist(self, body: list, loop: Loop, local: set[Var]) -> list:
        """Move out of a backward loop the statements that read only values from outside it
        (``math.cos(x)`` for a loop-invariant ``x``): computed once instead of every step.
        Only operations that cannot raise are moved, since the loop may run zero times."""
        inner = {c.var for c in loop.carries} | ({loop.index} if loop.index else set()) | local
        for stmt in _walk_stmts(loop.cond_block + loop.body):
            inner.update(defined_by(stmt))
        kept, moved = [], []
        for stmt in body:
            if (
                isinstance(stmt, Assign)
                and _total(stmt.prim)
                and not any(isinstance(a, Var) and a in inner for a in stmt.args)
            ):
                moved.append(stmt)
            else:
                kept.append(stmt)
                inner.update(defined_by(stmt))
        for stmt in moved:
            self.b.append(stmt)
        return kept

    def zero_like(self, v: Var) -> Atom:
        """A zero adjoint that can cross a branch or a loop iteration: shaped like ``v``."""
        if self.is_scalar(v):
            return Const(0.0)
        if v in self.lists:
            return self.b.apply(P.zeros_like_list, v).atom
        return self.b.apply(P.np_zeros_like, v).atom

    def concrete(self, g: Atom, v: Var) -> Atom:
        """A lazy (scalar) adjoint made into an array shaped like ``v``, before it crosses a
        branch or a loop boundary, where the code after it cannot tell it is lazy."""
        if self.is_lazy(g, v):
            return self.b.apply(P.np_broadcast_to, g, self.b.apply(P.np_shape, v)).atom
        return g

    def sub_block(self, block: Block, seeds: list[tuple[Atom, Atom]]) -> tuple[list, dict]:
        """Reverse a nested block; returns its backward statements and the adjoint
        contributions that escape it (to variables defined outside it)."""
        saved = self.pending
        self.pending = {}
        for atom, g in seeds:
            if self.is_active(atom):
                self.pending.setdefault(atom, []).append(g)
        with self.b.nested() as stmts:
            self.block(block)
            escapes = {}
            for v in sorted(self.pending, key=lambda v: v.name):
                total = self.finish(v)
                if total is not None:
                    escapes[v] = self.concrete(total, v)
        self.pending = saved
        return stmts, escapes

    def if_(self, s: If) -> None:
        seeds = []
        for p in s.phis:
            g = self.finish(p.target)
            if g is not None:
                seeds.append((p, self.concrete(g, p.target)))
        if not seeds:
            return
        self.b.loc = s.loc
        then_b, then_esc = self.sub_block(s.then, [(p.then, g) for p, g in seeds])
        else_b, else_esc = self.sub_block(s.orelse, [(p.orelse, g) for p, g in seeds])
        then_b, pushes_then = self.tape_branch(s.then, then_b)
        else_b, pushes_else = self.tape_branch(s.orelse, else_b)
        self.extra[id(s)] = (pushes_then, pushes_else)
        phis = []
        for v in sorted(set(then_esc) | set(else_esc), key=lambda v: v.name):
            sides = []
            for esc, block in ((then_esc, then_b), (else_esc, else_b)):
                if v in esc:
                    sides.append(esc[v])
                else:
                    with self.b.nested() as zero_stmts:
                        sides.append(self.zero_like(v))
                    block.extend(zero_stmts)
            target = Var(self.counter())
            self.adjoint_of[target] = v
            phis.append(Phi(target, *sides))
            self.pending.setdefault(v, []).append(target)
        self.b.append(If(s.cond, tuple(then_b), tuple(else_b), tuple(phis), s.loc))

    def tape_branch(self, forward: Block, backward: list) -> tuple[list, tuple]:
        """Inside a loop, values a backward branch reads from its forward branch are pushed
        on the loop's tape at the end of that branch and popped at the start of this one."""
        if self.tape is None:
            return backward, ()
        needed = self.needed_from(forward, tuple(backward), set())
        if not needed:
            return backward, ()
        popped = self.pop_targets(needed)
        body = substitute(tuple(backward), dict(zip(needed, popped)))
        return [Pop(self.tape, popped, None), *body], (Push(self.tape, tuple(needed), None),)

    def needed_from(self, forward: Block, backward: Block, local: set[Var], tails=()) -> list[Var]:
        """Forward variables defined in ``forward`` (or ``local``) that ``backward`` reads.

        A loop's trip counter counts as defined by the loop (``rebuild`` adds it there): a
        ``while`` inside a loop runs a different number of times in each iteration, so the
        backward iteration must read its own count from the tape, not the last one."""
        defined = set(local)
        for stmt in forward:
            defined.update(defined_by(stmt))
            if isinstance(stmt, Loop) and id(stmt) in self.trip_counts:
                defined.add(self.trip_counts[id(stmt)])
        free = free_atoms(backward, list(tails))
        out: list[Var] = []
        for a in free:
            if isinstance(a, Var) and a in defined and a not in out:
                out.append(a)
        return out

    def pop_targets(self, needed: list[Var]) -> tuple[Var, ...]:
        targets = []
        for v in needed:
            t = Var(self.counter())
            self.restored[t] = v
            targets.append(t)
        return tuple(targets)

    def loop(self, s: Loop) -> None:
        b = self.b
        b.loc = s.loc
        gouts = {c: self.finish(c.out) for c in s.carries}
        active = [c for c in s.carries if self.is_active(c.var)]
        if not any(gouts[c] is not None for c in active):
            return
        counted = s.kind is not LoopKind.RANGE or s.exit is not None
        tape = Var(f"%tape{self.counter()}")
        outer_tape, self.tape = self.tape, tape
        dvars = {c: Var(self.counter()) for c in active}
        for c in active:
            self.adjoint_of[dvars[c]] = c.var
        saved = self.pending
        self.pending = {}
        for c in active:
            if self.is_active(c.next):
                self.pending.setdefault(c.next, []).append(dvars[c])
        with b.nested() as body:
            self.block(s.cond_block + s.body)
            b.loc = s.loc
            nexts = {}
            for c in active:
                g = self.finish(c.var)
                nexts[c] = self.concrete(g, c.var) if g is not None else self.zero_like(c.var)
            escapes = {}
            for v in sorted(self.pending, key=lambda v: v.name):
                if v == s.index:
                    continue
                g = self.finish(v)
                if g is not None:
                    escapes[v] = g
            accs = {}
            for v, g in escapes.items():
                acc = Var(self.counter())
                made = b.defining(g)
                if made is not None and made.prim is P.index_grad and made.args[1] == v:
                    # the adjoint of x[i]: added into the accumulator at i, not as a full array
                    gg, _, *idx = made.args
                    nxt = b.apply(P.index_add, acc, gg, *idx, index=made.param("index")).atom
                else:
                    nxt = b.apply(P.add, acc, g).atom
                accs[v] = (acc, nxt)
        self.pending = saved
        self.tape = outer_tape
        # an accumulation reads the carried adjoints as the iteration found them: placed
        # early, before they are rebound, so the emitter need not keep a copy (d_y_1)
        adds = {nxt for _, nxt in accs.values() if isinstance(nxt, Var)}
        for stmt in [x for x in body if isinstance(x, Assign) and x.target in adds]:
            body.remove(stmt)
            place_early(body, stmt)
        local_adjoints = set(dvars.values()) | {acc for acc, _ in accs.values()}
        body[:] = self.hoist(body, s, local_adjoints)
        # drop what the rules built but no adjoint uses, before deciding what to tape
        outputs = [*nexts.values(), *(nxt for _, nxt in accs.values())]
        body[:] = analysis.prune(tuple(body), {a for a in outputs if isinstance(a, Var)})
        # the values of the forward iteration this backward iteration reads
        local = {c.var for c in s.carries} | ({s.index} if counted and s.index else set())
        needed = self.needed_from(
            s.cond_block + s.body, tuple(body), local,
            [nexts[c] for c in active] + [a for _, a in accs.values()],
        )  # fmt: skip
        popped = self.pop_targets(needed)
        mapping = dict(zip(needed, popped))
        body_b = substitute(tuple(body), mapping)
        if needed:
            body_b = (Pop(tape, popped, s.loc), *body_b)

        def sub(a: Atom) -> Atom:
            return mapping.get(a, a) if isinstance(a, Var) else a

        # the accumulators first: the emitter coalesces carries in order, and one placed
        # early in the body (see place_early) lets the adjoints after it be rebound in place
        acc_carries = []
        for v, (acc, nxt) in accs.items():
            out = Var(self.counter())
            self.adjoint_of[acc] = v
            self.adjoint_of[out] = v
            zero = Const(0.0) if v in self.params_scalar_in_loops else self.zero_like(v)
            acc_carries.append(Carry(acc, zero, sub(nxt), out))
            self.pending.setdefault(v, []).append(out)
        carries = []
        for c in active:
            g = gouts[c]
            init = self.concrete(g, c.out) if g is not None else self.zero_like(c.out)
            out = Var(self.counter())
            self.adjoint_of[out] = c.var
            carries.append(Carry(dvars[c], init, sub(nexts[c]), out))
            if self.is_active(c.init):
                self.pending.setdefault(c.init, []).append(out)
        carries = acc_carries + carries
        count = None
        if counted:
            count = Var(f"%steps{self.counter()}")
            self.trip_counts[id(s)] = count
            header: tuple[Atom, ...] = (Const(0), count)
            index, kind = None, LoopKind.RANGE
        else:
            header, index, kind = s.header, s.index, LoopKind.REVERSED
        self.extra[id(s)] = ((Push(tape, tuple(needed), s.loc),) if needed else (),)
        if needed or any(isinstance(x, Push) for x in _walk_stmts(body_b)):
            self.tapes.append(tape)
        b.append(Loop(kind, header, index, tuple(carries), body_b, loc=s.loc))

    def rebuild(self, block: Block) -> Block:
        """The forward sweep: ``f``'s statements with the pushes and trip counters that the
        backward sweep asked for."""
        out: list = []
        for s in block:
            extra = self.extra.get(id(s))
            if isinstance(s, If):
                pt, pe = extra or ((), ())
                s = If(
                    s.cond, self.rebuild(s.then) + pt, self.rebuild(s.orelse) + pe, s.phis, s.loc
                )
            elif isinstance(s, Loop):
                body_list = list(self.rebuild(s.body))
                for push in extra[0] if extra else ():
                    place_early(body_list, push)  # before the carries' next values: no copy
                body = tuple(body_list)
                carries = s.carries
                count = self.trip_counts.get(id(s))
                if count is not None:
                    k = Var(self.counter())
                    k1 = Var(self.counter())
                    body = body + (Assign(k1, P.add, (k, Const(1)), (), s.loc),)
                    carries = carries + (Carry(k, Const(0), k1, count),)
                s = Loop(
                    s.kind, s.header, s.index, carries, body, self.rebuild(s.cond_block), s.cond,
                    s.exit, s.loc,
                )  # fmt: skip
            out.append(s)
        return tuple(out)


def place_early(body: list, stmt: Assign | Push) -> None:
    """Insert ``stmt`` into ``body`` as early as the assignments before it allow: after the
    last statement defining what it reads, never above an ``If`` or a ``Loop`` (their pushes
    go on the same tape, which the backward sweep pops in the opposite order) or a ``Pop``.

    A statement that reads a loop's carried values is best placed before the statements that
    compute their next values: the emitter can then rebind the carried names in place."""
    reads = {a for a in used_by(stmt) if isinstance(a, Var)}
    at = len(body)
    while at > 0:
        prev = body[at - 1]
        if not isinstance(prev, Assign) or prev.target in reads:
            break
        at -= 1
    body.insert(at, stmt)


_TOTAL_MATH = frozenset(
    {P.m_sin, P.m_cos, P.m_exp, P.m_tanh, P.m_atan, P.m_sinh, P.m_cosh, P.m_expm1, P.m_erf}
    | {P.m_fabs}
)


def _total(prim) -> bool:
    """Whether an operation computes without raising whatever its (finite) inputs."""
    if prim.family == "np":
        # not np.zeros_like: a fresh array may be updated in place inside the loop
        return prim.elementwise or prim is P.np_shape or prim is P.np_size
    if prim.form.operator:
        return prim in (P.add, P.sub, P.mul, P.neg, P.pos, P.gt, P.lt, P.ge, P.le, P.eq, P.ne)
    return prim in _TOTAL_MATH


def _walk_stmts(block: Block) -> Iterator:
    for s in block:
        yield s
        if isinstance(s, If):
            yield from _walk_stmts(s.then)
            yield from _walk_stmts(s.orelse)
        elif isinstance(s, Loop):
            yield from _walk_stmts(s.body)
