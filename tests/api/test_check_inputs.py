"""check_grad at inputs where finite differences mean nothing, and with gradients that do
not fit the arguments: an error naming the cause, never a gradient verdict."""

import math

import numpy as np
import pytest

from symdiff import GradientCheckError, check_grad
from symdiff.errors import NonFiniteError, SymdiffError, UserCodeError

HERE = "tests/api/test_check_inputs.py"


def total(x):
    return np.sum(x * x)


def weighted(x, w):
    return np.sum(w * x)


def logs(x):
    return np.sum(np.log(x))


def scalar(x):
    return x * x


def first_line(exc):
    return str(exc).splitlines()[0]


def def_line(fn):
    return fn.__code__.co_firstlineno


@pytest.mark.parametrize(
    "value, word, shown",
    [(np.nan, "NaN", "nan"), (np.inf, "infinite", "inf"), (-np.inf, "infinite", "-inf")],
)
def test_a_non_finite_entry_is_named_not_judged(value, word, shown):
    x = np.array([1.0, 2.0, value])
    with pytest.raises(NonFiniteError) as info:
        check_grad(total, x)
    line = first_line(info.value)
    assert line.startswith(f"{HERE}:{def_line(total)}:1: total is {word} at this input")
    assert f"argument x holds {shown} at index 2 (1 of 3)" in line
    assert "FAIL" not in str(info.value)
    assert isinstance(info.value, SymdiffError) and not isinstance(info.value, GradientCheckError)


def test_the_first_of_several_bad_entries_and_their_count():
    x = np.array([[1.0, np.nan], [np.nan, 2.0]])
    with pytest.raises(NonFiniteError, match=r"argument x holds nan at index \(0, 1\) \(2 of 4\)"):
        check_grad(total, x)


def test_a_nan_in_an_argument_not_differentiated_is_named_too():
    with pytest.raises(NonFiniteError, match="argument w holds nan at index 0"):
        check_grad(weighted, np.ones(2), np.array([np.nan, 1.0]), wrt=0)


def test_a_nan_scalar_argument():
    with pytest.raises(
        NonFiniteError, match=r"(?m)scalar is NaN at this input .*argument x holds nan$"
    ):
        check_grad(scalar, math.nan)


def test_nan_outside_the_domain_says_so_with_finite_inputs():
    with np.errstate(invalid="ignore"):
        with pytest.raises(NonFiniteError) as info:
            check_grad(logs, np.array([1.0, -1.0]))
    assert first_line(info.value).endswith(
        "logs is NaN at this input (logs(...) = nan), so its gradient cannot be checked there"
    )
    assert "hint: check at a point where logs is finite" in str(info.value)


def test_finite_inputs_are_still_checked():
    report = check_grad(total, np.array([1.0, -2.0, 3.0]))
    assert report.ok


def test_too_few_gradients_is_an_error_not_a_pass():
    # before, zip() dropped the argument that had no gradient and the check passed
    with pytest.raises(GradientCheckError, match="1 gradients for the 2 arguments x, w"):
        check_grad(
            weighted, np.ones(2), np.ones(2), wrt=(0, 1), grad_fn=lambda x, w: (w,),
            raise_on_failure=False,
        )  # fmt: skip


def test_a_gradient_of_the_wrong_shape_is_a_failing_row_when_not_raising():
    report = check_grad(total, np.ones(3), grad_fn=lambda x: x[:2], raise_on_failure=False)
    assert not report.ok
    assert report.args[0].max_abs_error == math.inf
    with pytest.raises(GradientCheckError, match=r"has shape \(2,\), but x has shape \(3,\)"):
        check_grad(total, np.ones(3), grad_fn=lambda x: x[:2])


def raises_inside(x):
    if x[0] > 0:
        raise ValueError("only negative inputs")
    return np.sum(x)


def test_the_function_raising_during_the_check_is_the_users_error():
    with pytest.raises(UserCodeError) as info:
        check_grad(raises_inside, np.ones(2), grad_fn=lambda x: np.ones(2))
    line = first_line(info.value)
    assert line == (
        f"{HERE}:{def_line(raises_inside) + 2}:9: raises_inside raised ValueError: "
        "only negative inputs"
    )
    assert isinstance(info.value, ValueError)
