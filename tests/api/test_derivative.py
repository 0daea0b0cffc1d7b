"""Specialisation at the call: one program per abstract signature, built on the first call
with it and reused by every call with the same kinds, dtypes, ranks and unit axes; the
shape-generic program for what cannot be described or specialised; ``.source`` showing the
latest call's program; the refusals the types make (an int in ``wrt``, a shape mistake)."""

import dataclasses
import math

import numpy as np
import pytest

import symdiff
from symdiff import WrtError, grad, value_and_grad
from symdiff.abstract.values import signature
from symdiff.api import cache
from symdiff.errors import UserCodeError


@pytest.fixture()
def builds(monkeypatch):
    """The transformations built, each as the signature it was asked for (None: generic)."""
    made: list = []
    real = cache.transform

    def counting(f, wrt=0, simplify=False, mode="grad", args=None, **options):
        made.append(None if args is None else signature(args))
        return real(f, wrt, simplify, mode, args, **options)  # options: the backend

    monkeypatch.setattr(cache, "transform", counting)
    return made


def dense(W, x, b):
    return np.sum(np.tanh(W @ x + b))


def batched(W, X, b):
    return np.sum(np.tanh(X @ W.T + b))


def scale_sum(x, k=2.0):
    return np.sum(x * k)


def test_two_batch_sizes_share_one_program_and_a_float_and_an_array_do_not(builds):
    g = grad(batched)
    W, b = np.ones((3, 4)), np.ones(3)
    g(W, np.ones((5, 4)) * 0.1, b)
    g(W, np.ones((7, 4)) * 0.2, b)  # another batch size, the same signature
    specialised = [s for s in builds if s is not None]
    assert len(specialised) == 1
    assert len(g._programs) == 1
    h = grad(scale_sum)
    h(np.ones(3))
    h(np.ones(4))
    h(0.5)  # a float: another signature, another program
    h(np.ones((2, 3)))  # another rank
    h(np.ones((1, 3)))  # a unit axis: broadcasting differs
    assert len(h._programs) == 4
    assert {str(s[0]) for s in builds[1:] if s is not None} == {
        "ndarray[float64, (n,)]",
        "float",
        "ndarray[float64, (n, n)]",
        "ndarray[float64, (1, n)]",
    }


def test_results_are_right_for_every_signature():
    g = grad(scale_sum)
    assert g(0.5) == 2.0 and type(g(0.5)) is float
    np.testing.assert_array_equal(g(np.ones(3)), [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(g(np.ones((1, 2)), 3.0), [[3.0, 3.0]])
    assert g(np.float32(2.0)).dtype == np.float32
    np.testing.assert_array_equal(g(np.array([1, 2])), [2.0, 2.0])  # int array: promoted


def test_keywords_and_defaults_bind_to_the_positional_signature(builds):
    g = grad(scale_sum)
    g(np.ones(3))  # k from its default: a float
    g(np.ones(3), k=2.0)  # the same signature, given by keyword
    g(x=np.ones(3), k=2.0)
    assert len(g._programs) == 1 and len([s for s in builds if s is not None]) <= 1
    np.testing.assert_array_equal(g(np.ones(2), k=np.array([1.0, 3.0])), [1.0, 3.0])
    assert len(g._programs) == 2


class Opaque:
    """An argument of a type the analysis does not describe."""

    def __init__(self, w):
        self.w = w


def uses_opaque(x, tag):
    return np.sum(x * x)


def test_arguments_that_cannot_be_described_run_the_generic_program():
    g = grad(uses_opaque)
    np.testing.assert_array_equal(g(np.ones(2), Opaque(1.0)), [2.0, 2.0])
    assert g._latest.t is g.transformed and g._latest.t.signature is None
    assert "Specialised" not in g.source
    np.testing.assert_array_equal(g(np.ones(2), "a string"), [2.0, 2.0])
    assert g._latest.t.signature is None


def test_a_failing_specialisation_falls_back_to_the_generic_program(monkeypatch):
    def broken(prog, sig):
        raise RuntimeError("a bug in the specialiser")

    monkeypatch.setattr(symdiff.pipeline, "specialise", broken)
    g = grad(lambda_free_dense)
    W, x, b = np.ones((2, 3)), np.ones(3), np.ones(2)
    expected = 1.0 - np.tanh(W @ x + b) ** 2
    np.testing.assert_allclose(g(W, x, b), np.outer(expected, x))  # no InternalError
    assert g._latest.t.signature is None


def lambda_free_dense(W, x, b):
    return np.sum(np.tanh(W @ x + b))


def test_source_is_the_latest_calls_program_and_says_which():
    g = grad(dense, wrt=(0, 2))
    assert g.source == g.generic_source  # before any call
    assert "unbroadcast" in g.source and "Specialised" not in g.source
    g(np.ones((3, 4)), np.ones(4), np.ones(3))
    assert "Specialised for W: ndarray[float64, (n, n)], x: ndarray[float64, (n,)]," in g.source
    assert "unbroadcast" not in g.source and "np.outer" in g.source
    assert "Specialised" not in g.generic_source
    vg = value_and_grad(scale_sum)
    vg(1.5, 2.0)
    assert vg.source.startswith("def scale_sum_value_and_grad(x, k=2.0):")
    assert "Specialised for x: float, k: float." in vg.source
    vg(np.ones(2))
    assert "Specialised for x: ndarray[float64, (n,)], k: float" in vg.source


def test_a_redefined_global_rebuilds_the_specialised_program():
    f = symdiff.from_source(
        "def f(x):\n    return SCALE * np.sum(x)\n", namespace={"SCALE": 2.0, "np": np}
    )
    g = grad(f)
    np.testing.assert_array_equal(g(np.ones(2)), [2.0, 2.0])
    np.testing.assert_array_equal(g(np.ones(2)), [2.0, 2.0])  # the short road
    f.__globals__["SCALE"] = 5.0
    np.testing.assert_array_equal(g(np.ones(2)), [5.0, 5.0])
    assert "Specialised" in g.source and "5.0" in g.source


def loop(n, x):
    y = x
    for i in range(n):
        y = math.sin(y) * x
    return y


def test_an_integer_in_wrt_is_refused_and_an_integer_bound_works():
    with pytest.raises(WrtError) as info:
        grad(loop)(5, 0.3)  # wrt=0 names n, an int
    assert info.value.message.startswith("argument 'n' of loop is an integer here")
    assert "differentiate with respect to x (wrt=...)" in info.value.hint
    assert info.value.loc.func == "loop" or "def loop" in str(info.value)
    g = grad(loop, wrt=1)
    d = g(5, 0.3)
    h = 1e-6
    assert d == pytest.approx((loop(5, 0.3 + h) - loop(5, 0.3 - h)) / (2 * h), rel=1e-7)
    assert type(d) is float
    assert "Specialised for n: int, x: float." in g.source
    assert "unbroadcast" not in g.source and "zeros_like" not in g.source
    assert g(0, 0.3) == 1.0  # the loop runs zero times: the same program


def matmul_mistake(W, x):
    return np.sum(W @ x)


def test_a_shape_mistake_is_the_users_error_at_their_line_before_any_gradient_runs():
    g = grad(matmul_mistake)
    with pytest.raises(UserCodeError) as info:
        g(np.ones((2, 3)), np.ones(4))
    exc = info.value
    assert isinstance(exc, ValueError) and isinstance(exc, symdiff.SymdiffError)
    assert exc.loc.text.strip() == "return np.sum(W @ x)"
    assert "bug in symdiff" not in str(exc)
    with pytest.raises(UserCodeError):
        symdiff.gradient_source(matmul_mistake, np.ones((2, 3)), np.ones(4))


def test_a_predicted_error_the_function_does_not_raise_falls_back(monkeypatch):
    """The analysis's shape errors are confirmed by running the user's code: a prediction
    the code does not bear out is the analysis's mistake, and the call still works."""
    from symdiff.abstract.values import ShapeError

    def wrong(fn, args):
        raise ShapeError("a false alarm", None)

    monkeypatch.setattr(symdiff.pipeline, "analyse", wrong)
    g = grad(lambda_free_dense)
    W, x, b = np.ones((2, 3)), np.ones(3), np.ones(2)
    assert g(W, x, b).shape == (2, 3)
    assert g._latest.t.signature is None


def test_a_wrongly_shaped_specialised_gradient_is_never_returned(monkeypatch):
    g = grad(lambda_free_dense, wrt=2)
    W, x, b = np.ones((2, 3)), np.ones(3), np.ones(2)
    g.specialise(W, x, b)
    (entry,) = g._programs.values()
    bad = entry.t.grad
    entry.t = dataclasses.replace(
        entry.t, grad=lambda *a: np.sum(bad(*a)), value_and_grad=entry.t.value_and_grad
    )
    entry.fast = None  # as it is before its first call
    np.testing.assert_allclose(g(W, x, b), 1.0 - np.tanh(W @ x + b) ** 2)
    assert g._latest is None or g._latest.t.signature is None


def test_higher_derivatives_specialise_too():
    W, x, b = np.ones((3, 4)) * 0.1, np.linspace(0, 1, 4), np.ones(3) * 0.2
    for make, call in [
        (symdiff.hessian, lambda d: d(W, x, b)),
        (symdiff.hvp, lambda d: d(W, x, b, np.ones(4))),
        (symdiff.jvp, lambda d: d(W, x, b, np.ones(4))),
        (symdiff.vjp, lambda d: d(W, x, b)[1](1.0)),
        (symdiff.jacobian, lambda d: d(W, x, b)),
    ]:
        d = make(dense, wrt=1)
        assert "Specialised" not in d.source
        call(d)
        assert "Specialised for W: ndarray[float64, (n, n)]" in d.source, make
        assert "Specialised" not in d.generic_source
    H = symdiff.hessian(dense, wrt=1)(W, x, b)
    t = np.tanh(W @ x + b)
    expected = W.T @ np.diag(-2.0 * t * (1.0 - t**2)) @ W
    np.testing.assert_allclose(H, expected, rtol=1e-10, atol=1e-14)


def test_a_repeated_call_costs_little_more_than_the_generated_code():
    """The short road: the key, a dict lookup, the staleness check. Generously bounded
    here (machines differ); the figures measured are in the report of this change."""
    import timeit

    def poly(x, y):
        return x * x * y + 3.0 * y

    g = grad(poly)
    g(0.3, 1.2)
    direct = g.latest.grad
    assert g._latest.fast is not None and g._latest.typed
    through = min(timeit.repeat(lambda: g(0.3, 1.2), number=2000, repeat=5)) / 2000
    alone = min(timeit.repeat(lambda: direct(0.3, 1.2), number=2000, repeat=5)) / 2000
    assert through - alone < 20e-6


# ----------------------------------------------------------------------------- aliases


def rebinds(x):
    y = x
    y += 2.0 * x
    return y * x  # x read after the update: an array would see it (frontend.liveness)


def copies(x):
    y = np.copy(x)
    z = y
    z += x
    return np.sum(y * z)


def test_an_alias_of_a_parameter_updated_in_place_waits_for_the_call():
    """Refused only because x's kind is unknown: a float makes it a rebinding, an array is
    refused at the call with the same message."""
    g = grad(rebinds)  # no refusal yet
    assert g(1.5) == pytest.approx(6 * 1.5)  # 3x * x = 3x^2 -> 6x
    assert value_and_grad(rebinds)(1.5) == (pytest.approx(6.75), pytest.approx(9.0))
    with pytest.raises(symdiff.UnsupportedSyntaxError, match="in-place update through an alias"):
        g(np.ones(3))


def test_an_alias_no_argument_kind_can_lift_is_refused_at_construction():
    with pytest.raises(symdiff.UnsupportedSyntaxError, match="in-place update through an alias"):
        grad(copies)
