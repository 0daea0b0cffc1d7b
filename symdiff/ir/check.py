"""The IR checker: the structural rules every stage must keep.

Lowering, differentiation and simplification all build new IR; a variable read before it is
defined, or assigned twice, would otherwise surface much later as a wrong value or a
confusing failure in generated code. ``check`` catches it where it is made, and prints the
offending function (``ir.printer``) with the error so the report shows the IR itself.
"""

from __future__ import annotations

from ..errors import InternalError
from .nodes import Assign, Atom, Block, Function, If, Pop, Push, Var
from .printer import pformat


def check(fn: Function) -> None:
    """Every variable defined before use and assigned once; raises ``InternalError``."""
    seen: set[Var] = set(fn.params)
    if len(seen) != len(fn.params):
        raise InternalError("duplicate parameter", ir=pformat(fn))

    def define(v: Var, scope: set[Var]) -> None:
        if v in seen:
            raise InternalError(f"{v} assigned twice", ir=pformat(fn))
        seen.add(v)
        scope.add(v)

    def need(a: Atom | None, scope: set[Var]) -> None:
        if isinstance(a, Var) and a not in scope:
            raise InternalError(f"{a} used before it is defined", ir=pformat(fn))

    def block(stmts: Block, scope: set[Var]) -> set[Var]:
        scope = set(scope)
        for s in stmts:
            if isinstance(s, Assign):
                for a in s.args:
                    need(a, scope)
                define(s.target, scope)
            elif isinstance(s, Push):
                for a in (s.tape, *s.values):
                    need(a, scope)
            elif isinstance(s, Pop):
                need(s.tape, scope)
                for t in s.targets:
                    define(t, scope)
            elif isinstance(s, If):
                need(s.cond, scope)
                then_scope = block(s.then, scope)
                else_scope = block(s.orelse, scope)
                for p in s.phis:
                    need(p.then, then_scope)
                    need(p.orelse, else_scope)
                    define(p.target, scope)
            else:
                for a in s.header:
                    need(a, scope)
                inner = set(scope)
                for c in s.carries:
                    need(c.init, scope)
                    define(c.var, inner)
                if s.index is not None:
                    define(s.index, inner)
                inner = block(s.cond_block, inner)
                need(s.cond, inner)
                inner = block(s.body, inner)
                for c in s.carries:
                    need(c.next, inner)
                need(s.exit, inner)
                for c in s.carries:
                    define(c.out, scope)
        return scope

    need(fn.result, block(fn.body, seen))
