"""Functions the user declared as primitives (``symdiff.defrule``), with their rules.

The built-in catalogue and rule tables are read-only. A declaration lives in a ``RuleSet``
instead: lowering asks it which primitive a function stands for, the reverse pass which
adjoint rule a declared primitive has, and the rule builder which primitive a name
reaches. Removing a declaration removes it from every one of those answers at once, which
writing into several module globals could not promise.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable

from ..errors import InternalError
from .catalogue import lookup
from .nodes import Primitive


@dataclass(frozen=True, eq=False)
class Declaration:
    """One declared function: the primitive symdiff treats it as, and its adjoint rule
    (already held to the table's contract; None for a function without a derivative)."""

    function: Any
    primitive: Primitive
    adjoint: Callable[..., tuple] | None


class RuleSet:
    """Declarations keyed by the declared objects themselves (each declaration holds its
    function anyway: generated code calls it), by spelling and by primitive."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._by_object: dict[Any, Declaration] = {}
        self._by_name: dict[str, Declaration] = {}
        self._by_primitive: dict[Primitive, Declaration] = {}

    def declare(self, decl: Declaration) -> None:
        """Add ``decl``; the caller has removed any earlier declaration of its function."""
        with self._lock:
            name = decl.primitive.name
            if decl.function in self._by_object or name in self._by_name:
                raise InternalError(f"{name!r} is declared twice")
            self._by_object[decl.function] = decl
            self._by_name[name] = decl
            self._by_primitive[decl.primitive] = decl

    def remove(self, decl: Declaration) -> bool:
        """Forget ``decl`` if it is still the declaration of its function."""
        with self._lock:
            if lookup(self._by_object, decl.function) is not decl:
                return False
            del self._by_object[decl.function]
            del self._by_name[decl.primitive.name]
            del self._by_primitive[decl.primitive]
            return True

    def declaration(self, obj: Any) -> Declaration | None:
        return lookup(self._by_object, obj)

    def primitive_for(self, obj: Any) -> Primitive | None:
        """The declared primitive ``obj`` stands for, or None."""
        decl = self.declaration(obj)
        return None if decl is None else decl.primitive

    def named(self, name: str) -> Primitive | None:
        decl = self._by_name.get(name)
        return None if decl is None else decl.primitive

    def adjoint(self, prim: Primitive) -> Callable[..., tuple] | None:
        """The adjoint rule of a declared primitive, or None (not declared, or no rule)."""
        decl = self._by_primitive.get(prim)
        return None if decl is None else decl.adjoint

    def declarations(self) -> tuple[Declaration, ...]:
        """Every declaration now, oldest first."""
        with self._lock:
            return tuple(self._by_object.values())


USER_RULES = RuleSet()  # the declarations of this process: symdiff.defrule writes here
