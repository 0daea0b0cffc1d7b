"""Standalone modules: gradients written to a file that needs NumPy and nothing else.

``emit`` puts into one module the user's functions (their own source text), the helpers they
call, the generated ``<name>_grad`` and ``<name>_value_and_grad``, the runtime helpers those
use (copied from ``symdiff.runtime``) and the module-level values everything reads. All
generated functions share one ``Globals``, so no two names collide, and no generated name
shadows one the user's code reads. The output is a pure function of the inputs: no timestamp
and no machine path, so a committed file can be checked for drift by regenerating it.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import inspect
import math
import os
import symtable
import textwrap
import types
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from .. import __version__, runtime
from ..backend.emitter import Globals, local_names
from ..backend.emitter import emit as emit_functions
from ..backend.fmt import format_source
from ..errors import SymdiffError, WrtError
from ..frontend.source import Source
from ..ir.nodes import Const
from ..naming import NameGen
from . import custom
from .grad import Transformed, Wrt, cached_transform

_WIDTH = 88  # black's line length in fmt.py
MAX_CONSTANT_ELEMENTS = 1000  # larger arrays belong in a data file, not in source code
_ROOT_MARKERS = (".git", "pyproject.toml", "setup.py", "setup.cfg")
_DTYPES = {"b", "i", "u", "f"}
_RUNTIME = {
    name: obj
    for name, obj in vars(runtime).items()
    if inspect.isfunction(obj) and obj.__module__ == runtime.__name__
}
_RUNTIME_CONSTANTS = {
    name: obj
    for name, obj in vars(runtime).items()
    if not name.startswith("__") and not inspect.isfunction(obj) and not inspect.ismodule(obj)
}


class StandaloneError(SymdiffError):
    """Something the functions read cannot be written into a module that only has NumPy."""


# ----------------------------------------------------------------------------- paths


def repo_relative(path: str) -> str:
    """``path`` relative to the project that holds it (the nearest folder with ``.git``,
    ``pyproject.toml``, ...), else its base name: never a path of the machine that ran it."""
    if path.startswith("<"):
        return "<string>" if path.startswith("<symdiff-source") else path
    full = os.path.abspath(path)
    folder = os.path.dirname(full)
    while True:
        if any(os.path.exists(os.path.join(folder, m)) for m in _ROOT_MARKERS):
            return os.path.relpath(full, folder).replace(os.sep, "/")
        parent = os.path.dirname(folder)
        if parent == folder:
            return os.path.basename(full)
        folder = parent


def _file_of(src: Source) -> str:
    return repo_relative(src.func.__code__.co_filename)


# ----------------------------------------------------------------------------- user code


def _def_text(src: Source) -> str:
    """The function's source without decorators (they may name things the module lacks)."""
    text = textwrap.dedent(src.text)
    tree = ast.parse(text)
    node = next(n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))
    lines = text.splitlines(True)
    return "".join(lines[node.lineno - 1 :]).rstrip() + "\n"


def _global_names(text: str) -> list[str]:
    """Names the function reads from outside itself, in order of appearance.

    The text is compiled alone, so names the original took from a closure count as globals
    too: in the module they become module-level values. Default values and annotations are
    read where the ``def`` runs, at module level.
    """
    seen: dict[str, None] = {}

    def walk(table: symtable.SymbolTable) -> None:
        for sym in table.get_symbols():
            if sym.is_referenced() and (sym.is_global() or table.get_type() == "module"):
                seen.setdefault(sym.get_name(), None)
        for child in table.get_children():
            walk(child)

    walk(symtable.symtable(text, "<symdiff>", "exec"))
    return list(seen)


@dataclass
class _Unit:
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


def _chain(t: Transformed) -> list[Transformed]:
    """The transformations ``t`` was built on, innermost (the user's function) first: a
    program built on a generated function points to the transformation that made it."""
    out = [t]
    while getattr(out[0].source.func, "__symdiff_from__", None) is not None:
        out.insert(0, out[0].source.func.__symdiff_from__)
    return out


def _unit(obj: Callable[..., Any], spec: Wrt, simplify: bool) -> _Unit:
    """What to write for ``obj``: a function's gradient, or the derivative object's programs."""
    from . import higher
    from .grad import GradientFunction

    if isinstance(obj, (higher.HessianFunction, higher.HVPFunction)):
        root = obj.gradient.transformed
        name = root.source.name
        hessian = isinstance(obj, higher.HessianFunction)
        return _Unit(
            name, "Hessian" if hessian else "Hessian-vector product", _chain(root)[0],
            _describe_wrt(root), _chain(obj.transformed), "hessian" if hessian else None,
        )  # fmt: skip
    if isinstance(obj, higher.JacobianFunction):
        parts = [p for d in (obj._jvp, obj._vjp) if d is not None for p in _chain(d.transformed)]
        root = _chain(parts[0])[0]
        return _Unit(root.source.name, "Jacobian", root, _describe_wrt(parts[0]), parts, "jacobian")
    if isinstance(obj, (higher.JVPFunction, higher.VJPFunction)):
        t = obj.transformed
        what = "Jacobian-vector product" if obj.mode == "jvp" else "vector-Jacobian product"
        return _Unit(t.source.name, what, _chain(t)[0], _describe_wrt(t), _chain(t))
    if isinstance(obj, GradientFunction):
        t = cached_transform(obj._f, obj._wrt, obj.simplify or simplify)
    else:
        t = cached_transform(obj, spec, simplify)
    chain = _chain(t)
    what = " of the ".join(["gradient"] * len(chain))  # grad(grad(f)): the gradient of the gradient
    return _Unit(chain[0].source.name, what, chain[0], _describe_wrt(t), chain)


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
        )
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:
        return False


class _ModuleGlobals(Globals):
    """One ``Globals`` for a whole module, with local names counted per function.

    Module-level names are shared: each object gets one name, free of every local name of
    every function, and a name the user's code already binds to the same object is reused.
    Local names (``t1``, ``d_x``) restart for each function: ``begin`` gives it a fresh
    generator that avoids the module-level names.
    """

    def __init__(self, module: set[str], user: Mapping[str, Any], locals_: set[str]):
        super().__init__(set())
        self.user = user
        self.locals = set(locals_)  # the user's local names, in every function
        self.module = set(module) | set(user)
        self.used_locals: set[str] = set()  # locals the generated functions chose
        self.mine: dict[tuple[str, int], str] = {}

    def begin(self, local: set[str]) -> None:
        self.used_locals |= self.gen.taken
        self.gen = NameGen(self.module | local)

    def end(self, *names: str) -> None:
        self.used_locals |= self.gen.taken
        self.module.update(names)

    def name(self, wanted: str, obj: Any) -> str:
        if wanted in self.user and wanted not in self.locals and _same(self.user[wanted], obj):
            self.bindings[wanted] = self.user[wanted]
            return wanted
        key = (wanted, id(obj))
        if key not in self.mine:
            taken = self.module | self.locals | self.used_locals | self.gen.taken
            taken |= getattr(self, "locals_seen", set())
            alias = NameGen(taken).fresh(wanted)
            self.module.add(alias)
            self.gen.take(alias)
            self.mine[key] = alias
            self.bindings[alias] = obj
        return self.mine[key]


# ----------------------------------------------------------------------------- values


def _number(x: Any, np_name: str) -> str:
    if isinstance(x, (bool, np.bool_)):
        return repr(bool(x))
    if isinstance(x, (int, np.integer)):
        return repr(int(x))
    x = float(x)
    if math.isnan(x):
        return f"{np_name}.nan"
    if math.isinf(x):
        return f"{np_name}.inf" if x > 0 else f"-{np_name}.inf"
    return repr(x)


def _array(a: np.ndarray, np_name: str) -> str:
    """``np.array([...], dtype=...)``, laid out by rows when it does not fit on one line."""
    dtype = f"dtype={np_name}.{_dtype_name(a.dtype)}"
    if a.size == 0:
        return f"{np_name}.zeros({a.shape!r}, {dtype})"
    if a.ndim == 0:
        return f"{np_name}.array({_element(a[()], np_name)}, {dtype})"
    flat = [_element(v, np_name) for v in a.ravel()]
    one_line = f"{np_name}.array({_nested(flat, a.shape)}, {dtype})"
    if len(one_line) <= _WIDTH - 16:
        return one_line
    return f"{np_name}.array(\n    {_rows(flat, a.shape, 4)},\n    {dtype},\n)"


def _dtype_name(dtype: np.dtype) -> str:
    return "bool_" if dtype.kind == "b" else dtype.name  # np.bool_ exists in NumPy 1 and 2


def _nested(flat: list[str], shape: tuple[int, ...]) -> str:
    if len(shape) == 1:
        return "[" + ", ".join(flat) + "]"
    step = len(flat) // shape[0]
    return (
        "["
        + ", ".join(_nested(flat[i : i + step], shape[1:]) for i in range(0, len(flat), step))
        + "]"
    )


def _rows(flat: list[str], shape: tuple[int, ...], col: int) -> str:
    """Rows one per line, long rows wrapped, continuation lines aligned under the bracket."""
    if len(shape) == 1:
        lines: list[str] = []
        line = ""
        for item in flat:
            if line and col + 1 + len(line) + len(item) + 4 > _WIDTH:
                lines.append(line + ",")
                line = item
            else:
                line = f"{line}, {item}" if line else item
        return "[" + ("\n" + " " * (col + 1)).join(lines + [line]) + "]"
    step = len(flat) // shape[0]
    inner = [_rows(flat[i : i + step], shape[1:], col + 1) for i in range(0, len(flat), step)]
    return "[" + (",\n" + " " * (col + 1)).join(inner) + "]"


def _element(v: Any, np_name: str) -> str:
    if isinstance(v, np.floating):
        return _float_text(v, np_name)
    return _number(v, np_name)


def _float_text(v: np.floating, np_name: str) -> str:
    """The shortest text that reads back as the same value in the array's own precision."""
    if not np.isfinite(v):
        return _number(v, np_name)
    text = np.format_float_positional(v, unique=True, trim="0")
    if "e" not in text and len(text) > 12:
        text = np.format_float_scientific(v, unique=True, trim="0")
    return text if any(c in text for c in ".en") else text + ".0"


def literal(value: Any, np_name: str, what: str) -> str:
    """Python source that rebuilds ``value`` exactly, or ``StandaloneError``."""
    if value is None or isinstance(value, (bool, int, float, str, complex)):
        if isinstance(value, complex) and not all(map(math.isfinite, (value.real, value.imag))):
            raise StandaloneError(f"{what} is a non-finite complex number")
        if isinstance(value, float):
            return _number(value, np_name)
        return repr(value)
    if isinstance(value, np.generic) and value.dtype.kind in _DTYPES and value.dtype.itemsize <= 8:
        inner = (
            _number(value.item(), np_name)
            if value.dtype.kind != "f"
            else _float_text(value, np_name)
        )
        return f"{np_name}.{_dtype_name(value.dtype)}({inner})"
    if isinstance(value, (tuple, list)):
        items = [literal(v, np_name, f"an item of {what}") for v in value]
        if isinstance(value, list):
            return "[" + ", ".join(items) + "]"
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(value, dict) and all(isinstance(k, (str, int)) for k in value):
        items = [f"{k!r}: {literal(v, np_name, f'an item of {what}')}" for k, v in value.items()]
        return "{" + ", ".join(items) + "}"
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in _DTYPES or value.dtype.itemsize > 8:
            raise StandaloneError(
                f"{what} is an array of dtype {value.dtype}, which emit cannot write as source",
                hint="use a bool, integer or float (up to 64-bit) array",
            )
        if value.size > MAX_CONSTANT_ELEMENTS:
            raise StandaloneError(
                f"{what} is an array of {value.size} elements; emit writes at most "
                f"{MAX_CONSTANT_ELEMENTS} into source code",
                hint="pass the array as an argument of the function instead of reading a "
                "module-level value",
            )
        return _array(value, np_name)
    raise StandaloneError(
        f"{what} is a {type(value).__name__}, which emit cannot write as source",
        hint="standalone modules hold numbers, strings, tuples, lists, dicts and small "
        "NumPy arrays; pass other values as arguments",
    )


def _check_roundtrip(text: str, value: Any, np_name: str, what: str) -> None:
    """Insurance: the literal must evaluate to the value it claims to be."""
    back = eval(text, {np_name: np, "__builtins__": {}})  # noqa: S307 - our own text
    if not _equal_deep(back, value):
        raise StandaloneError(f"{what} cannot be written as source exactly")


def _equal_deep(a: Any, b: Any) -> bool:
    if isinstance(a, (tuple, list)) and type(a) is type(b):
        return len(a) == len(b) and all(map(_equal_deep, a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal_deep(a[k], b[k]) for k in a)
    if isinstance(b, float) and isinstance(a, float) and math.isnan(b):
        return math.isnan(a)
    if isinstance(b, (np.ndarray, np.generic)):
        return (
            type(a) is type(b)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and bool(np.array_equal(a, b, equal_nan=b.dtype.kind == "f"))
        )
    return type(a) is type(b) and a == b


# ----------------------------------------------------------------------------- runtime helpers


def _runtime_needed(names: list[str]) -> tuple[list[str], list[str]]:
    """The runtime helpers used, those they call, and the runtime constants they read."""
    todo, need, consts = list(names), set(), set()
    while todo:
        name = todo.pop()
        if name in need:
            continue
        need.add(name)
        tree = ast.parse(textwrap.dedent(inspect.getsource(_RUNTIME[name])))
        read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        todo += sorted(read & set(_RUNTIME))
        consts |= read & set(_RUNTIME_CONSTANTS)
    return [n for n in _RUNTIME if n in need], sorted(consts)


class _Rename(ast.NodeTransformer):
    def __init__(self, mapping: dict[str, str]):
        self.mapping = mapping

    def visit_Name(self, node: ast.Name) -> ast.Name:
        node.id = self.mapping.get(node.id, node.id)
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        node.name = self.mapping.get(node.name, node.name)
        self.generic_visit(node)
        return node


def _runtime_source(name: str, mapping: dict[str, str]) -> str:
    text = textwrap.dedent(inspect.getsource(_RUNTIME[name]))
    if all(k == v for k, v in mapping.items()):
        return text
    return ast.unparse(_Rename(mapping).visit(ast.parse(text))) + "\n"


# ----------------------------------------------------------------------------- assembly


def _is_derivative(f: Any) -> bool:
    """A ``grad``/``jvp``/``hessian``/... object: it carries its own ``wrt``."""
    return getattr(f, "__symdiff_grad__", False) is True


def _normalize_wrt(functions: tuple[Callable[..., Any], ...], wrt: Any) -> list[Wrt]:
    names = [getattr(f, "__name__", "") for f in functions]
    if not isinstance(wrt, Mapping):
        return [wrt] * len(functions)
    derived = sorted(set(wrt) & {n for n, f in zip(names, functions) if _is_derivative(f)})
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


def _describe_wrt(t: Transformed) -> tuple[str, ...]:
    return tuple(t.function.params[i].name for i in t.wrt_positions)


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
    there. Raises ``StandaloneError`` for values that cannot be written as source (huge
    arrays, objects, modules other than NumPy and math).
    """
    if not functions:
        raise WrtError("emit needs at least one function")
    specs = _normalize_wrt(functions, wrt)
    units = [_unit(f, spec, simplify) for f, spec in zip(functions, specs)]
    text = _assemble(units, simplify)
    if path is not None:
        folder = os.path.dirname(os.fspath(path))
        if folder:
            os.makedirs(folder, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    return text


def _assemble(units: list[_Unit], simplify: bool) -> str:
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
                f"two different functions are called {src.name} ({_file_of(other)} and "
                f"{_file_of(src)}); one module cannot hold both",
                hint="rename one of them, or emit them into separate modules",
            )
        defined[src.name] = src
    texts = {s.name: _def_text(s) for s in sources}
    user: dict[str, Any] = {}
    user_from: dict[str, str] = {}
    for src in sources:
        for name in _global_names(texts[src.name]):
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
            if name in user and not _same(user[name], obj):
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
    g = _ModuleGlobals(set(defined), user, locals_)
    generated: list[str] = []
    exported: list[str] = []
    written: dict[tuple[str, str], tuple[str, str]] = {}
    for u in units:
        src = u.root.source
        origin = f"{_file_of(src)}:{src.tree.lineno} ({src.name})"
        mine = [u.name] if u.name not in exported else []
        made: list[tuple[str, str]] = []
        for p in u.parts:
            key = (p.program.kind, p.grad_source)
            if key not in written:
                g.begin(local_names(p.program))
                e = emit_functions(p.program, origin, g)
                g.end(e.grad_name, e.vg_name)
                generated += [e.grad_source, e.vg_source]
                written[key] = (e.grad_name, e.vg_name)
            made.append(written[key])
            mine += [n for n in written[key] if n not in exported + mine]
        if u.driver is not None:
            name, text = _driver(u, made, g, origin)
            generated.append(text)
            mine.append(name)
        exported += mine
        u.exported = tuple(dict.fromkeys(n for pair in made for n in pair))
        if u.driver is not None:
            u.exported += (name,)

    # 3. what module-level names denote: imports, constants, runtime helpers
    needed, runtime_consts = _runtime_needed(list(g.helpers))
    rename = {h: g.name(h, _RUNTIME[h]) for h in needed}
    rename.update((c, g.name(c, _RUNTIME_CONSTANTS[c])) for c in runtime_consts)
    helper_objs = {id(_RUNTIME[h]) for h in needed}
    names: dict[str, Any] = dict(user)
    names.update(g.bindings)
    imports, assigns, np_name = _imports(names, g, user_from)
    if needed:
        np_name = np_name or _numpy_name(g, imports)
        rename["np"] = np_name
    constants: list[str] = []
    for alias in sorted(names):
        obj = names[alias]
        if alias in assigns or id(obj) in helper_objs or alias in defined:
            continue
        if isinstance(obj, types.ModuleType) or _import_spec(obj) is not None:
            continue
        if getattr(builtins, alias, None) is obj:
            continue
        what = f"`{alias}`"
        if alias in user_from:
            what += f" (read by {user_from[alias]})"
        if callable(obj) and not isinstance(obj, np.ndarray):
            raise StandaloneError(
                f"{what} is {_describe(obj)}, which a NumPy-only module cannot contain",
                hint="write it in Python in the same file, or use NumPy/math functions",
            )
        if _needs_numpy(obj):
            np_name = np_name or _numpy_name(g, imports)
        text = literal(obj, np_name or "np", what)
        _check_roundtrip(text, obj, np_name or "np", what)
        constants.append(_assignment(alias, text))
    constants = list(assigns.values()) + constants

    # 4. the text
    files = sorted({_file_of(s) for s in sources})
    digest = hashlib.sha256("".join(texts[s.name] for s in sources).encode()).hexdigest()
    header = _header(units, files, digest, simplify)
    parts = [header, _import_block(imports), f"__all__ = {exported!r}"]
    parts += constants
    parts += [_runtime_source(h, rename) for h in needed]
    files_order = list(dict.fromkeys(_file_of(s) for s in sources))
    in_file_order = sorted(sources, key=lambda s: (files_order.index(_file_of(s)), _line(s)))
    parts += [texts[s.name] for s in in_file_order]
    parts += generated
    return format_source("\n\n".join(p.rstrip("\n") for p in parts if p) + "\n")


def _driver(
    u: _Unit, made: list[tuple[str, str]], g: _ModuleGlobals, origin: str
) -> tuple[str, str]:
    """``<f>_jacobian`` or ``<f>_hessian``: the matrix assembled from one derivative program
    call per unit direction, by the runtime helpers ``symdiff.jacobian``/``hessian`` use too."""
    fn = u.root.function
    signature = list(fn.signature or [p.name for p in fn.params])
    params = [n for n in signature if n not in ("/", "*")]
    if u.name in params:
        raise StandaloneError(
            f"{u.name} has a parameter called {u.name}, so its {u.what} cannot call it",
            hint="rename the parameter",
        )
    g.begin(set(params))
    name = g.gen.fresh(f"{u.name}_{u.driver}")
    value = g.gen.fresh("value")
    tangent = pullback = None
    for p, names in zip(u.parts, made):
        kind = p.program.kind
        if kind in ("jvp", "hvp"):
            tangent = (names[0], p.program.params[-len(u.wrt_names) :])
        elif kind == "vjp":
            pullback = (names[0], p.program.params[-1:])
    passed, keyword = [], False
    for n in signature:
        keyword = keyword or n == "*"
        if n not in ("/", "*"):
            passed.append(f"{n}={n}" if keyword else n)

    def call(what: tuple[str, tuple[Any, ...]]) -> str:
        fname, extra = what
        names = [v.name for v in extra]
        inner = ", ".join(passed + [f"{n}={n}" for n in names])
        return f"lambda {', '.join(names)}: {fname}({inner})"

    def np_(f: str) -> str:
        return ast.unparse(g.dotted(f"np.{f}"))

    inputs = "(" + ", ".join(u.wrt_names) + ("," if len(u.wrt_names) == 1 else "") + ")"
    pick = "[0]" if len(u.wrt_names) == 1 else ""

    def assemble(helper: str, program: tuple[str, tuple[Any, ...]], shape_of: str) -> str:
        """``return jacobian_columns(lambda d_x: f_tangent(x, d_x=d_x), (x,), shape)[0]``."""
        run = ast.unparse(g.dotted(helper))
        return f"return {run}({call(program)}, {inputs}, {np_('shape')}({shape_of})){pick}"

    wrt = ", ".join(u.wrt_names)
    x = u.wrt_names[0]
    if u.driver == "hessian":
        shape = f"Shaped {x}.shape + {x}.shape."
    elif len(u.wrt_names) == 1:
        shape = f"Shaped {u.name}(...).shape + {x}.shape."
    else:
        shape = f"A tuple of blocks, one per argument a, shaped {u.name}(...).shape + a.shape."
    if u.driver == "hessian":
        how = (
            f"Column by column: one call of {tangent[0]} (forward mode over the gradient) per "
            f"element of {x}."
        )
        body = [assemble("jacobian_columns", tangent, x)]
    else:
        body = [f"{value} = {u.name}({', '.join(passed)})"]
        if tangent and pullback:
            sizes = " + ".join(f"{np_('size')}({a})" for a in u.wrt_names)
            how = (
                f"Forward mode ({tangent[0]}, one call per input element) when the inputs "
                f"have fewer elements than the result, else reverse mode ({pullback[0]}, one "
                "call per element of the result)."
            )
            body += [
                f"if {sizes} < {np_('size')}({value}):",
                "    " + assemble("jacobian_columns", tangent, value),
                assemble("jacobian_rows", pullback, value),
            ]
        elif tangent:
            how = f"Forward mode: one call of {tangent[0]} per input element."
            body.append(assemble("jacobian_columns", tangent, value))
        else:
            how = f"Reverse mode: one call of {pullback[0]} per element of the result."
            body.append(assemble("jacobian_rows", pullback, value))
    title = "Hessian" if u.driver == "hessian" else "Jacobian"
    para = textwrap.fill(f"{shape} Generated by symdiff {__version__} from {origin}. {how}", 84)
    doc = f'"""{title} of `{u.name}` with respect to {wrt}.\n\n{para}\n"""'
    defaults = dict(fn.defaults)
    header = ", ".join(
        f"{n}={ast.unparse(g.const(Const(defaults[n])))}" if n in defaults else n for n in signature
    )
    g.end(name)
    text = f"def {name}({header}):\n" + textwrap.indent("\n".join([doc, *body]), "    ")
    return name, text + "\n"


def _line(src: Source) -> int:
    return getattr(getattr(src.func, "__code__", None), "co_firstlineno", 0)


def _describe(obj: Any) -> str:
    mod = getattr(obj, "__module__", None) or "?"
    return f"the function {mod}.{getattr(obj, '__qualname__', obj)!s}"


def _needs_numpy(obj: Any) -> bool:
    if isinstance(obj, (np.ndarray, np.generic)):
        return True
    if isinstance(obj, float):
        return not math.isfinite(obj)
    if isinstance(obj, (tuple, list)):
        return any(map(_needs_numpy, obj))
    if isinstance(obj, dict):
        return any(map(_needs_numpy, obj.values()))
    return False


def _assignment(alias: str, text: str) -> str:
    if "\n" in text:  # an array laid out by rows: keep black from putting one number per line
        return f"# fmt: off\n{alias} = {text}\n# fmt: on"
    return f"{alias} = {text}"


def _import_spec(obj: Any) -> tuple[str, str] | None:
    """``(module, attribute)`` when ``obj`` is a public NumPy or math function."""
    name = getattr(obj, "__name__", None)
    if not isinstance(name, str) or isinstance(obj, types.ModuleType):
        return None
    for mod in (np, math):
        if getattr(mod, name, None) is obj:
            return mod.__name__, name
    return None


def _imports(
    names: dict[str, Any], g: Globals, user_from: dict[str, str]
) -> tuple[dict[str, str], dict[str, str], str | None]:
    """Import statements for modules and library functions; ``assigns`` for renamed builtins."""
    imports: dict[str, str] = {}
    assigns: dict[str, str] = {}
    np_name = None
    for alias in sorted(names):
        obj = names[alias]
        if isinstance(obj, types.ModuleType):
            mod = obj.__name__
            if mod != "math" and mod != "numpy" and not mod.startswith("numpy."):
                who = user_from.get(alias, "the generated code")
                raise StandaloneError(
                    f"`{alias}` (read by {who}) is the module {mod}; a standalone module "
                    "may import only NumPy and math",
                    hint="copy what you need into the same file, or emit without that module",
                )
            if obj is np and np_name is None:
                np_name = alias
            imports[alias] = f"import {mod}" + ("" if alias == mod else f" as {alias}")
            continue
        spec = _import_spec(obj)
        if spec is not None and getattr(builtins, alias, None) is not obj:
            mod, attr = spec
            imports[alias] = f"from {mod} import {attr}" + ("" if alias == attr else f" as {alias}")
            continue
        builtin = getattr(obj, "__name__", None)
        if (
            builtin is not None
            and getattr(builtins, builtin, None) is obj
            and getattr(builtins, alias, None) is not obj
        ):
            imports["builtins"] = "import builtins"
            assigns[alias] = f"{alias} = builtins.{builtin}"
    return imports, assigns, np_name


def _numpy_name(g: Globals, imports: dict[str, str]) -> str:
    alias = g.name("np", np)
    imports[alias] = "import numpy" + ("" if alias == "numpy" else f" as {alias}")
    return alias


def _import_block(imports: dict[str, str]) -> str:
    """Standard library first, then NumPy, as isort orders them."""

    def key(line: str) -> tuple[int, int, str]:
        mod = line.split()[1]
        third = mod == "numpy" or mod.startswith("numpy.")
        return (third, line.startswith("from "), mod.lower() + " " + line)

    lines = sorted(set(imports.values()), key=key)
    std = [ln for ln in lines if not key(ln)[0]]
    third = [ln for ln in lines if key(ln)[0]]
    return "\n\n".join("\n".join(block) for block in (std, third) if block)


def _header(units: list[_Unit], files: list[str], digest: str, simplify: bool) -> str:
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
