"""Dask: lazy gradients, built as a task graph and computed only when the caller asks.

Every spelling is ``dask.array``'s; shapes are read from ``.shape`` (the portable helpers),
which a dask array knows without computing, so a call computes nothing. A data-dependent
``if`` would compute its condition, so it is written as a ``where`` as for JAX
(``branches``), or refused.
"""

from __future__ import annotations

from types import MappingProxyType

from .base import Backend
from .shared import PORTABLE

BACKEND = Backend(
    name="dask",
    library="dask.array",
    alias="da",
    helpers=MappingProxyType(dict(PORTABLE)),
    traced=True,
    array_modules=("dask",),
    install="symdiff[dask]",
    notes="dask.array; lazy: no compute during the call, results are dask arrays.",
)
