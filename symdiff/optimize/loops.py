"""Loop-invariant code motion on a user's function, before it is differentiated.

A loop body often recomputes a value that does not change from one iteration to the next
(``0.1 * math.sin(x)`` in a 50-step integrator, ``W.T`` in a recurrence). Moving it before
the loop saves the forward work, and, because the pass runs on the primal IR before reverse
mode, it also fixes the backward sweep for free: the hoisted value is read from outside the
loop, so reverse mode sums its adjoint over the iterations in one accumulator (``d_s = d_s +
d_y`` per step) and applies its pullback (``d_x += d_s * 0.1 * math.cos(x)``) once after the
backward loop, where it used to apply it every step. That is what a person writes by hand.

What moves: an assignment at the top level of a loop body whose arguments are all defined
outside the loop (constants, parameters, earlier statements, or statements hoisted already),
whose primitive has no effect a later in-place update could observe (``Effect.NONE`` or a
view of an invariant value), builds no list and is symdiff's own: a random draw is made
anew every iteration, and a function declared with ``defrule`` may have effects of its own. Statements under an ``if`` in the body
stay, as they may not run. Nested loops are treated inside out, so an invariant of an inner
loop can leave the outer one too.

When it moves: only out of a ``for ... in range(...)`` whose trip count is a known positive
number. A loop that may run zero times never evaluates its body, and a hoisted ``math.log(x)``
or ``W @ x`` could then raise where the user's function returns; that change of behaviour is
not worth the saving, so such loops (and ``while`` loops) keep their bodies as written.
"""

from __future__ import annotations

import dataclasses

from ..ir import primitives as P
from ..ir.nodes import (  # fmt: skip
    Assign,
    Block,
    Const,
    Effect,
    Form,
    Function,
    If,
    Loop,
    LoopKind,
    Stmt,
    Var,
    defined_by,
    loop_locals,
)

_LIST_FORMS = (Form.NEWLIST, Form.LIST, Form.APPEND)


def hoist_invariants(fn: Function) -> Function:
    """``fn`` with loop-invariant assignments moved before the loops that recompute them."""
    body = hoist_block(fn.body)
    return fn if body == fn.body else dataclasses.replace(fn, body=body)


def hoist_block(block: Block) -> Block:
    """``block`` with every loop in it (at any depth) rid of its invariant assignments."""
    out: list[Stmt] = []
    for stmt in block:
        if isinstance(stmt, If):
            stmt = dataclasses.replace(
                stmt, then=hoist_block(stmt.then), orelse=hoist_block(stmt.orelse)
            )
        elif isinstance(stmt, Loop):
            stmt = dataclasses.replace(
                stmt, body=hoist_block(stmt.body), cond_block=hoist_block(stmt.cond_block)
            )
            if runs_at_least_once(stmt):
                hoisted, stmt = split_invariants(stmt)
                out.extend(hoisted)
        out.append(stmt)
    return tuple(out)


def runs_at_least_once(loop: Loop) -> bool:
    """A ``range`` loop whose bounds are constants giving one iteration or more."""
    if loop.kind is not LoopKind.RANGE:
        return False
    bounds = []
    for a in loop.header:
        if not isinstance(a, Const) or type(a.value) is not int:
            return False
        bounds.append(a.value)
    try:
        return len(range(*bounds)) > 0
    except (TypeError, ValueError):  # range(1, 2, 0): the user's error, raised where it is
        return False


def movable(stmt: Stmt, variant: set[Var]) -> bool:
    """An assignment that reads nothing the loop changes and that is safe to compute once."""
    if not isinstance(stmt, Assign):
        return False
    prim = stmt.prim
    if prim.effect not in (Effect.NONE, Effect.VIEW) or prim.form in _LIST_FORMS:
        return False
    if P.ALL.get(prim.name) is not prim or prim in P.RANDOM:
        return False  # a draw is made every iteration; a function with a custom rule may count
    return not any(isinstance(a, Var) and a in variant for a in stmt.args)


def split_invariants(loop: Loop) -> tuple[tuple[Assign, ...], Loop]:
    """The loop's invariant assignments, in order, and the loop without them."""
    variant: set[Var] = set(loop_locals(loop))
    hoisted: list[Assign] = []
    kept: list[Stmt] = []
    for stmt in loop.body:
        if movable(stmt, variant):
            assert isinstance(stmt, Assign)
            hoisted.append(stmt)
        else:
            kept.append(stmt)
            variant.update(defined_by(stmt))
    if not hoisted:
        return (), loop
    return tuple(hoisted), dataclasses.replace(loop, body=tuple(kept))
