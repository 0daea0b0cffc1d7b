"""Format generated source with black, in one fixed configuration, so output is reproducible."""

from __future__ import annotations

from functools import lru_cache

from ..errors import InternalError


@lru_cache(maxsize=1)
def _mode():
    import black  # imported on first use: it is the slowest import symdiff makes

    return black.Mode(line_length=88, target_versions={black.TargetVersion.PY310})


def format_source(text: str) -> str:
    import black

    try:
        return black.format_str(text, mode=_mode())
    except Exception as exc:  # black rejects only invalid Python: that is our bug
        raise InternalError(f"generated source does not parse ({exc})", source=text) from None
