"""The base of every derivative object ``grad``, ``jvp``, ``vjp``, ``jacobian``, ``hessian``
and ``hvp`` return: what they share about ``f``, its ``wrt`` and calling generated code.

A derivative object resolves ``wrt`` against ``f``'s arguments once, keeps the
transformation it runs current (a rebound global or redefined helper transforms again),
binds and coerces a call's arguments the same way, passes a bound method's object as the
first argument, and compares a decorated ``f``'s value with the generated code's once.

It also specialises at the call, as ``jax.jit`` does: the shape-generic program, built when
the object is (so that refusals happen there), is correct for any arguments but carries
run-time shape bookkeeping; a call's arguments have an abstract signature (kind, dtype, rank
and unit axes, never exact sizes), and the first call with a new one builds the program
rewritten for it, kept in a table keyed by ``calls.call_key`` so that a repeated call pays a
dictionary lookup. What cannot be described or specialised runs the generic program.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
from typing import Any, Callable, Iterator

import numpy as np

from ..abstract.values import AbstractValue, ShapeError, signature
from ..ad.program import Kind
from ..backend import targets
from ..errors import (
    AliasUpdateError,
    InputError,
    InternalError,
    SymdiffError,
    UndefinedNameError,
    WrtError,
)
from ..frontend.attributes import flattened
from ..frontend.source import display_path, origin, unwrap
from ..optimize.specialise import program_types
from ..pipeline import Transformed
from . import blame
from .cache import cached_transform, current, watch
from .calls import (
    UNBOUND,
    arguments,
    bound_self,
    call_key,
    decorated,
    described,
    prepare,
    ready,
    verify_decorated,
)
from .display import Summary, docstring, summary_html, summary_markdown, summary_repr
from .wrt import Wrt, dotted_wrt, param_names, resolve_wrt, signature_defaults


class Program:
    """One program of a derivative object as its calls use it: the transformation, what
    tells that it is still current, whether the arguments its key stands for reach the
    generated code unchanged (no coercion needed), and ``fast``: the generated function a
    call runs on the short road, once a first call has checked what it returns (None until
    then; see ``GradientFunction``)."""

    __slots__ = ("t", "watched", "ready", "typed", "fast", "key")

    def __init__(self, t: Transformed, ready: bool, key: tuple | None = None):
        self.t = t
        self.watched = watch(t)
        self.ready = ready
        self.typed = typed_like_arguments(t)
        self.fast: Callable[..., Any] | None = None
        self.key = key

    def current(self) -> bool:
        watched = self.watched
        if watched is None:
            return current(self.t)
        for scope, name, obj in watched:
            if scope.get(name, _MISSING) is not obj:
                return False
        return True


_MISSING = object()


def typed_like_arguments(t: Transformed) -> bool:
    """A specialised gradient's results certainly have the kind, dtype, rank and unit axes of
    the arguments they are the gradients of: the analysis of the program says so, with its
    branches and loops joined (a gradient that is a float on one branch and an array on
    the other is not). Lengths other than 1 are the one thing the types leave open, and a
    wrong one would be an error ``calls.finish`` cannot repair either; so such a gradient is
    returned as the generated code computed it, without the per-call ``finish``."""
    prog, sig = t.program, t.signature
    if sig is None or prog.kind not in (Kind.GRAD, Kind.GRAD_FWD) or None in prog.grads:
        return False
    try:
        types = program_types(prog, sig)
        return all(
            types.value(g) == sig[p]  # type: ignore[arg-type]
            for g, p in zip(prog.grads, t.wrt_positions)
        )
    except Exception:  # what the analysis cannot say is not certain
        return False


class Derivative:
    """A derivative of ``f`` computed by generated code (shared plumbing).

    ``_names`` and ``_positions`` are those of the function the generated code takes (a
    method's ``self`` included); ``wrt`` counts the arguments the caller passes, and
    ``_wrt`` is what the transformation is asked for.
    """

    mode: Kind = Kind.JVP  # the program this object's transformation builds
    batched = False  # specialised tangent programs with a direction axis (api.batched)
    what = "derivative"  # what it computes, as its displays and docstring name it
    how = "forward mode"  # the mode or modes it runs
    usage = ""  # how to call it (api.display.Summary)

    def __init__(
        self,
        f: Callable[..., Any],
        wrt: Wrt,
        simplify: bool = False,
        bound: Any = None,
        backend: str | None = None,
    ):
        self._f = f
        self.wrt = wrt
        self.simplify = simplify
        # the array library the code is written for (None: NumPy, or the arguments' own)
        self.backend = None if backend is None else targets.get(backend).name
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
        self._t: Transformed | None = None  # the shape-generic program
        # one program per abstract signature called with (calls.call_key -> transformation),
        # and the signature of the latest call, whose program .source shows
        self._programs: dict[tuple, Program] = {}
        self._latest: Program | None = None
        self.specialising = True  # False: every call runs the shape-generic program

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

    def _transformed(self, mode: Kind, args: tuple | None = None) -> Transformed:
        return cached_transform(
            self._target, self._wrt, self.simplify, mode, args, backend=self.backend
        )

    def transformed_with(self, simplify: bool, args: tuple | None = None) -> Transformed:
        """This object's transformation, simplified when it or the caller asks (``emit``'s
        ``simplify=`` applies to a gradient object built without it), specialised to
        ``args`` (as a call passes them) when given."""
        if args is None:
            return cached_transform(
                self._target, self._wrt, self.simplify or simplify, self.mode, backend=self.backend
            )
        full = self._positional(*self._flat_call(tuple(args), {}))
        if full is None:
            raise TypeError(
                f"{self.__name__} takes {len(self._names)} arguments; {len(args)} were given"
            )
        return self._specialised(full, self.simplify or simplify)

    def _program(self, given: tuple, kwargs: dict) -> Transformed:
        """The transformation a call runs: the program specialised to the abstract signature
        of its arguments (``given`` as generated code takes them, a bound method's object
        first and an object read through attributes replaced by those reads, see
        ``_flat_call``, so that the key has the attributes' abstract types; keywords and
        defaults bound to the positional parameter list), built on the
        first call with that signature; the shape-generic one when the arguments do not
        bind (the call then raises what Python raises)."""
        full = given if not kwargs and len(given) == len(self._names) else None
        if not self.specialising or self.backend is not None:  # see docs/backends.md
            return self.transformed
        if full is None:
            full = self._positional(given, kwargs)
            if full is None:
                self._latest = None
                return self.transformed
        key = call_key(full)
        entry = self._programs.get(key)
        if entry is None or not entry.current():
            t = self._specialised(full, self.simplify)
            entry = self._programs[key] = Program(t, ready(full, self._positions), key)
        self._latest = entry
        return entry.t

    @property
    def function(self) -> Callable[..., Any]:
        """The function this is a derivative of, as it was given."""
        return self._f

    def specialise(self, *args: Any, **kwargs: Any) -> "Derivative":
        """Build (or find) the program a call with these arguments runs, without running it:
        ``.source`` shows it next, and ``emit`` writes it. Returns ``self``. The arguments
        are ``f``'s own (no tangents or vectors); only their abstract values matter."""
        self._program(*self._flat_call(args, kwargs))
        return self

    def _positional(self, given: tuple, kwargs: dict) -> tuple | None:
        """Every positional parameter's value for a call, or None if some has none."""
        if len(given) > len(self._names):
            return None
        bound = {**self._defaults, **arguments(self._names, given, kwargs)}
        if len(bound) != len(self._names) or any(n not in bound for n in self._names):
            return None
        return tuple(bound[n] for n in self._names)

    def _specialised(self, full: tuple, simplify: bool) -> Transformed:
        """The program for arguments ``full`` (every parameter of the function the generated
        code computes, in order, concrete or abstract; see ``_flat_call``).

        A Python int or bool being differentiated is refused by the pipeline's type check
        (a ``WrtError`` naming the argument). Otherwise the arguments are coerced as the
        call coerces them (an integer array becomes float64), so the program is written for
        what it receives. A shape error the analysis predicts in the user's code is
        confirmed by running it: what it raises is reported, at the user's line. Arguments
        the analysis cannot describe, a prediction the function does not bear out, and any
        other failure to specialise (a symdiff bug, a refusal only the exact types make,
        which the shape-generic program words better at the call) give the shape-generic
        program: slower, never wrong, and never a bug shown for the user's call."""
        if any(type(full[p]) in (int, bool) for p in self._positions):
            return cached_transform(self._target, self._wrt, simplify, self.mode, full)
        coerced = full
        concrete = not all(isinstance(a, AbstractValue) for a in full)
        if concrete:
            coerced, _ = prepare(full, {}, self._names, self._positions)

        def generic() -> Transformed:  # the object's own: built when it was, with its rules
            return self.transformed if simplify == self.simplify else self.transformed_with(True)

        if not all(map(described, signature(coerced))):
            return generic()
        if concrete and any(type(a) is np.ndarray and a.size == 0 for a in coerced):
            return generic()  # NumPy's nan and inf for empty reductions, as the generic gives
        try:
            target = self._differentiated(full) if concrete else self._target
            kind = self._kind_for(signature(coerced))
            if kind is not self.mode:
                try:
                    return cached_transform(target, self._wrt, simplify, kind, coerced)
                except (InternalError, SymdiffError):
                    pass  # the cheaper mode cannot do this function: the object's own
            return cached_transform(
                target, self._wrt, simplify, self.mode, coerced, batched=self.batched
            )
        except ShapeError:
            if concrete:
                if self._flat is not None:  # f as a function of the attributes it reads
                    f, own_args = self._target, full
                else:
                    f, own_args = self._f, full[0 if self._self is UNBOUND else 1 :]
                own = blame.users_own_error(f, own_args, {}, generic())
                if own is not None:
                    raise own from own.__cause__
            return generic()
        except (InternalError, SymdiffError):
            return generic()

    def _kind_for(self, sig: tuple[AbstractValue, ...]) -> Kind:
        """The kind of program a call with abstract signature ``sig`` runs: this object's
        own here; a gradient may choose the cheaper mode (``GradientFunction``)."""
        return self.mode

    def _differentiated(self, full: tuple) -> Callable[..., Any]:
        """What the program for arguments ``full`` differentiates: ``f`` itself here (as a
        function of the attributes it reads, if it reads any); a derivative of generated
        code may differentiate the code specialised to them."""
        return self._target

    def _eager(self) -> None:
        """Transform now, so that refusals happen at construction; a name defined later in
        the module waits for the first call."""
        try:
            self._t = self._transformed(self.mode)
        except UndefinedNameError:
            self._t = None
        except AliasUpdateError as exc:
            if not exc.params:
                raise
            self._t = None  # numbers for exc.params make it a rebinding: the call decides

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
    def latest(self) -> Transformed:
        """The transformation of the latest call: specialised to its arguments' signature
        (its docstrings name it), or the shape-generic one before any call."""
        entry = self._latest
        if entry is None:
            return self.transformed
        if not entry.current():
            sig = entry.t.signature
            t = self.transformed if sig is None else self._specialised(sig, self.simplify)
            entry = self._latest = Program(t, entry.ready)
        return entry.t

    @property
    def source(self) -> str:
        """The generated code of the latest call's program (see ``latest``)."""
        return self.latest.value_and_grad_source

    @property
    def generic_source(self) -> str:
        """The generated code of the shape-generic program, correct for any arguments."""
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

    def twin(self, batched: bool = True) -> "Derivative":
        """This object writing its specialised programs with a direction axis on every
        tangent (``optimize.batching``), or without: its own table of programs, the same
        shape-generic one."""
        out = copy.copy(self)
        out.batched = batched
        out._programs = {}
        out._latest = None
        return out

    def _direction_batches(self, given: tuple, xs: list[Any]) -> list[Any]:
        """Batches of tangents, ``(d, *x.shape)`` per input, as float arrays; refused like
        ``_directions``, naming the argument."""
        out: list[Any] = []
        for v, x, p in zip(given, xs, self._positions):
            name = self._names[p]
            dtype = x.dtype if isinstance(x, np.ndarray) else np.dtype(np.float64)
            arr = np.asarray(v)
            if arr.dtype.kind not in "biuf":
                raise InputError(
                    f"the tangents for {name} must be real numbers, not {arr.dtype}",
                    blame.param_loc(self._f, name),
                )
            if arr.shape[1:] != np.shape(x) or not arr.ndim or (out and len(arr) != len(out[0])):
                count = f"{len(out[0])}, " if out else ""
                raise InputError(
                    f"the batch of tangents for {name} has shape {arr.shape}, but {name} has "
                    f"shape {np.shape(x)}: a batch is shaped ({count}directions, *{np.shape(x)})",
                    blame.param_loc(self._f, name),
                )
            out.append(np.asarray(arr, dtype=dtype if dtype.kind == "f" else np.float64))
        return out

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
