"""simplify=True's log(exp(u) / s) = u - log(s): where it fires, where it must not, and
gradients against central finite differences in float64."""

import math

import numpy as np
import pytest

from symdiff import check_grad
from symdiff.ir import primitives as P
from symdiff.ir.nodes import iter_assigns
from symdiff.optimize.logs import proof_text
from symdiff.pipeline import transform


def softmax(z):
    e = np.exp(z - np.max(z))
    return e / np.sum(e)


def cross_entropy(z, y):
    return -np.sum(y * np.log(softmax(z)))


def log_of_a_quotient_by_another_value(x, y):
    return np.sum(np.log(np.exp(x) / y))


def log_of_a_quotient_by_a_constant(x):
    return np.sum(np.log(np.exp(x) / 2.0))


def log_of_a_product(x):
    e = np.exp(x)
    return np.sum(np.log(e * np.sum(e)))


def quotient_read_again(z, y):
    p = softmax(z)
    return -np.sum(y * np.log(p)) + np.sum(p * p)


def scalar_log_sigmoid(x):
    e = math.exp(x)
    return math.log(e / (e + 1.0))


def mixed_families(x):
    e = math.exp(x)
    return float(np.log(e / (e + 1.0)))


def softmax_in_a_loop(z, y, n):
    total = 0.0
    for _ in range(n):
        total = total - np.sum(y * np.log(softmax(z)))
    return total


Z = np.array([2.0, 1.0, 0.1, -1.2])
Y = np.array([0.0, 1.0, 0.0, 0.0])


def rewrites(f, *args):
    return transform(f, 0, args=args, simplify=True).function_rewrites


def assert_gradient(f, *args):
    for specialised in (True, False):
        t = transform(f, 0, args=args if specialised else None, simplify=True)
        report = check_grad(f, *args, wrt=0, grad_fn=t.grad, raise_on_failure=False)
        assert report.ok, report
        value, _ = t.value_and_grad(*args)
        assert np.isclose(value, f(*args), rtol=1e-12, atol=1e-12)


def test_the_identity_is_proved_by_sympy():
    assert "= 0 for real u, s > 0" in proof_text()


def test_the_log_of_a_softmax_is_rewritten_and_its_gradient_is_softmax_minus_labels():
    (done,) = rewrites(cross_entropy, Z, Y)
    assert (done.before, done.after) == ("log(exp(u) / s)", "u - log(s)")
    assert_gradient(cross_entropy, Z, Y)
    prog = transform(cross_entropy, 0, args=(Z, Y), simplify=True).program
    divisions = [s for s in iter_assigns(prog.backward) if s.prim in (P.div, P.np_divide)]
    assert len(divisions) == 1  # sum(y) / sum(e): no labels divided by probabilities
    assert not [s for s in iter_assigns(prog.forward) if s.prim in (P.div, P.np_divide)]


def test_without_simplify_nothing_is_rewritten():
    assert transform(cross_entropy, 0, args=(Z, Y)).function_rewrites == ()


@pytest.mark.parametrize(
    "f, args",
    [
        (log_of_a_quotient_by_another_value, (Z, np.abs(Z) + 1.0)),  # s not from exp(u)
        (log_of_a_quotient_by_a_constant, (Z,)),  # a constant's dtype could differ
        (log_of_a_product, (Z,)),
        (mixed_families, (0.3,)),  # np.log of math.exp: np.float64 out, not float
    ],
)
def test_it_does_not_fire_elsewhere(f, args):
    assert rewrites(f, *args) == ()
    assert_gradient(f, *args)


def test_a_quotient_read_again_is_kept():
    assert len(rewrites(quotient_read_again, Z, Y)) == 1
    assert_gradient(quotient_read_again, Z, Y)


@pytest.mark.parametrize("x", [-3.0, 0.0, 2.5])
def test_math_scalars(x):
    assert len(rewrites(scalar_log_sigmoid, x)) == 1
    assert_gradient(scalar_log_sigmoid, x)


def test_the_rewritten_value_is_finite_where_the_exponential_overflows():
    t = transform(scalar_log_sigmoid, 0, simplify=True)
    value, grad = t.value_and_grad(-800.0)
    assert value == -800.0 and math.isclose(grad, 1.0)


@pytest.mark.parametrize("n", [0, 1, 3])
def test_inside_a_loop_it_does_not_fire_and_the_gradient_holds(n):
    assert rewrites(softmax_in_a_loop, Z, Y, n) == ()
    t = transform(softmax_in_a_loop, 0, args=(Z, Y, n), simplify=True)
    report = check_grad(softmax_in_a_loop, Z, Y, n, wrt=0, grad_fn=t.grad, raise_on_failure=False)
    assert report.ok, report
