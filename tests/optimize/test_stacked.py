"""Stacked adjoints: a backward loop's outer products summed by one matrix product after it.

Checked on loops of zero, one and many steps against finite differences and against the
program without the stacking (the same derivative, by another order of additions).
"""

import numpy as np
import pytest

import symdiff
from symdiff import check_grad, pipeline


def rnn(Wx, Wh, b, xs, h0):
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(Wx @ xs[t] + Wh @ h + b)
    return np.sum(h**2)


def inputs(steps, seed=0):
    rng = np.random.default_rng(seed)
    Wx, Wh = rng.normal(size=(5, 3)) * 0.5, rng.normal(size=(5, 5)) * 0.4
    b, xs, h0 = rng.normal(size=5) * 0.1, rng.normal(size=(steps, 3)), rng.normal(size=5)
    return Wx, Wh, b, xs, h0


@pytest.mark.parametrize("steps", [0, 1, 6])
def test_the_weight_gradients_are_one_product_each(steps):
    args = inputs(steps)
    typed = pipeline.transform(rnn, (0, 1, 2, 4), args=args)
    text = typed.grad_source
    loop = text.split("in reversed(tape):")[1].split("\n    if ")[0]
    assert "np.outer" not in loop and ".append(" in loop
    assert text.count(".T @ np.stack(") == 2 and "np.sum(" in text
    generic = pipeline.transform(rnn, (0, 1, 2, 4))
    for got, ref in zip(typed.grad(*args), generic.grad(*args)):
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-14)
    check_grad(rnn, *args, wrt=(0, 1, 2, 4))  # raises past the tolerance


def test_zero_steps_give_zero_weight_gradients():
    args = inputs(0)
    dWx, dWh, db, dh0 = pipeline.transform(rnn, (0, 1, 2, 4), args=args).grad(*args)
    assert not dWx.any() and not dWh.any() and not db.any()
    np.testing.assert_allclose(dh0, 2 * args[4])


def accumulated_elsewhere(W, xs, h0):
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        h = h * np.sum(W)  # W's adjoint also collects a term that is not an outer product
    return np.sum(h)


@pytest.mark.parametrize("steps", [0, 1, 4])
def test_an_accumulator_with_other_terms_is_left_as_it_is(steps):
    rng = np.random.default_rng(2)
    W, xs, h0 = rng.normal(size=(3, 3)) * 0.3, rng.normal(size=(steps, 3)), rng.normal(size=3)
    text = pipeline.transform(accumulated_elsewhere, 0, args=(W, xs, h0)).grad_source
    assert "np.stack(" not in text
    check_grad(accumulated_elsewhere, W, xs, h0)


@pytest.mark.parametrize("steps", [0, 1, 4])
def test_the_stacked_gradient_is_differentiated_again(steps):
    args = inputs(steps)
    grad_Wh = pipeline.transform(rnn, 1, args=args).grad
    tangent = pipeline.transform(grad_Wh, 1, mode="jvp").grad
    V = np.random.default_rng(1).normal(size=args[1].shape)
    eps = 1e-6
    up = grad_Wh(*args[:1], args[1] + eps * V, *args[2:])
    down = grad_Wh(*args[:1], args[1] - eps * V, *args[2:])
    got = tangent(*args, V)
    np.testing.assert_allclose(got, (up - down) / (2 * eps), rtol=1e-5, atol=1e-8)


def test_the_c_backend_gets_the_products_in_the_loop():
    args = inputs(3)
    kept = pipeline.transform(rnn, (0, 1, 2), args=args, stacked=False)
    assert "np.outer(" in kept.grad_source and "np.stack(" not in kept.grad_source
    source = symdiff.emit_c(rnn, *args, wrt=(0, 1, 2)).source  # C has no lists: refused if given
    assert "rnn_grad(" in source


def collected(Wx, Wh, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(Wx @ xs[t] + Wh @ h)
        hs.append(h)
    H = np.stack(hs)
    return np.sum(H[:, :2] ** 2) + np.mean(H[:, 2:])


@pytest.mark.parametrize("steps", [1, 2, 6])
def test_outputs_appended_stacked_and_sliced_are_typed_and_stacked(steps):
    # the backward loop pops the unstacked adjoint of the list (a list value, not a tape):
    # typed, the sweep is specialised and its outer products stacked
    Wx, Wh, b, xs, h0 = inputs(steps)
    args = (Wx, Wh, xs, h0)
    typed = pipeline.transform(collected, (0, 1), args=args)
    text = typed.grad_source
    assert "unbroadcast" not in text and "matmul_grad" not in text
    assert text.count(".T @ ") >= 2 and "np.outer" not in text
    generic = pipeline.transform(collected, (0, 1))
    for got, ref in zip(typed.grad(*args), generic.grad(*args)):
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-14)
    check_grad(collected, *args, wrt=(0, 1))
