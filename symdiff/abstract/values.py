"""Abstract values: what symdiff knows about a variable before any number flows through it.

A generated gradient today is written for every argument at once, so it carries run-time
shape bookkeeping. Knowing, per IR variable, *what kind of thing* it is (Python float, NumPy
scalar, array, tuple...), its dtype, its rank and which axes have length 1 lets later stages
write the code a person would write. Length-1-ness is what decides broadcasting, so an axis is
one of: an exact length (kept when the values came from concrete arguments, so that definite
user errors can be reported with the real shapes), ``MANY`` (not 1, length unknown) or ``ANY``
(nothing known, it may be 1). ``signature`` forgets exact lengths so one program serves every
batch size, as a ``jax.jit`` trace does.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Iterable, Union

import numpy as np

from ..errors import Loc, SymdiffError


class Kind(enum.Enum):
    """The Python-level type of a value: it decides how generated code may treat it."""

    FLOAT = "float"  # Python float
    INT = "int"  # Python int
    BOOL = "bool"  # Python bool
    NP_SCALAR = "numpy scalar"  # np.float64(...), np.bool_(...), ...
    ARRAY = "ndarray"
    TUPLE = "tuple"
    LIST = "list"
    NONE = "None"
    OTHER = "other"  # a concrete value of a type the analysis does not describe (str, slice)
    UNKNOWN = "unknown"  # the analysis does not know: the top of the lattice


class Extent(enum.Enum):
    """An axis length that is not known exactly."""

    MANY = "n"  # known not to be 1 (broadcasting never stretches it)
    ANY = "?"  # may be 1 or not

    def __repr__(self) -> str:
        return f"Extent.{self.name}"


Dim = Union[int, Extent]
PY_SCALARS = (Kind.FLOAT, Kind.INT, Kind.BOOL)


class ShapeError(SymdiffError, ValueError):
    """The user's code certainly fails on arguments of these shapes (a definite user error)."""


@dataclass(frozen=True, slots=True)
class AbstractValue:
    """One abstract value. ``shape`` is ``()`` for scalars and ``None`` when the rank of an
    array is not known; ``items`` describes a tuple item by item (``None``: its length is not
    known); ``item`` is the join of a list's items (``None``: no item seen, an empty list);
    ``pytype`` names the type of an ``OTHER`` value."""

    kind: Kind
    dtype: np.dtype | None = None
    shape: tuple[Dim, ...] | None = ()
    items: tuple["AbstractValue", ...] | None = None
    item: "AbstractValue | None" = None
    pytype: str = ""

    @property
    def rank(self) -> int | None:
        return None if self.shape is None else len(self.shape)

    @property
    def is_scalar(self) -> bool:
        """A Python or NumPy scalar (not a 0-d array)."""
        return self.kind in PY_SCALARS or self.kind is Kind.NP_SCALAR

    @property
    def is_numeric(self) -> bool:
        return self.is_scalar or self.kind is Kind.ARRAY

    @property
    def exact(self) -> bool:
        """Everything known: no unknown kind, dtype, rank or axis anywhere inside."""
        if self.kind is Kind.UNKNOWN:
            return False
        if self.kind in (Kind.NP_SCALAR, Kind.ARRAY) and self.dtype is None:
            return False
        if self.shape is None or any(isinstance(d, Extent) for d in self.shape):
            return False
        if self.kind is Kind.TUPLE:
            return self.items is not None and all(v.exact for v in self.items)
        if self.kind is Kind.LIST:
            return self.item is None or self.item.exact
        return True

    def __str__(self) -> str:
        if self.kind is Kind.ARRAY:
            return f"ndarray[{'?' if self.dtype is None else self.dtype}, {show_shape(self.shape)}]"
        if self.kind is Kind.NP_SCALAR:
            return f"np.{'?' if self.dtype is None else self.dtype}"
        if self.kind is Kind.TUPLE:
            inner = "..." if self.items is None else ", ".join(map(str, self.items))
            return f"tuple[{inner}]"
        if self.kind is Kind.LIST:
            return f"list[{self.item or ''}]"
        if self.kind is Kind.OTHER:
            return self.pytype or "other"
        return self.kind.value


UNKNOWN = AbstractValue(Kind.UNKNOWN, shape=None)
NONE = AbstractValue(Kind.NONE)
FLOAT = AbstractValue(Kind.FLOAT)
INT = AbstractValue(Kind.INT)
BOOL = AbstractValue(Kind.BOOL)


def array(dtype: Any, shape: tuple[Dim, ...] | None) -> AbstractValue:
    return AbstractValue(Kind.ARRAY, None if dtype is None else np.dtype(dtype), shape)


def np_scalar(dtype: Any) -> AbstractValue:
    return AbstractValue(Kind.NP_SCALAR, None if dtype is None else np.dtype(dtype))


def tuple_of(items: Iterable[AbstractValue] | None) -> AbstractValue:
    return AbstractValue(Kind.TUPLE, items=None if items is None else tuple(items))


def list_of(item: AbstractValue | None) -> AbstractValue:
    return AbstractValue(Kind.LIST, item=item)


def show_shape(shape: tuple[Dim, ...] | None) -> str:
    """A shape as messages print it: ``(2, 3)``, ``(n, 1)``, ``(?,)``; ``(...)`` for no rank."""
    if shape is None:
        return "(...)"
    parts = [d.value if isinstance(d, Extent) else str(d) for d in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


# ----------------------------------------------------------------------------- abstraction


def of(value: Any) -> AbstractValue:
    """The abstract value of a concrete one, exact lengths included."""
    if value is None:
        return NONE
    if isinstance(value, np.generic):  # before float: np.float64 is a float subclass
        return AbstractValue(Kind.NP_SCALAR, value.dtype)
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, float):
        return FLOAT
    if isinstance(value, np.ndarray):
        return AbstractValue(Kind.ARRAY, value.dtype, tuple(int(n) for n in value.shape))
    if isinstance(value, tuple):
        return tuple_of(of(v) for v in value)
    if isinstance(value, list):
        item: AbstractValue | None = None
        for v in value:
            item = of(v) if item is None else join(item, of(v))
        return list_of(item)
    return AbstractValue(Kind.OTHER, pytype=type(value).__name__)


def erase(value: AbstractValue) -> AbstractValue:
    """The value with exact lengths forgotten; length 1 stays (it decides broadcasting)."""
    shape = value.shape
    if shape is not None:
        shape = tuple(d if d == 1 or isinstance(d, Extent) else Extent.MANY for d in shape)
    items = None if value.items is None else tuple(map(erase, value.items))
    item = None if value.item is None else erase(value.item)
    return AbstractValue(value.kind, value.dtype, shape, items, item, value.pytype)


def signature(args: Iterable[Any]) -> tuple[AbstractValue, ...]:
    """The hashable abstract signature of a call's arguments: kind, dtype, rank and unit
    axes, never exact sizes, so that one generated program serves every batch size."""
    return tuple(erase(a if isinstance(a, AbstractValue) else of(a)) for a in args)


# ----------------------------------------------------------------------------- lattice


def join_dim(a: Dim, b: Dim) -> Dim:
    if a == b:
        return a
    if a != 1 and b != 1 and a is not Extent.ANY and b is not Extent.ANY:
        return Extent.MANY
    return Extent.ANY


def join(a: AbstractValue, b: AbstractValue) -> AbstractValue:
    """The least upper bound: what is true of a value that is either ``a`` or ``b`` (branch
    merges, loop fixed points). Kinds that differ give the declared ``UNKNOWN``."""
    if a == b:
        return a
    if a.kind is not b.kind or a.kind is Kind.UNKNOWN:
        return UNKNOWN
    if a.kind is Kind.TUPLE:
        if a.items is None or b.items is None or len(a.items) != len(b.items):
            return tuple_of(None)
        return tuple_of(join(x, y) for x, y in zip(a.items, b.items))
    if a.kind is Kind.LIST:
        if a.item is None or b.item is None:
            return list_of(a.item or b.item)
        return list_of(join(a.item, b.item))
    if a.kind is Kind.OTHER:
        return a if a.pytype == b.pytype else UNKNOWN
    dtype = a.dtype if a.dtype == b.dtype else None
    if a.shape is None or b.shape is None or len(a.shape) != len(b.shape):
        shape = None
    else:
        shape = tuple(join_dim(x, y) for x, y in zip(a.shape, b.shape))
    return AbstractValue(a.kind, dtype, shape)


def covers(general: AbstractValue, special: AbstractValue) -> bool:
    """``special`` is at least as precise as ``general`` (``general`` is a sound description)."""
    return join(general, special) == general


# ----------------------------------------------------------------------------- broadcasting


def broadcast_shapes(
    shapes: Iterable[tuple[Dim, ...] | None], what: str = "", loc: Loc | None = None
) -> tuple[Dim, ...] | None:
    """NumPy's broadcasting on abstract shapes; two different exact lengths (neither 1) are a
    definite error, reported at ``loc`` with the shapes."""
    shapes = list(shapes)
    if any(s is None for s in shapes):
        return None
    out: tuple[Dim, ...] = ()
    for s in shapes:
        assert s is not None
        out = _broadcast2(out, s, shapes, what, loc)
    return out


def _broadcast2(a: tuple, b: tuple, shapes: list, what: str, loc: Loc | None) -> tuple:
    n = max(len(a), len(b))
    a = (1,) * (n - len(a)) + a
    b = (1,) * (n - len(b)) + b
    out: list[Dim] = []
    for x, y in zip(a, b):
        if x == 1:
            out.append(y)
        elif y == 1:
            out.append(x)
        elif isinstance(x, int) and isinstance(y, int):
            if x != y:
                shown = " and ".join(show_shape(s) for s in shapes)
                raise ShapeError(f"{what}: shapes {shown} cannot be broadcast together", loc)
            out.append(x)
        elif isinstance(x, int):
            out.append(x)  # y is MANY or ANY: it must equal x (or be 1, giving x)
        elif isinstance(y, int):
            out.append(y)
        else:
            out.append(Extent.MANY if Extent.MANY in (x, y) else Extent.ANY)
    return tuple(out)


def broadcast(a: AbstractValue, b: AbstractValue) -> tuple[Dim, ...] | None:
    """The shape ``a`` and ``b`` broadcast to (``None`` if a rank is unknown)."""
    return broadcast_shapes((a.shape, b.shape))
