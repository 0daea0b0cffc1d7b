"""The base of every derivative object ``grad``, ``jvp``, ``vjp``, ``jacobian``, ``hessian``
and ``hvp`` return: what they share about ``f``, its ``wrt`` and calling generated code.

A derivative object resolves ``wrt`` against ``f``'s arguments once, keeps the
transformation it runs current (a rebound global or redefined helper transforms again),
binds and coerces a call's arguments the same way, passes a bound method's object as the
first argument, and compares a decorated ``f``'s value with the generated code's once.
"""

from __future__ import annotations

import contextlib
import inspect
from typing import Any, Callable, Iterator

import numpy as np

from ..ad.program import Kind
from ..errors import InputError, SymdiffError, UndefinedNameError, WrtError
from ..frontend.attributes import flattened
from ..frontend.source import display_path, origin, unwrap
from ..pipeline import Transformed
from . import blame
from .cache import cached_transform, current
from .calls import UNBOUND, arguments, bound_self, decorated, prepare, verify_decorated
from .display import Summary, docstring, summary_html, summary_markdown, summary_repr
from .wrt import Wrt, dotted_wrt, param_names, resolve_wrt, signature_defaults


class Derivative:
    """A derivative of ``f`` computed by generated code (shared plumbing).

    ``_names`` and ``_positions`` are those of the function the generated code takes (a
    method's ``self`` included); ``wrt`` counts the arguments the caller passes, and
    ``_wrt`` is what the transformation is asked for.
    """

    mode: Kind = Kind.JVP  # the program this object's transformation builds
    what = "derivative"  # what it computes, as its displays and docstring name it
    how = "forward mode"  # the mode or modes it runs
    usage = ""  # how to call it (api.display.Summary)

    def __init__(self, f: Callable[..., Any], wrt: Wrt, simplify: bool = False, bound: Any = None):
        self._f = f
        self.wrt = wrt
        self.simplify = simplify
        self._self = bound_self(f) if bound is None else bound
        self._names = param_names(unwrap(f))
        shift = 0 if self._self is UNBOUND else 1
        # an object read through attributes (self.w): f is differentiated as the function
        # of those reads (frontend.attributes), which calls pass in the object's place
        self._flat = flattened(f)
        self._target = f if self._flat is None else self._flat.function
        try:
            if self._flat is not None:
                wrt = dotted_wrt(wrt, self._names[shift:], self._flat.objects, self._flat.names)
                self._names, shift = self._flat.flat_names(), 0
            positions, self._single = resolve_wrt(self._names[shift:], wrt, f)
        except WrtError as exc:
            raise blame.explain_build(exc, f) from None
        self._positions = tuple(p + shift for p in positions)
        chosen = tuple(self._names[p] for p in self._positions)
        self._wrt: Wrt = wrt if not shift else chosen[0] if self._single else chosen
        self._defaults = signature_defaults(unwrap(self._target))
        self._verify = decorated(f)  # compare the decorated value once (_check_decorated)
        self.__symdiff_grad__ = True  # never differentiated through f by mistake
        self._t: Transformed | None = None

    def _named(self, kind: str) -> None:
        """Name this object after ``f`` (``loss_jacobian``); a call takes ``f``'s arguments."""
        fname = getattr(self._f, "__name__", "f")
        if getattr(type(self), "__symdiff_generated__", None) is None:
            try:
                self.__signature__ = inspect.signature(
                    self._f if self._self is not UNBOUND else unwrap(self._f)
                )
            except (TypeError, ValueError):
                pass
        self.__name__ = f"{fname}_{kind}"
        self.__qualname__ = self.__name__

    def _transformed(self, mode: Kind) -> Transformed:
        return cached_transform(self._target, self._wrt, self.simplify, mode)

    def transformed_with(self, simplify: bool) -> Transformed:
        """This object's transformation, simplified when it or the caller asks (``emit``'s
        ``simplify=`` applies to a gradient object built without it)."""
        return cached_transform(self._target, self._wrt, self.simplify or simplify, self.mode)

    def _eager(self) -> None:
        """Transform now, so that refusals happen at construction; a name defined later in
        the module waits for the first call."""
        try:
            self._t = self._transformed(self.mode)
        except UndefinedNameError:
            self._t = None

    @property
    def transformed(self) -> Transformed:
        """The transformation behind this object (program, sources, compiled functions)."""
        t = self._t
        if t is None or not current(t):
            t = self._t = self._transformed(self.mode)
            self._renewed()
        return t

    def _renewed(self) -> None:
        """Called when the transformation was (re)built: forget what depended on the old."""

    @property
    def source(self) -> str:
        return self.transformed.value_and_grad_source

    def _with_self(self, args: tuple) -> tuple:
        return args if self._self is UNBOUND else (self._self, *args)

    def _flat_call(self, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        """The arguments of the function the generated code computes: a bound method's
        object first, and each object read through attributes replaced by those reads."""
        args = self._with_self(args)
        return (args, kwargs) if self._flat is None else self._flat.expand(args, kwargs)

    def _bind(self, args: tuple, kwargs: dict) -> tuple[tuple, dict, dict[str, Any]]:
        """The arguments as generated code takes them (a bound method's object first,
        coerced as ``grad`` does), and every argument by name."""
        args, kwargs = prepare(*self._flat_call(args, kwargs), self._names, self._positions)
        bound = {**self._defaults, **arguments(self._names, args, kwargs)}
        missing = [self._names[p] for p in self._positions if self._names[p] not in bound]
        if missing:
            raise TypeError(f"{self.__name__} is missing the argument {missing[0]!r}")
        return args, kwargs, bound

    def _check_decorated(self, args: tuple, kwargs: dict, value: Any) -> None:
        """Once: the generated code's value against the decorated ``f``'s on the caller's
        arguments (``args`` as the caller passed them)."""
        if self._verify:
            verify_decorated(self._f, args, kwargs, value)
            self._verify = False

    @contextlib.contextmanager
    def _blamed(self, args: tuple, kwargs: dict, t: Transformed) -> Iterator[None]:
        """Run part of a call under the one rule for blame (``blame.explain_call``): an
        exception out of it is the user's when ``f`` raises too, else symdiff's.

        ``args`` and ``kwargs`` are ``f``'s own arguments as the caller passed them, never
        the tangents, cotangents or vectors that follow them: the rule reruns ``f`` on
        exactly these, and ``f`` called with a tangent too would fail for the wrong reason.
        ``t`` is the transformation whose generated code ran, for an ``InternalError``.
        """
        try:
            yield
        except Exception as exc:
            err = blame.explain_call(exc, self._f, args, kwargs, t)
            raise err from err.__cause__

    def _wrt_values(self, bound: dict[str, Any]) -> list[Any]:
        return [bound[self._names[p]] for p in self._positions]

    def _directions(self, given: tuple, xs: list[Any], what: str) -> list[Any]:
        """Direction arguments as float arrays shaped like the inputs they go with.

        A wrong one is the caller's error even where ``f`` runs, so it is refused here,
        before any generated code, naming the argument and placed at its parameter."""
        out = []
        for v, x, p in zip(given, xs, self._positions):
            name = self._names[p]
            arr = np.asarray(v)
            if arr.dtype.kind not in "biuf":
                raise InputError(
                    f"the {what} for {name} must be real numbers, not {arr.dtype}",
                    blame.param_loc(self._f, name),
                )
            if arr.shape != np.shape(x):
                raise InputError(
                    f"the {what} for {name} has shape {arr.shape}, but {name} has shape "
                    f"{np.shape(x)}",
                    blame.param_loc(self._f, name),
                )
            dtype = x.dtype if isinstance(x, np.ndarray) else np.dtype(np.float64)
            out.append(np.asarray(arr, dtype=dtype) if arr.ndim else dtype.type(arr))
        return out

    # ------------------------------------------------------------------------- display

    @property
    def built(self) -> bool:
        """Whether the generated code exists (it waits for a name defined later in the module)."""
        return self._t is not None

    def summary(self) -> Summary:
        """What this object is, for ``repr``, notebooks and ``__doc__`` (see ``api.display``)."""
        shift = 0 if self._self is UNBOUND or self._flat is not None else 1
        shown = {} if self._flat is None else {n: d for d, n in self._flat.names.items()}
        fname = getattr(self._f, "__name__", "f")
        where = ""
        if self.built:
            where = origin(self.transformed.source)
        else:
            code = getattr(unwrap(self._f), "__code__", None)
            if code is not None:
                where = f"{display_path(code.co_filename)}:{code.co_firstlineno} ({fname})"
        return Summary(
            name=self.__name__,
            what=self.what,
            function=f"{fname}({', '.join(self._names[shift:])})",
            wrt=tuple(shown.get(self._names[p], self._names[p]) for p in self._positions),
            modes=self.how,
            built=self.built,
            origin=where,
            usage=self.usage,
        )

    def _document(self) -> None:
        """``__doc__``: what this computes and from which line, then ``f``'s own docstring."""
        self.__doc__ = docstring(self.summary(), getattr(self._f, "__doc__", None))

    def _shown_source(self) -> tuple[str | None, str]:
        """The generated code for a display, or why there is none yet."""
        try:
            return self.source, ""
        except SymdiffError as exc:
            return None, str(exc)

    def __repr__(self) -> str:
        return summary_repr(self.summary())

    def _repr_html_(self) -> str:
        source, problem = self._shown_source()  # first: showing the code may build it
        return summary_html(self.summary(), source, problem)

    def _repr_markdown_(self) -> str:
        source, problem = self._shown_source()
        return summary_markdown(self.summary(), source, problem)
