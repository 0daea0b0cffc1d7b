"""Binding a call's arguments the way NumPy binds them.

A call in the user's source (``np.var(x, 0, ddof=1)``, ``np.clip(x, min=0)``) names its
arguments by position and keyword in NumPy's own signature; the primitive wants array inputs
by position and static parameters by name. This module does that translation, and the few
rewrites that depend on it (``np.array`` of one array, ``np.average`` with weights).
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from .nodes import Const, Form, Primitive
from .rows.arithmetic import np_clip
from .rows.layout import np_array, np_array_of
from .rows.reductions import np_average, np_average_weighted

# ----------------------------------------------------------------------------- binding calls
_ARRAY_DEFAULTS: dict[Primitive, dict[str, Any]] = {
    np_clip: {"a_min": None, "a_max": None},
    np_average_weighted: {"axis": None},
}
_KEYWORD_ALIASES: dict[Primitive, dict[str, str]] = {np_clip: {"min": "a_min", "max": "a_max"}}
_ARRAY_NAMES: dict[Primitive, tuple[str, ...]] = {np_average_weighted: ("a", "axis", "weights")}


def _signature(prim: Primitive) -> tuple[list[str], dict[str, Any]] | None:
    """The names NumPy gives the positional parameters of ``prim``'s function, and the
    default values of all its parameters, if known."""
    try:
        sig = inspect.signature(prim.impl)
    except (TypeError, ValueError):
        return None
    names = []
    for p in sig.parameters.values():
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            break
        names.append(p.name)
    defaults = {p.name: p.default for p in sig.parameters.values() if p.default is not p.empty}
    return names, defaults


def _is_default(value: Any, default: Any) -> bool:
    """``out=None`` written out: the argument NumPy would have used anyway."""
    if not isinstance(value, Const) or not isinstance(value.value, (type(None), bool, int, str)):
        return False
    return type(value.value) is type(default) and value.value == default


def _is_sequence(value: Any) -> bool:
    """A list or tuple written in the source (the lowering's ListV/TupleV)."""
    return isinstance(getattr(value, "items", None), tuple)


def normalize(prim: Primitive, args: list, kwargs: dict) -> tuple[Primitive, list, dict]:
    """Bind a call's arguments the way NumPy does: array inputs by position, in the order
    the primitive takes them, and every static parameter by its NumPy name.

    Binding by NumPy's own signature means ``np.var(x, 0, None, None, 1)`` sets ``ddof``,
    not whatever comes next in ``defaults``. Two calls change primitive here: ``np.array``
    of one array (a copy) and ``np.average`` with weights (which are then an input).
    """
    if prim is np_array and args and not _is_sequence(args[0]):
        prim = np_array_of
    signature = _signature(prim)
    if signature is None or prim.form is Form.LISTCALL or prim.nargs == -1:
        return prim, list(args), dict(kwargs)
    names, numpy_defaults = signature
    if len(args) > len(names):
        return prim, list(args), dict(kwargs)
    aliases = _KEYWORD_ALIASES.get(prim, {})
    named = dict(zip(names, args))
    named.update((aliases.get(k, k), v) for k, v in kwargs.items())
    if prim is np_average and "weights" in named:
        weights = named["weights"]
        if isinstance(weights, Const) and weights.value is None:
            del named["weights"]
        else:
            prim = np_average_weighted
    arrays = _ARRAY_NAMES.get(prim) or tuple(names[: prim.nargs])
    fill = _ARRAY_DEFAULTS.get(prim, {})
    inputs = []
    for name in arrays:
        if name in named:
            inputs.append(named.pop(name))
        elif name in fill:
            inputs.append(Const(fill[name]))
        else:
            break  # missing: the binding reports it
    supported = {k for k, _ in prim.defaults}
    for k in [k for k in named if k not in supported and k in numpy_defaults]:
        if _is_default(named[k], numpy_defaults[k]):
            del named[k]
    return prim, inputs, named


def dtype_name(obj: Any) -> str | None:
    """``float`` or ``np.float32`` written as a dtype argument, as the name NumPy gives it."""
    if isinstance(obj, type) or isinstance(obj, np.dtype):
        try:
            return np.dtype(obj).name
        except TypeError:
            return None
    return None
