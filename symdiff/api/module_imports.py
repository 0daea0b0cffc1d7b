"""The import block of a standalone module: NumPy and math (modules and their functions) are
imported, renamed builtins are re-bound from ``builtins``, and anything else is refused,
because the module must run where only NumPy is installed.
"""

from __future__ import annotations

import builtins
import math
import types
from typing import Any

import numpy as np

from ..backend.emitter import Globals
from .literals import StandaloneError


def describe_callable(obj: Any) -> str:
    mod = getattr(obj, "__module__", None) or "?"
    return f"the function {mod}.{getattr(obj, '__qualname__', obj)!s}"


def import_spec(obj: Any) -> tuple[str, str] | None:
    """``(module, attribute)`` when ``obj`` is a public NumPy or math function."""
    name = getattr(obj, "__name__", None)
    if not isinstance(name, str) or isinstance(obj, types.ModuleType):
        return None
    for mod in (np, math):
        if getattr(mod, name, None) is obj:
            return mod.__name__, name
    return None


def import_statements(
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
        spec = import_spec(obj)
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


def numpy_name(g: Globals, imports: dict[str, str]) -> str:
    alias = g.name("np", np)
    imports[alias] = "import numpy" + ("" if alias == "numpy" else f" as {alias}")
    return alias


def import_block(imports: dict[str, str]) -> str:
    """Standard library first, then NumPy, as isort orders them."""

    def key(line: str) -> tuple[int, int, str]:
        mod = line.split()[1]
        third = mod == "numpy" or mod.startswith("numpy.")
        return (third, line.startswith("from "), mod.lower() + " " + line)

    lines = sorted(set(imports.values()), key=key)
    std = [ln for ln in lines if not key(ln)[0]]
    third = [ln for ln in lines if key(ln)[0]]
    return "\n\n".join("\n".join(block) for block in (std, third) if block)
