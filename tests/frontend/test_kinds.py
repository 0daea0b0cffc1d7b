"""The scalar facts of the lowering, checked against what Python and NumPy return.

A value taken for a scalar when it is an array would let ``y += v`` through as a rebinding
while Python updates an array another name sees: a silent wrong gradient. So every rule that
says "scalar" is run on real scalars (and the full reductions on real arrays) here.
"""

import ast
import math
import warnings

import numpy as np
import pytest

from symdiff.abstract.table import catalogue
from symdiff.frontend.kinds import (
    ARRAYS_OF_SCALARS,
    FULL_REDUCTIONS,
    Scalars,
    always_scalar,
    keeps_scalars,
    scalar_annotation,
)
from symdiff.ir import primitives as P
from symdiff.ir.nodes import Const, Var

SCALARS = (0.5, np.float64(0.5), 3, True, np.float32(0.25))


def immutable(value):
    return isinstance(value, (bool, int, float, complex, np.generic))


def calls(prim):
    """Argument tuples to call ``prim`` with: every scalar value in every position, or for
    the builtins that take other things, what they take."""
    special = {P.b_len: [((1.0, 2.0),), ([0.5],)], P.b_isinstance: [(0.5, float), (1, str)]}
    n = prim.nargs if prim.nargs >= 0 else 2
    return special.get(prim, [(v,) * n for v in SCALARS])


def results(prim):
    """What ``prim`` returns on each call of ``calls``; calls that fail (``math.log(0)``,
    ``~0.5``) say nothing and are skipped."""
    out = []
    for args in calls(prim):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                out.append(prim.impl(*args, **dict(prim.defaults)))
            except (TypeError, ValueError, ArithmeticError):
                pass
    return out


def scalar_rules():
    return [p for p in catalogue() if keeps_scalars(p) or p.returns_scalar]


@pytest.mark.parametrize("prim", scalar_rules(), ids=lambda p: p.name)
def test_a_rule_that_says_scalar_gives_a_number_on_numbers(prim):
    got = results(prim)
    assert got, f"{prim.name} ran on no scalar"
    for r in got:
        assert immutable(r), f"{prim.name} gave {type(r).__name__}"


def test_the_rules_cover_the_operators_math_and_casts():
    for prim in (P.add, P.mul, P.div, P.pow, P.neg, P.lt, P.b_abs, P.np_exp):
        assert keeps_scalars(prim), prim.name
    for prim in (P.b_float, P.b_int, P.m_sin, P.m_exp, P.b_len):
        assert always_scalar(prim, {}), prim.name
    assert not keeps_scalars(P.matmul)  # 0-d @ is refused; 1-d @ 1-d is a scalar of arrays


@pytest.mark.parametrize("prim", sorted(ARRAYS_OF_SCALARS, key=lambda p: p.name))
def test_the_exceptions_are_real(prim):
    """np.where and np.real_if_close are elementwise but return 0-d arrays, which can be
    updated in place: they must not be taken for scalars of scalars."""
    got = results(prim)
    assert got and all(isinstance(r, np.ndarray) for r in got)
    assert not keeps_scalars(prim)


@pytest.mark.parametrize("prim", sorted(FULL_REDUCTIONS, key=lambda p: p.name))
def test_a_full_reduction_is_a_numpy_scalar(prim):
    x = np.arange(6.0).reshape(2, 3)
    assert always_scalar(prim, {})
    assert isinstance(prim.impl(x), np.generic)
    assert not always_scalar(prim, {"axis": 0})
    assert not always_scalar(prim, {"keepdims": True})
    assert isinstance(prim.impl(x, keepdims=True), np.ndarray)


@pytest.mark.parametrize(
    "text,scalar",
    [("float", True), ("int", True), ("bool", True), ("'float'", True), ("np.ndarray", False),
     ("complex", False), ("list", False)],
)  # fmt: skip
def test_annotations_that_declare_a_scalar(text, scalar):
    assert scalar_annotation(ast.parse(text, mode="eval").body) is scalar
    assert not scalar_annotation(None)


def test_a_value_is_a_scalar_when_every_value_it_reads_is():
    kinds = Scalars()
    x, w, s, t, u = (Var(n) for n in "xwstu")
    kinds.declare(x)
    kinds.made(P.mul, s, (x, Const(2.0)), {})
    kinds.made(P.add, t, (s, w), {})
    kinds.made(P.b_float, u, (w,), {})
    assert kinds.is_scalar(s) and not kinds.unknowns(s)
    assert kinds.unknowns(t) == {w}  # w is a parameter nobody declared
    assert kinds.is_scalar(u)  # float(...) is a float, whatever w is
    assert not kinds.is_scalar(Const(np.zeros(())))  # a 0-d array constant is mutable
    assert kinds.is_scalar(Const(math.pi, "math.pi"))


def test_loop_state_is_a_greatest_fixed_point():
    """``term = x; for ...: term = term * x / k``: scalar while the body is open (assumed),
    and still once it is closed, since the body keeps it one; ``acc = acc * w`` with ``w``
    of unknown kind drops the assumption."""
    kinds = Scalars()
    x, w, k, term, nxt, acc, acc2 = (Var(n) for n in ("x", "w", "k", "term", "n", "a", "a2"))
    kinds.declare(x)
    kinds.declare(k)
    kinds.enter(term, x)
    kinds.enter(acc, x)
    assert kinds.open == {term, acc} and kinds.is_scalar(term) and kinds.is_scalar(acc)
    kinds.made(P.mul, nxt, (term, x), {})
    kinds.made(P.mul, acc2, (acc, w), {})
    kinds.close(term, x, nxt)
    kinds.close(acc, x, acc2)
    assert not kinds.open
    assert kinds.is_scalar(term) and kinds.is_scalar(nxt)
    assert kinds.unknowns(acc) == {w} and not kinds.is_scalar(acc2)
