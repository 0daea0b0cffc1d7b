"""Finding a function's source text, its syntax tree and the names it can see.

The tree's line numbers are those of the file, and every ``Loc`` carries the file's own line,
so errors and the comments of generated code point at what the user wrote.
"""

from __future__ import annotations

import ast
import builtins
import functools
import inspect
import itertools
import linecache
import os
import textwrap
import types
from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import Loc, SourceUnavailableError, UnsupportedFunctionError
from .lambdas import lambda_source

_HINT = (
    "define the function with `def` in a file, or build it from text with "
    "symdiff.from_source(...)"
)


@dataclass(frozen=True)
class Source:
    func: Callable[..., Any]
    name: str
    file: str  # as shown to the user: relative to the working directory when inside it
    tree: ast.FunctionDef | ast.AsyncFunctionDef  # async: refused by the fence, with its place
    lines: tuple[str, ...]  # the file's lines, for error carets and comments
    indent: int  # columns removed by dedenting (methods, nested functions)
    globals: dict[str, Any] = field(repr=False)
    closure: dict[str, Any] = field(repr=False)
    text: str = ""

    def loc(self, node: ast.AST) -> Loc:
        line = getattr(node, "lineno", self.tree.lineno)
        col = getattr(node, "col_offset", 0) + self.indent
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        return Loc(self.file, line, col, text, self.name)

    def lookup(self, name: str) -> tuple[bool, Any]:
        """What a free name means inside the function: closure, then module, then builtins."""
        for scope in (self.closure, self.globals):
            if name in scope:
                return True, scope[name]
        if hasattr(builtins, name):
            return True, getattr(builtins, name)
        return False, None


def display_path(path: str) -> str:
    """A path fit to print and to record in generated files: relative, with forward slashes."""
    if path.startswith("<"):
        return path
    try:
        rel = os.path.relpath(path)
    except ValueError:
        rel = path
    if rel.startswith(".."):
        rel = os.path.basename(path)
    return rel.replace(os.sep, "/")


def unwrap(f: Any) -> Callable[..., Any]:
    """The plain Python function behind methods, staticmethods and ``functools.wraps`` layers."""
    generated = generated_behind(f)
    if generated is not None:  # grad(grad(f)): the code symdiff wrote, never f itself
        return generated
    if isinstance(f, (staticmethod, classmethod)):
        f = f.__func__
    if isinstance(f, types.MethodType):
        f = f.__func__
    f = inspect.unwrap(f, stop=lambda g: hasattr(g, "__symdiff_source__"))
    return getattr(f, "__symdiff_original__", f)


def generated_behind(f: Any) -> Callable[..., Any] | None:
    """The generated function a symdiff-made callable (``grad(f)``, ``jvp(f)``, ...) runs,
    found through methods and ``functools.wraps`` layers; None for anything else.

    Its ``__wrapped__`` leads to ``f`` itself, so looking through it would silently give the
    first derivative again instead of the second: the generated code is what it computes.
    """
    seen = 0
    while f is not None and seen < 100:
        if getattr(type(f), "__symdiff_generated__", None) is not None:
            return f.__symdiff_generated__()
        f = getattr(f, "__func__", None) or getattr(f, "__wrapped__", None)
        seen += 1
    return None


def refuse_gradients(f: Any) -> None:
    """Refuse a symdiff gradient given back to symdiff (``grad(grad(f))``).

    Its ``__wrapped__`` leads to ``f`` itself, so looking through it would silently give the
    first derivative again instead of the second.
    """
    if generated_behind(f) is not None:
        return  # differentiated through its generated code (see unwrap)
    seen = 0
    while f is not None and seen < 100:
        if getattr(f, "__symdiff_grad__", False):
            raise UnsupportedFunctionError(
                f"{getattr(f, '__name__', f)!r} is a derivative made by symdiff from several "
                "passes of generated code (a Jacobian or Hessian), not one function that "
                "can be differentiated again",
                hint="differentiate grad(f) or jvp(f) instead: grad(grad(f)), "
                "jacobian(grad(f)), hessian(f)",
            )
        f = getattr(f, "__func__", None) or getattr(f, "__wrapped__", None)
        seen += 1


def get_source(f: Any) -> Source:
    refuse_gradients(f)
    f = unwrap(f)
    given = getattr(f, "__symdiff_source__", None)
    if isinstance(given, Source):  # built from a tree symdiff rewrote (frontend.attributes)
        return given
    if isinstance(f, functools.partial):
        raise SourceUnavailableError(
            "functools.partial objects have no source of their own",
            hint="differentiate the underlying function and pass the fixed arguments as non-wrt arguments",
        )
    if not isinstance(f, types.FunctionType):
        kind = type(f).__name__
        raise SourceUnavailableError(
            f"cannot differentiate {getattr(f, '__name__', f)!r}: it is a {kind}, not a Python function",
            hint="symdiff reads Python source; for a C function or builtin, declare its rule with symdiff.defrule",
        )
    if f.__name__ == "<lambda>":
        return _lambda(f)
    code = f.__code__
    try:
        lines, start = inspect.getsourcelines(f)
    except (OSError, TypeError) as exc:
        raise SourceUnavailableError(
            f"the source of {f.__qualname__} is not available ({exc})", hint=_HINT
        ) from None
    raw = "".join(lines)
    text = textwrap.dedent(raw)
    first = next((ln for ln in raw.splitlines() if ln.strip()), "")
    indent = len(first) - len(first.lstrip())
    try:
        module = ast.parse(text)
    except SyntaxError as exc:
        raise SourceUnavailableError(
            f"the source of {f.__qualname__} could not be parsed ({exc.msg})",
            hint=_HINT,
        ) from None
    ast.increment_lineno(module, start - 1)
    tree = next(
        (n for n in module.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))),
        None,
    )
    if tree is None or tree.name != f.__name__:
        raise SourceUnavailableError(
            f"the source found for {f.__qualname__} does not define it", hint=_HINT
        )
    filename = code.co_filename
    file_lines = tuple(ln.rstrip("\n") for ln in linecache.getlines(filename))
    if not file_lines:
        file_lines = ("",) * (start - 1) + tuple(raw.splitlines())
    return Source(
        func=f,
        name=f.__name__,
        file=display_path(filename),
        tree=tree,
        lines=file_lines,
        indent=indent,
        globals=f.__globals__,
        closure=_closure(f),
        text=text,
    )


def _closure(f: types.FunctionType) -> dict[str, Any]:
    """The values of the free variables ``f`` reads from enclosing functions."""
    closure = {}
    for name, cell in zip(f.__code__.co_freevars, f.__closure__ or ()):
        try:
            closure[name] = cell.cell_contents
        except ValueError:  # an empty cell: the name is not bound yet
            pass
    return closure


def _lambda(f: types.FunctionType) -> Source:
    """A lambda, read as the ``def`` it stands for (see ``frontend.lambdas``)."""
    file = display_path(f.__code__.co_filename)
    found = lambda_source(f, file)
    return Source(
        func=f,
        name=found.name,
        file=file,
        tree=found.tree,
        lines=found.lines,
        indent=found.indent,
        globals=f.__globals__,
        closure=_closure(f),
        text=found.text,
    )


_counter = itertools.count(1)  # next() is atomic: threads never share a file name


def from_source(
    text: str, name: str | None = None, namespace: dict[str, Any] | None = None
) -> Callable[..., Any]:
    """Build a function from source text so that symdiff (and tracebacks) can read it.

    For functions typed at a REPL or made with ``exec``, whose source Python does not keep.
    ``namespace`` supplies the globals the function reads (``np``, ``math``, helpers).
    """
    text = textwrap.dedent(text)
    tree = ast.parse(text)
    defs = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    if not defs:
        raise SourceUnavailableError(
            "the text defines no function", hint="pass text that starts with `def`"
        )
    name = name or defs[-1].name
    filename = f"<symdiff-source-{next(_counter)}:{name}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    ns: dict[str, Any] = {"__name__": "__symdiff_source__"}
    if namespace is None:
        import math

        import numpy as np

        ns.update(np=np, math=math)
    else:
        ns.update(namespace)
    exec(compile(text, filename, "exec"), ns)
    if name not in ns:
        raise SourceUnavailableError(f"the text does not define {name!r}")
    return ns[name]


def origin(src: Source) -> str:
    """``file:line (name)`` of the user's function a source derives from, for the docstring
    of generated code: a gradient differentiated again (``grad(grad(f))``, ``hvp``) reads
    back generated code, whose own file name (``<symdiff f_grad 1a2b...>``) means nothing
    to its reader; each generated function points to the transformation that wrote it."""
    maker = getattr(src.func, "__symdiff_from__", None)
    while maker is not None:
        src = maker.source
        maker = getattr(src.func, "__symdiff_from__", None)
    return f"{src.file}:{src.tree.lineno} ({src.name})"
