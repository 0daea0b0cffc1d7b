"""optimize.typed_broadcast: unbroadcast, repeated values and their copies, as a person
writes them, checked against the generic gradient and finite differences."""

import pytest

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
