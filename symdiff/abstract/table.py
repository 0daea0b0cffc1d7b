"""The one abstract-evaluation table: every primitive of the catalogue -> its rule.

The table is assembled from the rule modules (one job each) plus the rules for the helpers
only gradients call (lists, tapes, tuples). A primitive whose result cannot be described
from its arguents' abstract values is listed in ``UNDESCRIBED`` with the reason: its rule
answers the explicit ``UNKNOWN``, never a guess, and a test keeps the table complete.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ir import primitives as P
from ..ir.nodes import Assign, Const, Primitive
from . import construct, elementwise, indexing, linalg, reductions, shaping
from .call import NOT_CONST, Call, Rule, given_dtype, numeric
from .reductions import sum_dtype
from .values import (
    FLOAT,
    INT,
    UNKNOWN,
    AbstractValue,
    Extent,
    Kind,
    array,
    join,
    list_of,
    tuple_of,
)


def catalogue() -> list[Primitive]:
    """Every primitive object ``ir.primitives`` defines (two share a name with another, so
    the name table alone would miss them), in a stable order."""
    seen: dict[int, Primitive] = {}
    for obj in [*vars(P).values(), *P.ALL.values(), *P.HELPERS]:
        if isinstance(obj, Primitive):
            seen.setdefault(id(obj), obj)
    return sorted(seen.values(), key=lambda p: (p.name, p.form, p.nargs))


# ----------------------------------------------------------------------------- helpers


def unbroadcast_value(call: Call, g: AbstractValue, x: AbstractValue) -> AbstractValue:
    """``g`` summed down to ``x``'s shape. Where it is not known whether a sum happens (an
    axis of ``x`` that may be 1), the result is the join of both possibilities."""
    if not (g.is_numeric and x.is_numeric) or g.shape is None or x.shape is None:
        return UNKNOWN
    lead = len(g.shape) - len(x.shape)
    if lead < 0:
        return UNKNOWN
    tail = g.shape[lead:]
    definite = lead > 0 or any(d == 1 and e != 1 for d, e in zip(x.shape, tail))
    maybe = any(d is Extent.ANY and e != 1 for d, e in zip(x.shape, tail))
    summed = numeric(
        sum_dtype(g), tuple(1 if d == 1 else e for d, e in zip(x.shape, tail)), scalar=True
    )
    if definite:
        return summed
    return join(g, summed) if maybe else g


def unbroadcast_rule(call: Call) -> AbstractValue:
    return unbroadcast_value(call, call.args[0], call.args[1])


def first_rule(call: Call) -> AbstractValue:
    """``scalar_checked(x, value)`` returns ``x`` once ``value`` is known to be a scalar."""
    return call.args[0]


def float_rule(call: Call) -> AbstractValue:
    return FLOAT


def unstack_rule(call: Call) -> AbstractValue:
    g = call.args[0]
    if not g.is_numeric or g.shape is None or not g.shape:
        return UNKNOWN
    axis = call.param("axis", 0) % len(g.shape)
    item = array(g.dtype, g.shape[:axis] + g.shape[axis + 1 :])
    return list_of(item)


def zeros_like_list_rule(call: Call) -> AbstractValue:
    xs = call.args[0]
    if xs.kind is not Kind.LIST:
        return UNKNOWN
    if xs.item is None:
        return list_of(None)
    return list_of(array(np.float64, xs.item.shape) if xs.item.is_numeric else UNKNOWN)


def _add_items(call: Call, a: AbstractValue, b: AbstractValue) -> AbstractValue:
    sub = Call(P.add, (a, b), (NOT_CONST, NOT_CONST), {}, call.loc, ("x", "y"))
    return elementwise.operator_rule(sub)


def add_lists_rule(call: Call) -> AbstractValue:
    a, b = call.args
    if a.kind is not Kind.LIST or b.kind is not Kind.LIST:
        return UNKNOWN
    if a.item is None or b.item is None:
        return list_of(None)  # zip stops at the shorter: an empty list
    return list_of(_add_items(call, a.item, b.item))


def sum_list_grad_rule(call: Call) -> AbstractValue:
    g, xs = call.args
    if xs.kind is not Kind.LIST:
        return UNKNOWN
    return list_of(None if xs.item is None else unbroadcast_value(call, g, xs.item))


def make_list_rule(call: Call) -> AbstractValue:
    item: AbstractValue | None = None
    for a in call.args:
        item = a if item is None else join(item, a)
    return list_of(item)


def append_rule(call: Call) -> AbstractValue:
    xs, v = call.args
    if xs.kind is not Kind.LIST:
        return UNKNOWN
    return list_of(v if xs.item is None else join(xs.item, v))


def sum_list_rule(call: Call) -> AbstractValue:
    """``sum(xs)`` starts from the int 0: an empty list gives 0, so unless the items are
    ints the result is the join of int and ``0 + item``."""
    xs = call.args[0]
    if xs.kind is not Kind.LIST:
        return UNKNOWN
    if xs.item is None:
        return INT
    return join(INT, _add_items(call, INT, xs.item))


def tuple_rule(call: Call) -> AbstractValue:
    return tuple_of(call.args)


def new_tape_rule(call: Call) -> AbstractValue:
    return list_of(None)


def as_float_rule(call: Call) -> AbstractValue:
    m = call.args[0]
    if not m.is_numeric:
        return UNKNOWN
    return array(given_dtype(call, lambda: np.dtype(np.float64)), m.shape)


def undescribed(call: Call) -> AbstractValue:
    return UNKNOWN


# primitive -> why its result is not described (its rule answers UNKNOWN)
UNDESCRIBED: dict[Primitive, str] = {
    **{
        p: "a gradient helper whose result's kind depends on run-time branches in runtime.py"
        for p in (
            P.sum_to, P.matmul_grad_a, P.matmul_grad_b, P.unconcat, P.prod_grad,
            P.median_grad, P.sort_grad, P.cumprod_grad, P.diff_grad, P.norm_grad,
            P.average_grad, P.take_grad, P.diagonal_grad, P.diag_grad, P.tile_grad,
            P.repeat_grad, P.unpad, P.rollaxis_grad, P.unjoin, P.unsplit, P.einsum_grad,
            P.tensordot_grad, P.dot_grad, P.inner_grad, P.kron_grad, P.convolve_grad,
            P.solve_adjoint, P.solve_grad_a, P.eigh_grad, P.cholesky_grad, P.svd_grad,
            P.permutation_grad, P.permutation_tangent, P.cholesky_tangent,
            P.eigvalsh_tangent, P.eigh_vectors_tangent, P.linspace_grad,
        )
    },
}  # fmt: skip

HELPER_RULES: dict[Primitive, Rule] = {
    P.unbroadcast: unbroadcast_rule, P.scalar_checked: first_rule, P.scalar_seed: float_rule,
    P.unstack: unstack_rule, P.zeros_like_list: zeros_like_list_rule,
    P.add_lists: add_lists_rule, P.sum_list_grad: sum_list_grad_rule,
    P.make_list: make_list_rule, P.list_append: append_rule, P.sum_list: sum_list_rule,
    P.make_tuple: tuple_rule, P.new_tape: new_tape_rule, P.as_float: as_float_rule,
}  # fmt: skip


def _table() -> dict[Primitive, Rule]:
    table: dict[Primitive, Rule] = {}
    for part in (
        elementwise.RULES,
        reductions.RULES,
        shaping.RULES,
        construct.RULES,
        indexing.RULES,
        linalg.RULES,
        HELPER_RULES,
    ):
        table.update(part)
    table.update(dict.fromkeys(UNDESCRIBED, undescribed))
    return table


TABLE: dict[Primitive, Rule] = _table()


def missing() -> list[Primitive]:
    """Primitives of the catalogue the table has no entry for (a test keeps this empty)."""
    return [p for p in catalogue() if p not in TABLE]


def evaluate(stmt: Assign, args: tuple[AbstractValue, ...]) -> AbstractValue:
    """The abstract value of ``stmt``'s target, given its arguments' abstract values."""
    consts = tuple(a.value if isinstance(a, Const) else NOT_CONST for a in stmt.args)
    names = tuple(str(a) for a in stmt.args)
    return apply(stmt.prim, args, consts, dict(stmt.params), stmt.loc, names)


def apply(
    prim: Primitive,
    args: tuple[AbstractValue, ...],
    consts: tuple[Any, ...] | None = None,
    params: dict[str, Any] | None = None,
    loc: Any = None,
    names: tuple[str, ...] = (),
) -> AbstractValue:
    """Run ``prim``'s rule on abstract arguments (``consts``: the constant ones' values)."""
    rule = TABLE.get(prim)
    if rule is None:
        return UNKNOWN
    call = Call(prim, args, consts or (NOT_CONST,) * len(args), params or {}, loc, names)
    return rule(call)
