"""Lowering statements: the function's entry, assignments, returns, ``append``.

Assignments bind names to values (``Frame.env``); an update of an array element or an
augmented assignment makes a new value, and is refused where Python would change an array
another name also sees.
"""

from __future__ import annotations

import ast
from typing import Any, Sequence, cast

from ..errors import AliasUpdateError, InternalError, SymdiffError, UnsupportedSyntaxError
from ..ir import primitives as P
from ..ir.nodes import Const, Function, Var
from .aliasing import Refusal
from .kinds import scalar_annotation
from .lower_base import LoweringBase
from .lower_exprs import BINOPS
from .values import Frame, ListV, TupleV, Value, as_load, is_append, op_text, target_hint


class StatementLowering(LoweringBase):
    """Statements, in order, on one path at a time."""

    def function(self) -> Function:
        """The root function as IR: its parameters, signature, defaults and body."""
        src = self.root
        args = src.tree.args
        star = args.vararg or args.kwarg
        if star is not None:
            raise UnsupportedSyntaxError(
                "functions with *args or **kwargs cannot be differentiated",
                src.loc(star),
                "give every argument a name",
            )
        params = []
        env: dict[str, Value] = {}
        names = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
        if not self.declared_scalars <= names:
            strays = ", ".join(sorted(self.declared_scalars - names))
            raise InternalError(f"scalars declared for {src.name} are not parameters: {strays}")
        for a in args.posonlyargs + args.args + args.kwonlyargs:
            v = Var(self.build.names.take(a.arg))
            params.append(v)
            env[a.arg] = v
            if a.arg in self.declared_scalars or scalar_annotation(a.annotation):
                self.memory.scalar_params.add(v)
                self.memory.kinds.declare(v)
        signature = [a.arg for a in args.posonlyargs] + (["/"] if args.posonlyargs else [])
        signature += [a.arg for a in args.args]
        signature += (["*"] if args.kwonlyargs else []) + [a.arg for a in args.kwonlyargs]
        defaults = _defaults(src.func, [a.arg for a in args.posonlyargs + args.args])
        self.memory.params = set(params)
        frame = Frame(src, env, src.name)
        self.inlining.stack.append(src)
        self.body(frame, src.tree.body)
        self.inlining.stack.pop()
        if self.memory.kinds.open:
            raise InternalError(f"the lowering of {src.name} left a loop's state open")
        if frame.result is None:
            raise UnsupportedSyntaxError(
                f"{src.name} has no return statement, so there is nothing to differentiate",
                src.loc(src.tree),
                "return the scalar value to differentiate",
            )
        result = self.atom(frame.result, src.tree)
        return Function(
            src.name,
            tuple(params),
            tuple(self.build.block),
            result,
            src.loc(src.tree),
            tuple(signature),
            tuple(defaults),
            tuple(p for p in params if p in self.memory.scalar_params),
        )

    def body(self, frame: Frame, stmts: list[ast.stmt], tail: Sequence[ast.stmt] = ()) -> None:
        """Lower ``stmts`` on the path ``frame``. ``tail`` is what runs after them when the
        path goes on (the rest of the enclosing bodies, up to the function or loop body):
        an ``if`` whose branches return on some paths only lowers it into the others."""
        for i, stmt in enumerate(stmts):
            if frame.done:
                return  # code after return/break/continue never runs
            if isinstance(stmt, ast.If):
                self.lower_if(frame, stmt, stmts[i + 1 :], tail)
                return
            self.statement(frame, stmt)

    def statement(self, frame: Frame, node: ast.stmt) -> None:
        """One statement other than ``if`` (which ``body`` lowers with what follows it)."""
        src = frame.src
        if isinstance(node, ast.Assign):
            value = self.expr(frame, node.value, target_hint(node.targets))
            for target in node.targets:
                self.assign(frame, target, value, node)
        elif isinstance(node, ast.AnnAssign):
            if node.value is not None:
                value = self.expr(frame, node.value, target_hint([node.target]))
                self.assign(frame, node.target, value, node)
        elif isinstance(node, ast.AugAssign):
            self.augassign(frame, node)
        elif isinstance(node, ast.Return):
            if node.value is None:
                raise UnsupportedSyntaxError(
                    "a bare return gives no value to differentiate", src.loc(node)
                )
            if frame.loop:
                raise UnsupportedSyntaxError(
                    "return inside a loop is not supported",
                    src.loc(node),
                    "break out of the loop and return after it",
                )
            frame.result = self.expr(frame, node.value, self._result_hint(frame))
            frame.done = True
        elif isinstance(node, (ast.Break, ast.Continue)):
            if isinstance(node, ast.Break):
                frame.exit = Const(True)
            frame.done = True
        elif isinstance(node, ast.For):
            self.lower_for(frame, node)
        elif isinstance(node, ast.While):
            self.lower_while(frame, node)
        elif isinstance(node, ast.Expr) and is_append(node.value):
            self.append(frame, node.value)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            self.output(frame, node.value)
        elif isinstance(node, ast.Assert):
            args = [self.condition(frame, node.test)]
            if node.msg is not None:  # evaluated eagerly: a message has no effect to skip
                args.append(self.atom(self.expr(frame, node.msg), node.msg, frame))
            self.apply(P.b_assert, tuple(args), (), None, frame, node)
        elif isinstance(node, (ast.Pass, ast.Expr)):
            pass  # docstrings (the fence refuses other expression statements)
        else:
            raise UnsupportedSyntaxError(
                f"{type(node).__name__.lower()} statements are not supported", src.loc(node)
            )

    def output(self, frame: Frame, call: ast.Call) -> None:
        """``print(...)`` on a line of its own: kept in the forward pass, not differentiated.
        Any other call made for its effect is refused (its effect would be lost)."""
        if self.callee_object(frame, call.func) is not print:
            raise UnsupportedSyntaxError(
                "expression statements (calls made for their side effects) are not supported",
                frame.src.loc(call),
                "assign the value to a name, or remove the call",
            )
        self.call(frame, call, None, statement=True)

    def _result_hint(self, frame: Frame) -> str | None:
        return frame.result_name

    def assign(self, frame: Frame, target: ast.expr, value: Value, node: ast.AST) -> None:
        """Bind a value to a target: a name, a tuple of targets, or an array element."""
        if isinstance(target, ast.Name):
            frame.env[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = self.unpack(frame, value, len(target.elts), target)
            for t, v in zip(target.elts, items):
                self.assign(frame, t, v, node)
        elif isinstance(target, ast.Subscript):
            self.setitem(frame, target, value, node)
        else:
            raise UnsupportedSyntaxError(
                f"assignment to {type(target).__name__.lower()} targets is not supported",
                frame.src.loc(target),
            )

    def setitem(self, frame: Frame, target: ast.Subscript, value: Value, node: ast.AST) -> None:
        """``y[i] = v`` as a new array: ``y_1 = setitem(y, v, i)`` (the old ``y`` is unchanged).

        Single assignment makes the overwritten values' gradients come out right: the old
        array's adjoint is zero where it was overwritten. ``y`` may be an argument: the
        gradient is then with respect to its value on entry, and the generated code writes
        into a copy (the emitter never writes into an argument), so it leaves the caller's
        array as it was, where ``f`` itself changes it. Only another name seeing the change
        (an alias, here or in a caller) is refused: its value would silently differ.
        """
        if not isinstance(target.value, ast.Name):
            raise UnsupportedSyntaxError(
                "only assignment into a named array is supported (y[i] = ...)",
                frame.src.loc(target),
            )
        name = target.value.id
        base = self.lookup(frame, name, target.value)
        if not isinstance(base, Var):
            raise UnsupportedSyntaxError(
                f"`{name}` is not an array created in this function", frame.src.loc(target),
                f"make a local copy first: {name} = np.copy({name})",
            )  # fmt: skip
        loc = frame.src.loc(target)

        def refuse(others: list[str], unknown: list[str]) -> SymdiffError:
            return UnsupportedSyntaxError(
                f"assigning into `{name}` would change an array that `{others[0]}` also "
                "names (an in-place update)",
                loc,
                f"make a copy first: {name} = np.copy({name})",
            )

        self.allowed(frame, name, base, refuse, node)
        v = self.atom(value, node, frame)
        layout, idx = self.index_layout(frame, target.slice)
        frame.env[name] = self.apply(
            P.setitem, (base, v, *idx), (("index", layout),), name, frame, target
        )

    def unpack(self, frame: Frame, value: Value, n: int, node: ast.AST) -> tuple[Value, ...]:
        """``a, b = value``: items known now, items of a constant tuple, or read at run time."""
        if isinstance(value, (TupleV, ListV)):
            if len(value.items) != n:
                raise UnsupportedSyntaxError(
                    f"cannot unpack {len(value.items)} values into {n} names",
                    frame.src.loc(node),
                )
            return value.items
        if isinstance(value, Const) and isinstance(value.value, tuple) and len(value.value) == n:
            return tuple(Const(v) for v in value.value)
        atom = self.atom(value, node, frame)
        return tuple(
            self.apply(
                P.getitem,
                (atom, Const(i)),
                (("index", (("at", 0),)),),
                None,
                frame,
                node,
            )
            for i in range(n)
        )

    def augassign(self, frame: Frame, node: ast.AugAssign) -> None:
        """``y += v`` is ``y = y + v`` (a new value; an alias of ``y`` is refused, since
        Python would update the shared array in place and the alias would see it)."""
        target = node.target
        if isinstance(target, ast.Name):
            current = self.lookup(frame, target.id, target)
            if isinstance(current, Var):
                self.allowed(frame, target.id, current, self.alias_refusal(frame, node), node)
        elif not isinstance(target, ast.Subscript):
            raise UnsupportedSyntaxError(
                "augmented assignment to this target is not supported", frame.src.loc(node)
            )
        prim = BINOPS.get(type(node.op))
        if prim is None:
            raise UnsupportedSyntaxError(
                "this augmented assignment is not supported", frame.src.loc(node)
            )
        load = as_load(target)
        current = self.expr(frame, load)
        right = self.expr(frame, node.value)
        hint = target.id if isinstance(target, ast.Name) else None
        args = (self.atom(current, node, frame), self.atom(right, node, frame))
        self.assign(frame, target, self.apply(prim, args, (), hint, frame, node), node)

    def alias_refusal(self, frame: Frame, node: ast.AugAssign) -> Refusal:
        """How ``y += v`` is refused when ``y`` may be an array another name also sees. The
        hint names the parameters whose kind is all that is unknown: if they are numbers,
        saying so makes the update a plain rebinding of a number."""
        name, op, loc = cast(ast.Name, node.target).id, op_text(node.op), frame.src.loc(node)

        def refuse(others: list[str], unknown: list[str]) -> SymdiffError:
            hint = f"write `{name} = {name} {op} ...` to make a new array"
            if unknown:
                names = " and ".join(f"`{u}`" for u in unknown)
                annotated = ", ".join(f"{u}: float" for u in unknown)
                what = (
                    f"{names} is always a number (never an array), annotate the parameter "
                    f"`{annotated}` or pass a float"
                    if len(unknown) == 1
                    else f"{names} are always numbers (never arrays), annotate the parameters "
                    f"`{annotated}` or pass floats"
                )
                hint += f"; or, if {what}, which makes `{name} {op}=` a plain rebinding"
            message = (
                f"`{name} {op}=` would change the array that `{others[0]}` also names "
                "(an in-place update through an alias)"
            )
            if unknown:  # numbers for these make it a rebinding: grad waits for the call
                return AliasUpdateError(message, loc, hint, tuple(unknown))
            return UnsupportedSyntaxError(message, loc, hint)

        return refuse

    def append(self, frame: Frame, call: ast.Call) -> None:
        """``xs.append(v)``: a longer literal list, or in a loop a runtime list."""
        base = call.func.value if isinstance(call.func, ast.Attribute) else None
        loc = frame.src.loc(call)
        current = frame.env.get(base.id) if isinstance(base, ast.Name) else None
        if not isinstance(base, ast.Name) or (
            not isinstance(current, ListV) and not self.memory.is_list(current)
        ):
            raise UnsupportedSyntaxError(
                "append is supported on lists created in this function (xs = [] ...)", loc
            )
        if len(call.args) != 1 or call.keywords:
            raise UnsupportedSyntaxError("append takes one argument", loc)
        item = self.expr(frame, call.args[0])
        if isinstance(current, ListV):
            frame.env[base.id] = ListV(current.items + (item,))
            return
        others = [k for k, v in frame.env.items() if v == current and k != base.id]
        if others:
            raise UnsupportedSyntaxError(
                f"appending to `{base.id}` would change the list `{others[0]}` also names", loc
            )
        v = self.atom(item, call, frame)
        if self.memory.is_list(v):
            raise UnsupportedSyntaxError(
                "a list of lists built at run time cannot be differentiated (the adjoint of "
                "each inner list would be an array, not a list)",
                frame.src.loc(call.args[0]),
                "make each inner list an array as it is appended: np.array([...])",
            )
        runtime_list = cast(Var, current)  # not a literal list, so a runtime one
        frame.env[base.id] = self.apply(P.list_append, (runtime_list, v), (), base.id, frame, call)


def _defaults(f: Any, positional: list[str]) -> list[tuple[str, Any]]:
    """(name, default) for every parameter that has one, positional ones first."""
    values = f.__defaults__ or ()
    out = list(zip(positional[len(positional) - len(values) :], values))
    return out + sorted((f.__kwdefaults__ or {}).items())
