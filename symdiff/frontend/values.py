"""What a name stands for while a function is lowered, and the path being lowered.

A name is bound to an IR atom (``Var``, ``Const``), to a tuple or literal list known item by
item, or to a Python object (a module, a function, a class). A ``Frame`` is one path through
a body: its bindings and whether it has returned, broken out or continued. The small
functions at the end read the syntax tree; they need no lowering state.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass
from typing import Any, Iterator, TypeGuard, Union

import numpy as np

from ..ir import primitives as P
from ..ir.nodes import Atom, Const, Var
from .source import Source

CUSTOM_RULE_HINT = (
    "declare its derivative with symdiff.defrule (docs/numpy.md, 'Custom rules'), "
    "or write it with the supported NumPy/math functions listed there"
)

CONSTANT_TYPES = (int, float, bool, complex, str, type(None), np.ndarray, np.generic)


@dataclass(frozen=True)
class TupleV:
    """A tuple of values known item by item (``a, b = b, a``; a helper's tuple return)."""

    items: tuple["Value", ...]


@dataclass(frozen=True)
class ListV:
    """A literal list (``[a, b]``), kept item by item until it is used as one value."""

    items: tuple["Value", ...]


@dataclass(frozen=True)
class Obj:
    """A Python object the function refers to: a module, a function, a class."""

    value: Any
    path: str


Value = Union[Var, Const, TupleV, ListV, Obj]


class Frame:
    """One path through a function body being lowered (the main one or an inlined helper).

    A path is ``done`` once it has returned, broken out of or continued its loop; ``exit``
    is the atom saying whether it broke out (None: it did not).
    """

    def __init__(
        self, src: Source, env: dict[str, Value], result_name: str | None = None, loop: bool = False
    ):
        self.src = src
        self.env = env
        self.result: Value | None = None
        self.result_name = result_name  # what the caller will call the returned value
        self.loop = loop  # inside a loop body: return is refused, break/continue allowed
        self.done = False
        self.exit: Atom | None = None

    def fork(self) -> "Frame":
        f = Frame(self.src, dict(self.env), self.result_name, self.loop)
        return f


def constant_data(obj: Any, depth: int = 0) -> bool:
    """Numbers, strings, arrays, and lists and tuples of them (``OBS_T = [0.0, 0.5]``): data
    the function reads by name. The generated code reads the same object by the same name, so
    a list the module changes later is read as it is then, as the function itself reads it."""
    if isinstance(obj, CONSTANT_TYPES):
        return True
    if isinstance(obj, (list, tuple)) and depth < 32:
        return all(constant_data(v, depth + 1) for v in obj)
    return False


def static(v: Value) -> Value:
    """A static argument as a constant: nested literal lists and tuples become tuples, and a
    type given as a dtype (``float``, ``np.float32``) becomes its dtype name."""
    if isinstance(v, (TupleV, ListV)):
        items = [static(i) for i in v.items]
        consts = [i for i in items if isinstance(i, Const)]
        if len(consts) == len(items):
            return Const(tuple(i.value for i in consts))
    if isinstance(v, Obj) and P.dtype_name(v.value) is not None:
        return Const(P.dtype_name(v.value))
    if isinstance(v, Const) and isinstance(v.value, np.ndarray) and v.value.size <= 64:
        return Const(tuples(v.value.tolist()))  # static parameters are hashable
    if isinstance(v, Const) and isinstance(v.value, list):
        return Const(tuples(v.value))  # a module-level list passed as axis=, shape=, ...
    return v


def tuples(value: Any) -> Any:
    """Nested lists and tuples as nested tuples (hashable, as static parameters must be)."""
    return tuple(map(tuples, value)) if isinstance(value, (list, tuple)) else value


def assigned_names(stmts: list) -> set[str]:
    """Every plain name a block binds: assignment targets, loop targets, appended lists (a
    comprehension's variables are its own, as in Python: they bind nothing in the block)."""
    names: set[str] = set()
    for stmt in stmts:
        for node in _outside_comprehensions(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store):
                if isinstance(node.value, ast.Name):
                    names.add(node.value.id)
            elif is_append(node) and isinstance(node.func, ast.Attribute):
                if isinstance(node.func.value, ast.Name):
                    names.add(node.func.value.id)
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                names.add(node.target.id)
    return names


def _outside_comprehensions(node: ast.AST) -> Iterator[ast.AST]:
    """``ast.walk`` that does not enter comprehensions (their scope is their own)."""
    todo = [node]
    while todo:
        sub = todo.pop()
        yield sub
        if not isinstance(sub, (ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp)):
            todo.extend(ast.iter_child_nodes(sub))


def index_name(target: ast.expr) -> str:
    """The loop counter's name: the user's for ``for i in range(n)``, else ``i``."""
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Tuple) and target.elts and isinstance(target.elts[0], ast.Name):
        return target.elts[0].id
    return "i"


def is_append(node: ast.AST | None) -> TypeGuard[ast.Call]:
    """``xs.append(v)``, the one call made for its effect that symdiff reads."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "append"
    )


def as_load(node: ast.expr) -> ast.expr:
    """An assignment target read as an expression (``y[i] += v`` reads ``y[i]`` first)."""
    node = copy.deepcopy(node)
    for sub in ast.walk(node):
        if hasattr(sub, "ctx"):
            sub.ctx = ast.Load()
    return node


def target_hint(targets: list[ast.expr]) -> str | None:
    """Name the value after the variable it is assigned to, when there is exactly one."""
    if len(targets) == 1 and isinstance(targets[0], ast.Name):
        return targets[0].id
    return None


def op_text(op: ast.operator) -> str:
    """An operator as the user wrote it, for messages."""
    return {
        ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
        ast.MatMult: "@", ast.FloorDiv: "//", ast.Mod: "%", ast.BitAnd: "&", ast.BitOr: "|",
        ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>",
    }.get(type(op), type(op).__name__)  # fmt: skip
