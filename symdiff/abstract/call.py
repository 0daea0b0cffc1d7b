"""What an abstract-evaluation rule is given, and the small tools every rule shares.

A rule sees one ``Call``: the arguments' abstract values, the arguments that are constants
(``np.reshape(x, (3, -1))`` needs the tuple itself, not just "a tuple"), the statement's
static parameters with the primitive's defaults filled in, and where the user wrote it, so
that a definite error names the user's line and the shapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np

from ..errors import Loc
from ..ir.nodes import Primitive
from .values import (
    BOOL,
    FLOAT,
    INT,
    PY_SCALARS,
    UNKNOWN,
    AbstractValue,
    Dim,
    Extent,
    Kind,
    ShapeError,
    array,
    np_scalar,
    show_shape,
)


class _NotConst:
    def __repr__(self) -> str:
        return "<not a constant>"


NOT_CONST = _NotConst()


@dataclass(frozen=True)
class Call:
    prim: Primitive
    args: tuple[AbstractValue, ...]
    consts: tuple[Any, ...]  # the value of each argument that is a Const, else NOT_CONST
    params: dict[str, Any]
    loc: Loc | None = None
    names: tuple[str, ...] = ()  # how the arguments are written, for messages

    def param(self, key: str, default: Any = None) -> Any:
        if key in self.params:
            return self.params[key]
        return dict(self.prim.defaults).get(key, default)

    def const(self, i: int) -> Any:
        return self.consts[i] if i < len(self.consts) else NOT_CONST

    def is_const(self, i: int) -> bool:
        return self.const(i) is not NOT_CONST

    @property
    def expr(self) -> str:
        """The call as the user wrote it, near enough for a message: ``W @ x``."""
        return written(self.prim, self.names or ("?",) * len(self.args))

    def fail(self, message: str) -> ShapeError:
        return ShapeError(f"{self.expr}: {message}", self.loc)

    def shapes(self) -> str:
        return " and ".join(show_shape(a.shape) for a in self.args)


Rule = Callable[[Call], AbstractValue]


def written(prim: Primitive, names: tuple[str, ...]) -> str:
    """How a primitive applied to arguments written ``names`` reads in source form."""
    n = list(names)
    if prim.form == "infix" and len(n) == 2:
        return f"{n[0]} {prim.spelling} {n[1]}"
    if prim.form == "prefix" and n:
        return f"{prim.spelling}{n[0]}"
    if prim.form == "getitem" and n:
        return f"{n[0]}[...]"
    if prim.form == "attr" and n:
        return f"{n[0]}.{prim.spelling}"
    if prim.form == "listcall":
        return f"{prim.spelling}([{', '.join(n)}])"
    return f"{prim.spelling}({', '.join(n)})"


# ----------------------------------------------------------------------------- dtypes


def dtype_arg(v: AbstractValue) -> Any:
    """How a value enters NumPy's type resolution: Python int and float are "weak"
    (NEP 50) and stay Python types; ``None`` if the dtype is unknown."""
    if v.kind is Kind.FLOAT:
        return float
    if v.kind is Kind.INT:
        return int
    if v.kind is Kind.BOOL:
        return np.dtype(bool)
    if v.kind in (Kind.NP_SCALAR, Kind.ARRAY):
        return v.dtype
    return None


def result_type(*values: AbstractValue) -> np.dtype | None:
    """``np.result_type`` of the values (Python scalars weak), ``None`` if one is unknown."""
    parts = []
    for v in values:
        d = dtype_arg(v)
        if d is None:
            return None
        parts.append({float: 0.0, int: 0}.get(d, d))
    try:
        return np.result_type(*parts)
    except TypeError:
        return None


def float_type(*values: AbstractValue) -> np.dtype | None:
    """The inexact dtype NumPy computes in for these inputs (ints become float64)."""
    dt = result_type(*values)
    if dt is None:
        return None
    return dt if dt.kind in "fc" else np.result_type(dt, np.float64)


def named_dtype(name: Any) -> np.dtype | None:
    """A ``dtype=`` parameter as the lowering stores it (``"float32"``), or a dtype."""
    try:
        return None if name is None else np.dtype(name)
    except TypeError:
        return None


def given_dtype(call: Call, otherwise: Callable[[], np.dtype | None]) -> np.dtype | None:
    """The call's ``dtype=`` parameter if it names one, else ``otherwise()``. (Never ``a or
    b`` on dtypes: a dtype without fields, ``bool`` included, is falsy.)"""
    given = named_dtype(call.param("dtype"))
    return otherwise() if given is None else given


# ----------------------------------------------------------------------------- results


def numeric(dtype: np.dtype | None, shape: tuple[Dim, ...] | None, scalar: bool) -> AbstractValue:
    """An array of ``shape``, or a NumPy scalar if ``scalar`` and the rank is 0 (ufuncs and
    reductions return scalars for 0-d results; ``np.asarray``-style functions do not)."""
    if scalar and shape == ():
        return np_scalar(dtype)
    if scalar and shape is None:
        return UNKNOWN  # an array or a scalar: not known which
    return array(dtype, shape)


def python_scalar(dtype: np.dtype) -> AbstractValue:
    return {"b": BOOL, "i": INT, "u": INT, "f": FLOAT}.get(dtype.kind, UNKNOWN)


def all_python(args: Iterable[AbstractValue]) -> bool:
    return all(a.kind in PY_SCALARS for a in args)


def numeric_args(call: Call) -> bool:
    return all(a.is_numeric for a in call.args)


def is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def normalize_axis(call: Call, axis: int, rank: int | None) -> int | None:
    """``axis`` counted from the front; a definite error if it is out of range."""
    if rank is None:
        return None
    if not -rank <= axis < rank:
        raise call.fail(f"axis {axis} is out of bounds for an array of rank {rank}")
    return axis % rank


def axes_of(call: Call, axis: Any, rank: int | None) -> tuple[int, ...] | None:
    """An ``axis`` parameter (int, tuple or None = all) as sorted front-counted axes."""
    if rank is None:
        return None
    if axis is None:
        return tuple(range(rank))
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    if not all(is_int(a) for a in items):
        return None
    out = [normalize_axis(call, int(a), rank) for a in items]
    if len(set(out)) != len(out):
        raise call.fail(f"repeated axis in {axis!r}")
    return tuple(sorted(a for a in out if a is not None))


def dim_sum(a: Dim, b: Dim) -> Dim:
    """The length of two pieces joined along an axis (a length may be 0, so only a piece of
    at least 2 makes the sum certainly not 1)."""
    if isinstance(a, int) and isinstance(b, int):
        return a + b
    if any(isinstance(d, int) and d >= 2 for d in (a, b)):
        return Extent.MANY
    return Extent.ANY


def dim_product(dims: Iterable[Dim]) -> Dim:
    """The length of several axes flattened into one: 1 only if every factor is 1."""
    rest = [d for d in dims if d != 1]
    if all(isinstance(d, int) for d in rest):
        out = 1
        for d in rest:
            out *= d  # type: ignore[operator]
        return out
    return Extent.ANY if all(d is Extent.ANY for d in rest) else Extent.MANY


def dim_of(n: Any) -> Dim:
    """A length given as a constant (or ``NOT_CONST``: unknown)."""
    return int(n) if is_int(n) else Extent.ANY


def shape_arg(call: Call, i: int) -> tuple[Dim, ...] | None:
    """A shape argument: a constant int or tuple, or a tuple whose length alone is known."""
    c = call.const(i)
    if c is not NOT_CONST:
        items = c if isinstance(c, (tuple, list)) else (c,)
        if all(is_int(n) for n in items):
            return tuple(int(n) for n in items)
        return None
    v = call.args[i]
    if v.kind in (Kind.INT, Kind.NP_SCALAR):
        return (Extent.ANY,)
    if v.kind is Kind.TUPLE and v.items is not None:
        return tuple(Extent.ANY for _ in v.items)
    return None


def unknown(call: Call) -> AbstractValue:
    """The explicit "cannot be described" answer."""
    return UNKNOWN
