"""optimize.specialise: what the driver does around the rewrites (dead statements and the
tape entries only they read go; a gradient is always the caller's own new array)."""

import numpy as np
import pytest

from .specialised import agree, body, function, kinds

ARGS = kinds()


def test_a_tape_entry_read_only_for_a_shape_the_types_know_is_not_kept():
    f = function(
        "def f(x):\n    s = 0.0\n    for i in range(3):\n        s = s + np.sum(x * i)\n    return s\n"
    )
    t = agree(f, (ARGS["vector"],))
    assert "tape" not in body(t), t.grad_source


def test_a_gradient_equal_to_an_argument_is_a_copy_of_it():
    f = function("def f(x, y):\n    return np.sum(x * y)\n")
    x, y = ARGS["vector"], ARGS["vector"] + 1.0
    dx, dy = agree(f, (x, y), wrt=(0, 1)).grad(x, y)
    assert not np.shares_memory(dx, y) and not np.shares_memory(dy, x)
    assert dx.flags.writeable and np.array_equal(dx, y)


def test_two_gradients_that_are_one_value_are_two_arrays():
    f = function("def f(x, y):\n    return np.sum(x + y)\n")
    x = ARGS["vector"]
    dx, dy = agree(f, (x, x + 1.0), wrt=(0, 1)).grad(x, x + 1.0)
    assert dx is not dy and not np.shares_memory(dx, dy)


def test_a_float_gradient_is_never_copied_into_an_array():
    f = function("def f(x, y):\n    return x * y\n")
    dx, dy = agree(f, (0.5, 2.0), wrt=(0, 1)).grad(0.5, 2.0)
    assert type(dx) is float and type(dy) is float


@pytest.mark.parametrize("flag", [False, True])
def test_a_gradient_chosen_by_a_branch_is_writeable(flag):
    f = function(
        "def f(x, flag):\n    if flag:\n        y = x * 2.0\n    else:\n        y = x + 1.0\n"
        "    return np.sum(y)\n"
    )
    x = ARGS["vector"]
    dx = agree(f, (x, flag)).grad(x, flag)
    assert dx.flags.writeable and not np.shares_memory(dx, x)
