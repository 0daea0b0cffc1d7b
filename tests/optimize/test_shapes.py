"""shapes.detach: values a gradient reads only for their shapes are not computed."""

import numpy as np
import pytest

import symdiff
from symdiff.api.cache import cached_transform

from ..helpers import agrees

RNG = np.random.default_rng(5)


def code(source: str) -> str:
    return "\n".join(ln for ln in source.splitlines() if not ln.strip().startswith("#"))


def softplus_loss(w, X, y):
    z = X @ w
    return np.mean(np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z))) - y * z)


def test_values_read_for_their_shapes_are_not_computed_in_grad():
    t = cached_transform(softplus_loss, 0, False)
    grad_only, with_value = code(t.grad_source), code(t.value_and_grad_source)
    for expr in ("np.maximum(z, 0) +", "np.log1p(", "y * z"):
        assert expr not in grad_only, expr
        assert expr in with_value, expr  # the value needs them
    assert "sum_to(" in grad_only and "np.broadcast_shapes(" in grad_only
    X, y = RNG.normal(size=(20, 3)), (RNG.random(20) > 0.5) * 1.0
    assert agrees(softplus_loss, RNG.normal(size=3), X, y).ok


def broadcast_mean(x, y):
    # the mean's size is that of the broadcast (3, 4); x's adjoint sums over the 4 columns
    return np.mean(np.sin(x) * y + x) + np.sum(np.cos(x - y) * 0.0 + 1.0)


def test_broadcast_shapes_and_sums_stay_right():
    x, y = RNG.normal(size=(3, 1)), RNG.normal(size=4)
    assert agrees(broadcast_mean, x, y, wrt=(0, 1)).ok
    gx, gy = symdiff.grad(broadcast_mean, wrt=(0, 1))(x, y)
    assert gx.shape == (3, 1) and gy.shape == (4,)
    np.testing.assert_allclose(gy, np.full(4, np.sum(np.sin(x)) / 12.0), rtol=1e-12)


def size_along_axis(w):
    return np.sum(w * w) / np.size(w * 2.0, 0)  # np.size(_, 0) is not the whole size


def shape_in_a_loop(w):
    s = 0.0
    v = w * 3.0
    for i in range(2):
        s = s + np.sum(w) / np.size(v)
    return s


@pytest.mark.parametrize("f", [size_along_axis, shape_in_a_loop])
def test_other_reads_keep_the_value(f):
    w = RNG.normal(size=(2, 3))
    assert agrees(f, w).ok


def test_scalar_results_and_constant_arrays():
    C = np.array([1.0, 2.0, 3.0])

    def f(x):
        return np.mean(x * C + 1.0)

    g = symdiff.grad(f)(0.5)
    assert g == pytest.approx(2.0)  # the mean of C
    assert type(symdiff.grad(f)(np.float64(0.5))) is np.float64


def sizes_of_sequences(x):
    # a tuple sum concatenates: its size is not a broadcast shape
    return np.sum(x) * np.size(x.shape + (1,)) + np.sum(x * 2.0) / np.size(np.shape(x) * 2)


def test_python_sequences_keep_their_own_sizes():
    x = RNG.normal(size=(2, 3))
    assert agrees(sizes_of_sequences, x).ok
    np.testing.assert_allclose(symdiff.grad(sizes_of_sequences)(x), np.full((2, 3), 3.0 + 0.5))
