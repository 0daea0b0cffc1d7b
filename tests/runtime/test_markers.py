"""``symdiff.stop_gradient``: the identity forward, a constant to every derivative.

Each derivative is checked against central finite differences of the same function with the
stopped value held fixed at what it is at the point (``held`` below), never against symdiff.
"""

import math

import numpy as np
import pytest

import symdiff
from symdiff import stop_gradient

X = np.array([0.31, -1.27, 2.44, 0.73])
C = np.sin(X)  # the stopped value at X


def central(f, x, h=1e-6):
    """Central differences of ``f`` (scalar- or array-valued) along each element of ``x``."""
    x = np.asarray(x, dtype=float)
    cols = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = h
        cols.append((np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * h))
    return np.stack(cols, axis=-1)


def loss(x):
    c = stop_gradient(np.sin(x))
    return np.sum(x * c**2 + np.exp(c) * x**2)


def held(x):
    return np.sum(x * C**2 + np.exp(C) * x**2)


def test_the_forward_value_is_the_identity():
    assert stop_gradient(X) is X
    assert symdiff.value_and_grad(loss)(X)[0] == pytest.approx(loss(X), rel=1e-14)


def test_the_gradient_is_that_of_the_function_with_the_value_held():
    symdiff.check_grad(held, X, grad_fn=symdiff.grad(loss))

    def free(x):  # the same function without the stop has another gradient
        c = np.sin(x)
        return np.sum(x * c**2 + np.exp(c) * x**2)

    assert not np.allclose(symdiff.grad(free)(X), symdiff.grad(loss)(X))


def test_tangents_hessians_and_second_gradients_hold_it_too():
    _, tangent = symdiff.jvp(loss)(X, np.ones_like(X))
    assert tangent == pytest.approx(float(np.sum(central(held, X))), rel=1e-7)
    fd_hessian = central(symdiff.grad(held), X)
    np.testing.assert_allclose(symdiff.hessian(loss)(X), fd_hessian, rtol=1e-6, atol=1e-6)

    def scalar(x: float):
        return x**3 * stop_gradient(math.cos(x)) + stop_gradient(x) ** 2 * x

    def scalar_held(x, x0=0.7):
        return x**3 * math.cos(x0) + x0**2 * x

    second = symdiff.grad(symdiff.grad(scalar))(0.7)
    expected = central(symdiff.grad(scalar_held), 0.7)
    assert second == pytest.approx(float(expected[0]), rel=1e-6)


def test_a_straight_through_estimator_passes_the_gradient_of_the_identity():
    def quantized(w):
        q = w + stop_gradient(np.round(w) - w)  # round forward, identity backward
        return np.sum(q * np.arange(4.0))

    value, g = symdiff.value_and_grad(quantized)(X)
    assert value == pytest.approx(np.sum(np.round(X) * np.arange(4.0)))
    np.testing.assert_allclose(g, np.arange(4.0))


def test_in_a_loop_each_iteration_holds_its_own_value():
    def relax(x, steps):
        y = x
        for _ in range(steps):
            y = y - 0.5 * stop_gradient(y) * y
        return np.sum(y)

    def held_relax(x, steps, path):
        y = x
        for k in range(steps):
            y = y - 0.5 * path[k] * y
        return np.sum(y)

    for steps in (0, 1, 4):
        path, y = [], X.copy()
        for _ in range(steps):
            path.append(y)
            y = y - 0.5 * y * y
        grad = symdiff.grad(relax)
        symdiff.check_grad(held_relax, X, steps, path, grad_fn=lambda x, s, p: grad(x, s))


def test_the_generated_code_keeps_the_call_and_runs_without_symdiff():
    source = symdiff.gradient_source(loss)
    assert "c = stop_gradient(np.sin(x))" in source.split("# backward pass")[0]
    module = symdiff.emit(loss)
    assert "def stop_gradient(x):" in module and "import symdiff" not in module
    namespace: dict = {}
    exec(compile(module, "<emitted>", "exec"), namespace)
    np.testing.assert_allclose(namespace["loss_grad"](X), symdiff.grad(loss)(X), rtol=1e-15)


def test_it_resolves_under_any_name_it_is_imported_by():
    def f(x):
        return np.sum(symdiff.stop_gradient(x) * x)

    np.testing.assert_allclose(symdiff.grad(f)(X), X)
