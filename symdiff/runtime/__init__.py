"""The helpers generated gradients call, written in plain NumPy, one module per topic.

A rule writes its adjoint with NumPy calls when the formula fits on a line; it calls a helper
from here when the adjoint depends on shapes only known at run time (which axes to sum, how
a split cut its input) or needs a scatter or a loop (sort, cumprod, einsum). The modules of
this package import nothing but NumPy and each other: ``emit`` copies the source of the
helpers a module uses into it (with the helpers those call, whichever topic module holds
them), so a standalone gradient runs where symdiff is not installed.

Every helper is exported here under its own name, which is the name generated code calls it
by; helper names are unique across the topic modules because an emitted module puts the
copies side by side in one namespace.
"""

from . import (
    broadcasting,
    checks,
    jacobians,
    layout,
    linalg,
    lists,
    markers,
    orderings,
    products,
    reductions,
    revolve,
)
from .broadcasting import sum_to, unbroadcast
from .checks import ensure_scalar, scalar_checked, scalar_seed
from .jacobians import jacobian_columns, jacobian_rows, zero_directions
from .layout import (
    diag_grad,
    diagonal_grad,
    index_grad,
    linspace_grad,
    repeat_grad,
    rollaxis_grad,
    take_grad,
    tile_grad,
    unconcat,
    unjoin,
    unpad,
    unsplit,
)
from .linalg import (
    cholesky_grad,
    cholesky_tangent,
    eigh_grad,
    eigh_vectors_tangent,
    eigvalsh_tangent,
    solve_adjoint,
    solve_grad_a,
    svd_grad,
)
from .lists import add_lists, sum_list_grad, unstack, zeros_like_list
from .markers import stop_gradient
from .orderings import cumprod_grad, diff_grad, permutation_grad, permutation_tangent, sort_grad
from .products import (
    convolve_grad,
    dot_grad,
    einsum_grad,
    inner_grad,
    kron_grad,
    matmul_grad_a,
    matmul_grad_b,
    tensordot_grad,
)
from .reductions import average_grad, median_grad, norm_grad, prod_grad
from .revolve import binomial, optimal_advances, repetitions, snapshot_copy, split_point

# the topic modules, in the order their helpers are read when looking for a helper's source
TOPICS = (
    broadcasting, reductions, products, linalg, orderings, layout, lists, jacobians, checks,
    markers, revolve,
)  # fmt: skip

__all__ = [
    "add_lists",
    "binomial",
    "optimal_advances",
    "repetitions",
    "snapshot_copy",
    "split_point",
    "average_grad",
    "cholesky_grad",
    "cholesky_tangent",
    "convolve_grad",
    "cumprod_grad",
    "diag_grad",
    "diagonal_grad",
    "diff_grad",
    "dot_grad",
    "eigh_grad",
    "eigh_vectors_tangent",
    "eigvalsh_tangent",
    "einsum_grad",
    "ensure_scalar",
    "index_grad",
    "inner_grad",
    "jacobian_columns",
    "jacobian_rows",
    "kron_grad",
    "linspace_grad",
    "matmul_grad_a",
    "matmul_grad_b",
    "median_grad",
    "norm_grad",
    "permutation_grad",
    "permutation_tangent",
    "prod_grad",
    "repeat_grad",
    "rollaxis_grad",
    "scalar_checked",
    "scalar_seed",
    "solve_adjoint",
    "solve_grad_a",
    "sort_grad",
    "stop_gradient",
    "sum_list_grad",
    "sum_to",
    "svd_grad",
    "take_grad",
    "tensordot_grad",
    "tile_grad",
    "unbroadcast",
    "unconcat",
    "unjoin",
    "unpad",
    "unsplit",
    "unstack",
    "zero_directions",
    "zeros_like_list",
]
