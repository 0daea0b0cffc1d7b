"""Calling generated code on a user's arguments: coercion in, results out, and blame.

Every derivative object calls its generated functions through these: integer inputs being
differentiated become floats, bools and complex numbers are refused, a gradient comes back
shaped and typed like its argument, and when the generated code raises, the user's function
is run on the same inputs to tell the user's error from symdiff's.
"""

from __future__ import annotations

import types
from typing import Any, Callable

import numpy as np

from ..abstract.values import AbstractValue, Kind, signature
from ..errors import (
    InputError,
    InternalError,
    NonScalarOutputError,
    UnsupportedFunctionError,
    describe,
)
from ..pipeline import Transformed

UNBOUND = object()  # no bound object: the function is not a bound method
_READY = (float, np.ndarray)


def prepare(
    args: tuple, kwargs: dict, names: list[str], positions: tuple[int, ...]
) -> tuple[tuple, dict]:
    """Refuse complex and bool inputs; promote integer inputs being differentiated to floats.

    Python floats stay Python floats: the user's own function computes with them, and they
    are fast. Where Python float arithmetic would raise (an infinite derivative), the call
    is repeated with NumPy floats (see ``numpy_floats``)."""
    if not kwargs and all(pos < len(args) and type(args[pos]) in _READY for pos in positions):
        # the common case, kept cheap: floats and float arrays go through untouched
        if all(type(args[p]) is float or args[p].dtype.kind == "f" for p in positions):
            return args, kwargs
    out = list(args)
    for pos in positions:
        name = names[pos]
        if pos < len(out):
            out[pos] = coerce(out[pos], name)
        elif name in kwargs:
            kwargs = dict(kwargs)
            kwargs[name] = coerce(kwargs[name], name)
    return tuple(out), kwargs


def coerce(x: Any, name: str) -> Any:
    """One argument being differentiated, as generated code takes it: a float or a float
    array (integers promoted to float64), or ``InputError``."""
    if type(x) is float:
        return x
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        return x
    if isinstance(x, (bool, np.bool_)) or (isinstance(x, np.ndarray) and x.dtype.kind == "b"):
        raise InputError(
            f"argument {name} is a bool, which cannot be differentiated",
            hint="pass it as a float (1.0 / 0.0), or leave it out of wrt",
        )
    if isinstance(x, int):
        return float(x)
    try:
        arr = np.asarray(x)
    except ValueError as exc:  # ragged nested lists
        raise InputError(f"argument {name} is not an array of numbers ({exc})") from None
    if isinstance(x, complex) or arr.dtype.kind == "c":
        raise InputError(
            f"argument {name} is complex; symdiff differentiates real functions only",
            hint="split it into real and imaginary parts",
        )
    if arr.dtype.kind == "b":
        raise InputError(f"argument {name} holds bools, which cannot be differentiated")
    if arr.dtype.kind in "iu":
        return arr.astype(np.float64)
    if arr.dtype.kind == "f":
        return arr
    raise InputError(f"argument {name} has dtype {arr.dtype}, which cannot be differentiated")


def finish(g: Any, x: Any) -> Any:
    """A Python number gets a Python float gradient; a NumPy scalar or array, one of its own
    type and dtype (integers: float64)."""
    tx = type(x)
    if tx is float and type(g) is float:
        return g  # the common cases first: they cost a comparison
    if tx is np.ndarray and type(g) is np.ndarray and g.dtype is x.dtype and g.shape == x.shape:
        return g
    if isinstance(x, np.ndarray):
        dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
        if not isinstance(g, np.ndarray) or g.dtype != dtype or g.shape != x.shape:
            refuse_complex(g)
            return np.asarray(np.broadcast_to(g, x.shape), dtype=dtype)
        return g
    if isinstance(x, (tuple, list)) and len(x) and np.ndim(g) and np.shape(g)[0] == len(x):
        # a tuple or list the function used whole (as an array): its gradient is a tuple or
        # list again, an item's gradient for each item, never the stacked array
        items = [finish(gi, xi) for gi, xi in zip(g, x)]
        return type(x)(*items) if hasattr(x, "_fields") else type(x)(items)
    refuse_complex(g)
    if isinstance(x, np.generic) and np.ndim(g) == 0:
        return (x.dtype.type if x.dtype.kind == "f" else np.float64)(g)
    if isinstance(x, (int, float)) and isinstance(g, (np.ndarray, np.generic)) and np.ndim(g) == 0:
        return float(g)
    return g


def call_key(args: tuple) -> tuple:
    """A key that tells apart the calls whose arguments have different abstract signatures
    (kind, dtype, rank and which axes have length 1), computed in a fraction of a
    microsecond for the common arguments, without building any ``AbstractValue``.

    A scalar's type says everything (a NumPy scalar's type is its dtype); an array is its
    dtype and rank, and the positions of its unit and empty axes only when it has one
    (``1 in shape`` is cheap, building a tuple is not); a tuple or a list is its abstract value, the slow
    road. Any other object is its type: calls with equal keys have equal signatures, and
    whether that signature can be specialised to is decided once, when the key is new.
    """
    key: list[Any] = []
    for a in args:
        t = type(a)
        if t is np.ndarray:
            shape = a.shape
            unit_or_empty = 1 in shape or 0 in shape  # an empty array runs the generic program
            key.append(
                (a.dtype, tuple([min(n, 2) for n in shape]) if unit_or_empty else len(shape))
            )
        elif t is tuple or t is list:
            key.append(signature((a,))[0])
        else:
            key.append(t)
    return tuple(key)


def ready(args: tuple, positions: tuple[int, ...]) -> bool:
    """The arguments being differentiated are Python floats or float arrays, which the
    generated code takes as they are (``prepare`` would return them unchanged)."""
    return all(
        type(args[p]) is float or (type(args[p]) is np.ndarray and args[p].dtype.kind == "f")
        for p in positions
    )


_DESCRIBED = "biuf"  # the dtype kinds a specialised program is written for


def described(v: AbstractValue) -> bool:
    """The analysis knows what ``v`` is, all the way down: a specialised program may rely on
    it. A value of a type it does not describe (``OTHER``), or of a dtype symdiff does not
    differentiate (complex, object, strings), is left to the shape-generic program."""
    if v.kind in (Kind.OTHER, Kind.UNKNOWN):
        return False
    if v.dtype is not None and v.dtype.kind not in _DESCRIBED:
        return False
    if v.items is not None and not all(map(described, v.items)):
        return False
    return v.item is None or described(v.item)


def refuse_complex(v: Any) -> None:
    """A complex value or gradient: a complex number reached the result through an argument
    not differentiated. Casting it to the argument's real dtype would drop its imaginary part
    without a word."""
    if type(v) is complex or getattr(getattr(v, "dtype", None), "kind", "") == "c":
        raise NonScalarOutputError(
            "the result is complex: symdiff differentiates real functions only",
            hint="a complex number reaches the result through an argument that is not in wrt",
        )


def numpy_floats(t: Transformed, want_value: bool, args: tuple, kwargs: dict) -> tuple:
    """The call again, computing with NumPy floats: inf and nan instead of an exception."""
    to_np = lambda v: np.float64(v) if type(v) is float else v  # noqa: E731
    args = tuple(map(to_np, args))
    kwargs = {k: to_np(v) for k, v in kwargs.items()}
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        if want_value:
            return t.value_and_grad_np(*args, **kwargs)
        return None, t.grad_np(*args, **kwargs)


def arguments(names: list[str], args: tuple, kwargs: dict) -> dict[str, Any]:
    """The arguments of a call by parameter name (defaults not included)."""
    out = dict(zip(names, args))
    out.update(kwargs)
    return out


def bound_self(f: Any) -> Any:
    """A bound method's object (or class): the call passes it as the first argument."""
    return f.__self__ if isinstance(f, types.MethodType) else UNBOUND


def decorated(f: Any) -> bool:
    """``f`` carries ``functools.wraps`` layers, which symdiff looks through."""
    plain = f.__func__ if isinstance(f, (types.MethodType, staticmethod, classmethod)) else f
    return hasattr(plain, "__wrapped__")


def verify_decorated(f: Callable[..., Any], args: tuple, kwargs: dict, value: Any) -> None:
    """symdiff differentiates the function under ``functools.wraps`` decorators; one that
    changes the value (scales it, caches a stale one) would make that gradient wrong."""
    expected = f(*args, **kwargs)
    try:
        same = np.shape(expected) == np.shape(value) and bool(
            np.allclose(expected, value, rtol=1e-9, atol=1e-12, equal_nan=True)
        )
    except (TypeError, ValueError):
        same = False
    if not same:
        name = getattr(f, "__name__", "the function")
        if getattr(type(f), "__symdiff_generated__", None) is not None:  # grad(grad(f))
            raise InternalError(
                f"differentiating {name} again: the IR built from its gradient program "
                f"computes {_show(value)} where {name} computes {_show(expected)}"
            )
        raise UnsupportedFunctionError(
            f"a decorator on {name} changes its value ({_show(expected)} instead of "
            f"{_show(value)}); "
            "symdiff differentiates the function the decorators wrap",
            hint="apply that decorator to the gradient instead, or write its effect "
            "into the function",
        )


def _show(value: Any) -> str:
    try:
        return repr(float(value))
    except (TypeError, ValueError):
        return describe(value)
