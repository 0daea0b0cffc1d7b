"""Masks decided once (optimize.masks): comparisons with a multiple of the same value, and
the mask arithmetic of maximum/minimum/where/clip/abs written as one expression."""

import numpy as np
import pytest

from symdiff import check_grad, pipeline
from symdiff.ir import primitives as P
from symdiff.ir.nodes import Assign, Const, Var
from symdiff.optimize import masks

EDGES = np.array([-1.0, 0.0, -0.0, 1.0, 5e-324, -5e-324, 1e-310, 1e308, -1e308, 2.5, -7.25])


def leaky(x):
    return np.sum(np.maximum(0.01 * x, x))


def leaky_min(x):
    return np.sum(np.minimum(x, 3.0 * x))


def leaky_where(x):
    return np.sum(np.where(x > 0.2 * x, x, 0.2 * x))


def relu(x):
    return np.sum(np.maximum(x, 0))


def absolute(x):
    return np.sum(np.abs(x))


def clipped(x):
    return np.sum(np.clip(x, -1.0, 1.0))


def near_one(x):  # c = 0.75: rounding can make 0.75 * x equal x? not claimed either way
    return np.sum(np.maximum(0.75 * x, x))


def scaled_leaky(x, w):  # the mask meets an adjoint that is not a constant
    return np.sum(w * np.maximum(0.01 * x, x))


SLOPE = 0.01


def leaky_named(x):
    return np.sum(np.maximum(SLOPE * x, x))


CASES = [leaky, leaky_min, leaky_where, relu, absolute, clipped, near_one]


@pytest.mark.parametrize("c, op, expected", [
    (0.01, P.gt, P.lt), (0.5, P.ge, P.le), (0.0, P.eq, P.eq), (-3.0, P.lt, P.gt),
    (2.0, P.gt, P.gt), (7.5, P.le, P.le),
])  # fmt: skip
def test_a_comparison_with_a_multiple_is_a_comparison_with_zero(c, op, expected):
    x, t = Var("x"), Var("t")
    defs = {t: Assign(t, P.mul, (Const(c), x))}
    got = masks.compare_multiples(Assign(Var("m"), op, (t, x)), defs)
    assert got is not None and got.prim is expected and got.args == (x, Const(0))
    # and it holds for every finite x, subnormals and signed zeros included
    values = np.concatenate([EDGES, np.random.default_rng(0).normal(size=200)])
    np.testing.assert_array_equal(op.impl(c * values, values), expected.impl(values, 0))


@pytest.mark.parametrize("c", [0.75, 1.0, 1.5, 1 - 2**-53])
def test_multiples_near_one_are_left_alone(c):
    x, t = Var("x"), Var("t")
    defs = {t: Assign(t, P.mul, (Const(c), x))}
    assert masks.compare_multiples(Assign(Var("m"), P.gt, (t, x)), defs) is None


@pytest.mark.parametrize("f", CASES)
def test_gradients_are_the_same_numbers_with_the_algebra_on_and_off(f):
    x = np.concatenate([EDGES, np.random.default_rng(1).normal(size=50)])
    on = pipeline.transform(f, 0, args=(x,))
    off = pipeline.transform(f, 0, args=(x,), algebra=False)
    np.testing.assert_array_equal(on.grad(x), off.grad(x))  # bit for bit, ties included
    y = np.random.default_rng(2).normal(size=8)
    check_grad(f, y, grad_fn=pipeline.transform(f, 0, args=(y,)).grad)


def test_leaky_relu_is_one_mask_expression_with_the_tie_kept():
    x = np.random.default_rng(0).normal(size=5)
    source = pipeline.transform(leaky, 0, args=(x,)).grad_source
    body = [line.strip() for line in source.splitlines() if line.strip().startswith("d_x")]
    assert body == ["d_x = 0.01 + 0.495 * (np.sign(x) + 1.0)"]
    g = pipeline.transform(leaky, 0, args=(x,)).grad(np.array([-2.0, 0.0, 3.0]))
    np.testing.assert_array_equal(g, [0.01, 0.505, 1.0])


def test_a_mask_meeting_a_varying_adjoint_is_combined_up_to_the_adjoint():
    x, w = np.random.default_rng(0).normal(size=(2, 6))
    t = pipeline.transform(scaled_leaky, 0, args=(x, w))
    assert t.grad_source.count("np.sign(x)") == 1 and " == " not in t.grad_source
    check_grad(scaled_leaky, x, w, grad_fn=t.grad)
    x = np.concatenate([EDGES, x])
    w = np.ones_like(x) * 0.3
    off = pipeline.transform(scaled_leaky, 0, args=(x, w), algebra=False)
    np.testing.assert_array_equal(t.grad(x, w), off.grad(x, w))


def test_float32_masks_are_left_as_the_rules_write_them():
    x = np.array([-1.0, 0.0, 2.0], dtype=np.float32)
    t = pipeline.transform(leaky, 0, args=(x,))
    assert "np.sign" not in t.grad_source
    off = pipeline.transform(leaky, 0, args=(x,), algebra=False)
    np.testing.assert_array_equal(t.grad(x), off.grad(x))


def test_a_named_constant_is_not_baked_into_a_mask():
    x = np.random.default_rng(0).normal(size=5)
    source = pipeline.transform(leaky_named, 0, args=(x,)).grad_source
    assert "SLOPE" in source and "0.495" not in source
