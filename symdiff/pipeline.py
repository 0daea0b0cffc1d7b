"""symdiff from end to end: a user's function in, its compiled derivative out.

``transform`` runs the stages in order, once, bypassing every cache:

    source → fence + lower (or the IR of a derivative program) → check the IR
           → types (given the arguments' abstract values) → hoist loop invariants
           → reverse / forward mode
           → specialise to those types → stack adjoints → simplify (optional) → emit → compile

Without argument types the program is the shape-generic one, correct for any arguments.
``transform`` formats the generated source with black only when someone reads it (``Transformed``
does that lazily, once): black is most of a transformation's cost, and a gradient that is
only called never needs it. The API objects (``api.gradient``, ``api.higher``) add argument
handling and caching on top; nothing here knows about them.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable

from .abstract.infer import analyse
from .abstract.values import AbstractValue, of, signature
from .abstract.values import Kind as ValueKind
from .ad.modes import derivative_program
from .ad.program import GradProgram, Kind
from .ad.regrad import gradient_function
from .api.display import SourceText
from .api.wrt import Wrt, resolve_wrt
from .backend import targets
from .backend.bindings import bind
from .backend.compiler import compile_function
from .backend.emitter import Emitted, emit
from .backend.fmt import format_source
from .backend.targets import NUMPY, Backend
from .backend.targets.branches import traceable
from .errors import InternalError, NonScalarOutputError, SymdiffError, WrtError, describe
from .frontend.lower import lower
from .frontend.reads import Read, reads
from .frontend.source import Source, get_source, origin
from .ir import nodes as ir
from .ir import primitives as P
from .ir.check import check
from .ir.printer import pformat
from .optimize.algebra import after_derivative, before_derivative, finish
from .optimize.batch_rules import per_direction
from .optimize.batch_rules import rule_for as batch_rule
from .optimize.batching import BatchingError, batch
from .optimize.logs import LogRewrite, logs_of_softmax
from .optimize.loops import hoist_invariants
from .optimize.specialise import specialise
from .optimize.stacked import stack_adjoints


@dataclass(frozen=True)
class Transformed:
    """Everything one transformation produced: IR, derivative program, compiled functions.

    ``grad`` and ``value_and_grad`` are compiled from the emitter's text as it is. The
    black-formatted sources, the NumPy-float versions and the functions compiled from the
    formatted text (what a second derivative reads back) are made on first use, once.
    """

    source: Source
    function: ir.Function
    program: GradProgram
    helpers: tuple[Source, ...]
    emitted: Emitted
    grad: Callable[..., Any]
    value_and_grad: Callable[..., Any]
    wrt_positions: tuple[int, ...]
    single: bool
    # (function, dotted name, object) for every global or closure name read: see api.cache
    reads: tuple[Read, ...] = ()
    # the abstract signature the program is specialised to (None: the shape-generic one)
    signature: tuple[AbstractValue, ...] | None = None
    backend: Backend = NUMPY  # the array library the code is written for
    # simplify=True's rewrites of the function itself, before its derivative (optimize.logs)
    function_rewrites: tuple[LogRewrite, ...] = ()

    @property
    def specialised_for(self) -> tuple[str, ...]:
        """The signature as the docstrings state it, ``name: type`` per argument (empty for
        the shape-generic program)."""
        return signature_text(self.function, self.signature)

    @cached_property
    def grad_source(self) -> str:
        """The generated gradient (or derivative) function, black-formatted."""
        return self._formatted(self.emitted.grad_source)

    @cached_property
    def value_and_grad_source(self) -> str:
        """The generated value-and-gradient function, black-formatted."""
        return self._formatted(self.emitted.vg_source)

    @cached_property
    def grad_np(self) -> Callable[..., Any]:
        """``grad`` computing with NumPy floats: inf and nan where Python floats raise."""
        return self._compile(self.emitted.grad_name, self.emitted.grad_source, numpy_floats=True)

    @cached_property
    def value_and_grad_np(self) -> Callable[..., Any]:
        """``value_and_grad`` computing with NumPy floats."""
        return self._compile(self.emitted.vg_name, self.emitted.vg_source, numpy_floats=True)

    @cached_property
    def readable_grad(self) -> Callable[..., Any]:
        """``grad`` compiled from the formatted source: the function ``grad(grad(f))`` reads
        back, so that its comments and locations are those of the code users see."""
        return self._compile(self.emitted.grad_name, self.grad_source)

    @cached_property
    def readable_value_and_grad(self) -> Callable[..., Any]:
        """``value_and_grad`` compiled from the formatted source (see ``readable_grad``)."""
        return self._compile(self.emitted.vg_name, self.value_and_grad_source)

    def _formatted(self, text: str) -> str:
        try:
            return SourceText(format_source(text))  # shown highlighted in notebooks
        except Exception as exc:
            err = _internal(exc, "formatting", self.source, self.function, text)
            if err is exc:
                raise
            raise err from exc

    def _compile(self, name: str, text: str, numpy_floats: bool = False) -> Callable[..., Any]:
        fun = _load(name, text, bind(self.emitted.bindings, numpy_floats), self.source)
        # differentiated again, the result is stale when self is
        fun.__symdiff_from__ = self  # type: ignore[attr-defined]
        return fun


def transform(
    f: Callable[..., Any],
    wrt: Wrt = 0,
    simplify: bool = False,
    mode: Kind | str = Kind.GRAD,
    args: tuple[Any, ...] | None = None,
    stacked: bool = True,
    backend: str | Backend | None = None,
    algebra: bool = True,
    batched: bool = False,
) -> Transformed:
    """Run the whole pipeline once, bypassing the cache.

    ``mode`` is the kind of derivative program (``ad.program.Kind``). ``args`` are the
    arguments (or their abstract values) the program is specialised to: every positional
    parameter, in order; only their kinds, dtypes, ranks and unit axes decide the program,
    and exact lengths, when given, make the shape errors found in the user's code definite
    and their messages exact. ``stacked=False`` keeps a backward loop's outer products in
    the loop (``optimize.stacked`` forms them with one matrix product after it, with Python
    lists that a backend without lists, the C one, cannot write; NumPy's output only).
    ``backend`` is the array library the code is written for (``backend.targets``: "numpy",
    the default, "array-api", "jax", "torch", "dask", "cupy"); what it cannot express is
    refused here, as a ``BackendError``. ``algebra=False`` leaves out the exact algebra
    stage (``optimize.algebra``: repeats merged, shift-invariant values detached, masks
    decided), to compare against. ``batched=True`` (a tangent program specialised to
    ``args``) gives every tangent a leading axis of directions (``optimize.batching``). A
    ``SymdiffError``
    says the user's code is outside the subset. Any other exception out of a stage is a bug
    in symdiff and leaves as ``InternalError`` with the IR and the generated source attached,
    so that the two are never confused.
    """
    src = get_source(f)
    state: dict[str, Any] = {"stage": "lowering"}
    try:
        chosen = targets.get(backend)
        return _stages(
            f, src, wrt, simplify, Kind(mode), state, args, chosen, stacked, algebra, batched
        )
    except SymdiffError:
        raise
    except Exception as exc:
        err = _internal(exc, state["stage"], src, state.get("fn"), state.get("source", ""))
        if err is exc:
            raise
        raise err from exc


def _stages(
    f: Any,
    src: Source,
    wrt: Wrt,
    simplify: bool,
    kind: Kind,
    state: dict[str, Any],
    args: tuple[Any, ...] | None = None,
    backend: Backend = NUMPY,
    stacked: bool = True,
    exact_algebra: bool = True,
    batched: bool = False,
) -> Transformed:
    """The stages in order; ``state`` records how far they got, for ``InternalError``."""
    fn, helpers = lower_source(src, scalar_names(src, args))
    state.update(fn=fn, stage="checking the IR")
    check(fn)
    positions, single = resolve_wrt([p.name for p in fn.params], wrt, f)
    check_result(fn, src)
    sig = None
    if args is not None:
        state["stage"] = "type inference"
        exact = tuple(a if isinstance(a, AbstractValue) else of(a) for a in args)
        check_types(fn, exact, positions)
        sig = signature(exact)
    state["stage"] = "loop-invariant code motion"
    moved = hoist_invariants(fn)
    rewritten: tuple[LogRewrite, ...] = ()
    if simplify:
        state["stage"] = "simplification"
        moved, rewritten = logs_of_softmax(moved)
    state["stage"] = "the exact algebra"
    prepared = before_derivative(moved, sig, enabled=exact_algebra)
    state["stage"] = "the forward pass" if kind.forward_only else "the reverse pass"
    prog = derivative_program(prepared.function, tuple(moved.params[i] for i in positions), kind)
    prog = after_derivative(prog, prepared)
    prog = dataclasses.replace(prog, tuple_result=not single and not prog.kind.forward_only)
    if sig is not None:
        state["stage"] = "specialisation"
        prog = specialise(prog, sig, backend.rewrites)
        if stacked and backend is NUMPY:
            prog = stack_adjoints(prog, sig)
    if exact_algebra:
        state["stage"] = "the exact algebra"
        prog = finish(prog, sig)
    if simplify:
        state["stage"] = "simplification"
        from .optimize.simplify import simplify as simplify_program  # loads SymPy: on demand

        prog = simplify_program(prog)
    if batched:
        state["stage"] = "batching the directions"
        if sig is None or not kind.forward_only:
            raise BatchingError("only a specialised tangent program", fn.loc)
        prog = batch(prog, sig, batch_rule, per_direction)
    if backend.traced:
        state["stage"] = "branches for a tracing backend"
        prog = traceable(prog, backend)
    state["stage"] = "emission"
    emitted = emit(prog, origin(src), specialised=signature_text(fn, sig), backend=backend)
    state.update(stage="loading the generated code", source=emitted.grad_source)
    bindings = bind(emitted.bindings)
    g = _load(emitted.grad_name, emitted.grad_source, bindings, src)
    vg = _load(emitted.vg_name, emitted.vg_source, bindings, src)
    t = Transformed(
        src,
        fn,
        prog,
        tuple(helpers),
        emitted,
        g,
        vg,
        positions,
        single,
        reads(src, helpers),
        sig,
        backend,
        rewritten,
    )
    for fun in (g, vg):
        fun.__symdiff_from__ = t  # type: ignore[attr-defined]  # stale when t is
    return t


def lower_source(
    src: Source, scalars: frozenset[str] = frozenset()
) -> tuple[ir.Function, list[Source]]:
    """The IR of ``src`` and the helper sources inlined. The user's code is lowered; a
    function symdiff generated (a gradient differentiated again) is never read back as
    text: its IR is built from the derivative program it was emitted from (``ad.regrad``),
    so a derivative of any backend's output can be differentiated again."""
    inner = getattr(src.func, "__symdiff_from__", None)
    if inner is not None:
        with_value = src.func.__name__ == inner.emitted.vg_name
        return gradient_function(inner.program, src.name, with_value), []
    return lower(src, reserved=set(), scalars=scalars)


def scalar_names(src: Source, args: tuple[Any, ...] | None) -> frozenset[str]:
    """The parameters whose arguments are numbers (never updated in place), for the
    lowering's alias check: what ``x: float`` says, said by the call."""
    if args is None or getattr(src.func, "__symdiff_from__", None) is not None:
        return frozenset()
    spec = src.tree.args
    names = [a.arg for a in spec.posonlyargs + spec.args]
    kinds = [a.kind if isinstance(a, AbstractValue) else of(a).kind for a in args]
    return frozenset(n for n, k in zip(names, kinds) if k in _NUMBER_KINDS)


_NUMBER_KINDS = (ValueKind.FLOAT, ValueKind.INT, ValueKind.BOOL, ValueKind.NP_SCALAR)


def signature_text(fn: ir.Function, sig: tuple[AbstractValue, ...] | None) -> tuple[str, ...]:
    """``name: type`` for each argument of a specialised program, () for a generic one."""
    if sig is None:
        return ()
    return tuple(f"{p.name}: {v}" for p, v in zip(fn.params, sig))


def check_types(
    fn: ir.Function, args: tuple[AbstractValue, ...], positions: tuple[int, ...]
) -> None:
    """Refuse, before any derivative is built, what the argument types already decide: a
    shape or dtype error in the user's code (raised by the analysis at the user's line) and
    a ``wrt`` naming an integer or boolean argument, which has no derivative."""
    if len(args) != len(fn.params):
        raise WrtError(
            f"{fn.name} takes {len(fn.params)} positional arguments; "
            f"{len(args)} were given to specialise it",
            fn.loc,
            "pass every argument positionally",
        )
    for i in positions:
        if args[i].kind in (ValueKind.INT, ValueKind.BOOL):
            name = fn.params[i].name
            floats = [p.name for p, a in zip(fn.params, args) if _real(a)]
            example = "1.0 or 0.0, not True" if args[i].kind is ValueKind.BOOL else "2.0, not 2"
            hint = f"pass {name} as a float ({example}) if it is one"
            if floats:
                hint = f"differentiate with respect to {', '.join(floats)} (wrt=...), or {hint}"
            raise WrtError(
                f"argument {name!r} of {fn.name} is "
                f"{'an integer' if args[i].kind is ValueKind.INT else 'a boolean'} here; "
                "integers and booleans have no derivative",
                fn.loc,
                hint,
            )
    analyse(fn, args)  # a ShapeError is the user's, at their line


def _real(value: AbstractValue) -> bool:
    """A value ``wrt`` can name: a float, or a NumPy float scalar or array."""
    if value.kind is ValueKind.FLOAT:
        return True
    dtype = value.dtype
    return (
        value.kind in (ValueKind.NP_SCALAR, ValueKind.ARRAY)
        and dtype is not None
        and dtype.kind == "f"
    )


def check_result(fn: ir.Function, src: Source) -> None:
    """Refuse, when the gradient is built, a result that can never be a real scalar."""
    result = fn.result
    if isinstance(result, ir.Const):
        value = result.value
        if value is None or isinstance(value, (str, bytes, tuple, list, dict, complex)):
            raise NonScalarOutputError(
                f"{src.name} returns {describe(value)}, which has no gradient",
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


def ir_text(fn: ir.Function | None) -> str:
    """The IR as ``InternalError`` attaches it ("" before there is any)."""
    try:
        return pformat(fn) if fn is not None else ""
    except Exception:  # the IR is what broke: say so rather than hide the first error
        return "<the IR could not be printed>"


def _internal(
    exc: Exception, stage: str, src: Source, fn: ir.Function | None, source: str
) -> InternalError:
    """``exc``, out of ``stage``, as the ``InternalError`` it is, with the IR and source."""
    if isinstance(exc, InternalError):
        if exc.ir or fn is None:
            return exc
        return InternalError(exc.message, ir=ir_text(fn), source=exc.source or source)
    where = f"{src.name} ({src.file}:{src.tree.lineno})"
    return InternalError(
        f"{type(exc).__name__} during {stage} of {where}: {exc}", ir=ir_text(fn), source=source
    )


def _load(name: str, text: str, bindings: dict[str, Any], src: Source) -> Callable[..., Any]:
    """Compile one generated function; it takes the defaults of the function it came from."""
    fun = compile_function(text, name, _filename(name, text), bindings)
    fun.__defaults__ = src.func.__defaults__
    fun.__kwdefaults__ = src.func.__kwdefaults__
    return fun


def _filename(name: str, text: str) -> str:
    """A file name per distinct source: two functions called ``f`` never share a linecache
    entry (tracebacks would show the other one's lines); the same source, the same name."""
    return f"<symdiff {name} {hashlib.sha1(text.encode()).hexdigest()[:10]}>"
