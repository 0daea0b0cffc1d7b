"""Which arguments to differentiate: ``wrt`` resolved against a function's parameters.

``wrt`` is a position or a name (one gradient, shaped like that argument) or a sequence of
them (a tuple of gradients). Every entry point resolves it the same way, with the same
messages, so a mistake reads alike whether it was made in ``grad``, ``jvp`` or the CLI.
"""

from __future__ import annotations

import inspect
import types
from typing import Any, Callable, Sequence

from ..errors import WrtError
from ..frontend.source import unwrap

Wrt = int | str | Sequence[int | str]


def param_names(f: Callable[..., Any]) -> list[str]:
    """The arguments a caller passes, by name (a bound method's ``self`` is not one)."""
    try:
        sig = inspect.signature(unwrap(f))
    except (TypeError, ValueError):
        return []
    names = [
        p.name for p in sig.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    return names[1:] if isinstance(f, types.MethodType) and names else names


def signature_defaults(f: Any) -> dict[str, Any]:
    """The default value of every parameter that has one, by name."""
    try:
        params = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):
        return {}
    return {p.name: p.default for p in params if p.default is not p.empty}


def resolve_wrt(names: list[str], wrt: Wrt, f: Any) -> tuple[tuple[int, ...], bool]:
    """The positions in ``names`` that ``wrt`` picks, and whether it was a single entry
    (one gradient rather than a tuple of them). ``f`` only names the function in messages."""
    single = isinstance(wrt, (int, str))
    fname = getattr(f, "__name__", "the function")
    listing = ", ".join(names) or "none"
    try:
        items = (wrt,) if single else tuple(wrt)  # type: ignore[arg-type]
    except TypeError:
        raise WrtError(
            f"wrt is an argument position or name, or a tuple of them, not {wrt!r}",
            hint=f"arguments: {listing}",
        ) from None
    if not items:
        raise WrtError(
            f"wrt is empty: name at least one argument of {fname}",
            hint=f"arguments: {listing}",
        )
    positions: list[int] = []
    for w in items:
        if isinstance(w, bool) or not isinstance(w, (int, str)):
            raise WrtError(
                f"wrt entries are argument positions or names, not {w!r}",
                hint=f"arguments: {listing}",
            )
        if isinstance(w, int):
            if not -len(names) <= w < len(names):
                raise WrtError(
                    f"wrt={w} but {fname} takes {len(names)} argument(s)",
                    hint=f"arguments: {listing}",
                )
            pos = w % len(names)
        else:
            if w not in names:
                raise WrtError(
                    f"wrt names {w!r}, which is not an argument of {fname}",
                    hint=f"arguments: {listing}",
                )
            pos = names.index(w)
        if pos in positions:
            raise WrtError(f"wrt names {names[pos]!r} twice")
        positions.append(pos)
    return tuple(positions), single


def wrt_key(wrt: Wrt) -> int | str | tuple[int | str, ...]:
    """``wrt`` as a hashable value (a list becomes a tuple), for cache keys."""
    return wrt if isinstance(wrt, (int, str)) else tuple(wrt)


def dotted_wrt(
    wrt: Wrt, names: list[str], objects: dict[str, tuple[str, ...]], flat: dict[str, str]
) -> Wrt:
    """``wrt`` over a function whose object parameters are read through attributes
    (``frontend.attributes``), as the parameters of its flattened version.

    ``names`` are the arguments the caller passes, ``objects`` the dotted reads of each
    object among them (``"self.w"``, ``"params.w"``) and ``flat`` the parameter standing for
    each read. A dotted entry picks that read; an object itself has no gradient (it is not
    a number), so naming it is refused with its reads as the hint."""
    single = isinstance(wrt, (int, str))
    try:
        items = (wrt,) if single else tuple(wrt)  # type: ignore[arg-type]
    except TypeError:
        return wrt  # resolve_wrt says what is wrong
    reads = [d for ds in objects.values() for d in ds]
    out: list[int | str] = []
    for w in items:
        if isinstance(w, int) and not isinstance(w, bool) and -len(names) <= w < len(names):
            w = names[w]
        if isinstance(w, str) and w in objects:
            raise WrtError(
                f"wrt names {w!r}, an object symdiff reads attributes of: differentiate "
                "with respect to the attributes",
                hint="wrt=" + ", ".join(repr(d) for d in objects[w]),
            )
        if isinstance(w, str) and "." in w and w not in flat:
            listing = ", ".join([n for n in names if n not in objects] + reads)
            raise WrtError(
                f"wrt names {w!r}, which the function does not read",
                hint=f"arguments and attributes read: {listing}",
            )
        if isinstance(w, str):
            w = flat.get(w, w)
        out.append(w)  # type: ignore[arg-type]  # resolve_wrt refuses what is not a name
    return out[0] if single else tuple(out)
