"""The functions a command line names (``FILE.py:FUNC`` or a whole ``FILE.py``), found by
running the user's file as a module, with what the file declares about each of them: example
inputs, a default ``wrt``, a hand-written gradient, and the derivatives its module should hold.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import re
import sys
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ...errors import SymdiffError
from ..blame import call_user, raising_loc, user_error
from ..gradient import grad
from ..wrt import Wrt

EXAMPLE_PREFIX = "example_"
HAND_SUFFIX = "_hand_grad"
WRT_NAME = "WRT"
EMIT_NAME = "EMIT"  # {function name: kinds of derivative}: what a whole file's module holds


class CommandError(SymdiffError):
    """A command line names something that does not exist or breaks a convention."""


@dataclass
class Target:
    """One function named on the command line, with what its module declares about it."""

    module: Any
    path: str
    func: Callable[..., Any]
    name: str
    wrt: Wrt

    @property
    def label(self) -> str:
        return f"{os.path.splitext(os.path.basename(self.path))[0]}.{self.name}"

    def example(self) -> tuple:
        maker = getattr(self.module, EXAMPLE_PREFIX + self.name, None)
        if maker is None:
            raise CommandError(
                f"{self.path} has no example inputs for {self.name}",
                hint=f"define {EXAMPLE_PREFIX}{self.name}() returning a tuple of arguments",
            )
        args = run_user(maker, f"{EXAMPLE_PREFIX}{self.name}()")
        if not isinstance(args, (tuple, list)):
            raise CommandError(
                f"{EXAMPLE_PREFIX}{self.name}() returned a {type(args).__name__}, "
                "not a tuple of arguments",
                hint="return a tuple, e.g. `return (W, x)`, or `return (x,)` for one argument",
            )
        return tuple(args)

    def example_or_none(self) -> tuple | None:
        """The example arguments when the file has ``example_<FUNC>()``, else None."""
        if getattr(self.module, EXAMPLE_PREFIX + self.name, None) is None:
            return None
        return self.example()

    def hand_grad(self) -> Callable[..., Any] | None:
        return getattr(self.module, self.name + HAND_SUFFIX, None)


def run_user(fn: Callable[..., Any], what: str, *args: Any) -> Any:
    """Run the user's code (an example, a hand-written gradient): what it raises is theirs."""
    return call_user(fn, what, *args)


_modules: dict[tuple[str, int], Any] = {}


def load_module(path: str) -> Any:
    """Execute a Python file as a module (its ``__main__`` block does not run)."""
    full = os.path.abspath(path)
    if not os.path.isfile(full):
        raise CommandError(f"no such file: {path}")
    key = (full, os.stat(full).st_mtime_ns)
    if key in _modules:
        return _modules[key]
    stem = re.sub(r"\W", "_", os.path.splitext(os.path.basename(full))[0])
    name = f"_symdiff_user_{stem}"
    spec = importlib.util.spec_from_file_location(name, full)
    if spec is None or spec.loader is None:
        raise CommandError(f"{path} is not a Python file", hint="name a .py file")
    module = importlib.util.module_from_spec(spec)
    saved_path = list(sys.path)
    sys.path.insert(0, os.path.dirname(full))  # so that it can import its neighbours
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(name, None)
        raise user_error(exc, f"importing {path}", raising_loc(exc, {full})) from exc
    finally:
        sys.path[:] = saved_path
    _modules[key] = module
    return module


def module_targets(module: Any) -> list[str]:
    """Functions of a module that have example inputs, in the order of the file: those whose
    gradient the commands take. A function the file's ``EMIT`` dict asks other derivatives
    of (a vector-valued ``softmax``'s Jacobian) has example inputs to specialise them to,
    and is no gradient target."""
    found = []
    for name in examples_of(module):
        obj = getattr(module, name)
        if inspect.isfunction(obj) and name not in not_gradients(module):
            found.append((obj.__code__.co_firstlineno, name))
    return [name for _, name in sorted(found)]


def examples_of(module: Any) -> list[str]:
    """The module's functions that have an ``example_<FUNC>()``."""
    return [
        name
        for name, obj in vars(module).items()
        if not name.startswith(EXAMPLE_PREFIX)
        and callable(obj)
        and getattr(obj, "__module__", None) == module.__name__
        and callable(getattr(module, EXAMPLE_PREFIX + name, None))
    ]


def not_gradients(module: Any) -> set[str]:
    """Functions the ``EMIT`` dict names without ``grad`` among their kinds."""
    wanted = getattr(module, EMIT_NAME, {})
    if not isinstance(wanted, dict):
        return set()
    return {n for n, k in wanted.items() if "grad" not in ([k] if isinstance(k, str) else k)}


def parse_wrt(text: str | None) -> Wrt | None:
    """``"W,b"`` → ``("W", "b")``; ``"x"`` → ``"x"``; digits are positions."""
    if text is None:
        return None
    items: list[int | str] = [int(p) if p.strip().lstrip("-").isdigit() else p.strip()
                              for p in text.split(",") if p.strip()]  # fmt: skip
    if not items:
        raise CommandError("--wrt is empty", hint="e.g. --wrt W,b")
    return items[0] if len(items) == 1 else tuple(items)


def resolve(spec: str, wrt: Wrt | None = None, need_one: bool = False) -> list[Target]:
    """``FILE.py:FUNC`` (one function) or ``FILE.py`` (every function with example inputs)."""
    path, _, name = spec.rpartition(":")
    if whole_file(spec):
        path, name = spec, ""
    module = load_module(path)
    if name:
        names = [name]
    else:
        names = module_targets(module)
        if not names:
            raise CommandError(
                f"{path} has no function with example inputs, so name one",
                hint=f"write {path}:FUNC, or define {EXAMPLE_PREFIX}FUNC() in the file",
            )
        if need_one and len(names) > 1:
            raise CommandError(
                f"{path} has several functions ({', '.join(names)}): name one",
                hint=f"write {path}:{names[0]}",
            )
    declared = getattr(module, WRT_NAME, {})
    if not isinstance(declared, dict):
        raise CommandError(f"{WRT_NAME} in {path} must be a dict from function name to wrt")
    targets = []
    for n in names:
        func = getattr(module, n, None)
        if func is None or not callable(func):
            defined = module_targets(module) or sorted(
                k for k, v in vars(module).items() if inspect.isfunction(v)
            )
            raise CommandError(
                f"{path} defines no function {n!r}",
                hint=f"functions: {', '.join(defined) or 'none'}",
            )
        w = wrt if wrt is not None else declared.get(n, 0)
        if isinstance(w, list):
            w = tuple(w)
        targets.append(Target(module, path, func, n, w))
    return targets


def whole_file(spec: str) -> bool:
    path, sep, name = spec.rpartition(":")
    return not sep or not name.isidentifier()


def resolve_all(specs: Sequence[str], wrt: Wrt | None) -> list[Target]:
    """The targets of several specs, each function once."""
    seen: dict[tuple[str, str], Target] = {}
    for spec in specs:
        for t in resolve(spec, wrt):
            seen.setdefault((os.path.abspath(t.path), t.name), t)
    return list(seen.values())


def file_derivatives(path: str) -> list[Any]:
    """What the module of a whole example file holds: the gradient of every function with
    example inputs, then what the file's ``EMIT`` dict asks for (``{"loss": ["hessian"]}``)."""
    from ..export import KINDS, derivative

    targets = resolve(path)
    module = targets[0].module
    wanted = getattr(module, EMIT_NAME, {})
    declared = getattr(module, WRT_NAME, {})
    if not isinstance(wanted, dict):
        raise CommandError(f"{EMIT_NAME} in {path} must be a dict from function name to kinds")
    objs: list[Any] = [t.func for t in targets]
    for name, kinds in wanted.items():
        func = getattr(module, name, None)
        kinds = [kinds] if isinstance(kinds, str) else list(kinds)
        bad = [k for k in kinds if k not in KINDS]
        if not callable(func) or bad:
            raise CommandError(
                f"{EMIT_NAME} in {path} asks for {name!r}: "
                + (f"no derivative called {bad[0]!r}" if bad else "no such function"),
                hint=f"kinds: {', '.join(KINDS)}",
            )
        w = declared.get(name, 0)
        w = tuple(w) if isinstance(w, list) else w
        already = name in {t.name for t in targets}
        for k in kinds:
            if k != "grad":
                objs.append(derivative(func, k, w))
            elif not already:  # a gradient object carries its wrt, as the others do
                objs.append(grad(func, wrt=w))
    return objs


def file_wrt(path: str) -> dict[str, Wrt]:
    return {t.name: t.wrt for t in resolve(path)}


def example_args(
    targets: Sequence[Target], generic: bool = False, whole: Sequence[str] = ()
) -> dict[str, tuple] | None:
    """``emit``'s ``args``: each function's example arguments by name, also those of the
    functions the ``EMIT`` dicts of the ``whole`` files name (None with ``--generic``, or
    when two files define functions of one name)."""
    names = [t.name for t in targets]
    if generic or len(set(names)) != len(names):
        return None
    found = {t.name: t.example_or_none() for t in targets}
    for path in whole:
        module = load_module(path)
        for name in not_gradients(module) & set(examples_of(module)):
            found.setdefault(name, Target(module, path, getattr(module, name), name, 0).example())
    return {name: args for name, args in found.items() if args is not None}


def example_files(folder: str) -> list[str]:
    if not os.path.isdir(folder):
        raise CommandError(
            f"no examples folder at {folder} (paths are relative to the current directory)",
            hint="run from the root of the symdiff repository, where examples/ is, "
            "or pass the folder",
        )
    names = sorted(
        n for n in os.listdir(folder) if n.endswith(".py") and not n.startswith(("_", "."))
    )
    files = []
    for n in names:
        path = os.path.join(folder, n)
        if module_targets(load_module(path)):
            files.append(path)
    return files
