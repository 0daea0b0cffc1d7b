"""grad's mode: forward mode where it is cheaper (one scalar input, a loop), or as asked."""

import math

import numpy as np
import pytest

import symdiff
from symdiff.errors import NonDifferentiableError


def central(f, x, *rest, h=1e-6):
    return (f(x + h, *rest) - f(x - h, *rest)) / (2 * h)


def integrate(x, n):
    y = x
    for _ in range(n):
        y = y * math.cos(y) + 0.1 * math.sin(x)
    return y


def branchy(x):
    y = x
    for i in range(4):
        if y > 0.5:
            y = math.sin(y) * x
        else:
            y = y * y + x
    return y


def straight(x):
    return math.sin(x) * x


def two(a, b):
    y = a
    for _ in range(3):
        y = y * b + a
    return y


@pytest.mark.parametrize("n", [0, 1, 2, 7])
def test_a_loop_over_one_scalar_runs_forward_mode(n):
    g = symdiff.grad(integrate)
    got = g(0.7, n)
    assert got == pytest.approx(central(integrate, 0.7, n), rel=1e-7, abs=1e-9)
    assert g.how == "forward mode"
    assert "Computed in\n    forward mode" in g.source
    assert "tape" not in g.source.split('"""')[2]  # the code keeps no tape


@pytest.mark.parametrize("x", [0.2, 0.9])  # both branches, each iteration
def test_branches_in_the_loop(x):
    g = symdiff.grad(branchy)
    assert g(x) == pytest.approx(central(branchy, x), rel=1e-7)
    assert g.how == "forward mode"


def test_an_explicit_mode_wins():
    rev = symdiff.grad(integrate, mode="rev")
    fwd = symdiff.grad(integrate, mode="fwd")
    assert rev(0.7, 5) == pytest.approx(fwd(0.7, 5), rel=1e-13)
    assert rev.how == "reverse mode" and "d_v holds" in rev.source
    assert fwd.how == "forward mode"


def test_reverse_mode_stays_without_a_loop_or_with_arrays_or_several_inputs():
    g = symdiff.grad(straight)
    g(0.3)
    assert g.how == "reverse mode"

    def norm_loop(x):
        s = 0.0
        for i in range(3):
            s = s + np.sum(x * x)
        return s

    ga = symdiff.grad(norm_loop)
    np.testing.assert_allclose(ga(np.arange(3.0)), 6 * np.arange(3.0))
    assert ga.how == "reverse mode"
    g2 = symdiff.grad(two, wrt=(0, 1))
    assert g2(1.0, 2.0) == pytest.approx((15.0, 17.0))
    assert g2.how == "reverse mode"


def test_value_and_grad_and_numpy_scalars():
    vg = symdiff.value_and_grad(integrate)
    value, d = vg(0.7, 4)
    assert value == integrate(0.7, 4)
    assert d == pytest.approx(central(integrate, 0.7, 4), rel=1e-7)
    assert symdiff.grad(integrate)(np.float64(0.7), 4) == pytest.approx(d, rel=1e-13)


def test_second_derivative_of_a_forward_mode_gradient():
    g = symdiff.grad(integrate)
    gg = symdiff.grad(g)
    assert gg(0.7, 6) == pytest.approx(central(lambda x, n: g(x, n), 0.7, 6), rel=1e-6)


def test_forward_mode_of_several_inputs_is_refused():
    with pytest.raises(NonDifferentiableError, match="mode='fwd'"):
        symdiff.grad(two, wrt=(0, 1), mode="fwd")


def test_an_unknown_mode_is_a_value_error():
    with pytest.raises(ValueError, match="mode must be one of"):
        symdiff.grad(integrate, mode="backward")
