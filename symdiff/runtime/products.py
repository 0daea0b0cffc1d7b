"""Adjoints of products: ``@``, ``np.dot``, ``np.inner``, ``np.tensordot``, ``np.einsum``,
``np.kron`` and ``np.convolve``.

The contractions are all reduced to one einsum adjoint, so that vectors, stacks, repeated
letters and broadcast axes are handled in a single place.
"""

import numpy as np

from .broadcasting import unbroadcast


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
