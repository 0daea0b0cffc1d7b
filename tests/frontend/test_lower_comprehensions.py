"""List comprehensions and generator expressions, lowered as the loops they abbreviate.

Every gradient is checked against central finite differences, over zero, one and many items.
"""

import math

import numpy as np
import pytest

import symdiff
from symdiff import UnsupportedSyntaxError, check_grad, grad

from ..helpers import agrees

X = np.array([0.8, -1.3, 2.1, 0.4, -0.6])


def filtered(x, n, w):
    ys = [x[i] * w for i in range(n) if x[i] > 0]
    return sum(ys) + sum(v**2 for v in x[:n])


def grid(x, n):
    return sum(x[i] * x[j] + math.sin(j) for i in range(n) if i % 2 == 0 for j in range(i, n))


def consumers(X, w):
    H = np.stack([np.tanh(row @ w) for row in X])
    A = np.array([np.sum(row * w) ** 2 for row in X])
    return np.sum(H**2) + np.sum([a * 0.5 for a in A]) + np.sum(np.mean([r * w for r in X], 0))


@pytest.mark.parametrize("n", [0, 1, 2, 5])
def test_filters_and_generator_sums_over_zero_one_and_many_items(n):
    agrees(filtered, X, n, 1.7, wrt=(0, 2))
    agrees(grid, X, n)


@pytest.mark.parametrize("rows", [1, 4])
def test_a_comprehension_fed_to_stack_array_sum_and_mean(rows):
    M = np.random.default_rng(rows).normal(size=(rows, 3))
    agrees(consumers, M, np.array([0.3, -0.2, 0.9]), wrt=(0, 1))


def test_the_generated_code_is_the_loop_the_user_would_write():
    source = symdiff.gradient_source(filtered, wrt="x")
    forward = source.split("# backward pass")[0]
    for line in ("ys = []", "for i in range(n):", "if t2:", "ys.append(t1 * w)", "items = []"):
        assert line in forward, forward
    assert "# line 20: ys = [x[i] * w for i in range(n) if x[i] > 0]" in source


def test_the_loop_variable_does_not_leak_and_an_outer_name_is_untouched():
    def f(x):
        i = 3.0
        squares = [x[i] ** 2 for i in range(len(x))]
        return sum(squares) * i  # the function's own i, 3.0

    def g(x):
        return sum([x * 3.0 for x in x])  # the first iterable is the function's own x

    agrees(f, X)
    assert grad(f)(X) == pytest.approx(6.0 * X)
    agrees(g, X)

    def leaked(x):
        ys = [x[k] for k in range(2)]
        return sum(ys) * k  # noqa: F821  (k is the comprehension's)

    with pytest.raises(symdiff.UndefinedNameError, match="`k` is not defined"):
        grad(leaked)(X)


def test_nested_comprehensions_read_the_enclosing_variables():
    def f(x, y):
        return sum([sum(a * b for b in y if b > a) ** 2 for a in x])

    y = np.array([0.5, -0.2, 1.4])
    agrees(f, X, y, wrt=(0, 1))

    def inside_a_loop(x, steps):
        h = 0.0
        for t in range(steps):
            h = math.tanh(h + sum([v * t for v in x]))
        return h

    for steps in (0, 1, 3):
        check_grad(inside_a_loop, X, steps)


def test_second_derivatives_through_a_comprehension():
    def f(x):
        return sum(v**3 for v in x) + np.sum(np.array([v * x[0] for v in x]))

    fd = np.stack([(grad(f)(X + e) - grad(f)(X - e)) / 2e-6 for e in np.eye(len(X)) * 1e-6])
    np.testing.assert_allclose(symdiff.hessian(f)(X), fd, rtol=1e-6, atol=1e-6)


def _refusal(f):
    with pytest.raises(symdiff.SymdiffError) as info:
        grad(f)(X)
    return info.value


def test_what_numpy_or_symdiff_cannot_do_is_refused_where_it_is_written():
    def stacked_generator(x):
        return np.sum(np.stack(v * 2.0 for v in x))

    exc = _refusal(stacked_generator)
    assert isinstance(exc, UnsupportedSyntaxError)
    assert "a generator expression is supported only as the argument of sum()" in str(exc)
    assert exc.loc.text[exc.loc.col :].startswith("(v * 2.0 for v in x)")
    assert "write a list comprehension" in str(exc)

    def nested_lists(x):
        return np.sum(np.array([[a * b for b in x] for a in x]))

    exc = _refusal(nested_lists)
    assert "a list of lists built at run time cannot be differentiated" in str(exc)
    assert exc.loc.text[exc.loc.col :].startswith("[a * b for b in x]")

    def set_comprehension(x):
        return sum({v for v in x})

    assert "set comprehensions are not supported" in str(_refusal(set_comprehension))

    def later_for_rebinds(x):
        return sum([w for w in x for x in [w]])

    exc = _refusal(later_for_rebinds)
    assert "the first iterable reads `x`, which a later `for`" in str(exc)


W = np.array([1.0, 2.0, 3.0, -1.0, 0.5])


def _weighted(v, k):
    return sum(a * b * k for a, b in zip(v, W))


def test_tuple_targets_zip_enumerate_tuples_and_helpers():
    def f(x, y):
        s = sum([i * a * b for i, (a, b) in enumerate(zip(x, y))])
        pairs = np.array([(a, a**2) for a in x])
        positive = len([a for a in x if a > 0])
        return s + np.sum(pairs * 0.3) + _weighted(x, 2.0) * positive + sum(a for a in x[::-1])

    y = np.array([1.5, 0.3, -0.7, 0.2, 1.1])
    for n in (1, 2, 5):
        agrees(f, X[:n], y[:n], wrt=(0, 1))
