"""The fence: refuse every construct outside the differentiable subset, with its location.

Running this before lowering means a refusal always names the construct the user wrote,
never an internal state of the lowering that tripped over it.
"""

from __future__ import annotations

import ast
import re

from ..errors import UnsupportedSyntaxError
from .source import Source

SUPPORTED = (
    "assignments (also to tuples and array elements), augmented assignments, return, "
    "if/elif/else, for over range()/arrays/enumerate/zip, while, break, continue, list "
    "comprehensions, print() and assert (kept, not differentiated), "
    "arithmetic, comparisons, calls to NumPy/math functions and to your own Python functions"
)

# statement kinds that are refused, with what to write instead
_REFUSED_STMTS: dict[type, tuple[str, str]] = {
    ast.Try: ("try/except", "move error handling outside the differentiated function"),
    ast.With: (
        "with blocks",
        "move the context manager outside the differentiated function",
    ),
    ast.Raise: ("raise", "validate inputs before calling the gradient"),
    ast.Global: (
        "global statements",
        "pass the value as an argument and return the new one",
    ),
    ast.Nonlocal: (
        "nonlocal statements",
        "pass the value as an argument and return the new one",
    ),
    ast.Delete: ("del", "leave the name unused instead"),
    ast.Import: ("import inside the function", "import at module level"),
    ast.ImportFrom: ("import inside the function", "import at module level"),
    ast.ClassDef: ("class definitions", "define classes at module level"),
    ast.FunctionDef: (
        "nested function definitions",
        "define the helper at module level",
    ),
    ast.AsyncFunctionDef: ("async functions", "use a plain def"),
    ast.AsyncFor: ("async for", "use a plain for loop"),
    ast.AsyncWith: ("async with", "move it outside the differentiated function"),
    ast.Match: ("match statements", "use if/elif/else"),
}

_REFUSED_EXPRS: dict[type, tuple[str, str]] = {
    ast.Lambda: (
        "lambdas inside the differentiated function",
        "define the helper at module level (with def, or as a lambda on a line of its own)",
    ),
    ast.SetComp: ("set comprehensions", "use a list comprehension or a for loop"),
    ast.DictComp: ("dict comprehensions", "use a list comprehension or a for loop"),
    ast.Yield: ("yield (generators)", "return a value instead"),
    ast.YieldFrom: ("yield from (generators)", "return a value instead"),
    ast.Await: ("await", "use a plain function"),
    ast.NamedExpr: ("assignment expressions (:=)", "assign on a line of its own"),
    ast.Dict: ("dicts", "use separate variables or a tuple"),
    ast.Set: ("sets", "use a tuple"),
    ast.Starred: ("*args unpacking in calls", "pass the arguments one by one"),
}


# deeper expressions than this are refused: the passes after lowering walk expressions
# recursively, and a chain of thousands of operators would exhaust Python's stack there
MAX_EXPRESSION_DEPTH = 200


def fence(src: Source) -> None:
    """Raise ``UnsupportedSyntaxError`` at the first construct symdiff cannot differentiate."""
    fn = src.tree
    if isinstance(fn, ast.AsyncFunctionDef):
        _refuse(src, fn, "async functions", "use a plain def")
    for stmt in fn.body:
        _check(src, stmt)
    for stmt in fn.body:
        _check_depth(src, stmt)


def _check_depth(src: Source, stmt: ast.stmt) -> None:
    """Refuse, at its start, an expression nested deeper than ``MAX_EXPRESSION_DEPTH``
    (counted without recursion, so that the count itself cannot overflow)."""
    todo: list[tuple[ast.AST, int, ast.AST | None]] = [(stmt, 0, None)]
    while todo:
        node, depth, top = todo.pop()
        if isinstance(node, ast.expr):
            top = top or node
            depth += 1
            if depth > MAX_EXPRESSION_DEPTH:
                raise UnsupportedSyntaxError(
                    f"this expression nests more than {MAX_EXPRESSION_DEPTH} operations deep",
                    src.loc(top),
                    "split it into several assignments",
                )
        else:
            depth, top = 0, None
        todo.extend((child, depth, top) for child in ast.iter_child_nodes(node))


def _refuse(src: Source, node: ast.AST, what: str, hint: str) -> None:
    # the verb agrees with the head noun: "expression statements (calls ...)" are, "*args
    # unpacking in calls" and "assignment to attributes" is
    head = re.split(r" \(| in | to | inside ", what)[0]
    plural = head.endswith("s")
    raise UnsupportedSyntaxError(
        (f"{what} are not supported" if plural else f"{what} is not supported"),
        src.loc(node),
        f"{hint}. symdiff supports: {SUPPORTED}.",
    )


def _check(src: Source, node: ast.AST) -> None:
    for sub in ast.walk(node):
        kind = type(sub)
        if kind in _REFUSED_STMTS:
            _refuse(src, sub, *_REFUSED_STMTS[kind])
        if kind in _REFUSED_EXPRS:
            _refuse(src, sub, *_REFUSED_EXPRS[kind])
        if isinstance(sub, ast.Expr) and isinstance(sub.value, (ast.Yield, ast.YieldFrom)):
            _refuse(src, sub.value, *_REFUSED_EXPRS[type(sub.value)])
        if isinstance(sub, ast.Expr) and not _is_docstring(sub):
            if not isinstance(sub.value, ast.Call) or not (
                _is_append(sub.value) or _is_print(sub.value)
            ):
                _refuse(
                    src,
                    sub,
                    "expression statements (calls made for their side effects)",
                    "assign the value to a name, or remove the call",
                )
        if isinstance(sub, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = sub.targets if isinstance(sub, ast.Assign) else [sub.target]
            for t in targets:
                for part in ast.walk(t):
                    if isinstance(part, ast.Attribute) and isinstance(part.ctx, ast.Store):
                        _refuse(
                            src, part, "assignment to attributes",
                            "keep the value in a local variable and return it",
                        )  # fmt: skip
        if isinstance(sub, ast.Call) and any(k.arg is None for k in sub.keywords):
            _refuse(
                src,
                sub,
                "**kwargs unpacking in calls",
                "pass keyword arguments by name",
            )
        if isinstance(sub, ast.comprehension) and sub.is_async:
            _refuse(src, sub.target, "async comprehensions", "use a plain comprehension")
        if isinstance(sub, ast.For) and sub.orelse:
            _refuse(src, sub, "for/else", "use a flag variable")
        if isinstance(sub, ast.While) and sub.orelse:
            _refuse(src, sub, "while/else", "use a flag variable")


def _is_docstring(node: ast.Expr) -> bool:
    return isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _is_print(call: ast.Call) -> bool:
    """``print(...)`` as written (the lowering checks that the name means the builtin)."""
    return isinstance(call.func, ast.Name) and call.func.id == "print"


def _is_append(call: ast.Call) -> bool:
    return isinstance(call.func, ast.Attribute) and call.func.attr == "append"
