"""How the printer writes an adjoint added into an indexed part of an accumulator."""

import math

import numpy as np
import pytest

import symdiff
from symdiff import pipeline

from ..helpers import agrees


def columns(H, w):
    s = 0.0
    for t in range(H.shape[1]):
        s = s + np.sum(np.tanh(H[:, t] * w) ** 2)
    return s


def picks(x, idx, n):
    s = 0.0
    for k in range(n):
        s = s + np.sum(x[idx] * (k + 1.0))
    return s


@pytest.mark.parametrize("steps", [0, 1, 5])
def test_a_basic_slice_is_added_with_plus_equals(steps):
    rng = np.random.default_rng(1)
    H, w = rng.normal(size=(4, steps)), rng.normal(size=4)
    for args in (None, (H, w)):
        text = pipeline.transform(columns, (0, 1), args=args).grad_source
        assert "d_H[:, t] += " in text and "np.add.at" not in text
    agrees(columns, H, w, wrt=(0, 1))


@pytest.mark.parametrize("steps", [0, 1, 3])
def test_indices_that_may_repeat_keep_np_add_at(steps):
    x, idx = np.array([0.5, -1.0, 2.0]), np.array([0, 2, 2, 1])
    text = pipeline.transform(picks, 0).grad_source
    assert "np.add.at" in text
    agrees(picks, x, idx, steps)
    # x[2] is read twice per step: both reads add up
    expected = sum(k + 1.0 for k in range(steps)) * np.array([1.0, 1.0, 2.0])
    np.testing.assert_allclose(symdiff.grad(picks)(x, idx, steps), expected, rtol=1e-15)


def steps(x, n):
    y = x
    for _ in range(n):
        y = y * math.cos(y) + 0.1 * math.sin(x)
    return y


def nested_steps(x, n):
    y = x
    for _ in range(n):
        for _ in range(2):
            y = math.sin(y) * x
    return y


def branch_steps(x, n):
    y = x
    for _ in range(n):
        if y > 0.0:
            y = y * math.cos(y)
        else:
            y = y - 0.5 * x
    return y


@pytest.mark.parametrize("n", [0, 1, 7])
def test_a_backward_loop_walks_its_tape(n):
    text = pipeline.transform(steps, 0).grad_source
    assert "in reversed(tape):" in text and ".pop()" not in text
    agrees(steps, 0.7, n)
    assert symdiff.hessian(steps)(0.7, n) == pytest.approx(
        (symdiff.grad(steps)(0.7 + 1e-6, n) - symdiff.grad(steps)(0.7 - 1e-6, n)) / 2e-6,
        rel=1e-5,
        abs=1e-8,
    )


@pytest.mark.parametrize("f", [nested_steps, branch_steps])
@pytest.mark.parametrize("n", [0, 1, 4])
def test_a_tape_shared_with_inner_pops_is_popped(f, n):
    # an inner loop's tape holds every outer iteration's entries, a branch pops from the
    # loop's own tape: walking either would read the wrong entries
    text = pipeline.transform(f, 0).grad_source
    assert ".pop()" in text
    agrees(f, 0.7, n)
    agrees(f, -0.4, n)
