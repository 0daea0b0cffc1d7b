"""What ``emit`` writes for each object it is given (a unit): the user's function, the programs
derived from it, innermost first, and the ``wrt`` they were taken with; and the module header
that lists the units.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from ..errors import WrtError
from ..pipeline import Transformed
from ..version import __version__
from .cache import cached_transform
from .wrt import Wrt


@dataclass
class Unit:
    """One object given to ``emit``: the user's function and the programs to write for it.

    ``parts`` run from the gradient of the user's function outwards: ``hessian(f)`` is the
    gradient of ``f`` and the tangent program of that gradient. ``driver`` names what the
    module assembles from them (a Jacobian or a Hessian), if anything.
    """

    name: str
    what: str
    root: Transformed
    wrt_names: tuple[str, ...]
    parts: list[Transformed]
    driver: str | None = None
    exported: tuple[str, ...] = ()  # the generated functions, once written


def lineage(t: Transformed) -> list[Transformed]:
    """The transformations ``t`` was built on, innermost (the user's function) first: a
    program built on a generated function points to the transformation that made it."""
    out = [t]
    while True:
        origin: Transformed | None = getattr(out[0].source.func, "__symdiff_from__", None)
        if origin is None:
            return out
        out.insert(0, origin)


def make_unit(obj: Callable[..., Any], spec: Wrt, simplify: bool) -> Unit:
    """What to write for ``obj``: a function's gradient, or the derivative object's programs."""
    from . import higher
    from .gradient import GradientFunction

    if isinstance(obj, (higher.HessianFunction, higher.HVPFunction)):
        root = obj.gradient.transformed
        name = root.source.name
        hessian = isinstance(obj, higher.HessianFunction)
        return Unit(
            name, "Hessian" if hessian else "Hessian-vector product", lineage(root)[0],
            describe_wrt(root), lineage(obj.transformed), "hessian" if hessian else None,
        )  # fmt: skip
    if isinstance(obj, higher.JacobianFunction):
        parts = [p for d in obj.modes for p in lineage(d.transformed)]
        root = lineage(parts[0])[0]
        return Unit(root.source.name, "Jacobian", root, describe_wrt(parts[0]), parts, "jacobian")
    if isinstance(obj, (higher.JVPFunction, higher.VJPFunction)):
        t = obj.transformed
        what = "Jacobian-vector product" if obj.mode == "jvp" else "vector-Jacobian product"
        return Unit(t.source.name, what, lineage(t)[0], describe_wrt(t), lineage(t))
    if isinstance(obj, GradientFunction):
        t = obj.transformed_with(simplify)
    else:
        t = cached_transform(obj, spec, simplify)
    chain = lineage(t)
    what = " of the ".join(["gradient"] * len(chain))  # grad(grad(f)): the gradient of the gradient
    return Unit(chain[0].source.name, what, chain[0], describe_wrt(t), chain)


def is_derivative(f: Any) -> bool:
    """A ``grad``/``jvp``/``hessian``/... object: it carries its own ``wrt``."""
    return getattr(f, "__symdiff_grad__", False) is True


def normalize_wrt(functions: tuple[Callable[..., Any], ...], wrt: Any) -> list[Wrt]:
    names = [getattr(f, "__name__", "") for f in functions]
    if not isinstance(wrt, Mapping):
        return [wrt] * len(functions)
    derived = sorted(set(wrt) & {n for n, f in zip(names, functions) if is_derivative(f)})
    if derived:
        raise WrtError(
            f"wrt names {', '.join(map(repr, derived))}, a derivative object that has its "
            "own wrt",
            hint="give wrt when building it, as in symdiff.hessian(f, wrt=...)",
        )
    unknown = sorted(set(wrt) - set(names))
    if unknown:
        raise WrtError(
            f"wrt names {', '.join(map(repr, unknown))}, which is not among the functions "
            "being emitted",
            hint=f"functions: {', '.join(names)}",
        )
    return [wrt.get(n, 0) for n in names]


def describe_wrt(t: Transformed) -> tuple[str, ...]:
    return tuple(t.function.params[i].name for i in t.wrt_positions)


def module_header(units: list[Unit], files: list[str], digest: str, simplify: bool) -> str:
    gradients = all(u.what == "gradient" and len(u.parts) == 1 for u in units)
    lines = []
    for u in units:
        wrt = ", ".join(u.wrt_names)
        if gradients:
            lines.append(f"    {u.name}: with respect to {wrt}")
        else:
            lines.append(f"    {u.name}: {u.what} with respect to {wrt}")
            lines.append(textwrap.fill(", ".join(u.exported), 84, initial_indent=" " * 8,
                                       subsequent_indent=" " * 8))  # fmt: skip
    usage = (
        "Needs only NumPy. For each function f: f_grad(...) returns the gradient and\n"
        "f_value_and_grad(...) returns (value, gradient)."
        if gradients
        else "Needs only NumPy. Each generated function's docstring says what it returns."
    )
    return (
        f'"""{"Gradients" if gradients else "Derivatives"} generated by symdiff {__version__} '
        f"(symdiff.emit). Do not edit: regenerate.\n"
        f"\n"
        f"Source: {', '.join(files)}\n"
        f"Functions:\n" + "\n".join(lines) + "\n"
        f"Options: simplify={simplify}\n"
        f"Source sha256: {digest}\n"
        f"\n"
        f"{usage}\n"
        f'"""'
    )
