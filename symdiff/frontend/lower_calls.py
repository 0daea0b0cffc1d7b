"""Lowering calls: primitives, methods, the user's own functions (inlined), and the
refusals of what cannot be called.

A call is resolved to the object it names; a primitive's arguments are split into array
inputs and static parameters (``bind``); a user function is lowered in place with its own
names; anything else is refused with a message that says why, and advises a custom rule only
where a derivative is what is missing.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import types
from typing import Any

import numpy as np

from ..errors import UnsupportedFunctionError, UnsupportedSyntaxError
from ..ir import primitives as P
from ..ir.nodes import Atom, Const, Effect, Form, Primitive, Var
from .fence import fence
from .lower_base import LoweringBase
from .source import get_source
from .values import CUSTOM_RULE_HINT, Frame, ListV, Obj, TupleV, Value, static

_MAX_INLINE_DEPTH = 50


class CallLowering(LoweringBase):
    """Calls: primitives, methods and inlined user functions."""

    def call(
        self, frame: Frame, node: ast.Call, hint: str | None, statement: bool = False
    ) -> Value:
        """A call: a primitive (``np.exp``), a method, ``sum``/``isinstance``/casts, or a user
        function to inline; anything else is refused with the reason. ``print`` is lowered
        only as a ``statement`` (its None is no value to compute with)."""
        src = frame.src
        func = node.func
        if isinstance(func, ast.Attribute):
            self.refuse_dunder(frame, func)
            base = self.expr(frame, func.value)
            if not isinstance(base, Obj):
                return self.method(frame, node, base, func.attr, hint)
            callee = self.attribute(frame, func, None)
        else:
            callee = self.expr(frame, func)
        name = ast.unparse(func)
        obj = callee.value if isinstance(callee, (Obj, Const)) else None
        args = [
            (
                self.comprehension(frame, a, None)
                if isinstance(a, ast.GeneratorExp) and obj is sum
                else self.expr(frame, a)
            )
            for a in node.args
        ]
        kwargs = {k.arg: self.expr(frame, k.value) for k in node.keywords if k.arg is not None}
        prim = P.resolve(obj) if obj is not None else None
        if obj is sum and len(args) == 1 and not kwargs:
            return self.builtin_sum(frame, args[0], hint, node)
        if obj is reversed:
            raise UnsupportedSyntaxError(
                "reversed() is supported only as what a for loop walks (for v in reversed(xs))",
                src.loc(node),
                "to reverse an array, write x[::-1]",
            )
        if obj is isinstance and len(args) == 2:
            args[1] = _classinfo(args[1], frame.src.loc(node.args[1]))
        if isinstance(obj, type) and _is_scalar_type(obj):
            return self.scalar_cast(frame, obj, args, kwargs, node, name)
        if obj is np.array and args:  # a list of values, or a copy of one array
            literal = isinstance(args[0], (ListV, TupleV)) or self.memory.is_list(args[0])
            prim = P.np_array if literal else P.np_array_of
            atoms, params = self.bind(frame, prim, args, kwargs, node, name)
            return self.apply(self.list_variant(prim, args), atoms, params, hint, frame, node)
        if prim is not None and prim.effect is Effect.OUTPUT and not statement:
            raise UnsupportedSyntaxError(
                f"`{name}()` is supported only as a statement of its own",
                src.loc(node),
                f"call {name}(...) on its own line; its result is None",
            )
        if prim is P.b_print:  # print([a, b]) shows a list, not the array np.array makes
            args = [self.as_list(frame, v, node) if isinstance(v, ListV) else v for v in args]
        if prim is not None and prim not in P.INTERNAL_ONLY:
            prim, args, kwargs = P.normalize(prim, args, kwargs)
            args = self.lists_as_arrays(frame, prim, args, node)
            atoms, params = self.bind(frame, prim, args, kwargs, node, name)
            self.check_constant_inputs(frame, prim, atoms, node, name)
            value = self.apply(self.list_variant(prim, args), atoms, params, hint, frame, node)
            return self.results(frame, prim, value, params, node, name)
        if isinstance(obj, types.FunctionType) and _from_library(obj):
            raise UnsupportedFunctionError(
                f"symdiff has no derivative rule for `{name}` ({obj.__module__}.{obj.__qualname__})",
                src.loc(node),
                CUSTOM_RULE_HINT,
            )
        if isinstance(obj, types.FunctionType) and not hasattr(obj, "__symdiff_grad__"):
            return self.inline(frame, obj, args, kwargs, node, hint)
        if isinstance(obj, (types.FunctionType, types.MethodType)) or callable(obj):
            refusal = _refusal_for(obj, name)
            if refusal is not None:
                raise UnsupportedFunctionError(refusal[0], src.loc(node), refusal[1])
            target = getattr(obj, "__qualname__", name)
            raise UnsupportedFunctionError(
                f"symdiff has no derivative rule for `{name}` ({target})",
                src.loc(node),
                CUSTOM_RULE_HINT,
            )
        raise UnsupportedSyntaxError(f"`{name}` is not callable", src.loc(node))

    def check_constant_inputs(
        self, frame: Frame, prim: Primitive, atoms: tuple[Atom, ...], node: ast.AST, name: str
    ) -> None:
        """Random draws and ``np.unique`` are constants only when what they read is: a draw
        from ``normal(0, sigma)`` moves with ``sigma``, ``np.unique(x)`` selects from ``x``."""
        if prim not in P.RANDOM and prim not in P.UNIQUE_NEEDS_CONSTANT:
            return
        if all(self.is_inert(a) for a in atoms):
            return
        if prim in P.RANDOM:
            raise UnsupportedFunctionError(
                f"the arguments of `{name}` depend on the function's inputs, so the draw does "
                "too, and symdiff has no rule for how it moves",
                frame.src.loc(node),
                "draw with fixed parameters and transform the draw, e.g. "
                "loc + scale * np.random.standard_normal(size)",
            )
        raise UnsupportedFunctionError(
            f"`{name}` is supported only on values that do not depend on the function's "
            "inputs (such as lists of indices)",
            frame.src.loc(node),
            "for computed values, pass the unique values in as an argument",
        )

    def scalar_cast(
        self, frame: Frame, kind: type, args: list[Value], kwargs: dict[str, Value],
        node: ast.Call, name: str,
    ) -> Value:  # fmt: skip
        """``np.float32(2.0)``: a NumPy scalar of a constant is a constant, made now."""
        values = [v for v in map(static, [*args, *kwargs.values()]) if isinstance(v, Const)]
        if len(values) != len(args) + len(kwargs):
            raise UnsupportedFunctionError(
                f"`{name}` of a value computed from the inputs is not supported: symdiff "
                "differentiates in float64",
                frame.src.loc(node),
                "convert the inputs before calling the function, or use np.float64(...)",
            )
        try:
            value = kind(*(v.value for v in values[: len(args)]))
        except (TypeError, ValueError, OverflowError) as exc:
            raise UnsupportedSyntaxError(
                f"`{ast.unparse(node)}` fails: {exc}", frame.src.loc(node)
            ) from None
        return Const(value)

    def results(
        self, frame: Frame, prim: Primitive, value: Var, params: tuple, node: ast.AST, name: str
    ) -> Value:
        """A call with several results (``w, v = np.linalg.eigh(a)``) gives a tuple of items."""
        count = P.MULTI_OUTPUT.get(prim)
        if count is None:
            return value
        n = count(dict(params))
        if n == 0:
            return value
        if n is None:
            raise UnsupportedSyntaxError(
                f"the number of results of `{name}` must be known when the gradient is built",
                frame.src.loc(node),
                "pass a constant number of sections or a literal list of split points",
            )
        layout = (("index", (("at", 0),)),)
        return TupleV(
            tuple(
                self.apply(P.tuple_item, (value, Const(i)), layout, None, frame, node)
                for i in range(n)
            )
        )

    def method(
        self, frame: Frame, node: ast.Call, base: Value, attr: str, hint: str | None
    ) -> Value:
        """``x.sum(axis=0)``: an array method, as the primitive of the NumPy function it stands
        for."""
        if attr == "append":
            raise UnsupportedSyntaxError("list.append is not supported yet", frame.src.loc(node))
        prim = P.METHODS.get(attr)
        owner = node.func.value if isinstance(node.func, ast.Attribute) else None
        if prim is None and isinstance(owner, ast.Name) and base in self.memory.params:
            what = f"{owner.id}.{attr}"  # self.helper(x) in a method
            raise UnsupportedFunctionError(
                f"calling `{what}()` is not supported: arguments are arrays and numbers to "
                "symdiff, not objects with methods",
                frame.src.loc(node),
                "make it a module-level function taking arrays, and call that",
            )
        if prim is None:
            raise UnsupportedFunctionError(
                f"the array method `.{attr}()` is not supported",
                frame.src.loc(node),
                "supported methods: "
                + ", ".join(sorted(P.METHODS))
                + "; for anything else, call a supported NumPy function (docs/numpy.md)",
            )
        args = [base] + [self.expr(frame, a) for a in node.args]
        kwargs = {k.arg: self.expr(frame, k.value) for k in node.keywords if k.arg is not None}
        if attr in ("reshape", "transpose") and len(args) > 2:
            args = [
                base,
                TupleV(tuple(args[1:])),
            ]  # x.reshape(n, m) is x.reshape((n, m))
        prim, args, kwargs = P.normalize(prim, args, kwargs)
        atoms, params = self.bind(frame, prim, args, kwargs, node, f".{attr}")
        return self.apply(prim, atoms, params, hint, frame, node)

    def list_variant(self, prim: Primitive, args: list[Value]) -> Primitive:
        """The primitive that takes a runtime list (``np.stack(xs)`` of a list built in a
        loop), where ``prim`` takes a literal one."""
        if prim in P.LIST_CONSUMERS and args and self.memory.is_list(args[0]):
            return P.LIST_CONSUMERS[prim]
        return prim

    def bind(
        self, frame: Frame, prim: Primitive, args: list[Value], kwargs: dict[str, Value],
        node: ast.Call, name: str,
    ) -> tuple[tuple[Atom, ...], tuple[tuple[str, Any], ...]]:  # fmt: skip
        """Split a call's arguments into array inputs (atoms) and static parameters."""
        loc = frame.src.loc(node)
        prim = self.list_variant(prim, args)
        if prim.form is Form.LISTCALL:
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
            v = static(v)
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
        if (
            any(s.func is fn for s in self.inlining.stack)
            or len(self.inlining.stack) > _MAX_INLINE_DEPTH
        ):
            raise UnsupportedSyntaxError(
                f"recursive call to `{fn.__name__}`",
                loc,
                "write the recursion as a loop",
            )
        src = get_source(fn)
        fence(src)
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
        if src not in self.inlining.helpers:
            self.inlining.helpers.append(src)
        inner = Frame(src, env, hint)
        self.inlining.stack.append(src)
        self.inlining.callers.append(
            frame
        )  # an argument updated in place changes the caller's array
        try:
            self.body(inner, src.tree.body)
        finally:
            self.inlining.callers.pop()
        self.inlining.stack.pop()
        if inner.result is None:
            raise UnsupportedSyntaxError(f"`{fn.__name__}` returns no value", loc)
        return inner.result


def _is_scalar_type(obj: Any) -> bool:
    """A NumPy scalar type with no primitive of its own (``np.float32``, ``np.int64``)."""
    return isinstance(obj, type) and issubclass(obj, np.generic) and P.resolve(obj) is None


def _classinfo(v: Value, loc: Any) -> Value:
    """The second argument of ``isinstance``: a class or a tuple of classes, kept by name so
    that the generated code tests against the same classes."""
    if isinstance(v, Obj) and isinstance(v.value, type):
        return Const(v.value, v.path)
    if isinstance(v, TupleV):
        return TupleV(tuple(_classinfo(i, loc) for i in v.items))
    raise UnsupportedSyntaxError(
        "isinstance() needs a class or a tuple of classes written in the function", loc
    )


_BUILTIN_NAMES = sorted(
    p.spelling for p in P.ALL.values() if "." not in p.spelling and hasattr(builtins, p.spelling)
)


def _refusal_for(obj: Any, name: str) -> tuple[str, str] | None:
    """A true message and hint for a callable that needs no derivative rule to be refused:
    a class, a builtin, a random generator's method."""
    owner = getattr(obj, "__self__", None)
    if isinstance(owner, (np.random.RandomState, np.random.Generator)) or (
        getattr(obj, "__module__", None) or ""
    ).startswith("numpy.random"):
        supported = ", ".join(sorted(p.spelling for p in P.RANDOM))
        return (
            f"`{name}` is not a random draw symdiff supports",
            f"draws from NumPy's global generator are constants with respect to the inputs: "
            f"{supported}",
        )
    if isinstance(obj, type):
        return (
            f"`{name}` is a class: symdiff does not construct objects in a differentiated "
            "function",
            "build arrays with NumPy functions (np.array, np.zeros, ...) and pass objects in "
            "as arguments",
        )
    if getattr(obj, "__module__", None) == "builtins" or getattr(builtins, name, None) is obj:
        return (
            f"the builtin `{name}()` is not supported",
            "supported builtins: "
            + ", ".join(_BUILTIN_NAMES)
            + "; range, enumerate, zip and reversed in for loops",
        )
    return None


_LIBRARIES = frozenset({"numpy", "scipy", "math", "builtins"})


def _from_library(fn: types.FunctionType) -> bool:
    """A Python function of NumPy or SciPy: symdiff does not look inside libraries."""
    return (getattr(fn, "__module__", None) or "").split(".")[0] in _LIBRARIES
