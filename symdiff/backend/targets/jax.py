"""JAX: ``jax.numpy`` spellings, functional updates, and code ``jax.jit`` can trace.

JAX arrays are immutable, so ``y[i] = v`` is written ``y = y.at[i].set(v)`` and a scatter-add
``y = y.at[i].add(v)``. Under ``jax.jit`` a Python ``if`` on a traced value cannot run, so a
data-dependent branch whose two sides are short and pure is written as ``jnp.where`` over
both (``targets.branches``); any other is refused when the gradient is built. A matrix
product's adjoint ``X.T @ d`` with a vector ``d`` is written ``d @ X``, which XLA on CPU
computes without materialising the transpose (``matmul_adjoint_b``). ``math.sin`` is
written ``jnp.sin``: under ``jax.jit`` a Python float argument is a tracer too.
"""

from __future__ import annotations

from types import MappingProxyType

from ...abstract.values import AbstractValue, Kind
from ...ir import primitives as P
from ...ir.nodes import Assign
from ...optimize import typed_linalg
from ...optimize.typed import Replacement, Types
from .base import Backend
from .shared import NAMESPACE_HELPERS


def matmul_adjoint_b(stmt: Assign, types: Types) -> Replacement:
    """The adjoint of ``x`` in ``W @ x`` for a vector ``x`` as ``d @ W``: the same numbers
    as ``W.T @ d``, without a transpose for XLA to materialise. Other cases as for NumPy."""
    g, a, b = stmt.args
    va, vb, vg = types.of(a), types.of(b), types.of(g)
    if _rank(va) == 2 and _rank(vb) == 1 and _rank(vg) == 1:
        return (Assign(stmt.target, P.matmul, (g, a), (), stmt.loc),)
    return typed_linalg.grad_b(stmt, types)


def _rank(v: AbstractValue) -> int | None:
    return len(v.shape) if v.kind is Kind.ARRAY and v.shape is not None else None


BACKEND = Backend(
    name="jax",
    library="jax.numpy",
    alias="jnp",
    helpers=MappingProxyType(NAMESPACE_HELPERS),
    rewrites=MappingProxyType({P.matmul_grad_b: matmul_adjoint_b}),
    functional=True,
    traced=True,
    math_in_namespace=True,
    array_modules=("jax", "jaxlib"),
    install="symdiff[jax]",
    notes="jax.numpy; functional updates; data-dependent branches as jnp.where.",
)
