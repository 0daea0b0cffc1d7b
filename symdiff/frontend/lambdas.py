"""A lambda's source: found on its line, and read as the ``def`` it stands for.

A lambda has no source of its own: Python keeps only its file and first line. That is enough
when the line holds exactly one lambda (``grad(lambda x: x**2 + np.sin(x))``): the file (or
the IPython cell, or any ``linecache`` entry) is parsed and that lambda is the one. A line
with two lambdas cannot be told apart from its text, so it is refused, never guessed.

The lambda becomes ``def <name>(<its parameters>): return <its body>`` with the positions of
the original nodes, so errors and the comments of generated code point at what the user
wrote. It is named after the variable it is assigned to (``loss = lambda w: ...``), else
``f``: a generated function is named after it (``f_grad``), which must be a Python name.
"""

from __future__ import annotations

import ast
import inspect
import linecache
import textwrap
import types
from dataclasses import dataclass

from ..errors import Loc, SourceUnavailableError

ANONYMOUS = "f"  # the name of a lambda assigned to no name
_HINT = "write the function with `def`"


@dataclass(frozen=True)
class LambdaSource:
    """What ``frontend.source`` needs of a lambda: its tree as a ``def``, its name and text."""

    tree: ast.FunctionDef
    name: str
    text: str  # the ``def`` it stands for, as source text (what ``emit`` copies)
    lines: tuple[str, ...]  # the lines of the file or cell it was written in
    indent: int  # columns removed from the parsed text (0 when the whole file parsed)


def lambda_source(f: types.FunctionType, file: str) -> LambdaSource:
    """The lambda ``f`` as a ``def``; ``file`` is its file as shown to the user.

    Raises ``SourceUnavailableError`` at the lambda's line when the line cannot be read or
    holds other lambdas too."""
    code = f.__code__
    line = code.co_firstlineno
    lines = tuple(ln.rstrip("\n") for ln in linecache.getlines(code.co_filename))
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    loc = Loc(file, line, max(text.find("lambda"), 0), text, "<lambda>")
    if not text:
        raise SourceUnavailableError(
            "the source of this lambda is not available (it was not written in a file, an "
            "IPython cell or text symdiff.from_source registered)",
            None,
            "define the function with `def` in a file, or build it from text with "
            "symdiff.from_source(...)",
        )
    found, indent = _lambdas_on(f, lines, line)
    if len(found) != 1:
        what = "several lambdas" if found else "no lambda symdiff can parse"
        raise SourceUnavailableError(
            f"line {line} holds {what}, so symdiff cannot tell which one is being "
            "differentiated",
            loc,
            f"{_HINT} (or put the lambda on a line of its own)",
        )
    node, name = found[0]
    tree = ast.FunctionDef(
        name=name,
        args=node.args,
        body=[ast.copy_location(ast.Return(node.body), node.body)],
        decorator_list=[],
        returns=None,
        type_comment=None,
    )
    ast.copy_location(tree, node)
    tree.end_lineno, tree.end_col_offset = node.end_lineno, node.end_col_offset
    return LambdaSource(tree, name, ast.unparse(tree) + "\n", lines, indent)


def _lambdas_on(
    f: types.FunctionType, lines: tuple[str, ...], line: int
) -> tuple[list[tuple[ast.Lambda, str]], int]:
    """Every lambda that starts on ``line``, each with the name it is assigned to (else
    ``ANONYMOUS``), and the columns removed by dedenting. The whole file is parsed when it
    can be; else the statement inspect finds around the line (an IPython cell with magics,
    a file edited since)."""
    tree = _parse("\n".join(lines))
    offset = indent = 0
    if tree is None:
        try:
            block, start = inspect.getsourcelines(f)
        except (OSError, TypeError):
            return [], 0
        first = next((ln for ln in block if ln.strip()), "")
        indent = len(first) - len(first.lstrip())
        tree = _parse(textwrap.dedent("".join(block)))
        offset = start - 1
        if tree is None:
            return [], 0
    names: dict[int, str] = {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Lambda)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            names[id(node.value)] = node.targets[0].id
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Lambda) and node.lineno + offset == line:
            if offset:
                ast.increment_lineno(node, offset)
            found.append((node, names.get(id(node), ANONYMOUS)))
    return found, indent


def _parse(text: str) -> ast.Module | None:
    try:
        return ast.parse(text)
    except SyntaxError:
        return None
