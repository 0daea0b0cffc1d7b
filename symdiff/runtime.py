"""The few helpers generated gradients call, written in plain NumPy.

This module imports nothing but NumPy: ``emit`` copies the source of the helpers a module
uses into it, so a standalone gradient runs where symdiff is not installed.
"""

import numpy as np


def unbroadcast(g, x):
    """Sum ``g`` over the axes that broadcasting added, so that it takes the shape of ``x``."""
    shape = np.shape(x)
    if np.shape(g) == shape:
        return g
    lead = np.ndim(g) - len(shape)
    if lead:
        g = np.sum(g, axis=tuple(range(lead)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and np.shape(g)[i] != 1)
    if axes:
        g = np.sum(g, axis=axes, keepdims=True)
    return g


def matmul_grad_a(g, a, b):
    """The adjoint of ``a`` in ``a @ b``, for every mix of vector and matrix operands."""
    if np.ndim(b) == 1:
        return np.multiply.outer(g, b)
    return unbroadcast(g @ np.swapaxes(b, -1, -2), a)


def matmul_grad_b(g, a, b):
    """The adjoint of ``b`` in ``a @ b``, for every mix of vector and matrix operands."""
    if np.ndim(a) == 1:
        if np.ndim(b) == 1:
            return a * g
        return unbroadcast(a[:, None] * g[..., None, :], b)
    return unbroadcast(np.swapaxes(a, -1, -2) @ g, b)


def index_grad(g, x, index):
    """The adjoint of ``x[index]``: ``g`` scattered into zeros shaped like ``x``."""
    out = np.zeros(np.shape(x), dtype=np.result_type(g, x, 1.0))
    np.add.at(out, index, g)
    return out


def unconcat(g, *parts, part, axis=0):
    """The slice of ``g`` that came from ``parts[part]`` in ``np.concatenate(parts, axis)``."""
    axis = axis % np.ndim(g)
    start = sum(np.shape(p)[axis] for p in parts[:part])
    stop = start + np.shape(parts[part])[axis]
    return g[(slice(None),) * axis + (slice(start, stop),)]


def ensure_scalar(value, name, error=ValueError):
    """Refuse a non-scalar result: its gradient is not defined, and summing it would hide bugs."""
    if np.ndim(value) != 0:
        raise error(
            f"{name} must return a scalar to be differentiated, but returned an array of shape {np.shape(value)}"
        )
    return value
