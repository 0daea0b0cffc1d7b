"""The one abstract-evaluation table: every primitive of the catalogue -> its rule.

The table is assembled from the rule modules, one job each (the helpers only gradients call
included). A primitive whose result cannot be described from its arguments' abstract values is listed in ``UNDESCRIBED`` with the reason: its rule
answers the explicit ``UNKNOWN``, never a guess, and a test keeps the table complete.
"""

from __future__ import annotations

from typing import Any

from ..ir import primitives as P
from ..ir.nodes import Assign, Const, Primitive
from . import construct, elementwise, helpers, indexing, linalg, reductions, shaping
from .call import NOT_CONST, Call, Rule
from .values import (
    BOOL,
    NONE,
    UNKNOWN,
    AbstractValue,
    of,
)


def catalogue() -> list[Primitive]:
    """Every primitive object ``ir.primitives`` defines (two share a name with another, so
    the name table alone would miss them), in a stable order."""
    seen: dict[int, Primitive] = {}
    for obj in [*vars(P).values(), *P.ALL.values(), *P.HELPERS]:
        if isinstance(obj, Primitive):
            seen.setdefault(id(obj), obj)
    return sorted(seen.values(), key=lambda p: (p.name, p.form, p.nargs))


def undescribed(call: Call) -> AbstractValue:
    return UNKNOWN


# primitive -> why its result is not described (its rule answers UNKNOWN)
UNDESCRIBED: dict[Primitive, str] = {
    **{
        p: "a gradient helper whose result's kind depends on run-time branches in runtime.py"
        for p in (
            P.norm_grad, P.average_grad, P.einsum_grad, P.tensordot_grad, P.dot_grad,
            P.inner_grad, P.kron_grad, P.permutation_grad, P.permutation_tangent,
            P.linspace_grad,
        )
    },
    # constants with respect to the inputs (frontend: drawn or computed at run time)
    **{
        p: "a random draw: its kind and shape follow its size argument, which may be given "
        "positionally or by keyword and is not tracked yet"
        for p in P.RANDOM
    },
    **{
        p: "integer index arrays whose lengths follow integer values (n, k), which are not "
        "tracked yet"
        for p in (
            P.np_triu_indices, P.np_tril_indices, P.np_triu_indices_from,
            P.np_tril_indices_from, P.np_diag_indices,
        )
    },
    P.np_unique: "its length is the number of distinct values, known only at run time",
}  # fmt: skip


def _isinstance(call: Call) -> AbstractValue:
    return BOOL  # a Python bool, whatever it tests


def _none(call: Call) -> AbstractValue:
    return NONE  # print(...) and assert: statements, whose result is None


def _string(call: Call) -> AbstractValue:
    return of("")  # an f-string: a str, whatever it formats


def _table() -> dict[Primitive, Rule]:
    table: dict[Primitive, Rule] = {}
    for part in (
        elementwise.RULES,
        reductions.RULES,
        shaping.RULES,
        construct.RULES,
        indexing.RULES,
        linalg.RULES,
        helpers.RULES,
    ):
        table.update(part)
    table.update(dict.fromkeys(UNDESCRIBED, undescribed))
    table[P.b_isinstance] = _isinstance
    table[P.b_print] = table[P.b_assert] = _none
    table[P.fstring] = _string
    return table


TABLE: dict[Primitive, Rule] = _table()


def missing() -> list[Primitive]:
    """Primitives of the catalogue the table has no entry for (a test keeps this empty)."""
    return [p for p in catalogue() if p not in TABLE]


def evaluate(
    stmt: Assign, args: tuple[AbstractValue, ...], names: tuple[str, ...] = ()
) -> AbstractValue:
    """The abstract value of ``stmt``'s target, given its arguments' abstract values
    (``names``: how the arguments read in messages, by default the IR's names)."""
    consts = tuple(a.value if isinstance(a, Const) else NOT_CONST for a in stmt.args)
    names = names or tuple(str(a) for a in stmt.args)
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
