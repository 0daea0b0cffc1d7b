"""Common subexpressions of the user's function: a value written twice is computed once.

A user who writes ``np.exp(z - np.max(z)) / np.sum(np.exp(z - np.max(z)))`` means one
exponential; lowered statement by statement it is two, and reverse mode then keeps both
alive and sends an adjoint down each. Merging them before the derivative is built makes the
forward pass do the work once and the backward pass sum one adjoint instead of two.

Exact, so it is on by default: the IR is in single-assignment form and the statements
merged are pure (no effect, or a view of their argument, which nothing updates in place),
so two statements applying the same primitive to the same atoms with the same static
parameters compute the same value, bit for bit. Constants compare by type as well as by
value (``1`` and ``1.0`` stay apart: ``x / 1`` and ``x / 1.0`` differ for integer ``x``).
Random draws, containers and tapes are never merged: two draws are two numbers, two lists
are two objects.
"""

from __future__ import annotations

import dataclasses
from typing import Hashable

from ..ir.nodes import Assign, Atom, Block, Effect, Form, Function, If, Loop, Var, substitute

_CONTAINERS = (Form.NEWLIST, Form.LIST, Form.APPEND)


def pure(stmt: Assign) -> bool:
    """Whether two evaluations of ``stmt`` on the same atoms give the same value."""
    prim = stmt.prim
    if prim.effect not in (Effect.NONE, Effect.VIEW) or prim.form in _CONTAINERS:
        return False
    return not prim.name.startswith("np.random.")


def common_subexpressions(fn: Function) -> tuple[Function, int]:
    """``fn`` with every pure statement that repeats an earlier visible one removed (its
    readers read the first), and how many were removed."""
    same: dict[Var, Atom] = {}

    def key(stmt: Assign) -> Hashable | None:
        try:
            k = (stmt.prim, stmt.args, stmt.params)
            hash(k)
        except TypeError:  # an unhashable static parameter: leave the statement alone
            return None
        return k

    def block(stmts: Block, seen: dict) -> Block:
        out: list = []
        for stmt in stmts:
            if same:  # reads of values merged so far, so that repeats of repeats match
                (stmt,) = substitute((stmt,), same)
            if isinstance(stmt, Assign) and pure(stmt):
                k = key(stmt)
                if k is not None:
                    first = seen.setdefault(k, stmt.target)
                    if first != stmt.target:
                        same[stmt.target] = first
                        continue
            elif isinstance(stmt, If):
                stmt = dataclasses.replace(
                    stmt, then=block(stmt.then, dict(seen)), orelse=block(stmt.orelse, dict(seen))
                )
            elif isinstance(stmt, Loop):
                stmt = dataclasses.replace(
                    stmt,
                    cond_block=block(stmt.cond_block, dict(seen)),
                    body=block(stmt.body, dict(seen)),
                )
            out.append(stmt)
        return tuple(out)

    body = block(fn.body, {})
    if not same:
        return fn, 0
    # a loop's carries and a branch's phis were read before their blocks were merged
    body = substitute(body, same)
    result = same.get(fn.result, fn.result) if isinstance(fn.result, Var) else fn.result
    return dataclasses.replace(fn, body=body, result=result), len(same)
