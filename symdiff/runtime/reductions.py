"""Adjoints of reductions whose gradient is not a plain broadcast: products, medians,
norms and weighted averages.

``prod_grad`` and ``median_grad`` share one layout trick (the reduced axes moved last and
merged), which is why the median lives here with the products rather than with the sorts.
"""

import numpy as np

from .broadcasting import unbroadcast


def _reduced_last(x, axis):
    """``x`` with the reduced axes moved last and merged into one, and how to undo it."""
    x = np.asarray(x)
    nd = x.ndim
    axes = tuple(range(nd)) if axis is None else tuple(np.atleast_1d(axis) % max(nd, 1))
    kept = [i for i in range(nd) if i not in axes]
    perm = kept + list(axes)
    moved = np.transpose(x, perm)
    merged = moved.reshape(moved.shape[: len(kept)] + (-1,))
    return merged, perm, moved.shape, axes


def _restore(t, perm, moved_shape):
    """Undo ``_reduced_last`` on an array of the merged shape."""
    return np.transpose(np.reshape(t, moved_shape), np.argsort(perm))


def prod_grad(g, x, axis=None, keepdims=False):
    """The adjoint of ``np.prod``: each element gets the product of the others.

    Built from prefix and suffix products rather than ``y / x``, so zeros are no problem.
    """
    t, perm, moved_shape, axes = _reduced_last(x, axis)
    ones = np.ones(t.shape[:-1] + (1,), dtype=t.dtype)
    left = np.cumprod(np.concatenate([ones, t[..., :-1]], axis=-1), axis=-1)
    right = np.cumprod(np.concatenate([ones, t[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    others = _restore(left * right, perm, moved_shape)
    return (g if keepdims else np.expand_dims(g, axes)) * others


def median_grad(g, x, axis=None, keepdims=False):
    """The adjoint of ``np.median``: the middle element takes ``g`` (two middles share it)."""
    t, perm, moved_shape, axes = _reduced_last(x, axis)
    n = t.shape[-1]
    order = np.argsort(t, axis=-1, kind="stable")
    share = np.zeros(t.shape)
    lo, hi = (n - 1) // 2, n // 2
    np.put_along_axis(share, order[..., lo : lo + 1], 1.0 if lo == hi else 0.5, axis=-1)
    if hi != lo:
        np.put_along_axis(share, order[..., hi : hi + 1], 0.5, axis=-1)
    share = _restore(share, perm, moved_shape)
    return (g if keepdims else np.expand_dims(g, axes)) * share


def norm_grad(g, x, y, ord=None, axis=None, keepdims=False):
    """The adjoint of ``np.linalg.norm`` for every vector and matrix ``ord`` NumPy accepts.

    Vector p-norms: sign(x) (|x| / y)^(p-1) (x / y for p = 2); inf and -inf pick the extreme
    entries, sharing ties. Matrix norms: Frobenius x / y, nuclear U V^T, spectral u v^T of
    the extreme singular value, and 1/-1/inf/-inf through the extreme column or row sums.
    """
    x = np.asarray(x)
    if axis is None:
        matrix = ord is not None and x.ndim == 2
        axes = tuple(range(x.ndim))
    else:
        axes = tuple(np.atleast_1d(axis) % x.ndim)
        matrix = len(axes) == 2
    if not keepdims:
        g, y = np.expand_dims(g, axes), np.expand_dims(y, axes)
    safe = np.where(y == 0, 1.0, y)
    if ord is None or ord == "fro" or (ord == 2 and not matrix):
        return g * x / safe  # the 2-norm of the flattened entries
    if matrix:
        return _matrix_norm_grad(g, x, axes, ord)
    if ord in (np.inf, -np.inf):
        hit = np.abs(x) == y
        return g * np.sign(x) * hit / np.sum(hit, axis=axes, keepdims=True)
    if ord == 0:  # a count of nonzero entries: constant almost everywhere
        return np.zeros(x.shape, dtype=np.result_type(g, x, 1.0))
    return g * np.sign(x) * (np.abs(x) / safe) ** (ord - 1)


def _matrix_norm_grad(g, x, axes, ord):
    """Matrix norms over ``axes``: moved last, handled as a stack of matrices."""
    m = np.moveaxis(x, axes, (-2, -1))
    gm = np.moveaxis(g, axes, (-2, -1))
    if ord in ("nuc", 2, -2):
        u, s, vt = np.linalg.svd(m, full_matrices=False)
        if ord == "nuc":
            d = u @ vt
        else:
            k = 0 if ord == 2 else s.shape[-1] - 1
            d = u[..., :, k : k + 1] * vt[..., k : k + 1, :]
    else:  # 1, -1: columns (sum over rows); inf, -inf: rows
        over = -2 if ord in (1, -1) else -1
        sums = np.sum(np.abs(m), axis=over, keepdims=True)
        best = np.max(sums, axis=-1 if over == -2 else -2, keepdims=True)
        if ord in (-1, -np.inf):
            best = np.min(sums, axis=-1 if over == -2 else -2, keepdims=True)
        hit = sums == best
        d = np.sign(m) * hit / np.sum(hit, axis=(-2, -1), keepdims=True)
    return np.moveaxis(gm * d, (-2, -1), axes)


def average_grad(g, a, weights, axis=None, keepdims=False, part=0):
    """The adjoints of ``np.average(a, axis, weights)``: part 0 for ``a``, 1 for ``weights``.

    One-dimensional weights along ``axis`` are laid out along that axis first, as NumPy does.
    """
    a = np.asarray(a)
    w = np.asarray(weights)
    if w.shape != a.shape:  # 1-D weights along a single axis
        layout = [1] * a.ndim
        layout[axis % a.ndim] = w.size
        w = w.reshape(layout)
    axes = tuple(range(a.ndim)) if axis is None else tuple(np.atleast_1d(axis) % a.ndim)
    total = np.sum(w, axis=axes, keepdims=True)
    mean = np.sum(a * w, axis=axes, keepdims=True) / total
    if not keepdims:
        g = np.expand_dims(g, axes)
    if part == 0:
        return g * w / total
    dw = g * (a - mean) / total
    return unbroadcast(dw, w).reshape(np.shape(weights))
