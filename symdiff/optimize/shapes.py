"""Values a gradient reads only for their shapes are not computed.

Reverse rules ask for shapes they cannot know when the code is generated: the mean's rule
divides by ``np.size(x)``, and a broadcasting operation hands its operand's adjoint to
``unbroadcast(g, x)``, which reads only ``x``'s shape. In ``_value_and_grad`` those values
are computed anyway, for the result. In ``_grad`` they often are not otherwise needed, and
computing ``np.maximum(z, 0) + np.log1p(t)`` only to learn its shape is a full pass over the
data for nothing.

A broadcasting operation's shape is the broadcast of its operands' shapes, so such a value
can be replaced, in its shape reads only, by those: ``np.size(a - b)`` becomes
``np.prod(np.broadcast_shapes(np.shape(a), np.shape(b)))`` and ``unbroadcast(g, a - b)``
becomes ``sum_to(g, <that shape>)``; with one array operand, the operand itself stands in.
The operands may then be read only for their shapes in turn, so this repeats. Only
statements outside branches and loops take part; any other read keeps a value.
"""

from __future__ import annotations

import numpy as np

from ..ir import primitives as P
from ..ir.nodes import Assign, Atom, Block, Const, Var, substitute, used_by
from ..naming import INTERNAL_PREFIX

# operations that make Python sequences (shapes and tuples), never arrays
_SEQUENCES = frozenset(
    {P.np_shape, P.shape_attr, P.np_broadcast_shapes, P.make_tuple, *P.LIST_MAKERS}
)
# primitive -> the argument position read only for its shape
_SHAPE_READS = {P.np_shape: 0, P.shape_attr: 0, P.np_size: 0, P.size_attr: 0, P.unbroadcast: 1}


def shape_position(stmt) -> int | None:
    """The position of the argument ``stmt`` reads only for its shape (``np.size(x)``, not
    ``np.size(x, 0)``), if any."""
    if not isinstance(stmt, Assign) or stmt.prim not in _SHAPE_READS or stmt.params:
        return None
    pos = _SHAPE_READS[stmt.prim]
    return pos if len(stmt.args) == pos + 1 else None


def _broadcasts(stmt: Assign) -> bool:
    """The result's shape is the broadcast of the arguments' shapes."""
    prim = stmt.prim
    if prim in (P.matmul, P.not_) or not stmt.args:  # `not x` is one bool, whatever x is
        return False
    if prim.form.operator:
        return True
    if isinstance(prim.impl, np.ufunc):  # not a generalized one: np.matmul has a signature
        return prim.impl.signature is None
    return prim in (P.np_where, P.np_clip) or (prim.elementwise and len(stmt.args) == 1)


def _array_operands(stmt: Assign) -> list[Atom]:
    """The operands that can have a shape: variables, and constants that are arrays."""
    return [a for a in stmt.args if isinstance(a, Var) or np.ndim(a.value) > 0]


def _numeric(stmt: Assign, made_by: dict[Var, Assign]) -> bool:
    """No operand is a Python sequence: ``shape + (1,)`` concatenates, ``xs * 2`` repeats,
    and their sizes are not broadcast shapes."""
    for a in stmt.args:
        if isinstance(a, Const):
            if isinstance(a.value, (tuple, list, str, bytes)):
                return False
        elif a in made_by and made_by[a].prim in _SEQUENCES:
            return False
    return True


def detach(forward: Block, backward: Block, outputs: set[Var]) -> tuple[Block, Block]:
    """``forward`` and ``backward`` with values read only for their shapes replaced, in those
    reads, by shapes computed from their operands (see the module docstring). ``outputs``
    are read in full: results, gradients."""
    # (statement, in the backward block?): inserted statements go where the value was made
    body = [(s, False) for s in forward] + [(s, True) for s in backward]
    taken = {s.target.name for s, _ in body if isinstance(s, Assign)}
    names = (f"{INTERNAL_PREFIX}shape{n}" for n in range(1, 1 << 30))

    def fresh() -> Var:
        name = next(n for n in names if n not in taken)
        return Var(name)

    while True:
        shape_reads: dict[Var, list[int]] = {}
        full: set[Var] = set(outputs)
        for i, (s, _) in enumerate(body):
            pos = shape_position(s)
            for k, a in enumerate(used_by(s)):
                if not isinstance(a, Var):
                    continue
                if k == pos:
                    shape_reads.setdefault(a, []).append(i)
                else:
                    full.add(a)
        made_by = {s.target: s for s, _ in body if isinstance(s, Assign)}
        found = next(
            (
                i
                for i, (s, _) in enumerate(body)
                if isinstance(s, Assign)
                and s.target in shape_reads
                and s.target not in full
                and _broadcasts(s)
                and _array_operands(s)
                and _numeric(s, made_by)
            ),
            None,
        )
        if found is None:
            break
        read = body[found][0]
        assert isinstance(read, Assign)  # the search above matches assignments only
        body = _replace(body, found, shape_reads[read.target], fresh)
    body = _share(body)
    return (
        tuple(s for s, back in body if not back),
        tuple(s for s, back in body if back),
    )


def _share(body: list) -> list:
    """One statement per shape computation: the shapes written here and the ones the rules
    wrote (``np.broadcast_shapes(np.shape(a), np.shape(b))``) are often the same."""
    first: dict[tuple, Var] = {}
    renamed: dict[Var, Atom] = {}
    out = []
    for s, where in body:
        if isinstance(s, Assign) and s.prim in (P.np_shape, P.shape_attr, P.np_broadcast_shapes):
            args = tuple(renamed.get(a, a) if isinstance(a, Var) else a for a in s.args)
            key = (P.np_shape if s.prim is P.shape_attr else s.prim, args, s.params)
            if key in first:
                renamed[s.target] = first[key]
                continue
            first[key] = s.target
        out.append((s, where))
    return _renamed(out, renamed)


def _renamed(body: list, mapping: dict[Var, Atom]) -> list:
    """``substitute`` over (statement, block) pairs."""
    if not mapping:
        return body
    stmts = substitute(tuple(s for s, _ in body), mapping)
    return [(s, where) for s, (_, where) in zip(stmts, body)]


def _replace(body: list, i: int, reads: list[int], fresh) -> list:
    """The body with the shape reads of the value statement ``i`` makes rewritten."""
    s, back = body[i]
    operands = _array_operands(s)
    new: list[Assign] = []
    shape = None
    if len(operands) > 1:
        parts = []
        for a in operands:
            parts.append(fresh())
            new.append(Assign(parts[-1], P.np_shape, (a,), (), s.loc))
        shape = fresh()
        new.append(Assign(shape, P.np_broadcast_shapes, tuple(parts), (), s.loc))
    renamed: dict[Var, Atom] = {}
    out: list = list(body)
    for j in reads:
        r, where = out[j]
        if shape is None:  # one operand has the shape: read it instead
            pos = _SHAPE_READS[r.prim]
            args = tuple(operands[0] if k == pos else a for k, a in enumerate(r.args))
            out[j] = (Assign(r.target, r.prim, args, r.params, r.loc), where)
        elif r.prim in (P.np_shape, P.shape_attr):
            renamed[r.target] = shape
            out[j] = None
        elif r.prim in (P.np_size, P.size_attr):
            out[j] = (Assign(r.target, P.np_prod, (shape,), (("dtype", int),), r.loc), where)
        else:  # unbroadcast(g, x)
            out[j] = (Assign(r.target, P.sum_to, (r.args[0], shape), (), r.loc), where)
    out = out[:i] + [(n, back) for n in new] + out[i + 1 :]  # x itself is no longer made
    return _renamed([item for item in out if item is not None], renamed)
