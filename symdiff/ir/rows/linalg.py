"""Rows for linear algebra: products, contractions, diagonals and ``np.linalg``.

Several of them return a tuple (``np.linalg.eigh``, ``np.linalg.svd``); how many results each
has is recorded in ``ir.primitives.MULTI_OUTPUT``.
"""

from __future__ import annotations

import numpy as np

from ..nodes import Effect
from .build import call

# ----------------------------------------------------------------------------- numpy: linear algebra
np_dot = call("np.dot", np.dot, nargs=2)
np_vdot = call("np.vdot", np.vdot, nargs=2)
np_inner = call("np.inner", np.inner, nargs=2)
np_matmul = call("np.matmul", np.matmul, nargs=2)
np_outer = call("np.outer", np.outer, nargs=2)
np_einsum = call("np.einsum", np.einsum, nargs=-1, defaults=(("optimize", False),))
np_tensordot = call("np.tensordot", np.tensordot, nargs=2, defaults=(("axes", 2),))
np_kron = call("np.kron", np.kron, nargs=2)
np_cross = call("np.cross", np.cross, nargs=2, defaults=(("axis", None),))
np_trace = call("np.trace", np.trace, defaults=(("offset", 0), ("axis1", 0), ("axis2", 1)))
np_diag = call("np.diag", np.diag, defaults=(("k", 0),), linear=True, effect=Effect.VIEW)
np_diagonal = call(
    "np.diagonal",
    np.diagonal,
    defaults=(("offset", 0), ("axis1", 0), ("axis2", 1)),
    linear=True,
    effect=Effect.VIEW,
)
np_triu = call("np.triu", np.triu, defaults=(("k", 0),), linear=True)
np_tril = call("np.tril", np.tril, defaults=(("k", 0),), linear=True)
np_convolve = call("np.convolve", np.convolve, nargs=2, defaults=(("mode", "full"),))
la_det = call("np.linalg.det", np.linalg.det)
la_slogdet = call("np.linalg.slogdet", np.linalg.slogdet)  # (sign, logabsdet)
la_inv = call("np.linalg.inv", np.linalg.inv)
la_solve = call("np.linalg.solve", np.linalg.solve, nargs=2)
la_norm = call(
    "np.linalg.norm", np.linalg.norm, defaults=(("ord", None), ("axis", None), ("keepdims", False))
)
la_eigh = call("np.linalg.eigh", np.linalg.eigh, defaults=(("UPLO", "L"),))  # (w, v)
la_eigvalsh = call("np.linalg.eigvalsh", np.linalg.eigvalsh, defaults=(("UPLO", "L"),))
la_cholesky = call("np.linalg.cholesky", np.linalg.cholesky)
la_pinv = call("np.linalg.pinv", np.linalg.pinv, defaults=(("rcond", None), ("hermitian", False)))
la_svd = call(  # (u, s, vh), or s alone with compute_uv=False
    "np.linalg.svd",
    np.linalg.svd,
    defaults=(("full_matrices", True), ("compute_uv", True), ("hermitian", False)),
)
