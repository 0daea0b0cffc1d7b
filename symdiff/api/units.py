"""What ``emit`` writes for each object it is given (a unit): the user's function, the programs
derived from it, innermost first, and the ``wrt`` they were taken with; and the module header
that lists the units.
"""

from __future__ import annotations

import re
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


def make_unit(
    obj: Callable[..., Any], spec: Wrt, simplify: bool, args: tuple | None = None
) -> Unit:
    """What to write for ``obj``: a function's gradient, or the derivative object's programs;
    specialised to the abstract signature of ``args`` (the function's arguments) if given."""
    from . import higher
    from .gradient import GradientFunction, grad

    if isinstance(obj, (higher.HessianFunction, higher.HVPFunction)):
        root = obj.gradient.transformed
        name = root.source.name
        hessian = isinstance(obj, higher.HessianFunction)
        parts = lineage(obj.transformed)
        if args is not None:  # the gradient and its tangent program, both for these types
            obj.specialise(*args)
            parts = [obj.gradient.latest, *lineage(obj.latest)[1:]]
        return Unit(
            name, "Hessian" if hessian else "Hessian-vector product", lineage(root)[0],
            describe_wrt(root), parts, "hessian" if hessian else None,
        )  # fmt: skip
    if isinstance(obj, higher.JacobianFunction):
        if args is not None:
            obj.specialise(*args)
        chosen = [d.transformed if args is None else d.latest for d in obj.modes]
        parts = [p for t in chosen for p in lineage(t)]
        root = lineage(parts[0])[0]
        return Unit(root.source.name, "Jacobian", root, describe_wrt(parts[0]), parts, "jacobian")
    if isinstance(obj, (higher.JVPFunction, higher.VJPFunction)):
        t = obj.transformed if args is None else obj.specialise(*args).latest
        what = "Jacobian-vector product" if obj.mode == "jvp" else "vector-Jacobian product"
        return Unit(t.source.name, what, lineage(t)[0], describe_wrt(t), lineage(t))
    if args is not None:
        g = obj if isinstance(obj, GradientFunction) else grad(obj, wrt=spec, simplify=simplify)
        if simplify and not g.simplify:
            g = grad(g.function, wrt=g.wrt, simplify=True)
        g.specialise(*args)
        if g.structured:
            raise WrtError(
                f"emit writes functions of numbers and arrays, and these arguments of "
                f"{getattr(g.function, '__name__', 'f')} are structures (a dict, list, tuple "
                "or dataclass)",
                hint="call symdiff.grad(f) with them (its .source is the function of the "
                "leaves), or emit a function taking the leaves as arguments",
            )
        t = g.latest
    elif isinstance(obj, GradientFunction):
        t = obj.transformed_with(simplify)
    else:
        t = cached_transform(obj, spec, simplify)
    chain = lineage(t)
    what = " of the ".join(["gradient"] * len(chain))  # grad(grad(f)): the gradient of the gradient
    return Unit(chain[0].source.name, what, chain[0], describe_wrt(t), chain)


def wrap_items(head: str, items: tuple[str, ...], indent: int) -> str:
    """``head item, item, ...`` wrapped at 88 columns between items, never inside one
    (``ndarray[float64, (n, 3)]`` has spaces of its own)."""
    lines = [head]
    for i, item in enumerate(items):
        word = item + ("," if i < len(items) - 1 else "")
        if len(lines[-1]) + 1 + len(word) <= 88:
            lines[-1] += " " + word
        else:
            lines.append(" " * indent + word)
    return "\n".join(lines)


def is_derivative(f: Any) -> bool:
    """A ``grad``/``jvp``/``hessian``/... object: it carries its own ``wrt``."""
    return getattr(f, "__symdiff_grad__", False) is True


def function_name(f: Any) -> str:
    """The name ``emit``'s dicts know ``f`` by: a derivative object goes by its function's."""
    inner = getattr(f, "function", None) if is_derivative(f) else None
    return getattr(inner if inner is not None else f, "__name__", "")


def normalize_args(functions: tuple[Callable[..., Any], ...], args: Any) -> list[tuple | None]:
    """``emit``'s ``args`` per function: a tuple for all of them, a dict by function name
    (a derivative object goes by its function's name; one left out is shape-generic)."""
    if args is None:
        return [None] * len(functions)
    if isinstance(args, (tuple, list)):
        return [tuple(args)] * len(functions)
    if not isinstance(args, Mapping):
        raise WrtError(
            f"args is a tuple of arguments or a dict from function name to one, not {args!r}",
            hint="emit(f, args=(W, x)), or emit(f, g, args={'f': (W, x), 'g': (x,)})",
        )
    names = [function_name(f) for f in functions]
    unknown = sorted(set(args) - set(names))
    if unknown:
        raise WrtError(
            f"args names {', '.join(map(repr, unknown))}, which is not among the functions "
            "being emitted",
            hint=f"functions: {', '.join(names)}",
        )
    return [None if args.get(n) is None else tuple(args[n]) for n in names]


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
        signature = u.parts[-1].specialised_for
        if signature:
            lines.append(wrap_items(f"{' ' * 8}specialised for", signature, 8))
    signatures = " ".join(t for u in units for t in u.parts[-1].specialised_for)
    if signatures:
        legend = (
            " (n in a shape: any length other than 1)"
            if re.search(r"[(, ]n[,)]", signatures)
            else ""
        )
        lines.append(
            textwrap.fill(
                f"A specialised function is written for arguments of the types listed{legend}, "
                "and may fail or be wrong for others.",
                84,
                initial_indent="    ",
                subsequent_indent="    ",
            )
        )
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
