"""Which values a graph hides (shape bookkeeping) and which the seed reaches (adjoints)."""

import numpy as np

from symdiff.api.cache import cached_transform
from symdiff.api.graph_values import adjoint_values, assigns, bookkeeping
from symdiff.ir import nodes as ir


def mean_square(x, y):
    return np.mean((x - y) ** 2)


def branch(x):
    if x > 0:
        y = x * x
    else:
        y = -x
    return y


def program(f):
    return cached_transform(f, 0, False).program


def made_by(prog):
    return {s.target: s for s in (*assigns(prog.forward), *assigns(prog.backward))}


def test_bookkeeping_is_shapes_and_arithmetic_on_them_only():
    prog = program(mean_square)
    stmts = made_by(prog)
    hidden = bookkeeping(prog)
    names = sorted(stmts[v].prim.name for v in hidden)
    assert names and set(names) <= {"np.shape", "np.size", "np.broadcast_shapes"}
    # the mean's adjoint, 1 / n, is computed from a size but is an adjoint: drawn
    adjoints = {adj for adj, _ in prog.adjoint_of}
    assert not hidden & adjoints
    assert any(s.prim.name == "div" and s.target in adjoints for s in stmts.values())


def test_an_array_made_from_a_shape_is_not_bookkeeping():
    prog = program(branch)  # the else branch's adjoint is -np.broadcast_to(1.0, np.shape(x))
    stmts = made_by(prog)
    hidden = bookkeeping(prog)
    assert {stmts[v].prim.name for v in hidden} == {"np.shape"}
    assert any(s.prim.name == "np.broadcast_to" and s.target not in hidden
               for s in stmts.values())  # fmt: skip


def test_adjoints_include_what_branches_merge_into_one():
    prog = program(branch)
    found = adjoint_values(prog)
    (if_stmt,) = [s for s in prog.backward if isinstance(s, ir.If)]
    for phi in if_stmt.phis:
        assert {phi.target, phi.then, phi.orelse} <= found
    assert set(prog.grads) <= found
