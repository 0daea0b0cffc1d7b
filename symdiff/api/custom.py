"""Rules users declare themselves: a function symdiff treats as one primitive, with its derivative.

Use it for a function symdiff should not look inside (a numerically careful implementation,
a loop it cannot differentiate) or cannot (a C function, a SciPy ufunc). The rule is written
like the rows of ``symdiff.rules``: it receives the expression builder ``F``, the adjoint
``g`` of the result, the result ``y`` and the inputs, and returns the adjoint of each input::

    def softplus(x):
        return np.logaddexp(0.0, x)

    symdiff.defrule(softplus, lambda F, g, y, x: g / (1.0 + F.exp(-x)))

``F.exp``, ``F.where``, ``F.sum(x, axis=0)``... write NumPy calls into the gradient, and
``F.<name>`` also reaches other declared functions by name. A rule for several inputs
returns a tuple with one adjoint per input (``None`` for an input with no derivative).
Inputs with a default value in the signature are static parameters: the rule receives them
as keywords. Declarations live until ``remove()`` (or the end of a ``with`` block), so tests
do not leak rules into each other.

In generated code the function is called by its own name, bound to the function itself. A
standalone module (``symdiff.emit``) imports NumPy and ``math`` functions, copies the source
of a plain Python function, and refuses a function from any other library.
"""

from __future__ import annotations

import builtins
import inspect
import keyword
import math
import threading
import types
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .. import runtime
from ..ad.builder import Sym
from ..errors import SymdiffError
from ..frontend.source import Source, get_source
from ..ir import primitives as P
from ..ir.nodes import Const, Form, Primitive, iter_assigns
from ..ir.ruleset import USER_RULES, Declaration
from ..naming import family
from . import cache

__all__ = ["CustomRule", "CustomRuleError", "defrule", "undefrule", "declared"]

_LOCK = threading.Lock()  # one declaration or removal at a time (replacing is two steps)
_RESERVED = frozenset({"np", "math"})


class CustomRuleError(SymdiffError, ValueError):
    """A custom rule that cannot be declared, or that failed when it was applied."""


@dataclass(frozen=True, eq=False)
class CustomRule(Declaration):
    """One declared rule: ``remove()`` it, or use it as a context manager. It lives in
    ``symdiff.ir.ruleset.USER_RULES`` until removed; ``rule`` is the function as given."""

    rule: Callable[..., Any] | None = None

    @property
    def name(self) -> str:
        """How generated code calls the function."""
        return self.primitive.spelling

    def remove(self) -> None:
        """Forget the rule: symdiff looks inside the function again (or refuses it)."""
        with _LOCK:
            removed = USER_RULES.remove(self)
        if removed:
            _forget_gradients()

    def __enter__(self) -> "CustomRule":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()

    def __repr__(self) -> str:
        return f"<custom rule for {self.name}>"


def defrule(
    function: Callable[..., Any],
    rule: Callable[..., Any] | None,
    *,
    nargs: int | None = None,
    elementwise: bool | None = None,
    name: str | None = None,
) -> CustomRule:
    """Declare the derivative of ``function``: symdiff will call it, not look inside it.

    ``rule(F, g, y, *inputs, **static)`` returns the adjoint of the input (one input) or a
    tuple of adjoints (several). ``rule=None`` declares a function without a derivative:
    rules may call it (``F.digamma(x)``), and a gradient that needs its derivative is
    refused. ``nargs`` is the number of array inputs, by default the parameters without a
    default value; the parameters after them are static. Say
    ``elementwise=True`` when the function broadcasts its inputs against each other like a
    ufunc (the default for NumPy ufuncs): the adjoints are then summed back to each input's
    shape. ``name`` is how generated code calls it (default: the function's own name).
    Declaring a rule again for the same function replaces the earlier one.
    """
    if not callable(function):
        raise CustomRuleError(f"defrule needs a function, not {function!r}")
    if rule is not None and not callable(rule):
        raise CustomRuleError(
            f"the rule for {_describe(function)} must be a function like "
            "`lambda F, g, y, x: g * ...`"
        )
    try:
        hash(function)
    except TypeError:
        raise CustomRuleError(
            f"{_describe(function)} cannot be declared: it is not hashable",
            hint="declare a plain function that calls it",
        ) from None
    existing = USER_RULES.declaration(function)
    if isinstance(existing, CustomRule):
        existing.remove()
    builtin = P.resolve(function)
    if builtin is not None:
        raise CustomRuleError(
            f"symdiff already has the primitive `{builtin.name}` for {_describe(function)}",
            hint="its rule is part of symdiff; wrap the call in a function of your own to "
            "give that function a different derivative",
        )
    spelling = _spelling(function, name)
    arrays, static = _signature(function, nargs)
    prim = Primitive(
        spelling,
        Form.CALL,
        spelling,
        function,
        nargs=arrays,
        defaults=static,
        elementwise=isinstance(function, np.ufunc) if elementwise is None else elementwise,
        returns_scalar=family(spelling) == "math",
    )
    declared = CustomRule(function, prim, None if rule is None else _checked(rule, prim), rule)
    with _LOCK:
        USER_RULES.declare(declared)
    _forget_gradients()
    return declared


def undefrule(function: Callable[..., Any]) -> None:
    """Remove the rule declared for ``function``, if any."""
    declared = USER_RULES.declaration(function)
    if isinstance(declared, CustomRule):
        declared.remove()


def declared() -> tuple[CustomRule, ...]:
    """The rules declared now, oldest first."""
    return tuple(d for d in USER_RULES.declarations() if isinstance(d, CustomRule))


def is_declared(function: Any) -> bool:
    declared = USER_RULES.declaration(function)
    return declared is not None and declared.function is function


# ----------------------------------------------------------------------------- internals


def _describe(function: Any) -> str:
    module = getattr(function, "__module__", None)
    qual = getattr(function, "__qualname__", None) or getattr(function, "__name__", repr(function))
    return f"`{module}.{qual}`" if module else f"`{qual}`"


def _spelling(function: Any, name: str | None) -> str:
    """``np.i0`` and ``math.gamma`` keep their module's name; anything else is a plain name."""
    fname = getattr(function, "__name__", None)
    if name is None and isinstance(fname, str):
        for prefix, module in (("np", np), ("np.fft", np.fft), ("np.linalg", np.linalg)):
            if getattr(module, fname, None) is function:
                return f"{prefix}.{fname}"
        if getattr(math, fname, None) is function:
            return f"math.{fname}"
    spelling = name or fname
    if not isinstance(spelling, str) or not spelling.isidentifier() or keyword.iskeyword(spelling):
        raise CustomRuleError(
            f"{_describe(function)} has no usable name", hint="pass name='my_function'"
        )
    taken = P.named(spelling) is not None or spelling in _RESERVED
    if taken or spelling in runtime.__all__ or hasattr(builtins, spelling):
        raise CustomRuleError(
            f"the name `{spelling}` is taken by symdiff or Python",
            hint=f"pass another name, e.g. name='{spelling}_fn'",
        )
    return spelling


def _signature(function: Any, nargs: int | None) -> tuple[int, tuple[tuple[str, Any], ...]]:
    """How many array inputs the function takes, and its static parameters with defaults."""
    try:
        params = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):  # a C function without a signature
        if nargs is None:
            nargs = getattr(function, "nin", 1)
        return nargs, ()
    if any(p.kind is p.VAR_POSITIONAL for p in params) and nargs is None:
        return -1, ()
    named = [p for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if nargs is None:
        nargs = 0
        for p in named:
            if p.default is not p.empty or p.kind is p.KEYWORD_ONLY:
                break
            nargs += 1
    static = tuple(
        (p.name, P.REQUIRED if p.default is p.empty else p.default) for p in named[nargs:]
    )
    return nargs, static


def _checked(rule: Callable[..., Any], prim: Primitive) -> Callable[..., tuple]:
    """The user's rule, held to the table's contract: one adjoint (or None) per input.

    It receives every static parameter, defaults included (symdiff's own rules declare
    their defaults; a user's rule should not have to repeat the function's).
    """
    name = prim.spelling

    def apply(F, g, y, *inputs, **given):
        static = {**dict(prim.defaults), **given}
        try:
            out = rule(F, g, y, *inputs, **static)
        except SymdiffError:
            raise
        except Exception as exc:
            raise CustomRuleError(
                f"the rule declared for `{name}` failed: {type(exc).__name__}: {exc}",
                F.loc,
                "F.<name>(...) writes np.<name>; Sym values support + - * / ** @ and comparisons",
            ) from exc
        parts = out if isinstance(out, tuple) else (out,)
        if len(parts) != len(inputs):
            raise CustomRuleError(
                f"the rule declared for `{name}` returned {len(parts)} adjoint(s) for "
                f"{len(inputs)} input(s)",
                F.loc,
                "return one adjoint per input, None for an input without a derivative",
            )
        return tuple(p if p is None or isinstance(p, Sym) else Sym(Const(p), F) for p in parts)

    return apply


def _forget_gradients() -> None:
    """Gradients built before a declaration changed may have looked inside the function."""
    cache.clear()


def sources(program: Any) -> list[Source]:
    """The source of every declared plain Python function a gradient program calls.

    A standalone module copies them next to the user's own functions; NumPy and ``math``
    functions are imported instead, and a function of any other library cannot be shipped.
    """
    out: list[Source] = []
    for stmt in iter_assigns(tuple(program.forward) + tuple(program.backward)):
        fn = stmt.prim.impl
        if isinstance(fn, types.FunctionType) and is_declared(fn) and fn.__name__ != "<lambda>":
            if all(src.func is not fn for src in out):
                out.append(get_source(fn))
    return out
