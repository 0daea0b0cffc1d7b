"""Shift invariance (optimize.shift): the values a result is proved invariant to get no
derivative, and every value it is not invariant to keeps its own."""

import numpy as np
import pytest

from symdiff import check_grad, pipeline
from symdiff.abstract.infer import analyse
from symdiff.abstract.values import of, signature
from symdiff.frontend.lower import lower
from symdiff.frontend.source import get_source
from symdiff.optimize import shift


def log_sum_exp(z):
    m = np.max(z)
    return m + np.log(np.sum(np.exp(z - m)))


def log_softmax_rows(Z, Y):
    m = np.max(Z, axis=1, keepdims=True)
    S = Z - m
    return -np.sum(Y * (S - np.log(np.sum(np.exp(S), axis=1, keepdims=True))))


def softmax_ratio(z, y):
    m = np.max(z)
    e = np.exp(z - m)
    return np.sum(y * (e / np.sum(e)))


def softmax_rows_indexed(Z, Y):
    m = np.max(Z, axis=1)
    e = np.exp(Z - m[:, None])
    return np.sum(Y * e / np.sum(e, axis=1, keepdims=True))


def softmax_of_centred(z, y):
    s = z - np.mean(z)
    return np.sum(y * np.exp(s) / np.sum(np.exp(s)))


def shifted_twice(z, y):  # exp(z - 2m) / sum(exp(z - m)) moves as exp(-m)
    m = np.max(z)
    return np.sum(y * np.log(np.exp(z - 2 * m) / np.sum(np.exp(z - m))))


def variance(z, y):  # the mean is no shift of a sum of squares
    s = z - np.mean(z)
    return np.sum(y * s * s)


def max_used_elsewhere(z, y):
    m = np.max(z)
    e = np.exp(z - m)
    return np.sum(y * e / np.sum(e)) + 0.5 * m


def max_along_the_other_axis(Z, Y):  # δ varies along the axis the sum reduces
    m = np.max(Z, axis=0, keepdims=True)
    S = Z - m
    return np.sum(Y * (S - np.log(np.sum(np.exp(S), axis=1, keepdims=True))))


def rng_args(f):
    rng = np.random.default_rng(3)
    if f in (log_sum_exp,):
        return (rng.normal(size=6),)
    if f in (log_softmax_rows, softmax_rows_indexed, max_along_the_other_axis):
        return rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    return rng.normal(size=6), rng.normal(size=6)


def invariant(f):
    fn, _ = lower(get_source(f), reserved=set())
    args = rng_args(f)
    return shift.invariant_values(fn, analyse(fn, signature(tuple(of(a) for a in args))))


FIRES = [log_sum_exp, log_softmax_rows, softmax_ratio, softmax_rows_indexed, softmax_of_centred]
KEPT = [shifted_twice, variance, max_used_elsewhere, max_along_the_other_axis]


@pytest.mark.parametrize("f", FIRES)
def test_a_shift_the_result_is_invariant_to_is_found(f):
    assert len(invariant(f)) == 1


@pytest.mark.parametrize("f", KEPT)
def test_a_value_the_result_moves_with_is_kept(f):
    assert invariant(f) == []


@pytest.mark.parametrize("f", FIRES + KEPT)
def test_gradients_agree_with_finite_differences_and_with_the_algebra_off(f):
    args = rng_args(f)
    on = pipeline.transform(f, 0, args=args)
    off = pipeline.transform(f, 0, args=args, algebra=False)
    check_grad(f, *args, grad_fn=on.grad)
    np.testing.assert_allclose(on.grad(*args), off.grad(*args), rtol=1e-12, atol=1e-14)


def test_the_shift_has_no_adjoint_in_the_generated_code():
    args = rng_args(log_softmax_rows)
    source = pipeline.transform(log_softmax_rows, 0, args=args).grad_source
    assert "Z == m" not in source and "np.sum(t5" not in source  # no tie mask, no count
    assert "m = np.max(Z, axis=1, keepdims=True)" in source  # still computed, for S
    kept = pipeline.transform(max_used_elsewhere, 0, args=rng_args(max_used_elsewhere))
    assert "z == m" in kept.grad_source


def test_a_maximum_tie_is_no_special_case_once_the_shift_is_dropped():
    z = np.array([1.0, 3.0, 3.0, -2.0])  # two maxima: the shift's tie rule is not needed
    g = pipeline.transform(log_sum_exp, 0, args=(z,)).grad(z)
    e = np.exp(z - 3.0)
    np.testing.assert_allclose(g, e / e.sum(), rtol=1e-15)


def test_the_generic_program_is_left_as_it_is():
    # without argument types the broadcast axes are not known: nothing is claimed
    fn, _ = lower(get_source(log_softmax_rows), reserved=set())
    from symdiff.optimize import algebra

    assert algebra.before_derivative(fn, None).invariant == ()
