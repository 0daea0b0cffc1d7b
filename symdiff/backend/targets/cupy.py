"""CuPy: NumPy's spellings on a GPU (``cupy`` mirrors NumPy's API name for name)."""

from __future__ import annotations

from types import MappingProxyType

from .base import Backend
from .shared import PORTABLE

# the library has every other NumPy name it needs; np.prod also multiplies out shapes
_SHARED = (
    "unbroadcast",
    "sum_to",
    "ensure_scalar",
    "matmul_grad_a",
    "matmul_grad_b",
    "index_grad",
    "np.prod",
)

BACKEND = Backend(
    name="cupy",
    library="cupy",
    alias="cp",
    helpers=MappingProxyType({k: v for k, v in PORTABLE.items() if k in _SHARED}),
    spellings=MappingProxyType({"np.add.at": "cp.add.at"}),
    array_modules=("cupy",),
    install="cupy (the wheel matching your CUDA: cupy-cuda12x)",
    notes="cupy; arrays stay on the GPU.",
)
