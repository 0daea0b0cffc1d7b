"""Adjoints of indexing, layout and joins: ``x[i]``, take, concatenate and the stacks,
split, diagonal/diag, tile, repeat, pad, rollaxis and linspace.

Each moves ``g`` back into zeros shaped like the input (adding where the forward function
copied an element several times), using only the shapes the call had at run time.
"""

import numpy as np

from .broadcasting import unbroadcast


def index_grad(g, x, index):
    """The adjoint of ``x[index]``: ``g`` scattered into zeros shaped like ``x``. A basic
    index (integers, slices, None, ...) names each element once, so plain assignment does
    what ``np.add.at`` does, several times faster; an array of indices may repeat one.
    ``x`` may be a tuple of numbers (``t = (a, b, c); t[i]``), which ``np.result_type``
    would read as a dtype description, hence ``np.asarray``."""
    out = np.zeros(np.shape(x), dtype=np.result_type(g, np.asarray(x), 1.0))
    if _basic_index(index):
        out[index] = g
    else:
        np.add.at(out, index, g)
    return out


def _basic_index(index):
    """Whether ``index`` is NumPy basic indexing: no arrays, lists or booleans in it."""
    items = index if isinstance(index, tuple) else (index,)
    for item in items:
        if isinstance(item, (bool, np.bool_)):
            return False
        if not (item is None or item is Ellipsis or isinstance(item, (int, np.integer, slice))):
            return False
    return True


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


def unconcat(g, *parts, part, axis=0):
    """The slice of ``g`` that came from ``parts[part]`` in ``np.concatenate(parts, axis)``."""
    if axis is None:  # the parts were flattened first
        start = sum(np.size(p) for p in parts[:part])
        return np.reshape(g[start : start + np.size(parts[part])], np.shape(parts[part]))
    axis = axis % np.ndim(g)
    start = sum(np.shape(p)[axis] for p in parts[:part])
    stop = start + np.shape(parts[part])[axis]
    return g[(slice(None),) * axis + (slice(start, stop),)]


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


def linspace_grad(g, start, stop, num=50, endpoint=True, part=0):
    """The adjoint of ``start`` (part 0) or ``stop`` (part 1) in ``np.linspace(start, stop)``."""
    g = np.asarray(g)
    t = np.linspace(0.0, 1.0, num, endpoint=endpoint).reshape((-1,) + (1,) * (g.ndim - 1))
    share = np.sum(g * (t if part else 1.0 - t), axis=0)
    return unbroadcast(share, stop if part else start)
