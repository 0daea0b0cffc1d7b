"""Typed rewrites of broadcasting bookkeeping: what ``unbroadcast`` and friends come to
when the ranks and unit axes of their operands are known.

``unbroadcast(d, x)`` sums ``d`` over the axes broadcasting stretched ``x`` along. Which
axes those are follows from the types alone: the leading axes ``d`` has beyond ``x``'s rank,
and the axes where ``x`` has length 1 (summed keeping the axis). An axis of ``x`` known not
to be 1 was never stretched (the forward operation ran, so ``d``'s length there is
``x``'s). An axis that may or may not be 1 leaves the call as it is.
"""

from __future__ import annotations

from ..abstract.values import Extent, Kind
from ..ir import primitives as P
from ..ir.nodes import Assign, Const, Primitive
from .typed import Replacement, Rewrite, Types


def unbroadcast(stmt: Assign, types: Types) -> Replacement:
    d, x = stmt.args
    td, tx = types.of(d), types.of(x)
    if tx.is_scalar:  # a scalar operand: everything broadcasting added is summed away
        if td.is_scalar:
            return d
        if td.kind is Kind.ARRAY and td.shape is not None:
            return (Assign(stmt.target, P.np_sum, (d,), (), stmt.loc),)
        return None
    if tx.kind is not Kind.ARRAY or tx.shape is None or td.shape is None:
        return None
    if td.kind is not Kind.ARRAY or len(td.shape) < len(tx.shape):
        return None
    if Extent.ANY in tx.shape:
        return None
    lead = len(td.shape) - len(tx.shape)
    tail = td.shape[lead:]
    kept = tuple(k for k, n in enumerate(tx.shape) if n == 1 and tail[k] != 1)
    if not lead and not kept:
        return d
    out: list[Assign] = []
    source = d
    if lead:
        axes = tuple(range(lead))
        target = stmt.target if not kept else types.fresh()
        out.append(Assign(target, P.np_sum, (source,), (("axis", _axis(axes)),), stmt.loc))
        source = target
    if kept:
        params = (("axis", _axis(kept)), ("keepdims", True))
        out.append(Assign(stmt.target, P.np_sum, (source,), params, stmt.loc))
    return tuple(out)


def _axis(axes: tuple[int, ...]) -> int | tuple[int, ...]:
    return axes[0] if len(axes) == 1 else axes


def zeros_like(stmt: Assign, types: Types) -> Replacement:
    """An adjoint accumulator of a Python float starts at ``0.0``, not at a 0-d array (which
    would make every update an array operation and the gradient an array)."""
    if not types.backward:
        return None
    (x,) = stmt.args
    if types.of(x).kind is Kind.FLOAT and not stmt.params:
        return Const(0.0)
    return None


REWRITES: dict[Primitive, Rewrite] = {
    P.unbroadcast: unbroadcast,
    P.np_zeros_like: zeros_like,
}
