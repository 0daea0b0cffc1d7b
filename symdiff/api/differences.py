"""Comparing a gradient with central finite differences, f'(x) ≈ (f(x+h) − f(x−h)) / 2h.

This is the checking machinery without a gradient of its own: ``api.check.check_grad`` (the
public function, which defaults to symdiff's gradient) and ``grad(f, check=True)`` both call
``compare`` with the gradient to judge, so neither needs the other.

Defaults are chosen for the input's precision. The step is h = ε^(1/3)·max(1, |x|) (ε the
machine epsilon), which balances the O(h²) truncation error against the O(ε/h) rounding
error: about 6e-6 relative in float64, 5e-3 in float32. The function is evaluated in float64
even for float32 inputs, so the reference is as good as it can be; the gradient is accepted
when |g − fd| ≤ atol + rtol·max(|g|, |fd|), with (rtol, atol) = (1e-5, 1e-6·scale) for
float64 and (2e-2, 2e-3·scale) for float32, scale = max(1, |f(x)|). Large arguments are
checked on a deterministic sample of coordinates plus one random direction.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import GradientCheckError, NonFiniteError
from ..frontend.structures import Path, show_path
from .blame import call_user, function_loc
from .display import table_html
from .progress import Progress
from .pytrees import is_node, leaves, replace_at, value_at
from .wrt import param_names, resolve_wrt

MAX_COORDS = 64  # coordinates checked one by one per argument; the rest by a random direction


@dataclass(frozen=True)
class ArgReport:
    name: str
    shape: tuple[int, ...]
    dtype: str
    max_abs_error: float
    max_rel_error: float
    checked: int  # coordinates compared one by one
    ok: bool


@dataclass(frozen=True)
class CheckReport:
    function: str
    args: tuple[ArgReport, ...]
    rtol: float
    atol: float

    @property
    def ok(self) -> bool:
        return all(a.ok for a in self.args)

    def table(self) -> str:
        rows = [("argument", "shape", "max abs error", "max rel error", "verdict")]
        for a in self.args:
            rows.append(
                (
                    a.name,
                    str(a.shape),
                    f"{a.max_abs_error:.2e}",
                    f"{a.max_rel_error:.2e}",
                    "ok" if a.ok else "FAIL",
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)

    def title(self) -> str:
        return f"gradient check of {self.function} (rtol={self.rtol:g}, atol={self.atol:g})"

    def __str__(self) -> str:
        return f"{self.title()}\n{self.table()}"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        """IPython's plain-text display: the table, not the dataclass fields."""
        p.text(str(self))

    def _repr_html_(self) -> str:
        """The table in a notebook, with each argument's dtype and how much of it was checked."""
        header = ("argument", "shape", "dtype", "checked", "max abs error", "max rel error",
                  "verdict")  # fmt: skip
        rows = []
        for a in self.args:
            size = int(np.prod(a.shape, dtype=np.int64))
            checked = f"{a.checked} of {size}" + (
                " + 1 direction" if a.checked and size > MAX_COORDS else ""
            )
            rows.append(
                (a.name, str(a.shape), a.dtype, checked, f"{a.max_abs_error:.2e}",
                 f"{a.max_rel_error:.2e}", "ok" if a.ok else "FAIL")
            )  # fmt: skip
        verdict = "passed" if self.ok else "FAILED"
        return table_html(f"{self.title()}: {verdict}", header, rows, [a.ok for a in self.args])


def tolerances(dtype: np.dtype) -> tuple[float, float, float]:
    """(relative step, rtol, atol per unit of |f|) for a precision."""
    if np.dtype(dtype) == np.float64:
        return float(np.finfo(np.float64).eps) ** (1 / 3), 1e-5, 1e-6
    return float(np.finfo(np.float32).eps) ** (1 / 3), 2e-2, 2e-3


def _float64(v: Any) -> Any:
    if isinstance(v, np.ndarray) and v.dtype.kind == "f":
        return v.astype(np.float64)
    if isinstance(v, np.floating):
        return np.float64(v)
    return v


def compare(
    f: Callable[..., Any],
    args: tuple,
    kwargs: dict[str, Any],
    *,
    grad_fn: Callable[..., Any],
    wrt: int | str | Sequence[int | str] = 0,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = 0,
    raise_on_failure: bool = True,
) -> CheckReport:
    """Compare ``grad_fn`` (called like ``f``, one gradient per ``wrt`` argument, a tuple
    when ``wrt`` is a tuple) with central finite differences of ``f`` at ``args``; raises
    ``GradientCheckError`` past the tolerance unless ``raise_on_failure=False``."""
    names = param_names(f)
    positions, single = resolve_wrt(names, wrt, f)
    bound = inspect.signature(inspect.unwrap(f)).bind(*args, **kwargs)
    bound.apply_defaults()
    base = dict(bound.arguments)
    fname = getattr(f, "__name__", "f")
    f0 = float(np.asarray(call_user(f, fname, **{k: _float64(v) for k, v in base.items()})))
    if not np.isfinite(f0):
        raise_non_finite(f, f0, base)
    grads = grad_fn(*args, **kwargs)
    try:
        grads = (grads,) if single else tuple(grads)
    except TypeError:
        grads = (grads,)  # one gradient where a tuple of them was due: counted just below
    if len(grads) != len(positions):
        raise GradientCheckError(
            f"{len(grads)} gradients for the {len(positions)} arguments "
            f"{', '.join(names[p] for p in positions)} of {fname}"
        )
    rng = np.random.default_rng(seed)
    reports = []
    # a structure (dict, list, tuple, dataclass) is checked leaf by leaf, each named as read
    checked: list[tuple[str, str, Path, Any, Any]] = []
    for pos, g in zip(positions, grads):
        x = base[names[pos]]
        if not is_node(x):
            checked.append((names[pos], names[pos], (), x, g))
            continue
        for path, leaf in leaves(x):
            try:
                g_leaf = value_at(g, path)
            except (KeyError, IndexError, AttributeError, TypeError):
                g_leaf = None  # no such leaf in the gradient: the wrong shape, said below
            checked.append((show_path(names[pos], path), names[pos], path, leaf, g_leaf))
    for name, arg, path, x, g in checked:
        dtype = np.asarray(x).dtype if np.asarray(x).dtype.kind == "f" else np.dtype(np.float64)
        step, rt, at = tolerances(dtype)
        rt = rtol if rtol is not None else rt
        at_abs = (atol if atol is not None else at) * max(1.0, abs(f0))
        xf = np.array(x, dtype=np.float64)
        try:
            g = np.asarray(g, dtype=np.float64)
        except (TypeError, ValueError):
            g = np.asarray(None)  # not an array of numbers: the wrong shape, reported below
        if g.shape != xf.shape:
            if raise_on_failure:
                raise GradientCheckError(
                    f"the gradient for {name} has shape {g.shape}, but {name} has shape "
                    f"{xf.shape}"
                )
            inf = float("inf")  # a gradient of the wrong shape disagrees everywhere
            reports.append(ArgReport(name, xf.shape, str(dtype), inf, inf, 0, False))
            continue

        def value(xnew: np.ndarray) -> float:
            v = (
                xnew
                if isinstance(x, np.ndarray)
                else type(x)(xnew) if isinstance(x, float) else xnew
            )
            call = {k: _float64(val) for k, val in base.items()}
            call[arg] = replace_at(base[arg], path, v) if path else v
            return float(np.asarray(call_user(f, fname, **call)))

        coords = np.arange(xf.size)
        if xf.size > MAX_COORDS:
            coords = np.sort(rng.choice(xf.size, MAX_COORDS, replace=False))
        errs_abs: list[float] = []
        errs_rel: list[float] = []
        ok = True
        with Progress(f"checking {name}", int(len(coords))) as progress:
            for i in coords:
                h = step * max(1.0, abs(xf.flat[i]))
                xp, xm = xf.copy(), xf.copy()
                xp.flat[i] += h
                xm.flat[i] -= h
                fd = (
                    value(xp.reshape(xf.shape) if xf.ndim else xp.reshape(()))
                    - value(xm.reshape(xf.shape) if xf.ndim else xm.reshape(()))
                ) / (2 * h)
                ok &= _record(g.flat[i], fd, rt, at_abs, errs_abs, errs_rel)
                progress.advance()
        if xf.size > MAX_COORDS:
            d = rng.standard_normal(xf.shape)
            d /= np.linalg.norm(d)
            h = step * max(1.0, float(np.max(np.abs(xf))))
            fd = (value(xf + h * d) - value(xf - h * d)) / (2 * h)
            ok &= _record(float(np.sum(g * d)), fd, rt, at_abs, errs_abs, errs_rel)
        reports.append(
            ArgReport(
                name, xf.shape, str(dtype), max(errs_abs, default=0.0), max(errs_rel, default=0.0),
                len(coords), bool(ok),
            )  # fmt: skip
        )
    report = CheckReport(fname, tuple(reports), rt, at)
    if raise_on_failure and not report.ok:
        raise GradientCheckError(f"gradient disagrees with finite differences\n{report}", report)
    return report


def raise_non_finite(f: Callable[..., Any], value: float, arguments: dict[str, Any]) -> None:
    """``f`` is NaN or infinite at the point to check: finite differences of it mean nothing
    there, so say that (naming the arguments that hold NaN or inf) instead of reporting every
    coordinate as a disagreeing gradient."""
    fname = getattr(f, "__name__", "f")
    what = "NaN" if np.isnan(value) else "infinite"
    culprits = []
    for name, v in arguments.items():
        try:
            arr = np.asarray(v, dtype=np.float64)
        except (TypeError, ValueError):
            continue
        bad = ~np.isfinite(arr)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            if arr.ndim:
                at = first if len(first) != 1 else first[0]
                culprits.append(f"{name} holds {arr[first]} at index {at} "
                                f"({int(bad.sum())} of {arr.size})")  # fmt: skip
            else:
                culprits.append(f"{name} holds {arr[()]}")
    message = (
        f"{fname} is {what} at this input ({fname}(...) = {value}), so its gradient cannot be "
        "checked there"
    )
    if culprits:
        message += ": argument " + "; argument ".join(culprits)
        hint = "check the inputs at a point where every argument is finite"
    else:
        hint = f"check at a point where {fname} is finite (inside its domain, short of overflow)"
    raise NonFiniteError(message, loc=function_loc(f), hint=hint)


def _record(g: float, fd: float, rtol: float, atol: float, errs_abs: list, errs_rel: list) -> bool:
    err = abs(g - fd)
    scale = max(abs(g), abs(fd))
    if not np.isfinite(g) or not np.isfinite(fd):
        same = (np.isnan(g) and np.isnan(fd)) or g == fd
        errs_abs.append(0.0 if same else float("inf"))
        errs_rel.append(0.0 if same else float("inf"))
        return bool(same)
    errs_abs.append(float(err))
    errs_rel.append(float(err / scale) if scale > 0 else 0.0)
    return bool(err <= atol + rtol * scale)
