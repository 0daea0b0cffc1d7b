"""optimize.specialise on every control-flow form, against finite differences.

One specialised program serves every call with its signature: a loop bound is an ``int``
whatever its value, exact lengths are erased. So each function here is specialised once,
for one call, and that one program is then run on calls that share the signature but take
other paths: zero, one and many iterations, the other branch, other lengths. Each gradient is
checked against central finite differences and against the generic program's.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from symdiff import check_grad, pipeline
from symdiff.abstract.values import signature

from ..specialised import same

RNG = np.random.default_rng(7)


def one_program_serves(f, wrt, calls) -> pipeline.Transformed:
    """Specialise ``f`` for the first call, then check every call (same signature) with that
    program: finite differences, and the generic program's gradient and value."""
    special = pipeline.transform(f, wrt, args=calls[0])
    generic = pipeline.transform(f, wrt)
    for args in calls:
        assert signature(args) == special.signature, (args, special.signature)
        report = check_grad(f, *args, wrt=wrt, grad_fn=special.grad, raise_on_failure=False)
        assert report.ok, f"{args}\n{report}\n{special.grad_source}"
        why = same(generic.value_and_grad(*args), special.value_and_grad(*args), 1e-12)
        assert not why, f"{args}: {why}\n{generic.grad_source}\n{special.grad_source}"
    return special


def v(*shape: int) -> np.ndarray:
    return RNG.uniform(-1.5, 1.5, shape)


# ----------------------------------------------------------------------------- branches


def branch_on_data(x, w):
    if np.sum(x) > 0.0:
        y = np.tanh(x) * w  # an array
    else:
        y = 0.5 * np.sum(x * x)  # a NumPy scalar: the branches join to an unknown kind
    return np.sum(y * y)


def test_if_else_whose_branches_give_different_kinds():
    a = np.abs(v(3)) + 0.1
    one_program_serves(branch_on_data, (0, 1), [(a, v(3)), (-a, v(3)), (v(5), v(5))])


def branch_on_float(x, y):
    if x > 0.3:
        z = x * y + math.sin(x)
    elif x > -0.3:
        z = x * x
    else:
        z = y
    return z * x


def test_if_elif_else_on_python_floats():
    calls = [(0.9, 1.3), (0.1, -0.4), (-0.8, 0.6)]
    one_program_serves(branch_on_float, (0, 1), calls)


def branch_broadcasts(x, b, flag):
    if flag:
        y = x * b  # x of shape (n, 1) and b of shape (m,): an (n, m) array
    else:
        y = x + 0.0  # still (n, 1)
    return np.sum(np.sin(y))


def test_a_branch_that_broadcasts_and_one_that_does_not():
    calls = [(v(3, 1), v(4), True), (v(3, 1), v(4), False), (v(2, 1), v(5), True)]
    one_program_serves(branch_broadcasts, (0, 1), calls)


# ----------------------------------------------------------------------------- for loops


def accumulate(x, n):
    acc = 0.0  # a Python float that becomes an array once the loop runs
    for i in range(n):
        acc = acc + np.sin(x * (i + 1))
    return np.sum(acc * x)


@pytest.mark.parametrize("shape", [(3,), (1,), (2, 1)])
def test_range_loop_zero_one_many_iterations_one_program(shape):
    x = v(*shape)
    one_program_serves(accumulate, 0, [(x, 3), (x, 0), (x, 1), (x + 0.1, 5)])


def grows(x, w, n):
    y = x  # shape (1,) before the loop, (m,) after one iteration
    for _ in range(n):
        y = np.tanh(y * w)
    return np.sum(y)


def test_a_loop_carried_value_whose_shape_grows_by_broadcasting():
    x, w = v(1), v(4)
    one_program_serves(grows, (0, 1), [(x, w, 2), (x, w, 0), (x, w, 1), (v(1), v(6), 4)])


def scalar_recurrence(x, z, n):
    y = x
    for _ in range(n):
        y = math.sin(y) * z + 0.1 * x
        z = math.cos(z) + 0.3 * y
    return y + z


def test_a_scalar_math_loop_of_two_coupled_states():
    calls = [(0.4, 0.7, 6), (0.4, 0.7, 0), (-0.2, 1.1, 1)]
    t = one_program_serves(scalar_recurrence, (0, 1), calls)
    assert "unbroadcast" not in t.grad_source and "zeros_like" not in t.grad_source


def rows_loop(X, w):
    total = 0.0
    for row in X:
        total = total + np.tanh(row @ w)
    return total


def test_a_loop_over_the_rows_of_an_array():
    calls = [(v(3, 4), v(4)), (v(5, 4), v(4)), (v(0, 4), v(4)), (v(3, 2), v(2))]
    one_program_serves(rows_loop, (0, 1), calls)


# ----------------------------------------------------------------------------- while, nesting


def newton(a, x0):
    x = x0
    steps = 0
    while abs(x * x - a) > 1e-10 and steps < 50:
        x = 0.5 * (x + a / x)
        steps += 1
    return x


def test_a_while_loop_with_a_data_dependent_count():
    one_program_serves(newton, 0, [(2.0, 1.0), (9.0, 2.0), (0.3, 0.5)])


def nested(W, x, n, m):
    h = x
    for i in range(n):
        for j in range(m):
            if j % 2 == 0:
                h = np.tanh(W @ h) + 0.1 * h
            else:
                h = h * 0.9
    return np.sum(h * h)


def test_nested_loops_with_a_branch_inside():
    W, x = v(3, 3) * 0.5, v(3)
    calls = [(W, x, 2, 3), (W, x, 0, 2), (W, x, 2, 0), (W, x, 1, 1), (v(4, 4) * 0.5, v(4), 2, 2)]
    one_program_serves(nested, (0, 1), calls)


def with_break(x, stop):
    s = 0.0
    for i in range(6):
        if i == stop:
            break
        if i % 3 == 1:
            continue
        s = s + np.sum(np.exp(x * (0.3 * i)))
    return s


@pytest.mark.parametrize("x", [v(3), v(1), np.float64(0.4), 0.7])
def test_break_and_continue_first_middle_last_never(x):
    one_program_serves(with_break, 0, [(x, 4), (x, 0), (x, 2), (x, 9)])


def list_loop(x, w, n):
    xs = []
    for i in range(n):
        xs.append(x * w[i])
    return np.sum(np.stack(xs) ** 2) if n else np.sum(x)


def test_a_list_built_in_a_loop():
    x, w = v(3), v(4)
    one_program_serves(list_loop, (0, 1), [(x, w, 3), (x, w, 1), (v(2), w, 4)])
