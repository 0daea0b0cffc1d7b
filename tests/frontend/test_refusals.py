"""Functions symdiff cannot read or cannot differentiate: a clear SymdiffError, never a wrong
answer. Where the construct is supported (wraps decorators, methods, closures, keyword-only
arguments, from_source) the gradient is checked exactly."""

import functools
import math
import re

import numpy as np
import pytest

from symdiff import (
    InputError,
    NonScalarOutputError,
    SourceUnavailableError,
    SymdiffError,
    UnsupportedFunctionError,
    UnsupportedSyntaxError,
    WrtError,
    check_grad,
    from_source,
    grad,
    value_and_grad,
)

# ---------------------------------------------------------------- no source available


def test_a_lambda_without_source_is_refused_with_a_hint():
    ns: dict = {}
    exec("square = lambda x: x * x", ns)  # noqa: S102  (no file, no linecache entry)
    with pytest.raises(SourceUnavailableError, match="the source of this lambda is not") as e:
        grad(ns["square"])
    assert "hint: define the function with `def` in a file" in str(e.value)


@pytest.mark.parametrize(
    "fn,kind",
    [(np.exp, "ufunc"), (math.exp, "builtin_function_or_method"), (abs, "builtin_function")],
)
def test_c_functions_and_builtins_are_refused(fn, kind):
    with pytest.raises(SourceUnavailableError, match=f"it is a {kind}.*not a Python function"):
        grad(fn)


def cube_sum(x, scale):
    return scale * np.sum(x**3)


def test_partial_is_refused_and_names_the_workaround():
    with pytest.raises(SourceUnavailableError, match="functools.partial objects") as e:
        grad(functools.partial(cube_sum, scale=2.0))
    assert "non-wrt arguments" in str(e.value)


def test_exec_defined_function_is_refused_and_from_source_works():
    ns = {"np": np}
    exec("def f(x):\n    return np.sum(np.sin(x))\n", ns)  # what a REPL does
    with pytest.raises(SourceUnavailableError, match="source of f is not available") as e:
        grad(ns["f"])
    assert "symdiff.from_source" in str(e.value)
    f = from_source("def f(x):\n    return np.sum(np.sin(x))\n")
    x = np.array([0.1, 0.7])
    np.testing.assert_allclose(grad(f)(x), np.cos(x), rtol=1e-15)


def test_repl_like_filename_is_refused():
    ns = {}
    code = compile("def g(x):\n    return x * x\n", "<stdin>", "exec")
    exec(code, ns)
    with pytest.raises(SourceUnavailableError, match="not available"):
        grad(ns["g"])


def test_from_source_picks_the_named_function_and_uses_the_namespace():
    text = """
        def helper(v):
            return v * K

        def main(x):
            return helper(x) ** 2

        def other(x):
            return x
    """
    f = from_source(text, name="main", namespace={"K": 3.0})
    assert grad(f)(2.0) == pytest.approx(2 * 9.0 * 2.0, rel=1e-15)
    with pytest.raises(SourceUnavailableError, match="defines no function"):
        from_source("x = 1\n")
    with pytest.raises(SourceUnavailableError, match="does not define 'nope'"):
        from_source("def f(x):\n    return x\n", name="nope")


# ---------------------------------------------------------------- decorators


def logged(fn):
    """A decorator that does not change the value (a log line, a timer)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)

    return wrapper


def doubled(fn):
    """A decorator that changes the value: differentiating the wrapped function would be wrong."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return 2.0 * fn(*args, **kwargs)

    return wrapper


@logged
def logged_square(x):
    return np.sum(x * x)


@doubled
def doubled_square(x):
    return np.sum(x * x)


def test_transparent_wraps_decorator_is_looked_through():
    x = np.array([1.0, -2.0])
    np.testing.assert_array_equal(grad(logged_square)(x), 2 * x)
    assert grad(logged_square).source.startswith("def logged_square_grad(x):")


def test_decorator_that_changes_the_value_is_refused_at_the_first_call():
    g = grad(doubled_square)
    with pytest.raises(
        UnsupportedFunctionError, match="decorator on doubled_square changes its value"
    ):
        g(np.array([1.0, 2.0]))
    with pytest.raises(UnsupportedFunctionError, match=r"\(10.0 instead of 5.0\)"):
        value_and_grad(doubled_square)(np.array([1.0, 2.0]))


def scalar_cube(x):
    return x**3


def test_grad_of_a_grad_is_the_second_derivative_never_the_first_again():
    # a gradient's __wrapped__ is the original function: looking through it would silently
    # give the first derivative again (27 at x = 3) instead of the second (18)
    assert grad(grad(scalar_cube))(3.0) == pytest.approx(18.0, rel=1e-14)
    assert grad(logged(grad(scalar_cube)))(3.0) == pytest.approx(18.0, rel=1e-14)


class FakeGradient:
    """Something marked as a symdiff gradient that exposes no generated code."""

    __symdiff_grad__ = True

    def __init__(self, f):
        self.__wrapped__ = f
        self.__name__ = "fake"

    def __call__(self, x):
        return 3 * x**2


def test_a_gradient_without_generated_code_is_refused():
    with pytest.raises(UnsupportedFunctionError, match=r"'fake' is a \w+ made by symdiff"):
        grad(FakeGradient(scalar_cube))


def test_a_decorator_over_a_gradient_still_computes_it():
    x = np.array([1.0, 2.0])
    np.testing.assert_array_equal(logged(grad(cube_sum))(x, 2.0), 6.0 * x**2)


# ---------------------------------------------------------------- methods and closures


class Model:
    scale = 3.0

    def energy(self, x):
        return np.sum(x * x) * 0.5

    def scaled(self, x):
        return np.sum(x) * self.scale

    def calls_other(self, x):
        return self.energy(x)

    @staticmethod
    def static(x, y):
        return np.sum(x * y)

    @classmethod
    def klass(cls, x):
        return np.sum(x**2)


def test_bound_method_wrt_counts_the_arguments_the_caller_passes():
    m = Model()
    x = np.array([1.0, -3.0])
    np.testing.assert_array_equal(grad(m.energy)(x), x)  # wrt=0 is x, not self
    np.testing.assert_array_equal(grad(m.energy, wrt="x")(x), x)
    value, dx = value_and_grad(m.energy)(x)
    assert value == 5.0
    with pytest.raises(WrtError, match="not an argument"):
        grad(m.energy, wrt="self")


def test_check_grad_on_a_bound_method():
    m = Model()
    report = check_grad(m.energy, np.array([0.5, -1.5]))
    assert report.ok and [a.name for a in report.args] == ["x"]


def test_unbound_method_takes_self_explicitly():
    np.testing.assert_array_equal(grad(Model.energy, wrt="x")(Model(), np.ones(2)), np.ones(2))


def test_static_and_class_methods():
    x, y = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    np.testing.assert_array_equal(grad(Model.static, wrt=1)(x, y), x)
    np.testing.assert_array_equal(grad(Model().static)(x, y), y)
    np.testing.assert_array_equal(grad(Model.klass)(x), 2 * x)


def test_self_attributes_are_read_as_inputs_and_method_calls_refused():
    # reads: see tests/frontend/test_attributes.py; a class attribute is read the same way
    np.testing.assert_array_equal(grad(Model().scaled)(np.ones(2)), [3.0, 3.0])
    assert grad(Model().scaled, wrt="self.scale")(np.ones(2)) == 2.0
    with pytest.raises(
        UnsupportedFunctionError, match=r"calling `self.energy\(\)` is not supported"
    ):
        grad(Model().calls_other)


def make_closure(a, w):
    def f(x):
        return a * np.sum(w * np.tanh(x))

    return f


def test_closures_are_read_as_constants():
    w = np.array([0.5, -1.0, 2.0])
    f = make_closure(3.0, w)
    x = np.array([0.1, 0.2, -0.3])
    np.testing.assert_allclose(grad(f)(x), 3.0 * w / np.cosh(x) ** 2, rtol=1e-14)
    g = make_closure(-1.0, w)  # the same code with other cell values: its own gradient
    np.testing.assert_allclose(grad(g)(x), -w / np.cosh(x) ** 2, rtol=1e-14)


# ---------------------------------------------------------------- signatures


def star_args(x, *rest):
    return x * x


def star_kwargs(x, **options):
    return x * x


@pytest.mark.parametrize("f", [star_args, star_kwargs])
def test_variadic_functions_are_refused(f):
    with pytest.raises(
        UnsupportedSyntaxError, match=r"\*args or \*\*kwargs cannot be differentiated"
    ):
        grad(f)


def keyword_only(x, *, scale=2.0, shift):
    return scale * x * x + shift


def positional_only(x, y, /):
    return x * y


def test_keyword_only_and_positional_only_arguments():
    assert grad(keyword_only)(3.0, shift=1.0) == 12.0
    assert grad(keyword_only, wrt="scale")(3.0, shift=1.0) == 9.0
    assert grad(keyword_only, wrt="scale")(3.0, scale=4.0, shift=1.0) == 9.0
    assert grad(keyword_only, wrt="shift")(3.0, shift=1.0) == 1.0
    assert grad(positional_only, wrt=(0, 1))(2.0, 5.0) == (5.0, 2.0)


def defaulted(x, s=2.0):
    return s * x * x


def test_gradient_with_respect_to_a_default_left_out_of_the_call():
    g = grad(defaulted, wrt="s")(3.0)
    assert g == 9.0 and type(g) is float


# ---------------------------------------------------------------- results and wrt


def returns_none(x):
    return None


def returns_text(x):
    return "x"


def returns_pair(x):
    return x, 2.0 * x


@pytest.mark.parametrize(
    "f,words",
    [
        (returns_none, "returns_none returns None, which has no gradient"),
        (returns_text, "returns_text returns a str, which has no gradient"),
        (returns_pair, "returns_pair returns a tuple of 2 values; a gradient needs one scalar"),
    ],
)
def test_results_that_are_never_numbers_are_refused_when_the_gradient_is_built(f, words):
    with pytest.raises(NonScalarOutputError, match=words) as e:
        grad(f)
    assert "test_refusals.py:" in str(e.value)


def sometimes_text(x):
    if x > 0:
        return x * x
    return "negative"


def returns_list(x):
    return [x, x]


def vector_result(x):
    return x * 2.0


def test_results_known_only_at_call_time_are_refused_then():
    g = grad(sometimes_text)
    assert g(3.0) == 6.0
    with pytest.raises(NonScalarOutputError, match="must return a real scalar.*returned a str"):
        g(-1.0)
    with pytest.raises(NonScalarOutputError, match=r"shape \(2,\)"):
        grad(returns_list)(1.0)
    with pytest.raises(NonScalarOutputError, match=r"shape \(1,\)"):
        grad(vector_result)(np.ones(1))  # one element is still not a scalar
    assert grad(vector_result)(np.array(1.5)) == 2.0  # a 0-d array is


def two(x, n):
    return x * n


@pytest.mark.parametrize(
    "wrt,words",
    [
        ("y", "wrt names 'y', which is not an argument of two"),
        (2, "wrt=2 but two takes 2 argument"),
        (True, "wrt entries are argument positions or names, not True"),
        ((), "wrt is empty"),
        (("x", 0), "wrt names 'x' twice"),
        (1.0, "wrt is an argument position or name, or a tuple of them, not 1.0"),
    ],
)
def test_bad_wrt_is_refused_when_the_gradient_is_built(wrt, words):
    with pytest.raises(WrtError, match=words):
        grad(two, wrt=wrt)


@pytest.mark.parametrize(
    "value,words",
    [
        ("abc", "argument n of two is a str ('abc'), not a number"),
        (None, "argument n of two is None"),
        (
            [[1.0], [2.0, 3.0]],
            "argument n is a list of items of different shapes ((1,), (2,))",
        ),
        (np.array([1.0, None]), "argument n of two is an array of dtype object, not of numbers"),
    ],
)
def test_non_numeric_wrt_argument_is_refused_at_call_time(value, words):
    g = grad(two, wrt="n")
    with pytest.raises(InputError, match=re.escape(words)):
        g(1.0, value)


def test_every_refusal_is_a_symdiff_error_and_the_input_errors_are_type_errors():
    assert issubclass(InputError, TypeError) and issubclass(InputError, SymdiffError)
    assert issubclass(NonScalarOutputError, ValueError)
