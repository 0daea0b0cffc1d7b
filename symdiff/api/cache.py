"""Transform once per function: the per-function cache, and knowing when it is stale.

An entry is keyed by the function's code object, ``wrt``, the options and the kind of
program. It is stale when anything the transformation read means something else now: an
inlined helper redefined, a global or closure name rebound (``SCALE = 3.0`` after the
gradient was built gives a fresh transformation, never a gradient of the old function), or,
for a gradient differentiated again, the inner transformation stale. ``clear`` makes every
entry stale at once (a custom rule was declared or removed).
"""

from __future__ import annotations

import builtins
import threading
import weakref
from typing import Any, Callable

from ..abstract.values import signature
from ..ad.program import Kind
from ..frontend.reads import resolve
from ..frontend.source import refuse_gradients, unwrap
from ..pipeline import Transformed, transform
from .wrt import Wrt, wrt_key

CACHE_ATTR = "__symdiff_transforms__"  # where a function keeps its transformations
_lock = threading.Lock()
_generation = [0]  # entries of older generations are stale (see clear)
_MISSING = object()


class _Table:
    """The transformations of one function, stored on that function.

    A global table, even one with weak keys, would keep every function ever differentiated
    alive (an entry refers to its function through its source and globals); kept on the
    function, entries are collected with it.
    """

    __slots__ = ("owner", "entries")

    def __init__(self, owner: Any):
        self.owner = weakref.ref(owner)  # functools.wraps copies __dict__: know the real owner
        self.entries: dict[tuple, tuple[int, Transformed]] = {}


def _table(target: Any) -> _Table | None:
    table = getattr(target, "__dict__", {}).get(CACHE_ATTR)
    return table if isinstance(table, _Table) and table.owner() is target else None


def clear() -> None:
    """Make every cached transformation stale: the next request transforms again.

    Custom rules call this when a declaration changes, since gradients built before it may
    have looked inside the function it now covers."""
    with _lock:
        _generation[0] += 1


def current(t: Transformed) -> bool:
    """Nothing the transformation read has changed: the inlined helpers are still the
    functions the module names, and every global or closure name still means the same
    object. Arrays changed in place need nothing: generated code reads them live."""
    for h in t.helpers:
        if h.globals.get(h.name) is not h.func and h.closure.get(h.name, h.func) is not h.func:
            return False
    for func, path, obj in t.reads:
        if "." not in path and path not in func.__code__.co_freevars:  # the common case, cheap
            now = func.__globals__.get(path, _MISSING)
            if now is _MISSING:
                now = getattr(builtins, path, _MISSING)
            if now is not obj:
                return False
            continue
        found, now = resolve(func, path)
        if not found or now is not obj:
            return False
    inner = getattr(t.source.func, "__symdiff_from__", None)  # a gradient differentiated again
    return inner is None or current(inner)


def watch(t: Transformed) -> tuple[tuple[dict, str, Any], ...] | None:
    """What a repeated call checks to know ``t`` current, when reading module globals is
    all ``current`` would do: ``(namespace, name, object)`` per name read. None when ``t``
    inlined helpers or read dotted or closure names, or derives from another program (then
    ``current`` decides)."""
    if t.helpers or getattr(t.source.func, "__symdiff_from__", None) is not None:
        return None
    out = []
    for func, path, obj in t.reads:
        scope = func.__globals__
        if "." in path or path in func.__code__.co_freevars or scope.get(path, _MISSING) is not obj:
            return None
        out.append((scope, path, obj))
    return tuple(out)


def cached_transform(
    f: Callable[..., Any],
    wrt: Wrt,
    simplify: bool,
    mode: Kind | str = Kind.GRAD,
    args: tuple[Any, ...] | None = None,
    *,
    backend: str | None = None,
    batched: bool = False,
) -> Transformed:
    """``transform``, once per (function code, wrt, options, kind, abstract signature,
    backend, direction axis or not); a
    redefined function or helper, or a global that now names another object, starts over.

    ``args`` (every positional argument, concrete or abstract) asks for the program
    specialised to their signature; arguments of another size with the same signature share
    it. The user's code is checked against the exact arguments only by the call that builds
    the entry: a later call with other sizes that do not fit fails in the generated code,
    where ``blame`` finds the user's line as it does for the shape-generic program."""
    refuse_gradients(f)
    target = unwrap(f)
    code = getattr(target, "__code__", None)
    sig = None if args is None else signature(args)
    key = (code, wrt_key(wrt), simplify, str(mode), sig, backend or "numpy", batched)
    hit = None
    if code is not None:
        with _lock:
            table = _table(target)
            found = table.entries.get(key) if table is not None else None
            if found is not None and found[0] == _generation[0]:
                hit = found[1]
    if hit is not None and current(hit):
        return hit
    with _lock:
        generation = _generation[0]
    result = transform(f, wrt, simplify, mode, args, backend=backend, batched=batched)
    if code is not None:
        with _lock:
            table = _table(target)
            if table is None:
                table = _Table(target)
                target.__dict__[CACHE_ATTR] = table
            table.entries[key] = (generation, result)
    return result
