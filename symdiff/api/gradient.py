"""``grad``, ``value_and_grad`` and ``gradient_source``: the gradient of a scalar function.

``grad(f)`` transforms ``f`` when it is called (refusals happen there, not at the first
call) and returns a ``GradientFunction``; calling it runs the generated code on the
caller's arguments. The common call, a float or a float array in and out, costs little
more than the generated code itself.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from ..ad.program import Kind
from ..frontend.attributes import FLAT_ATTR
from ..pipeline import Transformed
from . import blame
from .cache import CACHE_ATTR, cached_transform, current
from .calls import UNBOUND, arguments, finish, numpy_floats, prepare, refuse_complex
from .derivative import Derivative
from .differences import compare
from .wrt import Wrt


class GradientFunction(Derivative):
    """The callable ``grad`` returns: computes gradients; ``.source`` shows how."""

    mode = Kind.GRAD
    how = "reverse mode"

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
        self.__dict__.pop(CACHE_ATTR, None)  # update_wrapper copied f's cache table
        self.__dict__.pop(FLAT_ATTR, None)  # and its attribute-reading version
        self.__wrapped__ = f
        super().__init__(f, wrt, simplify)
        self.check = check
        self._with_value = with_value
        self.__name__ = (
            f"{getattr(f, '__name__', 'f')}_{'value_and_grad' if with_value else 'grad'}"
        )
        # the position of a lone Python-float argument once nothing else needs checking: a
        # call with a float there runs the generated code and nothing else (see __call__)
        self._fast: int | None = None
        self._eager()
        self._document()

    @property
    def what(self) -> str:  # type: ignore[override]
        return "value and gradient" if self._with_value else "gradient"

    @property
    def usage(self) -> str:  # type: ignore[override]
        if self._with_value:
            return "Called with the arguments of {f}, it returns (value, gradients)."
        return (
            "Called with the arguments of {f}, it returns the gradient, shaped like its "
            "argument (a tuple of them for a tuple wrt)."
        )

    def __symdiff_generated__(self) -> Callable[..., Any]:
        """The generated function this runs: what ``grad(grad(f))`` differentiates (compiled
        from the formatted source, the code a user reads)."""
        t = self.transformed
        return t.readable_value_and_grad if self._with_value else t.readable_grad

    def _renewed(self) -> None:
        self._fast = None  # decided again on the next call

    @property
    def source(self) -> str:
        t = self.transformed
        return t.value_and_grad_source if self._with_value else t.grad_source

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        fast = self._fast
        t = self._t
        if (
            fast is not None
            and t is not None
            and not kwargs
            and len(args) > fast
            and type(args[fast]) is float
            and (not t.reads or current(t))
        ):
            try:
                g = t.grad(*args)
            except Exception:
                pass  # the general path below calls again and explains, or reruns
            else:
                if type(g) is float:
                    return g
        if t is None or ((t.helpers or t.reads) and not current(t)):
            t = self.transformed
        user_args, user_kwargs = args, kwargs
        given, kwargs = self._flat_call(args, kwargs)
        want_value = self._with_value or self._verify
        try:
            args, kwargs = prepare(given, kwargs, self._names, self._positions)
            try:
                if want_value:
                    value, grads = t.value_and_grad(*args, **kwargs)
                else:
                    value, grads = None, t.grad(*args, **kwargs)
            except (ZeroDivisionError, OverflowError):
                value, grads = numpy_floats(t, want_value, args, kwargs)
        except Exception as exc:  # whose fault: the one rule of symdiff.api.blame
            err = blame.explain_call(exc, self._f, user_args, user_kwargs, t)
            raise err from err.__cause__
        if value is not None:
            refuse_complex(value)
        self._check_decorated(user_args, user_kwargs, value)
        if self.check:
            self.check = False  # once, on the first call's inputs
            if self._flat is None:
                compare(
                    self._f,
                    user_args,
                    user_kwargs,
                    wrt=self.wrt,
                    grad_fn=lambda *a, **k: self._bare_grad(t, a, k),
                )
            else:  # differences over the attributes read: f as a function of them
                compare(
                    self._flat.function,
                    *self._flat_call(user_args, user_kwargs),
                    wrt=self._wrt,
                    grad_fn=lambda *a, **k: t.grad(*prepare(a, k, self._names, self._positions)[0]),
                )
        return self._results(t, value, grads, given, user_kwargs, kwargs)

    def _results(
        self, t: Transformed, value: Any, grads: Any, given: tuple, user_kwargs: dict, kwargs: dict
    ) -> Any:
        """Each gradient shaped and typed like its argument; ``(value, grads)`` for
        ``value_and_grad``. Decides the fast path of the next calls (see ``__call__``)."""
        if not kwargs and max(self._positions) < len(given):  # all given by position
            if self._single:
                raw = type(grads)
                grads = finish(grads, given[self._positions[0]])
                if (
                    raw is float
                    and type(given[self._positions[0]]) is float
                    and not (self._with_value or self._verify or self.check)
                    and self._self is UNBOUND
                    and self._flat is None
                    and not t.helpers
                ):
                    self._fast = self._positions[0]
            else:
                grads = tuple([finish(g, given[p]) for g, p in zip(grads, self._positions)])
            return (value, grads) if self._with_value else grads
        bound = {**self._defaults, **arguments(self._names, given, user_kwargs)}
        if self._single:
            grads = finish(grads, bound.get(self._names[self._positions[0]]))
        else:
            grads = tuple(
                finish(g, bound.get(self._names[p])) for g, p in zip(grads, self._positions)
            )
        return (value, grads) if self._with_value else grads

    def _bare_grad(self, t: Transformed, args: tuple, kwargs: dict) -> Any:
        """The generated gradient on the caller's arguments (for ``check=True``)."""
        args, kwargs = prepare(*self._flat_call(args, kwargs), self._names, self._positions)
        return t.grad(*args, **kwargs)


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
