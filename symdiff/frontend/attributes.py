"""Attribute reads of parameters (``self.w`` in a method, ``params.w``) as inputs.

symdiff differentiates functions of arrays and numbers. A model written as a class reads
its weights as ``self.w``; a function may take an object holding them (``params.w``). Both
read values, never the object itself, so the function is one of those values: ``loss(self,
x)`` reading ``self.w`` and ``self.b`` is ``loss(self_w, self_b, x)``. That function is
built here, once, from the same syntax tree with each attribute read replaced by a
parameter (same lines and columns, so errors and comments point at what the user wrote),
and differentiated like any other; the API passes ``getattr(self, "w")`` where it goes and
resolves ``wrt="self.w"`` to it.

A parameter is read this way when every use of it is an attribute read (``p.a``, or a
chain ``p.a.b``) that is not an array attribute (``x.T``, ``x.shape``) and not called (a
method call ``self.f(x)`` would need the object). Anything else keeps the parameter as it
is, and the lowering refuses the read with its hint. Writes (``self.w = ...``) are refused
by the fence: a differentiated function cannot change an object.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import inspect
import types
from dataclasses import dataclass
from typing import Any, Callable

from ..ir.rows.methods import ATTRIBUTES
from .source import Source, get_source, unwrap

FLAT_ATTR = "__symdiff_flat__"  # where an original function keeps its flattened version


@dataclass(frozen=True)
class Flattened:
    """``function`` reads the attributes of ``objects`` as parameters of its own.

    ``params`` are the original function's parameters; ``objects`` maps each one read
    through attributes to its dotted reads (``"self.w"``), in the order of first use;
    ``names`` maps every dotted read to the parameter that stands for it (``"self_w"``).
    """

    function: Callable[..., Any]
    params: tuple[str, ...]
    objects: dict[str, tuple[str, ...]]
    names: dict[str, str]

    def flat_names(self) -> list[str]:
        """The parameters of ``function``, in order."""
        out: list[str] = []
        for p in self.params:
            out.extend([self.names[d] for d in self.objects[p]] if p in self.objects else [p])
        return out

    def expand(self, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        """The arguments of ``function`` from those of the original (its ``self`` first):
        each object replaced by the attributes it is read for."""
        out: list[Any] = []
        for p, value in zip(self.params, args):
            out.extend(_reads(value, self.objects[p]) if p in self.objects else [value])
        flat_kwargs: dict[str, Any] = {}
        for k, value in kwargs.items():
            if k in self.objects:
                flat_kwargs.update(
                    zip((self.names[d] for d in self.objects[k]), _reads(value, self.objects[k]))
                )
            else:
                flat_kwargs[k] = value
        return tuple(out), flat_kwargs


def _reads(obj: Any, dotted: tuple[str, ...]) -> list[Any]:
    out = []
    for d in dotted:
        value = obj
        for part in d.split(".")[1:]:
            value = getattr(value, part)
        out.append(value)
    return out


def flattened(f: Any) -> Flattened | None:
    """The attribute-reading version of ``f``, or None when ``f`` reads no attributes of
    its parameters. Built once per function (a redefinition builds it again)."""
    target = unwrap(f)
    if not isinstance(target, types.FunctionType) or target.__name__ == "<lambda>":
        return None
    cached = target.__dict__.get(FLAT_ATTR)
    if cached is not None:
        return cached or None
    try:
        src = get_source(target)
    except Exception:
        return None  # whatever is wrong is said by the transformation itself
    found = _flatten(src)
    target.__dict__[FLAT_ATTR] = found or False
    return found


def _flatten(src: Source) -> Flattened | None:
    tree = src.tree
    args = tree.args
    params = tuple(a.arg for a in args.posonlyargs + args.args + args.kwonlyargs)
    if args.vararg or args.kwarg or not params:
        return None
    chains = _attribute_chains(tree, set(params))
    if not chains:
        return None
    taken = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | set(params)
    names: dict[str, str] = {}
    for dotted in (d for p in params for d in chains.get(p, ())):
        name = base = dotted.replace(".", "_")
        k = 1
        while name in taken:
            k += 1
            name = f"{base}_{k}"
        taken.add(name)
        names[dotted] = name
    new = copy.deepcopy(tree)
    new.decorator_list = []
    _Replace(names).visit(new)
    new_args: list[ast.arg] = []
    for a in args.posonlyargs + args.args:
        if a.arg in chains:
            new_args.extend(
                ast.arg(names[d], lineno=a.lineno, col_offset=a.col_offset) for d in chains[a.arg]
            )
        else:
            new_args.append(copy.deepcopy(a))
    new.args = leaf_arguments(args, new_args)
    ast.fix_missing_locations(new)
    function = compile_tree(src, new)
    return Flattened(function, params, {p: tuple(chains[p]) for p in params if p in chains}, names)


def leaf_arguments(args: ast.arguments, new_args: list[ast.arg]) -> ast.arguments:
    """The signature of a rewritten function whose positional parameters are ``new_args``
    (leaves read from objects or structures) and whose keyword-only ones stay as written:
    no defaults, since a leaf has none of its own."""
    return ast.arguments(
        posonlyargs=[],
        args=new_args,
        vararg=None,
        kwonlyargs=[copy.deepcopy(a) for a in args.kwonlyargs],
        kw_defaults=[copy.deepcopy(d) for d in args.kw_defaults],
        kwarg=None,
        defaults=[],
    )


def _attribute_chains(
    tree: ast.FunctionDef | ast.AsyncFunctionDef, params: set[str]
) -> dict[str, list[str]]:
    """For each parameter used only through attribute reads, its dotted reads in order."""
    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    chains: dict[str, list[str]] = {}
    other: set[str] = set()
    order = sorted(
        (n for n in ast.walk(tree) if isinstance(n, ast.Name)),
        key=lambda n: (n.lineno, n.col_offset),
    )  # first use first: the order a reader meets them
    stores = {
        n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)
    }
    for node in order:
        if not (node.id in params and isinstance(node.ctx, ast.Load)):
            continue
        top: ast.AST = node
        parts = [node.id]
        while True:
            up = parents.get(top)
            if (
                not isinstance(up, ast.Attribute)
                or up.attr in ATTRIBUTES
                or up.attr.startswith("__")
            ):
                break
            top = up
            parts.append(up.attr)
        called = isinstance(parents.get(top), ast.Call) and parents[top].func is top  # type: ignore[attr-defined]
        if len(parts) == 1 or called:
            other.add(node.id)
            continue
        dotted = ".".join(parts)
        if dotted not in chains.setdefault(node.id, []):
            chains[node.id].append(dotted)
    return {p: c for p, c in chains.items() if p not in other and p not in stores}


class _Replace(ast.NodeTransformer):
    """Each dotted read becomes a read of the parameter standing for it, in place."""

    def __init__(self, names: dict[str, str]):
        self.names = names

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        dotted = _dotted(node)
        if dotted is not None and dotted in self.names and isinstance(node.ctx, ast.Load):
            return ast.copy_location(ast.Name(self.names[dotted], ast.Load()), node)
        self.generic_visit(node)
        return node


def _dotted(node: ast.expr) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def compile_tree(src: Source, tree: ast.FunctionDef | ast.AsyncFunctionDef) -> types.FunctionType:
    """A function rewritten from ``src``'s tree (flattened here, or by
    ``frontend.structures``) as Python runs it, with ``f``'s globals and defaults; the
    closure's values are read through the source (``Source.closure``), as for ``f``. Its
    ``__symdiff_source__`` is the rewritten tree, with ``f``'s file, lines and columns."""
    module = ast.Module(body=[tree], type_ignores=[])
    code = compile(module, src.file, "exec")
    ns: dict[str, Any] = dict(src.closure)
    exec(code, src.globals, ns)  # defines the function only: its body runs when called
    function = ns[tree.name]
    # run (by check=True's differences), the closure's names are read as globals
    scope = {**src.globals, **src.closure} if src.closure else src.globals
    function = types.FunctionType(function.__code__, scope, tree.name)
    original = src.func
    function.__kwdefaults__ = getattr(original, "__kwdefaults__", None)
    function.__defaults__ = _defaults(original, [a.arg for a in tree.args.args])
    function.__qualname__ = getattr(original, "__qualname__", tree.name)
    function.__doc__ = original.__doc__
    function.__symdiff_source__ = dataclasses.replace(  # type: ignore[attr-defined]
        src, func=function, tree=tree
    )
    return function


def _defaults(original: Any, flat_params: list[str]) -> tuple[Any, ...] | None:
    """The original's positional defaults that the flattened function keeps: those of the
    parameters after the last one replaced by its attributes."""
    try:
        params = inspect.signature(original).parameters
    except (TypeError, ValueError):
        return None
    kept: list[Any] = []
    for name in reversed(flat_params):
        p = params.get(name)
        if p is None or p.default is p.empty or p.kind is p.KEYWORD_ONLY:
            break
        kept.append(p.default)
    return tuple(reversed(kept)) or None
