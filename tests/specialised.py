"""Specialised against generic: the same derivative, written for the arguments' types or not.

``optimize.specialise`` rewrites a derivative program for an abstract signature (kinds,
dtypes, ranks, unit axes). Its promise is that, for every call with that signature, the
rewritten program computes what the shape-generic one computes. ``compare`` checks that
promise on one function and one set of arguments, in every mode: the gradient and the
value-and-gradient, the tangent program (``jvp``), the pullback (``vjp``) and the
Hessian-vector product (``hvp``, forward mode over the generated gradient). The generic
program is the reference; it is itself checked against finite differences elsewhere (the
rule table, the fuzz campaign), so agreement here is agreement with the mathematics. Every program compared is also held
to one definition per variable (``assigned_twice``), which the rewrites' aliasing needs.

Used by the rule-table test (``tests/optimize/test_specialise_rules.py``), the fuzz test
and the long campaign (``benchmarks/fuzz.py``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from symdiff.ir.nodes import Assign, If, Loop, Pop

MODES = ("grad", "jvp", "vjp", "hvp")


@dataclass
class Comparison:
    """What ``compare`` found: disagreements (each a sentence), the modes compared, the modes
    the generic program itself refuses (then there is nothing to compare), whether any
    rewrite changed the gradient's program (``rewritten``), and the transformations."""

    problems: list[str] = field(default_factory=list)
    compared: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    rewritten: bool = False
    transformed: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # mode -> (g, s)

    @property
    def ok(self) -> bool:
        return not self.problems


def like(x: Any, rng: np.random.Generator) -> Any:
    """A random direction of the same kind, dtype and shape as ``x`` (a Python float for a
    Python float, a NumPy scalar for a NumPy scalar, a 0-d array for a 0-d array)."""
    if isinstance(x, np.ndarray):
        return rng.standard_normal(x.shape).astype(x.dtype if x.dtype.kind == "f" else float)
    if isinstance(x, np.generic):
        return type(x)(rng.standard_normal()) if x.dtype.kind == "f" else np.float64(0.5)
    return float(rng.standard_normal())


def as_api_passes(direction: Any, x: Any) -> Any:
    """A tangent (or ``hvp`` vector) as ``jvp``/``hvp`` pass it to the generated code: an
    array of ``x``'s dtype, or a NumPy float for a scalar or 0-d ``x``, which the program's
    types describe as ``x``'s own kind (a Python float, a 0-d array)."""
    dtype = x.dtype if isinstance(x, np.ndarray) else np.dtype(np.float64)
    arr = np.asarray(direction)
    return np.asarray(arr, dtype=dtype) if arr.ndim else dtype.type(arr)


def _tolerance(values: Sequence[Any]) -> float:
    single = any(np.asarray(v).dtype == np.float32 for v in values)
    return 1e-4 if single else 1e-10


def same(a: Any, b: Any, rtol: float, want: Any = None) -> str:
    """Empty when ``b`` (specialised) equals ``a`` (generic) in shape, dtype and value (NaNs
    in the same places), else why not. ``want`` (a dtype, or a tuple of them shaped like the
    results; None: no preference) is the dtype a derivative should have, its argument's: a
    specialised result of that dtype where the generic one differs is the better of the
    two (the generic matrix-product helper turns a Python-float adjoint and float32
    operands into float64; the API casts both back)."""
    if isinstance(a, tuple) or isinstance(b, tuple):
        if not (isinstance(a, tuple) and isinstance(b, tuple)) or len(a) != len(b):
            return f"structure {type(a).__name__} vs {type(b).__name__}"
        wants = want if isinstance(want, tuple) else (want,) * len(a)
        for k, (x, y, w) in enumerate(zip(a, b, wants)):
            why = same(x, y, rtol, w)
            if why:
                return f"item {k}: {why}"
        return ""
    xa, xb = np.asarray(a), np.asarray(b)
    if xa.shape != xb.shape:
        return f"shape {xa.shape} (generic) vs {xb.shape} (specialised)"
    empty = xa.dtype.kind == xb.dtype.kind == "f" and xa.size == 0
    if xa.dtype != xb.dtype and not empty and not (want is not None and xb.dtype == want):
        return f"dtype {xa.dtype} (generic) vs {xb.dtype} (specialised)"
    finite = np.isfinite(xa)
    scale = max(1.0, float(np.max(np.abs(xa[finite]), initial=0.0)))
    with np.errstate(invalid="ignore"):
        if not np.allclose(xa, xb, rtol=rtol, atol=rtol * scale, equal_nan=True):
            return f"values {xa!r} (generic) vs {xb!r} (specialised)"
    return ""


def _quiet(fn: Callable[..., Any], *args: Any) -> Any:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return fn(*args)


def compare(
    f: Callable[..., Any],
    args: Sequence[Any],
    wrt: Any,
    modes: Sequence[str] = MODES,
    seed: int = 0,
) -> Comparison:
    """Specialised (``pipeline.transform(..., args=args)``) against generic, mode by mode.

    ``args`` are every positional argument as the generated code takes them (integers being
    differentiated already floats). A ``SymdiffError`` from the specialised transformation
    where the generic one succeeds is a disagreement: the types may refuse only what every
    call with them would fail on, and those calls fail in the generic program too (the
    callers pass arguments on which ``f`` runs).
    """
    from symdiff import pipeline
    from symdiff.errors import SymdiffError

    args = tuple(args)
    out = Comparison()
    rng = np.random.default_rng(seed)
    rtol = _tolerance(args)
    positions = _positions(f, wrt)
    xs = [args[p] for p in positions]

    def build(mode: str, fn: Callable[..., Any], w: Any, specialised: bool) -> Any:
        return pipeline.transform(fn, w, mode=mode, args=args if specialised else None)

    def pair(mode: str, fn_g: Any, fn_s: Any, w: Any) -> tuple[Any, Any] | None:
        try:
            generic = build(mode, fn_g, w, False)
        except SymdiffError:
            out.refused.append(mode)
            return None
        try:
            special = build(mode, fn_s, w, True)
        except SymdiffError as exc:
            if mode == "grad" and _fails(generic.grad, args):  # refused at run time there
                out.refused.append(f"{mode} (refused by both)")
                return None
            out.problems.append(f"{mode}: refused only when specialised: {exc}")
            return None
        out.transformed.setdefault(mode, (generic, special))
        for which, t in (("generic", generic), ("specialised", special)):
            twice = assigned_twice(t.program.forward + t.program.backward)
            if twice:
                out.problems.append(f"{mode}: the {which} program assigns {twice} twice")
        return generic, special

    def check(
        mode: str, what: str, g: Any, s: Any, call: tuple, sources: Callable, want: Any = None
    ) -> None:
        """``sources()`` gives the two programs' text, formatted only for a report; ``want``
        the dtypes the derivatives should have (see ``same``)."""
        try:
            expected = _quiet(g, *call)
        except Exception as exc:  # the generic program fails too: nothing to compare
            out.refused.append(f"{mode} ({type(exc).__name__})")
            return
        try:
            got = _quiet(s, *call)
        except Exception as exc:
            out.problems.append(
                f"{what}: the specialised program raises {type(exc).__name__}: {exc}\n"
                f"{sources()[1]}"
            )
            return
        why = same(expected, got, rtol, want)
        if why:
            generic, special = sources()
            out.problems.append(
                f"{what}: {why}\n--- generic ---\n{generic}--- specialised ---\n{special}"
            )

    # the dtype each gradient should have: its argument's (a tuple of them for a tuple wrt)
    want = tuple(map(_dtype, xs)) if isinstance(wrt, tuple) else _dtype(xs[0])
    grads = None
    if "grad" in modes:
        grads = pair("grad", f, f, wrt)
        if grads is not None:
            tg, ts = grads
            out.rewritten = tg.program != ts.program
            check("grad", "gradient", tg.grad, ts.grad, args, _sources(tg, ts), want)
            vg = lambda: (tg.value_and_grad_source, ts.value_and_grad_source)
            g, s = tg.value_and_grad, ts.value_and_grad
            check("grad", "value_and_grad", g, s, args, vg, (None, want))
            out.compared.append("grad")
    if "jvp" in modes:
        found = pair("jvp", f, f, wrt)
        if found is not None:
            tg, ts = found
            tangents = [like(x, rng) for x in xs]
            for given in (tangents, [as_api_passes(t, x) for t, x in zip(tangents, xs)]):
                call = args + tuple(given)
                check("jvp", "jvp", tg.value_and_grad, ts.value_and_grad, call, _sources(tg, ts))
            out.compared.append("jvp")
    if "vjp" in modes:
        found = pair("vjp", f, f, wrt)
        if found is not None:
            tg, ts = found
            try:
                value = _quiet(f, *args)
            except Exception:
                value = None
            if value is not None:
                # as the API passes it: an array, or a NumPy float for a scalar value
                ct = np.asarray(like(np.asarray(value, dtype=float), rng))
                ct = ct if ct.ndim else np.float64(ct)
                g, s, call = tg.value_and_grad, ts.value_and_grad, args + (ct,)
                check("vjp", "vjp", g, s, call, _sources(tg, ts), (None, want))
                out.compared.append("vjp")
    if "hvp" in modes:
        w = positions[0]
        first = grads if grads is not None and len(positions) == 1 else pair("grad", f, f, w)
        found = None if first is None else pair("hvp", first[0].grad, first[1].grad, w)
        if found is not None:
            tg, ts = found
            vector = like(args[w], rng)
            for given in (vector, as_api_passes(vector, args[w])):
                call = args + (given,)
                check("hvp", "hvp", tg.grad, ts.grad, call, _sources(tg, ts), _dtype(args[w]))
            out.compared.append("hvp")
    return out


def assigned_twice(block: Any) -> list:
    """Variables with more than one definition, loop indices aside. The rewrites replace a
    variable by an atom everywhere it is read (``specialise._substituted``), which is only
    sound when each variable has one definition: a program that broke this would make an
    alias wrong without any test of values noticing."""
    seen: set = set()
    twice = []
    for stmt in _statements(block):
        targets = [stmt.target] if isinstance(stmt, Assign) else []
        targets += list(stmt.targets) if isinstance(stmt, Pop) else []
        targets += [p.target for p in stmt.phis] if isinstance(stmt, If) else []
        if isinstance(stmt, Loop):
            targets += [c.var for c in stmt.carries] + [c.out for c in stmt.carries]
        for v in targets:
            (twice.append if v in seen else seen.add)(v)
    return twice


def _statements(block: Any) -> Any:
    for stmt in block:
        yield stmt
        if isinstance(stmt, If):
            yield from _statements(stmt.then + stmt.orelse)
        elif isinstance(stmt, Loop):
            yield from _statements(stmt.cond_block + stmt.body)


def _fails(fn: Callable[..., Any], args: tuple) -> bool:
    try:
        _quiet(fn, *args)
    except Exception:
        return True
    return False


def _dtype(x: Any) -> Any:
    return x.dtype if isinstance(x, (np.ndarray, np.generic)) else None


def _sources(generic: Any, special: Any) -> Callable[[], tuple[str, str]]:
    return lambda: (generic.grad_source, special.grad_source)


def _positions(f: Callable[..., Any], wrt: Any) -> tuple[int, ...]:
    from symdiff.api.wrt import param_names, resolve_wrt

    positions, _ = resolve_wrt(param_names(f), wrt, f)
    return tuple(positions)
