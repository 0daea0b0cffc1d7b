"""The runtime helpers generated code still calls, written for any array-API namespace.

Specialised programs rarely need a helper (the types decide what ``unbroadcast`` would have
decided at run time), but the shape-generic form and a few rules do. Every backend other than
NumPy binds these: each finds the namespace of its argument with ``array_api_compat`` (JAX
tracers included, so they run under ``jax.jit``) and reads shapes from ``.shape``, which a
lazy or traced array knows without computing anything. They live here, not in
``symdiff.runtime``, whose helpers import NumPy alone (emitted NumPy modules copy them);
importing this module needs array-api-compat, which only non-NumPy backends require.
"""

from __future__ import annotations

import math
from typing import Any, NoReturn

import array_api_compat
import numpy as np
from array_api_compat import is_torch_array

from ...errors import BackendError


def array_namespace(*args: Any) -> Any:
    """The array-API namespace of the arrays among ``args`` (numbers, lists and other
    values are not arrays of any library and are passed over); NumPy's when there are none."""
    arrays = [a for a in args if hasattr(a, "shape") and hasattr(a, "dtype")]
    if not arrays:
        return array_api_compat.array_namespace(np.asarray(0.0))
    return array_api_compat.array_namespace(*arrays)


def shape(x: Any) -> tuple[int, ...]:
    """``np.shape``: a tuple for an array, ``()`` for a Python number.

    A dask array whose chunk lengths are unknown (after boolean indexing, or made from a
    dataframe) has ``nan`` for a length. Every count and broadcast computed from it would
    be ``nan`` too, a silently useless gradient, so such a shape is refused here, where
    every shape read of a non-NumPy gradient passes."""
    if not hasattr(x, "shape"):
        return ()
    found = tuple(x.shape)
    if any(isinstance(d, float) and math.isnan(d) for d in found):
        _unknown_length(found)
    return found


def _unknown_length(found: tuple[Any, ...]) -> NoReturn:
    """The refusal of an array whose shape has a length not known before computing."""
    raise BackendError(
        f"an argument has a length that is not known before computing (shape {found}): "
        "its gradient would divide by or broadcast to an unknown length",
        hint="make the lengths known first: x.compute_chunk_sizes() for a dask array "
        "(or lengths=True when it comes from a dataframe's to_dask_array)",
    )


def size(x: Any) -> int:
    """``np.size``: the number of elements (a Python int, known without computing)."""
    n = 1
    for d in shape(x):
        n *= d
    return n


def broadcast_shapes(*shapes: tuple[int, ...]) -> tuple[int, ...]:
    """``np.broadcast_shapes`` by the broadcasting rule, on plain tuples."""
    out: list[int] = []
    for s in shapes:
        s = tuple(s)
        pad = len(s) - len(out)
        if pad > 0:
            out = [1] * pad + out
        for i, d in enumerate(s):
            j = len(out) - len(s) + i
            if d != 1:
                if out[j] not in (1, d):
                    raise ValueError(f"shapes {shapes} do not broadcast")
                out[j] = d
    return tuple(out)


def broadcast_to(value: Any, to: tuple[int, ...], xp: Any = None) -> Any:
    """``np.broadcast_to``, also of a Python number, which becomes an array of the namespace
    ``xp`` the generated function computes in (a float is float64, as in NumPy)."""
    if not hasattr(value, "shape"):
        if tuple(to) == ():
            return value  # a number stays a number, as the NumPy form's 0-d result reads
        dtype = xp.float64 if isinstance(value, float) else None
        value = xp.asarray(value, dtype=dtype)
    else:
        xp = array_namespace(value)
    return xp.broadcast_to(value, tuple(to))


def unbroadcast(g: Any, x: Any) -> Any:
    """``g`` summed back to the shape of ``x``: over the leading axes broadcasting added and
    the axes where ``x`` has length 1 (the gradient of an implicit broadcast)."""
    target = shape(x)
    have = shape(g)
    if have == target:
        return g
    lead = len(have) - len(target)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, d in enumerate(target) if d == 1 and have[lead + i] != 1
    )
    xp = array_namespace(g)
    if axes:
        g = xp.sum(g, axis=axes)
    if not target:
        return g
    return xp.reshape(g, target)


def sum_to(g: Any, to: tuple[int, ...]) -> Any:
    """``g`` summed to the shape ``to`` (``unbroadcast`` given the shape, not the value)."""
    if not hasattr(g, "shape"):
        return g
    return unbroadcast(g, _Shaped(tuple(to)))


class _Shaped:
    def __init__(self, shape: tuple[int, ...]):
        self.shape = shape


def outer(a: Any, b: Any) -> Any:
    """``np.outer`` of two vectors, written with broadcasting (not every namespace has it)."""
    return a[:, None] * b[None, :]


def copy(x: Any) -> Any:
    """``np.copy``: a new array with the same values, in the library of ``x``."""
    if is_torch_array(x):
        return x.clone()
    xp = array_namespace(x)
    return xp.asarray(x, copy=True)


def ensure_scalar(value: Any, name: str, error: type[Exception] = ValueError) -> Any:
    """The result check of a shape-generic gradient: a number or a 0-d array."""
    if shape(value) != ():
        raise error(
            f"{name} must return a scalar to be differentiated, but returned an array "
            f"of shape {shape(value)}"
        )
    return value


def array_prod(x: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False) -> Any:
    """``np.prod``, also of a shape (a tuple of ints, whose product is a Python int: an
    element count, which a traced or lazy array knows without computing)."""
    if isinstance(x, (tuple, list)) and all(isinstance(d, int) for d in x):
        n = 1
        for d in x:
            n *= d
        return n
    xp = array_namespace(x)
    return xp.prod(x, axis=axis, dtype=_dtype(xp, dtype), keepdims=keepdims)


def array_sum(x: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False) -> Any:
    """``np.sum``, also of booleans: a count, held as a float64 so that the adjoints that
    divide by it (ties of a maximum) stay in floating point, as the standard requires
    (it sums numbers only and mixes no integer into float arithmetic)."""
    xp = array_namespace(x)
    if hasattr(x, "dtype") and x.dtype == xp.bool:
        x = xp.astype(x, xp.float64)
    return xp.sum(x, axis=axis, dtype=_dtype(xp, dtype), keepdims=keepdims)


def _dtype(xp: Any, dtype: Any) -> Any:
    """A dtype given as NumPy code writes it (``dtype=float``) in the namespace ``xp``."""
    if dtype is float:
        return xp.float64
    if dtype is int:
        return xp.int64
    if dtype is bool:
        return xp.bool
    return dtype


def _as_matrices(g: Any, a: Any, b: Any) -> tuple[Any, Any, Any]:
    """``g``, ``a``, ``b`` with a vector operand made a matrix (and ``g`` to match), so that
    every case of ``a @ b`` is a product of (stacks of) matrices."""
    if len(shape(a)) == 1:
        a, g = a[None, :], g[..., None, :]
    if len(shape(b)) == 1:
        b, g = b[:, None], g[..., None]
    return g, a, b


def _swap(x: Any) -> Any:
    xp = array_namespace(x)
    axes = list(range(len(shape(x))))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return xp.permute_dims(x, tuple(axes))


def matmul_grad_a(g: Any, a: Any, b: Any) -> Any:
    """The adjoint of ``a`` in ``a @ b``, for every mix of vectors, matrices and stacks."""
    gm, am, bm = _as_matrices(g, a, b)
    xp = array_namespace(gm)
    return xp.reshape(unbroadcast(gm @ _swap(bm), am), shape(a))


def matmul_grad_b(g: Any, a: Any, b: Any) -> Any:
    """The adjoint of ``b`` in ``a @ b``, for every mix of vectors, matrices and stacks."""
    gm, am, bm = _as_matrices(g, a, b)
    xp = array_namespace(gm)
    return xp.reshape(unbroadcast(_swap(am) @ gm, bm), shape(b))


def index_grad(g: Any, x: Any, index: Any) -> Any:
    """The adjoint of ``x[index]``: zeros shaped like ``x`` with ``g`` added at ``index``
    (functionally for JAX, whose arrays are immutable, with repeated indices summed)."""
    xp = array_namespace(x)
    out = xp.zeros_like(x)
    if hasattr(out, "at"):
        return out.at[index].add(g)
    parts = index if isinstance(index, tuple) else (index,)
    if any(hasattr(p, "shape") for p in parts):
        if is_torch_array(out):
            return out.index_put_(tuple(p for p in parts), g, accumulate=True)
        raise NotImplementedError("the adjoint of indexing by an array needs backend='numpy'")
    out[index] = g  # basic indices select each element once
    return out


def transpose(x: Any, axes: Any = None) -> Any:
    """``np.transpose``: the axes reversed unless given (``permute_dims`` always needs them)."""
    xp = array_namespace(x)
    order = tuple(reversed(range(len(shape(x))))) if axes is None else tuple(axes)
    return xp.permute_dims(x, order)


def maximum(a: Any, b: Any) -> Any:
    """``np.maximum``, also of an array and a Python number (``np.maximum(z, 0)``)."""
    a, b = _both_arrays(a, b)
    return array_namespace(a, b).maximum(a, b)


def minimum(a: Any, b: Any) -> Any:
    """``np.minimum``, also of an array and a Python number."""
    a, b = _both_arrays(a, b)
    return array_namespace(a, b).minimum(a, b)


def _both_arrays(a: Any, b: Any) -> tuple[Any, Any]:
    """A number beside an array as an array of that array's library and floating dtype."""
    if not hasattr(a, "shape"):
        a = _like(a, b)
    elif not hasattr(b, "shape"):
        b = _like(b, a)
    return a, b


def _like(value: Any, array: Any) -> Any:
    xp = array_namespace(array)
    dtype = array.dtype if xp.isdtype(array.dtype, "real floating") else xp.float64
    return xp.asarray(value, dtype=dtype, device=getattr(array, "device", None))
