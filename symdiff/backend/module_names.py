"""The module-level names generated code reads, each bound explicitly to its object.

``np``, ``math``, runtime helpers, builtins the code calls and the user's constants are all
named by one generator seeded with every local name, so no user variable can shadow them,
and each name is recorded with the object it must denote when the code is compiled.
"""

from __future__ import annotations

import ast
import builtins
import importlib
from typing import Any

import numpy as np

from .. import naming, runtime
from ..ir import primitives as prims
from ..ir.nodes import Const
from ..naming import NameGen
from .targets import NUMPY, Backend, resolve


class Globals:
    """Module-level names of generated code: chosen once, free of every local name.

    Every NumPy spelling goes through ``backend`` (``targets``), which may answer another
    library's name, a portable helper, or a refusal; for the NumPy backend it is the
    spelling itself. When the backend finds its namespace from the arguments,
    ``namespace_local`` is the local name the function binds it to.
    """

    def __init__(self, taken: set[str], backend: Backend = NUMPY):
        self.gen = NameGen(taken)
        self.backend = backend
        self.namespace_local = ""
        self.locals_seen: set[str] = set()  # local names of the functions emitted so far
        self.aliases: dict[tuple[str, int], str] = {}
        self.bindings: dict[str, Any] = {}
        self.helpers: list[str] = []

    def name(self, wanted: str, obj: Any) -> str:
        # keyed by object too: two modules' ALPHA (or two unnamed arrays) are two names
        key = (wanted, id(obj))
        if key not in self.aliases:
            alias = NameGen(self.gen.taken | self.locals_seen).fresh(wanted)
            self.gen.take(alias)
            self.aliases[key] = alias
            self.bindings[alias] = obj
        return self.aliases[key]

    def dotted(self, spelling: str) -> ast.expr:
        """``np.exp`` as an expression, with ``np`` bound to NumPy under a free name."""
        b = self.backend
        if not b.is_numpy:
            spelling = b.spell(spelling)
            if spelling.startswith("helper:"):
                key = spelling[len("helper:") :]
                target = b.helpers[key]
                return ast.Name(self.name(target.rpartition(":")[2], resolve(target)))
        head, *rest = spelling.split(".")
        if not b.is_numpy and head == b.alias:
            node: ast.expr = self.namespace()
            for part in rest:
                node = ast.Attribute(node, part)
            return node
        if head in naming.MODULES:
            obj = importlib.import_module(naming.MODULES[head])
        elif head in runtime.__all__:
            obj = getattr(runtime, head)
            if head not in self.helpers:
                self.helpers.append(head)
        elif hasattr(builtins, head) and not rest:
            obj = getattr(builtins, head)
        else:  # a primitive declared by the user: bound to its implementation
            obj = custom_impl(spelling)
            rest = []
            head = spelling.replace(".", "_")
        node = ast.Name(self.name(head, obj))
        for part in rest:
            node = ast.Attribute(node, part)
        return node

    def namespace(self) -> ast.expr:
        """The backend's namespace as an expression (``jnp``, or the local ``xp``)."""
        if self.backend.from_arguments:
            return ast.Name(self.namespace_local)
        return ast.Name(self.name(self.backend.alias, self.backend.module()))

    def const(self, c: Const) -> ast.expr:
        """A constant as an expression: a literal when Python has one, else a bound name."""
        v = c.value
        if c.name is not None:
            if c.name.split(".")[0] in naming.MODULES:
                return self.dotted(c.name)
            return ast.Name(self.name(c.name.replace(".", "_"), v))
        if isinstance(v, float) and not np.isfinite(v):
            if v != v:
                return self.dotted("math.nan")
            inf = self.dotted("math.inf")
            return inf if v > 0 else ast.UnaryOp(ast.USub(), inf)
        if isinstance(v, (bool, int, float, str, type(None))) or v is Ellipsis:
            return ast.Constant(v)
        if isinstance(v, tuple):
            return ast.Tuple([self.const(Const(i)) for i in v])
        if isinstance(v, np.generic) and v.ndim == 0 and v.dtype.kind in "fiub":
            return ast.Call(self.dotted(f"np.{v.dtype.name}"), [ast.Constant(v.item())], [])
        return ast.Name(self.name("c", v))


def custom_impl(spelling: str) -> Any:
    """The implementation of the primitive spelled ``spelling`` (one the user declared)."""
    prim = prims.named(spelling)
    if prim is None:
        raise KeyError(f"no primitive spelled {spelling!r}")
    return prim.impl
