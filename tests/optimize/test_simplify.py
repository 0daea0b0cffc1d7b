"""simplify=True: same gradients as without it (and as finite differences), fewer operations,
names kept, conventions at kinks kept, and a bounded cost even on explosive input."""

from __future__ import annotations

import math
import os
import pathlib
import time

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from symdiff import check_grad, from_source
from symdiff.ad.program import GradProgram
from symdiff.ad.rules import RULES
from symdiff.ir import primitives as P
from symdiff.ir.interpret import run
from symdiff.ir.nodes import Assign, Const, Function, If, Loop, Var, iter_assigns
from symdiff.optimize.simplify import Budget, count_ops, simplify, simplify_with_report
from symdiff.pipeline import transform

GOLDEN = pathlib.Path(__file__).parent.parent / "golden" / "simplify"
UPDATE = os.environ.get("SYMDIFF_UPDATE_GOLDEN") == "1"

ALPHA = 0.01


# ----------------------------------------------------------------------------- examples


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_sum(x):
    return np.sum(1.0 / (1.0 + np.exp(-x)))


def tanh_sum(x):
    return np.sum(np.tanh(x))


def relu(x):
    return np.sum(np.maximum(x, 0.0))


def leaky_relu(x):
    return np.sum(np.where(x > 0, x, ALPHA * x))


def softmax_ce(z, y):
    e = np.exp(z)
    p = e / np.sum(e)
    return -np.sum(y * np.log(p))


def softmax_ce_stable(z, y):
    s = z - np.max(z)
    lse = np.log(np.sum(np.exp(s)))
    return -np.sum(y * (s - lse))


def dense(W, x, b, y):
    a = sigmoid(W @ x + b)
    return np.sum((a - y) ** 2)


def mlp(W1, b1, W2, b2, x, y):
    h = np.tanh(W1 @ x + b1)
    o = sigmoid(W2 @ h + b2)
    return np.sum((o - y) ** 2)


def logistic_regression(w, b, X, y):
    p = sigmoid(X @ w + b)
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def scalar_sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def scalar_mix(x, y):
    t = math.sin(x) * y + math.exp(x * y)
    return t * t / (1.0 + y * y)


def _inputs(name: str) -> tuple:
    rng = np.random.default_rng(7)
    n = rng.standard_normal
    onehot = np.eye(5)[2]
    return {
        "sigmoid_sum": (n(6),),
        "tanh_sum": (n(6),),
        "relu": (n(6),),
        "leaky_relu": (n(6),),
        "softmax_ce": (n(5), onehot),
        "softmax_ce_stable": (n(5), onehot),
        "dense": (n((3, 4)), n(4), n(3), n(3)),
        "mlp": (n((4, 3)), n(4), n((2, 4)), n(2), n(3), n(2)),
        "logistic_regression": (n(3), 0.3, n((6, 3)), (rng.random(6) > 0.5).astype(float)),
        "scalar_sigmoid": (0.7,),
        "scalar_mix": (0.3, 0.8),
    }[name]


EXAMPLES = [
    (sigmoid_sum, 0),
    (tanh_sum, 0),
    (relu, 0),
    (leaky_relu, 0),
    (softmax_ce, 0),
    (softmax_ce_stable, 0),
    (dense, (0, 2)),
    (mlp, (0, 1, 2, 3)),
    (logistic_regression, (0, 1)),
    (scalar_sigmoid, 0),
    (scalar_mix, (0, 1)),
]


def _grads(t, args) -> tuple:
    g = t.grad(*args)
    return g if isinstance(g, tuple) else (g,)


def _agree(a: tuple, b: tuple, rtol: float = 1e-9) -> None:
    for x, y in zip(a, b, strict=True):
        np.testing.assert_allclose(x, y, rtol=rtol, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("f, wrt", EXAMPLES, ids=[f.__name__ for f, _ in EXAMPLES])
def test_examples_agree_and_shrink(f, wrt):
    plain = transform(f, wrt)
    simple = transform(f, wrt, simplify=True)
    args = _inputs(f.__name__)
    _agree(_grads(plain, args), _grads(simple, args))
    check_grad(f, *args, wrt=wrt, grad_fn=simple.grad)
    _, report = simplify_with_report(plain.program)
    assert report.ops_after <= report.ops_before
    assert not [k for k in report.outcomes if k.startswith("error")], report.outcomes
    # (not == count_ops(simple.program): a time limit hit on a busy machine may stop one of
    # the two runs earlier; both must still only ever shrink)
    assert count_ops(simple.program) <= report.ops_before


def test_sigmoid_takes_the_textbook_form():
    src = transform(dense, (0, 2), simplify=True).grad_source
    assert "d_z = d_a * a * (1.0 - a)" in src
    # as cheap as the hand-written s = 1/(1+exp(-x)); s * (1 - s): neg, exp, add, div, sub, mul
    assert count_ops(transform(sigmoid_sum, 0, simplify=True).program) <= 6
    assert count_ops(transform(scalar_sigmoid, 0, simplify=True).program) <= 6


def test_tanh_needs_no_more_than_one_minus_tanh_squared():
    # tanh, square, subtract
    assert count_ops(transform(tanh_sum, 0, simplify=True).program) <= 3


def test_a_forward_value_already_computed_is_reused():
    # 1 - p is the forward value log(1 - p) was taken of: d_z = d_p * p * (1 - p) reads it
    src = transform(logistic_regression, (0, 1), simplify=True).grad_source
    line = next(ln for ln in src.splitlines() if ln.strip().startswith("d_z ="))
    assert "1.0 - p" not in line and "1 - p" not in line
    assert count_ops(transform(logistic_regression, (0, 1), simplify=True).program) < count_ops(
        transform(logistic_regression, (0, 1)).program
    )


def branch_then_square(a, w):
    r = a * w
    if r > 1.0:
        r = r * r
    return (r - 2.0) ** 2 + 0.1 * w * w


def test_terms_computed_apart_are_merged():
    # the two halves of d(0.1 * w * w)/dw are built on either side of the branch: inlining
    # the earlier one into the later region gives 0.2 * w and frees a statement
    plain = transform(branch_then_square, (0, 1))
    simple = transform(branch_then_square, (0, 1), simplify=True)
    assert count_ops(simple.program) < count_ops(plain.program)
    assert "0.2 * w" in simple.grad_source
    for args in ((0.3, 0.5), (2.0, 1.5)):
        _agree(_grads(plain, args), _grads(simple, args))


def test_names_keep_their_meaning():
    plain = transform(dense, (0, 2)).program
    simple = transform(dense, (0, 2), simplify=True).program

    def made(p):
        return {s.target for s in iter_assigns(p.forward + p.backward)}

    named = {v for v in made(plain) if not v.name.startswith("%")}
    assert named <= made(simple)  # z, a, and every user-named value
    adjoints = {a for a, _ in plain.adjoint_of}
    assert adjoints & made(plain) == adjoints & made(simple)  # d_a, d_z, d_W...
    assert simple.value == plain.value and simple.grads == plain.grads


# ----------------------------------------------------------------------------- every rule


def _rule_source(prim) -> str | None:
    """A function applying ``prim`` to sigmoid-squashed inputs, whose values suit every domain."""
    if prim is P.np_where:
        return "def f(x, y):\n    return np.sum(np.where(x > y, s(x), 2.0 * s(y)))\n"
    if prim is P.np_clip:
        return "def f(x, y):\n    return np.sum(np.clip(s(x) * s(y), 0.2, 0.5) * s(x))\n"
    n = 1 if prim.nargs == -1 else prim.nargs
    if n not in (1, 2) or prim.form not in ("infix", "prefix", "call"):
        return None
    a = ["s(x)", "s(y)"][:n]
    if prim.form == "infix":
        body = f"{a[0]} {prim.spelling} {a[1]}"
    elif prim.form == "prefix":
        body = f"{prim.spelling}{a[0]}"
    else:
        body = f"{prim.spelling}({', '.join(a)})"
    total = "" if _scalar_only(prim) else "np.sum"
    return f"def f(x, y):\n    u = {body}\n    return {total}(u * u + s(x) * u)\n"


def _scalar_only(prim) -> bool:
    return prim.name.startswith("math.") or prim in (P.b_max, P.b_min, P.b_float)


ELEMENTWISE = [
    p
    for p in RULES
    if p.differentiable
    and p is not P.matmul
    and (p.elementwise or p.name.startswith("math.") or p in (P.neg, P.pos, P.b_float))
]


@pytest.mark.parametrize("prim", ELEMENTWISE, ids=[p.name for p in ELEMENTWISE])
def test_every_elementwise_rule(prim):
    src = _rule_source(prim)
    if src is None:
        pytest.skip(f"no generic call form for {prim.name}")
    scalar = _scalar_only(prim)
    lib = "math" if scalar else "np"
    if scalar:
        x, y = 0.3, -0.4
    else:
        x, y = np.array([0.3, -0.2, 1.1]), np.array([-0.4, 0.5, 0.7])
    for shift in ("", "1.5 + "):  # inputs in (0, 1), else in (1.5, 2.5) (arccosh...)
        helper = f"def s(z):\n    return {shift}1.0 / (1.0 + {lib}.exp(-z))\n"
        f = from_source(helper + src, "f")
        plain = transform(f, (0, 1))
        with np.errstate(all="ignore"):
            try:
                if np.all(np.isfinite(np.array(_grads(plain, (x, y)), dtype=float))):
                    break
            except ValueError:  # math domain error
                continue
    simple = transform(f, (0, 1), simplify=True)
    _agree(_grads(plain, (x, y)), _grads(simple, (x, y)))
    check_grad(f, x, y, wrt=(0, 1), grad_fn=simple.grad)
    assert count_ops(simple.program) <= count_ops(plain.program)


# ----------------------------------------------------------------------------- conventions


def kinks(x, y):
    return np.sum(np.maximum(x, y) * np.abs(x) + np.maximum(x, 0.0) * np.exp(-x) + np.minimum(x, y))


def test_conventions_at_kinks_are_unchanged():
    x = np.array([0.0, 1.0, -1.0, 2.0])
    y = np.array([0.0, 1.0, 0.5, -3.0])  # ties with x, and zeros for abs and ReLU
    plain, simple = transform(kinks, (0, 1)), transform(kinks, (0, 1), simplify=True)
    np.testing.assert_array_equal(np.array(plain.grad(x, y)), np.array(simple.grad(x, y)))


def masks(x, m):
    keep = x > 0.5
    return np.sum(x * keep * keep + (x > 0) * (x < 1) * x * x - 2.0 * x * keep)


def test_boolean_masks_keep_numpy_semantics():
    x = np.array([0.2, 0.7, 1.5, -0.3])
    m = np.array([True, False, True, True])
    plain, simple = transform(masks, 0), transform(masks, 0, simplify=True)
    np.testing.assert_allclose(plain.grad(x, m), simple.grad(x, m))


def test_huge_inputs_do_not_overflow_after_simplifying():
    # e^x / (1 + e^x) has one operation less than 1 / (1 + e^-x) but is NaN for x > 709:
    # the check at huge inputs must keep the stable form
    simple = transform(sigmoid_sum, 0, simplify=True)
    g = simple.grad(np.array([-800.0, -30.0, 0.0, 30.0, 800.0]))
    assert np.all(np.isfinite(g))
    assert "np.exp(-x)" in simple.grad_source


def test_verification_rejects_a_wrong_rewrite(monkeypatch):
    # a broken strategy, cheaper than anything right (the product of the expression's
    # variables), must be caught by the check on random inputs and never reach the output
    monkeypatch.setattr(sp, "factor_terms", lambda e, *a, **k: sp.Mul(*e.free_symbols))
    plain = transform(dense, (0, 2))
    _, report = simplify_with_report(plain.program)
    assert report.outcomes["verification failed"] >= 1
    args = _inputs("dense")
    _agree(_grads(plain, args), _grads(transform(dense, (0, 2), simplify=True), args))


# ----------------------------------------------------------------------------- budget


def test_explosive_functions_finish_within_budget():
    deep = "def deep(x):\n" + "    x = x * x + np.sin(x)\n" * 40 + "    return np.sum(x)\n"
    nest = "def nest(x):\n    return np.sum(" + "np.sin(np.exp(" * 30 + "x" + "))" * 30 + ")\n"
    for text in (deep, nest):
        f = from_source(text)
        plain = transform(f, 0)
        start = time.perf_counter()
        out = simplify(plain.program)
        assert time.perf_counter() - start < 20  # a hang detector, not a benchmark
        assert count_ops(out) <= count_ops(plain.program)
        simple = transform(f, 0, simplify=True)
        x = np.array([0.1, 0.2])
        np.testing.assert_allclose(plain.grad(x), simple.grad(x), rtol=1e-9)


def test_total_time_budget_leaves_regions_alone():
    plain = transform(mlp, (0, 1, 2, 3))
    out, report = simplify_with_report(plain.program, Budget(total_seconds=0.0))
    assert report.rewritten == 0 and report.outcomes["over time budget"] == report.regions
    assert count_ops(out) <= count_ops(plain.program)  # repeated statements still go


# ----------------------------------------------------------------------------- control flow


def _program(forward, backward, params, grads) -> GradProgram:
    extra = {"restored": ()} if "restored" in GradProgram.__dataclass_fields__ else {}
    value = forward[-1].target
    return GradProgram("g", params, params, forward, backward, value, grads, (), **extra,
                       scalar_value=True)  # fmt: skip


def _evaluate(prog: GradProgram, *args):
    fn = Function("g", prog.params, prog.forward + prog.backward, prog.grads[0])
    return run(fn, *args)


def test_regions_inside_branches_and_loops_are_simplified_and_flow_is_kept():
    x, c = Var("x"), Var("c")
    t = [Var(f"%t{i}") for i in range(8)]
    b = [Var(f"%b{i}") for i in range(20)]
    one = Const(1.0)
    forward = (
        Assign(t[1], P.neg, (x,)),
        Assign(t[2], P.np_exp, (t[1],)),
        Assign(t[3], P.add, (one, t[2])),
        Assign(Var("a"), P.div, (one, t[3])),
    )
    a = Var("a")
    then = (  # the sigmoid derivative as first derived, inside a branch
        Assign(b[2], P.div, (one, t[3])),
        Assign(b[3], P.mul, (b[2], a)),
        Assign(b[4], P.mul, (b[3], t[2])),
    )
    orelse = (Assign(b[5], P.mul, (a, a)), Assign(b[6], P.add, (b[5], b[5])))
    i, acc = Var("i"), Var("acc")
    body = (  # acc * (t2 / t3) * a, once per iteration
        Assign(b[8], P.div, (t[2], t[3])),
        Assign(b[9], P.mul, (acc, b[8])),
        Assign(b[10], P.mul, (b[9], a)),
    )
    from symdiff.ir.nodes import Carry, Phi

    backward = (
        Assign(c, P.gt, (x, Const(0.0))),
        If(c, then, orelse, (Phi(b[7], b[4], b[6]),)),
        Loop("range", (Const(0), Const(3)), i, (Carry(acc, b[7], b[10], b[11]),), body),
        Assign(b[12], P.mul, (b[11], Const(2.0))),
    )
    prog = _program(forward, backward, (x,), (b[12],))
    out = simplify(prog)
    assert [type(s) for s in out.backward] == [type(s) for s in backward]
    new_if, new_loop = out.backward[1], out.backward[2]
    assert new_if.cond == c and new_if.phis == backward[1].phis
    assert new_loop.carries == backward[2].carries and new_loop.header == backward[2].header
    assert len(new_if.then) < len(then)
    for v in (-1.3, -0.2, 0.4, 2.0):
        assert math.isclose(_evaluate(out, v), _evaluate(prog, v), rel_tol=1e-12)


# ----------------------------------------------------------------------------- golden files


# from text, so that the line numbers quoted in comments do not move with this file
GOLDEN_SOURCES = {
    "sigmoid": (
        "sigmoid_sum",
        0,
        "def sigmoid_sum(x):\n    return np.sum(1.0 / (1.0 + np.exp(-x)))\n",
    ),
    "tanh": ("tanh_sum", 0, "def tanh_sum(x):\n    return np.sum(np.tanh(x))\n"),
    "dense": (
        "dense",
        (0, 2),
        "def sigmoid(z):\n"
        "    return 1.0 / (1.0 + np.exp(-z))\n\n\n"
        "def dense(W, x, b, y):\n"
        "    a = sigmoid(W @ x + b)\n"
        "    return np.sum((a - y) ** 2)\n",
    ),
}


@pytest.mark.parametrize("name", sorted(GOLDEN_SOURCES))
def test_golden_sources(name):
    fname, wrt, text = GOLDEN_SOURCES[name]
    src = transform(from_source(text, fname), wrt, simplify=True).grad_source
    head, _, rest = src.split('"""', 2)  # the docstring names the version and the text's origin
    code = head.rstrip() + "\n" + rest.lstrip("\n")
    path = GOLDEN / f"{name}.txt"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(code)
    assert code == path.read_text(), f"{path.name} differs; SYMDIFF_UPDATE_GOLDEN=1 rewrites it"


# ----------------------------------------------------------------------------- random programs

_LEAVES = st.sampled_from(["x", "y", "u", "0.5", "2.0"])


def _expressions(leaf):
    """Smooth expressions whose every subexpression is finite for any real inputs."""
    unary = st.sampled_from(
        [
            "np.tanh({})",
            "np.sin({})",
            "np.exp(0.3 * np.tanh({}))",
            "np.log(1.0 + {0} * {0})",
            "np.sqrt(1.0 + {0} * {0})",
            "1.0 / (1.0 + np.exp(-{}))",
            "-{}",
        ]
    )
    binary = st.sampled_from(
        ["({} + {})", "({} - {})", "({} * {})", "({} / (1.0 + {} ** 2))", "({1} * {0} - {0})"]
    )
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.builds(lambda f, a: f.format(a), unary, inner),
            st.builds(lambda f, a, b: f.format(a, b), binary, inner, inner),
        ),
        max_leaves=6,
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=_expressions(st.sampled_from(["x", "y"])), body=_expressions(_LEAVES))
def test_random_smooth_programs(first, body):
    text = f"def f(x, y):\n    u = {first}\n    return np.sum({body})\n"
    f = from_source(text, "f")
    x, y = np.array([0.3, -1.2, 0.8]), np.array([-0.5, 0.4, 1.7])
    plain = transform(f, (0, 1))
    with np.errstate(all="ignore"):
        expected = _grads(plain, (x, y))
    assume(all(np.all(np.isfinite(g)) for g in expected))
    simple = transform(f, (0, 1), simplify=True)
    _agree(expected, _grads(simple, (x, y)), rtol=1e-7)
    assert count_ops(simple.program) <= count_ops(plain.program)


# ----------------------------------------------------------------------------- compositions


def bce_of_sigmoid(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


def test_cross_entropy_of_a_sigmoid_cancels_through_the_chained_adjoints():
    rng = np.random.default_rng(0)
    args = (rng.normal(size=3), rng.normal(size=(20, 3)), (rng.random(20) > 0.5) * 1.0)
    plain = transform(bce_of_sigmoid, 0, args=args)
    simple, report = simplify_with_report(plain.program, Budget(region_seconds=5.0))
    after = [r.after for r in report.rewrites]
    assert all(r.proof == "cancel" for r in report.rewrites)  # each one proved by SymPy
    assert any(sp.sympify(e.replace("%", "")).has(sp.Symbol("p")) and "log" not in e for e in after)
    text = [s for s in iter_assigns(simple.backward) if s.prim is P.sub]
    assert any(set(map(str, s.args)) == {"y", "p"} for s in text)  # y - p: d/dz of BCE∘σ


def log_of_exp_times(x):
    return np.sum(np.log(np.exp(x)) * x)


def test_a_division_then_a_multiplication_by_the_same_value_cancels_and_is_reported():
    x = np.array([0.5, -1.0, 2.0])
    plain = transform(log_of_exp_times, 0, args=(x,))
    simple, report = simplify_with_report(plain.program, Budget(region_seconds=5.0))
    (name, before, after, proof), *_ = [r for r in report.rewrites if r.value == "d_x"]
    assert proof == "cancel"
    assert "div(x, " in before and "mul(" in before and sp.sympify(after.replace("%", "")).is_Add
    assert not [s for s in iter_assigns(simple.backward) if s.prim is P.div]
    check_grad(log_of_exp_times, x, grad_fn=transform(log_of_exp_times, 0, simplify=True).grad)
