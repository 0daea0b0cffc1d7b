"""Shared checks for the typed rewrites: a gradient specialised to its arguments' types
agrees with the shape-generic one and with central finite differences, and reads as a
person writes it (no runtime helper, no shape computed at run time)."""

from __future__ import annotations

import ast
import math
from typing import Any
from unittest import mock

import numpy as np

from symdiff import check_grad, from_source
from symdiff.pipeline import Transformed, transform
from symdiff.runtime import __all__ as RUNTIME_HELPERS

# calls that compute at run time what a shape is; a person reads ``x.size`` or ``len(x)``
SHAPE_CALLS = frozenset(
    {"np.shape", "np.size", "np.ndim", "np.broadcast_shapes", "np.broadcast_to", "np.prod"}
)

RNG = np.random.default_rng(20261202)


def function(text: str, **namespace: Any):
    """A function from its source, seeing ``np`` and ``math`` (and ``namespace``)."""
    return from_source(text, namespace={"np": np, "math": math, **namespace})


def calls(source: str) -> list[str]:
    """The dotted names of the functions ``source`` calls, in order, with repeats."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            out.append(ast.unparse(node.func))
    return out


def helper_calls(source: str) -> list[str]:
    return [c for c in calls(source) if c in RUNTIME_HELPERS]


def shape_calls(source: str) -> list[str]:
    return [c for c in calls(source) if c in SHAPE_CALLS]


def body(t: Transformed) -> str:
    """The code of the generated gradient, without its docstring and comments."""
    (fn,) = ast.parse(t.grad_source).body
    assert isinstance(fn, ast.FunctionDef)
    return "\n".join(ast.unparse(s) for s in fn.body[1:])


def kinds(n: int = 3, lo: float = -1.5, hi: float = 1.5) -> dict[str, Any]:
    """One argument of every kind the types tell apart: vectors and matrices with unit and
    empty axes, a 0-d array, a NumPy scalar, a Python float, a float32 vector."""

    def draw(*shape: int) -> np.ndarray:
        return RNG.uniform(lo, hi, shape)

    value = float(RNG.uniform(lo, hi))
    return {
        "vector": draw(n),
        "matrix": draw(2, n),
        "row": draw(1, n),
        "column": draw(2, 1),
        "unit": draw(1),
        "empty": draw(0),
        "zero_d": np.array(value),
        "np_scalar": np.float64(value),
        "float": value,
        "float32": draw(n).astype(np.float32),
    }


def runs(f, args: tuple) -> bool:
    """``f`` accepts these arguments (shapes that broadcast, and so on)."""
    try:
        with np.errstate(all="ignore"):
            f(*args)
    except (ValueError, TypeError, IndexError):
        return False
    return True


def same(want: Any, got: Any, rtol: float = 1e-12) -> None:
    """The specialised gradient equals the generic one: values, shapes and dtypes (a 0-d
    array of the generic program may be the Python float its argument was)."""
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for w, g in zip(want, got):
            same(w, g, rtol)
        return
    assert np.shape(got) == np.shape(want)
    if isinstance(want, np.ndarray) and want.ndim:
        assert isinstance(got, np.ndarray) and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-15)


def unrewritten(f, wrt: Any, args: tuple) -> Transformed:
    """``f``'s derivative program built for ``args``' types as the pipeline builds it, but
    with no typed rewrite applied: what the rewrites must compute exactly."""
    with mock.patch("symdiff.pipeline.specialise", lambda prog, signature, extra=None: prog):
        return transform(f, wrt, args=args)


def agree(
    f, args: tuple, wrt: Any = 0, generic: Transformed | None = None, fd: bool = True
) -> Transformed:
    """``f``'s gradient specialised to ``args`` agrees with the generic gradient (``generic``,
    when already made) and, with ``fd``, where ``f`` is finite and has elements, with finite
    differences; returns it for reading."""
    spec = transform(f, wrt, args=args)
    generic = generic or transform(f, wrt)
    with np.errstate(all="ignore"):
        want = generic.grad(*args)
        got = spec.grad(*args)
    if any(np.result_type(a) == np.float32 for a in args):
        # knowing the arguments are numbers, the pipeline may round some steps in float32
        # where the generic program computes in float64: the rewrites themselves are exact
        same(want, got, rtol=1e-5)
        with np.errstate(all="ignore"):
            same(unrewritten(f, wrt, args).grad(*args), got)
    else:
        same(want, got)
    with np.errstate(all="ignore"):
        value = f(*args)
    if fd and np.all(np.isfinite(value)) and all(np.size(a) for a in args):
        check_grad(f, *args, wrt=wrt, grad_fn=spec.grad)
    return spec
