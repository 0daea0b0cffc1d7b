"""Which source line a generated statement quotes, and the way back from generated lines.

The rule: a comment quotes the statement whose adjoint (or forward value) follows it. The
reverse pass builds some statements under a ``Loc`` that is no such statement: the sum of
an input's contributions gets the function's ``def`` line, and a loop's accumulators, the
adjoint state it carries and its index bookkeeping get the loop's header line. Such a
*bookkeeping* statement quotes instead what its code contains: the statements folded into
it, or else those that define what it adds up. With nothing to quote it gets no comment and
stays under the one before it. A loop header is quoted directly above the loop.

``line_locations`` maps the lines of a generated function, formatted or not, back to the
``Loc`` of the user's statement each one comes from (``None`` where none does).
"""

from __future__ import annotations

import ast
from typing import Any, Iterator, Sequence

from ..errors import Loc
from ..ir.nodes import Assign, Atom, Block, If, Loop, Var, iter_assigns

COMMENT_WIDTH = 80


def loc_key(loc: Loc | None) -> tuple | None:
    """What makes two Locs the same source statement for comments (not the column)."""
    return (loc.file, loc.line, loc.func) if loc is not None else None


def is_def_line(loc: Loc) -> bool:
    return loc.text.lstrip().startswith(("def ", "async def "))


class Quotes:
    """The comments of one generated function named ``fn_name``."""

    def __init__(self, fn_name: str, blocks: tuple[Block, ...], defs: dict[Var, Any], fold: set):
        self.fn_name = fn_name
        self.defs = defs
        self.fold = fold  # temporaries whose code is written inside their reader
        # the places of loop headers, columns included: a comprehension's loop shares its
        # line with the statements of its body, which are statements all the same
        self.loop_places = {p for s in _loops(blocks) for p in self._header_places(s)}

    def _header_places(self, loop: Loop) -> Iterator[tuple]:
        """Where a loop's header is: the loop, its condition, and what its bounds are computed
        by on its line (``len(X)`` for ``for row in X``)."""
        if loop.loc is None:
            return
        yield _place(loop.loc)
        todo = list(iter_assigns(loop.cond_block))
        todo += self._defining(loop.header)
        seen: set[int] = set()
        while todo:
            stmt = todo.pop()
            if id(stmt) in seen or stmt.loc is None or stmt.loc.line != loop.loc.line:
                continue
            seen.add(id(stmt))
            yield _place(stmt.loc)
            todo += self._defining(stmt.args)

    def _defining(self, atoms: tuple[Atom, ...]) -> list[Assign]:
        defs = (self.defs.get(a) for a in atoms if isinstance(a, Var))
        return [d for d in defs if isinstance(d, Assign)]

    def bookkeeping(self, loc: Loc | None) -> bool:
        """Whether ``loc`` quotes a function or loop header rather than a statement."""
        return loc is None or is_def_line(loc) or _place(loc) in self.loop_places

    def source(self, s: Assign, last: tuple | None) -> Loc | None:
        """The Loc the comment above ``s`` quotes (``last``: the key quoted just before)."""
        found = list(self._contributors(s, 0))
        for loc in found:
            if loc_key(loc) == last:
                return loc  # part of what the comment above already quotes
        return found[0] if found else None

    def _contributors(self, s: Assign, depth: int) -> Iterator[Loc]:
        if not self.bookkeeping(s.loc):
            assert s.loc is not None
            yield s.loc
            return
        for a in s.args:
            d = self.defs.get(a) if isinstance(a, Var) else None
            if not isinstance(d, Assign):
                continue
            if a in self.fold and depth < 64:
                yield from self._contributors(d, depth + 1)
            elif not self.bookkeeping(d.loc):
                assert d.loc is not None
                yield d.loc

    def text(self, loc: Loc) -> str:
        """``# line 12: y = f(x)``; a statement of an inlined function names the function."""
        if loc.file.startswith("<symdiff "):  # a statement of generated code: it has no file
            where = loc.func
        elif loc.func == self.fn_name:
            where = f"line {loc.line}"
        else:
            where = f"{loc.func}, line {loc.line}"
        text = f"# {where}: {loc.text.strip()}"
        return text if len(text) <= COMMENT_WIDTH else text[: COMMENT_WIDTH - 3] + "..."

    def comment(self, loc: Loc | None, comment_all: bool, state: dict) -> list[str]:
        """The comment above a statement quoting ``loc``: none when the one above quotes it
        already, or when only inlined functions' statements are commented (``comment_all``
        false: the forward pass of a gradient, which repeats the user's code)."""
        key = loc_key(loc)
        if loc is None or key == state.get("last"):
            return []
        state["last"] = key
        if comment_all or loc.func != self.fn_name:
            return [self.text(loc)]
        return []


def _place(loc: Loc) -> tuple:
    return (loc.file, loc.line, loc.func, loc.col)


def _loops(blocks: tuple[Block, ...]) -> Iterator[Loop]:
    for block in blocks:
        for s in block:
            if isinstance(s, Loop):
                yield s
                yield from _loops((s.cond_block, s.body))
            elif isinstance(s, If):
                yield from _loops((s.then, s.orelse))


def statements(body: Sequence[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement of ``body`` in source order, nested ones after their header."""
    for s in body:
        yield s
        for field in ("body", "orelse"):
            inner = getattr(s, field, None)
            if isinstance(inner, list) and not isinstance(s, (ast.FunctionDef, ast.ClassDef)):
                yield from statements(inner)


def line_locations(source_text: str, locations: Sequence[Loc | None]) -> dict[int, Loc]:
    """Line number (1-based) of ``source_text`` -> the ``Loc`` of the user's statement the
    code on that line comes from.

    ``source_text`` holds one generated function, as emitted or formatted (formatting moves
    lines but never adds, drops or reorders statements); ``locations`` is the emitter's list
    for it (``Emitted.grad_locations`` or ``vg_locations``): one entry per statement in
    source order, the function's docstring first. A compound statement maps its header; comment lines map to nothing.
    """
    (fn,) = ast.parse(source_text).body
    assert isinstance(fn, ast.FunctionDef)
    stmts = list(statements(fn.body))
    if len(stmts) != len(locations):
        raise ValueError(f"{len(stmts)} statements in the source, {len(locations)} locations")
    out: dict[int, Loc] = {}
    for s, loc in zip(stmts, locations):
        if loc is None:
            continue
        head = getattr(s, "iter", None) or getattr(s, "test", None)  # for, while, if
        last = (head if head is not None else s).end_lineno or s.lineno
        for line in range(s.lineno, last + 1):
            out[line] = loc
    return out
