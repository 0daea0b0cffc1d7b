"""Lowering: a Python syntax tree into symdiff's IR.

The work is done by ``lowering.Lowering``, split by job over the ``lower_*`` modules; this
module is the entry point.
"""

from __future__ import annotations

from ..ir.nodes import Function
from .fence import fence
from .lowering import Lowering
from .source import Source


def lower(
    src: Source, reserved: set[str], scalars: frozenset[str] = frozenset()
) -> tuple[Function, list[Source]]:
    """Fence and lower the user's ``src``; returns the IR and the helper sources inlined.

    ``scalars`` names parameters the caller knows to be Python or NumPy scalars (not 0-d
    arrays), as if they were annotated ``x: float``: they are the IR's ``scalar_params``,
    and an alias of one may be updated with ``+=`` (a number is rebound, never changed in
    place). The result is then right only for such arguments, so a caller that passes
    ``scalars`` must key what it caches on them.

    A function symdiff generated is never lowered from text: the pipeline builds its IR from
    the derivative program it came from (``ad.regrad``)."""
    fence(src)
    lowering = Lowering(src, reserved, scalars)
    fn = lowering.function()
    return fn, lowering.helpers
