"""``has_aux=True``: a function returning ``(loss, aux)``, differentiated through ``loss``.

JAX's convention: the function returns a pair, the number being differentiated and anything
else the caller wants back (predictions, metrics, a dict of them), which is not
differentiated. The loss is a function of its own: ``f`` with each ``return loss, aux``
made ``return loss`` (same lines and columns), differentiated like any other function; the
auxiliary value is what ``f`` itself returns on the call's arguments (``api.aux``), so it
may be any Python value, which generated code could not compute.
"""

from __future__ import annotations

import ast
import copy
import types
from typing import Any, Callable

from ..errors import UnsupportedSyntaxError
from .attributes import compile_tree
from .source import get_source, unwrap


def without_aux(f: Callable[..., Any]) -> Callable[..., Any]:
    """``f`` returning only the first item of each ``return loss, aux`` (a bound method
    stays bound); every return of ``f`` must be such a pair, said where it is not."""
    src = get_source(unwrap(f))
    tree = copy.deepcopy(src.tree)
    tree.decorator_list = []
    returns = list(_returns(tree))
    if not returns:
        raise UnsupportedSyntaxError(
            "has_aux=True, but the function has no return statement",
            src.loc(tree),
            hint="return a pair: return loss, aux",
        )
    for node in returns:
        value = node.value
        if not (isinstance(value, ast.Tuple) and len(value.elts) == 2):
            raise UnsupportedSyntaxError(
                "has_aux=True: this return is not a pair written out (loss, aux)",
                src.loc(node),
                hint="write each return as `return loss, aux`; with has_aux=False, the "
                "function returns the loss alone",
            )
        node.value = value.elts[0]
    function = compile_tree(src, tree)
    if isinstance(f, types.MethodType):
        return types.MethodType(function, f.__self__)
    return function


def _returns(tree: ast.AST) -> list[ast.Return]:
    """The function's own returns (not those of functions defined inside it)."""
    out: list[ast.Return] = []
    stack = list(ast.iter_child_nodes(tree))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Return):
            out.append(node)
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))
    return out
