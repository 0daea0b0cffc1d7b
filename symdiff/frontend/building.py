"""The statements being written and the names they get.

Each source expression becomes single-assignment statements appended to the current block;
inner values get internal temporaries (``%t1``) that the emitter folds back or names
``t1, t2, ...``, outer ones the name they are assigned to. A temporary bound to a helper's
parameter is renamed after it afterwards (``rename_temp``), so that ``sigmoid(W @ x + b)``
reads ``z = W @ x + b`` in the generated code.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from ..ir.nodes import Assign, Atom, Stmt, Var
from ..naming import NameGen, is_internal_of
from .aliasing import Memory
from .values import Value


class Builder:
    """The block statements go to, the name generator, and the temporaries renamed so far."""

    def __init__(self, reserved: set[str]):
        self.names = NameGen(reserved)
        self.temps = 0
        self.block: list[Stmt] = []
        self.renamed: dict[Var, Var] = {}  # temporary -> its new name (see rename_temp)

    def temp(self) -> Var:
        self.temps += 1
        return Var(f"%t{self.temps}")

    def target(self, hint: str | None) -> Var:
        """A new variable: named after ``hint`` when there is one, else a temporary."""
        return self.temp() if hint is None else Var(self.names.fresh(hint))

    def resolve(self, a: Atom) -> Atom:
        """An atom as it is called now (a temporary may have been renamed since)."""
        return self.renamed.get(a, a) if isinstance(a, Var) else a

    @contextmanager
    def into(self, block: list[Stmt]) -> Iterator[list[Stmt]]:
        """Append to ``block`` instead of the current block, for the ``with`` body."""
        outer, self.block = self.block, block
        try:
            yield block
        finally:
            self.block = outer

    def rename_temp(self, value: Value, name: str, memory: Memory) -> Value:
        """Give a just-computed temporary the name of the parameter it is bound to."""
        if not (isinstance(value, Var) and is_internal_of(value.name, "t")):
            return value
        for i in range(len(self.block) - 1, -1, -1):
            stmt = self.block[i]
            if isinstance(stmt, Assign) and stmt.target == value:
                later = self.block[i + 1 :]
                if any(not isinstance(s, Assign) or value in s.args for s in later):
                    return value  # already read under this name: keep it
                named = Var(self.names.fresh(name))
                self.block[i] = Assign(named, stmt.prim, stmt.args, stmt.params, stmt.loc)
                # names bound earlier may still hold the temporary: atom() and apply() read
                # it as its new name, and the new name shares its memory
                self.renamed[value] = named
                memory.renamed(named, value)
                return named
        return value
