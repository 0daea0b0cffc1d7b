"""Standalone modules: gradients written to a file that needs NumPy and nothing else.

``emit`` puts into one module the user's functions (their own source text), the helpers they
call, the generated ``<name>_grad`` and ``<name>_value_and_grad``, the runtime helpers those
use (copied from ``symdiff.runtime``) and the module-level values everything reads. All
generated functions share one ``Globals``, so no two names collide, and no generated name
shadows one the user's code reads. The output is a pure function of the inputs: no timestamp
and no machine path, so a committed file can be checked for drift by regenerating it.
"""

from __future__ import annotations

import builtins
import hashlib
import os
import types
from typing import Any, Callable, Mapping

import numpy as np

from ..backend.emitter import emit as emit_functions
from ..backend.emitter import local_names
from ..backend.fmt import format_source
from ..errors import WrtError
from ..frontend.source import Source
from . import custom
from .copied import CONSTANTS as RUNTIME_CONSTANTS
from .copied import HELPERS as RUNTIME
from .copied import WIDTH, helper_source
from .copied import needed as runtime_needed
from .display import SourceText
from .drivers import driver
from .literals import StandaloneError, assignment, check_roundtrip, literal, needs_numpy
from .module_globals import ModuleGlobals, same_value
from .module_imports import (
    describe_callable,
    import_block,
    import_spec,
    import_statements,
    numpy_name,
)
from .units import Unit, make_unit, module_header, normalize_args, normalize_wrt
from .user_code import def_text, file_of, global_names, line_of, repo_relative
from .wrt import Wrt

__all__ = ["KINDS", "StandaloneError", "derivative", "emit", "literal", "repo_relative"]


KINDS = ("grad", "jvp", "vjp", "jacobian", "hessian", "hvp")


def derivative(f: Callable[..., Any], kind: str, wrt: Wrt = 0) -> Any:
    """``f`` as ``emit`` takes it for one kind of derivative: ``"grad"`` is ``f`` itself (its
    gradient is what ``emit`` writes for a function), the others the objects of
    ``symdiff.jvp``, ``vjp``, ``jacobian``, ``hessian`` and ``hvp``."""
    from . import higher

    if kind == "grad":
        return f
    makers = {"jvp": higher.jvp, "vjp": higher.vjp, "jacobian": higher.jacobian,
              "hessian": higher.hessian, "hvp": higher.hvp}  # fmt: skip
    if kind not in makers:
        raise WrtError(f"no derivative called {kind!r}", hint=f"one of {', '.join(KINDS)}")
    return makers[kind](f, wrt=wrt)


def emit(
    *functions: Callable[..., Any],
    wrt: Wrt | Mapping[str, Wrt] = 0,
    simplify: bool = False,
    path: str | os.PathLike[str] | None = None,
    args: tuple | Mapping[str, tuple] | None = None,
) -> str:
    """The source of a module that computes the derivatives of ``functions`` with NumPy alone.

    For a plain function the module has ``<name>_grad`` and ``<name>_value_and_grad``; ``wrt``
    is one spec for every plain function (a position, a name or a tuple of them, as for
    ``grad``) or a dict from function name to spec (functions it omits use argument 0).
    Derivative objects carry their own ``wrt`` and bring their own programs:
    ``grad(f)`` the gradient, ``jvp(f)`` ``<name>_tangent``/``<name>_jvp``, ``vjp(f)``
    ``<name>_vjp``/``<name>_value_and_vjp``, ``jacobian(f)`` those and ``<name>_jacobian``,
    ``hvp(f)`` the gradient and ``<name>_hvp``/``<name>_grad_and_hvp``, ``hessian(f)`` those
    and ``<name>_hessian``. The module also holds the functions themselves, the helpers they
    call, the runtime helpers used and the module-level values read. ``path`` also writes it
    there. ``args`` specialises the module to the abstract signature of example arguments
    (kind, dtype, rank and unit axes, not sizes), as ``grad`` does at a call: a tuple of
    one function's arguments (or of every function's, when they take the same), or a dict
    from function name to them (a derivative object goes by its function's name; a
    function left out stays shape-generic). The header says for which types each is
    written. Raises ``StandaloneError`` for values that cannot be written as source (huge
    arrays, objects, modules other than NumPy and math).
    """
    if not functions:
        raise WrtError("emit needs at least one function")
    specs = normalize_wrt(functions, wrt)
    examples = normalize_args(functions, args)
    units = [make_unit(f, s, simplify, a) for f, s, a in zip(functions, specs, examples)]
    text = _assemble(units, simplify)
    if path is not None:
        folder = os.path.dirname(os.fspath(path))
        if folder:
            os.makedirs(folder, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    return SourceText(text)  # shown highlighted in notebooks


def _assemble(units: list[Unit], simplify: bool) -> str:
    # 1. the user's code: each function once, in order; one meaning per module-level name
    sources: list[Source] = []
    for u in units:
        declared = [s for p in u.parts for s in custom.sources(p.program)]
        for src in (u.root.source, *u.root.helpers, *declared):  # functions with custom rules
            if all(s.func is not src.func for s in sources):
                sources.append(src)
    defined: dict[str, Source] = {}
    for src in sources:
        other = defined.get(src.name)
        if other is not None:
            raise StandaloneError(
                f"two different functions are called {src.name} ({file_of(other)} and "
                f"{file_of(src)}); one module cannot hold both",
                hint="rename one of them, or emit them into separate modules",
            )
        defined[src.name] = src
    texts = {s.name: def_text(s) for s in sources}
    user: dict[str, Any] = {}
    user_from: dict[str, str] = {}
    for src in sources:
        for name in global_names(texts[src.name]):
            if name in defined:
                continue
            found, obj = src.lookup(name)
            if not found:
                raise StandaloneError(
                    f"{src.name} reads `{name}`, which is not defined",
                    hint="define it at module level before emitting",
                )
            if name not in src.closure and name not in src.globals:
                if obj is getattr(builtins, name):
                    continue
            if name in user and not same_value(user[name], obj):
                raise StandaloneError(
                    f"`{name}` means one thing to {user_from[name]} and another to {src.name}; "
                    "one module cannot hold both",
                    hint="give the two values different names",
                )
            user[name] = obj
            user_from[name] = src.name
    for src in sources:  # gradients call declared functions by the name they are defined under
        if custom.is_declared(src.func):
            user.setdefault(src.name, src.func)

    # 2. the generated functions, sharing one Globals; a program two units share, once
    locals_: set[str] = set()
    for u in units:
        for p in u.parts:
            locals_ |= local_names(p.program)
    g = ModuleGlobals(set(defined), user, locals_)
    generated: list[str] = []
    exported: list[str] = []
    written: dict[tuple[str, str], tuple[str, str]] = {}
    for u in units:
        src = u.root.source
        origin = f"{file_of(src)}:{src.tree.lineno} ({src.name})"
        mine = [u.name] if u.name not in exported else []
        made: list[tuple[str, str]] = []
        for p in u.parts:
            key = (p.program.kind, p.grad_source)
            if key not in written:
                g.begin(local_names(p.program))
                e = emit_functions(p.program, origin, g, p.specialised_for)
                g.end(e.grad_name, e.vg_name)
                generated += [e.grad_source, e.vg_source]
                written[key] = (e.grad_name, e.vg_name)
            made.append(written[key])
            mine += [n for n in written[key] if n not in exported + mine]
        if u.driver is not None:
            name, text = driver(u, made, g, origin)
            generated.append(text)
            mine.append(name)
        exported += mine
        u.exported = tuple(dict.fromkeys(n for pair in made for n in pair))
        if u.driver is not None:
            u.exported += (name,)

    # 3. what module-level names denote: imports, constants, runtime helpers
    needed, runtime_consts = runtime_needed(list(g.helpers))
    rename = {h: g.name(h, RUNTIME[h]) for h in needed}
    rename.update((c, g.name(c, RUNTIME_CONSTANTS[c])) for c in runtime_consts)
    helper_objs = {id(RUNTIME[h]) for h in needed}
    names: dict[str, Any] = dict(user)
    names.update(g.bindings)
    imports, assigns, np_name = import_statements(names, g, user_from)
    if needed:
        np_name = np_name or numpy_name(g, imports)
        rename["np"] = np_name
    constants: list[str] = []
    for alias in sorted(names):
        obj = names[alias]
        if alias in assigns or id(obj) in helper_objs or alias in defined:
            continue
        if isinstance(obj, types.ModuleType) or import_spec(obj) is not None:
            continue
        if getattr(builtins, alias, None) is obj:
            continue
        what = f"`{alias}`"
        if alias in user_from:
            what += f" (read by {user_from[alias]})"
        if callable(obj) and not isinstance(obj, np.ndarray):
            raise StandaloneError(
                f"{what} is {describe_callable(obj)}, which a NumPy-only module cannot contain",
                hint="write it in Python in the same file, or use NumPy/math functions",
            )
        if needs_numpy(obj):
            np_name = np_name or numpy_name(g, imports)
        text = literal(obj, np_name or "np", what)
        check_roundtrip(text, obj, np_name or "np", what)
        constants.append(assignment(alias, text))
    constants = list(assigns.values()) + constants

    # 4. the text
    files = sorted({file_of(s) for s in sources})
    digest = hashlib.sha256("".join(texts[s.name] for s in sources).encode()).hexdigest()
    header = module_header(units, files, digest, simplify)
    parts = [header, import_block(imports), f"__all__ = {exported!r}"]
    parts += constants
    parts += [helper_source(h, rename, WIDTH) for h in needed]
    files_order = list(dict.fromkeys(file_of(s) for s in sources))
    in_file_order = sorted(sources, key=lambda s: (files_order.index(file_of(s)), line_of(s)))
    parts += [texts[s.name] for s in in_file_order]
    parts += generated
    return format_source("\n\n".join(p.rstrip("\n") for p in parts if p) + "\n")
