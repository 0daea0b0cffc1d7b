"""The backends: one module per array library, each a ``Backend`` table (see ``base``).

``get`` names one; ``detect`` says which library's arrays a call was given, so that
``grad(f)`` called with JAX arrays can pick the JAX backend instead of converting them to
NumPy.
"""

from __future__ import annotations

from typing import Any, Iterable

from ...errors import BackendError
from . import array_api, cupy, dask, jax, numpy, torch
from .base import Backend, resolve

__all__ = ["BACKENDS", "NUMPY", "Backend", "detect", "get", "resolve"]

BACKENDS: dict[str, Backend] = {
    b.name: b
    for b in (
        numpy.BACKEND,
        array_api.BACKEND,
        jax.BACKEND,
        torch.BACKEND,
        dask.BACKEND,
        cupy.BACKEND,
    )
}
NUMPY = numpy.BACKEND


def get(backend: str | Backend | None) -> Backend:
    """The backend called ``backend`` (``None``: NumPy)."""
    if backend is None:
        return NUMPY
    if isinstance(backend, Backend):
        return backend
    key = backend.replace("_", "-").lower()
    if key not in BACKENDS:
        raise BackendError(
            f"there is no backend called {backend!r}",
            hint=f"one of {', '.join(repr(b) for b in BACKENDS)}",
        )
    return BACKENDS[key]


def detect(args: Iterable[Any]) -> Backend | None:
    """The backend whose arrays ``args`` holds (``None``: only NumPy values and numbers).

    Looks at each argument's type only (its top-level module), never at its values, so it
    costs no computation on lazy or traced arrays. Arrays of two libraries are refused:
    symdiff will not convert one to the other.
    """
    found: Backend | None = None
    for a in args:
        module = type(a).__module__.partition(".")[0]
        if module in ("numpy", "builtins"):
            continue
        for b in BACKENDS.values():
            if module in b.array_modules:
                if found is not None and found is not b:
                    raise BackendError(
                        f"the arguments mix arrays of two libraries ({found.name} and {b.name})",
                        hint="convert them to one library before calling the gradient",
                    )
                found = b
    return found
