"""The module-level names of a standalone module: one namespace shared by every generated
function, so that no two names collide and none shadows a name the user's code reads.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..backend.emitter import Globals
from ..naming import NameGen


def same_value(a: Any, b: Any) -> bool:
    if a is b:
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
        )
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:
        return False


class ModuleGlobals(Globals):
    """One ``Globals`` for a whole module, with local names counted per function.

    Module-level names are shared: each object gets one name, free of every local name of
    every function, and a name the user's code already binds to the same object is reused.
    Local names (``t1``, ``d_x``) restart for each function: ``begin`` gives it a fresh
    generator that avoids the module-level names.
    """

    def __init__(self, module: set[str], user: Mapping[str, Any], locals_: set[str]):
        super().__init__(set())
        self.user = user
        self.locals = set(locals_)  # the user's local names, in every function
        self.module = set(module) | set(user)
        self.used_locals: set[str] = set()  # locals the generated functions chose
        self.mine: dict[tuple[str, int], str] = {}

    def begin(self, local: set[str]) -> None:
        self.used_locals |= self.gen.taken
        self.gen = NameGen(self.module | local)

    def end(self, *names: str) -> None:
        self.used_locals |= self.gen.taken
        self.module.update(names)

    def name(self, wanted: str, obj: Any) -> str:
        if wanted in self.user and wanted not in self.locals and same_value(self.user[wanted], obj):
            self.bindings[wanted] = self.user[wanted]
            return wanted
        key = (wanted, id(obj))
        if key not in self.mine:
            taken = self.module | self.locals | self.used_locals | self.gen.taken
            taken |= getattr(self, "locals_seen", set())
            alias = NameGen(taken).fresh(wanted)
            self.module.add(alias)
            self.gen.take(alias)
            self.mine[key] = alias
            self.bindings[alias] = obj
        return self.mine[key]
