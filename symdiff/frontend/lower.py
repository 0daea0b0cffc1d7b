"""Lowering: a Python syntax tree into symdiff's IR.

The work is done by ``lowering.Lowering``, split by job over the ``lower_*`` modules; this
module is the entry point (symdiff's own generated code is read by ``relower``; the pipeline chooses).
"""

from __future__ import annotations

from ..ir.nodes import Function
from .fence import fence
from .lowering import Lowering
from .source import Source


def lower(src: Source, reserved: set[str]) -> tuple[Function, list[Source]]:
    """Fence and lower the user's ``src``; returns the IR and the helper sources inlined.

    Code symdiff generated is read by ``relower.lower_generated`` instead; the pipeline
    chooses (``relower.is_generated``)."""
    fence(src)
    lowering = Lowering(src, reserved)
    fn = lowering.function()
    return fn, lowering.helpers
