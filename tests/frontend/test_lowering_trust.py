"""Lowering fixes users hit (issue 14): what used to be refused or crash, now lowered and
checked against central finite differences in float64.

Module-level lists and tuples are constant data (``np.array(OBS_T)``, ``zip`` over them, a
``for`` over a list of pairs); ``if``/``elif`` returning before a final ``return`` returns on
every path (and a ``break`` nested in two ``if``s skips the rest of the loop body); values that
do not move with the inputs are constants: ``reversed`` loops, ``isinstance``, ``np.float32``
of a number, integer index functions, and random draws (the gradient of the draw made in that
call; docs/numpy.md, "Random numbers").
"""

import math

import numpy as np
import pytest

from symdiff import UnsupportedFunctionError, check_grad, grad, hessian, value_and_grad

from ..helpers import agrees

OBS_T = [0.0, 0.5, 1.0, 1.5]
OBS_Y = [1.0, 1.4, 2.1, 2.4]
PAIRS = [(0.0, 1.0), (0.5, 1.4), (1.0, 2.1)]
NESTED = ((1.0, 2.0), (3.0, 4.0))
GRID = [[1.0, 2.0], [3.0, 4.0]]
PERM = [1, 0]
LIVE = [1.0, 2.0]


# ---------------------------------------------------------------- module-level lists


def least_squares(w):
    t = np.array(OBS_T)
    return np.sum((w * t - np.array(OBS_Y)) ** 2)


def zipped(w, b):
    loss = 0.0
    for t, y in zip(OBS_T, OBS_Y):
        loss = loss + (w * t + b - y) ** 2
    return loss


def over_pairs(w):
    loss = 0.0
    for t, y in PAIRS:
        loss = loss + (w * t - y) ** 2
    return loss


def over_nested_tuples(x):
    s = 0.0
    for a, b in NESTED:
        s = s + a * np.sin(x * b)
    return s


def grid_matrix(x):
    return np.sum(np.array(GRID) @ x)


def list_as_static_argument(x):
    return np.sum(np.transpose(x, PERM) * np.array(GRID))


def indexed(x):
    return x * OBS_T[2] + x**2 * OBS_Y[-1] + len(OBS_T)


def summed(x):
    return x * sum(OBS_T) + x**2 * sum(OBS_Y)


def live(x):
    return np.sum(x * np.array(LIVE))


def test_np_array_of_a_module_level_list():
    assert agrees(least_squares, 0.7).ok


def test_zip_over_module_level_lists():
    assert agrees(zipped, 0.7, -0.2, wrt=(0, 1)).ok


def test_for_over_a_module_level_list_of_tuples():
    assert agrees(over_pairs, 0.7).ok


def test_for_over_nested_tuples():
    assert agrees(over_nested_tuples, 0.3).ok


def test_nested_list_and_list_items():
    assert agrees(grid_matrix, np.array([0.5, -1.0])).ok
    assert agrees(indexed, 1.3).ok
    assert agrees(summed, 1.3).ok
    assert agrees(list_as_static_argument, np.array([[0.5, -1.0], [2.0, 0.1]])).ok


def test_a_module_level_list_is_read_as_it_is_at_call_time():
    g = grad(live)
    x = np.array([0.5, 2.0])
    np.testing.assert_array_equal(g(x), [1.0, 2.0])
    LIVE[1] = 5.0  # the function reads the list live, and so does its gradient
    try:
        np.testing.assert_array_equal(g(x), [1.0, 5.0])
        assert check_grad(live, x).ok
    finally:
        LIVE[1] = 2.0


# ---------------------------------------------------------------- early returns


def elif_chain(x):
    if x > 1.0:
        return x * 2.0
    elif x < -1.0:
        return x * x
    return x**3


def elif_chain_with_else_block(x):
    if x > 1.0:
        return np.sin(x)
    else:
        if x < -1.0:
            return x * x
        y = x * 5.0
    return y**3


def three_elifs(x, k):
    y = x * k
    if k > 2.0:
        return y * y
    elif k > 1.0:
        y = y + x
    elif k > 0.0:
        return np.exp(y)
    return y * x


def break_in_two_ifs(x):
    s = 0.0
    for _ in range(4):
        if x > 1.0:
            if s > 2.0 * x:
                break
        s = s + x
    return s


def continue_in_two_ifs(x):
    s = 0.0
    for i in range(5):
        if i > 1:
            if i < 4:
                continue
        s = s + x * i
    return s


@pytest.mark.parametrize("x", [2.5, -2.0, 0.5])
def test_if_elif_return_then_a_final_return(x):
    assert agrees(elif_chain, x).ok
    assert agrees(elif_chain_with_else_block, x).ok


@pytest.mark.parametrize("k", [3.0, 1.5, 0.5, -1.0])
def test_three_elifs_mixing_returns_and_assignments(k):
    assert agrees(three_elifs, 0.7, k, wrt=(0, 1)).ok


@pytest.mark.parametrize("x", [0.5, 1.5])
def test_break_nested_in_two_ifs_skips_the_rest_of_the_body(x):
    value, _ = value_and_grad(break_in_two_ifs)(x)
    assert value == break_in_two_ifs(x)
    assert agrees(break_in_two_ifs, x).ok


def test_continue_nested_in_two_ifs_skips_the_rest_of_the_body():
    value, d = value_and_grad(continue_in_two_ifs)(1.5)
    assert value == continue_in_two_ifs(1.5) == 1.5 * (0 + 1 + 4)
    assert d == 5.0


# ---------------------------------------------------------------- reversed loops


def reversed_range(x, n):
    s = 0.0
    for i in reversed(range(1, n, 2)):
        s = s * x + i
    return s


def reversed_negative_step(x):
    s = 0.0
    for i in reversed(range(5, -3, -3)):
        s = s * x + i
    return s


def reversed_array(x):
    s = 0.0
    for v in reversed(x):
        s = s * 0.5 + v * v
    return s


def enumerate_reversed(x):
    s = 0.0
    for i, v in enumerate(reversed(x)):
        s = s * 2.0 + v * i
    return s


def reversed_list(x):
    s = 0.0
    for t in reversed(OBS_T):
        s = s * x + t
    return s


@pytest.mark.parametrize("n", range(0, 7))
def test_reversed_range_visits_the_same_elements_backwards(n):
    assert reversed_range(1.5, n) == value_and_grad(reversed_range)(1.5, n)[0]
    assert agrees(reversed_range, 1.5, n).ok


def test_reversed_ranges_and_sequences():
    x = np.array([1.0, -2.0, 3.0, 0.5])
    assert agrees(reversed_negative_step, 1.3).ok
    assert agrees(reversed_array, x).ok
    assert agrees(enumerate_reversed, x).ok
    assert agrees(reversed_list, 0.8).ok


# ---------------------------------------------------------------- constants wrt the inputs


def typed(x):
    if isinstance(x, float):
        return x * 2.0
    return np.sum(x * 3.0)


def typed_tuple(x):
    if isinstance(x, (np.ndarray, list)):
        return np.sum(x**2)
    return x**3


def float32_constant(x):
    return np.sum(np.float32(2.0) * x + np.int64(3) * x**2)  # float64 arrays stay float64


def upper_triangle(a):
    i, j = np.triu_indices(3)
    k, m = np.tril_indices(3, -1)
    return np.sum(a[i, j] ** 2) + np.sum(np.sin(a[k, m]))


def unique_indices(x):
    idx = np.unique(np.array([0, 2, 2, 3]))
    return np.sum(x[idx] ** 2)


def unique_of_argsort(x):
    idx = np.unique(np.argsort(x)[:2])
    return np.sum(x[idx] ** 2)


def test_isinstance_is_a_constant_test():
    assert grad(typed)(2.0) == 2.0
    assert agrees(typed, np.array([1.0, 2.0])).ok
    assert agrees(typed_tuple, np.array([1.0, 2.0])).ok
    assert agrees(typed_tuple, 1.5).ok


def test_numpy_scalar_of_a_constant_is_a_constant():
    assert agrees(float32_constant, np.array([1.5, -0.5])).ok


def test_integer_index_functions_are_constants():
    a = np.arange(9.0).reshape(3, 3) / 7.0
    assert agrees(upper_triangle, a).ok
    assert agrees(unique_indices, np.array([0.5, 1.0, -2.0, 3.0])).ok
    assert agrees(unique_of_argsort, np.array([0.5, 1.0, -2.0, 3.0])).ok


# ---------------------------------------------------------------- random draws


def noisy(x):
    return np.sum(x * np.random.normal(0.0, 1.0, 3))


def two_draws(x):
    a = np.random.standard_normal(3)
    b = np.random.uniform(-1.0, 1.0, 3)
    return np.sum(x * a + x**2 * b)


def draw_in_loop(x):
    s = 0.0
    for _ in range(3):
        s = s + x * np.random.rand()
    return s


def test_a_draw_is_a_constant_of_the_call_that_draws_it():
    x = np.array([0.5, -1.0, 2.0])
    np.random.seed(7)
    d = grad(noisy)(x)
    np.random.seed(7)
    np.testing.assert_array_equal(d, np.random.normal(0.0, 1.0, 3))


def test_two_draws_stay_two_draws():
    x = np.array([0.5, -1.0, 2.0])
    np.random.seed(3)
    value, d = value_and_grad(two_draws)(x)
    np.random.seed(3)
    a = np.random.standard_normal(3)
    b = np.random.uniform(-1.0, 1.0, 3)
    np.testing.assert_allclose(value, np.sum(x * a + x**2 * b), rtol=1e-15)
    np.testing.assert_allclose(d, a + 2 * x * b, rtol=1e-15)
    assert not np.allclose(a, b)


def test_a_draw_in_a_loop_is_made_on_every_iteration():
    np.random.seed(11)
    d = grad(draw_in_loop)(0.5)
    np.random.seed(11)
    expected = sum(np.random.rand() for _ in range(3))
    assert d == pytest.approx(expected, rel=1e-15)


def test_a_seeded_draw_matches_finite_differences():
    """With the generator reseeded before each call, f is a deterministic function of x and
    its finite differences check the gradient of that draw."""

    def seeded(x):
        np.random.seed(5)
        return noisy(x)

    x = np.array([0.5, -1.0, 2.0])
    np.random.seed(5)
    d = grad(noisy)(x)
    h = 1e-6
    fd = [(seeded(x + h * e) - seeded(x - h * e)) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(d, fd, rtol=1e-7)


# ---------------------------------------------------------------- hostile but supported


def huge_loop(x):
    s = 0.0
    for _ in range(10**12):  # never unrolled: the loop stops at the break
        s = s + x
        if s > 3.0:
            break
    return s


def collisions(d_x, t1, np_):
    t2 = d_x * t1
    d_t2 = t2 * np_
    return d_t2 + math.pi


def non_finite(x):
    return np.minimum(x, np.inf) + x * np.exp(-np.inf)


def test_hostile_but_supported():
    assert agrees(huge_loop, 0.45).ok
    assert agrees(collisions, 1.0, 2.0, 3.0, wrt=(0, 1, 2)).ok
    assert agrees(non_finite, 0.7).ok


def test_a_gradient_that_draws_is_not_differentiated_again():
    def curved(x):
        return np.sum(x * x * np.random.normal(0.0, 1.0, x.shape))

    with pytest.raises(UnsupportedFunctionError, match="cannot be differentiated again"):
        hessian(curved)(np.ones(3))


def test_random_draws_with_computed_parameters_are_refused():
    def moving(x, sigma):
        return np.sum(x * np.random.normal(0.0, sigma, 3))

    with pytest.raises(UnsupportedFunctionError, match="depend on the function's inputs"):
        grad(moving)(np.ones(3), 1.0)


@pytest.mark.parametrize(
    "f", [summed, elif_chain, reversed_negative_step, reversed_list, over_pairs, typed]
)
def test_second_derivatives_of_the_new_constructs(f):
    """The generated gradients differentiate again (their IR built from the gradient program)."""
    g1, g2 = grad(f), grad(grad(f))
    for x in (1.3, -1.7):
        h = 1e-5
        fd = (g1(x + h) - g1(x - h)) / (2 * h)
        assert g2(x) == pytest.approx(fd, rel=1e-6, abs=1e-6)
