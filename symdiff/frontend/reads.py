"""The global and closure names a function reads, and what each of them means now.

A gradient is built from what ``f``'s free names denoted at that moment: the helpers it
inlined, the constants it folded. ``reads`` records those objects when the function is
lowered; ``resolve`` looks a name up again, so the cache can tell that ``SCALE = 3.0``,
or a redefined helper, has made a gradient stale.
"""

from __future__ import annotations

import ast
import builtins
import math
from typing import Any, Sequence

import numpy as np

from .source import Source

Read = tuple[Any, str, Any]  # (function, dotted name, the object it meant)


def resolve(func: Any, path: str) -> tuple[bool, Any]:
    """What a dotted name means to ``func`` now: closure cell, then module, then builtins."""
    head, *rest = path.split(".")
    code = getattr(func, "__code__", None)
    found, obj = False, None
    if code is not None and head in code.co_freevars and func.__closure__:
        try:
            obj, found = func.__closure__[code.co_freevars.index(head)].cell_contents, True
        except ValueError:  # an empty cell
            return False, None
    if not found:
        scope = getattr(func, "__globals__", {})
        if head in scope:
            obj, found = scope[head], True
        elif hasattr(builtins, head):
            obj, found = getattr(builtins, head), True
        else:
            return False, None
    for attr in rest:
        try:
            obj = getattr(obj, attr)
        except Exception:
            return False, None
    return True, obj


def reads(src: Source, helpers: Sequence[Source]) -> tuple[Read, ...]:
    """Every free name (and dotted chain: ``cfg.alpha``) the function and its helpers read,
    with the object it meant when the gradient was built."""
    out = []
    for s in (src, *helpers):
        local = {a.arg for a in ast.walk(s.tree.args) if isinstance(a, ast.arg)}
        local |= {
            n.id
            for n in ast.walk(s.tree)
            if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)
        }
        paths: set[str] = set()
        for node in ast.walk(s.tree):
            chain = []
            while isinstance(node, ast.Attribute):
                chain.append(node.attr)
                node = node.value
            if (
                isinstance(node, ast.Name)
                and isinstance(node.ctx, ast.Load)
                and node.id not in local
            ):
                parts = [node.id, *reversed(chain)]
                paths.update(".".join(parts[: i + 1]) for i in range(len(parts)))
        for path in sorted(paths):
            head, _, rest = path.partition(".")
            root = resolve(s.func, head)[1]
            if rest and (root is np or root is math):
                continue  # np.exp, math.pi: library attributes are not rebound
            found, obj = resolve(s.func, path)
            if found:
                out.append((s.func, path, obj))
    return tuple(out)
