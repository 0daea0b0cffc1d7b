"""Typed rewrites of the matrix product's adjoints: the products a person writes.

``matmul_grad_a`` and ``matmul_grad_b`` handle every mix of vectors, matrices and stacks by
testing ranks at run time. With the ranks known, each case is one product: the weight
gradient of a layer ``W @ x`` is ``np.outer(d, x)``, what it passes back ``W.T @ d``; a
batch ``X @ W`` gives ``X.T @ d`` and ``d @ W.T``; a dot product of two vectors ``d * y``.
Stacks (rank above 2) keep the helper, which also sums a broadcast batch axis.
"""

from __future__ import annotations

from ..abstract.values import AbstractValue, Kind
from ..ir import primitives as P
from ..ir.nodes import Assign, Atom, Primitive
from .typed import Replacement, Rewrite, Types


def _rank(v: AbstractValue) -> int | None:
    if v.kind is Kind.ARRAY and v.shape is not None:
        return len(v.shape)
    return None


def _transposed(x: Atom, stmt: Assign, types: Types) -> tuple[Assign, Atom]:
    t = types.fresh()
    return Assign(t, P.T_attr, (x,), (), stmt.loc), t


def grad_a(stmt: Assign, types: Types) -> Replacement:
    """The adjoint of ``a`` in ``a @ b``."""
    g, a, b = stmt.args
    ra, rb, rg = _rank(types.of(a)), _rank(types.of(b)), _rank(types.of(g))
    if ra == 2 and rb == 1 and rg == 1:  # W @ x: the outer product
        return (Assign(stmt.target, P.np_outer, (g, b), (), stmt.loc),)
    if ra == 2 and rb == 2 and rg == 2:  # A @ B: d @ B.T
        t, bt = _transposed(b, stmt, types)
        return (t, Assign(stmt.target, P.matmul, (g, bt), (), stmt.loc))
    if ra == 1 and rb == 2 and rg == 1:  # x @ W: W @ d
        return (Assign(stmt.target, P.matmul, (b, g), (), stmt.loc),)
    if ra == 1 and rb == 1 and types.of(g).is_scalar:  # x @ y: d * y
        return (Assign(stmt.target, P.mul, (g, b), (), stmt.loc),)
    return None


def grad_b(stmt: Assign, types: Types) -> Replacement:
    """The adjoint of ``b`` in ``a @ b``."""
    g, a, b = stmt.args
    ra, rb, rg = _rank(types.of(a)), _rank(types.of(b)), _rank(types.of(g))
    if ra == 2 and rb in (1, 2) and rg == rb:  # W @ x, A @ B: A.T @ d
        t, at = _transposed(a, stmt, types)
        return (t, Assign(stmt.target, P.matmul, (at, g), (), stmt.loc))
    if ra == 1 and rb == 2 and rg == 1:  # x @ W: the outer product
        return (Assign(stmt.target, P.np_outer, (a, g), (), stmt.loc),)
    if ra == 1 and rb == 1 and types.of(g).is_scalar:  # x @ y: d * x
        return (Assign(stmt.target, P.mul, (g, a), (), stmt.loc),)
    return None


REWRITES: dict[Primitive, Rewrite] = {P.matmul_grad_a: grad_a, P.matmul_grad_b: grad_b}
