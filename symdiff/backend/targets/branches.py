"""Branches a tracing compiler can run: a data-dependent ``if`` as a ``where``.

Under ``jax.jit`` a Python ``if`` on a traced value cannot be decided while tracing (nor,
on a dask array, without computing it: ``Backend.traced`` says which backends). When
both sides of such a branch are short and pure (plain assignments: no loop, tape, update or
nested branch left), both are computed and each value the branch merges is chosen with
``np.where(cond, then, orelse)``, which a JAX backend writes ``jnp.where``. This is exact
for the values chosen: the side not taken may compute a nan or inf (``np.log`` of a
negative number) that ``where`` never selects, and a derivative program built already
differentiates no ``where`` here. Any other data-dependent branch is refused when the
gradient is built, at the line of the ``if``. A branch on shapes or constants is decided
while tracing and stays an ``if``.
"""

from __future__ import annotations

import dataclasses

from ...ad.program import GradProgram
from ...errors import BackendError
from ...ir import primitives as P
from ...ir.nodes import Assign, Block, Const, If, Loop, LoopKind, Var
from ..facts import is_update
from .base import Backend

# a side longer than this is not "cheap": computing both would double real work
MAX_SIDE = 12

# primitives whose result is known while tracing (shapes, ranks and sizes are static)
_STATIC = frozenset(
    {P.shape_attr, P.ndim_attr, P.size_attr, P.b_len, P.np_shape, P.np_size, P.np_ndim}
)


def traceable(prog: GradProgram, backend: Backend) -> GradProgram:
    """``prog`` with every data-dependent branch written as ``where`` (or refused)."""
    static = static_vars(prog.forward + prog.backward)
    forward = _block(prog.forward, static, backend)
    backward = _block(prog.backward, static, backend)
    return dataclasses.replace(prog, forward=forward, backward=backward)


def static_vars(block: Block) -> set[Var]:
    """Variables whose values a tracer knows: computed from shapes and constants only."""
    static: set[Var] = set()
    changed = True
    while changed:
        changed = False
        for s in _walk(block):
            if isinstance(s, Assign) and s.target not in static:
                if s.prim in _STATIC or (
                    s.args and all(isinstance(a, Const) or a in static for a in s.args)
                ):
                    static.add(s.target)
                    changed = True
            elif isinstance(s, Loop) and s.index is not None and s.index not in static:
                if s.kind is not LoopKind.WHILE and all(
                    isinstance(a, Const) or a in static for a in s.header
                ):
                    static.add(s.index)
                    changed = True
    return static


def _block(block: Block, static: set[Var], backend: Backend) -> Block:
    out: list = []
    for s in block:
        if isinstance(s, If):
            then, orelse = _block(s.then, static, backend), _block(s.orelse, static, backend)
            if isinstance(s.cond, Const) or s.cond in static:
                out.append(dataclasses.replace(s, then=then, orelse=orelse))
                continue
            why = _not_selectable(then) or _not_selectable(orelse)
            if why:
                raise BackendError(
                    f"the {backend.name!r} backend cannot branch here on a value it only knows "
                    f"when the result is computed (traced or lazy): {why}",
                    s.loc,
                    "write the choice with np.where(cond, a, b), move the work out of the "
                    "branch, or use backend='numpy'",
                )
            out += then + orelse
            out += [
                Assign(p.target, P.np_where, (s.cond, p.then, p.orelse), (), s.loc) for p in s.phis
            ]
        elif isinstance(s, Loop):
            out.append(
                dataclasses.replace(
                    s,
                    body=_block(s.body, static, backend),
                    cond_block=_block(s.cond_block, static, backend),
                )
            )
        else:
            out.append(s)
    return tuple(out)


def _not_selectable(side: Block) -> str:
    """Why the statements of one side cannot both be computed ("" when they can)."""
    if len(side) > MAX_SIDE:
        return f"a side of {len(side)} statements (at most {MAX_SIDE} are computed both ways)"
    for s in side:
        if not isinstance(s, Assign):
            kind = (
                "a loop" if isinstance(s, Loop) else "a branch" if isinstance(s, If) else "a tape"
            )
            return f"a side holds {kind}, which cannot be computed both ways"
        if is_update(s.prim):
            return "a side updates a value in place"
    return ""


def _walk(block: Block):  # type: ignore[no-untyped-def]
    for s in block:
        yield s
        if isinstance(s, If):
            yield from _walk(s.then)
            yield from _walk(s.orelse)
        elif isinstance(s, Loop):
            yield from _walk(s.cond_block)
            yield from _walk(s.body)
