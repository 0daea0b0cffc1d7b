"""Whether a name may still be read after a statement: what an in-place update may ignore.

``y[0] = v`` changes the array ``y`` names, so every other name bound to that array sees
the change, and symdiff, which lowers the update to a new array, would give it the old
value. A name that is never read again cannot tell: ``a = x[0]; x[0] = a * b; return
np.sum(x)`` is safe whatever ``a`` shares with ``x``. This answers, from the syntax tree
alone and erring towards "read", whether a name may be read once a statement has run:

- a read placed after the statement in the source (which includes the other branch of an
  ``if`` below it: not every read after it runs, but none before it runs after it);
- inside a loop, any read in that loop's body or condition, which the next iteration runs
  after the statement.

Only the function being lowered is looked at; its callers' names (a helper's update of an
array the caller named) are always treated as read.
"""

from __future__ import annotations

import ast


def read_later(tree: ast.AST, stmt: ast.AST, name: str) -> bool:
    """Whether ``name`` may be read after ``stmt`` (a statement of ``tree``) runs."""
    end = (getattr(stmt, "end_lineno", None), getattr(stmt, "end_col_offset", None))
    if end[0] is None or end[1] is None:
        return True
    loops = [n for n in ast.walk(tree) if isinstance(n, (ast.For, ast.While)) and _inside(stmt, n)]
    for n in ast.walk(tree):
        if not (isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)):
            continue
        if (n.lineno, n.col_offset) >= end or any(_inside(n, loop) for loop in loops):
            return True
    return False


def _inside(node: ast.AST, outer: ast.AST) -> bool:
    """Whether ``node``'s span lies within ``outer``'s."""
    start = (node.lineno, node.col_offset)  # type: ignore[attr-defined]
    end = (node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]
    lo = (outer.lineno, outer.col_offset)  # type: ignore[attr-defined]
    hi = (outer.end_lineno, outer.end_col_offset)  # type: ignore[attr-defined]
    return lo <= start and end <= hi and None not in end
