"""Stacked adjoints: a weight's gradient formed with one matrix product after the loop.

Backpropagation through time adds an outer product into a weight's adjoint every backward
step (``d_Wh += np.outer(d_a, h)``): T small rank-one updates, each a pass over the whole
matrix. The same sum is ``D.T @ H`` where the rows of ``D`` and ``H`` are the per-step
vectors, one matrix product that BLAS runs at full speed; a bias's adjoint (``d_b += d_a``,
the same ``d_a``) is then ``np.sum(D, axis=0)``. This pass makes that change on a typed
derivative program (it needs to know the factors are vectors): the backward loop appends the
factors to lists, and after the loop the lists are stacked and multiplied once.

What it rewrites: a loop of the backward sweep that is not inside another loop and has no
``break``, with an accumulator carry ``acc -> acc + np.outer(u, v)`` (or ``acc -> acc + u``
for a ``u`` stacked for an outer product) where ``u`` and ``v`` are vectors, the accumulator
is read by nothing else in the body and the outer product by nothing but the sum. A loop that
runs zero times leaves the lists empty, and then the accumulator keeps its start value (the
stacking, which needs one row, is under an ``if``).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import Counter

from ..abstract.infer import Analysis
from ..abstract.values import AbstractValue
from ..abstract.values import Kind as ValueKind
from ..ad.program import GradProgram
from ..ir import primitives as P
from ..ir.nodes import (  # fmt: skip
    Assign,
    Atom,
    Block,
    Carry,
    Const,
    If,
    Loop,
    LoopKind,
    Phi,
    Stmt,
    Var,
    iter_assigns,
    used_by,
)
from .specialise import program_types

PREFIX = "%stk"  # the variables this pass introduces (internal: the emitter names them)


def stack_adjoints(prog: GradProgram, args: tuple[AbstractValue, ...]) -> GradProgram:
    """``prog`` with the outer products its backward loops accumulate formed after them."""
    if not any(isinstance(s, Loop) for s in prog.backward):
        return prog
    types = program_types(prog, args)
    defs = {s.target: s for s in iter_assigns(prog.forward + prog.backward)}
    fresh = _Fresh({v.name for v in defs})
    out: list[Stmt] = []
    changed = False
    for stmt in prog.backward:
        if isinstance(stmt, Loop) and stmt.kind is LoopKind.REVERSED and stmt.exit is None:
            rewritten = _Stacker(stmt, types, fresh, defs).run()
            if rewritten is not None:
                out.extend(rewritten)
                changed = True
                continue
        out.append(stmt)
    if not changed:
        return prog
    return dataclasses.replace(prog, backward=zeros_where_read(tuple(out), prog.grads))


def zeros_where_read(block: Block, outputs: tuple) -> Block:
    """A start value ``np.zeros_like(w)`` that only the ``else`` of a stacking reads is made
    there: the loop that ran no step is the only case that needs it."""
    reads: Counter[Atom] = Counter(a for a in outputs if isinstance(a, Var))
    for stmt in _walk(block):
        reads.update(a for a in used_by(stmt) if isinstance(a, Var))
    made = {s.target: s for s in block if isinstance(s, Assign) and s.prim is P.np_zeros_like}
    moved: set[Var] = set()
    out: list[Stmt] = []
    for stmt in block:
        if isinstance(stmt, If) and not stmt.orelse and stmt.phis:
            orelse = [
                made[p.orelse]
                for p in stmt.phis
                if isinstance(p.orelse, Var) and p.orelse in made and reads[p.orelse] == 1
            ]
            moved.update(z.target for z in orelse)
            stmt = dataclasses.replace(stmt, orelse=tuple(orelse))
        out.append(stmt)
    return tuple(s for s in out if not (isinstance(s, Assign) and s.target in moved))


def _walk(block: Block):
    for stmt in block:
        yield stmt
        if isinstance(stmt, If):
            yield from _walk(stmt.then)
            yield from _walk(stmt.orelse)
        elif isinstance(stmt, Loop):
            yield from _walk(stmt.cond_block)
            yield from _walk(stmt.body)


class _Fresh:
    def __init__(self, taken: set[str]):
        self.taken = taken
        self.counter = itertools.count()

    def __call__(self) -> Var:
        while True:
            name = f"{PREFIX}{next(self.counter)}"
            if name not in self.taken:
                self.taken.add(name)
                return Var(name)


def _is_vector(v: AbstractValue) -> bool:
    return v.kind is ValueKind.ARRAY and v.shape is not None and len(v.shape) == 1


class _Stacker:
    """One backward loop: which accumulations to stack, and the statements that do it."""

    def __init__(self, loop: Loop, types: Analysis, fresh: _Fresh, defs: dict[Var, Assign]):
        self.loop = loop
        self.outside = defs
        self.types = types
        self.fresh = fresh
        self.defs = {s.target: s for s in loop.body if isinstance(s, Assign)}
        reads: Counter[Var] = Counter()
        for s in loop.body:
            for a in used_by(s):
                if isinstance(a, Var):
                    reads[a] += 1
        for c in loop.carries:
            if isinstance(c.next, Var):
                reads[c.next] += 1
        self.reads = reads

    def accumulation(self, c: Carry) -> tuple[Assign, Atom] | None:
        """``(acc + g, g)`` when ``c`` is an accumulator updated only by adding ``g``."""
        made = self.defs.get(c.next) if isinstance(c.next, Var) else None
        if made is None or made.prim is not P.add or self.reads[c.var] != 1:
            return None
        a, b = made.args
        g = b if a == c.var else a if b == c.var else None
        if g is None or g == c.var:
            return None
        return made, g

    def outer_factors(self, g: Atom) -> tuple[Atom, Atom] | None:
        made = self.defs.get(g) if isinstance(g, Var) else None
        if made is None or made.prim is not P.np_outer or self.reads[made.target] != 1:
            return None
        u, v = made.args
        if not all(isinstance(x, Var) and _is_vector(self.types.value(x)) for x in (u, v)):
            return None
        return u, v

    def run(self) -> tuple[Stmt, ...] | None:
        outers: dict[Carry, tuple[Assign, Atom, Atom, Atom]] = {}
        sums: dict[Carry, tuple[Assign, Atom]] = {}
        for c in self.loop.carries:
            found = self.accumulation(c)
            if found is None:
                continue
            add, g = found
            factors = self.outer_factors(g)
            if factors is not None:
                outers[c] = (add, g, *factors)
            elif isinstance(g, Var) and _is_vector(self.types.value(g)):
                sums[c] = (add, g)
        if not outers:
            return None
        rows = [x for _, _, u, v in outers.values() for x in (u, v)]
        sums = {c: s for c, s in sums.items() if s[1] in rows}  # a row stacked anyway
        stacked: dict[Atom, Carry] = {}
        for x in rows:
            if x not in stacked:
                lst = self.fresh()
                nxt = self.fresh()
                stacked[x] = Carry(lst, Const(None), nxt, self.fresh())
        # the body: the sums and outer products go, the appends come
        gone = {a for add, g, _, _ in outers.values() for a in (add.target, g)}
        gone |= {add.target for add, _ in sums.values()}
        body = [s for s in self.loop.body if not (isinstance(s, Assign) and s.target in gone)]
        setup: list[Stmt] = []
        carries: list[Carry] = []
        for x, c in stacked.items():
            empty = self.fresh()
            setup.append(Assign(empty, P.make_list, (), (), self.loop.loc))
            assert isinstance(c.next, Var)
            body.append(Assign(c.next, P.list_append, (c.var, x), (), self.loop.loc))
            carries.append(Carry(c.var, empty, c.next, c.out))
        kept = [c for c in self.loop.carries if c not in outers and c not in sums]
        loop = dataclasses.replace(self.loop, body=tuple(body), carries=tuple(carries + kept))
        # after the loop: stack each list once, one product (or sum) per accumulator
        then: list[Stmt] = []
        matrix: dict[Atom, Var] = {}
        for x, c in stacked.items():
            m = self.fresh()
            then.append(Assign(m, P.np_stack_list, (c.out,), (), self.loop.loc))
            matrix[x] = m
        phis = []
        for c, (_, _, u, v) in outers.items():
            ut = self.fresh()
            prod = self.fresh()
            then.append(Assign(ut, P.T_attr, (matrix[u],), (), self.loop.loc))
            then.append(Assign(prod, P.matmul, (ut, matrix[v]), (), self.loop.loc))
            phis.append(Phi(c.out, self.total(c.init, prod, then), c.init))
        for c, (_, g) in sums.items():
            total = self.fresh()
            then.append(Assign(total, P.np_sum, (matrix[g],), (("axis", 0),), self.loop.loc))
            phis.append(Phi(c.out, self.total(c.init, total, then), c.init))
        first = next(iter(stacked.values())).out
        return (*setup, loop, If(first, tuple(then), (), tuple(phis), self.loop.loc))

    def total(self, init: Atom, part: Var, then: list[Stmt]) -> Atom:
        """``init + part``, or ``part`` when ``init`` is the zeros an accumulator starts as."""
        made = self.outside.get(init) if isinstance(init, Var) else None
        if made is not None and made.prim is P.np_zeros_like:
            return part
        s = self.fresh()
        then.append(Assign(s, P.add, (init, part), (), self.loop.loc))
        return s
