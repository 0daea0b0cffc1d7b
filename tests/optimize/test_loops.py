"""Loop-invariant code motion: what moves, what stays, and derivatives unchanged by it.

Every function is checked against central finite differences in float64, in reverse and
forward mode, on loops of zero, one and many iterations (a constant trip count is what lets
work move, so each count is its own function).
"""

import math

import numpy as np
import pytest

import symdiff
from symdiff import pipeline
from symdiff.frontend.lower import lower
from symdiff.frontend.source import get_source
from symdiff.ir import nodes as ir
from symdiff.ir.check import check
from symdiff.ir.interpret import run
from symdiff.optimize.loops import hoist_invariants

from ..helpers import agrees


def lowered(f):
    fn, _ = lower(get_source(f), reserved=set())
    return fn


def loop_bodies(fn):
    """The assignments' primitives of every loop's body, outermost loop first."""
    out = []

    def walk(block):
        for s in block:
            if isinstance(s, ir.Loop):
                out.append([a.prim.name for a in s.body if isinstance(a, ir.Assign)])
                walk(s.body)
            elif isinstance(s, ir.If):
                walk(s.then)
                walk(s.orelse)

    walk(fn.body)
    return out


def steps_50(x):
    y = x
    for _ in range(50):
        y = y * math.cos(y) + 0.1 * math.sin(x)
    return y


def steps_1(x):
    y = x
    for _ in range(1):
        y = y * math.cos(y) + 0.1 * math.sin(x)
    return y


def steps_0(x):
    y = x
    for _ in range(0):
        y = y * math.cos(y) + 0.1 * math.sin(x)
    return y


def test_invariant_work_leaves_the_loop():
    fn = hoist_invariants(lowered(steps_50))
    check(fn)
    assert loop_bodies(fn) == [["math.cos", "mul", "add"]]
    before = [s.prim.name for s in fn.body if isinstance(s, ir.Assign)]
    assert before == ["math.sin", "mul"]


def test_a_loop_that_may_not_run_keeps_its_body():
    # hoisted, math.sin(x) would run (and could raise) where the user's function does not
    for f in (steps_0, scalar_steps):
        fn = lowered(f)
        assert hoist_invariants(fn) is fn


def scalar_steps(x, n):
    y = x
    for _ in range(n):
        y = y * math.cos(y) + 0.1 * math.sin(x)
    return y


@pytest.mark.parametrize("f", [steps_0, steps_1, steps_50])
@pytest.mark.parametrize("x", [0.7, -1.3])
def test_gradients_match_finite_differences(f, x):
    agrees(f, x)
    value, tangent = symdiff.jvp(f)(x, 1.0)
    h = 1e-6
    assert value == pytest.approx(f(x), rel=1e-15)
    assert tangent == pytest.approx((f(x + h) - f(x - h)) / (2 * h), rel=1e-6, abs=1e-9)


def test_the_invariants_adjoint_is_applied_once_after_the_backward_loop():
    text = pipeline.transform(steps_50, 0, args=(0.7,)).grad_source
    forward, backward = text.split("# backward pass")
    loop, after = backward.split("in reversed(tape):")[1].split("\n    # line")
    # the forward pass computes 0.1 * math.sin(x) once, before its loop; the backward loop
    # only sums the adjoint of that value, whose pullback through sin runs once, after it
    assert forward.index("0.1 * math.sin(x)") < forward.index("for _ in range(50)")
    code = [line for line in loop.splitlines() if not line.strip().startswith("#")]
    assert code and not any("math.cos(x)" in line or "0.1" in line for line in code)
    assert "0.1 * math.cos(x)" in after


def coupled(x, w):
    y = x
    z = x
    for _ in range(20):
        y = math.sin(y) * z + 0.1 * x * w
        z = math.cos(z) + 0.3 * y * math.exp(w)
    return y + z


def test_coupled_state_with_two_invariants():
    fn = hoist_invariants(lowered(coupled))
    check(fn)
    (body,) = loop_bodies(fn)
    assert "math.exp" not in body
    agrees(coupled, 0.4, 0.9, wrt=(0, 1))


def nested(x, v):
    s = 0.0
    for i in range(3):
        for j in range(4):
            s = s + np.sum(np.tanh(v * x) * (i + j)) * math.sin(x)
    return s


def test_an_inner_invariant_leaves_both_loops():
    fn = hoist_invariants(lowered(nested))
    check(fn)
    outer, inner = loop_bodies(fn)
    for body in (outer, inner):
        assert "np.tanh" not in body and "math.sin" not in body
    v = np.array([0.3, -1.2, 2.0])
    agrees(nested, 0.8, v, wrt=(0, 1))
    x = np.float64(0.8)
    assert run(fn, x, v) == pytest.approx(nested(x, v), rel=1e-14)


def branchy(x):
    y = x
    for i in range(5):
        if i > 2:
            y = y + math.log(x)
        y = y * 0.9 + math.exp(-x)
    return y


def test_work_under_a_branch_stays_where_it_may_not_run():
    fn = hoist_invariants(lowered(branchy))
    (body,) = loop_bodies(fn)
    assert "math.exp" not in body
    if_stmt = next(s for s in _loop(fn).body if isinstance(s, ir.If))
    assert any(a.prim.name == "math.log" for a in if_stmt.then if isinstance(a, ir.Assign))
    agrees(branchy, 1.7)


def _loop(fn):
    return next(s for s in fn.body if isinstance(s, ir.Loop))


def noisy(x):
    s = 0.0
    for _ in range(3):
        s = s + x * np.random.rand()
    return s


def test_a_draw_stays_in_the_loop():
    fn = hoist_invariants(lowered(noisy))
    (body,) = loop_bodies(fn)
    assert "np.random.rand" in body


def matrix_steps(W, h):
    for t in range(6):
        h = np.tanh(W.T @ h + np.sum(W, axis=0))
    return np.sum(h**2)


def test_array_invariants_and_forward_mode():
    fn = hoist_invariants(lowered(matrix_steps))
    (body,) = loop_bodies(fn)
    assert "T" not in body and "np.sum" not in body
    rng = np.random.default_rng(3)
    W, h = rng.normal(size=(4, 4)) * 0.5, rng.normal(size=4)
    agrees(matrix_steps, W, h, wrt=(0, 1))
    J = symdiff.jacobian(matrix_steps, wrt=0, mode="fwd")(W, h)
    np.testing.assert_allclose(J, symdiff.grad(matrix_steps)(W, h), rtol=1e-10, atol=1e-12)
