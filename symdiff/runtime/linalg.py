"""Adjoints and tangents of ``np.linalg``: solve, eigh/eigvalsh, cholesky and svd.

LAPACK reads a symmetric input from one triangle only, so the adjoints here are written
back into that triangle and the tangents read only it: a gradient then agrees with finite
differences of what NumPy actually computes, not of an idealised symmetric function.
"""

import numpy as np

from .broadcasting import unbroadcast


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
