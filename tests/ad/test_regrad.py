"""Differentiating a gradient's IR program again (``ad.regrad``), never its generated text.

Two kinds of checks: the ``Function`` built from a gradient program is valid IR that the
reference interpreter runs to exactly what the compiled gradient returns (so the program
differentiated is the program that runs), and second and third derivatives built on it agree
with central finite differences of the gradient in float64, for loops with tapes, branches,
tuples, a custom rule, index updates and list adjoints.
"""

import math

import numpy as np
import pytest

import symdiff
from symdiff import NonScalarOutputError, grad, hessian, hvp, jacobian, value_and_grad
from symdiff.ad.forward import jvp_program
from symdiff.ad.regrad import gradient_function
from symdiff.ir import nodes as ir
from symdiff.ir.check import check
from symdiff.ir.interpret import run

RNG = np.random.default_rng(12)
H = 1e-5


def fd(f, x, h=H):
    return (f(x + h) - f(x - h)) / (2 * h)


def fd_jacobian(g, x, h=H):
    """Central differences of the gradient ``g`` at the array ``x``: the Hessian."""
    cols = []
    for k in range(x.size):
        e = np.zeros_like(x)
        e.flat[k] = h
        cols.append((g(x + e) - g(x - e)) / (2 * h))
    return np.stack(cols, axis=-1).reshape(x.shape + x.shape)


# ----------------------------------------------------------------------------- functions


def loop_tape(x):
    s = 0.0
    for i in range(3):
        s = s + np.sum(np.sin(x * s + i)) * x[i]
    return s


def branch(x):
    if np.sum(x) > 0.0:
        y = np.sum(x**3) * np.sum(x)
    else:
        y = np.sum(np.exp(x)) - np.sum(x * x)
    return y


def with_tuples(x):
    pair = (np.sum(x * x), np.sum(np.cos(x) * x))
    a, b = pair
    return a * b + pair[0]


def index_update(x):
    y = np.zeros(3)
    y[0] = x[0] * x[1]
    y[1] = np.sin(x[2]) * x[0]
    y[2] = y[0] * y[1]
    return np.sum(y * y) + x[1] ** 3


def index_in_loop(x):
    s = 0.0
    for i in range(len(x)):
        s = s + x[i] * x[i] * np.sum(x)
    return s


def list_in_loop(x: float):
    xs = []
    for i in range(3):
        xs.append(math.sin(x * i) + x)
    return sum(xs) * np.sum(np.stack(xs) ** 2)


def scalar_mix(x):
    s = x
    for i in range(3):
        if s > 0.3:
            s = s * s * 0.5 - math.sin(x)
        else:
            s = math.exp(s) * x
    return s


ARRAY_CASES = [loop_tape, branch, with_tuples, index_update, index_in_loop]


# ----------------------------------------------------------------------------- the IR


def _converted(f, wrt=0, with_value=False):
    t = (value_and_grad(f, wrt=wrt) if with_value else grad(f, wrt=wrt)).transformed
    generated = t.value_and_grad if with_value else t.grad
    fn = gradient_function(t.program, generated.__name__, with_value)
    check(fn)
    return fn, generated


def _same(a, b):
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
        return
    np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
    assert np.shape(a) == np.shape(b)


@pytest.mark.parametrize("with_value", [False, True], ids=["grad", "value_and_grad"])
@pytest.mark.parametrize("f", ARRAY_CASES, ids=lambda f: f.__name__)
def test_the_gradient_program_runs_as_its_generated_code(f, with_value):
    fn, generated = _converted(f, with_value=with_value)
    for x in (RNG.normal(size=3), -np.abs(RNG.normal(size=3))):
        _same(run(fn, x), generated(x))


def test_a_tuple_of_gradients_and_the_scalar_check():
    def f(x, w):
        return np.sum(x * w) * x[0] + np.sum(w**2)

    x, w = RNG.normal(size=2), RNG.normal(size=2)
    for with_value in (False, True):
        fn, generated = _converted(f, wrt=(0, 1), with_value=with_value)
        _same(run(fn, x, w), generated(x, w))
    fn, generated = _converted(f, wrt=(1,))  # a tuple of one
    assert isinstance(run(fn, x, w), tuple)
    _same(run(fn, x, w), generated(x, w))
    fn, _ = _converted(f, wrt=(0, 1))
    assert fn.result in {s.target for s in ir.iter_assigns(fn.body) if s.prim.name == "tuple"}
    fn, generated = _converted(list_in_loop)
    assert run(fn, 0.4) == pytest.approx(generated(0.4), rel=1e-14)

    def product(x, w):
        return x * w

    fn, _ = _converted(product)  # not scalar by construction: checked at run time
    assert run(fn, 2.0, 3.0) == 3.0
    with pytest.raises(ValueError, match="scalar"):
        run(fn, 2.0, np.ones(3))


def test_the_tangents_of_a_tuple_gradient_are_hessian_columns():
    """The IR of a tuple-valued gradient differentiates in forward mode: one Hessian column
    per direction, for both inputs at once (the API refuses a tuple result; the IR has none
    of that restriction)."""

    def f(x, y):
        return x * x * y + math.sin(x * y) + y**3

    fn, generated = _converted(f, wrt=(0, 1))
    prog = jvp_program(fn, (fn.params[0],))
    tangent = gradient_function(prog, "f_grad_tangent")
    check(tangent)
    x, y = 0.3, -0.7
    column = run(tangent, x, y, 1.0)
    expected = fd(lambda t: np.array(generated(t, y)), x)
    np.testing.assert_allclose(np.array(column), expected, rtol=1e-7, atol=1e-9)
    with pytest.raises(NonScalarOutputError, match="tuple"):
        grad(grad(f, wrt=(0, 1)))


def test_no_variable_of_the_gradient_is_internal_twice():
    """The passes over the converted program make internal names from their own counters:
    none of the program's may look like one of theirs."""
    fn, _ = _converted(loop_tape)
    names = [v.name for s in ir.iter_assigns(fn.body) for v in (s.target,)]
    assert not [n for n in names if n.startswith(("%b", "%f", "%s"))]
    assert "d_s" in {c.var.name for s in fn.body if isinstance(s, ir.Loop) for c in s.carries}


# ----------------------------------------------------------------------------- numerics


@pytest.mark.parametrize("f", ARRAY_CASES, ids=lambda f: f.__name__)
def test_hessians_agree_with_finite_differences_of_the_gradient(f):
    g = grad(f)
    for x in (RNG.normal(size=3), -np.abs(RNG.normal(size=3)) - 0.1):
        expected = fd_jacobian(g, x)
        np.testing.assert_allclose(hessian(f)(x), expected, rtol=1e-6, atol=1e-6)
        v = RNG.normal(size=3)
        np.testing.assert_allclose(hvp(f)(x, v), expected @ v, rtol=1e-6, atol=1e-6)


def test_both_branches_are_differentiated_again():
    g = grad(branch)
    for x in (np.array([0.5, 0.2, 0.1]), np.array([-0.5, 0.2, -0.1])):
        np.testing.assert_allclose(hessian(branch)(x), fd_jacobian(g, x), rtol=1e-6, atol=1e-7)


def test_a_custom_rule_is_differentiated_again_through_its_gradient_expression():
    def softplus(x):
        return np.logaddexp(0.0, x)

    def f(w, x):
        return np.sum(softplus(w * x) ** 2)

    def scalar(a):
        return softplus(a) * a

    with symdiff.defrule(softplus, lambda F, g, y, x: g / (1.0 + F.exp(-x))):
        g = grad(f)
        w, x = RNG.normal(size=3), RNG.normal(size=3)
        # reverse over reverse: the rule has no tangent, its gradient expression does
        np.testing.assert_allclose(
            jacobian(g, mode="rev")(w, x), fd_jacobian(lambda t: g(t, x), w), rtol=1e-6, atol=1e-7
        )
        s = 1.0 / (1.0 + math.exp(-0.3))  # softplus' = s, softplus'' = s (1 - s)
        assert grad(grad(scalar))(0.3) == pytest.approx(2 * s + 0.3 * s * (1 - s), rel=1e-12)
        assert grad(grad(scalar))(0.3) == pytest.approx(fd(grad(scalar), 0.3), rel=1e-7)


@pytest.mark.parametrize("f", [list_in_loop, scalar_mix], ids=lambda f: f.__name__)
def test_third_derivatives_of_scalar_functions(f):
    d1 = grad(f)
    d2 = grad(d1)
    d3 = grad(d2)
    for x in (0.8, 0.2, -0.6):
        assert d2(x) == pytest.approx(fd(d1, x), rel=1e-6, abs=1e-7)
        assert d3(x) == pytest.approx(fd(d2, x), rel=1e-5, abs=1e-6)
        assert hessian(f)(x) == pytest.approx(d2(x), rel=1e-12, abs=1e-14)


def test_a_fourth_derivative_still_differentiates_the_program_below_it():
    def f(x):
        return x**5 - 3.0 * math.sin(x)

    d = grad(grad(grad(grad(f))))
    assert d(0.7) == pytest.approx(120.0 * 0.7 - 3.0 * math.sin(0.7), rel=1e-12)


def test_emitted_modules_of_derivatives_of_derivatives(tmp_path):
    """The programs built on gradient IR are written into a module like any other; loaded
    from its file, it computes what the in-process objects do."""
    import importlib.util

    text = symdiff.emit(hessian(loop_tape), grad(grad(grad(scalar_mix))))
    path = tmp_path / "higher_grad.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("higher_grad", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    x = RNG.normal(size=3)
    np.testing.assert_allclose(mod.loop_tape_hessian(x), hessian(loop_tape)(x), rtol=1e-13)
    d3 = grad(grad(grad(scalar_mix)))
    assert mod.scalar_mix_grad_grad_grad(0.8) == pytest.approx(d3(0.8), rel=1e-13)
