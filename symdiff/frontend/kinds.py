"""Which values the lowering knows to be Python or NumPy scalars, hence immutable.

An augmented assignment ``y += v`` updates an array in place, so every other name bound to
that array sees the change; on a number it only rebinds ``y`` (a float cannot change), and
no alias can tell. The lowering therefore needs to know, for an aliased value, whether it is
certainly a scalar. The facts are few and local:

- a parameter annotated ``float``, ``int`` or ``bool``, or one the caller declares scalar
  (the API knows the arguments a function is called with);
- numeric literals and module-level numbers;
- results that are scalars whatever their arguments (``float(...)``, ``int(...)``, ``len``,
  ``math.*``, full reductions such as ``np.sum(x)``) and the loop counter, an ``int``;
- elementwise operations and operators (``+``, ``abs``, ``np.exp``, comparisons) whose
  arguments are all scalars;
- a value that is one of several others (a phi of a branch, a renamed temporary, loop state)
  when every one of them is.

Loop state is circular: ``term`` at the top of the body is the initial value or what the
previous iteration made of it. It is a scalar when its initial value is and the body keeps
it one, a greatest fixed point (assume it, and drop the assumption if one round of the body
breaks it), which is sound by induction over the iterations. While a loop's body is being
lowered the next value is not known yet: such state is *open*, assumed scalar, and a
decision that relied on it is checked again once the loop is closed (``aliasing.Memory``).
"""

from __future__ import annotations

import ast
from typing import Any, Iterable

import numpy as np

from ..ir import primitives as P
from ..ir.nodes import Atom, Const, Primitive, Var

# annotations that make a parameter a scalar (``x: float``)
SCALAR_ANNOTATIONS = frozenset({"float", "int", "bool"})
# reductions over every axis: a NumPy scalar (unless keepdims asks for an array)
FULL_REDUCTIONS = frozenset({P.np_sum, P.np_mean, P.np_max, P.np_min})
# elementwise operations that return a 0-d array, which is mutable, even for scalars
ARRAYS_OF_SCALARS = frozenset({P.np_where, P.np_real_if_close})
# the Python types of constants that can never be updated in place
IMMUTABLE_NUMBERS = (bool, int, float, complex, np.generic)


def scalar_annotation(annotation: ast.expr | None) -> bool:
    """``float``, ``int`` or ``bool`` (also as a string, ``x: "float"``)."""
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        return annotation.value in SCALAR_ANNOTATIONS
    return isinstance(annotation, ast.Name) and annotation.id in SCALAR_ANNOTATIONS


def always_scalar(prim: Primitive, params: dict[str, Any]) -> bool:
    """Whether ``prim`` returns a scalar whatever its arguments are (when it returns)."""
    if prim.returns_scalar:
        return True
    return prim in FULL_REDUCTIONS and params.get("axis") is None and not params.get("keepdims")


def keeps_scalars(prim: Primitive) -> bool:
    """Whether ``prim`` returns a scalar when all its arguments are scalars."""
    pointwise = prim.elementwise or prim.form.operator
    return pointwise and prim is not P.matmul and prim not in ARRAYS_OF_SCALARS


def immutable_constant(a: Atom) -> bool:
    """A constant number (``2.0``, ``math.pi``, a module-level ``np.float64``)."""
    return isinstance(a, Const) and isinstance(a.value, IMMUTABLE_NUMBERS)


class Scalars:
    """The scalar facts about the values made so far, as rules: a variable with a rule is a
    scalar when every atom of its rule is one (an empty rule: certainly). A variable without
    a rule is not known to be a scalar."""

    def __init__(self) -> None:
        self.rules: dict[Var, tuple[Atom, ...]] = {}
        self.open: set[Var] = set()  # loop state whose next value is not lowered yet

    def declare(self, v: Var) -> None:
        """``v`` is certainly a scalar (an annotation, the caller's word, a loop counter)."""
        self.rules[v] = ()

    def made(self, prim: Primitive, target: Var, args: tuple[Atom, ...], params: dict) -> None:
        """``target = prim(*args, **params)``: a scalar always, or when its arguments are."""
        if always_scalar(prim, params):
            self.rules[target] = ()
        elif keeps_scalars(prim) and args:
            self.rules[target] = args

    def one_of(self, target: Var, sources: Iterable[Atom]) -> None:
        """``target`` is one of ``sources`` (a phi, a rename, loop state after the loop)."""
        self.rules[target] = tuple(sources)

    def enter(self, var: Var, init: Atom) -> None:
        """Loop state at the top of the body: assumed a scalar if ``init`` is, until the
        body is lowered (``close``)."""
        self.rules[var] = (init,)
        self.open.add(var)

    def close(self, var: Var, init: Atom, nxt: Atom) -> None:
        """The body is lowered: the state is a scalar if it starts and stays one."""
        self.rules[var] = (init, nxt)
        self.open.discard(var)

    def unknowns(self, a: Atom) -> set[Atom]:
        """The atoms of unknown kind that keep ``a`` from being a scalar (none: it is one,
        assuming that open loop state stays scalar).

        Every rule is a conjunction, so the greatest fixed point (assume every value a
        scalar, drop the assumption for each one that reads a non-scalar) is reachability:
        ``a`` is a scalar exactly when no value of unknown kind is reached from it through
        the rules, loop state reading itself through the body included."""
        seen: set[Var] = set()
        leaves: set[Atom] = set()
        todo = [a]
        while todo:
            b = todo.pop()
            if isinstance(b, Const):
                if not immutable_constant(b):
                    leaves.add(b)
            elif b not in seen:
                seen.add(b)
                rule = self.rules.get(b)
                if rule is None:
                    leaves.add(b)
                else:
                    todo.extend(rule)
        return leaves

    def is_scalar(self, a: Atom) -> bool:
        """Whether ``a`` is a scalar (assuming that open loop state stays scalar)."""
        return not self.unknowns(a)
