"""Rows for the functions of ``runtime`` that generated gradients call by their plain name.

Only gradients write these (unbroadcasting, the adjoints of NumPy functions, the guards of
a gradient differentiated again); each is also recorded in ``HELPER_ROWS``, in order, which
is the order the package copies them into exported modules.
"""

from __future__ import annotations

from typing import Any

from ... import runtime
from ..nodes import Effect, Form, Primitive
from .build import AXES, REQUIRED, helper, register
from .indexing import rebuild_index

# ----------------------------------------------------------------------------- runtime helpers
unbroadcast = helper(runtime.unbroadcast, 2)
sum_to = helper(runtime.sum_to, 2)
matmul_grad_a = helper(runtime.matmul_grad_a, 3)
matmul_grad_b = helper(runtime.matmul_grad_b, 3)
unconcat = helper(runtime.unconcat, -1, defaults=(("part", REQUIRED), ("axis", 0)))


def _index_grad(g: Any, x: Any, *idx: Any, index: tuple) -> Any:
    return runtime.index_grad(g, x, rebuild_index(idx, index))


index_grad = register(
    Primitive(
        "index_grad",
        Form.CALL,
        "index_grad",
        _index_grad,
        nargs=-1,
        defaults=(("index", ()),),
        effect=Effect.FRESH,
    )
)

# helpers the NumPy rules write (plain NumPy, see runtime)
prod_grad = helper(runtime.prod_grad, 2, defaults=AXES)
median_grad = helper(runtime.median_grad, 2, defaults=AXES)
sort_grad = helper(runtime.sort_grad, 2, defaults=(("axis", -1),))
cumprod_grad = helper(runtime.cumprod_grad, 2, defaults=(("axis", None),))
diff_grad = helper(runtime.diff_grad, 1, defaults=(("n", 1), ("axis", -1)))
norm_grad = helper(runtime.norm_grad, 3, defaults=(("ord", None),) + AXES)
average_grad = helper(runtime.average_grad, 3, defaults=AXES + (("part", 0),))
take_grad = helper(runtime.take_grad, 3, defaults=(("axis", None),))
diagonal_grad = helper(
    runtime.diagonal_grad, 2, defaults=(("offset", 0), ("axis1", 0), ("axis2", 1))
)
diag_grad = helper(runtime.diag_grad, 2, defaults=(("k", 0),))
tile_grad = helper(runtime.tile_grad, 2, defaults=(("reps", REQUIRED),))
repeat_grad = helper(runtime.repeat_grad, 2, defaults=(("repeats", REQUIRED), ("axis", None)))
unpad = helper(runtime.unpad, 2, defaults=(("pad_width", REQUIRED),))
rollaxis_grad = helper(runtime.rollaxis_grad, 2, defaults=(("axis", REQUIRED), ("start", 0)))
unjoin = helper(runtime.unjoin, -1, defaults=(("part", REQUIRED), ("how", REQUIRED)))
unsplit = helper(runtime.unsplit, 2, defaults=(("sections", REQUIRED), ("axis", 0)))
einsum_grad = helper(runtime.einsum_grad, -1, defaults=(("part", REQUIRED),))
tensordot_grad = helper(runtime.tensordot_grad, 3, defaults=(("axes", 2), ("part", 0)))
dot_grad = helper(runtime.dot_grad, 3, defaults=(("part", 0),))
inner_grad = helper(runtime.inner_grad, 3, defaults=(("part", 0),))
kron_grad = helper(runtime.kron_grad, 3, defaults=(("part", 0),))
convolve_grad = helper(runtime.convolve_grad, 3, defaults=(("mode", "full"), ("part", 0)))
solve_adjoint = helper(runtime.solve_adjoint, 3)
solve_grad_a = helper(runtime.solve_grad_a, 4)
eigh_grad = helper(runtime.eigh_grad, 4, defaults=(("UPLO", "L"),))
cholesky_grad = helper(runtime.cholesky_grad, 2)
svd_grad = helper(runtime.svd_grad, 6)
permutation_grad = helper(runtime.permutation_grad, 3, defaults=(("axis", -1),))
permutation_tangent = helper(runtime.permutation_tangent, 3, defaults=(("axis", -1),))
cholesky_tangent = helper(runtime.cholesky_tangent, 2)
eigvalsh_tangent = helper(runtime.eigvalsh_tangent, 2, defaults=(("UPLO", "L"),))
eigh_vectors_tangent = helper(runtime.eigh_vectors_tangent, 3, defaults=(("UPLO", "L"),))
linspace_grad = helper(
    runtime.linspace_grad, 3, defaults=(("num", 50), ("endpoint", True), ("part", 0))
)

# the helper the user's code calls: the identity, declared without a derivative, so that no
# adjoint or tangent flows through it (its result is a constant, in every order)
stop_gradient = helper(runtime.stop_gradient, 1, user=True, elementwise=True, differentiable=False)

# helpers that appear when a generated gradient is differentiated again (symdiff.higher)
scalar_checked = helper(runtime.scalar_checked, 2, defaults=(("name", REQUIRED),))
scalar_seed = helper(runtime.scalar_seed, 1, defaults=(("name", REQUIRED),), differentiable=False)
