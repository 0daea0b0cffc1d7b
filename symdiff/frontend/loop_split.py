"""Cutting a function around its loop: the pieces binomial checkpointing differentiates.

``grad(f, checkpoint=...)`` reverses ``f``'s top-level ``for ... in range(...)`` loop by
recomputing steps from a few snapshots of the loop's state instead of taping every step
(``api.checkpointed``, ``runtime.revolve``). For that the loop's body must be a function of
its own, and so must what comes before and after the loop. This module reads ``f``'s syntax
tree once and writes those three functions as source text, in the user's words:

- ``head(params) -> (range, values...)``: the statements before the loop, returning the
  loop's ``range`` and every value the loop or the code after it reads;
- ``step(index, carried..., invariant...) -> carried...``: one iteration;
- ``tail(carried..., epilogue inputs...) -> result``: the statements after the loop.

The *carried* names are those the body assigns (or updates in place) and that already have
a value before the loop: each iteration hands them to the next, so they are the state a
snapshot keeps. Each piece's text keeps the user's line numbers (blank lines above it), so
the comments of its generated gradient and its errors quote the lines the user wrote.
Differentiating the pieces is left to the ordinary pipeline: every piece is plain Python.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass

from ..errors import UnsupportedSyntaxError
from .source import Source

_WHILE_HINT = (
    "checkpointing needs the number of steps before the loop starts: write the loop as "
    "`for step in range(n):` (with `n` an upper bound, and `if` inside for the steps after "
    "the condition fails), or differentiate without checkpoint="
)


@dataclass(frozen=True)
class LoopPieces:
    """The three functions around ``f``'s loop, as source text, and the names they pass."""

    params: tuple[str, ...]  # f's parameters: head's too
    index: str  # the loop variable (step's first parameter)
    carried: tuple[str, ...]  # the loop's state: step's result, a snapshot's contents
    invariant: tuple[str, ...]  # values defined before the loop that the body only reads
    epilogue: tuple[str, ...]  # values defined before the loop that the tail reads
    before: tuple[str, ...]  # head's values: carried, then invariant, then epilogue inputs
    assigned_before: frozenset[str]  # names the statements before the loop assign
    head: str
    step: str
    tail: str
    head_lines: tuple[str, ...]  # the statements before the loop, dedented, line by line
    body_lines: tuple[str, ...]
    head_start: int  # the line of the first statement before the loop (or of the def)
    body_start: int
    loop_line: int
    in_place: bool  # the body updates a carried array in place (x[i] = ..., x += ...)


def split_at_loop(src: Source) -> LoopPieces:
    """The pieces of ``src``'s function around its one top-level ``for ... in range`` loop;
    refuses, naming the place, any function not of that form."""
    tree = src.tree
    args = tree.args
    if args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs:
        raise UnsupportedSyntaxError(
            "checkpoint= supports functions whose parameters are plain positional ones",
            src.loc(tree),
            "drop *args, **kwargs and keyword-only parameters, or differentiate without "
            "checkpoint=",
        )
    params = tuple(a.arg for a in args.args)
    body = list(tree.body)
    if body and _is_docstring(body[0]):
        body = body[1:]
    loops = [i for i, s in enumerate(body) if isinstance(s, (ast.For, ast.While))]
    if not loops:
        nested = next((n for n in ast.walk(tree) if isinstance(n, (ast.For, ast.While))), None)
        where = src.loc(nested) if nested is not None else src.loc(tree)
        raise UnsupportedSyntaxError(
            "checkpoint= reverses a loop of the function's own body, and "
            + ("this loop is nested in another statement" if nested else "there is none"),
            where,
            "move the loop out of the `if`/`with` around it, or differentiate without "
            "checkpoint=",
        )
    if len(loops) > 1:
        lines = ", ".join(str(body[i].lineno) for i in loops)
        raise UnsupportedSyntaxError(
            f"checkpoint= reverses one loop, and the function has {len(loops)} (lines {lines})",
            src.loc(body[loops[1]]),
            "move all loops but the long one into helper functions, which each step calls",
        )
    at = loops[0]
    loop = body[at]
    if isinstance(loop, ast.While):
        raise UnsupportedSyntaxError(
            "checkpoint= reverses `for ... in range(...)` loops, not `while` loops",
            src.loc(loop),
            _WHILE_HINT,
        )
    assert isinstance(loop, ast.For)
    if not (
        isinstance(loop.iter, ast.Call)
        and isinstance(loop.iter.func, ast.Name)
        and loop.iter.func.id == "range"
        and not loop.iter.keywords
        and 1 <= len(loop.iter.args) <= 3
    ):
        raise UnsupportedSyntaxError(
            "checkpoint= reverses loops over `range(...)`",
            src.loc(loop.iter),
            "loop over the indices, `for t in range(len(xs)):`, and read `xs[t]` in the body",
        )
    if not isinstance(loop.target, ast.Name):
        raise UnsupportedSyntaxError(
            "the loop variable must be a name", src.loc(loop.target), "write `for i in range(n):`"
        )
    if loop.orelse:
        raise UnsupportedSyntaxError(
            "checkpoint= does not reverse a loop with an `else:` block",
            src.loc(loop.orelse[0]),
            "move the `else:` block after the loop",
        )
    before, after = body[:at], body[at + 1 :]
    for stmt in before + loop.body:
        _refuse_exits(src, stmt, loop)
    index = loop.target.id
    assigned_before = set(params) | _assigned(before)
    body_assigned = _assigned(loop.body) | {index}
    body_reads = _read(loop.body)
    tail_reads = _read(after)
    for name in sorted((body_assigned & tail_reads) - assigned_before):
        raise UnsupportedSyntaxError(
            f"`{name}` is set inside the checkpointed loop and read after it, but has no value "
            "before the loop",
            src.loc(loop),
            f"give `{name}` a value before the loop (`{name} = 0.0`), so that it is part "
            "of the loop's state",
        )
    carried = tuple(
        n
        for n in _ordered(loop.body, params)
        if n in body_assigned and n in assigned_before and n != index
    )
    if not carried:
        raise UnsupportedSyntaxError(
            "the checkpointed loop carries no value from one step to the next",
            src.loc(loop),
            "nothing needs checkpointing: differentiate without checkpoint=",
        )
    invariant = tuple(
        n
        for n in _ordered(loop.body, params)
        if n in body_reads and n in assigned_before and n not in carried and n != index
    )
    epilogue = tuple(
        n
        for n in _ordered(after, params)
        if n in tail_reads and n in assigned_before and n not in carried
    )
    names = list(dict.fromkeys(carried + invariant + epilogue))
    taken = set(params) | assigned_before | body_assigned | _all_names(tree)
    rng = _fresh("steps", taken)
    head_lines, head_start = _lines(src, before, tree.lineno + 1)
    body_lines, body_start = _lines(src, loop.body, loop.lineno + 1)
    tail_lines, tail_start = _lines(src, after, loop.end_lineno + 1)  # type: ignore[operator]
    range_text = ast.unparse(loop.iter)
    head = function(
        f"{src.name}_head",
        params,
        head_lines,
        head_start,
        [f"{rng} = {range_text}", f"return {', '.join([rng, *names])}"],
    )
    step = function(
        f"{src.name}_step",
        (index, *carried, *invariant),
        body_lines,
        body_start,
        [f"return {', '.join(carried)}" + ("," if len(carried) == 1 else "")],
    )
    tail = function(f"{src.name}_tail", (*carried, *epilogue), tail_lines, tail_start, [])
    return LoopPieces(
        params=params,
        index=index,
        carried=carried,
        invariant=invariant,
        epilogue=epilogue,
        before=tuple(names),
        assigned_before=frozenset(assigned_before - set(params)),
        head=head,
        step=step,
        tail=tail,
        head_lines=tuple(head_lines),
        body_lines=tuple(body_lines),
        head_start=head_start,
        body_start=body_start,
        loop_line=loop.lineno,
        in_place=bool(_updated(loop.body) & set(carried)),
    )


def function(
    name: str, params: tuple[str, ...], lines: list[str], start: int, extra: list[str]
) -> str:
    """A ``def`` of ``lines`` (dedented statements, the first at line ``start`` of the
    user's file) followed by ``extra``, with blank lines above so its lines keep their
    numbers where there is room for the ``def`` line."""
    pad = max(start - 2, 0)
    out = [""] * pad + [f"def {name}({', '.join(params)}):"]
    out += ["    " + ln if ln else "" for ln in lines + extra]
    if len(out) == pad + 1:
        out.append("    pass")
    return "\n".join(out) + "\n"


def fresh(base: str, taken: set[str]) -> str:
    """``base``, or ``base_1``, ``base_2``...: a name the function does not use."""
    return _fresh(base, taken)


def _fresh(base: str, taken: set[str]) -> str:
    name, k = base, 0
    while name in taken:
        k += 1
        name = f"{base}_{k}"
    return name


def _lines(src: Source, stmts: list[ast.stmt], default: int) -> tuple[list[str], int]:
    """The user's text of ``stmts``, dedented, with blank lines where comments or blank
    lines were; and the line it starts at. A statement sharing its line with what comes
    before it (``for i in range(n): x = f(x)``) is written out from the tree instead."""
    if not stmts:
        return [], default
    first = stmts[0].lineno
    out: list[str] = []
    line = first
    for stmt in stmts:
        text = src.lines[stmt.lineno - 1] if 0 < stmt.lineno <= len(src.lines) else ""
        own_line = text[: stmt.col_offset + src.indent].strip() == ""
        while line < stmt.lineno:
            out.append("")
            line += 1
        if own_line and stmt.end_lineno is not None:
            chunk = list(src.lines[stmt.lineno - 1 : stmt.end_lineno])
            cut = stmt.col_offset + src.indent
            for raw in chunk:
                lead = len(raw) - len(raw.lstrip())
                out.append(raw[min(cut, lead) :].rstrip())
            line = stmt.end_lineno + 1
        else:
            out.extend(textwrap.dedent(ast.unparse(stmt)).splitlines())
            line += len(ast.unparse(stmt).splitlines())
    return out, first


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def _refuse_exits(src: Source, stmt: ast.stmt, loop: ast.For) -> None:
    """No ``return`` before or inside the loop, no ``break``/``continue`` of the loop."""
    for node in ast.walk(stmt):
        if isinstance(node, ast.Return):
            raise UnsupportedSyntaxError(
                "checkpoint= needs the function to return after its loop, not before or "
                "inside it",
                src.loc(node),
                "keep the result in a variable and return it at the end",
            )
    for node in _own_jumps(loop.body):
        word = "break" if isinstance(node, ast.Break) else "continue"
        raise UnsupportedSyntaxError(
            f"checkpoint= reverses loops that run every step: `{word}` ends steps early",
            src.loc(node),
            "guard the rest of the step with an `if` instead",
        )


def _own_jumps(stmts: list[ast.stmt]) -> list[ast.stmt]:
    """``break``/``continue`` statements of this loop (not of loops nested in it)."""
    found: list[ast.stmt] = []
    for stmt in stmts:
        if isinstance(stmt, (ast.Break, ast.Continue)):
            found.append(stmt)
        elif isinstance(stmt, (ast.For, ast.While, ast.FunctionDef, ast.Lambda)):
            continue
        else:
            for field in ("body", "orelse", "handlers", "finalbody"):
                found += _own_jumps(getattr(stmt, field, []) or [])
    return found


def _assigned(stmts: list[ast.stmt]) -> set[str]:
    """Names bound or updated in place (``x[i] = ...``, ``x += ...``) by ``stmts``."""
    out: set[str] = set()
    for stmt in stmts:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                out.add(node.id)
            elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    while isinstance(t, (ast.Subscript, ast.Attribute)):
                        t = t.value
                    if isinstance(t, ast.Name):
                        out.add(t.id)
    return out


def _updated(stmts: list[ast.stmt]) -> set[str]:
    """Names whose value ``stmts`` may change in place: ``x[i] = ...``, ``x.a = ...``,
    ``x += ...`` (in place for an array)."""
    out: set[str] = set()
    for stmt in stmts:
        for node in ast.walk(stmt):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = [t for t in node.targets if isinstance(t, (ast.Subscript, ast.Attribute))]
            elif isinstance(node, ast.AugAssign):
                targets = [node.target]
            for t in targets:
                while isinstance(t, (ast.Subscript, ast.Attribute)):
                    t = t.value
                if isinstance(t, ast.Name):
                    out.add(t.id)
    return out


def _read(stmts: list[ast.stmt]) -> set[str]:
    out: set[str] = set()
    for stmt in stmts:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                out.add(node.id)
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                out.add(node.target.id)
    return out


def _ordered(stmts: list[ast.stmt], first: tuple[str, ...]) -> list[str]:
    """Names in a stable, readable order: the parameters' order, then first appearance."""
    seen = dict.fromkeys(first)
    for stmt in stmts:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name):
                seen.setdefault(node.id)
    return list(seen)


def _all_names(tree: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
