"""Assignments into an argument (``x[0] = a * b``): the gradient is with respect to the
value on entry, and the generated code works on a copy, leaving the caller's array as it
was (``f`` itself changes it, as Python does). An alias that would see the change is
still refused."""

from __future__ import annotations

import numpy as np
import pytest

import symdiff
from symdiff.errors import UnsupportedSyntaxError


def overwrite_first(x, a, b):
    x[0] = a * b
    return np.sum(x**2)


def scale_in_a_loop(x, a):
    for i in range(x.shape[0]):
        x[i] = x[i] * a + np.sin(x[i])
    return np.sum(x * x)


def bump(x, a):
    x += a
    return np.sum(x * x)


@pytest.mark.parametrize(
    "f, args, wrt",
    [
        (overwrite_first, (np.array([0.5, -1.0, 2.0]), 1.5, -0.7), (0, 1, 2)),
        (scale_in_a_loop, (np.array([0.3, -1.2, 0.8, 2.0]), 1.3), (0, 1)),
        (bump, (np.array([0.3, -1.2]), 0.4), (0, 1)),
    ],
)
def test_the_gradient_is_at_the_value_on_entry(f, args, wrt):
    symdiff.check_grad(f, *[np.copy(a) for a in args], wrt=wrt)  # raises past tolerance
    fresh = [np.copy(a) for a in args]
    grads = symdiff.grad(f, wrt=wrt)(*fresh)
    for got, want in zip(grads, _central_differences(f, args, wrt)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


def test_overwritten_entries_have_no_gradient():
    dx = symdiff.grad(overwrite_first)(np.array([3.0, 1.0, 2.0]), 1.0, 2.0)
    assert dx[0] == 0.0
    np.testing.assert_allclose(dx[1:], [2.0, 4.0])


@pytest.mark.parametrize("make", [symdiff.grad, symdiff.value_and_grad])
def test_the_generated_code_leaves_the_callers_array_unchanged(make):
    x = np.array([0.5, -1.0, 2.0])
    entry = x.copy()
    make(overwrite_first, wrt=(0, 1))(x, 1.5, -0.7)
    np.testing.assert_array_equal(x, entry)
    value = overwrite_first(x, 1.5, -0.7)  # f itself writes into the caller's array
    assert x[0] == 1.5 * -0.7 and value == pytest.approx(np.sum(x**2))


def test_an_alias_that_would_see_the_update_is_still_refused():
    def sees_it(x, a):
        y = x[1:]
        x[1] = a
        return np.sum(y)

    with pytest.raises(UnsupportedSyntaxError, match="`y` also names"):
        symdiff.grad(sees_it)


def _central_differences(f, args, wrt):
    """d f / d args[k] at the given values, by central differences on fresh copies (f
    writes into its argument, so every evaluation gets its own)."""
    out = []
    for k in wrt:
        base = np.asarray(args[k], dtype=float)
        g = np.zeros_like(base)
        for i in np.ndindex(base.shape):
            vals = []
            for sign in (1.0, -1.0):
                shifted = [np.copy(a) for a in args]
                bumped = np.array(base, dtype=float)
                bumped[i] += sign * 1e-6
                shifted[k] = bumped if base.ndim else float(bumped)
                vals.append(f(*shifted))
            g[i] = (vals[0] - vals[1]) / 2e-6
        out.append(g)
    return out
