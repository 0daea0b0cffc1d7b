"""optimize.typed_where: the adjoints of np.where as one choice, against the generic
gradient and finite differences."""

import numpy as np
import pytest

from .specialised import agree, body, function, kinds

ARGS = kinds()


def test_the_adjoints_of_a_where_are_one_where():
    f = function("def f(z):\n    return np.sum(np.where(z > 0, z, ALPHA * z))\n", ALPHA=0.1)
    t = agree(f, (np.array([-1.0, -0.25, 0.5, 2.0]),))
    z = np.array([-1.0, 0.0, 0.5, 2.0])  # at the kink, 0 takes the else branch
    assert body(t).splitlines()[-2:] == [
        "d_z = np.where(z > 0, 1.0, ALPHA)",
        "return d_z",
    ], t.grad_source
    assert np.array_equal(t.grad(z), [0.1, 0.1, 1.0, 1.0])


@pytest.mark.parametrize("kind", ["vector", "row", "zero_d", "float"])
def test_a_choice_between_constants_scaled_or_negated_is_folded(kind):
    f = function("def f(x, y):\n    return np.sum(-(np.where(x > 0, x, 2.0 * x) / 4.0) * y)\n")
    t = agree(f, (ARGS[kind], ARGS["vector"]), wrt=(0, 1))
    assert "np.where(x > 0, 1.0, 0.0)" not in body(t), t.grad_source


def test_integer_choices_are_not_folded_into_python_integers():
    f = function("def f(x, k):\n    return np.sum(x * (np.where(k > 0, 3, 1) * 2**62))\n")
    agree(f, (ARGS["vector"], np.array([1, -1, 2])))
