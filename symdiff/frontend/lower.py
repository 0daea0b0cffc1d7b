"""Lowering: a Python syntax tree into symdiff's IR.

The work is done by ``lowering.Lowering``, split by job over the ``lower_*`` modules; this
module is the entry point, which sends symdiff's own generated code to ``relower`` instead.
"""

from __future__ import annotations

from ..ir.nodes import Function
from .fence import fence
from .lowering import Lowering
from .source import Source


def lower(src: Source, reserved: set[str]) -> tuple[Function, list[Source]]:
    """Fence and lower ``src``; returns the IR and the helper sources that were inlined."""
    if src.func.__globals__.get("__name__") == "symdiff.generated":  # a gradient, again
        from .relower import lower_generated

        return lower_generated(src, reserved)
    fence(src)
    lowering = Lowering(src, reserved)
    fn = lowering.function()
    return fn, lowering.helpers
