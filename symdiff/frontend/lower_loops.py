"""Lowering loops: ``for`` over ranges, arrays, ``enumerate``, ``zip`` and ``reversed``, and
``while``.

A loop becomes one IR ``Loop``: the names assigned in its body and bound before it are its
carries, and after it they hold the loop's results.
"""

from __future__ import annotations

import ast
from typing import Any, Callable, cast

from ..errors import UnsupportedSyntaxError
from ..ir import primitives as P
from ..ir.nodes import Atom, Carry, Const, Loop, LoopKind, Primitive, Stmt, Var
from .lower_base import LoweringBase
from .values import Frame, ListV, TupleV, assigned_names, index_name

# how a loop reads its element at an index (called with None: what a range reads, None)
Reader = Callable[[Any], Any]


class LoopLowering(LoweringBase):
    """Loops: their carries, their headers, and how elements are read."""

    def loop_state(self, frame: Frame, body: list[ast.stmt], targets: set[str]) -> list[str]:
        """Names that flow around a loop: assigned in its body and bound before it."""
        assigned = assigned_names(body) - targets
        return sorted(n for n in assigned if n in frame.env)

    def lower_for(self, frame: Frame, node: ast.For) -> None:
        """``for`` as a range loop over an index: the element is read at the index in the body."""
        src = frame.src
        loc = src.loc(node)
        header, reads = self.iteration(frame, node)
        targets = assigned_names([ast.Assign(targets=[node.target], value=ast.Constant(0))])
        carried = self.loop_state(frame, node.body, targets)
        body_f = frame.fork()
        body_f.loop = True
        carries = self.enter_loop(frame, body_f, carried, node)
        counter = index_name(node.target) if header[1:] and reads(None) is None else "i"
        index = Var(self.build.names.fresh(counter))
        self.memory.kinds.declare(index)  # a range's element: an int
        block: list[Stmt] = []
        with self.build.into(block):
            element = self.rename_temp(reads(index), index_name(node.target))
            if isinstance(node.target, ast.Tuple) and isinstance(element, TupleV):
                element = TupleV(
                    tuple(
                        self.rename_temp(e, t.id) if isinstance(t, ast.Name) else e
                        for e, t in zip(element.items, node.target.elts)
                    )
                )
            self.assign(body_f, node.target, element, node)
        self.nested(body_f, block, node.body)
        runs = runs_once(header)
        final = self.leave_loop(frame, body_f, carries, node.body + [node.target], node, runs)
        self.build.block.append(
            Loop(LoopKind.RANGE, header, index, final, tuple(block), exit=body_f.exit, loc=loc)
        )

    def lower_while(self, frame: Frame, node: ast.While) -> None:
        """``while``: the test is lowered into the loop's condition block, evaluated each time."""
        loc = frame.src.loc(node)
        carried = self.loop_state(frame, node.body, set())
        body_f = frame.fork()
        body_f.loop = True
        carries = self.enter_loop(frame, body_f, carried, node)
        cond_block: list[Stmt] = []
        with self.build.into(cond_block):
            cond = self.condition(body_f, node.test)
        block = self.nested(body_f, [], node.body)
        final = self.leave_loop(frame, body_f, carries, node.body, node)
        self.build.block.append(
            Loop(
                LoopKind.WHILE,
                (),
                None,
                final,
                tuple(block),
                tuple(cond_block),
                cond,
                body_f.exit,
                loc,
            )
        )

    def enter_loop(self, frame: Frame, body_f: Frame, carried: list[str], node: ast.AST) -> dict:
        """A fresh variable for each carried name inside the loop (a literal list it appends to
        becomes a runtime list)."""
        carries = {}
        for name in carried:
            value = frame.env[name]
            if isinstance(value, ListV):  # a list the loop appends to: a runtime list
                items = tuple(self.atom(v, node, frame) for v in value.items)
                value = self.apply(P.make_list, items, (), name, frame, node)
            init = self.atom(value, node, frame)
            var = Var(self.build.names.fresh(name))
            self.memory.entered(var, init)
            carries[name] = (var, init)
            body_f.env[name] = var
        return carries

    def leave_loop(
        self, frame: Frame, body_f: Frame, carries: dict, body: list, node: ast.AST,
        runs: bool = False,
    ) -> tuple[Carry, ...]:  # fmt: skip
        """The loop's carries; after it, the carried names hold the loop's results (the
        last iteration's values when the loop certainly ``runs``, else those or the initial
        ones). Names bound only inside the loop are not visible after it (Python would leave
        the last iteration's value, which does not exist when the loop runs zero times)."""
        out = []
        for name, (var, init) in carries.items():
            nxt = self.atom(body_f.env[name], node, body_f)
            after = Var(self.build.names.fresh(name))
            self.memory.left(var, init, nxt, after, runs)
            out.append(Carry(var, init, nxt, after))
            frame.env[name] = after
        for name in assigned_names(body):
            if name not in carries:
                frame.env.pop(name, None)
        self.memory.settle()
        return tuple(out)

    def iteration(self, frame: Frame, node: ast.For) -> tuple[tuple[Atom, ...], Reader]:
        """The range a ``for`` loop walks and how each element is read at an index."""
        it = node.iter
        loc = frame.src.loc(it)
        if isinstance(it, ast.Call):
            fname = self.callee_object(frame, it.func)
            if any(fname is f for f in (range, enumerate, reversed, zip)):
                return self.call_iteration(frame, node, it, fname)
        seq = self.expr(frame, it)
        if isinstance(seq, (TupleV, ListV)):
            seq = self.atom(seq, it, frame)
        if not isinstance(seq, (Var, Const)):
            raise UnsupportedSyntaxError(
                "for loops walk range(...), an array, enumerate(...) or zip(...)", loc
            )
        items: Atom = seq
        n = self.apply(P.b_len, (items,), (), None, frame, it)
        return (Const(0), n), lambda i: self.item(items, i, frame, it) if i is not None else 0

    def call_iteration(
        self, frame: Frame, node: ast.For, call: ast.Call, fname: Any
    ) -> tuple[tuple[Atom, ...], Reader]:
        """``range(...)``, ``enumerate(...)``, ``reversed(...)`` or ``zip(...)`` as what a
        loop walks. A range reads its index itself (``reads(None)`` is None for it)."""
        it = node.iter
        loc = frame.src.loc(it)
        if fname is range:
            bounds = [self.atom(self.expr(frame, a), a, frame) for a in call.args]
            if not 1 <= len(bounds) <= 3 or call.keywords:
                raise UnsupportedSyntaxError("range() takes 1 to 3 positional arguments", loc)
            if len(bounds) == 1:
                bounds = [Const(0), bounds[0]]
            return tuple(bounds), lambda i: i if i is not None else None
        if fname is enumerate:
            if len(call.args) != 1 or call.keywords:
                raise UnsupportedSyntaxError("enumerate() with a start is not supported", loc)
            inner = ast.For(target=ast.Name("_"), iter=call.args[0], body=[], orelse=[])
            ast.copy_location(inner, node)
            header, reads = self.iteration(frame, inner)
            return header, lambda i: TupleV((i, reads(i))) if i is not None else 0
        if fname is reversed:
            return self.reversed_iteration(frame, node, call)
        if not call.args or call.keywords:
            raise UnsupportedSyntaxError(
                "zip() is supported over one or more sequences, without keywords (strict=)", loc
            )
        seqs = [self.atom(self.expr(frame, a), a, frame) for a in call.args]
        lens = [self.apply(P.b_len, (s,), (), None, frame, it) for s in seqs]
        n = lens[0]
        for other in lens[1:]:
            n = self.apply(P.b_min, (n, other), (), None, frame, it)
        return (Const(0), n), lambda i: (
            TupleV(tuple(self.item(s, i, frame, it) for s in seqs)) if i is not None else 0
        )

    def reversed_iteration(
        self, frame: Frame, node: ast.For, call: ast.Call
    ) -> tuple[tuple[Atom, ...], Reader]:
        """``for v in reversed(seq)``: ``seq`` walked from its end; a range backwards is the
        range of the same elements with the opposite step."""
        loc = frame.src.loc(call)
        if len(call.args) != 1 or call.keywords:
            raise UnsupportedSyntaxError("reversed() takes one argument", loc)
        arg = call.args[0]
        kind = self.callee_object(frame, arg.func) if isinstance(arg, ast.Call) else None
        if kind is enumerate or kind is zip:
            raise UnsupportedSyntaxError(
                f"reversed() of {kind.__name__}(...) fails in Python too "
                f"({kind.__name__} objects cannot be reversed)",
                loc,
                f"write {kind.__name__}(reversed(...)) over the reversed sequence instead",
            )
        inner = ast.For(target=ast.Name("_"), iter=arg, body=[], orelse=[])
        ast.copy_location(inner, node)
        header, reads = self.iteration(frame, inner)
        if reads(None) is None:  # a range
            return self.reversed_range(frame, header, call), reads
        last = self.arith(P.sub, header[1], Const(1), frame, call)
        return header, lambda i: (
            reads(self.arith(P.sub, last, i, frame, call)) if i is not None else 0
        )

    def reversed_range(self, frame: Frame, header: tuple, node: ast.AST) -> tuple[Atom, ...]:
        """``range(a, b, s)`` backwards: ``range(last, a - s, -s)``, with ``last`` the range's
        final element (below ``a - s`` when the range is empty, so the result is empty too)."""
        start, stop = header[0], header[1]
        step = header[2] if len(header) > 2 else Const(1)
        if not (isinstance(step, Const) and isinstance(step.value, int) and step.value != 0):
            raise UnsupportedSyntaxError(
                "reversed(range(...)) needs a constant, non-zero integer step",
                frame.src.loc(node),
                "write the backward range out: range(last, first - 1, -1)",
            )
        s = step.value
        # the count of steps to the final element: (b - a - 1) // s for s > 0, (b - a + 1) // s
        # for s < 0 (floor division rounds the partial step away)
        span = self.arith(P.sub, stop, start, frame, node)
        span = self.arith(P.sub if s > 0 else P.add, span, Const(1), frame, node)
        steps = self.arith(P.floordiv, span, step, frame, node)
        last = self.arith(P.add, start, self.arith(P.mul, steps, step, frame, node), frame, node)
        return (last, self.arith(P.sub, start, step, frame, node), Const(-s))

    def arith(self, prim: Primitive, a: Atom, b: Atom, frame: Frame, node: ast.AST) -> Atom:
        """Integer arithmetic of loop bounds, done now when both sides are plain numbers."""
        if isinstance(a, Const) and isinstance(b, Const) and a.name is None and b.name is None:
            return Const(prim.impl(a.value, b.value))
        if (
            b == Const(0)
            and prim in (P.add, P.sub)
            or b == Const(1)
            and prim in (P.mul, P.floordiv)
        ):
            return a
        return self.apply(prim, (a, b), (), None, frame, node)

    def item(self, seq: Atom, i: Atom, frame: Frame, node: ast.AST) -> Var:
        return self.apply(P.getitem, (seq, i), (("index", (("at", 0),)),), None, frame, node)

    def callee_object(self, frame: Frame, func: ast.expr) -> Any:
        if isinstance(func, ast.Name) and func.id not in frame.env:
            found, obj = frame.src.lookup(func.id)
            return obj if found else None
        return None


def runs_once(header: tuple[Atom, ...]) -> bool:
    """Whether a range loop certainly runs at least once: its bounds are plain numbers
    (``range(3)``, not ``range(n)``) and the range they give is not empty."""
    if not all(
        isinstance(a, Const) and a.name is None and isinstance(a.value, int) for a in header
    ):
        return False
    values = [cast(Const, a).value for a in header]
    return len(range(*values)) > 0
