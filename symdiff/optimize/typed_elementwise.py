"""Typed rewrites of elementwise arithmetic: what a person would not write once the types
are known.

Three kinds of bookkeeping go, each by one rule that holds for every primitive it names
(the adjoints of ``np.where`` are ``typed_where``'s):

* **Repeated values.** A rule hands a lazy adjoint on as ``np.broadcast_to(g, S)`` (or
  ``np.full_like(x, g)``), in case nothing else gives the result its shape. When the other
  operands of the elementwise operation reading it already broadcast to ``S`` (``fits``),
  ``g`` itself gives the same result: ``np.broadcast_to(1.0, S) * y`` is ``1.0 * y``. When
  they are all scalars, the result is the scalar result repeated:
  ``np.full_like(x, g * y)``.
* **Constants that change nothing.** ``1.0 * x``, ``x / 1``, ``x + 0.0``, ``x ** 1`` are
  ``x``; ``-1.0 * x`` and ``0.0 - x`` are ``-x``; ``-(-x)`` is ``x``; ``x + -y`` is
  ``x - y`` (and ``x + -a * b`` is ``x - a * b``); an operation on constants alone is folded
  when the result is one of them or none has a name. ``x + 0.0`` and ``0.0 - x`` may turn a
  zero's sign (``-0.0 + 0.0`` is ``0.0``), which compares equal and is the only difference.
* **Values computed twice.** A pure statement equal to one computed earlier on every path to
  it, up to constants that are the same number (``1`` and ``1.0`` in float arithmetic) and
  the order of the operands of ``+`` and ``*``, reads the earlier value: the ``1.0 / t`` of
  a rule is the forward pass's ``1 / t``.

Every rewrite keeps its target's type exactly (``same_type``: kind, dtype, rank), checked by
evaluating the new statement with the abstract rules, so nothing after it changes meaning:
a ``1.0`` in place of a float64 array of ones would turn float32 arithmetic into float32,
and is left alone there.
"""

from __future__ import annotations

from typing import Any, Hashable

import numpy as np

from ..abstract.table import catalogue, evaluate
from ..abstract.values import AbstractValue, Kind, ShapeError, broadcast_shapes, np_scalar
from ..ir import primitives as P
from ..ir.nodes import Assign, Atom, Const, Effect, Form, Primitive
from .typed import Replacement, Rewrite, Types, fits, number, same_type, value_key
from .typed_broadcast import View, scalar_dtype, view

COMMUTATIVE = frozenset({P.add, P.mul})
REDUCTIONS = frozenset({P.np_sum, P.np_mean, P.np_max, P.np_min, P.np_prod})
_ALSO_PURE = frozenset({P.np_shape, P.shape_attr, P.size_attr, P.T_attr, P.np_float64})


def keeps_type(
    new: Assign, old: Assign, types: Types, known: dict[Atom, AbstractValue] | None = None
) -> bool:
    """``new`` computes a value of exactly the type ``old``'s target has (``known``: the
    types of temporaries made alongside ``new``)."""
    known = known or {}
    try:
        value = evaluate(new, tuple(known.get(a) or types.of(a) for a in new.args))
    except ShapeError:
        return False
    return same_type(value, types.of(old.target))


def with_operation(stmt: Assign, prim: Primitive, args: tuple[Atom, ...]) -> Assign:
    return Assign(stmt.target, prim, args, stmt.params if prim is stmt.prim else (), stmt.loc)


# ----------------------------------------------------------------------------- views


def views(stmt: Assign, types: Types) -> Replacement:
    """Operands that repeat a value (``View``) to a shape the other operands already give:
    the value itself gives the same result."""
    if not stmt.prim.elementwise or len(stmt.args) < 2:
        return None
    args = list(stmt.args)
    before: list[Assign] = []
    changed = False
    for k, b in enumerate(stmt.args):
        seen = view(b, types)
        if seen is None:
            continue
        others = [types.of(x) for j, x in enumerate(args) if j != k]
        if not all(v.is_numeric for v in others):
            continue
        try:
            rest = broadcast_shapes(v.shape for v in others)
        except ShapeError:
            continue
        if not fits(seen.shape, rest):
            continue
        trial = (*args[:k], seen.value, *args[k + 1 :])
        if keeps_type(with_operation(stmt, stmt.prim, trial), stmt, types):
            args = list(trial)
            changed = True
        elif not before and _strong(seen, b, types):
            # a Python float is weak: NumPy computes in the other operands' dtype (float32)
            # where the float64 repetition made it float64; a float64 scalar keeps that
            strong = Assign(types.fresh(), P.np_float64, (seen.value,), (), stmt.loc)
            trial = (*args[:k], strong.target, *args[k + 1 :])
            known: dict[Atom, AbstractValue] = {strong.target: np_scalar(np.float64)}
            if keeps_type(with_operation(stmt, stmt.prim, trial), stmt, types, known):
                before.append(strong)
                args = list(trial)
                changed = True
    return (*before, with_operation(stmt, stmt.prim, tuple(args))) if changed else None


def _strong(seen: View, b: Atom, types: Types) -> bool:
    return types.of(seen.value).kind is Kind.FLOAT and types.of(b).dtype == np.float64


_SPREAD = frozenset({P.add, P.sub, P.mul, P.div, P.neg, P.pos})


def spread(stmt: Assign, types: Types) -> Replacement:
    """An operation of one repeated scalar with scalars (or 0-d arrays) is the scalar
    result repeated:
    ``np.broadcast_to(g, np.shape(x)) * y``, ``y`` a float, is ``np.full_like(x, g * y)``.

    Only the arithmetic operators, which round alike on scalars and arrays, and only in a
    float dtype both sides compute in (Python integers do not wrap as int64 does); a
    division only by a nonzero constant (Python floats raise where arrays give inf)."""
    if stmt.prim not in _SPREAD:
        return None
    if stmt.prim is P.div and number(stmt.args[1]) in (None, 0.0):
        return None
    found = [(k, view(a, types)) for k, a in enumerate(stmt.args)]
    repeated = [(k, v) for k, v in found if v is not None]
    if len(repeated) != 1:
        return None
    k, seen = repeated[0]
    if seen.like is None or not types.of(seen.value).is_scalar:
        return None
    if not all(types.of(a).shape == () for j, a in enumerate(stmt.args) if j != k):
        return None  # scalars and 0-d arrays
    target = types.of(stmt.target)
    if (
        target.dtype is None
        or target.dtype.kind != "f"
        or types.of(seen.like).dtype != target.dtype
    ):
        return None
    scalar = Assign(types.fresh(), stmt.prim, (*stmt.args[:k], seen.value, *stmt.args[k + 1 :]))
    scalar = Assign(scalar.target, scalar.prim, scalar.args, stmt.params, stmt.loc)
    try:
        value = evaluate(scalar, tuple(types.of(a) for a in scalar.args))
        full = Assign(stmt.target, P.np_full_like, (seen.like, scalar.target), (), stmt.loc)
        result = evaluate(full, (types.of(seen.like), value))
    except ShapeError:
        return None
    if scalar_dtype(value) != target.dtype or not same_type(result, target):
        return None
    return (scalar, full)


def unit_operands(stmt: Assign, types: Types) -> Replacement:
    """An operand with every axis 1 (``np.sum(m, keepdims=True)``, a ratio of such) beside
    operands of at least its rank changes nothing in the result's shape, so its one element
    as a scalar gives the same result: ``s / np.sum(m, keepdims=True) * m`` is
    ``s / np.sum(m) * m``. The scalar is computed the same way, by the same operations on
    one element, so it is the same number."""
    if not stmt.prim.elementwise or len(stmt.args) < 2:
        return None
    for k, q in enumerate(stmt.args):
        shape = types.of(q).shape
        if not shape or any(d != 1 for d in shape) or types.of(q).kind is not Kind.ARRAY:
            continue
        others = [types.of(x).shape for j, x in enumerate(stmt.args) if j != k]
        if not any(o is not None and len(o) >= len(shape) for o in others):
            continue
        made: list[Assign] = []
        scalar = _as_scalar(q, types, made, depth=3)
        known = _evaluated(made, types)
        if scalar is None or known is None or known[scalar].dtype != types.of(q).dtype:
            continue
        new = with_operation(stmt, stmt.prim, (*stmt.args[:k], scalar, *stmt.args[k + 1 :]))
        if keeps_type(new, stmt, types, known):
            return (*made, new)
    return None


def _as_scalar(q: Atom, types: Types, made: list[Assign], depth: int) -> Atom | None:
    """Statements (appended to ``made``) computing the one element of the unit array ``q``
    as a scalar, and the atom holding it; None when ``q`` is not made so."""
    if types.of(q).shape == ():
        return q
    stmt = types.definition(q)
    if stmt is None or depth == 0:
        return None
    if stmt.prim is P.np_sum and dict(stmt.params) == {"keepdims": True}:
        target = types.fresh()
        made.append(Assign(target, P.np_sum, stmt.args, (), stmt.loc))
        return target
    if stmt.prim in (P.add, P.sub, P.mul, P.div) and not stmt.params:
        parts = [_as_scalar(a, types, made, depth - 1) for a in stmt.args]
        if any(p is None for p in parts):
            return None
        target = types.fresh()
        made.append(
            Assign(target, stmt.prim, tuple(p for p in parts if p is not None), (), stmt.loc)
        )
        return target
    return None


def _evaluated(made: list[Assign], types: Types) -> dict[Atom, AbstractValue] | None:
    """The types of ``made``'s targets, each a scalar (None if one is not)."""
    known: dict[Atom, AbstractValue] = {}
    for m in made:
        try:
            value = evaluate(m, tuple(known.get(a) or types.of(a) for a in m.args))
        except ShapeError:
            return None
        if value.shape != ():
            return None
        known[m.target] = value
    return known


# ----------------------------------------------------------------------------- constants

_FOLDED = {P.add: 2, P.sub: 2, P.mul: 2, P.div: 2, P.neg: 1, P.pos: 1}


def folded(prim: Primitive, args: tuple[Atom, ...]) -> Const | None:
    """``prim`` applied to Python-number constants, as a constant: the operand itself when
    the result is one of them (``1.0 * ALPHA`` is ``ALPHA``, name kept), a new constant when
    none has a name (``0.5 * 2.0``); None otherwise, or when it raises."""
    if _FOLDED.get(prim) != len(args) or any(number(a) is None for a in args):
        return None
    values = [a.value for a in args if isinstance(a, Const)]
    try:
        result = prim.impl(*values)
    except (ArithmeticError, ValueError):
        return None
    for a in args:
        assert isinstance(a, Const)
        if type(a.value) is type(result) and value_key(a) == value_key(Const(result)):
            return a
    if any(isinstance(a, Const) and a.name for a in args):
        return None
    return Const(result)


def identities(stmt: Assign, types: Types) -> Replacement:
    """Operations with a constant that leaves the other operand as it is, or negates it."""
    prim, args = stmt.prim, stmt.args
    target = types.of(stmt.target)
    const = folded(prim, args)
    if const is not None and same_type(types.of(const), target):
        return const
    pairs: list[tuple[Atom, Atom]] = []
    if prim is P.mul or prim is P.add:
        pairs = [(args[0], args[1]), (args[1], args[0])]
    elif prim in (P.div, P.sub, P.pow) and len(args) == 2:
        pairs = [(args[0], args[1])]
    unit = {P.mul: 1.0, P.div: 1.0, P.pow: 1.0, P.add: 0.0, P.sub: 0.0}.get(prim)
    negating = {P.mul: -1.0, P.div: -1.0}.get(prim)
    for x, c in pairs:
        n = number(c)
        if n is None:
            continue
        if n == unit and same_type(types.of(x), target):
            return x
        if n == negating:
            new = with_operation(stmt, P.neg, (x,))
            if keeps_type(new, stmt, types):
                return (new,)
    if prim is P.sub and number(args[0]) == 0.0:
        new = with_operation(stmt, P.neg, (args[1],))
        if keeps_type(new, stmt, types):
            return (new,)
    if prim is P.neg:
        made = types.definition(args[0])
        if made is not None and made.prim is P.neg and same_type(types.of(made.args[0]), target):
            return made.args[0]
    return negated(stmt, types)


def negated(stmt: Assign, types: Types) -> Replacement:
    """``x + -y`` and ``-y + x`` are ``x - y``; ``x - -y`` is ``x + y``; a negated factor
    moves to the sum (``x + -a * b`` is ``x - a * b``): negation is exact, so each pair
    computes the same numbers."""
    if stmt.prim not in (P.add, P.sub) or len(stmt.args) != 2:
        return None
    orders = [(0, 1), (1, 0)] if stmt.prim is P.add else [(0, 1)]
    for i, j in orders:
        x, y = stmt.args[i], stmt.args[j]
        made = types.definition(y)
        if made is None or not types.of(x).is_numeric:
            continue
        other = P.sub if stmt.prim is P.add else P.add
        if made.prim is P.neg:
            new = with_operation(stmt, other, (x, made.args[0]))
            if keeps_type(new, stmt, types):
                return (new,)
        if made.prim is P.mul and stmt.prim is P.add:
            for k in (0, 1):
                inner = types.definition(made.args[k])
                if inner is None or inner.prim is not P.neg:
                    continue
                product = Assign(
                    types.fresh(), P.mul, (inner.args[0], made.args[1 - k]), (), made.loc
                )
                known: dict[Atom, AbstractValue] = {product.target: types.of(y)}
                new = with_operation(stmt, P.sub, (x, product.target))
                if keeps_type(product, made, types) and keeps_type(new, stmt, types, known):
                    return (product, new)
    return None


# ----------------------------------------------------------------------------- reuse


def pure(prim: Primitive) -> bool:
    """Its result depends on its arguments alone and is never updated in place."""
    if prim.effect not in (Effect.NONE, Effect.VIEW) or prim in P.RANDOM or prim in P.HELPERS:
        return False
    if prim.elementwise or prim.family == "math" or prim in REDUCTIONS:
        return True
    return prim.form in (Form.INFIX, Form.PREFIX) or prim in _ALSO_PURE


def reuse(stmt: Assign, types: Types) -> Replacement:
    """The earlier variable computing the same value, when one is defined on every path."""
    target = types.of(stmt.target)
    if target.kind is Kind.UNKNOWN:
        return None
    operands = [value_key(a) for a in stmt.args]
    if stmt.prim in COMMUTATIVE and all(types.of(a).is_numeric for a in stmt.args):
        operands.sort(key=repr)
    key: Hashable = (stmt.prim, tuple(operands), stmt.params, target.kind, target.dtype)
    try:
        hash(key)
    except TypeError:
        return None
    return types.recall(key, stmt.target)


# ----------------------------------------------------------------------------- the table


def elementwise(stmt: Assign, types: Types) -> Replacement:
    for step in (views, spread, unit_operands, identities):
        answer = step(stmt, types)
        if answer is not None:
            return answer
    return reuse(stmt, types)


def _table() -> dict[Primitive, Rewrite]:
    table: dict[Primitive, Any] = {}
    for prim in catalogue():
        if pure(prim):
            table[prim] = elementwise if prim.elementwise or prim in _FOLDED else reuse
    return table


REWRITES: dict[Primitive, Rewrite] = _table()
