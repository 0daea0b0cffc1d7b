"""Random programs (tests/programs.py) through every property of issue 6, and the bugs the
fuzzer found, each kept as a minimal regression test.

The quick run here is 250 programs in under a minute on two cores; ``benchmarks/fuzz.py``
runs the long campaign. A failure prints the (shrunk) program's source, inputs and ``wrt``.
"""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from symdiff import UnsupportedSyntaxError, from_source, grad, value_and_grad
from symdiff.ad import rules
from symdiff.frontend.lower import lower
from symdiff.frontend.source import get_source
from symdiff.ir.nodes import iter_assigns

from .helpers import agrees
from .programs import RandomChooser, check_program, generate, program_strategy
from .specialised import MODES

SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]


@settings(max_examples=200, deadline=None, suppress_health_check=SLOW_OK)
@given(program_strategy())
def test_random_programs(prog):
    # determinism costs a second transformation: the seeded run below checks it
    outcome = check_program(prog, determinism=False)
    assert outcome.status != "bug", outcome.report()


@settings(max_examples=10, deadline=None, suppress_health_check=SLOW_OK)
@given(program_strategy())
def test_random_programs_simplified(prog):
    outcome = check_program(prog, simplify=True, determinism=False, formatting=False)
    assert outcome.status != "bug", outcome.report()


def test_seeded_programs_run_and_agree():
    """The campaign's first programs: none disagrees (also specialised to its arguments'
    types against generic), and the generator still writes programs symdiff accepts and that
    evaluate (a drifting generator would test nothing)."""
    outcomes = [
        check_program(generate(RandomChooser(seed), seed), specialised=("grad",))
        for seed in range(40)
    ]
    bugs = [o.report() for o in outcomes if o.status == "bug"]
    assert not bugs, "\n\n".join(bugs)
    ok = sum(o.status == "ok" for o in outcomes)
    assert ok >= 36, [(o.status, o.kind, o.detail[:80]) for o in outcomes if o.status != "ok"]


@settings(max_examples=25, deadline=None, suppress_health_check=SLOW_OK)
@given(program_strategy())
def test_random_programs_forward_mode_and_hessian_vector_products(prog):
    """jvp against the checked gradient, hvp against differences of it (the campaign runs
    this on every fourth program; it found the untaped trip counts of nested loops)."""
    outcome = check_program(prog, determinism=False, formatting=False, higher=True)
    assert outcome.status != "bug", outcome.report()


@settings(max_examples=10, deadline=None, derandomize=True, suppress_health_check=SLOW_OK)
@given(program_strategy())
def test_random_programs_specialised_agree_with_generic_in_every_mode(prog):
    """The program specialised to its arguments' types (pipeline.transform(..., args=...))
    against the generic one, which the same check compares with finite differences: the
    gradient, value_and_grad, jvp, vjp and hvp (the campaign runs this on every program)."""
    outcome = check_program(prog, determinism=False, formatting=False, specialised=MODES)
    assert outcome.status != "bug", outcome.report()
    assert outcome.status != "ok" or "specialised-grad" in outcome.checked, outcome.checked


# every primitive with a derivative rule that users write, but never as a call of its own
NOT_WRITTEN = {
    "tuple_item": "the items of a several-results call (w, v = eigh(a)): written as indexing",
    "list": "a literal list that a loop appends to: written as xs = [...] before the loop",
}


def test_the_generator_exercises_every_primitive_with_a_rule():
    """A rule the fuzzer never reaches is a rule nothing checks: add it to tests/programs.py."""
    missing = {p.name for p in rules.RULES if p not in rules.INTERNAL} - set(NOT_WRITTEN)
    for seed in range(1000):  # the campaign's first programs, until every rule is reached
        prog = generate(RandomChooser(seed), seed)
        try:
            fn, _ = lower(get_source(prog.function()), reserved=set())
        except UnsupportedSyntaxError:
            continue
        missing -= {s.prim.name for s in iter_assigns(fn.body)}
        if not missing:
            break
    assert not missing, f"primitives no random program uses: {sorted(missing)}"


# ---------------------------------------------------------------- bugs the fuzzer found

C = np.array([0.5, 1.0, 2.0])


def mean_against_module_array(x):
    return np.mean(x * C)


def test_size_of_a_broadcast_against_a_module_array():
    """builder.same_shape took a module-level array for a scalar, so np.size(x * C) became
    np.size(x): with x of shape (1,) the gradient was 3.5 instead of 7/6, silently."""
    g = grad(mean_against_module_array)(np.array([0.7]))
    np.testing.assert_allclose(g, [np.mean(C)], rtol=1e-15)


def outer_of_broadcast(x, y):
    return np.sum(np.outer(np.hypot(x[1:2] + 2.0, C), y))


def test_shape_of_a_broadcast_against_a_module_array():
    """The same fold gave np.shape(x[1:2]) for the shape of hypot(x[1:2], C): the reshape in
    the outer product's rule failed (size 3 into shape (1,))."""
    agrees(
        outer_of_broadcast, np.array([-0.65, -1.42, 0.56]), np.array([1.0, 0.2, -0.3]), wrt=(0, 1)
    )


def pair(a):
    return a * 2.0, a * 3.0


def use(w):
    return w * w


def use_two(w, z):
    return w * z


def unpacked_item_passed_on(x):
    p, q = pair(x)
    return use(q) + q


def tuple_item_passed_on(x):
    t = pair(x)
    return use(t[1]) + t[1]


def item_read_before_the_call(x):
    p, q = pair(x)
    return use_two(q, x + q)


@pytest.mark.parametrize(
    "f,expected",
    [
        (unpacked_item_passed_on, 2 * 9.0 * 1.5 + 3.0),
        (tuple_item_passed_on, 2 * 9.0 * 1.5 + 3.0),
        (item_read_before_the_call, 24.0 * 1.5),  # 3x (x + 3x) = 12 x²
    ],
)
def test_a_temporary_renamed_after_a_name_or_a_statement_took_it(f, expected):
    """lower.rename_temp renamed the statement defining a temporary (to the helper parameter
    it was passed as) while a variable or an earlier statement still read the old name:
    InternalError "%t2 used before it is defined"."""
    value, g = value_and_grad(f)(1.5)
    assert value == pytest.approx(f(1.5), rel=1e-15)
    assert g == pytest.approx(expected, rel=1e-15)


def bump(a):
    a += 1.0
    return np.sum(a)


def bump_a_view(x):
    y = x * 1.0
    s = bump(y[0:2])
    return s + np.sum(y * y)


def bump_an_array(x):
    y = x * 1.0
    s = bump(y)
    return s + np.sum(y * y)


@pytest.mark.parametrize("f", [bump_a_view, bump_an_array])
def test_a_helper_updating_its_argument_in_place_is_refused(f):
    """``a += 1.0`` in a helper changes the caller's array (through a view too): the value was
    19 instead of 27 for bump_a_view at [1, 2, 3], silently. Now refused: when the gradient
    is built, or (bump_an_array, where a float x makes y a number, which += rebinds) at the
    call that passes an array."""
    with pytest.raises(UnsupportedSyntaxError, match="`a \\+=` would change the array that `y`"):
        grad(f)(np.array([1.0, 2.0, 3.0]))


def accumulate(total, v):
    total += v
    return total


def helper_updates_a_fresh_value(x):
    return np.sum(accumulate(x * 2.0, x))


def test_a_helper_updating_a_value_nobody_else_names_is_fine():
    agrees(helper_updates_a_fresh_value, np.array([0.5, -1.0]))


def scaled_copy(x):
    v = x.astype(float)  # astype copies: v is not x
    v *= 3.0
    w = x.astype(np.float64)
    w -= x
    return np.sum(v * x) + np.sum(w) + np.sum(x)


def test_updating_an_astype_copy_is_not_an_alias():
    """The 10,000-program campaign refused 3 programs that updated ``x.astype(float)`` in
    place: astype was taken for np.asarray, which may return x itself. It always copies."""
    assert agrees(scaled_copy, np.array([0.5, -1.0, 2.0])).ok
    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(grad(scaled_copy)(x), 6.0 * x + 1.0)


def test_a_program_from_the_campaign_replays_exactly():
    """Program k of a campaign is a function of k alone: a report can be replayed."""
    a, b = generate(RandomChooser(1234), 1234), generate(RandomChooser(1234), 1234)
    assert a.source == b.source and a.wrt == b.wrt
    assert all(np.array_equal(u, v) for u, v in zip(a.args, b.args))
    f = from_source(a.source, name=a.name)
    assert callable(f)


def test_a_method_of_a_module_level_array():
    """Recording the names a function reads compared a module-level array with the numpy
    module using ``in`` (elementwise ``==``): ValueError, reported as an InternalError."""
    f = from_source("def f(x):\n    return x * C0.sum()\n", namespace={"C0": np.array([1.0, 2.0])})
    assert grad(f)(2.0) == 3.0


def same_object_then_updated(x):
    v = np.real_if_close(x)  # for a real array: x itself
    v *= 2.0
    return np.sum(x * v)


def split_piece_updated(x):
    a, b = np.split(x, 2)
    a += 1.0
    return np.sum(x * x)


@pytest.mark.parametrize("f", [same_object_then_updated, split_piece_updated])
def test_an_update_through_a_result_that_is_its_argument_is_refused(f):
    """np.real_if_close, np.real, .conj(), np.float64, np.rot90, np.split's pieces... return
    their argument or a view of it; lowering did not know, so ``v *= 2.0`` was taken as a new
    array: 10 instead of 20 at [1, 2], silently. Now refused like any update through an alias."""
    with pytest.raises(UnsupportedSyntaxError, match="in-place update through an alias"):
        grad(f)


def negated_relu(x):
    return -np.sum(np.maximum(x, 0.0))


def one_minus_clip(x):
    return 1.0 - np.clip(x, -1.0, 1.0)


def test_a_negated_mask():
    """builder folded (-1.0) * (x > 0) into -(x > 0), which NumPy refuses for booleans: the
    gradient of -sum(relu(x)) raised TypeError (an InternalError)."""
    np.testing.assert_array_equal(grad(negated_relu)(np.array([1.0, -1.0])), [-1.0, 0.0])
    assert grad(one_minus_clip)(0.5) == -1.0
    assert grad(one_minus_clip)(2.0) == 0.0


UNDERSCORE = """
def w(x, a):
    _ = a + 1.0
    y = x
    k = 0
    while k < 2:
        y = y * _
        k += 1
    return y
"""


def test_a_variable_called_underscore_next_to_a_reversed_loop():
    """The backward loop of a while was written ``for _ in range(steps)``, overwriting the
    user's ``_``: a wrong gradient with respect to ``a``, silently."""
    f = from_source(UNDERSCORE)
    dx, da = grad(f, wrt=(0, 1))(0.5, 0.3)
    assert dx == pytest.approx(1.3**2, rel=1e-15)
    assert da == pytest.approx(2 * 0.5 * 1.3, rel=1e-15)


def loop_with_reversed(x, reversed, i):
    y = x
    for j in range(3):
        y = y * np.sin(y) * reversed + i
    return y


def test_a_parameter_called_reversed():
    """Generated backward loops call reversed(range(n)): a parameter called reversed made
    that a call of a float (TypeError, an InternalError)."""
    agrees(loop_with_reversed, 0.5, 0.3, 0.2, wrt=(0, 1, 2))


def power_next_to_math(x):
    t = np.full((2, 3), x)
    return np.sum(np.power(t * t + 0.25, 0.5)) + math.asinh(x)


def test_simplify_keeps_numpy_for_arrays_next_to_math_functions():
    """simplify wrote the derivative of np.power(t, 0.5) on an array as math.sqrt(t) when the
    region also held a math function's derivative (TypeError at call time)."""
    expected = grad(power_next_to_math)(0.3)
    assert grad(power_next_to_math, simplify=True)(0.3) == pytest.approx(expected, rel=1e-12)


def update_a_gathered_copy(x):
    v = x[[0, 0, 1]]  # advanced indexing copies: v is not a view of x
    v *= 2.0
    w = x[x > 0.0]
    w += 1.0
    return np.sum(v * x[0]) + np.sum(w) + np.sum(x)


def update_a_slice(x):
    y = x * 1.0
    v = y[0:2]  # basic indexing is a view: updating it changes y
    v *= 2.0
    return np.sum(y)


def test_advanced_indexing_copies_and_basic_indexing_aliases():
    """The campaign refused ``v = v8[[0, 0]]; v *= ...`` (seed 43185): a gathered copy was taken
    for a view. A slice still is one, and updating it in place is still refused."""
    assert agrees(update_a_gathered_copy, np.array([0.5, -1.0, 2.0])).ok
    with pytest.raises(UnsupportedSyntaxError, match="would change the array"):
        grad(update_a_slice)
