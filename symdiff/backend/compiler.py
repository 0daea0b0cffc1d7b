"""Compile generated source into live functions that tracebacks, ``inspect`` and ``pdb`` can read.

Every object the source refers to at module level is bound explicitly in a fresh namespace;
the source is registered with ``linecache`` under its own file name, so a traceback through a
generated gradient shows the generated line.
"""

from __future__ import annotations

import linecache
from typing import Any, Callable

from ..errors import InternalError

# The module name generated code runs in: it marks a function as symdiff's own output
# (tracebacks, the blame rule and the cache tell it from the user's code by it).
GENERATED_MODULE = "symdiff.generated"


def compile_function(source: str, name: str, filename: str, bindings: dict[str, Any]) -> Callable:
    lines = source.splitlines(True)
    linecache.cache[filename] = (len(source), None, lines, filename)
    try:
        code = compile(source, filename, "exec")
    except SyntaxError as exc:
        raise InternalError(f"generated source does not compile ({exc})", source=source) from None
    namespace: dict[str, Any] = {"__name__": GENERATED_MODULE, **bindings}
    exec(code, namespace)
    return namespace[name]
