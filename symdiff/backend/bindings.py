"""The objects generated code's module-level names are bound to when symdiff compiles it.

The emitter names runtime helpers, ``math`` and ``numpy``; inside symdiff a few of them are
replaced: a non-scalar result raises symdiff's own error class (a ValueError too), and a
second binding computes with NumPy floats, which give inf and nan where Python floats raise.
"""

from __future__ import annotations

import functools
import math
import types
from typing import Any, Callable

import numpy as np

from .. import runtime
from ..errors import InputError, NonScalarOutputError, describe


def bind(bindings: dict[str, Any], numpy_floats: bool = False) -> dict[str, Any]:
    """The emitter's bindings as symdiff runs them; with ``numpy_floats``, ``math`` gives
    NumPy floats (see ``FLOAT64_MATH``) and ``np.size`` a NumPy integer."""
    out = dict(bindings)
    for alias, obj in bindings.items():
        if obj is runtime.ensure_scalar:
            out[alias] = scalar_result
        elif obj is runtime.scalar_checked:
            out[alias] = functools.partial(obj, error=NonScalarOutputError)
        elif obj is runtime.scalar_seed:
            out[alias] = functools.partial(obj, error=InputError)
        elif obj is math and numpy_floats:
            out[alias] = FLOAT64_MATH
        elif obj is np and numpy_floats:
            out[alias] = NUMPY_COUNTS
    return out


def scalar_result(value: Any, name: str) -> Any:
    """The check generated code makes on a result not known to be a scalar: a real number."""
    if type(value) in _REAL_SCALARS:
        return value
    if not isinstance(value, (np.ndarray, np.generic, int, float)) or isinstance(value, complex):
        raise NonScalarOutputError(
            f"{name} must return a real scalar to be differentiated, but returned "
            f"{describe(value)}"
        )
    if np.asarray(value).dtype.kind not in "biuf":
        raise NonScalarOutputError(
            f"{name} must return a real scalar to be differentiated, but returned "
            f"{describe(value)}"
        )
    return runtime.ensure_scalar(value, name, error=NonScalarOutputError)


_REAL_SCALARS = (float, int, np.float64, np.float32)


class _NumpyCounts(types.ModuleType):
    """``numpy`` as the NumPy-float version sees it: ``np.size`` is a NumPy integer, so that
    the mean of an empty array divides by a NumPy zero (nan, as ``np.mean`` itself gives)
    instead of raising ZeroDivisionError in Python int arithmetic."""

    def __getattr__(self, name: str) -> Any:
        return getattr(np, name)


NUMPY_COUNTS = _NumpyCounts("numpy")
NUMPY_COUNTS.size = lambda a, axis=None: np.intp(np.size(a, axis))  # type: ignore[attr-defined]


def _float64_result(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def call(*args: Any) -> Any:
        out = fn(*args)
        return np.float64(out) if type(out) is float else out

    return call


# ``math`` as the second, NumPy-float version of generated code sees it: the same functions,
# but a float result is a NumPy float64. Python float arithmetic raises ZeroDivisionError
# where NumPy gives inf with a warning, and a derivative may be infinite where the function
# is finite (sqrt at 0, asin at 1). The fast version runs first; only when its Python
# floats divide by zero or overflow is the call repeated with NumPy floats, so that
# d/dx math.sqrt(x) at 0 is inf, exactly as for np.sqrt.
FLOAT64_MATH = types.ModuleType("math", "math, with float results as numpy.float64")
for _name, _obj in vars(math).items():
    if not _name.startswith("__"):
        setattr(FLOAT64_MATH, _name, _float64_result(_obj) if callable(_obj) else _obj)
