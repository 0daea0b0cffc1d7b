"""Aliasing decided from kinds: ``y += v`` on a name that shares its value with another.

On an array Python updates the shared memory in place and the other name sees it; single
assignment would not, so the lowering refuses. On a number (a Python or NumPy scalar) the
update is a plain rebinding and the gradient is the one of ``y = y + v``. Every accepted
program is checked against central finite differences, loops for 0, 1 and many trips; every
refusal that must stay is one where Python changes an array another name reads.
"""

import math

import numpy as np
import pytest

from symdiff import InternalError, UnsupportedSyntaxError, check_grad, grad
from symdiff.ad.modes import derivative_program
from symdiff.backend.bindings import bind
from symdiff.backend.compiler import compile_function
from symdiff.backend.emitter import emit
from symdiff.frontend.lower import lower
from symdiff.frontend.source import get_source, origin
from symdiff.ir.check import check
from symdiff.ir.interpret import run

TRIPS = (0, 1, 5)


def lowered(f, scalars=()):
    fn, _ = lower(get_source(f), reserved=set(), scalars=frozenset(scalars))
    check(fn)
    return fn


def gradient_declaring(f, scalars):
    """The gradient of ``f`` in its first argument, lowered with ``scalars`` declared (as
    the API declares the arguments it is called with)."""
    fn = lowered(f, scalars)
    emitted = emit(derivative_program(fn, (fn.params[0],), "grad"), origin(get_source(f)))
    return compile_function(
        emitted.grad_source, emitted.grad_name, "<aliasing-test>", bind(emitted.bindings)
    )


def refusal(f, scalars=()):
    with pytest.raises(UnsupportedSyntaxError) as info:
        lowered(f, scalars)
    return info.value


# ---------------------------------------------------------------- aliases of a number


def rebind(x):
    y = x
    y += 2.0 * x
    return y + x


def exp_series(x, n):
    term = x
    total = x
    for k in range(1, n + 1):
        term *= x / k
        total += term
    return total


def exp_series_annotated(x: float, n):
    term = x
    total = x
    for k in range(1, n + 1):
        term *= x / k
        total += term
    return total


def exp_series_of_float(x, n):
    term = float(x)
    total = term
    for k in range(1, n + 1):
        term *= x / k
        total += term
    return total


def sine_alias(x):
    s = math.sin(x)
    c = s
    c *= x
    return s + c


def counter_alias(x, k: int):
    j = k
    j += 1
    return x * j + k


def test_an_alias_of_a_declared_scalar_is_rebound():
    g = gradient_declaring(rebind, {"x"})
    assert g(0.7) == pytest.approx(4.0)  # x + 2x + x: a number is rebound, x keeps its value
    check_grad(rebind, 0.7, grad_fn=g)
    assert lowered(rebind, {"x"}).scalar_params == lowered(rebind, {"x"}).params


@pytest.mark.parametrize("n", TRIPS)
def test_loop_state_aliasing_a_declared_scalar(n):
    g = gradient_declaring(exp_series, {"x"})
    check_grad(exp_series, 0.7, n, grad_fn=g)
    # total = x * sum(x**k / k!, k <= n), whose derivative is sum((k + 1) x**k / k!)
    expected = sum((k + 1) * 0.7**k / math.factorial(k) for k in range(n + 1))
    assert g(0.7, n) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("n", TRIPS)
def test_loop_state_aliasing_an_annotated_parameter(n):
    check_grad(exp_series_annotated, 0.7, n)
    assert run(lowered(exp_series_annotated), 0.7, n) == pytest.approx(exp_series(0.7, n))


@pytest.mark.parametrize("n", TRIPS)
def test_float_of_anything_is_a_new_number(n):
    """``term = float(x)`` is a float whatever ``x`` is: the aliases ``term`` and ``total``
    start as a number, and what the loop makes of them afterwards is new, never shared."""
    check_grad(exp_series_of_float, 0.7, n)
    check_grad(exp_series_of_float, np.float64(-1.3), n)


def test_math_results_and_annotated_ints_are_numbers():
    check_grad(sine_alias, 0.4)
    check_grad(counter_alias, 0.4, 3)


# ---------------------------------------------------------------- refusals that stay


def test_an_array_alias_updated_in_place_is_refused():
    """Called with an array, ``y += 2.0 * x`` changes ``x`` too, and f reads ``x`` again:
    it returns 6x, where the rebinding would give 4x. (Without that last read nothing could
    tell, and the update is allowed: see test_liveness.)"""
    err = refusal(rebind)
    assert "`y +=` would change the array that `x` also names" in str(err)
    assert "annotate the parameter `x: float` or pass a float" in err.hint
    assert "if `x` is always a number" in err.hint
    g = grad(exp_series)  # refused at the call that passes an array (a float rebinds)
    with pytest.raises(UnsupportedSyntaxError, match="in-place update through an alias"):
        g(np.ones(3))


def mixed(x, w):
    y = w
    y += x
    return np.sum(y * w)


def copied(x):
    y = np.copy(x)
    z = y
    y += 1.0
    return np.sum(z * x)


def test_declaring_one_parameter_does_not_excuse_another():
    err = refusal(mixed, {"x"})
    assert "`y +=` would change the array that `w` also names" in str(err)
    assert "`w: float`" in err.hint and "`x" not in err.hint


def test_no_annotation_is_suggested_where_none_would_help():
    """``np.copy(x)`` is an array whatever ``x`` is: the hint says only how to make a new
    array."""
    err = refusal(copied, {"x"})
    assert err.hint == "write `y = y + ...` to make a new array"


def keep_after_update(x, w, n):
    acc = x
    keep = x
    total = 0.0
    for _ in range(n):
        acc += 1.0
        total = total + np.sum(keep)
        acc = acc * w
        keep = acc
    return total


def test_loop_state_that_stops_being_a_number_is_checked_again():
    """``acc`` starts as the number ``x``, so ``acc += 1.0`` looks like a rebinding while the
    body is lowered; but ``acc = acc * w`` makes it an array that ``keep`` also names in the
    next iteration, where ``+=`` changes ``keep`` before ``np.sum(keep)`` reads it."""
    err = refusal(keep_after_update, {"x"})
    assert "`acc +=` would change the array that `keep` also names" in str(err)
    assert err.loc.text.strip() == "acc += 1.0"  # located at the update, not the loop


def grows(x, w, n):
    acc = x
    keep = x
    for _ in range(n):
        acc += 1.0
        acc = acc * w
    return np.sum(acc * keep)


@pytest.mark.parametrize("n", TRIPS)
def test_loop_state_that_becomes_a_new_array_is_not_an_alias(n):
    """Here the array ``acc`` becomes is made by the loop and shared with nobody."""
    w = np.array([0.5, -1.5])
    g = gradient_declaring(grows, {"x"})
    check_grad(grows, 0.3, w, n, grad_fn=g)


# ---------------------------------------------------------------- aliases Python keeps


def alias_next_iteration(x):
    a = x * 1.0
    b = x * 2.0
    c = x * 0.0
    for _ in range(3):
        a += x
        c = c + b * x
        b = a
    return np.sum(c)


def conditional_alias(x):
    y = x if np.sum(x) > 0 else x * 2.0
    y += 1.0
    return np.sum(x * y)


def or_alias(x, z):
    y = z or x
    y += 1.0
    return np.sum(x * y)


def after_a_loop(x, n):
    y = x
    for _ in range(n):
        y = y * 2.0
    y += 1.0
    return np.sum(x * y)


def after_a_loop_that_runs(x):
    y = x
    for _ in range(3):
        y = y * 2.0
    y += 1.0
    return np.sum(x * y)


@pytest.mark.parametrize(
    "f,words",
    [
        (alias_next_iteration, "`a +=` would change the array that `b` also names"),
        (conditional_alias, "`y +=` would change the array that `x` also names"),
        (or_alias, "`y +=` would change the array that `x` also names"),
        (after_a_loop, "`y +=` would change the array that `x` also names"),
    ],
)
def test_aliases_through_loops_and_branches_are_refused(f, words):
    """Each gave a silent wrong gradient for arrays before: the loop's state was not seen
    to alias what the body made of it (``b = a`` makes ``b`` the array the next ``a +=``
    changes), nor a conditional expression or ``or`` its operands, nor the state after a
    loop that may run zero times its initial value."""
    assert words in str(refusal(f))


def test_after_a_loop_that_certainly_runs_the_state_is_new():
    check_grad(after_a_loop_that_runs, np.array([0.5, -1.0]))


def two_unknowns(x, w):
    y = x + w
    z = y
    y += 1.0
    return y * z


def test_the_hint_names_every_parameter_that_decides():
    hint = refusal(two_unknowns).hint
    assert "if `w` and `x` are always numbers (never arrays)" in hint
    assert "annotate the parameters `w: float, x: float` or pass floats" in hint
    check_grad(two_unknowns, 0.5, 2.0, grad_fn=gradient_declaring(two_unknowns, {"x", "w"}))


def test_declaring_a_name_that_is_no_parameter_is_a_bug_of_the_caller():
    with pytest.raises(InternalError, match="not parameters: y"):
        lowered(rebind, {"x", "y"})


def halving(x: float):
    t = x
    s = x
    while t > 1e-3:
        t *= 0.5
        s += t
    return s


def nested_series(x: float, n):
    total = x
    for _ in range(n):
        term = total
        for k in range(1, 3):
            term *= x / k
        total += term
    return total


def nested_array_alias(x, n):
    total = x * 1.0
    for _ in range(n):
        term = total
        for k in range(1, 3):
            term *= x / k
        total = total + term
    return np.sum(total)


@pytest.mark.parametrize("x", [0.0005, 0.3, 2.0])  # the while loop runs 0, 9 and 11 times
def test_a_while_loop_over_a_number(x):
    check_grad(halving, x)


@pytest.mark.parametrize("n", TRIPS)
def test_nested_loops_over_numbers(n):
    """``term = total`` in the outer loop, ``term *=`` in the inner one: both loops' state
    is a number by the fixed point over the two."""
    check_grad(nested_series, 0.7, n)


def test_nested_loops_over_arrays_are_refused():
    err = refusal(nested_array_alias)
    assert "`term *=` would change the array that `total` also names" in str(err)
