"""optimize.typed_elementwise: repeated values, constants and values computed twice, each
rewrite checked against the generic gradient and finite differences (np.where adjoints are
swept here too, their own tests are in test_typed_where)."""

import itertools

import numpy as np
import pytest

from symdiff.pipeline import transform

from .specialised import agree, body, function, helper_calls, kinds, runs, shape_calls

ARGS = kinds()
KINDS = ("vector", "row", "column", "matrix", "unit", "empty", "zero_d", "np_scalar", "float")
EXPRESSIONS = [
    "x * y",
    "x + y - 2 * x",
    "x / (y * y + 1.0)",
    "-(x * 2.0) * y + 0.0 * x",
    "1 * x / 1 + y ** 1",
    "np.where(x > 0, x, y)",
    "np.where(x > 0, 0.5 * x, -y) * 3.0",
    "np.maximum(x, y) + np.minimum(x, 0.0)",
    "np.exp(x) * np.exp(x) + np.tanh(y) / np.exp(x)",
    "1 / (1 + np.exp(-x)) + 1.0 / (1.0 + np.exp(-x)) * y",
]


@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_every_rewrite_agrees_on_arguments_of_every_kind(expr):
    f = function(f"def f(x, y):\n    return np.sum({expr})\n")
    generic = transform(f, (0, 1))
    for a, b in itertools.product(KINDS, repeat=2):
        args = (ARGS[a], ARGS[b])
        if runs(f, args):  # finite differences once per kind of x (the rules have their own)
            agree(f, args, wrt=(0, 1), generic=generic, fd=b == "vector" or a == b)


@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_float32_arithmetic_stays_float32(expr):
    f = function(f"def f(x, y):\n    return np.mean({expr})\n")
    x, y = ARGS["float32"], ARGS["float32"][::-1].copy()
    agree(f, (x, y), wrt=(0, 1))
    agree(f, (x, 0.5), wrt=(0, 1))


def test_a_repeated_one_times_an_array_is_the_array():
    f = function("def f(x, y):\n    return np.sum(x * y)\n")
    t = agree(f, (ARGS["vector"], ARGS["vector"]), wrt=(0, 1))
    assert not shape_calls(t.grad_source) and not helper_calls(t.grad_source), t.grad_source
    # the gradient is a new array, never the caller's own y
    x, y = ARGS["vector"], ARGS["vector"] + 1.0
    dx, dy = t.grad(x, y)
    assert dx is not y and dy is not x and np.array_equal(dx, y)
    dx[0] = 5.0
    assert y[0] != 5.0


def test_a_repeated_scalar_with_scalars_is_a_full_array():
    f = function("def f(x, y):\n    return np.sum(x * y)\n")
    t = agree(f, (ARGS["matrix"], 0.7), wrt=(0, 1))
    assert "np.full_like(x, y)" in body(t), t.grad_source


def test_constants_that_change_nothing_are_dropped():
    f = function("def f(x, y):\n    return -np.sum(y * x) + np.sum(1 * x / 1)\n")
    t = agree(f, (ARGS["vector"], ARGS["vector"]), wrt=(0, 1))
    assert "1.0 *" not in body(t) and "/ 1" not in body(t), t.grad_source
    assert "d_x = 1.0 - y" in body(t) and "-x" in body(t), t.grad_source


def test_a_value_computed_twice_is_computed_once():
    f = function("def f(z):\n    return np.sum(np.exp(z) / np.sum(np.exp(z)))\n")
    t = agree(f, (ARGS["vector"],))
    assert body(t).count("np.exp(z)") == 1, t.grad_source


def test_one_and_one_point_zero_are_one_number():
    # math.log's rule writes 1.0 / x, the user wrote 1 / x: computed once
    f = function("def f(x):\n    r = 1 / x\n    return math.log(x) + r\n")
    t = agree(f, (1.5,))
    assert body(t).count("/ x") == 1, t.grad_source
    # but 2 * n and 2.0 * n differ for an integer n: never merged
    g = function("def g(x, n):\n    return x * (2 * n) + x * (2.0 * n)\n")
    agree(g, (1.5, 3))


@pytest.mark.parametrize("flag", [False, True])
def test_a_value_computed_in_a_branch_is_not_reused_after_it(flag):
    f = function(
        "def f(x, flag):\n    if flag:\n        a = np.exp(x)\n    else:\n        a = x\n"
        "    return np.sum(a * np.exp(x))\n"
    )
    t = agree(f, (ARGS["vector"], flag))
    assert body(t).count("np.exp(x)") == 2, t.grad_source


def test_a_value_computed_in_a_loop_is_reused_only_in_its_iteration():
    f = function(
        "def f(x):\n    y = x\n    for i in range(3):\n        y = np.sin(y) * np.sin(x)\n"
        "    return np.sum(y * np.sin(x))\n"
    )
    for kind in ("vector", "float", "zero_d"):
        agree(f, (ARGS[kind],))


def test_integer_operands_keep_integer_arithmetic():
    k = np.array([3, -2, 5])
    f = function("def f(x, k):\n    return np.sum(x * (k * 1) + (k + 0) * 2 + x / 1)\n")
    t = transform(f, 0, args=(ARGS["vector"], k))
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(
            t.grad(ARGS["vector"], k), transform(f, 0).grad(ARGS["vector"], k)
        )


@pytest.mark.parametrize("kind", ["vector", "row", "matrix", "unit", "zero_d"])
def test_a_unit_array_beside_larger_operands_is_its_one_element(kind):
    # the max's adjoint divides by np.sum(mask, keepdims=True): a (1, ..., 1) count
    x = np.arange(np.size(ARGS[kind]), dtype=float).reshape(np.shape(ARGS[kind])) * 0.3 - 0.4
    t = agree(function("def f(x):\n    return np.max(x)\n"), (x,))
    if kind != "zero_d":
        assert "keepdims" not in body(t), t.grad_source
    g = function(
        "def g(x):\n    return np.max(x) + np.sum(np.max(x, axis=-1, keepdims=True) * x)\n"
    )
    agree(g, (x,))
