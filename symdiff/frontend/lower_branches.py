"""Lowering branches: ``if``, conditional expressions, ``and``/``or``, and joining paths.

Each branch is lowered on its own fork of the path; where they meet, a phi joins every name
(and result, and break flag) that differs. A branch that returns, breaks or continues takes
the statements after the ``if`` into the other branch instead.
"""

from __future__ import annotations

import ast
from typing import Sequence, cast

from ..errors import UnsupportedSyntaxError
from ..ir.nodes import Atom, Const, If, Phi, Stmt, Var
from .lower_base import LoweringBase
from .values import Frame, ListV, Obj, TupleV, Value


class BranchLowering(LoweringBase):
    """Branches and the joins after them."""

    def nested(
        self, frame: Frame, block: list[Stmt], stmts: list[ast.stmt], tail: Sequence[ast.stmt] = ()
    ) -> list[Stmt]:
        """Lower ``stmts`` on the path ``frame`` into ``block`` (appending to it)."""
        with self.build.into(block):
            self.body(frame, stmts, tail)
        return block

    def lower_if(
        self, frame: Frame, node: ast.If, rest: list[ast.stmt], tail: Sequence[ast.stmt] = ()
    ) -> None:
        """An ``if``; when one branch ends the path (return/break/continue), the statements
        after the ``if`` run only on the other, so they are lowered into that branch: all of
        them up to the end of the function or loop body (``tail`` too). An ``elif`` that
        returns is then followed by the final ``return`` on its open path, and a ``break``
        nested in two ``if``s skips the rest of the loop body, as in Python."""
        cond = self.condition(frame, node.test)
        then_f, else_f = frame.fork(), frame.fork()
        then_b = self.nested(then_f, [], node.body, [*rest, *tail])
        else_b = self.nested(else_f, [], node.orelse, [*rest, *tail])
        after = [*rest, *tail]
        if after and then_f.done != else_f.done:
            open_f, open_b = (else_f, else_b) if then_f.done else (then_f, then_b)
            self.nested(open_f, open_b, after)
            open_f.done = True  # this path now reaches the end of the enclosing body
            rest = []
        phis = self.merge(frame, then_f, else_f, node)
        self.build.block.append(
            If(cond, tuple(then_b), tuple(else_b), tuple(phis), frame.src.loc(node))
        )
        frame.done = then_f.done and else_f.done
        if not frame.done and rest:
            self.body(frame, rest)

    def merge(self, frame: Frame, a: Frame, b: Frame, node: ast.AST) -> list[Phi]:
        """Join two paths: a phi for every name (and result, and exit flag) that differs."""
        phis: list[Phi] = []
        loc = frame.src.loc(node)

        def join(x: Value, y: Value, name: str | None) -> Value:
            if x == y:
                return x
            if (
                isinstance(x, (TupleV, ListV))
                and type(x) is type(y)
                and len(x.items) == len(y.items)
            ):
                return type(x)(tuple(join(i, j, name) for i, j in zip(x.items, y.items)))
            if isinstance(x, Obj) or isinstance(y, Obj):
                raise UnsupportedSyntaxError(
                    f"`{name}` names different kinds of object on the two branches", loc
                )
            xa, ya = self.atom(x, node, frame), self.atom(y, node, frame)
            target = Var(self.build.names.fresh(name)) if name else self.build.temp()
            phis.append(Phi(target, xa, ya))
            self.memory.joined(target, (xa, ya))
            return target

        for name in a.env:
            if name in b.env:
                frame.env[name] = join(a.env[name], b.env[name], name)
            else:
                frame.env.pop(name, None)  # bound on one path only: unusable after the join
        for name in list(frame.env):
            if name not in a.env or name not in b.env:
                frame.env.pop(name, None)
        if a.result is not None or b.result is not None:
            if a.result is None or b.result is None:
                raise UnsupportedSyntaxError(
                    "not every path through this `if` returns a value", loc,
                    "return on every path, or assign a variable and return it after the if",
                )  # fmt: skip
            frame.result = join(a.result, b.result, frame.result_name)
        if a.exit is not None or b.exit is not None:
            # two atoms join into an atom (one of them, or a phi)
            frame.exit = cast(Atom, join(a.exit or Const(False), b.exit or Const(False), None))
        return phis

    def condition(self, frame: Frame, test: ast.expr) -> Atom:
        return self.atom(self.expr(frame, test), test, frame)

    def ifexp(self, frame: Frame, node: ast.IfExp, hint: str | None) -> Value:
        """``a if c else b``: a branch, so that only the chosen side is evaluated."""
        cond = self.condition(frame, node.test)
        values = []
        blocks = []
        for side in (node.body, node.orelse):
            f = frame.fork()
            block: list[Stmt] = []
            with self.build.into(block):
                values.append(self.atom(self.expr(f, side), side, f))
            blocks.append(tuple(block))
        target = Var(self.build.names.fresh(hint)) if hint else self.build.temp()
        phi = Phi(target, values[0], values[1])
        self.memory.joined(target, (values[0], values[1]))  # it is one of them, not a copy
        self.build.block.append(If(cond, blocks[0], blocks[1], (phi,), frame.src.loc(node)))
        return target

    def boolop(self, frame: Frame, node: ast.BoolOp, hint: str | None) -> Value:
        """``a and b`` / ``a or b`` with Python's short circuit (``b`` may not be evaluable)."""
        value = self.atom(self.expr(frame, node.values[0]), node.values[0], frame)
        for operand in node.values[1:]:
            block: list[Stmt] = []
            with self.build.into(block):
                right = self.atom(self.expr(frame.fork(), operand), operand, frame)
            target = self.build.temp()
            self.memory.joined(target, (right, value))  # `a or b` is a or b itself
            if isinstance(node.op, ast.And):
                stmt = If(
                    value, tuple(block), (), (Phi(target, right, value),), frame.src.loc(node)
                )
            else:
                stmt = If(
                    value, (), tuple(block), (Phi(target, value, right),), frame.src.loc(node)
                )
            self.build.block.append(stmt)
            value = target
        return value
