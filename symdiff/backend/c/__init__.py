"""The C backend: a derivative program, specialised to exact argument types, as C99 source.

``emitter`` assembles the header and source; ``writer`` writes one function (storage,
statements, control flow, tapes) over the Python backend's ``Plan``; ``kernels`` the loops
of reductions and products; ``elements`` the expression of one element (views, broadcasting,
fused elementwise code); ``expressions`` C expressions and the elementwise operations;
``values`` the C type of each variable and what is known at generation time.
"""

from .emitter import DEFAULT_MAX_STEPS, CEmitted, CFunction, CParam, emit_c
from .values import CBackendError, CType
from .writer import TAPE_FULL

__all__ = [
    "CBackendError",
    "CEmitted",
    "CFunction",
    "CParam",
    "CType",
    "DEFAULT_MAX_STEPS",
    "TAPE_FULL",
    "emit_c",
]
