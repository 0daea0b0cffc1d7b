"""The helpers every non-NumPy backend shares (``portable``), keyed by NumPy spelling."""

from __future__ import annotations

AT = "symdiff.backend.targets.portable:"

PORTABLE = {
    "unbroadcast": AT + "unbroadcast",
    "sum_to": AT + "sum_to",
    "ensure_scalar": AT + "ensure_scalar",
    "matmul_grad_a": AT + "matmul_grad_a",
    "matmul_grad_b": AT + "matmul_grad_b",
    "index_grad": AT + "index_grad",
    "np.shape": AT + "shape",
    "np.size": AT + "size",
    "np.broadcast_to": AT + "broadcast_to",
    "np.broadcast_shapes": AT + "broadcast_shapes",
    "np.copy": AT + "copy",
    "np.prod": AT + "array_prod",
    "np.s_": "numpy:s_",  # builds index tuples of slices: the same for every library
}

# what a library with NumPy's namespace (JAX, CuPy) still takes from ``portable``: the
# runtime helpers, and np.prod, which also multiplies out shapes
NAMESPACE_HELPERS = {
    k: v
    for k, v in PORTABLE.items()
    if k
    in (
        "unbroadcast",
        "sum_to",
        "ensure_scalar",
        "matmul_grad_a",
        "matmul_grad_b",
        "index_grad",
        "np.prod",
    )
}
