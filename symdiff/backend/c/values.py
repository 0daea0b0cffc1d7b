"""What each variable of a derivative program is in C, from the exact argument types.

The C backend writes code for one set of argument shapes: every array has a size known when
the code is generated, so it can live in a fixed-size local array and every loop has a
constant trip count. ``CType`` is what a variable is in C: a ``double`` or a ``long`` (Python
integers and booleans), with a shape (``()`` for a scalar; a NumPy 0-d array is a scalar
here too). Arrays hold ``double`` elements, also boolean masks (as 0.0 and 1.0).

Values that are known when the code is generated (shapes, sizes, the tuples NumPy's shape
functions build, integer arithmetic on them) never reach C: ``static_value`` computes them
with the primitive's own implementation, and they are written as literals where they are
read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...abstract.values import AbstractValue, Extent, Kind
from ...errors import Loc, SymdiffError
from ...ir.nodes import Assign
from .expressions import DOUBLE, LONG

# primitives whose result is a fact about an argument's type, not about its numbers
SHAPE_READERS = {
    "np.shape": lambda s: s,
    "shape": lambda s: s,
    "np.size": lambda s: math.prod(s),
    "size": lambda s: math.prod(s),
    "np.ndim": len,
    "ndim": len,
    "len": lambda s: s[0],
}


class CBackendError(SymdiffError):
    """The function uses something the C backend does not write (a construct, a type or a
    size); the message names it, at the user's line."""


HINT = (
    "the C backend writes scalar math, elementwise NumPy, sum/mean/max/min, matmul, dot, "
    "outer, static indexing, loops and branches on float64 values; use the NumPy backend "
    "(symdiff.grad, symdiff.emit) for this function"
)


@dataclass(frozen=True)
class CType:
    """A variable in C: ``double`` or ``long`` elements, and a shape (``()``: a scalar)."""

    base: str
    shape: tuple[int, ...] = ()

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def scalar(self) -> bool:
        return not self.shape


SCALAR = CType(DOUBLE)


def c_type(value: AbstractValue, what: str, loc: Loc | None) -> CType | None:
    """The C type of a value of abstract type ``value``; None for what never reaches C as a
    number (a tuple, a list used as a tape, None). ``what`` names it in a refusal."""
    kind = value.kind
    if kind is Kind.FLOAT:
        return SCALAR
    if kind in (Kind.INT, Kind.BOOL):
        return CType(LONG)
    if kind in (Kind.TUPLE, Kind.LIST, Kind.NONE):
        return None
    if kind is Kind.NP_SCALAR or kind is Kind.ARRAY:
        dtype = value.dtype
        if dtype is None or dtype.kind not in "fbiu" or (dtype.kind == "f" and dtype != np.float64):
            raise CBackendError(
                f"{what} is {value}: the C backend writes float64 code only", loc, HINT
            )
        if kind is Kind.NP_SCALAR:
            return SCALAR if dtype.kind == "f" else CType(LONG)
        shape = value.shape
        if shape is None or any(isinstance(d, Extent) for d in shape):
            raise CBackendError(
                f"{what} has no fixed shape ({value}); the C backend needs exact sizes", loc, HINT
            )
        return CType(DOUBLE, tuple(int(d) for d in shape))  # type: ignore[arg-type]
    raise CBackendError(f"{what} is {value}, which the C backend cannot represent", loc, HINT)


MAX_TABLE = 4096  # elements of an array computed at generation time (a static table)


def static_value(
    stmt: Assign, args: list[Any], shapes: list[tuple[int, ...] | None], arrays: bool = False
) -> Any:
    """The value of ``stmt`` when it is known at generation time, else ``NotImplemented``.

    ``args`` holds each argument's value when it is known (``NotImplemented`` otherwise) and
    ``shapes`` each argument's exact shape (None for what has none). With ``arrays``, a
    small numeric array computed from known values only (``np.arange(4)``) is known too:
    the C code reads it from a static table."""
    reader = SHAPE_READERS.get(stmt.prim.name)
    if reader is not None and shapes and shapes[0] is not None:
        return reader(shapes[0])
    if stmt.prim.name in ("new_tape",) or any(a is NotImplemented for a in args):
        return NotImplemented
    if not all(a is None or isinstance(a, (int, float, bool, tuple, np.ndarray)) for a in args):
        return NotImplemented
    try:
        value = stmt.prim.impl(*args, **dict(stmt.params))
    except Exception:
        return NotImplemented  # it fails at run time as in Python: leave it to the C code
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.shape == ()):
        value = value.item()  # a 0-d array is a scalar in C
    if (
        arrays
        and isinstance(value, np.ndarray)
        and value.dtype.kind in "fbiu"
        and 0 < value.size <= MAX_TABLE
    ):
        return value
    if isinstance(value, (bool, int, float)) or (
        isinstance(value, tuple) and all(isinstance(v, (int, float, bool)) for v in value)
    ):
        return value
    return NotImplemented
