"""optimize.typed_broadcast: unbroadcast, repeated values and their copies, as a person
writes them, checked against the generic gradient and finite differences."""

import numpy as np
import pytest

from symdiff.pipeline import transform

from .specialised import agree, body, function, helper_calls, kinds, shape_calls

ARGS = kinds()


@pytest.mark.parametrize("kind", ["vector", "row", "matrix", "unit"])
def test_the_gradient_of_a_sum_is_ones_like_its_argument(kind):
    t = agree(function("def f(x):\n    return np.sum(x)\n"), (ARGS[kind],))
    assert body(t).splitlines()[0] == "d_x = np.ones_like(x)", t.grad_source


def test_a_copied_broadcast_scalar_is_a_full_array():
    f = function(
        "def f(x):\n    s = np.sum(x)\n    for i in range(3):\n        s = s * 2.0\n    return s\n"
    )
    for kind in ("vector", "row", "zero_d"):
        t = agree(f, (ARGS[kind],))
        assert "np.full_like(x, " in body(t) and not shape_calls(t.grad_source), t.grad_source


@pytest.mark.parametrize("kind", ["vector", "row", "unit", "float"])
def test_a_broadcast_whose_shape_is_known_from_its_definition(kind):
    f = function("def f(x, y):\n    return np.sum(np.broadcast_to(x, y.shape) * y)\n")
    t = agree(f, (ARGS[kind], ARGS["matrix"]))
    assert not helper_calls(t.grad_source) and not shape_calls(t.grad_source), t.grad_source


def test_a_broadcast_to_its_own_shape_is_the_array():
    f = function("def f(x):\n    return np.sum(np.broadcast_to(x, x.shape) ** 2)\n")
    for kind in ("vector", "row", "zero_d"):
        t = agree(f, (ARGS[kind],))
        assert "broadcast_to" not in body(t), t.grad_source


@pytest.mark.parametrize("other", ["vector", "float", "np_scalar", "zero_d"])
def test_the_sum_of_a_repeated_scalar_is_the_scalar_times_the_size(other):
    f = function("def f(x, y):\n    return np.mean(x * y - y)\n")
    t = agree(f, (ARGS["vector"], ARGS[other]), wrt=(0, 1))
    assert "np.broadcast_to" not in body(t), t.grad_source


def test_a_reduction_over_an_axis_broadcasts_back_without_helpers():
    f = function(
        "def f(x):\n    return np.sum(np.max(x, axis=1)) + np.sum(np.mean(x, axis=0) ** 2)\n"
    )
    for kind in ("matrix", "row", "column"):
        t = agree(f, (ARGS[kind],))
        assert not helper_calls(t.grad_source), t.grad_source


def bias_loss(w, b, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w + b)))
    return np.mean((p - y) ** 2)


def test_a_python_float_gets_a_python_float_gradient():
    """A float bias broadcast over a batch: its adjoint is summed back to a float, not left a
    NumPy scalar, in the generated function itself (not only through grad())."""
    rng = np.random.default_rng(3)
    args = (rng.normal(size=3), 0.5, rng.normal(size=(5, 3)), rng.normal(size=5))
    t = transform(bias_loss, (0, 1), args=args)
    d_w, d_b = t.grad(*args)
    assert type(d_b) is float and "float(np.sum(" in t.grad_source
    generic = transform(bias_loss, (0, 1)).grad(*args)
    assert d_b == pytest.approx(float(generic[1]), rel=1e-12)
    assert np.allclose(d_w, generic[0], rtol=1e-12)
