"""symdiff.symbolic: formulas and partial derivatives as SymPy expressions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

import symdiff
from symdiff import SymdiffError, grad
from symdiff.api.symbolic import Symbolic, symbolic

RATE = 0.5


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def scaled(x, y):
    return RATE * sigmoid(x * y) + math.sin(x) / (1.0 + y**2)


def branchy(x):
    if x > 0:
        return x * x
    return -x


def summed(x):
    return np.sum(np.exp(x))


def kink(x, y):
    return np.maximum(x, 0.0) + np.abs(y) + np.where(x > y, x, y)


def test_value_and_textbook_derivative():
    view = symbolic(sigmoid)
    (z,) = view.params
    assert sp.simplify(view.value - 1 / (1 + sp.exp(-z))) == 0
    assert sp.simplify(view.grads["z"] - view.value * (1 - view.value)) == 0


def test_partials_match_the_generated_gradient():
    view = symbolic(scaled)
    assert set(view.grads) == {"x", "y"}
    x, y = view.params
    subs = {x: 0.3, y: -0.7, **view.constants}
    expected = grad(scaled, wrt=(0, 1))(0.3, -0.7)
    got = tuple(float(view.grads[n].subs(subs)) for n in ("x", "y"))
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_helpers_are_inlined_and_constants_are_named():
    view = symbolic(scaled, wrt="y")
    assert list(view.grads) == ["y"]
    names = {s.name for s in view.value.free_symbols}
    assert names == {"x", "y", "RATE"}
    assert [v for k, v in view.constants.items() if k.name == "RATE"] == [RATE]
    assert symbolic(scaled, wrt=0).grads.keys() == {"x"}


def test_printable_by_sympy_and_notebooks():
    view = symbolic(sigmoid)
    assert "\\frac{\\partial" in view._repr_latex_()
    assert sp.latex(view.grads["z"])
    assert sp.pretty(view.value)
    assert str(view).startswith("sigmoid(z) = ")


def test_non_smooth_functions_are_shown_with_sympy_conventions():
    view = symbolic(kink)
    x, y = view.params
    assert view.value.has(sp.Max) and view.value.has(sp.Abs) and view.value.has(sp.Piecewise)
    assert float(view.grads["x"].subs({x: 2.0, y: 1.0})) == 2.0  # ReLU slope 1, where picks x


def test_refuses_control_flow():
    with pytest.raises(SymdiffError, match="control flow"):
        symbolic(branchy)


def test_refuses_non_elementwise_operations():
    with pytest.raises(SymdiffError, match="np.sum"):
        symbolic(summed)


def test_exported_from_the_package():
    assert symdiff.symbolic is symbolic
    assert isinstance(symdiff.symbolic(sigmoid), Symbolic)
