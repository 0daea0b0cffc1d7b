"""The reference interpreter of the IR.

``run`` evaluates a ``Function`` statement by statement with each primitive's ``impl``.
It is deliberately naive (no emitted Python, no compiler), so tests can compare generated
code and every transformation against what the IR itself means.
"""

from __future__ import annotations

from typing import Any

from .nodes import Assign, Atom, Block, Const, Function, If, Loop, LoopKind, Pop, Push, Var


class _Pushed(tuple):
    """The values one ``Push`` put on a tape, told apart from the items of a list value."""


def run(fn: Function, *args: Any) -> Any:
    """Evaluate the IR directly: the reference the lowered program is tested against."""
    env: dict[Var, Any] = dict(zip(fn.params, args, strict=True))
    run_block(fn.body, env)
    return _value(fn.result, env)


def _value(a: Atom, env: dict) -> Any:
    return a.value if isinstance(a, Const) else env[a]


def run_block(stmts: Block, env: dict[Var, Any]) -> None:
    val = lambda a: _value(a, env)  # noqa: E731
    for s in stmts:
        if isinstance(s, Assign):
            env[s.target] = s.prim.impl(*map(val, s.args), **dict(s.params))
        elif isinstance(s, Push):
            env[s.tape].append(_Pushed(map(val, s.values)))
        elif isinstance(s, Pop):
            item = env[s.tape].pop()
            # a tape gives back what one Push put on it; a list value (a list's adjoint,
            # read back item by item) gives one of its items
            env.update(zip(s.targets, item if isinstance(item, _Pushed) else (item,), strict=True))
        elif isinstance(s, If):
            taken = bool(val(s.cond))
            run_block(s.then if taken else s.orelse, env)
            for p in s.phis:
                env[p.target] = val(p.then if taken else p.orelse)
        else:
            _run_loop(s, env)


def _run_loop(s: Loop, env: dict[Var, Any]) -> None:
    val = lambda a: _value(a, env)  # noqa: E731
    for c in s.carries:
        env[c.var] = val(c.init)
    if s.kind is LoopKind.WHILE:
        indices: Any = iter(int, 1)  # forever; the condition ends it
    else:
        indices = range(*map(val, s.header))
        if s.kind is LoopKind.REVERSED:
            indices = reversed(indices)
    for i in indices:
        if s.kind is LoopKind.WHILE:
            run_block(s.cond_block, env)
            if not val(s.cond):
                break
        if s.index is not None:
            env[s.index] = i
        run_block(s.body, env)
        nxt = [val(c.next) for c in s.carries]
        for c, v in zip(s.carries, nxt):
            env[c.var] = v
        if s.exit is not None and val(s.exit):
            break
    for c in s.carries:
        env[c.out] = env[c.var]
