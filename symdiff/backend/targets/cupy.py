"""CuPy: NumPy's spellings on a GPU (``cupy`` mirrors NumPy's API name for name)."""

from __future__ import annotations

from types import MappingProxyType

from .base import Backend
from .shared import NAMESPACE_HELPERS

BACKEND = Backend(
    name="cupy",
    library="cupy",
    alias="cp",
    helpers=MappingProxyType(NAMESPACE_HELPERS),
    spellings=MappingProxyType({"np.add.at": "cp.add.at"}),
    array_modules=("cupy",),
    install="cupy (the wheel matching your CUDA: cupy-cuda12x)",
    notes="cupy; arrays stay on the GPU.",
)
