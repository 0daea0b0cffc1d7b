"""Lowering symdiff's own output, so that a generated gradient can be differentiated again.

Generated code is written in the subset symdiff reads, plus a few constructs only symdiff
writes, each lowered here to the IR it was emitted from:

- calls to the runtime helpers (``unbroadcast(g, x)``, ``index_grad(g, x, np.s_[i])``): the
  helper primitives, whose derivative rules are in ``rules`` and ``tangents``;
- ``ensure_scalar(value, "f")``: the check that ``f`` returned a scalar. Its result is not
  read, so it would be dead code; the returned value is passed through ``scalar_checked``
  instead, which keeps the check (and carries it into every derivative of the result);
- the tapes of loops: ``tape = []``, ``tape.append((a, b))`` and ``a, b = tape.pop()``
  become the IR's ``Push`` and ``Pop``; a list adjoint read back with ``.pop()`` too;
- ``np.add.at(d_x, np.s_[i], g)``: ``index_add``, the in-place accumulation of loops;
- ``for i in reversed(range(n))``: a ``reversed`` loop;
- updates in place (``d_x[i] = v`` on an array the code owns): emitted only where nothing
  else can see the array, so they are lowered as the copying update ``setitem``.

Only functions compiled by symdiff take this path (their module is ``symdiff.generated``);
code a user writes never gains these meanings.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import functools
from typing import Any

import numpy as np

from .. import runtime
from ..backend.compiler import is_generated as _compiled_by_symdiff
from ..errors import InternalError, UnsupportedFunctionError, UnsupportedSyntaxError
from ..ir import primitives as P
from ..ir.nodes import Atom, Const, Function, Loop, LoopKind, Pop, Push, Var
from .fence import fence
from .lowering import Lowering
from .source import Source
from .values import Frame, TupleV, Value

# helpers that take or make lists (the adjoints of lists built in loops)
_LIST_HELPERS = frozenset({P.zeros_like_list, P.sum_list_grad, P.add_lists, P.unstack})


def is_generated(src: Source) -> bool:
    """Whether ``src`` is a function symdiff generated and compiled."""
    return _compiled_by_symdiff(src.func)


def _plain(obj: Any) -> Any:
    """The function behind the wrappers ``api`` binds in generated code (partials that pick
    symdiff's error classes, ``math`` functions that return NumPy floats)."""
    for _ in range(10):
        if isinstance(obj, functools.partial):
            obj = obj.func
        elif getattr(obj, "__wrapped__", None) is not None:
            obj = obj.__wrapped__
        else:
            break
    return obj


def _is_ensure_scalar(obj: Any) -> bool:
    return _plain(obj) is runtime.ensure_scalar


def _is_add_at(obj: Any) -> bool:
    return getattr(obj, "__self__", None) is np.add and getattr(obj, "__name__", "") == "at"


def _method_receiver(call: ast.expr, method: str) -> str | None:
    """``name`` when ``call`` is ``name.method(...)``."""
    if (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == method
        and isinstance(call.func.value, ast.Name)
    ):
        return call.func.value.id
    return None


def _add_at_target(call: ast.Call) -> str | None:
    """``acc`` when ``call`` is written ``np.add.at(acc, ...)`` (its meaning is checked when
    it is lowered)."""
    func = call.func
    if (
        isinstance(func, ast.Attribute)
        and func.attr == "at"
        and isinstance(func.value, ast.Attribute)
        and func.value.attr == "add"
        and call.args
        and isinstance(call.args[0], ast.Name)
    ):
        return call.args[0].id
    return None


def _is_effect(node: ast.AST) -> bool:
    """An expression statement generated code makes for its effect (checked when lowered)."""
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)


class GeneratedLowering(Lowering):
    def __init__(self, src: Source, reserved: set[str]):
        super().__init__(src, reserved)
        popped = {_method_receiver(n, "pop") for n in ast.walk(src.tree)} - {None}
        fresh = {
            t.id
            for n in ast.walk(src.tree)
            if isinstance(n, ast.Assign) and isinstance(n.value, ast.List) and not n.value.elts
            for t in n.targets
            if isinstance(t, ast.Name)
        }
        self.tapes = popped & fresh  # lists made empty, appended to and popped: tapes
        self.checks: list[tuple[Atom, str]] = []

    # ------------------------------------------------------------------ statements
    def statement(self, frame: Frame, node: ast.stmt) -> None:
        if _is_effect(node):
            self.effect(frame, node.value)
            return
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            receiver = _method_receiver(node.value, "pop")
            if receiver is not None:
                self.pop(frame, receiver, target, node)
                return
            if isinstance(target, ast.Name) and target.id in self.tapes:
                tape = self.apply(P.new_tape, (), (), target.id, frame, node)
                frame.env[target.id] = tape
                return
        if isinstance(node, ast.Return) and self.checks and node.value is not None:
            frame.result = self.checked(frame, self.expr(frame, node.value, frame.result_name))
            frame.done = True
            return
        super().statement(frame, node)

    def effect(self, frame: Frame, call: ast.Call) -> None:
        loc = frame.src.loc(call)
        receiver = _method_receiver(call, "append")
        if receiver is not None and receiver in self.tapes:
            (item,) = call.args
            parts = item.elts if isinstance(item, ast.Tuple) else [item]
            values = tuple(self.atom(self.expr(frame, p), p, frame) for p in parts)
            self.build.block.append(Push(self.tape(frame, receiver, call), values, loc))
            return
        if receiver is not None:
            super().append(frame, call)
            return
        obj = self.callee(frame, call.func)
        if _is_ensure_scalar(obj):
            value, name = call.args
            self.checks.append((self.atom(self.expr(frame, value), value, frame), name.value))
            return
        if _is_add_at(obj):
            self.add_at(frame, call)
            return
        raise InternalError(f"generated code makes a call for its effect: {ast.unparse(call)}")

    def tape(self, frame: Frame, name: str, node: ast.AST) -> Var:
        tape = frame.env.get(name)
        if not isinstance(tape, Var):
            raise InternalError(f"generated code uses the tape {name} before making it")
        return tape

    def pop(self, frame: Frame, receiver: str, target: ast.expr, node: ast.Assign) -> None:
        """``a, b = tape.pop()``: the forward values a backward iteration reads back."""
        names = target.elts if isinstance(target, ast.Tuple) else [target]
        if not all(isinstance(n, ast.Name) for n in names):
            raise InternalError(f"generated code pops into {ast.unparse(target)}")
        popped = tuple(Var(self.build.names.fresh(n.id)) for n in names)
        tape = self.tape(frame, receiver, node)
        self.build.block.append(Pop(tape, popped, frame.src.loc(node)))
        for n, v in zip(names, popped):
            frame.env[n.id] = v

    def add_at(self, frame: Frame, call: ast.Call) -> None:
        """``np.add.at(acc, np.s_[i], g)``: acc with g added at i (repeated indices add up)."""
        acc, where, value = call.args
        if not isinstance(acc, ast.Name) or not self._is_s_(frame, where):
            raise InternalError(f"unexpected generated call {ast.unparse(call)}")
        base = self.lookup(frame, acc.id, acc)
        layout, idx = self.index_layout(frame, where.slice)
        v = self.atom(self.expr(frame, value), value, frame)
        frame.env[acc.id] = self.apply(
            P.index_add, (base, v, *idx), (("index", layout),), acc.id, frame, call
        )

    def checked(self, frame: Frame, value: Value) -> Value:
        """The returned value (the first of several), passed through the pending checks."""
        items = value.items if isinstance(value, TupleV) else (value,)
        first = self.atom(items[0], frame.src.tree, frame)
        for checked_value, name in self.checks:
            first = self.apply(
                P.scalar_checked, (first, checked_value), (("name", name),), None, frame,
                frame.src.tree,
            )  # fmt: skip
        self.checks = []
        return TupleV((first, *items[1:])) if isinstance(value, TupleV) else first

    def merge(self, frame: Frame, a: Frame, b: Frame, node: ast.AST) -> list:
        """A value made on one branch only stays visible after the ``if``, as None on the
        other branch: generated backward code reads it again under the same condition
        (``if t1: t2 = x * x ... if t1: d_t2 = ...``), never on the path that lacks it."""
        for this, other in ((a, b), (b, a)):
            for name, value in this.env.items():
                if name not in other.env and _placeholder(value) is not None:
                    other.env[name] = _placeholder(value)
        return super().merge(frame, a, b, node)

    # ------------------------------------------------------------------ loops
    def loop_state(self, frame: Frame, body: list[ast.stmt], targets: set[str]) -> list[str]:
        """Arrays accumulated with ``np.add.at`` are loop state too; tapes are updated by
        effects, never carried around a loop as values."""
        state = set(super().loop_state(frame, body, targets))
        for stmt in body:
            for node in ast.walk(stmt):
                if _is_effect(node) and _add_at_target(node.value) in frame.env:
                    state.add(_add_at_target(node.value))
        return sorted(state - self.tapes)

    def leave_loop(
        self, frame: Frame, body_f: Frame, carries: dict, body: list, node: ast.AST
    ) -> tuple:
        """A tape the loop appended to is still the same tape after it."""
        kept = {n: frame.env[n] for n in self.tapes if n in frame.env}
        out = super().leave_loop(frame, body_f, carries, body, node)
        frame.env.update(kept)
        return out

    def lower_for(self, frame: Frame, node: ast.For) -> None:
        it = node.iter
        if (
            isinstance(it, ast.Call)
            and self.callee_object(frame, it.func) is reversed
            and len(it.args) == 1
            and isinstance(it.args[0], ast.Call)
            and self.callee_object(frame, it.args[0].func) is range
        ):
            forward = copy.copy(node)
            forward.iter = it.args[0]
            super().lower_for(frame, forward)
            loop = self.build.block[-1]
            if not isinstance(loop, Loop):
                raise InternalError("lowering a reversed loop did not end with the loop")
            self.build.block[-1] = dataclasses.replace(loop, kind=LoopKind.REVERSED)
            return
        super().lower_for(frame, node)

    # ------------------------------------------------------------------ calls
    def callee(self, frame: Frame, func: ast.expr) -> Any:
        value = self.expr(frame, func)
        return getattr(value, "value", None)

    def call(self, frame: Frame, node: ast.Call, hint: str | None) -> Value:
        func = node.func
        if isinstance(func, ast.Name) and func.id not in frame.env:
            found, obj = frame.src.lookup(func.id)
            prim = P.helper_for(_plain(obj)) if found else None
            if prim is P.index_grad:
                return self.index_grad(frame, node, hint)
            if prim is not None:
                args = [self.expr(frame, a) for a in node.args]
                kwargs = {
                    k.arg: self.expr(frame, k.value) for k in node.keywords if k.arg is not None
                }
                atoms, params = self.bind(frame, prim, args, kwargs, node, func.id)
                return self.apply(prim, atoms, params, hint, frame, node)
        if isinstance(func, ast.Attribute):
            base = self.expr(frame, func.value)
            owner = getattr(base, "value", None)
            plain = _plain(getattr(owner, func.attr, None)) if owner is not None else None
            if plain is not None and plain is not getattr(owner, func.attr, None):
                # ``math.sin`` through api's float64 ``math``: the primitive of math.sin
                prim = P.resolve(plain)
                if prim is not None:
                    args = [self.expr(frame, a) for a in node.args]
                    kwargs = {
                        k.arg: self.expr(frame, k.value) for k in node.keywords if k.arg is not None
                    }
                    prim, args, kwargs = P.normalize(prim, args, kwargs)
                    atoms, params = self.bind(frame, prim, args, kwargs, node, ast.unparse(func))
                    value = self.apply(prim, atoms, params, hint, frame, node)
                    return self.results(frame, prim, value, params, node, ast.unparse(func))
        return super().call(frame, node, hint)

    def index_grad(self, frame: Frame, node: ast.Call, hint: str | None) -> Value:
        """``index_grad(g, x, np.s_[i, 1:])``: the index is written as ``np.s_``."""
        g, x, where = node.args
        if not self._is_s_(frame, where):
            raise InternalError(f"unexpected generated call {ast.unparse(node)}")
        atoms = [self.atom(self.expr(frame, a), a, frame) for a in (g, x)]
        layout, idx = self.index_layout(frame, where.slice)
        return self.apply(P.index_grad, (*atoms, *idx), (("index", layout),), hint, frame, node)

    def _is_s_(self, frame: Frame, node: ast.expr) -> bool:
        return isinstance(node, ast.Subscript) and self.callee(frame, node.value) is np.s_

    def apply(
        self, prim: P.Primitive, args: tuple, params: tuple, hint: str | None, frame: Frame,
        node: ast.AST,
    ) -> Var:  # fmt: skip
        """The list helpers of generated code take lists (user code cannot call them)."""
        if prim in P.RANDOM:
            raise UnsupportedFunctionError(
                f"`{prim.spelling}` draws random numbers, and a gradient that draws them "
                "cannot be differentiated again: every run of it draws anew, so its passes "
                "would not see the same numbers",
                frame.src.loc(node),
                "draw the numbers outside and pass them in as an argument",
            )
        if prim not in _LIST_HELPERS:
            return super().apply(prim, args, params, hint, frame, node)
        saved, self.memory.lists = self.memory.lists, set()
        try:
            target = super().apply(prim, args, params, hint, frame, node)
        finally:
            self.memory.lists = saved
        self.memory.lists.add(target)  # a list adjoint: read back with pop, like a tape
        return target

    def sharing(self, frame: Frame, name: str, value: Value) -> list[str]:
        """Generated code updates an array in place only where nothing else can see it."""
        return []


def lower_generated(src: Source, reserved: set[str]) -> tuple[Function, list[Source]]:
    """Fence and lower a function symdiff generated."""
    tree = copy.deepcopy(src.tree)
    for node in ast.walk(tree):  # effects are checked one by one when lowered
        for field in ("body", "orelse"):
            stmts = getattr(node, field, None)
            if isinstance(stmts, list):
                setattr(node, field, [ast.Pass() if _is_effect(s) else s for s in stmts])
    fence(dataclasses.replace(src, tree=tree))
    lowering = GeneratedLowering(src, reserved)
    try:
        fn = lowering.function()
    except UnsupportedSyntaxError as exc:
        raise UnsupportedSyntaxError(
            f"{exc.message} (in the generated {src.name}, differentiated again)",
            exc.loc,
            exc.hint,
        ) from None
    return fn, lowering.helpers


def _placeholder(value: Value) -> Value | None:
    """What a value made on one branch only stands for on the other: None, item by item for
    a tuple (``t2 = (y, x)`` in one branch, ``np.shape(t2)`` in the matching backward one)."""
    if isinstance(value, (Var, Const)):
        return Const(None)
    if isinstance(value, TupleV):
        items = [_placeholder(v) for v in value.items]
        return None if any(i is None for i in items) else TupleV(tuple(items))
    return None
