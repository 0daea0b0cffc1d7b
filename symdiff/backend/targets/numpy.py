"""NumPy: the default, and the spelling every other backend is translated from."""

from __future__ import annotations

from .base import Backend

BACKEND = Backend(
    name="numpy",
    library="numpy",
    alias="np",
    array_modules=("numpy",),
    notes="Every primitive and runtime helper; values updated in place when nothing else "
    "reads them.",
)
