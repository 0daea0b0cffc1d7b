"""Beyond the gradient: forward mode, vector-Jacobian products, Jacobians and Hessians.

Every object here runs the same pipeline as ``grad`` (``api.transform``), with a different
derivative program in the middle: ``jvp`` the tangent program of ``forward``, ``vjp`` the
reverse program seeded with a cotangent instead of 1.0. Each shows its generated code as
``.source``. Second derivatives differentiate the gradient's IR program (``ad.regrad``):
``hessian`` and ``hvp`` run the tangent program of the gradient (forward-over-reverse),
which never needs to run a tape backwards, so loops and branches are fine.

- ``jvp(f)(*args, *tangents) -> (f(args), J·tangents)``: one forward pass.
- ``vjp(f)(*args) -> (f(args), pullback)``, ``pullback(cotangent) -> cotangent·J``.
- ``jacobian(f)(*args)``: forward mode column by column when the inputs are fewer than the
  outputs, reverse mode row by row otherwise (``mode="fwd"``/``"rev"`` to choose).
- ``hessian(f)(*args)``: the full matrix, one Hessian-vector product per input element.
- ``hvp(f)(*args, v) -> H·v``: one forward pass over the gradient, never the matrix.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from typing import Any, Callable

import numpy as np

from .. import runtime
from ..ad.forward import extra_params, jvp_program
from ..ad.reverse import GradProgram, reverse
from ..errors import InputError, SymdiffError, UndefinedNameError, WrtError
from ..frontend.source import unwrap
from ..ir import nodes as ir
from ..naming import is_internal
from . import grad as api

Wrt = api.Wrt
MODES = ("auto", "fwd", "rev")


def derivative_program(fn: ir.Function, wrt: tuple[ir.Var, ...], mode: str) -> GradProgram:
    """The program ``api.transform`` emits for ``mode``: ``"jvp"``, ``"hvp"`` or ``"vjp"``."""
    if mode == "jvp":
        return jvp_program(fn, wrt)
    if mode == "hvp":  # the tangent program of a generated gradient: H·v
        return jvp_program(fn, wrt, ["v"] if len(wrt) == 1 else None, kind="hvp")
    if mode == "vjp":
        result = fn.result
        out = result.name if isinstance(result, ir.Var) and not is_internal(result.name) else "out"
        (cotangent,), signature = extra_params(fn, [f"d_{out}"])
        prog = reverse(fn, wrt, seed=cotangent)
        return dataclasses.replace(
            prog,
            params=prog.params + (cotangent,),
            signature=signature,
            scalar_value=True,  # any shape: the cotangent has the result's
            kind="vjp",
        )
    raise ValueError(f"unknown derivative program {mode!r}")


# ----------------------------------------------------------------------------- base


class _Derived:
    """A derivative of ``f`` built from generated code (shared plumbing)."""

    mode = "jvp"  # the program api.transform builds for this object

    def __init__(self, f: Callable[..., Any], wrt: Wrt, kind: str):
        self._f = f
        self.wrt = wrt
        self._names = api._param_names(unwrap(f))
        self._positions, self._single = api._resolve_wrt(self._names, wrt, f)
        self._defaults = api._defaults(unwrap(f))
        self._verify = api._decorated(f)
        self.__symdiff_grad__ = True  # never differentiated through f by mistake
        if getattr(type(self), "__symdiff_generated__", None) is None:
            try:  # a Jacobian's or Hessian's call takes f's arguments
                self.__signature__ = inspect.signature(unwrap(f))
            except (TypeError, ValueError):
                pass
        self.__name__ = f"{getattr(f, '__name__', 'f')}_{kind}"
        self.__qualname__ = self.__name__
        self.__doc__ = f"The {kind} of {getattr(f, '__name__', 'f')} (symdiff)."
        self._t: api.Transformed | None = None

    def _transformed(self, mode: str) -> api.Transformed:
        return api.cached_transform(self._f, self.wrt, False, mode)

    @property
    def transformed(self) -> api.Transformed:
        """The transformation behind this object (program, sources, compiled functions)."""
        t = self._t
        if t is None or not api._deps_current(t):
            t = self._t = self._transformed(self.mode)
        return t

    @property
    def source(self) -> str:
        return self.transformed.value_and_grad_source

    def _bind(self, args: tuple, kwargs: dict) -> tuple[tuple, dict, dict[str, Any]]:
        """Arguments coerced as ``grad`` does, and every argument by name."""
        args, kwargs = api._prepare(args, kwargs, self._names, self._positions)
        bound = {**self._defaults, **api._arguments(self._names, args, kwargs)}
        missing = [self._names[p] for p in self._positions if self._names[p] not in bound]
        if missing:
            raise TypeError(f"{self.__name__} is missing the argument {missing[0]!r}")
        return args, kwargs, bound

    def _check_decorated(self, args: tuple, kwargs: dict, value: Any) -> None:
        if self._verify:
            api._verify_decorated(self._f, args, kwargs, value)
            self._verify = False

    def _wrt_values(self, bound: dict[str, Any]) -> list[Any]:
        return [bound[self._names[p]] for p in self._positions]

    def _directions(self, given: tuple, xs: list[Any], what: str) -> list[Any]:
        """Direction arguments as float arrays shaped like the inputs they go with."""
        out = []
        for v, x, p in zip(given, xs, self._positions):
            name = self._names[p]
            arr = np.asarray(v)
            if arr.dtype.kind not in "biuf":
                raise InputError(f"the {what} for {name} must be real numbers, not {arr.dtype}")
            if arr.shape != np.shape(x):
                raise InputError(
                    f"the {what} for {name} has shape {arr.shape}, but {name} has shape "
                    f"{np.shape(x)}"
                )
            dtype = x.dtype if isinstance(x, np.ndarray) else np.dtype(np.float64)
            out.append(np.asarray(arr, dtype=dtype) if arr.ndim else dtype.type(arr))
        return out

    def __repr__(self) -> str:
        return f"<symdiff {self.__name__} wrt={self.wrt!r}>"


def _finish_tangent(d: Any, value: Any, inputs: list[Any]) -> Any:
    """Shaped and typed like ``value``; never one of the caller's own arrays."""
    if any(d is v for v in inputs):
        d = np.copy(d)
    return api._finish(d, value) if np.ndim(value) or not isinstance(value, np.ndarray) else d


# ----------------------------------------------------------------------------- jvp


class JVPFunction(_Derived):
    """``(f(x), J·v)`` from ``f``'s tangent program; called as ``fj(*args, *tangents)``."""

    mode = "jvp"

    def __init__(self, f: Callable[..., Any], wrt: Wrt):
        super().__init__(f, wrt, "jvp")
        functools.update_wrapper(self, f, updated=())
        self.__name__ = f"{getattr(f, '__name__', 'f')}_jvp"
        self._t = _eager(lambda: self._transformed(self.mode))

    def __symdiff_generated__(self) -> Callable[..., Any]:
        """What ``grad(jvp(f))`` differentiates: the tangent-only generated function."""
        return self.transformed.grad

    @property
    def tangent_names(self) -> tuple[str, ...]:
        return _tangent_names(self.transformed, len(self._positions))

    def __call__(self, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
        k = len(self._positions)
        if len(args) < k:
            raise TypeError(
                f"{self.__name__} takes the arguments of {getattr(self._f, '__name__', 'f')} "
                f"followed by {k} tangent(s), one per wrt argument"
            )
        primal, given = args[: len(args) - k], args[len(args) - k :]
        call = self.prepare(primal, kwargs)
        tangents = self._directions(given, call.inputs, "tangent")
        value, d = call(tangents)
        self._check_decorated(primal, kwargs, value)
        return value, _finish_tangent(d, value, tangents)

    def prepare(self, args: tuple, kwargs: dict) -> "_TangentCall":
        """The tangent program bound to these arguments, to push several directions through."""
        t = self.transformed
        args, kwargs, bound = self._bind(args, kwargs)
        names = _tangent_names(t, len(self._positions))
        return _TangentCall(t, args, kwargs, names, self._wrt_values(bound))


class _TangentCall:
    """One set of arguments, any number of tangent directions (Jacobian columns, Hessians)."""

    def __init__(self, t: api.Transformed, args: tuple, kwargs: dict, names, inputs: list):
        self.t, self.args, self.kwargs, self.names, self.inputs = t, args, kwargs, names, inputs

    def __call__(self, tangents: list[Any]) -> tuple[Any, Any]:
        """``(value, tangent)``; tangents shaped and typed like ``inputs`` (not checked)."""
        return self.t.value_and_grad(*self.args, **self.kwargs, **dict(zip(self.names, tangents)))

    def tangent(self, tangents: list[Any]) -> Any:
        """The tangent alone (the value is not computed where it is not needed)."""
        return self.t.grad(*self.args, **self.kwargs, **dict(zip(self.names, tangents)))


def _tangent_names(t: api.Transformed, k: int) -> tuple[str, ...]:
    params = t.program.params
    return tuple(p.name for p in params[len(params) - k :])


def jvp(f: Callable[..., Any] | None = None, *, wrt: Wrt = 0) -> Any:
    """Forward mode: ``jvp(f, wrt=...)(*args, *tangents)`` returns ``(f(args), J·tangents)``.

    The tangents follow ``f``'s own arguments, one per ``wrt`` argument, each shaped like
    its argument. One pass of a generated tangent program computes both (``.source``);
    ``f`` may return an array of any shape. Also usable as ``@jvp`` / ``@jvp(wrt=...)``.
    """
    if f is None:
        return lambda fn: JVPFunction(fn, wrt)
    return JVPFunction(f, wrt)


# ----------------------------------------------------------------------------- vjp


class VJPFunction(_Derived):
    """``vjp(f)(*args) -> (f(args), pullback)``; ``pullback(ct)`` is ``ct·J`` (reverse mode)."""

    mode = "vjp"

    def __init__(self, f: Callable[..., Any], wrt: Wrt):
        super().__init__(f, wrt, "vjp")
        functools.update_wrapper(self, f, updated=())
        self.__name__ = f"{getattr(f, '__name__', 'f')}_vjp"
        self._t = _eager(lambda: self._transformed("vjp"))

    def __symdiff_generated__(self) -> Callable[..., Any]:
        return self.transformed.grad

    @property
    def source(self) -> str:
        return self.transformed.grad_source

    def __call__(self, *args: Any, **kwargs: Any) -> tuple[Any, Callable[[Any], Any]]:
        t = self.transformed
        value = self._f(*args, **kwargs)
        coerced, ckwargs, bound = self._bind(args, kwargs)
        xs = self._wrt_values(bound)
        name = t.program.params[-1].name

        def pullback(cotangent: Any) -> Any:
            """``cotangent·J``: the reverse sweep seeded with ``cotangent`` (shaped like f's value)."""
            ct = np.asarray(cotangent)
            if ct.shape != np.shape(value):
                raise InputError(
                    f"the cotangent has shape {ct.shape}, but {getattr(self._f, '__name__', 'f')}"
                    f" returned shape {np.shape(value)}"
                )
            ct = ct if ct.ndim else np.float64(ct)
            if self._verify:  # the generated code's value against the decorated one, once
                generated, grads = t.value_and_grad(*coerced, **ckwargs, **{name: ct})
                self._check_decorated(args, kwargs, generated)
            else:
                grads = t.grad(*coerced, **ckwargs, **{name: ct})
            if self._single:
                return api._finish(grads, xs[0])
            return tuple(api._finish(g, x) for g, x in zip(grads, xs))

        return value, pullback


def vjp(f: Callable[..., Any] | None = None, *, wrt: Wrt = 0) -> Any:
    """Reverse mode seeded with a cotangent: ``value, pullback = vjp(f, wrt=...)(*args)``.

    ``pullback(ct)`` returns ``ct·J`` (the gradient of ``sum(ct * f(args))``) for each
    ``wrt`` argument, ``ct`` shaped like ``f``'s value. For vector-valued functions; for a
    scalar one, ``pullback(1.0)`` is the gradient.
    """
    if f is None:
        return lambda fn: VJPFunction(fn, wrt)
    return VJPFunction(f, wrt)


# ----------------------------------------------------------------------------- jacobian


class JacobianFunction(_Derived):
    """The Jacobian of a vector-valued ``f``: shape ``f(x).shape + x.shape`` per ``wrt``."""

    def __init__(self, f: Callable[..., Any], wrt: Wrt, mode: str):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        super().__init__(f, wrt, "jacobian")
        self.requested = mode
        self.last_mode: str | None = None  # "fwd" or "rev": what the last call used
        self._jvp = self._build(JVPFunction, mode in ("auto", "fwd"))
        self._vjp = self._build(VJPFunction, mode in ("auto", "rev"))
        if self._jvp is None and self._vjp is None:
            JVPFunction(f, wrt)  # neither mode applies: raise forward mode's refusal

    def _build(self, kind: type, wanted: bool) -> Any:
        """The program for one mode; with ``mode="auto"``, None if that mode is refused
        (no tangent rule for ``eigh``, no reverse through a generated gradient's tapes)."""
        if not wanted:
            return None
        if self.requested != "auto":
            return kind(self._f, self.wrt)
        try:
            return kind(self._f, self.wrt)
        except SymdiffError:
            return None

    @property
    def transformed(self) -> api.Transformed:
        if self._vjp is None or (self.last_mode != "rev" and self._jvp is not None):
            return self._jvp.transformed
        return self._vjp.transformed

    @property
    def source(self) -> str:
        """The generated program this Jacobian runs; with ``mode="auto"``, both."""
        if self._jvp is None or self._vjp is None:
            return (self._jvp or self._vjp).source
        return (
            "# forward mode: one call per input element (used when inputs < outputs)\n"
            + self._jvp.source
            + "\n\n# reverse mode: one call per output element (used otherwise)\n"
            + self._vjp.source
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        _, _, bound = self._bind(args, kwargs)
        xs = self._wrt_values(bound)
        if self._vjp is None:
            mode = "fwd"
        else:
            value, pullback = self._vjp(*args, **kwargs)
            n_in = sum(int(np.size(x)) for x in xs)
            mode = "fwd" if self._jvp is not None and n_in < np.size(value) else "rev"
        self.last_mode = mode
        if mode == "fwd":
            return self._forward(args, kwargs, xs)
        return self._reverse(value, pullback, xs)

    def _forward(self, args: tuple, kwargs: dict, xs: list[Any]) -> Any:
        """Column by column: one tangent pass per input element."""
        call = self._jvp.prepare(args, kwargs)
        value, _ = call([runtime._unit(np.shape(x), runtime._float_dtype(x)) for x in xs])
        self._check_decorated(args, kwargs, value)
        blocks = runtime.jacobian_columns(lambda *t: call.tangent(list(t)), xs, np.shape(value))
        return blocks[0] if self._single else blocks

    def _reverse(self, value: Any, pullback: Callable[[Any], Any], xs: list[Any]) -> Any:
        """Row by row: one reverse sweep per output element."""
        blocks = runtime.jacobian_rows(pullback, xs, np.shape(value))
        return blocks[0] if self._single else blocks


def jacobian(f: Callable[..., Any] | None = None, *, wrt: Wrt = 0, mode: str = "auto") -> Any:
    """The Jacobian of ``f`` with respect to the ``wrt`` arguments, shaped
    ``f(x).shape + x.shape`` (a tuple of them for a tuple ``wrt``).

    ``mode="fwd"`` builds it column by column with the tangent program (one pass per input
    element), ``"rev"`` row by row with the vector-Jacobian product (one pass per output
    element), ``"auto"`` picks forward mode when the inputs are fewer than the outputs.
    ``.source`` shows the generated program(s).
    """
    if f is None:
        return lambda fn: JacobianFunction(fn, wrt, mode)
    return JacobianFunction(f, wrt, mode)


# ----------------------------------------------------------------------------- hessian


class _OverGradient(_Derived):
    """Forward mode over the generated gradient of a scalar ``f`` (one ``wrt`` argument)."""

    def __init__(self, f: Callable[..., Any], wrt: Wrt, kind: str):
        super().__init__(f, wrt, kind)
        if not self._single:
            raise WrtError(
                f"{kind} takes one wrt argument, not {wrt!r}",
                hint="differentiate with respect to one (flattened) argument, or use "
                "symdiff.jacobian on symdiff.grad(f, wrt=...) for blocks",
            )
        self.gradient = api.grad(f, wrt=wrt)
        self._tangents = _GradientTangent(self.gradient, wrt)

    @property
    def transformed(self) -> api.Transformed:
        return self._tangents.transformed

    @property
    def gradient_source(self) -> str:
        return self.gradient.source

    def _hvp(self, args: tuple, kwargs: dict, v: Any) -> tuple[Any, Any]:
        self._check_gradient(args, kwargs)
        return self._tangents(*args, v, **kwargs)

    def _check_gradient(self, args: tuple, kwargs: dict) -> None:
        """Once: the gradient the tangent program computes is the gradient object's (which
        itself compares a decorated ``f``'s value once, see ``grad``)."""
        if self._verify or self._tangents._verify:
            call = self._tangents.prepare(args, kwargs)
            value, _ = call([np.zeros_like(x) for x in call.inputs])
            self._tangents._check_decorated(args, kwargs, value)
            self._verify = False


class _GradientTangent(JVPFunction):
    """The tangent program of a generated gradient, written as a Hessian-vector product."""

    mode = "hvp"


class HessianFunction(_OverGradient):
    """The Hessian of a scalar ``f``: shape ``x.shape + x.shape``."""

    def __init__(self, f: Callable[..., Any], wrt: Wrt):
        super().__init__(f, wrt, "hessian")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self._check_gradient(args, kwargs)
        call = self._tangents.prepare(args, kwargs)
        (x,) = call.inputs
        (block,) = runtime.jacobian_columns(lambda v: call.tangent([v]), [x], np.shape(x))
        return float(block) if not np.shape(x) else block


class HVPFunction(_OverGradient):
    """``hvp(f)(*args, v) -> H·v`` for a scalar ``f``, without forming ``H``."""

    def __init__(self, f: Callable[..., Any], wrt: Wrt):
        super().__init__(f, wrt, "hvp")
        functools.update_wrapper(self, f, updated=())
        self.__name__ = f"{getattr(f, '__name__', 'f')}_hvp"

    def __symdiff_generated__(self) -> Callable[..., Any]:
        return self.transformed.grad

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not args:
            raise TypeError(f"{self.__name__} takes the arguments of f followed by v")
        self._check_gradient(args[:-1], kwargs)
        call = self._tangents.prepare(args[:-1], kwargs)
        (v,) = self._directions(args[-1:], call.inputs, "vector")
        return _finish_tangent(call.tangent([v]), call.inputs[0], [v])

    def gradient_and_hvp(self, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
        """``(∇f, H·v)`` from the same single pass."""
        return self._hvp(args[:-1], kwargs, args[-1])


def hessian(f: Callable[..., Any] | None = None, *, wrt: Wrt = 0) -> Any:
    """The Hessian of a scalar ``f`` with respect to one argument, shaped ``x.shape * 2``.

    Forward-over-reverse: the tangent program of ``f``'s generated gradient, run once per
    element of ``x`` (loops and branches included). ``.source`` is that tangent program,
    ``.gradient_source`` the gradient it differentiates.
    """
    if f is None:
        return lambda fn: HessianFunction(fn, wrt)
    return HessianFunction(f, wrt)


def hvp(f: Callable[..., Any] | None = None, *, wrt: Wrt = 0) -> Any:
    """Hessian-vector product: ``hvp(f, wrt=...)(*args, v)`` is ``H·v`` for a scalar ``f``.

    One forward pass over the generated gradient (forward-over-reverse); the Hessian is
    never formed, so the cost is a small multiple of one gradient.
    """
    if f is None:
        return lambda fn: HVPFunction(fn, wrt)
    return HVPFunction(f, wrt)


def _eager(build: Callable[[], api.Transformed]) -> api.Transformed | None:
    """Build now, so that refusals happen at construction; a name defined later in the
    module waits for the first call, as ``grad`` does."""
    try:
        return build()
    except UndefinedNameError:
        return None
