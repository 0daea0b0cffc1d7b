"""The helpers generated gradients call, written in plain NumPy.

A rule writes its adjoint with NumPy calls when the formula fits on a line; it calls a helper
from here when the adjoint depends on shapes only known at run time (which axes to sum, how
a split cut its input) or needs a scatter or a loop (sort, cumprod, einsum). This module
imports nothing but NumPy: ``emit`` copies the source of the helpers a module uses into it
(with the helpers those call), so a standalone gradient runs where symdiff is not installed.
"""

import numpy as np


def unbroadcast(g, x):
    """Sum ``g`` over the axes that broadcasting added, so that it takes the shape of ``x``."""
    shape = x.shape if type(x) is np.ndarray else np.shape(x)
    if (g.shape if type(g) is np.ndarray else np.shape(g)) == shape:
        return g  # the common case, kept cheap
    return sum_to(g, shape)


def sum_to(g, shape):
    """``g`` summed over the axes that broadcasting added, down to ``shape``: unbroadcast for
    a value whose shape is known but which was never computed."""
    if np.shape(g) == shape:
        return g
    lead = np.ndim(g) - len(shape)
    if lead:
        g = np.sum(g, axis=tuple(range(lead)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and np.shape(g)[i] != 1)
    if axes:
        g = np.sum(g, axis=axes, keepdims=True)
    return g


def _as_matrices(g, a, b):
    """``a @ b`` with vector operands promoted to matrices, as matmul does, and ``g`` to match."""
    g = np.asarray(g)
    if np.ndim(b) == 1:
        g, b = g[..., None], np.reshape(b, (-1, 1))
    if np.ndim(a) == 1:
        g, a = g[..., None, :], np.reshape(a, (1, -1))
    return g, a, b


def matmul_grad_a(g, a, b):
    """The adjoint of ``a`` in ``a @ b``, for every mix of vectors, matrices and stacks."""
    if type(a) is np.ndarray and type(b) is np.ndarray and a.ndim == 2:
        if b.ndim == 1:
            return np.outer(g, b)  # the weight gradient of a layer: delta x^T
        if b.ndim == 2:
            return g @ b.T
    gm, am, bm = _as_matrices(g, a, b)
    return np.reshape(unbroadcast(gm @ np.swapaxes(bm, -1, -2), am), np.shape(a))


def matmul_grad_b(g, a, b):
    """The adjoint of ``b`` in ``a @ b``, for every mix of vectors, matrices and stacks."""
    if type(a) is np.ndarray and type(b) is np.ndarray and a.ndim == 2 and b.ndim <= 2:
        return a.T @ g  # what a layer passes back: W^T delta
    gm, am, bm = _as_matrices(g, a, b)
    return np.reshape(unbroadcast(np.swapaxes(am, -1, -2) @ gm, bm), np.shape(b))


def index_grad(g, x, index):
    """The adjoint of ``x[index]``: ``g`` scattered into zeros shaped like ``x``."""
    out = np.zeros(np.shape(x), dtype=np.result_type(g, x, 1.0))
    np.add.at(out, index, g)
    return out


def unconcat(g, *parts, part, axis=0):
    """The slice of ``g`` that came from ``parts[part]`` in ``np.concatenate(parts, axis)``."""
    if axis is None:  # the parts were flattened first
        start = sum(np.size(p) for p in parts[:part])
        return np.reshape(g[start : start + np.size(parts[part])], np.shape(parts[part]))
    axis = axis % np.ndim(g)
    start = sum(np.shape(p)[axis] for p in parts[:part])
    stop = start + np.shape(parts[part])[axis]
    return g[(slice(None),) * axis + (slice(start, stop),)]


def ensure_scalar(value, name, error=ValueError):
    """Refuse a non-scalar result: its gradient is not defined, and summing it would hide bugs."""
    if np.ndim(value) != 0:
        raise error(
            f"{name} must return a scalar to be differentiated, but returned an array "
            f"of shape {np.shape(value)}"
        )
    return value


def scalar_checked(x, value, name, error=ValueError):
    """``x``, once ``value`` (what ``name`` returned) is known to be a scalar.

    A gradient checks its function's value before using it; when that gradient is
    differentiated again, the check travels with the derivative through this helper.
    """
    ensure_scalar(value, name, error)
    return x


def scalar_seed(x, name, error=ValueError):
    """The tangent 1.0 of a scalar argument: then one forward pass gives its derivative."""
    if np.ndim(x) != 0:
        raise error(
            f"{name} must be a scalar here: this derivative is computed in forward "
            f"mode, one input element at a time, but {name} has shape {np.shape(x)}; "
            "use symdiff.hessian or symdiff.jacobian(..., mode='fwd') for arrays"
        )
    return 1.0


def unstack(g, axis=0):
    """The adjoint of a list stacked along ``axis``: one slice of ``g`` per item."""
    return list(np.moveaxis(g, axis, 0))


def sum_list_grad(g, items):
    """The adjoint of ``sum(items)``: ``g`` for every item, summed back to its shape."""
    return [unbroadcast(g, x) for x in items]


def zeros_like_list(items):
    """A zero adjoint for a list: one zero array per item."""
    return [np.zeros_like(x, dtype=float) for x in items]


# ----------------------------------------------------------------------------- reductions


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


# ----------------------------------------------------------------------------- shape and layout


def take_grad(g, x, indices, axis=None):
    """The adjoint of ``np.take``: ``g`` added back at the indices taken (repeats add up)."""
    x, indices = np.asarray(x), np.asarray(indices)
    out = np.zeros(x.shape, dtype=np.result_type(g, x, 1.0))
    if axis is None:
        np.add.at(out.reshape(-1), indices, g)
        return out
    axis = axis % x.ndim
    k = np.ndim(indices)
    moved = np.moveaxis(np.asarray(g), list(range(axis, axis + k)), list(range(k)))
    np.add.at(np.moveaxis(out, axis, 0), indices, moved)
    return out


def diagonal_grad(g, x, offset=0, axis1=0, axis2=1):
    """The adjoint of ``np.diagonal``: ``g`` written onto the diagonal of zeros shaped like ``x``."""
    x = np.asarray(x)
    out = np.zeros(x.shape, dtype=np.result_type(g, x, 1.0))
    view = np.moveaxis(out, (axis1, axis2), (-2, -1))
    rows, cols = view.shape[-2:]
    n = max(0, min(rows - max(-offset, 0), cols - max(offset, 0)))
    i = np.arange(n)
    view[..., i + max(-offset, 0), i + max(offset, 0)] = g
    return out


def diag_grad(g, v, k=0):
    """The adjoint of ``np.diag``, which builds a matrix from a vector or reads a diagonal."""
    if np.ndim(v) == 1:
        return np.diagonal(g, k).copy()
    return diagonal_grad(g, v, k)


def tile_grad(g, x, reps):
    """The adjoint of ``np.tile``: the copies are summed."""
    shape = np.shape(x)
    reps = (reps,) if np.ndim(reps) == 0 else tuple(reps)
    d = max(len(shape), len(reps))
    shape_d = (1,) * (d - len(shape)) + tuple(shape)
    reps_d = (1,) * (d - len(reps)) + reps
    g = np.reshape(g, [n for pair in zip(reps_d, shape_d) for n in pair])
    return np.sum(g, axis=tuple(range(0, 2 * d, 2))).reshape(shape)


def repeat_grad(g, x, repeats, axis=None):
    """The adjoint of ``np.repeat``: the repeated copies of each element are summed."""
    x = np.asarray(x)
    shape = (x.size,) if axis is None else x.shape
    axis = 0 if axis is None else axis % x.ndim
    n = shape[axis]
    source = np.repeat(np.arange(n), repeats)
    moved = np.moveaxis(np.asarray(g), axis, 0)
    out = np.zeros((n,) + moved.shape[1:], dtype=np.result_type(g, x, 1.0))
    np.add.at(out, source, moved)
    return np.moveaxis(out, 0, axis).reshape(x.shape)


def unpad(g, x, pad_width):
    """The adjoint of ``np.pad`` (constant mode): the part of ``g`` that covers ``x``."""
    shape = np.shape(x)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (len(shape), 2))
    return g[tuple(slice(before, before + n) for (before, _), n in zip(widths, shape))]


def rollaxis_grad(g, x, axis, start=0):
    """The adjoint of ``np.rollaxis``: the inverse permutation applied to ``g``."""
    nd = np.ndim(x)
    axis, start = axis % nd, start + nd if start < 0 else start
    perm = list(range(nd))
    perm.remove(axis)
    perm.insert(start - 1 if axis < start else start, axis)
    return np.transpose(g, np.argsort(perm))


def unjoin(g, *parts, part, how):
    """The piece of ``g`` that came from ``parts[part]`` in ``np.<how>(parts)``.

    ``how`` is vstack, hstack, dstack or column_stack; each promotes its inputs to a number of
    dimensions first, which is undone by reshaping the piece to the part's own shape.
    """
    shapes = [np.shape(p) for p in parts]
    if how == "vstack":
        promoted, axis = [np.atleast_2d(np.empty(s)).shape for s in shapes], 0
    elif how == "hstack":
        promoted = [np.atleast_1d(np.empty(s)).shape for s in shapes]
        axis = 0 if len(promoted[0]) == 1 else 1
    elif how == "dstack":
        promoted, axis = [np.atleast_3d(np.empty(s)).shape for s in shapes], 2
    else:  # column_stack: vectors become columns
        promoted = [(s[0] if s else 1, 1) if len(s) < 2 else s for s in shapes]
        axis = 1
    start = sum(s[axis] for s in promoted[:part])
    piece = g[(slice(None),) * axis + (slice(start, start + promoted[part][axis]),)]
    return np.reshape(piece, shapes[part])


def unsplit(parts, x, sections, axis=0):
    """The adjoint of ``np.split``-like functions: the pieces' adjoints put back in place.

    ``parts`` holds one adjoint per piece, ``None`` for a piece that was not used;
    ``axis=None`` stands for ``np.hsplit`` (axis 1, or 0 for vectors).
    """
    x = np.asarray(x)
    if axis is None:
        axis = 1 if x.ndim > 1 else 0
    used = [p for p in parts if p is not None]
    out = np.zeros(x.shape, dtype=np.result_type(*used, x, 1.0))
    bounds = np.array_split(np.arange(x.shape[axis]), sections)
    for piece, idx in zip(parts, bounds):
        if piece is not None and len(idx):
            out[(slice(None),) * (axis % x.ndim) + (slice(idx[0], idx[-1] + 1),)] = piece
    return out


# ----------------------------------------------------------------------------- products


def _letters():
    """The subscript letters einsum accepts."""
    return "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _einsum_terms(subscripts, operands):
    """Explicit input and output terms of an einsum, with any ``...`` spelled out in letters."""
    subscripts = subscripts.replace(" ", "")
    inputs, _, output = subscripts.partition("->")
    terms = inputs.split(",")
    used = set(subscripts) - set(".,->")
    free = [c for c in _letters() if c not in used]
    widths = [np.ndim(op) - len(t.replace("...", "")) for t, op in zip(terms, operands)]
    wide = max([w for t, w in zip(terms, widths) if "..." in t], default=0)
    ell = "".join(free[:wide])
    terms = [t.replace("...", ell[wide - w :]) for t, w in zip(terms, widths)]
    if "->" not in subscripts:  # implicit mode: the letters seen once, in order
        once = sorted(c for c in set("".join(terms)) if "".join(terms).count(c) == 1)
        output = ell + "".join(c for c in once if c not in ell)
    return terms, output.replace("...", ell)


def einsum_grad(g, subscripts, *operands, part):
    """The adjoint of operand ``part`` of ``np.einsum(subscripts, *operands)``.

    ``g`` is contracted with the other operands onto that operand's letters. Letters the
    operand sums on its own are broadcast back with ones, a repeated letter (a diagonal) is
    written back through an identity matrix, and broadcast axes of length 1 are summed.
    """
    terms, output = _einsum_terms(subscripts, operands)
    mine, op = terms[part], np.asarray(operands[part])
    others = [t for i, t in enumerate(terms) if i != part]
    seen = set(output).union(*others)
    kept = "".join(dict.fromkeys(c for c in mine if c in seen))
    others_ops = [o for i, o in enumerate(operands) if i != part]
    r = np.einsum(",".join([output, *others]) + "->" + kept, g, *others_ops)
    size = {c: n for c, n in zip(mine, op.shape)}
    spare = iter(c for c in _letters() if c not in set("".join(terms)) | set(output))
    extra_terms, extra_ops, target, first = [], [], "", set()
    for c in mine:
        if c in first:  # a repeated letter: a fresh one tied to it by the identity
            fresh = next(spare)
            extra_terms.append(c + fresh)
            extra_ops.append(np.eye(size[c]))
            target += fresh
        else:
            first.add(c)
            target += c
            if c not in kept:  # summed within this operand only: broadcast back
                extra_terms.append(c)
                extra_ops.append(np.ones(size[c]))
    out = np.einsum(",".join([kept, *extra_terms]) + "->" + target, r, *extra_ops)
    summed = tuple(i for i, (a, b) in enumerate(zip(op.shape, out.shape)) if a == 1 and b != 1)
    return np.sum(out, axis=summed, keepdims=True) if summed else out


def tensordot_grad(g, a, b, axes=2, part=0):
    """The adjoint of ``np.tensordot(a, b, axes)``, written as an einsum."""
    na, nb = np.ndim(a), np.ndim(b)
    if np.ndim(axes) == 0:
        pairs = list(zip(range(na - axes, na), range(axes)))
    else:
        ia, ib = (np.atleast_1d(i).tolist() for i in axes)
        pairs = list(zip(ia, ib))
    la, lb = list(_letters()[:na]), list(_letters()[na : na + nb])
    for i, j in pairs:
        lb[j % nb] = la[i % na]
    contracted = {la[i % na] for i, _ in pairs}
    out = "".join(c for c in la if c not in contracted) + "".join(
        c for c in lb if c not in contracted
    )
    return einsum_grad(g, "".join(la) + "," + "".join(lb) + "->" + out, a, b, part=part)


def dot_grad(g, a, b, part=0):
    """The adjoint of ``np.dot(a, b)`` for scalars, vectors, matrices and stacks."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * (b if part == 0 else a), a if part == 0 else b)
    return tensordot_grad(g, a, b, ([np.ndim(a) - 1], [max(np.ndim(b) - 2, 0)]), part)


def inner_grad(g, a, b, part=0):
    """The adjoint of ``np.inner(a, b)``: a contraction over both last axes."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * (b if part == 0 else a), a if part == 0 else b)
    return tensordot_grad(g, a, b, ([np.ndim(a) - 1], [np.ndim(b) - 1]), part)


def kron_grad(g, a, b, part=0):
    """The adjoint of ``np.kron(a, b)``: ``g`` seen as blocks, each paired with ``b`` (or ``a``)."""
    a, b = np.asarray(a), np.asarray(b)
    d = max(a.ndim, b.ndim)
    sa = (1,) * (d - a.ndim) + a.shape
    sb = (1,) * (d - b.ndim) + b.shape
    blocks = np.reshape(g, [n for pair in zip(sa, sb) for n in pair])
    if part == 0:
        other = b.reshape([n for s in sb for n in (1, s)])
        return np.sum(blocks * other, axis=tuple(range(1, 2 * d, 2))).reshape(a.shape)
    other = a.reshape([n for s in sa for n in (s, 1)])
    return np.sum(blocks * other, axis=tuple(range(0, 2 * d, 2))).reshape(b.shape)


def convolve_grad(g, a, v, mode="full", part=0):
    """The adjoint of ``np.convolve(a, v, mode)``: a correlation of the full-length ``g``."""
    n, m = np.size(a), np.size(v)
    if mode != "full":
        start = (min(n, m) - 1) // 2 if mode == "same" else min(n, m) - 1
        full = np.zeros(n + m - 1, dtype=np.result_type(g, 1.0))
        full[start : start + np.size(g)] = g
        g = full
    other = v if part == 0 else a
    return np.convolve(g, np.ravel(other)[::-1], "valid")


# ----------------------------------------------------------------------------- linear algebra


def solve_adjoint(g, a, b):
    """``A^-T g`` for ``x = np.linalg.solve(a, b)``, laid out like ``b`` (vector or matrix)."""
    at = np.swapaxes(a, -1, -2)
    if np.ndim(b) == 1:
        return np.linalg.solve(at, np.asarray(g)[..., None])[..., 0]
    return np.linalg.solve(at, g)


def solve_grad_a(z, x, a, b):
    """The adjoint of ``a`` in ``x = np.linalg.solve(a, b)``: ``-z x^T`` with ``z = A^-T g``."""
    if np.ndim(b) == 1:
        return unbroadcast(-(z[..., :, None] * x[..., None, :]), a)
    return unbroadcast(-(z @ np.swapaxes(x, -1, -2)), a)


def _symmetric_read(s, upper=False):
    """The adjoint of a symmetric matrix that LAPACK reads from one triangle only.

    An entry off the diagonal stands for itself and its mirror image, so it collects both.
    """
    both = s + np.swapaxes(s, -1, -2)
    diag = s * np.eye(s.shape[-1])
    return (np.triu(both, 1) if upper else np.tril(both, -1)) + diag


def eigh_grad(gw, gv, w, v, UPLO="L"):
    """The adjoint of ``np.linalg.eigh`` from the adjoints of its eigenvalues and eigenvectors.

    V (diag(gw) + F * (V^T gv)) V^T with F_ij = 1 / (w_j - w_i) off the diagonal (distinct
    eigenvalues assumed), read back through the triangle LAPACK used.
    """
    vt = np.swapaxes(v, -1, -2)
    n = np.shape(w)[-1]
    inner = np.zeros(np.shape(v), dtype=np.result_type(v, 1.0))
    if gw is not None:
        inner = inner + np.eye(n) * np.asarray(gw)[..., None, :]
    if gv is not None:
        inner = inner + _inverse_gaps(w) * (vt @ gv)
    return _symmetric_read(v @ inner @ vt, upper=UPLO == "U")


def _inverse_gaps(w):
    """F_ij = 1 / (w_j - w_i) off the diagonal, 0 on it: how eigenvectors turn when the
    matrix moves (distinct eigenvalues)."""
    gap = w[..., None, :] - w[..., :, None]
    off = ~np.eye(np.shape(w)[-1], dtype=bool)
    return np.where(off, 1.0 / np.where(off, gap, 1.0), 0.0)


def cholesky_grad(g, L):
    """The adjoint of ``np.linalg.cholesky`` (lower factor, lower triangle read).

    S = L^-T Phi(L^T g) L^-1, where Phi keeps the lower triangle and halves the diagonal.
    """
    n = np.shape(L)[-1]
    p = np.tril(np.swapaxes(L, -1, -2) @ g) * (1.0 - 0.5 * np.eye(n))
    inv = np.linalg.inv(L)
    return _symmetric_read(np.swapaxes(inv, -1, -2) @ p @ inv)


def _symmetric_tangent(d, upper=False):
    """The symmetric matrix LAPACK reads from one triangle of ``d`` (the other is ignored)."""
    part = np.triu(d, 1) if upper else np.tril(d, -1)
    diag = d * np.eye(np.shape(d)[-1])
    return part + np.swapaxes(part, -1, -2) + diag


def cholesky_tangent(d, L):
    """The tangent of ``np.linalg.cholesky``: L Phi(L^-1 dS L^-T), dS the symmetric matrix read
    from the lower triangle of ``d``, Phi keeping the lower triangle with half the diagonal."""
    inv = np.linalg.inv(L)
    x = inv @ _symmetric_tangent(d) @ np.swapaxes(inv, -1, -2)
    return L @ (np.tril(x) * (1.0 - 0.5 * np.eye(np.shape(L)[-1])))


def eigvalsh_tangent(d, v, UPLO="L"):
    """The tangent of ``np.linalg.eigvalsh`` (distinct eigenvalues): v_i^T dS v_i for each
    eigenvector v_i, dS the symmetric matrix read from the ``UPLO`` triangle of ``d``."""
    s = _symmetric_tangent(d, upper=UPLO == "U")
    return np.einsum("...ji,...jk,...ki->...i", v, s, v)


def eigh_vectors_tangent(d, w, v, UPLO="L"):
    """The tangent of the eigenvectors ``np.linalg.eigh`` returns (distinct eigenvalues):
    V (F * (V^T dS V)) with F_ij = 1 / (w_j - w_i) off the diagonal and 0 on it."""
    s = _symmetric_tangent(d, upper=UPLO == "U")
    return v @ (_inverse_gaps(w) * (np.swapaxes(v, -1, -2) @ s @ v))


def add_lists(a, b):
    """Two adjoints of the same list, added item by item."""
    return [x + y for x, y in zip(a, b)]


def svd_grad(gu, gs, gvh, u, s, vh):
    """The adjoint of ``u, s, vh = np.linalg.svd(a)`` (None for an unused result).

    With F_ij = 1 / (s_j^2 - s_i^2) off the diagonal (distinct singular values assumed):
    U [diag(gs) + (F * (U^T gU - gU^T U)) S + S (F * (V^T gV - gV^T V))] V^T, plus the parts
    of gU and gV outside the spans of U and V, divided by s. Columns that ``full_matrices``
    adds beyond min(m, n) are not determined by ``a``, so they must not be used.
    """
    k = np.shape(s)[-1]
    extra = [p[..., :, k:] for p in (gu,) if p is not None] + [
        p[..., k:, :] for p in (gvh,) if p is not None
    ]
    if any(np.any(p != 0) for p in extra):
        raise ValueError(
            "the gradient through the columns that np.linalg.svd(full_matrices=True) "
            "adds is not defined; use full_matrices=False"
        )
    u, vh = u[..., :, :k], vh[..., :k, :]
    ut, v = np.swapaxes(u, -1, -2), np.swapaxes(vh, -1, -2)
    s2 = s**2
    off = ~np.eye(k, dtype=bool)
    f = np.where(off, 1.0 / np.where(off, s2[..., None, :] - s2[..., :, None], 1.0), 0.0)
    inner = np.zeros(np.shape(u)[:-2] + (k, k), dtype=np.result_type(u, 1.0))
    out = 0.0
    if gs is not None:
        inner = inner + np.eye(k) * np.asarray(gs)[..., None, :]
    if gu is not None:
        gu = gu[..., :, :k]
        inner = inner + f * (ut @ gu - np.swapaxes(gu, -1, -2) @ u) * s[..., None, :]
        out = out + ((gu - u @ (ut @ gu)) / s[..., None, :]) @ vh
    if gvh is not None:
        gvt = gvh[..., :k, :]  # the adjoint of V^T
        inner = inner + s[..., :, None] * (f * (vh @ np.swapaxes(gvt, -1, -2) - gvt @ v))
        out = out + u @ ((gvt - (gvt @ v) @ vh) / s[..., :, None])
    return out + u @ inner @ vh


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


def linspace_grad(g, start, stop, num=50, endpoint=True, part=0):
    """The adjoint of ``start`` (part 0) or ``stop`` (part 1) in ``np.linspace(start, stop)``."""
    g = np.asarray(g)
    t = np.linspace(0.0, 1.0, num, endpoint=endpoint).reshape((-1,) + (1,) * (g.ndim - 1))
    share = np.sum(g * (t if part else 1.0 - t), axis=0)
    return unbroadcast(share, stop if part else start)


# Jacobians and Hessians, assembled from derivative programs one unit direction at a time.
# ``symdiff.jacobian``/``hessian`` call these in process and emitted modules carry a copy, so
# both build the matrix the same way.


def _unit(shape, dtype, k=None):
    """Zeros of ``shape`` (a NumPy scalar for ``()``), with a 1 at flat index ``k``."""
    e = np.zeros(shape, dtype=dtype)
    if k is not None:
        e.flat[k] = 1.0
    return e if e.ndim else e[()]


def _float_dtype(x):
    return x.dtype if type(x) is np.ndarray and x.dtype.kind == "f" else np.dtype(np.float64)


def zero_directions(inputs):
    """One zero direction per input, shaped and typed like it (a NumPy scalar for a scalar):
    a tangent program run along them computes the value alone."""
    return [_unit(np.shape(x), _float_dtype(x)) for x in inputs]


def _block(items, axis, full):
    if not items:
        return np.zeros(full)
    block = np.reshape(np.stack(items, axis=axis), full)
    return block if block.ndim else block[()]


def jacobian_columns(tangent, inputs, shape):
    """Forward mode: ``tangent(*directions)`` is J·directions; one call per input element
    gives one column. Returns a block of shape ``shape + x.shape`` per ``x`` in ``inputs``."""
    zeros = [_unit(np.shape(x), _float_dtype(x)) for x in inputs]
    blocks = []
    for j, x in enumerate(inputs):
        columns = []
        for k in range(np.size(x)):
            directions = list(zeros)
            directions[j] = _unit(np.shape(x), _float_dtype(x), k)
            columns.append(np.asarray(tangent(*directions), dtype=float))
        blocks.append(_block(columns, -1, tuple(shape) + np.shape(x)))
    return tuple(blocks)


def jacobian_rows(pullback, inputs, shape):
    """Reverse mode: ``pullback(cotangent)`` is cotangent·J (one array per input, or the
    array itself for one input); one call per output element gives one row."""
    rows = [[] for _ in inputs]
    for i in range(int(np.prod(shape, dtype=np.int64))):
        grads = pullback(_unit(tuple(shape), np.float64, i))
        for j, g in enumerate((grads,) if len(inputs) == 1 else grads):
            rows[j].append(np.asarray(g, dtype=float))
    return tuple(_block(r, 0, tuple(shape) + np.shape(x)) for x, r in zip(inputs, rows))
