"""Lowering: a Python syntax tree into symdiff's IR.

The work is done by ``lowering.Lowering``, split by job over the ``lower_*`` modules; this
module is the entry point.
"""

from __future__ import annotations

from ..ir.nodes import Function
from .fence import fence
from .lowering import Lowering
from .source import Source


def lower(src: Source, reserved: set[str]) -> tuple[Function, list[Source]]:
    """Fence and lower the user's ``src``; returns the IR and the helper sources inlined.

    A function symdiff generated is never lowered from text: the pipeline builds its IR from
    the derivative program it came from (``ad.regrad``)."""
    fence(src)
    lowering = Lowering(src, reserved)
    fn = lowering.function()
    return fn, lowering.helpers
