"""Beyond the gradient: forward mode, vector-Jacobian products, Jacobians and Hessians.

Every object here runs the same pipeline as ``grad`` (``pipeline.transform``), with a different
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

import functools
from typing import Any, Callable

import numpy as np

from .. import runtime
from ..ad.program import Kind
from ..errors import InputError, SymdiffError, WrtError
from ..pipeline import Transformed
from . import batched, blame
from .calls import UNBOUND, finish
from .derivative import Derivative
from .display import SourceText
from .gradient import GradientFunction, grad
from .progress import Progress
from .wrt import Wrt

# Jacobians and Hessians push their directions one at a time: the one-pass programs
# (api.batched) fail on some random programs (lists built in loops) and are not yet faster
# than JAX, so they are reached only through jvp(f, batched=True) until that is fixed.
ONE_PASS = False

MODES = ("auto", "fwd", "rev")


def _finish_tangent(d: Any, value: Any, inputs: list[Any]) -> Any:
    """Shaped and typed like ``value``; never one of the caller's own arrays."""
    if any(d is v for v in inputs):
        d = np.copy(d)
    return finish(d, value) if np.ndim(value) or not isinstance(value, np.ndarray) else d


# ----------------------------------------------------------------------------- jvp


class JVPFunction(Derivative):
    """``(f(x), J·v)`` from ``f``'s tangent program; called as ``fj(*args, *tangents)``."""

    mode = Kind.JVP
    what = "Jacobian-vector product"
    usage = (
        "Called with the arguments of {f} followed by one tangent per wrt argument, it "
        "returns (value, J·tangents)."
    )

    def __init__(
        self,
        f: Callable[..., Any],
        wrt: Wrt,
        bound: Any = None,
        backend: str | None = None,
        batched: bool = False,
    ):
        super().__init__(f, wrt, bound=bound, backend=backend)
        self.batched = batched  # tangents given as batches (d, *x.shape): see api.batched
        self._plain: Derivative | None = None
        # whether the last batched call ran one pass (False: a step could not batch)
        self.last_batched: bool | None = None
        self._named("jvp")
        functools.update_wrapper(self, f, updated=())
        self.__name__ = f"{getattr(f, '__name__', 'f')}_jvp"
        self._eager()
        self._document()

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
        if self.batched and self.backend is None:
            return self._batch(primal, kwargs, given)
        if self.backend is not None:  # the library's arrays as they are (see grad)
            t = self.transformed
            with self._blamed(primal, kwargs, t):
                flat, flat_kwargs = self._flat_call(primal, kwargs)
                return t.value_and_grad(*flat, *given, **flat_kwargs)
        with self._blamed(primal, kwargs, self.transformed):
            call = self.prepare(primal, kwargs)
            tangents = self._directions(given, call.inputs, "tangent")
            value, d = call(tangents)
        self._check_decorated(primal, kwargs, value)
        return value, _finish_tangent(d, value, tangents)

    def _batch(self, primal: tuple, kwargs: dict, given: tuple) -> tuple[Any, Any]:
        """``jvp(f, batched=True)``: every direction of the batch in one pass."""
        if self._plain is None:
            self._plain = self.twin(batched=False)
        with self._blamed(primal, kwargs, self.transformed):
            pusher = batched.Pusher(self._plain, self, primal, kwargs)
            blocks = self._direction_batches(given, pusher.inputs)
            value, tangents = pusher.value_and_tangents(blocks)
        self.last_batched = pusher.batched
        self._check_decorated(primal, kwargs, value)
        return value, tangents

    def prepare(self, args: tuple, kwargs: dict) -> "_TangentCall":
        """The tangent program bound to these arguments (specialised to their signature), to
        push several directions through."""
        t = self._program(*self._flat_call(args, kwargs))
        args, kwargs, bound = self._bind(args, kwargs)
        names = _tangent_names(t, len(self._positions))
        return _TangentCall(t, args, kwargs, names, self._wrt_values(bound))


class _TangentCall:
    """One set of arguments, any number of tangent directions (Jacobian columns, Hessians)."""

    def __init__(self, t: Transformed, args: tuple, kwargs: dict, names, inputs: list):
        self.t, self.args, self.kwargs, self.names, self.inputs = t, args, kwargs, names, inputs

    def __call__(self, tangents: list[Any]) -> tuple[Any, Any]:
        """``(value, tangent)``; tangents shaped and typed like ``inputs`` (not checked)."""
        return self.t.value_and_grad(*self.args, **self.kwargs, **dict(zip(self.names, tangents)))

    def tangent(self, tangents: list[Any]) -> Any:
        """The tangent alone (the value is not computed where it is not needed)."""
        return self.t.grad(*self.args, **self.kwargs, **dict(zip(self.names, tangents)))


def _tangent_names(t: Transformed, k: int) -> tuple[str, ...]:
    params = t.program.params
    return tuple(p.name for p in params[len(params) - k :])


def jvp(
    f: Callable[..., Any] | None = None,
    *,
    wrt: Wrt = 0,
    backend: str | None = None,
    batched: bool = False,
) -> Any:
    """Forward mode: ``jvp(f, wrt=...)(*args, *tangents)`` returns ``(f(args), J·tangents)``.

    The tangents follow ``f``'s own arguments, one per ``wrt`` argument, each shaped like
    its argument. One pass of a generated tangent program computes both (``.source``);
    ``f`` may return an array of any shape. Also usable as ``@jvp`` / ``@jvp(wrt=...)``.
    ``backend`` writes it for another array library, as for ``grad``.

    ``batched=True`` takes a batch of tangents per ``wrt`` argument, shaped
    ``(d, *x.shape)``, and returns ``(f(args), T)`` with ``T[k]`` the tangent along
    direction ``k`` (shape ``(d, *f(args).shape)``): one pass of a program whose tangents
    carry that leading axis (``.source`` after a call), or d passes where a step cannot.
    """
    if f is None:
        return lambda fn: JVPFunction(fn, wrt, backend=backend, batched=batched)
    return JVPFunction(f, wrt, backend=backend, batched=batched)


# ----------------------------------------------------------------------------- vjp


class VJPFunction(Derivative):
    """``vjp(f)(*args) -> (f(args), pullback)``; ``pullback(ct)`` is ``ct·J`` (reverse mode)."""

    mode = Kind.VJP
    what = "vector-Jacobian product"
    usage = (
        "Called with the arguments of {f}, it returns (value, pullback); pullback(cotangent) "
        "is cotangent·J."
    )
    how = "reverse mode"

    def __init__(self, f: Callable[..., Any], wrt: Wrt):
        super().__init__(f, wrt)
        self._named("vjp")
        functools.update_wrapper(self, f, updated=())
        self.__name__ = f"{getattr(f, '__name__', 'f')}_vjp"
        self._eager()
        self._document()

    def __symdiff_generated__(self) -> Callable[..., Any]:
        return self.transformed.grad

    @property
    def source(self) -> str:
        return self.latest.grad_source

    @property
    def generic_source(self) -> str:
        return self.transformed.grad_source

    def __call__(self, *args: Any, **kwargs: Any) -> tuple[Any, Callable[[Any], Any]]:
        t = self.transformed
        with self._blamed(args, kwargs, t):
            value = self._f(*args, **kwargs)
            t = self._program(*self._flat_call(args, kwargs))
            coerced, ckwargs, bound = self._bind(args, kwargs)
        xs = self._wrt_values(bound)
        name = t.program.params[-1].name

        def pullback(cotangent: Any) -> Any:
            """``cotangent·J``: the reverse sweep seeded with ``cotangent`` (shaped like f's value)."""
            ct: Any = np.asarray(cotangent)
            if ct.shape != np.shape(value):  # the caller's error: f ran
                raise InputError(
                    f"the cotangent has shape {ct.shape}, but {getattr(self._f, '__name__', 'f')}"
                    f" returned shape {np.shape(value)}",
                    blame.return_loc(self._f),
                )
            ct = ct if ct.ndim else np.float64(ct)
            verify = self._verify  # the generated code's value against the decorated one, once
            with self._blamed(args, kwargs, t):
                if verify:
                    generated, grads = t.value_and_grad(*coerced, **ckwargs, **{name: ct})
                else:
                    grads = t.grad(*coerced, **ckwargs, **{name: ct})
            if verify:
                self._check_decorated(args, kwargs, generated)
            if self._single:
                return finish(grads, xs[0])
            return tuple(finish(g, x) for g, x in zip(grads, xs))

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


class JacobianFunction(Derivative):
    """The Jacobian of a vector-valued ``f``: shape ``f(x).shape + x.shape`` per ``wrt``."""

    what = "Jacobian"
    usage = (
        "Called with the arguments of {f}, it returns the Jacobian, shaped f(x).shape + x.shape."
    )

    @property
    def modes(self) -> tuple[Derivative, ...]:
        """The forward (``jvp``) and reverse (``vjp``) objects this Jacobian may run, as built."""
        return tuple(d for d in (self._jvp, self._vjp) if d is not None)

    def __init__(self, f: Callable[..., Any], wrt: Wrt, mode: str):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        super().__init__(f, wrt)
        self._named("jacobian")
        self.requested = mode
        self.last_mode: str | None = None  # "fwd" or "rev": what the last call used
        self._jvp = self._build(JVPFunction, mode in ("auto", "fwd"))
        self._vjp = self._build(VJPFunction, mode in ("auto", "rev"))
        self._batched: Derivative | None = None
        # forward mode: whether the last call pushed its directions in batches (False: one
        # at a time, a step of the program could not batch; None: reverse mode)
        self.last_batched: bool | None = None
        if self._jvp is None and self._vjp is None:
            JVPFunction(f, wrt)  # neither mode applies: raise forward mode's refusal
        self._document()

    @property
    def how(self) -> str:  # type: ignore[override]
        if self._jvp is not None and self._vjp is not None:
            used = {"fwd": "forward", "rev": "reverse"}.get(self.last_mode or "")
            last = f"; the last call used {used} mode" if used else ""
            return f"forward or reverse mode, whichever takes fewer passes{last}"
        refused = " (the other is refused)" if self.requested == "auto" else ""
        return ("forward mode" if self._vjp is None else "reverse mode") + refused

    @property
    def built(self) -> bool:
        return all(m.built for m in self.modes)

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
    def transformed(self) -> Transformed:
        if self._vjp is None or (self.last_mode != "rev" and self._jvp is not None):
            return self._jvp.transformed
        return self._vjp.transformed

    def specialise(self, *args: Any, **kwargs: Any) -> "JacobianFunction":
        """Both modes' programs for calls with these arguments (see ``Derivative``)."""
        for d in self.modes:
            d.specialise(*args, **kwargs)
        return self

    @property
    def latest(self) -> Transformed:
        if self._vjp is None or (self.last_mode != "rev" and self._jvp is not None):
            return self._jvp.latest
        return self._vjp.latest

    @property
    def source(self) -> str:
        """The generated program(s) this Jacobian runs, as of the latest call (specialised
        to its arguments); with ``mode="auto"``, both."""
        return self._sources(lambda d: d.source)

    @property
    def generic_source(self) -> str:
        """The shape-generic program(s), correct for arguments of any shape."""
        return self._sources(lambda d: d.generic_source)

    def _sources(self, text: Callable[[Derivative], str]) -> str:
        if self._jvp is None or self._vjp is None:
            return text(self._jvp or self._vjp)
        return SourceText(
            "# forward mode: one call per input element (used when inputs < outputs)\n"
            + text(self._jvp)
            + "\n\n# reverse mode: one call per output element (used otherwise)\n"
            + text(self._vjp)
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self._blamed(args, kwargs, self.transformed):
            _, _, bound = self._bind(args, kwargs)
        xs = self._wrt_values(bound)
        if self._vjp is None:
            mode = "fwd"
        else:
            value, pullback = self._vjp(*args, **kwargs)
            n_in = sum(int(np.size(x)) for x in xs)
            mode = "fwd" if self._jvp is not None and n_in < np.size(value) else "rev"
        self.last_mode = mode
        self.last_batched = None
        if mode == "fwd":
            with self._blamed(args, kwargs, self._jvp.transformed):
                return self._forward(args, kwargs, xs)
        return self._reverse(value, pullback, xs)  # the pullback explains its own errors

    def _forward(self, args: tuple, kwargs: dict, xs: list[Any]) -> Any:
        """Column by column: one tangent pass per input element."""
        if self._batched is None:  # the same program with a direction axis (api.batched)
            self._batched = self._jvp.twin()
        pusher = batched.Pusher(self._jvp, self._batched, args, kwargs, ONE_PASS)
        self.last_batched = pusher.batched
        value = batched.zero_value(pusher)
        self._check_decorated(args, kwargs, value)
        blocks = batched.unit_columns(pusher, np.shape(value), "Jacobian (forward mode)")
        return blocks[0] if self._single else blocks

    def _reverse(self, value: Any, pullback: Callable[[Any], Any], xs: list[Any]) -> Any:
        """Row by row: one reverse sweep per output element."""
        with Progress("Jacobian (reverse mode)", int(np.size(value))) as progress:
            blocks = runtime.jacobian_rows(progress.counted(pullback), xs, np.shape(value))
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


class _OverGradient(Derivative):
    """Forward mode over the generated gradient of a scalar ``f`` (one ``wrt`` argument)."""

    how = "forward mode over reverse mode"

    def __init__(self, f: Callable[..., Any], wrt: Wrt, kind: str, backend: str | None = None):
        super().__init__(f, wrt, backend=backend)
        self._named(kind)
        if not self._single:
            raise WrtError(
                f"{kind} takes one wrt argument, not {wrt!r}",
                hint="differentiate with respect to one (flattened) argument, or use "
                "symdiff.jacobian on symdiff.grad(f, wrt=...) for blocks",
            )
        self.gradient = grad(f, wrt=wrt, backend=backend)
        # the gradient's generated code takes a bound method's object first, as f does;
        # an object read through attributes, those reads (api.derivative, _flat_call)
        if self._flat is None:
            self._tangents = _GradientTangent(self.gradient, wrt, bound=self._self, backend=backend)
        else:
            self._tangents = _GradientTangent(
                self.gradient, self._wrt, bound=UNBOUND, backend=backend
            )

    @property
    def built(self) -> bool:
        return self._tangents.built

    @property
    def transformed(self) -> Transformed:
        return self._tangents.transformed

    @property
    def latest(self) -> Transformed:
        return self._tangents.latest

    def specialise(self, *args: Any, **kwargs: Any) -> "_OverGradient":
        """The gradient's and its tangent program's programs for these arguments."""
        self.gradient.specialise(*args, **kwargs)
        over, over_kwargs = self._over(args, kwargs)
        self._tangents.specialise(*over, **over_kwargs)
        return self

    @property
    def gradient_source(self) -> str:
        return self.gradient.source

    def _hvp(self, args: tuple, kwargs: dict, v: Any) -> tuple[Any, Any]:
        self._check_gradient(args, kwargs)
        args, kwargs = self._over(args, kwargs)
        return self._tangents(*args, v, **kwargs)

    def _over(self, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        """``f``'s arguments as the gradient's generated code takes them: with an object
        read through attributes, those reads in its place (``_flat_call``)."""
        return (args, kwargs) if self._flat is None else self._flat_call(args, kwargs)

    def _check_gradient(self, args: tuple, kwargs: dict) -> None:
        """Once: the gradient the tangent program computes is the gradient object's (which
        itself compares a decorated ``f``'s value once, see ``grad``)."""
        if self._verify or self._tangents._verify:
            call = self._tangents.prepare(*self._over(args, kwargs))
            value, _ = call([np.zeros_like(x) for x in call.inputs])
            self._tangents._check_decorated(args, kwargs, value)
            self._verify = False


class _GradientTangent(JVPFunction):
    """The tangent program of a generated gradient, written as a Hessian-vector product."""

    mode = Kind.HVP

    def _differentiated(self, full: tuple) -> Callable[..., Any]:
        """The gradient specialised to the same arguments, when it is: its program has no
        shape bookkeeping left for the tangent program to carry along."""
        gradient = self._f
        assert isinstance(gradient, GradientFunction)  # built on one (_OverGradient)
        if gradient._flat is not None:  # full: the attributes read, as its code takes them
            t = gradient._specialised_at(full)
        else:
            shift = 0 if self._self is UNBOUND else 1
            t = gradient.specialise(*full[shift:]).latest
        return t.readable_grad if t.signature is not None else self._f


class HessianFunction(_OverGradient):
    """The Hessian of a scalar ``f``: shape ``x.shape + x.shape``."""

    what = "Hessian"
    usage = "Called with the arguments of {f}, it returns the Hessian, shaped x.shape + x.shape."

    def __init__(self, f: Callable[..., Any], wrt: Wrt):
        super().__init__(f, wrt, "hessian")
        self._batched: Derivative | None = None
        # whether the last call pushed its directions in batches (False: one at a time)
        self.last_batched: bool | None = None
        self._document()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self._blamed(args, kwargs, self.transformed):
            self._check_gradient(args, kwargs)
            if self._batched is None:  # every direction in one pass (api.batched)
                self._batched = self._tangents.twin()
            over, over_kwargs = self._over(args, kwargs)
            pusher = batched.Pusher(self._tangents, self._batched, over, over_kwargs, ONE_PASS)
            self.last_batched = pusher.batched
            (x,) = pusher.inputs
            (block,) = batched.unit_columns(pusher, np.shape(x), "Hessian")
        return float(block) if not np.shape(x) else block


class HVPFunction(_OverGradient):
    """``hvp(f)(*args, v) -> H·v`` for a scalar ``f``, without forming ``H``."""

    what = "Hessian-vector product"
    usage = (
        "Called with the arguments of {f} followed by a vector v shaped like the wrt "
        "argument, it returns H·v."
    )

    def __init__(self, f: Callable[..., Any], wrt: Wrt, backend: str | None = None):
        super().__init__(f, wrt, "hvp", backend)
        functools.update_wrapper(self, f, updated=())
        self.__name__ = f"{getattr(f, '__name__', 'f')}_hvp"
        self._document()

    def __symdiff_generated__(self) -> Callable[..., Any]:
        return self.transformed.grad

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not args:
            raise TypeError(f"{self.__name__} takes the arguments of f followed by v")
        if self.backend is not None:  # the library's arrays as they are (see grad)
            t = self.transformed
            with self._blamed(args[:-1], kwargs, t):
                flat, flat_kwargs = self._flat_call(args[:-1], kwargs)
                return t.grad(*flat, args[-1], **flat_kwargs)
        with self._blamed(args[:-1], kwargs, self.transformed):  # f's arguments, without v
            self._check_gradient(args[:-1], kwargs)
            call = self._tangents.prepare(*self._over(args[:-1], kwargs))
            (v,) = self._directions(args[-1:], call.inputs, "vector")
            d = call.tangent([v])
        return _finish_tangent(d, call.inputs[0], [v])

    def gradient_and_hvp(self, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
        """``(∇f, H·v)`` from the same single pass."""
        if not args:
            raise TypeError(f"{self.__name__} takes the arguments of f followed by v")
        with self._blamed(args[:-1], kwargs, self.transformed):
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


def hvp(f: Callable[..., Any] | None = None, *, wrt: Wrt = 0, backend: str | None = None) -> Any:
    """Hessian-vector product: ``hvp(f, wrt=...)(*args, v)`` is ``H·v`` for a scalar ``f``.

    One forward pass over the generated gradient (forward-over-reverse); the Hessian is
    never formed, so the cost is a small multiple of one gradient. ``backend`` writes it for
    another array library, as for ``grad``.
    """
    if f is None:
        return lambda fn: HVPFunction(fn, wrt, backend)
    return HVPFunction(f, wrt, backend)
