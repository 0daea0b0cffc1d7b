"""The public API: grad's three forms, wrt handling, value_and_grad, inputs and results."""

import numpy as np
import pytest

import symdiff
from symdiff import (
    InputError,
    NonScalarOutputError,
    WrtError,
    check_grad,
    grad,
    gradient_source,
    value_and_grad,
)
from symdiff.errors import BackendError


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def loss(W, x, b, y):
    a = sigmoid(W @ x + b)
    return np.sum((a - y) ** 2)


def square_sum(x):
    return np.sum(x * x)


@pytest.fixture
def dense():
    rng = np.random.default_rng(0)
    return (
        rng.standard_normal((3, 4)),
        rng.standard_normal(4),
        rng.standard_normal(3),
        rng.standard_normal(3),
    )


def hand_loss_grad(W, x, b, y):
    a = sigmoid(W @ x + b)
    dz = 2 * (a - y) * a * (1 - a)
    return np.outer(dz, x), dz


def test_decorator_forms_agree(dense):
    @grad
    def plain(x):
        return np.sum(x * x)

    @grad(wrt=0)
    def called(x):
        return np.sum(x * x)

    wrapped = grad(square_sum)
    x = dense[1]
    for g in (plain, called, wrapped):
        np.testing.assert_allclose(g(x), 2 * x)


def test_wrt_names_and_positions_give_the_same_gradients(dense):
    by_name = grad(loss, wrt=("W", "b"))(*dense)
    by_pos = grad(loss, wrt=(0, 2))(*dense)
    expected = hand_loss_grad(*dense)
    for a, b, c in zip(by_name, by_pos, expected):
        np.testing.assert_allclose(a, c, rtol=1e-12)
        np.testing.assert_allclose(b, c, rtol=1e-12)


def test_single_wrt_returns_one_array_tuple_wrt_returns_tuple(dense):
    g = grad(loss, wrt="b")(*dense)
    assert isinstance(g, np.ndarray) and g.shape == (3,)
    gs = grad(loss, wrt=("b",))(*dense)
    assert isinstance(gs, tuple) and len(gs) == 1


def test_value_and_grad_returns_value_from_same_pass(dense):
    value, (dW, db) = value_and_grad(loss, wrt=("W", "b"))(*dense)
    assert value == pytest.approx(loss(*dense), rel=1e-15)
    np.testing.assert_allclose(dW, hand_loss_grad(*dense)[0], rtol=1e-12)


def test_python_float_argument_gets_float_gradient():
    def f(x):
        return x * x + 3.0 * x

    g = grad(f)(2.0)
    assert isinstance(g, float) and g == pytest.approx(7.0)


def test_integer_arrays_are_promoted_and_python_ints_are_refused():
    assert grad(square_sum)(np.array([1, 2, 3])).dtype == np.float64
    assert grad(lambda_free_square)(3.0) == pytest.approx(6.0)
    with pytest.raises(WrtError, match="argument 'x' of lambda_free_square is an integer"):
        grad(lambda_free_square)(3)


def lambda_free_square(x):
    return x * x


def test_float32_gradient_keeps_dtype():
    x = np.linspace(-1, 1, 5, dtype=np.float32)
    g = grad(lambda_sig_sum)(x)
    assert g.dtype == np.float32


def lambda_sig_sum(x):
    return np.sum(sigmoid(x))


def test_source_attribute_and_wrapped(dense):
    g = grad(loss, wrt=("W", "b"))
    assert g.__wrapped__ is loss
    assert g.source.startswith("def loss_grad(W, x, b, y):")
    assert g.source == gradient_source(loss, wrt=("W", "b"))


def test_wrt_errors_name_the_arguments():
    with pytest.raises(WrtError, match="not an argument.*\n.*arguments: W, x, b, y"):
        grad(loss, wrt="w")
    with pytest.raises(WrtError, match="takes 4 argument"):
        grad(loss, wrt=7)
    with pytest.raises(WrtError, match="twice"):
        grad(loss, wrt=("W", 0))


def test_non_scalar_result_is_refused_at_call_time_with_its_shape():
    def f(x):
        return x * 2.0

    g = grad(f)
    with pytest.raises(NonScalarOutputError, match=r"shape \(3,\)"):
        g(np.ones(3))
    assert issubclass(NonScalarOutputError, ValueError)


def test_complex_input_is_refused():
    with pytest.raises(InputError, match="complex"):
        grad(square_sum)(np.ones(3) + 1j)


def test_check_flag_cross_checks_first_call(dense):
    g = grad(loss, wrt=("W", "b"), check=True)
    g(*dense)


def test_check_grad_accepts_a_hand_written_gradient(dense):
    report = check_grad(loss, *dense, wrt=("W", "b"), grad_fn=hand_loss_grad)
    assert report.ok
    assert [a.name for a in report.args] == ["W", "b"]

    def wrong(W, x, b, y):
        dW, db = hand_loss_grad(W, x, b, y)
        return dW, db * 1.01

    with pytest.raises(symdiff.GradientCheckError, match="b .*FAIL"):
        check_grad(loss, *dense, wrt=("W", "b"), grad_fn=wrong)


def test_redefining_a_function_gives_a_fresh_transformation():
    ns = {}
    src1 = "import numpy as np\ndef f(x):\n    return np.sum(x * 2.0)\n"
    src2 = "import numpy as np\ndef f(x):\n    return np.sum(x * 3.0)\n"
    f1 = symdiff.from_source(src1)
    f2 = symdiff.from_source(src2)
    assert grad(f1)(np.ones(2))[0] == 2.0
    assert grad(f2)(np.ones(2))[0] == 3.0
    del ns


def test_generated_source_is_deterministic(dense):
    a = symdiff.transform(loss, wrt=("W", "b")).grad_source
    b = symdiff.pipeline.transform(loss, wrt=("W", "b")).grad_source
    assert a == b


def mean_by_rows(Z, Y):
    return -np.sum(Y * (Z - np.max(Z, axis=1, keepdims=True))) / Z.shape[0]


def test_an_item_of_a_shape_is_a_scalar_and_negations_move_out_of_sums():
    source = symdiff.gradient_source(mean_by_rows)
    # the result is a sum divided by an int: known scalar, so the value is not computed
    code = "\n".join(ln for ln in source.splitlines() if not ln.strip().startswith("#"))
    assert "ensure_scalar" not in code and "np.sum(Y *" not in code
    # unbroadcast(-g, m) is written -unbroadcast(g, m): the negation on the summed array
    assert "unbroadcast(-" not in source and "- unbroadcast(" in source
    rng = np.random.default_rng(1)
    Z, Y = rng.normal(size=(4, 3)), rng.random(size=(4, 3))
    assert symdiff.check_grad(mean_by_rows, Z, Y).ok
    with pytest.raises(symdiff.SymdiffError):  # a slice of a shape is a tuple, not a scalar
        symdiff.grad(lambda_free_slice)(np.ones((2, 2)))


def lambda_free_slice(x):
    return np.sum(x) / x.shape[0:1]


# ----------------------------------------------------------------------------- backends


def _mlp_loss(W, b, X):
    return np.mean(np.tanh(X @ W + b) ** 2)


def _mlp_args():
    rng = np.random.default_rng(3)
    return rng.normal(size=(3, 2)), rng.normal(size=2), rng.normal(size=(5, 3))


def test_grad_with_a_backend_takes_and_returns_that_librarys_arrays_under_jit():
    jax = pytest.importorskip("jax", reason="JAX is not installed")
    jax.config.update("jax_enable_x64", True)
    args = _mlp_args()
    reference = grad(_mlp_loss, wrt=(0, 1))(*args)
    g = jax.jit(grad(_mlp_loss, wrt=(0, 1), backend="jax"))(*map(jax.numpy.asarray, args))
    for got, want in zip(g, reference):
        assert isinstance(got, jax.Array)
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-10)
    assert "jnp.tanh" in grad(_mlp_loss, backend="jax").source


def test_grad_called_with_another_librarys_arrays_uses_its_backend():
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    pytest.importorskip("array_api_compat", reason="array-api-compat is not installed")
    args = _mlp_args()
    value, g = value_and_grad(_mlp_loss, wrt=(0, 1))(*map(torch.from_numpy, args))
    assert isinstance(value, torch.Tensor) and all(isinstance(x, torch.Tensor) for x in g)
    reference = grad(_mlp_loss, wrt=(0, 1))(*args)
    for got, want in zip(g, reference):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-10)


def test_arrays_of_two_libraries_are_refused_not_converted():
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    dask_array = pytest.importorskip("dask.array", reason="Dask is not installed")
    W, b, X = _mlp_args()
    with pytest.raises(BackendError, match="mix arrays of two libraries"):
        grad(_mlp_loss)(torch.from_numpy(W), b, dask_array.from_array(X))


def test_an_unknown_backend_is_refused_with_the_names():
    with pytest.raises(BackendError, match="'jax', 'torch'"):
        grad(_mlp_loss, backend="tensorflow")


def affine_loss(W, x, b):
    return np.sum(np.tanh(W @ x + b))


def test_gradient_source_with_arguments_is_the_program_a_call_runs():
    W, x, b = np.ones((3, 4)), np.ones(4), np.ones(3)
    generic = symdiff.gradient_source(affine_loss, wrt=(0, 2))
    special = symdiff.gradient_source(affine_loss, W, x, b, wrt=(0, 2))
    assert "Specialised" not in generic and "matmul_grad_a" in generic
    assert "Specialised for W: ndarray[float64, (n, n)], x: ndarray[float64, (n,)]," in special
    assert "np.outer(" in special and "unbroadcast" not in special
    g = grad(affine_loss, wrt=(0, 2))
    g(W * 2, x, b)
    assert g.source == special  # sizes and values do not matter, the signature does
    scalar = symdiff.gradient_source(affine_loss, W, x, 0.5, wrt=(0, 2))
    assert "b: float" in scalar and scalar != special
    with pytest.raises(WrtError, match="'x' of affine_loss"):
        symdiff.gradient_source(affine_loss, W, 1, b, wrt=1)
