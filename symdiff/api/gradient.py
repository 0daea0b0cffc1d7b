"""``grad``, ``value_and_grad`` and ``gradient_source``: the gradient of a scalar function.

``grad(f)`` transforms ``f`` when it is called (refusals happen there, not at the first
call) and returns a ``GradientFunction``; calling it runs the generated code on the
caller's arguments, specialised to their abstract signature (see ``derivative``). A
repeated call with a signature already seen takes a short road: its key, one lookup, the
staleness check and the generated code, with the results' types already known.
"""

from __future__ import annotations

import functools
import inspect
import types
from typing import Any, Callable

import numpy as np

from ..abstract.values import AbstractValue
from ..ad.modes import cheaper_gradient
from ..ad.program import Kind
from ..backend import targets
from ..errors import InputError, SymdiffError, WrtError
from ..frontend.attributes import FLAT_ATTR, flattened
from ..frontend.source import unwrap
from ..frontend.structures import structure_reads
from ..pipeline import Transformed
from . import blame
from .aux import with_aux
from .cache import CACHE_ATTR, cached_transform
from .calls import (
    UNBOUND,
    arguments,
    call_key,
    finish,
    numpy_floats,
    prepare,
    refuse_complex,
)
from .checkpointed import Checkpoint, CheckpointedGradient
from .derivative import Derivative, Program
from .differences import compare
from .pytrees import (
    NOT_A_TREE,
    Variant,
    assemble,
    base_wrt,
    cut,
    is_node,
    parse_wrt,
    shape_key,
    value_at,
)
from .pytrees import variant as tree_variant
from .wrt import Wrt, param_names

# argument types NumPy's handling takes as they are; any other is checked for its library
_PLAIN = frozenset({float, int, bool, np.ndarray})
_COMPOSITE = frozenset({np.ndarray, tuple, list})  # arguments whose type is not their key
MODES = ("auto", "rev", "fwd")  # grad's mode=: see grad


class GradientFunction(Derivative):
    """The callable ``grad`` returns: computes gradients; ``.source`` shows how."""

    mode = Kind.GRAD

    def __init__(
        self,
        f: Callable[..., Any],
        wrt: Wrt,
        simplify: bool,
        check: bool,
        with_value: bool,
        backend: str | None = None,
        mode: str = "auto",
    ):
        # first: update_wrapper copies f's __dict__, which for grad(grad(f)) holds the inner
        # gradient's own fields (wrt, _f, ...); the assignments below must win
        functools.update_wrapper(self, f)
        self.__dict__.pop(CACHE_ATTR, None)  # update_wrapper copied f's cache table
        self.__dict__.pop(FLAT_ATTR, None)  # and its attribute-reading version
        self.__wrapped__ = f
        self._trees = structure_reads(f)
        self._tree_latest: Variant | None = None
        if self._trees is not None:
            wrt = self._tree_wrt(f, wrt)
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(map(repr, MODES))}, not {mode!r}")
        self._choice = mode  # grad's mode=: "auto" decides per call (_kind_for)
        self.mode = Kind.GRAD_FWD if mode == "fwd" else Kind.GRAD
        super().__init__(f, wrt, simplify, backend=backend)
        self.check = check
        self._with_value = with_value
        self._last = max(self._positions)
        self.__name__ = (
            f"{getattr(f, '__name__', 'f')}_{'value_and_grad' if with_value else 'grad'}"
        )
        try:
            self._eager()
        except SymdiffError:
            if self._trees is None:
                raise
            # the function as a whole may make sense only for structures (``last.W`` of an
            # unpacked ``last``): the shape-generic program waits for a call without one
            self._t = None
        self._document()

    @property
    def how(self) -> str:  # type: ignore[override]
        """The mode of the latest call's program (before any call, the one asked for)."""
        entry = self._latest
        kind = self.mode if entry is None else entry.t.program.kind
        return "forward mode" if kind is Kind.GRAD_FWD else "reverse mode"

    def _kind_for(self, sig: tuple[AbstractValue, ...]) -> Kind:
        """With ``mode="auto"``, forward mode where ``ad.modes.cheaper_gradient`` finds it
        cheaper for arguments of these types; else the mode asked for."""
        t = self._t
        if self._choice != "auto" or t is None:
            return self.mode
        scalar = tuple(sig[p].is_numeric and sig[p].shape == () for p in self._positions)
        return cheaper_gradient(t.function, scalar)

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

    @property
    def source(self) -> str:
        """The generated code of the latest call's program: specialised to the signature of
        its arguments, which its docstring names; the shape-generic one before any call."""
        if self._tree_latest is not None:  # structured arguments: the function of the leaves
            return self._tree_latest.inner.source
        t = self.latest
        return t.value_and_grad_source if self._with_value else t.grad_source

    @property
    def structured(self) -> bool:
        """The latest call passed structures (``api.pytrees``): ``.source`` is the gradient
        of the function of the leaves it read."""
        return self._tree_latest is not None

    @property
    def generic_source(self) -> str:
        """The shape-generic program's code, correct for arguments of any type and shape."""
        t = self.transformed
        return t.value_and_grad_source if self._with_value else t.grad_source

    def _tree_wrt(self, f: Callable[..., Any], wrt: Wrt) -> Wrt:
        """Structured arguments (see ``api.pytrees``): ``wrt`` as (parameter, read) pairs
        for calls with structures, and what the shape-generic program differentiates."""
        assert self._trees is not None
        params = self._trees.params
        names = param_names(f)
        items = (wrt,) if isinstance(wrt, (int, str)) else wrt
        try:
            if any(
                (isinstance(w, int) and not -len(names) <= w < len(names))
                or (isinstance(w, str) and w.isidentifier() and w not in params)
                for w in items
            ):
                self._trees = None  # resolve_wrt says what is wrong
                return wrt
            self._wanted, self._wanted_single = parse_wrt(wrt, names, params)
        except WrtError as exc:
            raise blame.explain_build(exc, f) from None
        except TypeError:
            self._trees = None  # resolve_wrt says what is wrong
            return wrt
        # a read with a subscript has no meaning for arguments that are not structures
        self._needs_tree = next(
            (w for w, (_, path) in zip(items, self._wanted) if any(k == "item" for k, _ in path)),
            None,
        )
        self._variants: dict[tuple, Variant] = {}
        self._tree_signature: inspect.Signature | None = None
        self._cuts: dict[tuple, Variant] = {}  # pytrees.shape_key -> the variant it runs
        plain = unwrap(f)
        code = getattr(plain, "__code__", None)
        kwonly = code is None or code.co_kwonlyargcount or getattr(plain, "__defaults__", None)
        self._tree_arity = -1 if kwonly else len(params)
        flat = flattened(f)
        objects = {} if flat is None else dict(flat.objects)
        # an object named whole has a gradient only when it is a structure (a dataclass, a
        # named tuple): a bound method's object is known now, a parameter's at the call
        self._whole: dict[str, tuple[str, ...]] = {}
        for p, path in self._wanted:
            if not path and p in objects:
                if isinstance(f, types.MethodType) and p == params[0]:
                    if not is_node(f.__self__):
                        objects.pop(p)  # refused now by the attributes' own wrt
                        continue
                self._whole[p] = objects[p]
        return base_wrt(self._wanted, self._wanted_single, objects)

    def _tree_call(self, args: tuple, kwargs: dict) -> Any:
        """A call with structured arguments: the gradient of the function of the leaves
        it reads, for this call's cut, rebuilt into the arguments' structures; or
        ``NOT_A_TREE`` when no argument is a structure the function reads into."""
        reads = self._trees
        assert reads is not None
        given = self._with_self(args)
        if any(map(is_node, given)) or any(map(is_node, kwargs.values())):
            values: dict[str, Any] | None = None
            if not kwargs and len(given) == self._tree_arity:
                values = dict(zip(reads.params, given))  # every parameter by position
            else:
                try:
                    if self._tree_signature is None:
                        self._tree_signature = inspect.signature(unwrap(self._f))
                    bound = self._tree_signature.bind(*given, **kwargs)
                except TypeError:
                    pass  # the call raises what Python raises
                else:
                    bound.apply_defaults()
                    values = bound.arguments
            if values is not None:
                try:
                    key = shape_key(reads, values)
                except Exception:
                    key = None  # a missing key or attribute: cut raises what Python raises
                v = self._cuts.get(key) if key is not None else None
                if v is None:
                    the_cut, aliases = cut(reads, values)
                    if the_cut:
                        v = self._variant(the_cut, aliases)
                        if key is not None:
                            self._cuts[key] = v
                if v is not None:
                    return self._tree_run(v, values)
        if self._needs_tree is not None:
            raise InputError(
                f"wrt names {self._needs_tree!r}, a read of a structure, but the call "
                "passes no structure (dict, list, tuple or dataclass) there",
                blame.function_loc(self._f),
            )
        for p, attrs in self._whole.items():
            raise blame.explain_build(
                WrtError(
                    f"wrt names {p!r}, an object symdiff reads attributes of but not a "
                    "structure (a dataclass or named tuple): differentiate with respect to "
                    "the attributes",
                    hint="wrt=" + ", ".join(repr(d) for d in attrs),
                ),
                self._f,
            )
        self._tree_latest = None
        return NOT_A_TREE

    def _variant(self, the_cut: dict, aliases: dict) -> Variant:
        """The gradient for calls with this cut, built on the first."""
        key = (tuple((p, the_cut[p]) for p in sorted(the_cut)), tuple(aliases.items()))
        v = self._variants.get(key)
        if v is None:
            reads = self._trees
            assert reads is not None

            def make(function: Callable[..., Any], wrt: Wrt) -> GradientFunction:
                return GradientFunction(
                    function, wrt, self.simplify, self.check, self._with_value, self.backend
                )

            v = self._variants[key] = tree_variant(reads, the_cut, aliases, self._wanted, make)
        return v

    def _tree_run(self, v: Variant, values: dict[str, Any]) -> Any:
        flat = [value_at(values[p], path) for p, path in v.order]
        positional = {p for p, _ in v.order}
        kw = {k: x for k, x in values.items() if k not in positional}
        out = v.inner(*flat, **kw)
        self._tree_latest = v
        if self._with_value:
            return out[0], assemble(v, out[1], values, self._wanted_single)
        return assemble(v, out, values, self._wanted_single)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._trees is not None:
            out = self._tree_call(args, kwargs)
            if out is not NOT_A_TREE:
                return out
        if not kwargs and self._flat is None:
            # a repeated call with a known signature: the key (for scalars, their types), a
            # dict lookup, the staleness check, the generated code, and each gradient typed
            # like its argument where the types do not already say it is
            key = tuple(map(type, args))
            if not _COMPOSITE.isdisjoint(key):
                key = call_key(args)
            entry = self._programs.get(key)
            fast = None if entry is None else entry.fast
            if entry is not None and fast is not None and entry.current():
                try:
                    out = fast(*args)
                except Exception:
                    pass  # the general path below calls again and explains, or reruns
                else:
                    self._latest = entry
                    if self._with_value:
                        refuse_complex(out[0])
                        if not entry.typed:
                            return self._results(out[0], out[1], args, {}, {})
                    elif not entry.typed:
                        return self._results(None, out, args, {}, {})
                    return out
        if self.backend is not None:
            return self._on_backend(args, kwargs)
        user_args, user_kwargs = args, kwargs
        # the arguments as generated code takes them: with an object read through
        # attributes, those reads (whose types the program is specialised to)
        if self._flat is None:
            given, seen = (args if self._self is UNBOUND else (self._self, *args)), args
        else:
            given, kwargs = self._flat_call(args, kwargs)
            seen = given
        given_kwargs = kwargs
        if kwargs or not _PLAIN.issuperset(map(type, seen)):
            other = targets.detect((*seen, *kwargs.values()))
            if other is not None:  # another library's arrays: its backend, never NumPy's
                return self._on_backend(user_args, user_kwargs, other.name)
        last: Transformed | None = self._t  # for blame, should the lookup itself fail
        want_value = self._with_value or self._verify
        try:
            t = last = self._program(given, kwargs)
            args, kwargs = prepare(given, kwargs, self._names, self._positions)
            try:
                if want_value:
                    value, grads = t.value_and_grad(*args, **kwargs)
                else:
                    value, grads = None, t.grad(*args, **kwargs)
            except (ZeroDivisionError, OverflowError):
                value, grads = numpy_floats(t, want_value, args, kwargs)
            entry = self._latest
            if entry is not None and entry.t is t and entry.fast is None and entry.ready:
                if t.signature is not None and not self._first_results(entry, grads, args, kwargs):
                    return self(*user_args, **user_kwargs)  # now with the generic program
                if (
                    self._self is UNBOUND
                    and self._flat is None
                    and not (self._verify or self.check)
                ):
                    entry.fast = t.value_and_grad if self._with_value else t.grad
        except Exception as exc:  # whose fault: the one rule of symdiff.api.blame
            err = blame.explain_call(exc, self._f, user_args, user_kwargs, last or self.transformed)
            raise err from err.__cause__
        if value is not None:
            refuse_complex(value)
        if self._verify:
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
        return self._results(value, grads, given, given_kwargs, kwargs)

    def _on_backend(self, args: tuple, kwargs: dict, backend: str | None = None) -> Any:
        """The generated code of another array library (this object's, or ``backend``) on
        the caller's arguments, as they are: NumPy's argument handling (promoting integers,
        shaping results like their arguments) would convert them, and the library's own
        types are what it returns. The program is the shape-generic one for that library."""
        if backend is None:
            t = self.transformed
        else:
            t = cached_transform(self._target, self._wrt, self.simplify, self.mode, backend=backend)
        given, flat_kwargs = self._flat_call(args, kwargs)
        try:
            if self._with_value:
                return t.value_and_grad(*given, **flat_kwargs)
            return t.grad(*given, **flat_kwargs)
        except Exception as exc:  # whose fault: the one rule of symdiff.api.blame
            err = blame.explain_call(exc, self._f, args, kwargs, t)
            raise err from err.__cause__

    def _results(
        self, value: Any, grads: Any, given: tuple, user_kwargs: dict, kwargs: dict
    ) -> Any:
        """Each gradient shaped and typed like its argument; ``(value, grads)`` for
        ``value_and_grad``."""
        if not kwargs and self._last < len(given):  # all given by position
            if self._single:
                grads = finish(grads, given[self._positions[0]])
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

    def specialise(self, *args: Any, **kwargs: Any) -> "GradientFunction":
        """The program for calls with these arguments, built and run once on them, so that
        its results are checked (see ``_first_results``) before ``.source``, ``emit`` or
        ``gradient_source`` show it. Returns ``self``."""
        self(*args, **kwargs)
        return self

    def _specialised_at(self, given: tuple) -> Transformed:
        """The program for a call whose arguments reach the generated code as ``given``
        (every parameter, in order: with an object read through attributes, those reads;
        see ``_flat_call``), its first results checked as a call checks them. For the
        tangent program of this gradient, which never sees the caller's own arguments."""
        t = self._program(given, {})
        entry = self._latest
        if entry is not None and entry.t is t and entry.ready and t.signature is not None:
            args, kwargs = prepare(given, {}, self._names, self._positions)
            try:
                grads = t.value_and_grad(*args)[1] if self._with_value else t.grad(*args)
            except Exception:  # the call runs the generic program, and blame explains
                return self.transformed
            if not self._first_results(entry, grads, args, kwargs):
                return self.transformed
        return t

    def _first_results(self, entry: Program, grads: Any, args: tuple, kwargs: dict) -> bool:
        """The first results of a specialised gradient, checked: each must have its
        argument's shape, which ``finish`` cannot give it without hiding an error. A program
        that fails this was specialised wrongly (symdiff's fault, never the user's): its
        signature runs the shape-generic program from now on. One that passes takes the
        short road on the next calls (when nothing else needs doing: no decorated value to
        compare, no check), without ``finish`` if its types were exact too."""
        bound = {**self._defaults, **arguments(self._names, args, kwargs)}
        exact = True
        for g, p in zip((grads,) if self._single else grads, self._positions):
            x: Any = bound.get(self._names[p])
            if np.shape(g) != np.shape(x) or (isinstance(x, np.ndarray) and np.ndim(g) != x.ndim):
                if entry.key is not None:
                    self._programs[entry.key] = Program(self.transformed, entry.ready)
                self._latest = None
                return False
            exact = (
                exact and type(g) is type(x) and getattr(g, "dtype", 0) == getattr(x, "dtype", 0)
            )
        entry.typed = entry.typed and exact
        return True

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
    backend: str | None = None,
    has_aux: bool = False,
    mode: str = "auto",
    checkpoint: Checkpoint | None = None,
) -> Any:
    """The gradient of a scalar function ``f`` with respect to the ``wrt`` arguments.

    Usable as ``@grad``, ``@grad(wrt=...)`` and ``grad(f, wrt=...)``. ``wrt`` is a position
    or name (one gradient, shaped like that argument) or a tuple of them (a tuple of
    gradients); an argument that is a structure (dict, list, tuple, named tuple, dataclass)
    gets a gradient of the same structure, and ``wrt`` may name a read of one as the
    function writes it (``"params['W1']"``: docs/pytrees.md). ``check=True`` compares the
    first call against finite differences (slow: for debugging). Refusals happen here, when
    the gradient is built, not when it is called. ``backend`` writes the code for another
    array library ("array-api", "jax", "torch", "dask", "cupy": docs/backends.md), which
    then takes and returns that library's arrays; without it, a call with another library's
    arrays uses that library's backend. ``backend="c"`` is ``symdiff.c_grad(f, wrt=wrt)``:
    compiled C (docs/c.md). ``has_aux=True``: ``f`` returns ``(loss, aux)``, and calls
    return ``(gradients, aux)``, ``aux`` not differentiated (as in JAX). ``mode`` is
    ``"auto"`` (reverse mode, except that a call with one scalar ``wrt`` argument of a
    function with a loop runs forward mode, which keeps no tape), ``"rev"`` or ``"fwd"``;
    ``.source`` says which ran.
    ``checkpoint`` reverses ``f``'s ``for ... in range(...)`` loop by binomial checkpointing
    in bounded memory: a number of snapshots, a budget (``"200MB"``) or ``"auto"``
    (docs/checkpointing.md).
    """
    if f is None:
        return lambda fn: grad(
            fn,
            wrt=wrt,
            simplify=simplify,
            check=check,
            backend=backend,
            has_aux=has_aux,
            mode=mode,
            checkpoint=checkpoint,
        )
    if has_aux:
        return with_aux(
            f,
            lambda loss: grad(
                loss, wrt=wrt, simplify=simplify, check=check, backend=backend, mode=mode
            ),
            False,
        )
    if checkpoint is not None:
        return _checkpointed(f, wrt, simplify, checkpoint, False, backend, check)
    if backend == "c":
        from .c import c_grad  # compiled through ctypes; loaded only when asked for

        return c_grad(f, wrt=wrt)
    return GradientFunction(f, wrt, simplify, check, False, backend, mode)


def value_and_grad(
    f: Callable[..., Any] | None = None,
    *,
    wrt: Wrt = 0,
    simplify: bool = False,
    backend: str | None = None,
    has_aux: bool = False,
    mode: str = "auto",
    checkpoint: Checkpoint | None = None,
) -> Any:
    """Like ``grad``, but calls return ``(value, gradients)`` from one forward pass
    (``((value, aux), gradients)`` with ``has_aux=True``, which runs ``f`` once more)."""
    if f is None:
        return lambda fn: value_and_grad(
            fn,
            wrt=wrt,
            simplify=simplify,
            backend=backend,
            has_aux=has_aux,
            mode=mode,
            checkpoint=checkpoint,
        )
    if checkpoint is not None:
        return _checkpointed(f, wrt, simplify, checkpoint, True, backend, False)
    if has_aux:
        return with_aux(
            f, lambda loss: GradientFunction(loss, wrt, simplify, False, True, backend, mode), True
        )
    return GradientFunction(f, wrt, simplify, False, True, backend, mode)


def _checkpointed(
    f: Callable[..., Any],
    wrt: Wrt,
    simplify: bool,
    checkpoint: Checkpoint,
    with_value: bool,
    backend: str | None,
    check: bool,
) -> CheckpointedGradient:
    """``grad(f, checkpoint=...)``: the pieces around the loop, each a GradientFunction."""
    if backend is not None:
        raise InputError(
            "checkpoint= runs NumPy gradients only",
            hint="drop backend=, or checkpoint= (the other libraries have their own: "
            "jax.checkpoint, torch.utils.checkpoint)",
        )

    def differentiate(fn: Callable[..., Any], fn_wrt: Wrt, value: bool) -> GradientFunction:
        return GradientFunction(fn, fn_wrt, simplify, False, value)

    return CheckpointedGradient(f, wrt, checkpoint, with_value, differentiate, check)


def gradient_source(f: Callable[..., Any], *args: Any, wrt: Wrt = 0, simplify: bool = False) -> str:
    """The generated gradient of ``f`` as black-formatted Python source.

    With ``args`` (``f``'s arguments, positionally, as for ``check_grad``), the program
    ``grad(f)`` would run for a call with them: specialised to their kinds, dtypes, ranks
    and unit axes, its docstring naming them. Without, the shape-generic program, correct
    for arguments of any type and shape.
    """
    if not args:
        return cached_transform(f, wrt, simplify).grad_source
    return str(grad(f, wrt=wrt, simplify=simplify).specialise(*args).source)
