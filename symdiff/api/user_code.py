"""The user's code as a standalone module holds it: each function's own ``def`` text, the
names it reads from outside itself, and the file it came from as the project names it (never
a path of the machine that ran ``emit``, so the output is the same on every machine).
"""

from __future__ import annotations

import ast
import os
import symtable
import textwrap

from ..frontend.source import Source

_ROOT_MARKERS = (".git", "pyproject.toml", "setup.py", "setup.cfg")


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


def file_of(src: Source) -> str:
    return repo_relative(src.func.__code__.co_filename)


def line_of(src: Source) -> int:
    return getattr(getattr(src.func, "__code__", None), "co_firstlineno", 0)


def def_text(src: Source) -> str:
    """The function's source without decorators (they may name things the module lacks)."""
    text = textwrap.dedent(src.text)
    tree = ast.parse(text)
    node = next(n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))
    lines = text.splitlines(True)
    return "".join(lines[node.lineno - 1 :]).rstrip() + "\n"


def global_names(text: str) -> list[str]:
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
