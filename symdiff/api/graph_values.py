"""Which values of a gradient program a drawing treats specially: shape bookkeeping, which
it hides, and adjoints, which the seed reaches (see ``api.graph``).

Shape bookkeeping is computed from shapes alone: ``np.shape``, ``np.size``, ``len``,
``np.broadcast_shapes`` and arithmetic on those. None of it carries a derivative, and in a
broadcasting function it is most of the backward sweep. Adjoints are what the reverse pass
registered as the adjoint of a value, plus what branches merge and loops carry into them.
"""

from __future__ import annotations

from typing import Iterator

from ..ad.program import GradProgram
from ..ir import nodes as ir
from ..ir import primitives as P

# values computed from shapes only (see the module docstring); zeros do not depend on the seed
_SHAPES = frozenset(
    {P.np_shape, P.shape_attr, P.np_size, P.size_attr, P.ndim_attr, P.np_ndim, P.b_len,
     P.np_broadcast_shapes}
)  # fmt: skip
ZEROS = frozenset({P.np_zeros_like})
# arithmetic that keeps a shape a shape (``np.prod(shape)``, ``shape[0] * 2``); an operation
# making an array from one (``np.broadcast_to(-1.0, shape)``) makes a value worth drawing
_SHAPE_ARITHMETIC = frozenset(
    {P.getitem, P.tuple_item, P.make_tuple, P.np_prod, P.b_int, P.b_float, P.b_max, P.b_min}
)


def assigns(block: ir.Block) -> Iterator[ir.Assign]:
    """Every assignment of ``block``, inside branches and loops too, in program order."""
    for stmt in block:
        if isinstance(stmt, ir.Assign):
            yield stmt
        elif isinstance(stmt, ir.If):
            yield from assigns(stmt.then)
            yield from assigns(stmt.orelse)
        elif isinstance(stmt, ir.Loop):
            yield from assigns(stmt.cond_block)
            yield from assigns(stmt.body)


def bookkeeping(prog: GradProgram) -> set[ir.Var]:
    """The values computed from shapes alone: shapes, sizes, lengths, their broadcasts and
    arithmetic on those only. Adjoints, gradients and the result never are
    (``1.0 / np.size(x)``, the adjoint of a mean, is drawn)."""
    keep = {adj for adj, _ in prog.adjoint_of} | {
        a for a in (prog.value, *prog.grads) if isinstance(a, ir.Var)
    }
    hidden: set[ir.Var] = set()
    for stmt in (*assigns(prog.forward), *assigns(prog.backward)):
        if stmt.target in keep:
            continue
        reads = [a for a in stmt.args if isinstance(a, ir.Var)]
        arithmetic = stmt.prim.form.operator or stmt.prim in _SHAPE_ARITHMETIC
        if stmt.prim in _SHAPES or (arithmetic and reads and all(a in hidden for a in reads)):
            hidden.add(stmt.target)
    return hidden


def adjoint_values(prog: GradProgram) -> set[ir.Var]:
    """The adjoints of the backward sweep, with what branches and loops make them from: a
    branch's result for an adjoint merged after it, a loop's initial and next values of a
    carried adjoint."""
    found = {adj for adj, _ in prog.adjoint_of} | {g for g in prog.grads if isinstance(g, ir.Var)}
    flows: list[tuple[ir.Var, list[ir.Atom]]] = []

    def walk(block: ir.Block) -> None:
        for stmt in block:
            if isinstance(stmt, ir.If):
                flows.extend((p.target, [p.then, p.orelse]) for p in stmt.phis)
                walk(stmt.then)
                walk(stmt.orelse)
            elif isinstance(stmt, ir.Loop):
                for c in stmt.carries:
                    flows.extend([(c.out, [c.var]), (c.var, [c.init, c.next, c.out])])
                walk(stmt.cond_block)
                walk(stmt.body)

    walk(prog.backward)
    grown = True
    while grown:
        grown = False
        for target, sources in flows:
            if target in found:
                new = {a for a in sources if isinstance(a, ir.Var)} - found
                found |= new
                grown = grown or bool(new)
    return found
