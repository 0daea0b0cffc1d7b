"""Adjoints of functions that reorder or scan along an axis: sort, partition, cumprod and
diff.

A reordering's adjoint scatters ``g`` back to where each element came from; the pairing is
found by stable argsorts, so ties pick a consistent (and valid) subgradient.
"""

import numpy as np


def sort_grad(g, x, axis=-1):
    """The adjoint of ``np.sort``: ``g`` goes back to where each sorted element came from."""
    x = np.asarray(x)
    if axis is None:
        out = np.zeros(x.size, dtype=np.result_type(g, x, 1.0))
        out[np.argsort(x, axis=None, kind="stable")] = g
        return out.reshape(x.shape)
    out = np.zeros(x.shape, dtype=np.result_type(g, x, 1.0))
    np.put_along_axis(out, np.argsort(x, axis=axis, kind="stable"), g, axis=axis)
    return out


def permutation_grad(g, x, y, axis=-1):
    """The adjoint of a function that reorders ``x`` along an axis (``np.partition``).

    Sorting both ``x`` and the result pairs each output element with the input it came from
    (ties may pair either way; the values are equal, so either is a valid subgradient).
    """
    x = np.asarray(x)
    out = np.zeros(x.shape, dtype=np.result_type(g, x, 1.0))
    source = np.argsort(x, axis=axis, kind="stable")
    target = np.argsort(y, axis=axis, kind="stable")
    np.put_along_axis(out, source, np.take_along_axis(np.asarray(g), target, axis=axis), axis=axis)
    return out


def permutation_tangent(d, x, y, axis=-1):
    """The tangent of a reordering of ``x`` into ``y`` (``np.sort``, ``np.partition``): each
    output element takes the tangent of the input it came from, paired as in
    ``permutation_grad``, of which this is the transpose."""
    x, d = np.asarray(x), np.asarray(d)
    if axis is None:
        x, d, axis = x.ravel(), d.ravel(), -1
    out = np.zeros(np.shape(y), dtype=np.result_type(d, x, 1.0))
    source = np.argsort(x, axis=axis, kind="stable")
    target = np.argsort(y, axis=axis, kind="stable")
    np.put_along_axis(out, target, np.take_along_axis(d, source, axis=axis), axis=axis)
    return out


def cumprod_grad(g, x, axis=None):
    """The adjoint of ``np.cumprod``, without dividing by ``x`` (zeros are no problem).

    With p_i the product of the elements before i and s_i = g_i + x_{i+1} s_{i+1}, the
    adjoint of x_i is p_i s_i: one backward sweep along the axis.
    """
    x = np.asarray(x)
    if axis is None:
        return cumprod_grad(np.reshape(g, -1), x.reshape(-1), 0).reshape(x.shape)
    xm = np.moveaxis(x, axis, -1)
    gm = np.moveaxis(np.asarray(g), axis, -1)
    ones = np.ones(xm.shape[:-1] + (1,), dtype=xm.dtype)
    before = np.cumprod(np.concatenate([ones, xm[..., :-1]], axis=-1), axis=-1)
    out = np.zeros(xm.shape, dtype=np.result_type(g, x, 1.0))
    s = np.zeros(xm.shape[:-1], dtype=out.dtype)
    for i in range(xm.shape[-1] - 1, -1, -1):
        s = gm[..., i] + (xm[..., i + 1] * s if i + 1 < xm.shape[-1] else 0.0)
        out[..., i] = before[..., i] * s
    return np.moveaxis(out, -1, axis)


def diff_grad(g, n=1, axis=-1):
    """The adjoint of ``np.diff``: each difference gives ``-g`` to its left and ``g`` to its right."""
    for _ in range(n):
        g = -np.diff(g, axis=axis, prepend=0.0, append=0.0)
    return g
