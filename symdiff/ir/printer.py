"""The IR printer: one line per statement, the same text for the same IR.

Tests compare IR as text (golden files) and bug reports show it, so the form must be stable:
no object ids, parameters in their stored (sorted) order.
"""

from __future__ import annotations

from .nodes import Assign, Block, Function, If, LoopKind, Pop, Push


def pformat(fn: Function) -> str:
    """A stable, line-per-statement text form used in tests and bug reports."""
    lines = [f"def {fn.name}({', '.join(map(str, fn.params))}):"]
    format_block(fn.body, 1, lines)
    lines.append(f"    return {fn.result}")
    return "\n".join(lines)


def format_block(stmts: Block, depth: int, lines: list[str]) -> None:
    pad = "    " * depth
    for s in stmts:
        if isinstance(s, Assign):
            args = ", ".join(map(str, s.args))
            params = "".join(f", {k}={v!r}" for k, v in s.params)
            lines.append(f"{pad}{s.target} = {s.prim.name}({args}{params})")
        elif isinstance(s, Push):
            lines.append(f"{pad}push {s.tape} <- ({', '.join(map(str, s.values))})")
        elif isinstance(s, Pop):
            lines.append(f"{pad}({', '.join(map(str, s.targets))}) <- pop {s.tape}")
        elif isinstance(s, If):
            lines.append(f"{pad}if {s.cond}:")
            format_block(s.then, depth + 1, lines)
            lines.append(f"{pad}else:")
            format_block(s.orelse, depth + 1, lines)
            for p in s.phis:
                lines.append(f"{pad}{p.target} = phi({p.then}, {p.orelse})")
        else:
            carries = ", ".join(f"{c.var}={c.init}->{c.next}" for c in s.carries)
            head = ", ".join(map(str, s.header)) if s.kind is not LoopKind.WHILE else str(s.cond)
            lines.append(
                f"{pad}loop {s.kind.value}({head}) index={s.index} [{carries}] exit={s.exit}:"
            )
            format_block(s.cond_block + s.body, depth + 1, lines)
            for c in s.carries:
                lines.append(f"{pad}{c.out} = {c.var}")
