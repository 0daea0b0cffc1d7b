"""Unusual inputs and unlucky names: the right answer, or a clear SymdiffError.

Inputs: float32 keeps its dtype, integers are promoted to float64, 0-d and empty arrays work,
NaN and inf propagate as in NumPy, complex and bool are refused with InputError. Names: a
user variable or parameter called like something generated code uses (``np``, ``math``,
``unbroadcast``, ``d_x``, ``t1``, ``tape``...) never changes the result.
"""

import math

import numpy as np
import pytest

from symdiff import InputError, NonScalarOutputError, WrtError, from_source, grad, value_and_grad

from ..helpers import agrees


def tanh_sum(x):
    return np.sum(np.tanh(x) * x)


def d_tanh_sum(x):
    return np.tanh(x) + x / np.cosh(x) ** 2


def square(x):
    return x * x


# ---------------------------------------------------------------- dtypes


def test_float32_array_gradient_keeps_dtype_and_value():
    x = np.linspace(-1, 1, 5, dtype=np.float32)
    g = grad(tanh_sum)(x)
    assert g.dtype == np.float32 and g.shape == (5,)
    np.testing.assert_allclose(g, d_tanh_sum(x.astype(np.float64)), rtol=1e-6, atol=1e-6)


def test_numpy_scalars_keep_their_type():
    g32 = grad(square)(np.float32(1.5))
    assert type(g32) is np.float32 and g32 == np.float32(3.0)
    g64 = grad(square)(np.float64(1.5))
    assert type(g64) is np.float64 and g64 == 3.0


def test_python_floats_get_python_floats_and_ints_are_refused():
    with pytest.raises(WrtError, match="'x' of square is an integer here") as info:
        grad(square)(3)  # an int is a count or an index: never differentiated
    assert "pass x as a float (2.0, not 2)" in info.value.hint
    g = grad(square)(1.5)
    assert type(g) is float and g == 3.0


def test_integer_arrays_are_promoted_to_float64():
    g = grad(tanh_sum)(np.array([0, 1, 2]))
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, d_tanh_sum(np.array([0.0, 1.0, 2.0])), rtol=1e-14)
    g = grad(square)(np.int64(4))
    assert type(g) is np.float64 and g == 8.0


def test_a_list_is_read_as_an_array_and_its_gradient_is_a_list():
    g = grad(tanh_sum)([0.5, -0.5])  # the argument's structure, as JAX gives it
    assert type(g) is list and all(type(gi) is float for gi in g)
    np.testing.assert_allclose(g, d_tanh_sum(np.array([0.5, -0.5])), rtol=1e-14)


def test_zero_dimensional_arrays():
    x = np.array(0.3)
    value, g = value_and_grad(tanh_sum)(x)
    assert isinstance(g, np.ndarray) and g.shape == () and g.dtype == np.float64
    assert g == pytest.approx(d_tanh_sum(0.3), rel=1e-14)
    assert value == pytest.approx(np.tanh(0.3) * 0.3, rel=1e-15)


@pytest.mark.parametrize("shape", [(0,), (0, 3), (2, 0)])
def test_empty_arrays(shape):
    value, g = value_and_grad(tanh_sum)(np.zeros(shape))
    assert value == 0.0
    assert g.shape == shape and g.dtype == np.float64


def mean_of_squares(x):
    return np.mean(x * x)


def test_mean_of_an_empty_array_is_nan_like_numpy():
    with np.errstate(invalid="ignore", divide="ignore"), pytest.warns(RuntimeWarning):
        value, g = value_and_grad(mean_of_squares)(np.zeros(0))
    assert np.isnan(value) and g.shape == (0,)


# ---------------------------------------------------------------- NaN and inf


def test_nan_and_inf_propagate_elementwise():
    x = np.array([np.nan, np.inf, -np.inf, 1.0])
    with np.errstate(invalid="ignore"):
        g = grad(lambda_free_sum_of_squares)(x)
    assert np.isnan(g[0]) and g[1] == np.inf and g[2] == -np.inf and g[3] == 2.0


def lambda_free_sum_of_squares(x):
    return np.sum(x * x)


def scalar_exp(x):
    return math.exp(x) + x


def test_nan_scalar_input():
    assert math.isnan(grad(scalar_exp)(float("nan")))
    assert grad(scalar_exp)(float("-inf")) == 1.0


def safe_log(x):
    return np.sum(np.where(x > 0, np.log(x), 0.0))


def test_inf_and_out_of_domain_values_in_an_unselected_branch_stay_there():
    with np.errstate(divide="ignore", invalid="ignore"):
        g = grad(safe_log)(np.array([np.inf, 0.0, 2.0, -1.0]))
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.5, 0.0])


# ---------------------------------------------------------------- refused kinds


@pytest.mark.parametrize(
    "x",
    [np.array([1.0 + 1j, 2.0]), 1 + 2j, np.complex128(1.0), [1.0, 2j]],
    ids=["array", "python", "numpy-scalar", "list"],
)
def test_complex_inputs_are_refused(x):
    with pytest.raises(InputError, match="argument x is complex") as e:
        grad(square)(x)
    assert "hint: split it into real and imaginary parts" in str(e.value)


@pytest.mark.parametrize("x", [np.bool_(False), np.array([True, False])])
def test_bool_inputs_are_refused(x):
    with pytest.raises(InputError, match="argument x is a bool"):
        grad(square)(x)
    with pytest.raises(WrtError, match="argument 'x' of square is a boolean"):
        grad(square)(True)


def scaled_by_complex(x, c):
    return np.sum(x * c)


def test_a_complex_non_wrt_argument_makes_a_complex_result_which_is_refused():
    # never the real part of a complex gradient, cast to float without a word
    with pytest.raises(NonScalarOutputError, match="the result is complex") as e:
        grad(scaled_by_complex)(np.ones(2), 1j)
    assert "not in wrt" in str(e.value)
    with pytest.raises(NonScalarOutputError, match="the result is complex"):
        value_and_grad(scaled_by_complex)(np.ones(2), 1j)
    with pytest.raises(NonScalarOutputError, match="the result is complex"):
        grad(scaled_by_complex)(1.0, 2j)


def flagged(x, flag):
    if flag:
        return x * 3.0
    return x * x


def test_bool_arguments_not_differentiated_are_fine():
    assert grad(flagged)(2.0, True) == 3.0
    assert grad(flagged)(2.0, np.bool_(False)) == 4.0


# ---------------------------------------------------------------- colliding names

COLLIDING = """
import numpy
import math as pymath

def unbroadcast(v):
    return v * 2.0

def f(x, np, tape):
    math = x * 2.0
    d_x = unbroadcast(math) * np
    t1 = d_x * x
    ensure_scalar = numpy.sin(t1)
    steps = 0.0
    matmul_grad_a = x
    for i in range(3):
        steps = steps + ensure_scalar * pymath.cos(tape) + matmul_grad_a
    t2 = numpy.sum(steps * tape)
    index_grad = t2 + numpy.sum(d_x)
    return index_grad
"""


def test_user_names_that_generated_code_also_uses():
    f = from_source(COLLIDING, name="f", namespace={})
    x = np.array([0.3, -0.4, 0.9])
    report = agrees(f, x, 1.7, 0.4, wrt=(0, 1, 2))
    assert report.ok
    src = grad(f, wrt=(0, 1, 2)).source
    assert "def f_grad(x, np, tape):" in src
    compile(src, "<check>", "exec")


def test_a_parameter_called_np_next_to_numpy_under_another_name():
    f = from_source("def g(x, np):\n    return onp.sum(onp.exp(x) * np)\n", namespace={"onp": np})
    x = np.array([0.1, 0.2])
    value, (dx, dnp) = value_and_grad(f, wrt=(0, 1))(x, 3.0)
    np.testing.assert_allclose(dx, 3.0 * np.exp(x), rtol=1e-15)
    assert dnp == pytest.approx(np.sum(np.exp(x)), rel=1e-15)


def test_a_variable_called_math_while_math_is_imported_under_another_name():
    f = from_source(
        "def h(x):\n    math = m.sin(x)\n    return math * math\n", namespace={"m": math}
    )
    assert grad(f)(0.5) == pytest.approx(2 * math.sin(0.5) * math.cos(0.5), rel=1e-15)


def test_names_of_generated_functions_do_not_collide_with_the_users():
    text = "def f_grad(x):\n    return x * 3.0\n\ndef f(x):\n    return f_grad(x) * x\n"
    f = from_source(text, name="f")
    assert grad(f)(2.0) == 12.0
