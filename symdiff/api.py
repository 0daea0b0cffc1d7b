"""The public entry points, and the pipeline they run.

``transform`` is the whole of symdiff in order: source → fence → lower → check the IR →
reverse → simplify (optional) → emit → format → compile. Everything else here is argument
handling and caching.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import threading
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from . import ir, runtime
from .compiler import compile_function
from .emitter import emit
from .errors import (
    InputError,
    InternalError,
    NonScalarOutputError,
    UndefinedNameError,
    WrtError,
)
from .fmt import format_source
from .lower import lower
from .reverse import GradProgram, reverse
from .source import Source, get_source, unwrap

Wrt = int | str | Sequence[int | str]


@dataclass(frozen=True)
class Transformed:
    """Everything one transformation produced: IR, gradient program, sources and functions."""

    source: Source
    function: ir.Function
    program: GradProgram
    helpers: tuple[Source, ...]
    grad_source: str
    value_and_grad_source: str
    grad: Callable[..., Any]
    value_and_grad: Callable[..., Any]
    wrt_positions: tuple[int, ...]
    single: bool


# ----------------------------------------------------------------------------- the pipeline


def transform(f: Callable[..., Any], wrt: Wrt = 0, simplify: bool = False) -> Transformed:
    src = get_source(f)
    fn, helpers = lower(src, reserved=set())
    ir.check(fn)
    positions, single = _resolve_wrt([p.name for p in fn.params], wrt, f)
    prog = reverse(fn, tuple(fn.params[i] for i in positions))
    prog = dataclasses.replace(prog, tuple_result=not single)
    if simplify:
        from .simplify import simplify as simplify_program

        prog = simplify_program(prog)
    origin = f"{src.file}:{src.tree.lineno} ({src.name})"
    emitted = emit(prog, origin)
    grad_src = format_source(emitted.grad_source)
    vg_src = format_source(emitted.vg_source)
    bindings = _bind(emitted.bindings)
    try:
        g = compile_function(
            grad_src, emitted.grad_name, f"<symdiff {emitted.grad_name}>", bindings
        )
        vg = compile_function(vg_src, emitted.vg_name, f"<symdiff {emitted.vg_name}>", bindings)
    except InternalError:
        raise
    except Exception as exc:  # a generated def that fails to execute is our bug
        raise InternalError(
            f"generated code failed to load: {exc}", ir=ir.pformat(fn), source=grad_src
        ) from None
    for fun in (g, vg):
        fun.__defaults__ = src.func.__defaults__
        fun.__kwdefaults__ = src.func.__kwdefaults__
    return Transformed(src, fn, prog, tuple(helpers), grad_src, vg_src, g, vg, positions, single)


def _bind(bindings: dict[str, Any]) -> dict[str, Any]:
    """Inside symdiff a non-scalar result raises our own error class (a ValueError too)."""
    out = dict(bindings)
    for alias, obj in bindings.items():
        if obj is runtime.ensure_scalar:
            out[alias] = functools.partial(runtime.ensure_scalar, error=NonScalarOutputError)
    return out


# ----------------------------------------------------------------------------- wrt handling


def _param_names(f: Callable[..., Any]) -> list[str]:
    try:
        sig = inspect.signature(unwrap(f))
    except (TypeError, ValueError):
        return []
    return [
        p.name for p in sig.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]


def _resolve_wrt(names: list[str], wrt: Wrt, f: Any) -> tuple[tuple[int, ...], bool]:
    single = isinstance(wrt, (int, str))
    items = (wrt,) if single else tuple(wrt)
    fname = getattr(f, "__name__", "the function")
    listing = ", ".join(names) or "none"
    if not items:
        raise WrtError(
            f"wrt is empty: name at least one argument of {fname}",
            hint=f"arguments: {listing}",
        )
    positions = []
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


# ----------------------------------------------------------------------------- caching

_cache_lock = threading.Lock()
_cache: "weakref.WeakKeyDictionary[Any, dict]" = weakref.WeakKeyDictionary()


def _deps_current(t: Transformed) -> bool:
    """The inlined helpers are still the functions the module names (not redefined since)."""
    for h in t.helpers:
        if h.globals.get(h.name) is not h.func and h.closure.get(h.name, h.func) is not h.func:
            return False
    return True


def cached_transform(f: Callable[..., Any], wrt: Wrt, simplify: bool) -> Transformed:
    """Transform once per (function code, wrt, options); a redefined function or helper starts over."""
    target = unwrap(f)
    code = getattr(target, "__code__", None)
    key = (code, wrt if isinstance(wrt, (int, str)) else tuple(wrt), simplify)
    with _cache_lock:
        entry = _cache.get(target) if code is not None else None
        hit = entry.get(key) if entry else None
    if hit is not None and _deps_current(hit):
        return hit
    result = transform(f, wrt, simplify)
    if code is not None:
        with _cache_lock:
            _cache.setdefault(target, {})[key] = result
    return result


# ----------------------------------------------------------------------------- inputs


def _prepare(
    args: tuple, kwargs: dict, names: list[str], positions: tuple[int, ...]
) -> tuple[tuple, dict]:
    """Refuse complex inputs; promote integer inputs being differentiated to float64."""
    if not kwargs and all(pos < len(args) and type(args[pos]) in _READY for pos in positions):
        # the common case, kept cheap: floats and float arrays go through untouched
        if all(type(args[p]) is float or args[p].dtype.kind == "f" for p in positions):
            return args, kwargs
    args = list(args)
    for pos in positions:
        name = names[pos]
        if pos < len(args):
            args[pos] = _coerce(args[pos], name)
        elif name in kwargs:
            kwargs = dict(kwargs)
            kwargs[name] = _coerce(kwargs[name], name)
    return tuple(args), kwargs


def _coerce(x: Any, name: str) -> Any:
    if isinstance(x, float) or (isinstance(x, np.ndarray) and x.dtype.kind == "f"):
        return x
    if isinstance(x, (bool, np.bool_)):
        raise InputError(f"argument {name} is a bool, which cannot be differentiated")
    if isinstance(x, int):
        return float(x)
    if isinstance(x, complex) or np.iscomplexobj(x):
        raise InputError(
            f"argument {name} is complex; symdiff differentiates real functions only",
            hint="split it into real and imaginary parts",
        )
    arr = np.asarray(x)
    if arr.dtype.kind in "iub":
        return arr.astype(np.float64)
    if arr.dtype.kind == "f":
        return arr
    raise InputError(f"argument {name} has dtype {arr.dtype}, which cannot be differentiated")


_READY = (float, np.ndarray)


def _finish(g: Any, x: Any) -> Any:
    """A Python number gets a Python float gradient; an array, one of its own dtype."""
    if isinstance(x, np.ndarray):
        if not isinstance(g, np.ndarray) or g.dtype != x.dtype or g.shape != x.shape:
            return np.asarray(np.broadcast_to(g, x.shape), dtype=x.dtype)
        return g
    if isinstance(x, (int, float)) and isinstance(g, (np.ndarray, np.generic)) and np.ndim(g) == 0:
        return float(g)
    return g


# ----------------------------------------------------------------------------- public API


class GradientFunction:
    """The callable ``grad`` returns: computes gradients; ``.source`` shows how."""

    def __init__(
        self,
        f: Callable[..., Any],
        wrt: Wrt,
        simplify: bool,
        check: bool,
        with_value: bool,
    ):
        self.__wrapped__ = f
        self._f = f
        self.wrt = wrt
        self.simplify = simplify
        self.check = check
        self._with_value = with_value
        self._names = _param_names(f)
        self._positions, self._single = _resolve_wrt(self._names, wrt, f)
        self.__symdiff_grad__ = True
        functools.update_wrapper(self, f)
        self.__name__ = (
            f"{getattr(f, '__name__', 'f')}_{'value_and_grad' if with_value else 'grad'}"
        )
        self._t: Transformed | None = None
        try:
            self._t = cached_transform(f, wrt, simplify)
        except UndefinedNameError:
            pass  # a name defined later in the module: transform on the first call instead

    @property
    def transformed(self) -> Transformed:
        t = self._t
        if t is None or not _deps_current(t):
            t = self._t = cached_transform(self._f, self.wrt, self.simplify)
        return t

    @property
    def source(self) -> str:
        t = self.transformed
        return t.value_and_grad_source if self._with_value else t.grad_source

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        t = self._t
        if t is None or (t.helpers and not _deps_current(t)):
            t = self.transformed
        args, kwargs = _prepare(args, kwargs, self._names, self._positions)
        if self._with_value:
            value, grads = t.value_and_grad(*args, **kwargs)
        else:
            value, grads = None, t.grad(*args, **kwargs)
        if self.check:
            self.check = False  # once, on the first call's inputs
            from .check import check_grad

            check_grad(
                self._f,
                *args,
                wrt=self.wrt,
                grad_fn=lambda *a, **k: t.grad(*a, **k),
                **kwargs,
            )
        if self._single and not kwargs and self._positions[0] < len(args):
            x = args[self._positions[0]]
            if type(x) is float and type(grads) is float:
                return (value, grads) if self._with_value else grads
            grads = _finish(grads, x)
            return (value, grads) if self._with_value else grads
        bound = _arguments(self._names, args, kwargs)
        if self._single:
            grads = _finish(grads, bound.get(self._names[self._positions[0]]))
        else:
            grads = tuple(
                _finish(g, bound.get(self._names[p])) for g, p in zip(grads, self._positions)
            )
        return (value, grads) if self._with_value else grads

    def __repr__(self) -> str:
        return f"<symdiff {self.__name__} wrt={self.wrt!r}>"


def _arguments(names: list[str], args: tuple, kwargs: dict) -> dict[str, Any]:
    out = dict(zip(names, args))
    out.update(kwargs)
    return out


def grad(
    f: Callable[..., Any] | None = None,
    *,
    wrt: Wrt = 0,
    simplify: bool = False,
    check: bool = False,
) -> Any:
    """The gradient of a scalar function ``f`` with respect to the ``wrt`` arguments.

    Usable as ``@grad``, ``@grad(wrt=...)`` and ``grad(f, wrt=...)``. ``wrt`` is a position
    or name (one gradient, shaped like that argument) or a tuple of them (a tuple of
    gradients). ``check=True`` compares the first call against finite differences (slow:
    for debugging). Refusals happen here, when the gradient is built, not when it is called.
    """
    if f is None:
        return lambda fn: GradientFunction(fn, wrt, simplify, check, with_value=False)
    return GradientFunction(f, wrt, simplify, check, with_value=False)


def value_and_grad(
    f: Callable[..., Any] | None = None, *, wrt: Wrt = 0, simplify: bool = False
) -> Any:
    """Like ``grad``, but calls return ``(value, gradients)`` from one forward pass."""
    if f is None:
        return lambda fn: GradientFunction(fn, wrt, simplify, False, with_value=True)
    return GradientFunction(f, wrt, simplify, False, with_value=True)


def gradient_source(f: Callable[..., Any], *, wrt: Wrt = 0, simplify: bool = False) -> str:
    """The generated gradient of ``f`` as black-formatted Python source."""
    return cached_transform(f, wrt, simplify).grad_source
