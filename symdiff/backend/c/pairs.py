"""Sine and cosine of one value computed together: the backward pass's call moved forward.

The derivative of ``cos(y)`` is ``-sin(y)``: a loop that computes ``cos(y)`` tapes ``y`` and
its backward loop calls ``sin`` on it again, so every step pays for two calls of
``<math.h>``, each of them a sizeable part of a scalar loop's time. Computed next to its
partner in the forward loop, the compiler joins the two into one ``sincos`` (GCC and Clang
do with ``-fno-math-errno``), and the backward loop reads the value from the tape: one
call per step where there were two, for one more double on the tape. The numbers are the
same: the same function of the same value, computed earlier.

Only what is certain to help moves: a scalar ``sin``/``cos`` in a backward block, of a value
popped from a tape, whose partner the block that pushes that value computes of the same
value. A call of anything else would cost the same in either pass.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ...abstract.infer import Analysis
from ...abstract.values import Kind
from ...ad.program import GradProgram
from ...ir.nodes import Assign, Block, If, Loop, Pop, Push, Var, iter_assigns

PARTNER = {"math.sin": "math.cos", "math.cos": "math.sin", "np.sin": "np.cos", "np.cos": "np.sin"}


def pair_sincos(prog: GradProgram, analysis: Analysis) -> GradProgram:
    """``prog`` with each movable ``sin``/``cos`` of a popped value computed forward and
    taped (see the module's docstring); ``prog`` itself when there is none."""
    pushes: dict[Var, tuple[Push, Block]] = {}
    _pushes(prog.forward, pushes)
    taken = {s.target.name for s in iter_assigns(prog.forward + prog.backward)}
    moves: dict[Var, list[tuple[Assign, Var, Assign]]] = {}  # by tape: (backward, new, after)
    for block in _blocks(prog.backward):
        pops = {t: (s, k) for s in block if isinstance(s, Pop) for k, t in enumerate(s.targets)}
        for s in block:
            if not (isinstance(s, Assign) and s.prim.name in PARTNER and len(s.args) == 1):
                continue
            popped = pops.get(s.args[0])  # type: ignore[arg-type]
            if popped is None or analysis.value(s.target).kind is not Kind.FLOAT:
                continue
            pop, k = popped
            push, fblock = pushes[pop.tape]
            value = push.values[k]
            if not isinstance(value, Var):
                continue
            partner = next(
                (
                    f
                    for f in fblock
                    if isinstance(f, Assign) and f.prim.name == PARTNER[s.prim.name]
                    and f.args == (value,)
                ),
                None,
            )  # fmt: skip
            if partner is None:
                continue
            stem = f"%{s.prim.name.split('.')[-1]}_{value.name.lstrip('%')}"  # %sin_y
            name, n = stem, 1
            while name in taken:
                n += 1
                name = f"{stem}_{n}"
            new = Var(name)
            taken.add(new.name)
            moves.setdefault(pop.tape, []).append((s, new, partner))
    if not moves:
        return prog
    paired = dataclasses.replace(
        prog,
        forward=_forward(prog.forward, moves, pushes),
        backward=_backward(prog.backward, moves),
        restored=prog.restored + tuple((s.target, new) for m in moves.values() for s, new, _ in m),
    )
    return _drop_unread_entries(paired, set(moves))


def _drop_unread_entries(prog: GradProgram, tapes: set[Var]) -> GradProgram:
    """A tape entry the backward pass no longer reads (the value whose sine it now finds on
    the tape) is neither pushed nor popped."""
    read = _reads(prog.backward) | {a for a in (prog.value, *prog.grads) if isinstance(a, Var)}
    unread: dict[Var, set[int]] = {}
    for block in _blocks(prog.backward):
        for s in block:
            if isinstance(s, Pop) and s.tape in tapes:
                unread[s.tape] = {k for k, t in enumerate(s.targets) if t not in read}
    if not any(unread.values()):
        return prog

    def keep(items: tuple, tape: Var) -> tuple:
        return tuple(a for k, a in enumerate(items) if k not in unread.get(tape, ()))

    def each(s: Any) -> list[Any]:
        if isinstance(s, Push):
            return [dataclasses.replace(s, values=keep(s.values, s.tape))]
        if isinstance(s, Pop):
            return [dataclasses.replace(s, targets=keep(s.targets, s.tape))]
        return [s]

    return dataclasses.replace(
        prog, forward=_rebuild(prog.forward, each), backward=_rebuild(prog.backward, each)
    )


def _reads(block: Block) -> set[Var]:
    out: set[Any] = set()
    for s in block:
        if isinstance(s, Assign):
            out.update(s.args)
        elif isinstance(s, Push):
            out.update(s.values)
        elif isinstance(s, If):
            out.add(s.cond)
            out.update(a for p in s.phis for a in (p.then, p.orelse))
            out |= _reads(s.then) | _reads(s.orelse)
        elif isinstance(s, Loop):
            out.update(s.header)
            out.update(a for c in s.carries for a in (c.init, c.next))
            out.update(a for a in (s.cond, s.exit) if a is not None)
            out |= _reads(s.cond_block) | _reads(s.body)
    return {a for a in out if isinstance(a, Var)}


def _pushes(block: Block, out: dict[Var, tuple[Push, Block]]) -> None:
    for s in block:
        if isinstance(s, Push):
            out[s.tape] = (s, block)
    for b in _children(block):
        _pushes(b, out)


def _children(block: Block) -> list[Block]:
    out: list[Block] = []
    for s in block:
        if isinstance(s, If):
            out += [s.then, s.orelse]
        elif isinstance(s, Loop):
            out += [s.cond_block, s.body]
    return out


def _blocks(block: Block) -> list[Block]:
    return [block, *(b for c in _children(block) for b in _blocks(c))]


def _rebuild(block: Block, each: Any) -> Block:
    out: list[Any] = []
    for s in block:
        if isinstance(s, If):
            s = dataclasses.replace(s, then=_rebuild(s.then, each), orelse=_rebuild(s.orelse, each))
        elif isinstance(s, Loop):
            s = dataclasses.replace(
                s, cond_block=_rebuild(s.cond_block, each), body=_rebuild(s.body, each)
            )
        out.extend(each(s))
    return tuple(out)


def _forward(
    block: Block,
    moves: dict[Var, list[tuple[Assign, Var, Assign]]],
    pushes: dict[Var, tuple[Push, Block]],
) -> Block:
    """Each moved call computed next to its partner, or just before the push when the
    partner comes after it (a push is placed as early as what it tapes allows, so a partner
    of a carried value may follow it): the push must find the value computed."""
    after: dict[int, list[Assign]] = {}
    before: dict[int, list[Assign]] = {}
    for tape, m in moves.items():
        push, fblock = pushes[tape]
        at = {id(f): k for k, f in enumerate(fblock)}
        for s, new, partner in m:
            moved = dataclasses.replace(s, target=new, args=partner.args)
            if at[id(partner)] < at[id(push)]:
                after.setdefault(id(partner), []).append(moved)
            else:
                before.setdefault(id(push), []).append(moved)

    def each(s: Any) -> list[Any]:
        if isinstance(s, Push) and s.tape in moves:
            extra = tuple(n for _, n, _ in moves[s.tape])
            return [*before.get(id(s), []), dataclasses.replace(s, values=s.values + extra)]
        return [s, *after.get(id(s), [])]

    return _rebuild(block, each)


def _backward(block: Block, moves: dict[Var, list[tuple[Assign, Var, Assign]]]) -> Block:
    moved = {id(s) for m in moves.values() for s, _, _ in m}

    def each(s: Any) -> list[Any]:
        if isinstance(s, Pop) and s.tape in moves:
            extra = tuple(b.target for b, _, _ in moves[s.tape])
            return [dataclasses.replace(s, targets=s.targets + extra)]
        return [] if id(s) in moved else [s]

    return _rebuild(block, each)
