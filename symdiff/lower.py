"""Lowering: a Python syntax tree into symdiff's IR.

Each source expression becomes single-assignment statements, one primitive each. The
outermost operation of ``z = W @ x + b`` is named ``z``; inner ones get internal temporary
names the emitter later folds back or names ``t1, t2, ...``. Names are resolved to the
Python objects they denote (``np.exp`` is looked up, not pattern-matched), calls to the
user's own functions are inlined, and module-level values become named constants.
"""

from __future__ import annotations

import ast
import types
from dataclasses import dataclass
from typing import Any, Union

import numpy as np

from . import prims as P
from .errors import UndefinedNameError, UnsupportedFunctionError, UnsupportedSyntaxError
from .fence import fence
from .ir import Assign, Atom, Const, Function, Primitive, Stmt, Var
from .naming import NameGen
from .source import Source, get_source

CUSTOM_RULE_HINT = (
    "declare a rule for it with symdiff.defrule (see the README, 'Custom rules'), "
    "or write it with the NumPy/math functions listed there"
)


@dataclass(frozen=True)
class TupleV:
    """A tuple of values known item by item (``a, b = b, a``; a helper's tuple return)."""

    items: tuple["Value", ...]


@dataclass(frozen=True)
class ListV:
    items: tuple["Value", ...]


@dataclass(frozen=True)
class Obj:
    """A Python object the function refers to: a module, a function, a class."""

    value: Any
    path: str


Value = Union[Var, Const, TupleV, ListV, Obj]

_BINOPS = {
    ast.Add: P.add, ast.Sub: P.sub, ast.Mult: P.mul, ast.Div: P.div, ast.Pow: P.pow,
    ast.MatMult: P.matmul, ast.FloorDiv: P.floordiv, ast.Mod: P.mod, ast.BitAnd: P.and_,
    ast.BitOr: P.or_,
}  # fmt: skip
_UNARY = {ast.USub: P.neg, ast.UAdd: P.pos, ast.Not: P.not_, ast.Invert: P.invert}
_COMPARE = {
    ast.Lt: P.lt,
    ast.LtE: P.le,
    ast.Gt: P.gt,
    ast.GtE: P.ge,
    ast.Eq: P.eq,
    ast.NotEq: P.ne,
}
_CONSTANT_TYPES = (int, float, bool, complex, str, type(None), np.ndarray, np.generic)
_MAX_INLINE_DEPTH = 50


class Frame:
    """The state of one function body being lowered (the main one or an inlined helper)."""

    def __init__(self, src: Source, env: dict[str, Value], result_name: str | None = None):
        self.src = src
        self.env = env
        self.result: Value | None = None
        self.result_name = result_name  # what the caller will call the returned value


class Lowering:
    def __init__(self, src: Source, reserved: set[str]):
        self.root = src
        self.names = NameGen(reserved)
        self.temps = 0
        self.block: list[Stmt] = []
        self.stack: list[Source] = []
        self.helpers: list[Source] = []  # every user function inlined, for emit and caching

    # ---------------------------------------------------------------- entry
    def function(self) -> Function:
        src = self.root
        args = src.tree.args
        if args.vararg or args.kwarg:
            star = args.vararg or args.kwarg
            raise UnsupportedSyntaxError(
                "functions with *args or **kwargs cannot be differentiated",
                src.loc(star),
                "give every argument a name",
            )
        params = []
        env: dict[str, Value] = {}
        for a in args.posonlyargs + args.args + args.kwonlyargs:
            v = Var(self.names.take(a.arg))
            params.append(v)
            env[a.arg] = v
        signature = [a.arg for a in args.posonlyargs] + (["/"] if args.posonlyargs else [])
        signature += [a.arg for a in args.args]
        signature += (["*"] if args.kwonlyargs else []) + [a.arg for a in args.kwonlyargs]
        f = src.func
        positional = [a.arg for a in args.posonlyargs + args.args]
        defaults = list(
            zip(
                positional[len(positional) - len(f.__defaults__ or ()) :],
                f.__defaults__ or (),
            )
        )
        defaults += sorted((f.__kwdefaults__ or {}).items())
        frame = Frame(src, env, src.name)
        self.stack.append(src)
        self.body(frame, src.tree.body)
        self.stack.pop()
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
            tuple(self.block),
            result,
            src.loc(src.tree),
            tuple(signature),
            tuple(defaults),
        )

    # ---------------------------------------------------------------- statements
    def body(self, frame: Frame, stmts: list[ast.stmt]) -> None:
        for stmt in stmts:
            if frame.result is not None:
                return  # code after return never runs
            self.statement(frame, stmt)

    def statement(self, frame: Frame, node: ast.stmt) -> None:
        src = frame.src
        if isinstance(node, ast.Assign):
            value = self.expr(frame, node.value, _hint(node.targets))
            for target in node.targets:
                self.assign(frame, target, value)
        elif isinstance(node, ast.AnnAssign):
            if node.value is not None:
                value = self.expr(frame, node.value, _hint([node.target]))
                self.assign(frame, node.target, value)
        elif isinstance(node, ast.AugAssign):
            self.augassign(frame, node)
        elif isinstance(node, ast.Return):
            if node.value is None:
                raise UnsupportedSyntaxError(
                    "a bare return gives no value to differentiate", src.loc(node)
                )
            frame.result = self.expr(frame, node.value, self._result_hint(frame))
        elif isinstance(node, (ast.Pass, ast.Expr)):
            if isinstance(node, ast.Expr) and not isinstance(node.value, ast.Constant):
                raise UnsupportedSyntaxError("this statement is not supported yet", src.loc(node))
        else:
            raise UnsupportedSyntaxError(
                f"{type(node).__name__.lower()} statements are not supported yet",
                src.loc(node),
                "write the function as straight-line code",
            )

    def _result_hint(self, frame: Frame) -> str | None:
        return frame.result_name

    def assign(self, frame: Frame, target: ast.expr, value: Value) -> None:
        if isinstance(target, ast.Name):
            frame.env[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = self.unpack(frame, value, len(target.elts), target)
            for t, v in zip(target.elts, items):
                self.assign(frame, t, v)
        else:
            raise UnsupportedSyntaxError(
                f"assignment to {type(target).__name__.lower()} targets is not supported yet",
                frame.src.loc(target),
            )

    def unpack(self, frame: Frame, value: Value, n: int, node: ast.AST) -> tuple[Value, ...]:
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
        target = node.target
        if not isinstance(target, ast.Name):
            raise UnsupportedSyntaxError(
                "augmented assignment to this target is not supported yet",
                frame.src.loc(node),
            )
        current = self.lookup(frame, target.id, target)
        others = [k for k, v in frame.env.items() if v == current and k != target.id]
        if others and isinstance(current, Var):
            raise UnsupportedSyntaxError(
                f"`{target.id} {_op_text(node.op)}=` would change the array that "
                f"`{others[0]}` also names (an in-place update through an alias)",
                frame.src.loc(node),
                f"write `{target.id} = {target.id} {_op_text(node.op)} ...` to make a new array",
            )
        prim = _BINOPS.get(type(node.op))
        if prim is None:
            raise UnsupportedSyntaxError(
                "this augmented assignment is not supported", frame.src.loc(node)
            )
        right = self.expr(frame, node.value)
        frame.env[target.id] = self.apply(
            prim,
            (self.atom(current, node, frame), self.atom(right, node, frame)),
            (),
            target.id,
            frame,
            node,
        )

    # ---------------------------------------------------------------- expressions
    def expr(self, frame: Frame, node: ast.expr, hint: str | None = None) -> Value:
        src = frame.src
        if isinstance(node, ast.Constant):
            return Const(node.value)
        if isinstance(node, ast.Name):
            return self.lookup(frame, node.id, node)
        if isinstance(node, ast.BinOp):
            prim = _BINOPS.get(type(node.op))
            if prim is None:
                raise UnsupportedSyntaxError(
                    f"the operator {_op_text(node.op)} is not supported", src.loc(node)
                )
            a = self.atom(self.expr(frame, node.left), node.left, frame)
            b = self.atom(self.expr(frame, node.right), node.right, frame)
            return self.apply(prim, (a, b), (), hint, frame, node)
        if isinstance(node, ast.UnaryOp):
            x = self.expr(frame, node.operand)
            if isinstance(node.op, ast.USub) and isinstance(x, Const) and x.name is None:
                try:
                    return Const(-x.value)
                except TypeError:
                    pass
            prim = _UNARY[type(node.op)]
            return self.apply(prim, (self.atom(x, node.operand, frame),), (), hint, frame, node)
        if isinstance(node, ast.Compare):
            if len(node.ops) != 1:
                raise UnsupportedSyntaxError(
                    "chained comparisons are not supported",
                    src.loc(node),
                    "write `(a < b) & (b < c)` for arrays, or `a < b and b < c` in a condition",
                )
            prim = _COMPARE.get(type(node.ops[0]))
            if prim is None:
                raise UnsupportedSyntaxError(
                    "only <, <=, >, >=, == and != comparisons are supported",
                    src.loc(node),
                )
            a = self.atom(self.expr(frame, node.left), node.left, frame)
            b = self.atom(self.expr(frame, node.comparators[0]), node.comparators[0], frame)
            return self.apply(prim, (a, b), (), hint, frame, node)
        if isinstance(node, ast.Attribute):
            return self.attribute(frame, node, hint)
        if isinstance(node, ast.Call):
            return self.call(frame, node, hint)
        if isinstance(node, ast.Subscript):
            return self.subscript(frame, node, hint)
        if isinstance(node, ast.Tuple):
            return TupleV(tuple(self.expr(frame, e) for e in node.elts))
        if isinstance(node, ast.List):
            return ListV(tuple(self.expr(frame, e) for e in node.elts))
        raise UnsupportedSyntaxError(
            f"{type(node).__name__} expressions are not supported yet", src.loc(node)
        )

    def lookup(self, frame: Frame, name: str, node: ast.AST) -> Value:
        if name in frame.env:
            return frame.env[name]
        found, obj = frame.src.lookup(name)
        if not found:
            raise UndefinedNameError(
                f"the name `{name}` is not defined", frame.src.loc(node),
                "define it before the function is first called",
            )  # fmt: skip
        return self.global_value(frame, obj, name, node)

    def global_value(self, frame: Frame, obj: Any, path: str, node: ast.AST) -> Value:
        """A module-level object: modules and functions stay objects, numbers become constants."""
        if isinstance(obj, _CONSTANT_TYPES) or (
            isinstance(obj, tuple) and all(isinstance(v, _CONSTANT_TYPES) for v in obj)
        ):
            if isinstance(obj, np.ndarray) and obj.dtype == object:
                raise UnsupportedSyntaxError(
                    f"`{path}` is an object array, which cannot be differentiated",
                    frame.src.loc(node),
                )
            return Const(obj, path)
        return Obj(obj, path)

    def attribute(self, frame: Frame, node: ast.Attribute, hint: str | None) -> Value:
        base = self.expr(frame, node.value)
        if isinstance(base, Obj):
            try:
                obj = getattr(base.value, node.attr)
            except AttributeError:
                raise UnsupportedSyntaxError(
                    f"`{base.path}` has no attribute `{node.attr}`", frame.src.loc(node)
                ) from None
            return self.global_value(frame, obj, f"{base.path}.{node.attr}", node)
        prim = P.ATTRIBUTES.get(node.attr)
        if prim is None:
            raise UnsupportedSyntaxError(
                f"the attribute `.{node.attr}` is not supported",
                frame.src.loc(node),
                "supported array attributes: " + ", ".join(sorted(P.ATTRIBUTES)),
            )
        return self.apply(prim, (self.atom(base, node.value, frame),), (), hint, frame, node)

    def subscript(self, frame: Frame, node: ast.Subscript, hint: str | None) -> Value:
        base = self.expr(frame, node.value)
        if isinstance(base, (TupleV, ListV)):
            idx = self.expr(frame, node.slice)
            if isinstance(idx, Const) and isinstance(idx.value, int):
                return base.items[idx.value]
            base = self.atom(base, node.value, frame)
        x = self.atom(base, node.value, frame)
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        layout: list[tuple] = [("tuple",)] if isinstance(node.slice, ast.Tuple) else []
        idx_atoms: list[Atom] = []

        def ref(e: ast.expr | None) -> int | None:
            if e is None:
                return None
            idx_atoms.append(self.atom(self.expr(frame, e), e, frame))
            return len(idx_atoms) - 1

        for part in parts:
            if isinstance(part, ast.Slice):
                layout.append(("slice", ref(part.lower), ref(part.upper), ref(part.step)))
            elif isinstance(part, ast.Constant) and part.value is None:
                layout.append(("newaxis",))
            elif isinstance(part, ast.Constant) and part.value is Ellipsis:
                layout.append(("ellipsis",))
            else:
                layout.append(("at", ref(part)))
        return self.apply(
            P.getitem, (x, *idx_atoms), (("index", tuple(layout)),), hint, frame, node
        )

    # ---------------------------------------------------------------- calls
    def call(self, frame: Frame, node: ast.Call, hint: str | None) -> Value:
        src = frame.src
        func = node.func
        if isinstance(func, ast.Attribute):
            base = self.expr(frame, func.value)
            if not isinstance(base, Obj):
                return self.method(frame, node, base, func.attr, hint)
            callee = self.attribute(frame, func, None)
        else:
            callee = self.expr(frame, func)
        name = ast.unparse(func)
        obj = callee.value if isinstance(callee, (Obj, Const)) else None
        args = [self.expr(frame, a) for a in node.args]
        kwargs = {k.arg: self.expr(frame, k.value) for k in node.keywords}
        prim = P.resolve(obj) if obj is not None else None
        if prim is not None and prim not in P.INTERNAL_ONLY:
            atoms, params = self.bind(frame, prim, args, kwargs, node, name)
            return self.apply(prim, atoms, params, hint, frame, node)
        if isinstance(obj, types.FunctionType) and not hasattr(obj, "__symdiff_grad__"):
            return self.inline(frame, obj, args, kwargs, node, hint)
        if isinstance(obj, (types.FunctionType, types.MethodType)) or callable(obj):
            target = getattr(obj, "__qualname__", name)
            raise UnsupportedFunctionError(
                f"symdiff has no derivative rule for `{name}` ({target})",
                src.loc(node),
                CUSTOM_RULE_HINT,
            )
        raise UnsupportedSyntaxError(f"`{name}` is not callable", src.loc(node))

    def method(
        self, frame: Frame, node: ast.Call, base: Value, attr: str, hint: str | None
    ) -> Value:
        if attr == "append":
            raise UnsupportedSyntaxError("list.append is not supported yet", frame.src.loc(node))
        prim = P.METHODS.get(attr)
        if prim is None:
            raise UnsupportedFunctionError(
                f"the array method `.{attr}()` is not supported",
                frame.src.loc(node),
                "supported methods: " + ", ".join(sorted(P.METHODS)) + "; or " + CUSTOM_RULE_HINT,
            )
        args = [base] + [self.expr(frame, a) for a in node.args]
        kwargs = {k.arg: self.expr(frame, k.value) for k in node.keywords}
        if attr in ("reshape", "transpose") and len(args) > 2:
            args = [
                base,
                TupleV(tuple(args[1:])),
            ]  # x.reshape(n, m) is x.reshape((n, m))
        atoms, params = self.bind(frame, prim, args, kwargs, node, f".{attr}")
        return self.apply(prim, atoms, params, hint, frame, node)

    def bind(
        self, frame: Frame, prim: Primitive, args: list[Value], kwargs: dict[str, Value],
        node: ast.Call, name: str,
    ) -> tuple[tuple[Atom, ...], tuple[tuple[str, Any], ...]]:  # fmt: skip
        """Split a call's arguments into array inputs (atoms) and static parameters."""
        loc = frame.src.loc(node)
        if prim.form == "listcall":
            if not args or not isinstance(args[0], (ListV, TupleV)):
                raise UnsupportedSyntaxError(
                    f"`{name}` needs a literal list or tuple of arrays here", loc,
                    "write the list out, e.g. np.stack([a, b])",
                )  # fmt: skip
            atoms = [self.atom(v, node, frame) for v in args[0].items]
            rest = args[1:]
        elif prim.nargs == -1:
            atoms, rest = [self.atom(v, node, frame) for v in args], []
        else:
            atoms = [self.atom(v, node, frame) for v in args[: prim.nargs]]
            rest = args[prim.nargs :]
            if len(atoms) < prim.nargs:
                raise UnsupportedSyntaxError(
                    f"`{name}` takes {prim.nargs} array argument(s) here, got {len(atoms)}",
                    loc,
                )
        names = [k for k, _ in prim.defaults]
        if len(rest) > len(names):
            raise UnsupportedSyntaxError(f"too many arguments to `{name}`", loc)
        given = dict(zip(names, rest))
        for k, v in kwargs.items():
            if k not in names and prim.differentiable:
                raise UnsupportedSyntaxError(
                    f"the argument `{k}=` of `{name}` is not supported",
                    loc,
                    f"supported: {', '.join(names) or 'none'}",
                )
            given[k] = v
        params = []
        for k, v in given.items():
            if isinstance(v, TupleV) and all(isinstance(i, Const) for i in v.items):
                v = Const(tuple(i.value for i in v.items))
            if not isinstance(v, Const):
                raise UnsupportedSyntaxError(
                    f"the argument `{k}` of `{name}` must be a constant when the gradient is built",
                    loc,
                )
            params.append((k, v.value))
        defaults = dict(prim.defaults)
        kept = tuple(sorted((k, v) for k, v in params if k not in defaults or defaults[k] != v))
        return tuple(atoms), kept

    def inline(
        self, frame: Frame, fn: types.FunctionType, args: list[Value], kwargs: dict[str, Value],
        node: ast.Call, hint: str | None,
    ) -> Value:  # fmt: skip
        """Lower a call to the user's own function in place, with its own names."""
        loc = frame.src.loc(node)
        if any(s.func is fn for s in self.stack) or len(self.stack) > _MAX_INLINE_DEPTH:
            raise UnsupportedSyntaxError(
                f"recursive call to `{fn.__name__}`",
                loc,
                "write the recursion as a loop",
            )
        src = get_source(fn)
        fence(src)
        import inspect

        sig = inspect.signature(fn)
        try:
            bound = sig.bind(*args, **kwargs)
        except TypeError as exc:
            raise UnsupportedSyntaxError(f"bad call to `{fn.__name__}`: {exc}", loc) from None
        env: dict[str, Value] = {}
        for pname, param in sig.parameters.items():
            if pname in bound.arguments:
                value = bound.arguments[pname]
                if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                    raise UnsupportedSyntaxError(
                        f"`{fn.__name__}` takes *args/**kwargs, which cannot be inlined",
                        loc,
                    )
            else:
                value = self.global_value(frame, param.default, repr(param.default), node)
                if isinstance(value, Const):
                    value = Const(value.value)
            env[pname] = self.rename_temp(value, pname)
        if src not in self.helpers:
            self.helpers.append(src)
        inner = Frame(src, env, hint)
        self.stack.append(src)
        self.body(inner, src.tree.body)
        self.stack.pop()
        if inner.result is None:
            raise UnsupportedSyntaxError(f"`{fn.__name__}` returns no value", loc)
        return inner.result

    def rename_temp(self, value: Value, name: str) -> Value:
        """Give a just-computed temporary the name of the parameter it is bound to.

        ``sigmoid(W @ x + b)`` then reads ``z = W @ x + b`` in the generated code.
        """
        if not (isinstance(value, Var) and value.name.startswith("%t")):
            return value
        for i in range(len(self.block) - 1, -1, -1):
            stmt = self.block[i]
            if isinstance(stmt, Assign) and stmt.target == value:
                named = Var(self.names.fresh(name))
                self.block[i] = Assign(named, stmt.prim, stmt.args, stmt.params, stmt.loc)
                return named
        return value

    # ---------------------------------------------------------------- building
    def atom(self, value: Value, node: ast.AST, frame: Frame | None = None) -> Atom:
        """A value as a single IR atom (a tuple of arrays becomes one packed value)."""
        if isinstance(value, (Var, Const)):
            return value
        frame = frame or Frame(self.root, {})
        if isinstance(value, (TupleV, ListV)):
            atoms = tuple(self.atom(v, node, frame) for v in value.items)
            if all(isinstance(a, Const) and a.name is None for a in atoms):
                return Const(tuple(a.value for a in atoms))
            prim = P.make_tuple if isinstance(value, TupleV) else P.np_array
            return self.apply(prim, atoms, (), None, frame, node)
        raise UnsupportedSyntaxError(
            f"`{value.path}` cannot be used as a value here", frame.src.loc(node)
        )

    def apply(
        self, prim: Primitive, args: tuple[Atom, ...], params: tuple, hint: str | None,
        frame: Frame, node: ast.AST,
    ) -> Var:  # fmt: skip
        if hint is None:
            self.temps += 1
            target = Var(f"%t{self.temps}")
        else:
            target = Var(self.names.fresh(hint))
        self.block.append(Assign(target, prim, args, params, frame.src.loc(node)))
        return target


def _hint(targets: list[ast.expr]) -> str | None:
    """Name the value after the variable it is assigned to, when there is exactly one."""
    if len(targets) == 1 and isinstance(targets[0], ast.Name):
        return targets[0].id
    return None


def _op_text(op: ast.operator) -> str:
    return {
        ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
        ast.MatMult: "@", ast.FloorDiv: "//", ast.Mod: "%", ast.BitAnd: "&", ast.BitOr: "|",
        ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>",
    }.get(type(op), type(op).__name__)  # fmt: skip


def lower(src: Source, reserved: set[str]) -> tuple[Function, list[Source]]:
    """Fence and lower ``src``; returns the IR and the helper sources that were inlined."""
    fence(src)
    lowering = Lowering(src, reserved)
    fn = lowering.function()
    return fn, lowering.helpers
