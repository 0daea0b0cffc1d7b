"""The public entry points, and the pipeline they run.

``transform`` is the whole of symdiff in order: source → fence → lower → check the IR →
reverse → simplify (optional) → emit → format → compile. Everything else here is argument
handling and caching.
"""

from __future__ import annotations

import ast
import builtins
import dataclasses
import functools
import hashlib
import inspect
import math
import threading
import types
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from .. import runtime
from ..ad.regrad import gradient_function
from ..ad.reverse import GradProgram, reverse
from ..backend.compiler import compile_function
from ..backend.emitter import emit
from ..backend.fmt import format_source
from ..errors import (
    InputError,
    InternalError,
    NonScalarOutputError,
    SymdiffError,
    UndefinedNameError,
    UnsupportedFunctionError,
    WrtError,
)
from ..frontend.lower import lower
from ..frontend.source import Source, get_source, refuse_gradients, unwrap
from ..ir import nodes as ir
from ..ir import primitives as P

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
    # (function, dotted name, object) for every global or closure name read: see _deps_current
    reads: tuple[tuple[Any, str, Any], ...] = ()
    # the same two functions computing with NumPy floats (see _numpy_floats)
    grad_np: Callable[..., Any] | None = None
    value_and_grad_np: Callable[..., Any] | None = None


# ----------------------------------------------------------------------------- the pipeline


def transform(
    f: Callable[..., Any], wrt: Wrt = 0, simplify: bool = False, mode: str = "grad"
) -> Transformed:
    """Run the whole pipeline once, bypassing the cache.

    A ``SymdiffError`` says the user's code is outside the subset. Any other exception out of
    a stage is a bug in symdiff and leaves as ``InternalError`` with the IR and the generated
    source attached, so that the two are never confused.
    """
    src = get_source(f)
    state: dict[str, Any] = {"stage": "lowering"}
    try:
        return _pipeline(f, src, wrt, simplify, state, mode)
    except SymdiffError:
        raise
    except InternalError as exc:
        if exc.ir or "fn" not in state:
            raise
        raise InternalError(
            exc.message, ir=_ir_text(state), source=exc.source or state.get("source", "")
        ) from exc
    except Exception as exc:
        where = f"{src.name} ({src.file}:{src.tree.lineno})"
        raise InternalError(
            f"{type(exc).__name__} during {state['stage']} of {where}: {exc}",
            ir=_ir_text(state),
            source=state.get("source", ""),
        ) from exc


def _ir_text(state: dict[str, Any]) -> str:
    try:
        return ir.pformat(state["fn"]) if "fn" in state else ""
    except Exception:  # the IR is what broke: say so rather than hide the first error
        return "<the IR could not be printed>"


def _pipeline(
    f: Callable[..., Any],
    src: Source,
    wrt: Wrt,
    simplify: bool,
    state: dict[str, Any],
    mode: str = "grad",
) -> Transformed:
    """The stages in order; ``state`` records how far they got, for ``InternalError``."""
    inner = getattr(src.func, "__symdiff_from__", None)  # a derivative, differentiated again
    if inner is not None:  # its program as IR, never its generated text read back
        with_value = src.func in (inner.value_and_grad, inner.value_and_grad_np)
        fn, helpers = gradient_function(inner.program, src.name, with_value), []
    else:
        fn, helpers = lower(src, reserved=set())
    state.update(fn=fn, stage="checking the IR")
    ir.check(fn)
    positions, single = _resolve_wrt([p.name for p in fn.params], wrt, f)
    _check_result(fn, src)
    state["stage"] = "the forward pass" if mode in ("jvp", "hvp") else "the reverse pass"
    prog = _program(fn, tuple(fn.params[i] for i in positions), mode)
    prog = dataclasses.replace(prog, tuple_result=not single and prog.kind not in ("jvp", "hvp"))
    if simplify:
        state["stage"] = "simplification"
        from ..optimize.simplify import simplify as simplify_program

        prog = simplify_program(prog)
    state["stage"] = "emission"
    origin = f"{src.file}:{src.tree.lineno} ({src.name})"
    emitted = emit(prog, origin)
    state.update(stage="formatting", source=emitted.grad_source)
    grad_src = format_source(emitted.grad_source)
    vg_src = format_source(emitted.vg_source)
    state.update(stage="loading the generated code", source=grad_src)
    bindings = _bind(emitted.bindings)
    numpy_bindings = _bind(emitted.bindings, numpy_floats=True)
    g = compile_function(
        grad_src, emitted.grad_name, _filename(emitted.grad_name, grad_src), bindings
    )
    vg = compile_function(vg_src, emitted.vg_name, _filename(emitted.vg_name, vg_src), bindings)
    g_np = compile_function(
        grad_src, emitted.grad_name, _filename(emitted.grad_name, grad_src), numpy_bindings
    )
    vg_np = compile_function(
        vg_src, emitted.vg_name, _filename(emitted.vg_name, vg_src), numpy_bindings
    )
    for fun in (g, vg, g_np, vg_np):
        fun.__defaults__ = src.func.__defaults__
        fun.__kwdefaults__ = src.func.__kwdefaults__
    reads = _reads(src, helpers)
    t = Transformed(
        src, fn, prog, tuple(helpers), grad_src, vg_src, g, vg, positions, single, reads,
        g_np, vg_np,
    )  # fmt: skip
    for fun in (g, vg, g_np, vg_np):
        fun.__symdiff_from__ = t  # differentiated again, the result is stale when t is
    return t


def _program(fn: ir.Function, wrt: tuple[ir.Var, ...], mode: str) -> GradProgram:
    """The derivative program of ``fn``: its gradient, or (``symdiff.higher``) its tangent
    program (``jvp``) or vector-Jacobian product (``vjp``)."""
    if mode == "grad":
        return reverse(fn, wrt)
    from .higher import derivative_program

    return derivative_program(fn, wrt, mode)


def _filename(name: str, text: str) -> str:
    """A file name per distinct source: two functions called ``f`` never share a linecache
    entry (tracebacks would show the other one's lines); the same source, the same name."""
    return f"<symdiff {name} {hashlib.sha1(text.encode()).hexdigest()[:10]}>"


def _check_result(fn: ir.Function, src: Source) -> None:
    """Refuse, when the gradient is built, a result that can never be a real scalar."""
    result = fn.result
    if isinstance(result, ir.Const):
        value = result.value
        if value is None or isinstance(value, (str, bytes, tuple, list, dict, complex)):
            raise NonScalarOutputError(
                f"{src.name} returns {_describe(value)}, which has no gradient",
                src.loc(src.tree),
                "return the real number to differentiate",
            )
        return
    for stmt in fn.body:
        if isinstance(stmt, ir.Assign) and stmt.target == result and stmt.prim is P.make_tuple:
            raise NonScalarOutputError(
                f"{src.name} returns a tuple of {len(stmt.args)} values; a gradient needs "
                "one scalar result",
                stmt.loc,
                "return one of them (or their sum), and differentiate each result separately",
            )


def _describe(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} values"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"a {type(value).__name__}"


def _scalar_result(value: Any, name: str) -> Any:
    """The check generated code makes on a result not known to be a scalar: a real number."""
    if type(value) in _REAL_SCALARS:
        return value
    if not isinstance(value, (np.ndarray, np.generic, int, float)) or isinstance(value, complex):
        raise NonScalarOutputError(
            f"{name} must return a real scalar to be differentiated, but returned "
            f"{_describe(value)}"
        )
    if np.asarray(value).dtype.kind not in "biuf":
        raise NonScalarOutputError(
            f"{name} must return a real scalar to be differentiated, but returned "
            f"{_describe(value)}"
        )
    return runtime.ensure_scalar(value, name, error=NonScalarOutputError)


_REAL_SCALARS = (float, int, np.float64, np.float32)


def _bind(bindings: dict[str, Any], numpy_floats: bool = False) -> dict[str, Any]:
    """Inside symdiff a non-scalar result raises our own error class (a ValueError too); with
    ``numpy_floats``, ``math`` gives NumPy floats (see ``_FLOAT64_MATH``)."""
    out = dict(bindings)
    for alias, obj in bindings.items():
        if obj is runtime.ensure_scalar:
            out[alias] = _scalar_result
        elif obj is runtime.scalar_checked:
            out[alias] = functools.partial(obj, error=NonScalarOutputError)
        elif obj is runtime.scalar_seed:
            out[alias] = functools.partial(obj, error=InputError)
        elif obj is math and numpy_floats:
            out[alias] = _FLOAT64_MATH
        elif obj is np and numpy_floats:
            out[alias] = _NUMPY_COUNTS
    return out


class _NumpyCounts(types.ModuleType):
    """``numpy`` as the NumPy-float version sees it: ``np.size`` is a NumPy integer, so that
    the mean of an empty array divides by a NumPy zero (nan, as ``np.mean`` itself gives)
    instead of raising ZeroDivisionError in Python int arithmetic."""

    def __getattr__(self, name: str) -> Any:
        return getattr(np, name)


_NUMPY_COUNTS = _NumpyCounts("numpy")
_NUMPY_COUNTS.size = lambda a, axis=None: np.intp(np.size(a, axis))  # type: ignore[attr-defined]


def _numpy_floats(t: Transformed, want_value: bool, args: tuple, kwargs: dict) -> tuple:
    """The call again, computing with NumPy floats: inf and nan instead of an exception."""
    to_np = lambda v: np.float64(v) if type(v) is float else v  # noqa: E731
    args = tuple(map(to_np, args))
    kwargs = {k: to_np(v) for k, v in kwargs.items()}
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        if want_value:
            return t.value_and_grad_np(*args, **kwargs)
        return None, t.grad_np(*args, **kwargs)


def _float64_result(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def call(*args: Any) -> Any:
        out = fn(*args)
        return np.float64(out) if type(out) is float else out

    return call


# ``math`` as the second, NumPy-float version of generated code sees it: the same functions,
# but a float result is a NumPy float64. Python float arithmetic raises ZeroDivisionError
# where NumPy gives inf with a warning, and a derivative may be infinite where the function
# is finite (sqrt at 0, asin at 1). The fast version runs first; only when its Python
# floats divide by zero or overflow is the call repeated with NumPy floats, so that
# d/dx math.sqrt(x) at 0 is inf, exactly as for np.sqrt.
_FLOAT64_MATH = types.ModuleType("math", "math, with float results as numpy.float64")
for _name, _obj in vars(math).items():
    if not _name.startswith("__"):
        setattr(_FLOAT64_MATH, _name, _float64_result(_obj) if callable(_obj) else _obj)


# ----------------------------------------------------------------------------- wrt handling


def _param_names(f: Callable[..., Any]) -> list[str]:
    """The arguments a caller passes, by name (a bound method's ``self`` is not one)."""
    try:
        sig = inspect.signature(unwrap(f))
    except (TypeError, ValueError):
        return []
    names = [
        p.name for p in sig.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    return names[1:] if isinstance(f, types.MethodType) and names else names


def _resolve_wrt(names: list[str], wrt: Wrt, f: Any) -> tuple[tuple[int, ...], bool]:
    single = isinstance(wrt, (int, str))
    fname = getattr(f, "__name__", "the function")
    listing = ", ".join(names) or "none"
    try:
        items = (wrt,) if single else tuple(wrt)
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
_CACHE_ATTR = "__symdiff_transforms__"


class _Table:
    """The transformations of one function, stored on that function."""

    __slots__ = ("owner", "entries")

    def __init__(self, owner: Any):
        self.owner = weakref.ref(owner)  # functools.wraps copies __dict__: know the real owner
        self.entries: dict[tuple, tuple[int, Transformed]] = {}


class _Cache:
    """Transformations kept on the function they came from, not in a global table.

    An entry refers to its function (through its source and globals), so a global table,
    even one with weak keys, would keep every function ever differentiated alive. Kept on
    the function, entries are collected with it. ``clear`` (a new rule was declared) makes
    every existing entry stale at once. Callers hold ``_cache_lock``.
    """

    def __init__(self) -> None:
        self.generation = 0

    @staticmethod
    def _table(target: Any) -> _Table | None:
        table = getattr(target, "__dict__", {}).get(_CACHE_ATTR)
        return table if isinstance(table, _Table) and table.owner() is target else None

    def get(self, target: Any, key: tuple) -> Transformed | None:
        table = self._table(target)
        found = table.entries.get(key) if table is not None else None
        return found[1] if found is not None and found[0] == self.generation else None

    def put(self, target: Any, key: tuple, value: Transformed) -> None:
        table = self._table(target)
        if table is None:
            table = _Table(target)
            target.__dict__[_CACHE_ATTR] = table
        table.entries[key] = (self.generation, value)

    def clear(self) -> None:
        self.generation += 1


_cache = _Cache()


_MISSING = object()


def _resolve(func: Any, path: str) -> tuple[bool, Any]:
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


def _reads(src: Source, helpers: Sequence[Source]) -> tuple[tuple[Any, str, Any], ...]:
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
        paths = set()
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
            root = _resolve(s.func, head)[1]
            if rest and (root is np or root is math):
                continue  # np.exp, math.pi: library attributes are not rebound
            found, obj = _resolve(s.func, path)
            if found:
                out.append((s.func, path, obj))
    return tuple(out)


def _deps_current(t: Transformed) -> bool:
    """Nothing the transformation read has changed: the inlined helpers are still the
    functions the module names, and every global or closure name still means the same object
    (``SCALE = 3.0`` after the gradient was built gives a fresh transformation, never a
    gradient of the old function). Arrays changed in place need nothing: generated code
    reads them live."""
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
        found, now = _resolve(func, path)
        if not found or now is not obj:
            return False
    inner = getattr(t.source.func, "__symdiff_from__", None)  # a gradient differentiated again
    return inner is None or _deps_current(inner)


def cached_transform(
    f: Callable[..., Any], wrt: Wrt, simplify: bool, mode: str = "grad"
) -> Transformed:
    """Transform once per (function code, wrt, options); a redefined function or helper, or a
    global that now names another object, starts over."""
    refuse_gradients(f)
    target = unwrap(f)
    code = getattr(target, "__code__", None)
    key = (code, wrt if isinstance(wrt, (int, str)) else tuple(wrt), simplify, mode)
    with _cache_lock:
        hit = _cache.get(target, key) if code is not None else None
    if hit is not None and _deps_current(hit):
        return hit
    result = transform(f, wrt, simplify, mode)
    if code is not None:
        with _cache_lock:
            _cache.put(target, key, result)
    return result


# ----------------------------------------------------------------------------- inputs


def _prepare(
    args: tuple, kwargs: dict, names: list[str], positions: tuple[int, ...]
) -> tuple[tuple, dict]:
    """Refuse complex and bool inputs; promote integer inputs being differentiated to floats.

    Python floats stay Python floats: the user's own function computes with them, and they
    are fast. Where Python float arithmetic would raise (an infinite derivative), the call
    is repeated with NumPy floats (see ``_numpy_floats``)."""
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


_READY = (float, np.ndarray)


def _coerce(x: Any, name: str) -> Any:
    if type(x) is float:
        return x
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        return x
    if isinstance(x, (bool, np.bool_)) or (isinstance(x, np.ndarray) and x.dtype.kind == "b"):
        raise InputError(
            f"argument {name} is a bool, which cannot be differentiated",
            hint="pass it as a float (1.0 / 0.0), or leave it out of wrt",
        )
    if isinstance(x, int):
        return float(x)
    try:
        arr = np.asarray(x)
    except ValueError as exc:  # ragged nested lists
        raise InputError(f"argument {name} is not an array of numbers ({exc})") from None
    if isinstance(x, complex) or arr.dtype.kind == "c":
        raise InputError(
            f"argument {name} is complex; symdiff differentiates real functions only",
            hint="split it into real and imaginary parts",
        )
    if arr.dtype.kind == "b":
        raise InputError(f"argument {name} holds bools, which cannot be differentiated")
    if arr.dtype.kind in "iu":
        return arr.astype(np.float64)
    if arr.dtype.kind == "f":
        return arr
    raise InputError(f"argument {name} has dtype {arr.dtype}, which cannot be differentiated")


def _finish(g: Any, x: Any) -> Any:
    """A Python number gets a Python float gradient; a NumPy scalar or array, one of its own
    type and dtype (integers: float64)."""
    tx = type(x)
    if tx is float and type(g) is float:
        return g  # the common cases first: they cost a comparison
    if tx is np.ndarray and type(g) is np.ndarray and g.dtype is x.dtype and g.shape == x.shape:
        return g
    if isinstance(x, np.ndarray):
        dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
        if not isinstance(g, np.ndarray) or g.dtype != dtype or g.shape != x.shape:
            _refuse_complex(g)
            return np.asarray(np.broadcast_to(g, x.shape), dtype=dtype)
        return g
    _refuse_complex(g)
    if isinstance(x, np.generic) and np.ndim(g) == 0:
        return (x.dtype.type if x.dtype.kind == "f" else np.float64)(g)
    if isinstance(x, (int, float)) and isinstance(g, (np.ndarray, np.generic)) and np.ndim(g) == 0:
        return float(g)
    return g


def _refuse_complex(v: Any) -> None:
    """A complex value or gradient: a complex number reached the result through an argument
    not differentiated. Casting it to the argument's real dtype would drop its imaginary part
    without a word."""
    if type(v) is complex or getattr(getattr(v, "dtype", None), "kind", "") == "c":
        raise NonScalarOutputError(
            "the result is complex: symdiff differentiates real functions only",
            hint="a complex number reaches the result through an argument that is not in wrt",
        )


# ----------------------------------------------------------------------------- public API

_UNBOUND = object()


def _bound_self(f: Any) -> Any:
    """A bound method's object (or class): the call passes it as the first argument."""
    return f.__self__ if isinstance(f, types.MethodType) else _UNBOUND


def _decorated(f: Any) -> bool:
    """``f`` carries ``functools.wraps`` layers, which symdiff looks through."""
    plain = f.__func__ if isinstance(f, (types.MethodType, staticmethod, classmethod)) else f
    return hasattr(plain, "__wrapped__")


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
        # first: update_wrapper copies f's __dict__, which for grad(grad(f)) holds the inner
        # gradient's own fields (wrt, _f, ...); the assignments below must win
        functools.update_wrapper(self, f)
        self.__dict__.pop(_CACHE_ATTR, None)  # update_wrapper copied f's cache table
        self.__wrapped__ = f
        self._f = f
        self.wrt = wrt
        self.simplify = simplify
        self.check = check
        self._with_value = with_value
        self._self = _bound_self(f)
        # positions and names are those of the underlying function (a method's self included);
        # wrt counts the arguments the caller passes (a bound method's self is not one)
        self._names = _param_names(unwrap(f))
        shift = 0 if self._self is _UNBOUND else 1
        positions, self._single = _resolve_wrt(self._names[shift:], wrt, f)
        self._positions = tuple(p + shift for p in positions)
        chosen = tuple(self._names[p] for p in self._positions)
        self._wrt = wrt if not shift else chosen[0] if self._single else chosen
        self._defaults = _defaults(unwrap(f))
        self._verify = _decorated(f)  # compare the decorated value once (see __call__)
        self.__symdiff_grad__ = True
        self.__name__ = (
            f"{getattr(f, '__name__', 'f')}_{'value_and_grad' if with_value else 'grad'}"
        )
        self._t: Transformed | None = None
        # the position of a lone Python-float argument once nothing else needs checking: a
        # call with a float there runs the generated code and nothing else (see __call__)
        self._fast: int | None = None
        try:
            self._t = cached_transform(f, self._wrt, simplify)
        except UndefinedNameError:
            pass  # a name defined later in the module: transform on the first call instead

    def __symdiff_generated__(self) -> Callable[..., Any]:
        """The generated function this runs: what ``grad(grad(f))`` differentiates."""
        t = self.transformed
        return t.value_and_grad if self._with_value else t.grad

    @property
    def transformed(self) -> Transformed:
        t = self._t
        if t is None or not _deps_current(t):
            t = self._t = cached_transform(self._f, self._wrt, self.simplify)
            self._fast = None  # decided again on the next call
        return t

    @property
    def source(self) -> str:
        t = self.transformed
        return t.value_and_grad_source if self._with_value else t.grad_source

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        fast = self._fast
        if (
            fast is not None
            and not kwargs
            and len(args) > fast
            and type(args[fast]) is float
            and (not self._t.reads or _deps_current(self._t))
        ):
            try:
                g = self._t.grad(*args)
            except Exception:
                pass  # the general path below calls again and explains, or reruns
            else:
                if type(g) is float:
                    return g
        t = self._t
        if t is None or ((t.helpers or t.reads) and not _deps_current(t)):
            t = self.transformed
        user_args, user_kwargs = args, kwargs
        if self._self is not _UNBOUND:
            args = (self._self, *args)
        given = args
        args, kwargs = _prepare(args, kwargs, self._names, self._positions)
        want_value = self._with_value or self._verify
        try:
            try:
                if want_value:
                    value, grads = t.value_and_grad(*args, **kwargs)
                else:
                    value, grads = None, t.grad(*args, **kwargs)
            except (ZeroDivisionError, OverflowError):
                value, grads = _numpy_floats(t, want_value, args, kwargs)
        except (SymdiffError, ArithmeticError):
            raise
        except Exception as exc:
            _blame(self._f, user_args, user_kwargs, exc, t)
            raise
        if value is not None:
            _refuse_complex(value)
        if self._verify:
            _verify_decorated(self._f, user_args, user_kwargs, value)
            self._verify = False
        if self.check:
            self.check = False  # once, on the first call's inputs
            from .check import check_grad

            check_grad(
                self._f,
                *user_args,
                wrt=self.wrt,
                grad_fn=lambda *a, **k: self._bare_grad(t, a, k),
                **user_kwargs,
            )
        if not kwargs and max(self._positions) < len(given):  # all given by position
            if self._single:
                raw = type(grads)
                grads = _finish(grads, given[self._positions[0]])
                if (
                    raw is float
                    and type(given[self._positions[0]]) is float
                    and not (self._with_value or self._verify or self.check)
                    and self._self is _UNBOUND
                    and not t.helpers
                ):
                    self._fast = self._positions[0]
            else:
                grads = tuple([_finish(g, given[p]) for g, p in zip(grads, self._positions)])
            return (value, grads) if self._with_value else grads
        bound = {**self._defaults, **_arguments(self._names, given, user_kwargs)}
        if self._single:
            grads = _finish(grads, bound.get(self._names[self._positions[0]]))
        else:
            grads = tuple(
                _finish(g, bound.get(self._names[p])) for g, p in zip(grads, self._positions)
            )
        return (value, grads) if self._with_value else grads

    def _bare_grad(self, t: Transformed, args: tuple, kwargs: dict) -> Any:
        """The generated gradient on the caller's arguments (for ``check=True``)."""
        if self._self is not _UNBOUND:
            args = (self._self, *args)
        args, kwargs = _prepare(args, kwargs, self._names, self._positions)
        return t.grad(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<symdiff {self.__name__} wrt={self.wrt!r}>"


def _defaults(f: Any) -> dict[str, Any]:
    try:
        params = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):
        return {}
    return {p.name: p.default for p in params if p.default is not p.empty}


def _blame(f: Any, args: tuple, kwargs: dict, exc: Exception, t: Transformed) -> None:
    """The generated code raised: the user's error if ``f`` raises on these inputs too,
    otherwise symdiff's (raised as ``InternalError``)."""
    try:
        f(*args, **kwargs)
    except Exception:
        return  # f fails as well: the caller re-raises the original exception
    raise InternalError(
        f"the generated gradient raised {type(exc).__name__}: {exc}, "
        f"but {getattr(f, '__name__', 'the function')} itself runs on the same inputs",
        ir=_ir_text({"fn": t.function}),
        source=t.value_and_grad_source,
    ) from exc


def _verify_decorated(f: Any, args: tuple, kwargs: dict, value: Any) -> None:
    """symdiff differentiates the function under ``functools.wraps`` decorators; one that
    changes the value (scales it, caches a stale one) would make that gradient wrong."""
    expected = f(*args, **kwargs)
    try:
        same = np.shape(expected) == np.shape(value) and bool(
            np.allclose(expected, value, rtol=1e-9, atol=1e-12, equal_nan=True)
        )
    except (TypeError, ValueError):
        same = False
    if not same:
        name = getattr(f, "__name__", "the function")
        if getattr(type(f), "__symdiff_generated__", None) is not None:  # grad(grad(f))
            raise InternalError(
                f"differentiating {name} again: the IR built from its gradient program "
                f"computes {_show(value)} where {name} computes {_show(expected)}"
            )
        raise UnsupportedFunctionError(
            f"a decorator on {name} changes its value ({_show(expected)} instead of "
            f"{_show(value)}); "
            "symdiff differentiates the function the decorators wrap",
            hint="apply that decorator to the gradient instead, or write its effect "
            "into the function",
        )


def _show(value: Any) -> str:
    try:
        return repr(float(value))
    except (TypeError, ValueError):
        return _describe(value)


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
