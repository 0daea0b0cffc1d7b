"""Lambdas whose line holds no other lambda are differentiated like the ``def`` they stand for."""

import inspect
import linecache
import math

import numpy as np
import pytest

import symdiff
from symdiff import SourceUnavailableError, check_grad, grad

from ..helpers import agrees

X = np.array([0.4, -1.3, 2.2])


def test_a_lambda_given_straight_to_grad():
    g = grad(lambda x: x**2 + np.sin(x))
    assert g(0.7) == pytest.approx(2 * 0.7 + math.cos(0.7), rel=1e-14)
    check_grad(lambda x: np.sum(x**2 + np.sin(x)), X)


def test_an_assigned_lambda_is_named_after_its_variable_and_keeps_its_defaults():
    loss = lambda w, scale=2.0: np.sum((w * scale) ** 2)  # noqa: E731
    agrees(loss, X)
    agrees(loss, X, 0.5)
    source = symdiff.gradient_source(loss)
    assert source.startswith("def loss_grad(w, scale=2.0):")
    line = inspect.currentframe().f_lineno - 5
    assert f"test_lambdas.py:{line} (loss)" in source
    assert "# line %d: loss = lambda w, scale=2.0: np.sum((w * scale) ** 2)" % line in source


def test_a_lambda_spread_over_lines_and_a_lambda_helper():
    g = grad(
        lambda x: np.sum(
            np.tanh(x) * x
        )  # fmt: skip
    )
    check_grad(lambda x: np.sum(np.tanh(x) * x), X, grad_fn=g)

    def f(x):
        return np.sum(_softplus(x) * x)

    agrees(f, X)
    module = symdiff.emit(f)
    assert "def _softplus(t):\n    return np.log1p(np.exp(t))" in module
    namespace: dict = {}
    exec(compile(module, "<emitted>", "exec"), namespace)  # noqa: S102
    np.testing.assert_allclose(namespace["f_grad"](X), grad(f)(X), rtol=1e-15)


_softplus = lambda t: np.log1p(np.exp(t))  # noqa: E731


def test_higher_derivatives_of_a_lambda():
    h = symdiff.hessian(lambda x: np.sum(x**3))
    np.testing.assert_allclose(h(X), np.diag(6 * X))
    assert grad(grad(lambda x: x**4))(1.5) == pytest.approx(12 * 1.5**2)


def test_a_lambda_from_a_cell_kept_by_linecache():
    # IPython keeps each cell's text in linecache under the cell's own file name
    cell = "import numpy as np\n%time 1\nscaled = lambda x: np.sum(3.0 * x ** 2)\n"
    name = "<ipython-input-cell-7>"
    linecache.cache[name] = (len(cell), None, cell.splitlines(True), name)
    try:
        runnable = cell.replace("%time 1", "pass")  # what IPython compiles for the magic
        ns: dict = {}
        exec(compile(runnable, name, "exec"), ns)  # noqa: S102
        g = grad(ns["scaled"])
        np.testing.assert_allclose(g(X), 6.0 * X)
        assert g.source.startswith("def scaled_grad(x):")
    finally:
        del linecache.cache[name]


def test_an_error_inside_a_lambda_points_at_its_line():
    line = inspect.currentframe().f_lineno + 2
    with pytest.raises(symdiff.SymdiffError) as info:
        grad(lambda x: np.sum(np.i0(x)))
    assert info.value.loc.line == line
    assert info.value.loc.text[info.value.loc.col :].startswith("np.i0(x)")


def test_two_lambdas_on_one_line_are_refused_naming_the_line():
    fs = [lambda x: x * 2.0, lambda x: x * 3.0]  # noqa: E731
    line = inspect.currentframe().f_lineno - 1
    for f in fs:
        with pytest.raises(SourceUnavailableError) as info:
            grad(f)
        assert info.value.loc.line == line
        assert f"line {line} holds several lambdas" in str(info.value)
        assert "hint: write the function with `def`" in str(info.value)


def test_a_lambda_inside_the_function_is_still_refused():
    def f(x):
        g = lambda v: v * 2.0  # noqa: E731
        return g(x)

    with pytest.raises(symdiff.UnsupportedSyntaxError, match="lambdas inside the differentiated"):
        grad(f)
