"""Dask: lazy gradients, built as a task graph and computed only when the caller asks.

Every spelling is ``dask.array``'s; shapes are read from ``.shape`` (the portable helpers),
which a dask array knows without computing, so a call computes nothing. A data-dependent
``if`` would compute its condition, so it is written as a ``where`` as for JAX
(``branches``), or refused.

A dask array may not know its lengths (``nan`` after boolean indexing), and a gradient
that divides by ``x.size`` would then be ``nan`` throughout, without an error. So the
specialised program reads sizes and shapes with the portable helpers (``size(y)``, not
``y.size``), which refuse an unknown length and say how to make it known.
"""

from __future__ import annotations

from types import MappingProxyType

from ...ir import primitives as P
from ...ir.nodes import Assign
from ...optimize.typed import Replacement, Types
from .base import Backend
from .shared import PORTABLE

# an attribute read and the portable helper that reads the same, checking the lengths
_CHECKED = {P.size_attr: P.np_size, P.shape_attr: P.np_shape}


def checked_shape_read(stmt: Assign, types: Types) -> Replacement:
    """``x.size`` and ``x.shape`` as the portable ``size(x)`` and ``shape(x)``, which
    refuse a length dask does not know; the helper calls themselves are kept."""
    if stmt.prim in _CHECKED:
        return (Assign(stmt.target, _CHECKED[stmt.prim], stmt.args, stmt.params, stmt.loc),)
    return None


BACKEND = Backend(
    name="dask",
    library="dask.array",
    alias="da",
    helpers=MappingProxyType(dict(PORTABLE)),
    rewrites=MappingProxyType(dict.fromkeys(_CHECKED, checked_shape_read)),
    traced=True,
    array_modules=("dask",),
    install="symdiff[dask]",
    notes="dask.array; lazy: no compute during the call, results are dask arrays.",
)
