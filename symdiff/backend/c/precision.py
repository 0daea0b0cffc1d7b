"""float32 code: the same program with every floating value a C ``float``.

NumPy computes on float32 arrays in float32, so when the arguments' floating arrays are all
float32 the C is written in ``float``: each ``double`` becomes ``float``, each ``<math.h>``
function its single-precision twin (``sinf``, ``expf``) and each floating literal a
``float`` one (``0.1f``), so that no expression is promoted to double and back. The writer
builds the code once, in double; this is a mapping of its tokens, applied to the code and
never to the comments (which quote the Python). A Python float beside float32 arrays is a
``float`` too: C holds one precision per function, and NumPy's own float32 results already
round every array operation to it.
"""

from __future__ import annotations

import re

import numpy as np

from ...abstract.values import AbstractValue, Kind
from ...errors import Loc
from .values import CBackendError

# <math.h> functions the C backend calls that have a float twin named <name>f
MATH = frozenset(
    "acos acosh asin asinh atan atan2 atanh cbrt ceil cos cosh erf erfc exp exp2 expm1 fabs "
    "floor fmax fmin fmod hypot log log10 log1p log2 pow sin sinh sqrt tan tanh trunc".split()
)
_CALL = re.compile(r"\b(" + "|".join(sorted(MATH)) + r")\(")
_LITERAL = re.compile(r"(?<![\w.])(\d+\.\d*(?:[eE][-+]?\d+)?|\d+[eE][-+]?\d+)(?![\w.])")


def precision(args: tuple[AbstractValue, ...], loc: Loc | None) -> str:
    """``"float32"`` when the floating NumPy arguments are all float32, else ``"float64"``
    (also with no array at all: Python floats are doubles)."""
    dtypes = {
        a.dtype
        for a in args
        if a.kind in (Kind.ARRAY, Kind.NP_SCALAR) and a.dtype is not None and a.dtype.kind == "f"
    }
    if dtypes == {np.dtype(np.float32)}:
        return "float32"
    if dtypes - {np.dtype(np.float64)}:
        raise CBackendError(
            f"the arguments are {', '.join(sorted(map(str, dtypes)))} arrays: the C backend "
            "writes a function in one precision, float64 or float32",
            loc,
            "pass every floating array in one dtype (float64 or float32)",
        )
    return "float64"


def real(prec: str) -> str:
    """The C type of a floating value in this precision."""
    return "float" if prec == "float32" else "double"


def in_single(text: str) -> str:
    """C text written in double, in float: types, math functions and literals (the code of
    each line only; a line's comment is kept as written)."""
    out = []
    for line in text.split("\n"):
        head, sep, comment = line.partition("//")
        if head.lstrip().startswith(("/*", "*")):
            out.append(line)
            continue
        head = re.sub(r"\bdouble\b", "float", head)
        head = _CALL.sub(lambda m: f"{m.group(1)}f(", head)
        head = _LITERAL.sub(lambda m: f"{m.group(1)}f", head)
        out.append(head + sep + comment)
    return "\n".join(out)
