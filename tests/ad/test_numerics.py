"""Numerically delicate spots, each with its convention (docs/reliability.md).

- Kinks take the usual subgradient: ReLU and abs at 0 give 0; ties of maximum/minimum split
  evenly between two inputs that both carry a gradient; ties of a max reduction share it.
- An infinite derivative is inf, as in the maths: sqrt at 0 (np.sqrt, math.sqrt, x ** 0.5),
  log at 0. Computing it never raises.
- An unselected branch never poisons the gradient: np.where(x > 0, np.log(x), 0.0) at x <= 0
  has gradient 0, not NaN (0 * inf is taken as 0 downstream of where, maximum and clip).
- Stable formulations stay stable: log-sum-exp and softmax on logits in the thousands give
  finite gradients.
"""

import contextlib
import math
import warnings

import numpy as np
import pytest

from symdiff import grad, jvp, value_and_grad

from ..helpers import agrees


@contextlib.contextmanager
def quiet():
    """Silence NumPy's warnings about the inf and nan these tests produce on purpose."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


# ---------------------------------------------------------------- kinks


def relu(x):
    return np.sum(np.maximum(x, 0.0))


def relu_left(x):
    return np.sum(np.maximum(0.0, x))


def absolute(x):
    return np.sum(np.abs(x))


def builtin_abs(x):
    return abs(x)


def larger(x, y):
    return max(x, y)


def np_larger(x, y):
    return np.sum(np.minimum(x, y))


def top(x):
    return np.max(x)


def clipped(x):
    return np.sum(np.clip(x, -1.0, 1.0))


def test_relu_and_abs_at_zero_give_zero():
    x = np.array([-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(grad(relu)(x), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(grad(relu_left)(x), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(grad(absolute)(x), [-1.0, 0.0, 1.0])
    assert grad(builtin_abs)(0.0) == 0.0


def test_ties_split_evenly_between_active_inputs():
    assert grad(larger, wrt=(0, 1))(1.0, 1.0) == (0.5, 0.5)
    dx, dy = grad(np_larger, wrt=(0, 1))(np.array([1.0, 2.0]), np.array([1.0, 3.0]))
    np.testing.assert_array_equal(dx, [0.5, 1.0])
    np.testing.assert_array_equal(dy, [0.5, 0.0])
    np.testing.assert_array_equal(grad(top)(np.array([1.0, 3.0, 3.0])), [0.0, 0.5, 0.5])


def test_clip_passes_the_gradient_on_its_bounds():
    np.testing.assert_array_equal(
        grad(clipped)(np.array([-2.0, -1.0, 0.5, 1.0, 3.0])), [0, 1, 1, 1, 0]
    )


# ---------------------------------------------------------------- infinite derivatives


def np_root(x):
    return np.sum(np.sqrt(x))


def math_root(x):
    return math.sqrt(x)


def power_root(x):
    return x**0.5


def asin(x):
    return math.asin(x)


def np_log(x):
    return np.sum(np.log(x))


def math_log(x):
    return math.log(x)


def test_sqrt_at_zero_is_inf_like_the_maths():
    with quiet():
        np.testing.assert_array_equal(grad(np_root)(np.array([0.0, 4.0])), [np.inf, 0.25])
        assert grad(math_root)(0.0) == math.inf  # never ZeroDivisionError
        assert grad(power_root)(0.0) == math.inf
        assert grad(asin)(1.0) == math.inf
    assert grad(math_root)(4.0) == 0.25


def test_log_at_zero():
    with quiet():
        value, g = value_and_grad(np_log)(np.array([0.0, 2.0]))
    assert value == -np.inf
    np.testing.assert_array_equal(g, [np.inf, 0.5])
    with pytest.raises(ValueError, match="math domain error"):  # as math.log(0.0) itself
        value_and_grad(math_log)(0.0)
    with quiet():  # grad alone never evaluates math.log: only 1 / x, which is inf at 0
        assert grad(math_log)(0.0) == math.inf


# ---------------------------------------------------------------- unselected branches


def where_log(x):
    return np.sum(np.where(x > 0, np.log(x), 0.0))


def where_sqrt(x):
    return np.sum(np.where(x >= 0, np.sqrt(x), -x))


def where_product(x):
    return np.sum(np.where(x > 0, x * np.log(x), 0.0) + x)


def where_reciprocal(x):
    return np.sum(np.where(x != 0, np.sin(x) / x, 1.0))


def relu_of_log(x):
    return np.sum(np.maximum(np.log(x), 0.0))


def clip_of_root(x):
    return np.sum(np.clip(np.sqrt(x), 0.5, 2.0))


def where_overflow(x):
    return np.sum(np.where(x < 50.0, np.exp(x), 0.0))


def test_where_with_a_non_finite_unselected_branch_gives_zero_not_nan():
    with quiet():
        np.testing.assert_array_equal(grad(where_log)(np.array([-1.0, 0.0, 2.0])), [0.0, 0.0, 0.5])
        np.testing.assert_array_equal(
            grad(where_sqrt)(np.array([-1.0, 4.0])), [-1.0, 0.25]
        )  # sqrt(-1) is nan
        np.testing.assert_allclose(
            grad(where_product)(np.array([-1.0, 0.0, math.e])), [1.0, 1.0, 3.0], rtol=1e-15
        )
        g = grad(where_reciprocal)(np.array([0.0, 2.0]))
        assert g[0] == 0.0 and g[1] == pytest.approx((2 * math.cos(2) - math.sin(2)) / 4)
        np.testing.assert_array_equal(grad(relu_of_log)(np.array([0.0, 4.0])), [0.0, 0.25])
        np.testing.assert_array_equal(grad(clip_of_root)(np.array([-1.0, 0.0, 1.0])), [0, 0, 0.5])
        g = grad(where_overflow)(np.array([1000.0, 1.0]))
        np.testing.assert_allclose(g, [0.0, math.e], rtol=1e-15)


def test_a_selected_infinite_derivative_stays_infinite():
    with quiet():
        np.testing.assert_array_equal(grad(where_sqrt)(np.array([0.0])), [np.inf])


def test_the_guard_is_written_only_where_a_selection_needs_it():
    assert "== 0.0" in grad(where_log).source
    assert "== 0.0" not in grad(np_log).source


@pytest.mark.parametrize("x", [np.array([0.3, 2.0]), np.array([1.5, 0.2])])
def test_guarded_rules_agree_with_finite_differences_away_from_the_edges(x):
    agrees(where_log, x)
    agrees(where_product, x)
    agrees(relu_of_log, x)


# ---------------------------------------------------------------- large logits


def logsumexp(z):
    m = np.max(z)
    return m + np.log(np.sum(np.exp(z - m)))


def naive_logsumexp(z):
    return np.log(np.sum(np.exp(z)))


def cross_entropy(z, k):
    m = np.max(z)
    e = np.exp(z - m)
    p = e / np.sum(e)
    return -np.log(p[k])


def softplus_sum(z):
    return np.sum(np.logaddexp(z, 0.0))


BIG = np.array([1000.0, 1001.0, 999.0, 1001.0])  # with a tie for the max


def softmax(z):
    e = np.exp(z - np.max(z))
    return e / np.sum(e)


def test_stable_logsumexp_and_softmax_have_finite_gradients_on_large_logits():
    value, g = value_and_grad(logsumexp)(BIG)
    assert value == pytest.approx(1001.0 + math.log(2 + math.exp(-1) + math.exp(-2)), rel=1e-15)
    np.testing.assert_allclose(g, softmax(BIG), rtol=1e-13)
    k = 2
    g = grad(cross_entropy)(BIG, k)
    np.testing.assert_allclose(g, softmax(BIG) - np.eye(4)[k], rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(grad(softplus_sum)(BIG), np.ones(4))


def test_the_naive_form_overflows_as_in_numpy():
    with quiet():
        value, g = value_and_grad(naive_logsumexp)(BIG)
    assert value == np.inf  # exp(1000) overflows: the function itself is not finite here
    assert not np.isfinite(g).any()


def test_float32_logits():
    g = grad(logsumexp)(BIG.astype(np.float32))
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, softmax(BIG), rtol=1e-6)


# ---------------------------------------------------------------- kinks of std and norm


def spread(x):
    return np.std(x)


def length(x):
    return np.linalg.norm(x)


def test_std_and_norm_at_zero():
    """std and norm at zero spread/length gave NaN (0/0); the subgradient 0 is the convention
    abs already follows."""
    with quiet():
        assert np.array_equal(grad(spread)(np.array([2.0, 2.0])), [0.0, 0.0])
        assert np.array_equal(grad(length)(np.zeros(2)), [0.0, 0.0])
        # forward mode follows the same convention
        assert jvp(spread)(np.array([2.0, 2.0]), np.array([1.0, 0.0]))[1] == 0.0
        assert jvp(length)(np.zeros(2), np.array([1.0, 0.0]))[1] == 0.0
