"""How a row of the primitive catalogue is made, and the one catalogue every row goes into.

Each row module (``arithmetic``, ``reductions``, ...) calls these constructors at import
time; each constructor builds a ``Primitive`` and claims its name and the Python objects
that stand for it in ``CATALOGUE``, so a clash of two rows stops the package from
importing. ``ir.primitives`` freezes the catalogue once every row module has run; the
constructors refuse rows after that.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from ..catalogue import Catalogue
from ..nodes import Form, Primitive

CATALOGUE = Catalogue()  # filled by the row modules, frozen by ir.primitives
HELPER_ROWS: list[Primitive] = []  # every runtime helper primitive: only gradients call them


class Required:
    """The "default" of a static parameter NumPy requires: never equal to a given value, so
    a value the user passes is always written out."""

    def __repr__(self) -> str:
        return "<required>"

    def __eq__(self, other: object) -> bool:
        return other is self

    def __ne__(self, other: object) -> bool:
        return other is not self

    def __hash__(self) -> int:
        return id(self)


REQUIRED = Required()

# Static parameters follow NumPy's own order, so that positional arguments bind as in NumPy.
AXES = (("axis", None), ("keepdims", False))
REDUCE = (("axis", None), ("dtype", None), ("keepdims", False))


def register(prim: Primitive, *objects: Any) -> Primitive:
    """Add a row built by hand (a form no constructor below covers) to the catalogue."""
    return CATALOGUE.add(prim, *objects)


def infix(name: str, symbol: str, impl: Callable, **kw: Any) -> Primitive:
    return register(Primitive(name, Form.INFIX, symbol, impl, nargs=2, **kw))


def prefix(name: str, symbol: str, impl: Callable, **kw: Any) -> Primitive:
    return register(Primitive(name, Form.PREFIX, symbol, impl, nargs=1, **kw))


def call(
    spelling: str, impl: Callable, *aliases: Any, name: str | None = None, **kw: Any
) -> Primitive:
    """A function primitive written ``spelling(args)``; ``impl`` and aliases resolve to it.
    ``name`` (default: the spelling) tells apart two primitives written the same way."""
    return register(Primitive(name or spelling, Form.CALL, spelling, impl, **kw), impl, *aliases)


def ufunc(spelling: str, impl: Callable, *aliases: Any, nargs: int = 1, **kw: Any) -> Primitive:
    return call(spelling, impl, *aliases, nargs=nargs, elementwise=True, **kw)


def mathfn(name: str, nargs: int = 1, **kw: Any) -> Primitive:
    return call(f"math.{name}", getattr(math, name), nargs=nargs, returns_scalar=True, **kw)


def helper(fn: Callable, nargs: int, *, user: bool = False, **kw: Any) -> Primitive:
    """A function of ``runtime``: generated code calls it by its plain name. ``user``: the
    user's code may call it too (``symdiff.stop_gradient``), so the function resolves to it."""
    prim = Primitive(fn.__name__, Form.CALL, fn.__name__, fn, nargs=nargs, **kw)
    prim = register(prim, fn) if user else register(prim)
    HELPER_ROWS.append(prim)
    return prim
