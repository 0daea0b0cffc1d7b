"""grad(f, checkpoint=...): the loop reversed from snapshots gives the unchecked gradient
(to rounding) and passes central finite differences, for every loop count and snapshot
count; what it cannot reverse is refused at grad(), naming the line."""

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from symdiff import InputError, UnsupportedSyntaxError, check_grad, grad, value_and_grad
from symdiff.api.checkpointed import parse_checkpoint, snapshots_for


def euler(u0, k, n, dt):
    u = u0
    for i in range(n):
        u = u + dt * (np.sin(k * u) - u**3)
    return np.sum(u**2)


def damped(x0, v0, w, n):
    """Two carried arrays, a float carried alongside, a value the head computes from wrt."""
    h = 0.05 * w
    x, v = x0, v0
    energy = 0.0
    for t in range(n):
        a = -np.tanh(w * x) - 0.1 * v
        v = v + h * a
        x = x + h * v
        energy = energy + np.sum(v * v)
    return np.sum(x * x) + 0.01 * energy + np.sum(h * h)


def indexed(u0, xs, start, n):
    """The index feeds the body: range(start, n, 2) and xs[t]; the tail reads xs too."""
    u = u0
    for t in range(start, n, 2):
        u = np.cos(u) * xs[t] + 0.5 * u
    return np.sum(u * xs[0])


def nested(u0, k, n):
    """A loop and a branch inside the checkpointed body."""
    u = u0
    count = 0
    for i in range(n):
        for j in range(3):
            u = u + 0.1 * np.sin(k * u + j)
        if i % 2 == 0:
            u = u * 0.9
        count = count + 1
    return np.sum(u**2) * (count + 1)


def scalars(x, y, n):
    s = x
    for i in range(n):
        s = math.sin(s) * y + 0.1 * s
    return s * y


RNG = np.random.default_rng(0)
U0, K = RNG.normal(size=4), RNG.normal(size=4)


def assert_same(a, b):
    for x, y in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,)):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 20])
@pytest.mark.parametrize("checkpoint", [1, 3, "auto", "200B"])
def test_equals_the_unchecked_gradient(n, checkpoint):
    wrt = ("u0", "k")
    g = grad(euler, wrt=wrt, checkpoint=checkpoint)
    assert_same(g(U0, K, n, 0.1), grad(euler, wrt=wrt)(U0, K, n, 0.1))
    assert g.counts.reversed == n


@pytest.mark.parametrize("n", [0, 1, 2, 5])
def test_finite_differences(n):
    g = grad(euler, wrt=("u0", "k"), checkpoint=2)
    check_grad(euler, U0, K, n, 0.1, wrt=("u0", "k"), grad_fn=g)


@pytest.mark.parametrize("n", [0, 1, 4, 9])
def test_several_carried_values_and_a_head(n):
    x0, v0, w = RNG.normal(size=3), RNG.normal(size=3), RNG.normal(size=3)
    wrt = ("x0", "v0", "w")
    g = grad(damped, wrt=wrt, checkpoint=2)
    assert_same(g(x0, v0, w, n), grad(damped, wrt=wrt)(x0, v0, w, n))
    check_grad(damped, x0, v0, w, n, wrt=wrt, grad_fn=g)


@pytest.mark.parametrize("start, n", [(0, 0), (1, 2), (0, 9), (1, 10)])
def test_index_and_range_arguments(start, n):
    xs = RNG.normal(size=(10, 3))
    wrt = ("u0", "xs")
    g = grad(indexed, wrt=wrt, checkpoint=2)
    assert_same(g(U0[:3], xs, start, n), grad(indexed, wrt=wrt)(U0[:3], xs, start, n))
    check_grad(indexed, U0[:3], xs, start, n, wrt=wrt, grad_fn=g)


@pytest.mark.parametrize("n", [0, 1, 2, 5])
def test_nested_loop_and_branch_in_the_body(n):
    g = grad(nested, wrt=("u0", "k"), checkpoint=2)
    assert_same(g(U0, K, n), grad(nested, wrt=("u0", "k"))(U0, K, n))
    check_grad(nested, U0, K, n, wrt=("u0", "k"), grad_fn=g)


@pytest.mark.parametrize("n", [0, 1, 6])
def test_python_floats(n):
    g = grad(scalars, wrt=("x", "y"), checkpoint=2)
    assert_same(g(0.3, 0.7, n), grad(scalars, wrt=("x", "y"))(0.3, 0.7, n))
    check_grad(scalars, 0.3, 0.7, n, wrt=("x", "y"), grad_fn=g)


def test_value_and_grad_and_single_wrt():
    vg = value_and_grad(euler, checkpoint=3)
    value, g = vg(U0, K, 11, 0.1)
    assert value == pytest.approx(euler(U0, K, 11, 0.1), rel=1e-14)
    assert_same(g, grad(euler)(U0, K, 11, 0.1))
    assert g.shape == U0.shape


def test_decorator_form_and_keyword_arguments():
    @grad(wrt="u0", checkpoint="auto")
    def f(u0, k, n=5, dt=0.1):
        u = u0
        for i in range(n):
            u = u + dt * np.sin(k * u)
        return np.sum(u)

    assert_same(f(U0, K, dt=0.2), grad(f.unchecked.__wrapped__, wrt="u0")(U0, K, 5, 0.2))


def test_the_schedule_keeps_to_its_snapshots():
    g = grad(euler, wrt="u0", checkpoint=4)
    g(U0, K, 100, 0.01)
    assert g.snapshots == 4 and g.counts.most_snapshots <= 4
    assert g.counts.reversed == 100


def test_budget_counts_snapshots_of_the_state():
    assert parse_checkpoint("200MB") == ("bytes", 200 * 10**6)
    assert parse_checkpoint("1.5 KiB") == ("bytes", 1536)
    assert parse_checkpoint(7) == ("snapshots", 7)
    assert parse_checkpoint("auto") == ("auto", 0)
    state = (np.zeros(100), 1.0)  # 808 bytes
    assert snapshots_for(("bytes", 8080), 10**4, state) == 10
    # auto: the fewest snapshots that advance no step more than twice, C(s + 2, 2) >= n
    s = snapshots_for(("auto", 0), 10**5, state)
    assert math.comb(s + 2, 2) >= 10**5 > math.comb(s + 1, 2)


def test_source_shows_the_step_and_its_reverse():
    g = grad(euler, wrt=("u0", "k"), checkpoint=2)
    g(U0, K, 3, 0.1)
    text = g.source
    assert "def euler_step(i, u, k, dt):" in text
    assert "def euler_step_dot_grad(i, u, k, dt, g_u):" in text
    assert "d_dt" not in text  # dt is not differentiated: no adjoint for it


@pytest.mark.parametrize("bad", [0, -2, "lots", "12", 2.5])
def test_bad_checkpoint_values(bad):
    with pytest.raises(InputError, match="checkpoint"):
        grad(euler, checkpoint=bad)


def test_budget_below_one_snapshot():
    g = grad(euler, checkpoint="10B")
    with pytest.raises(InputError, match="holds no snapshot"):
        g(U0, K, 3, 0.1)


def while_loop(x, n):
    i = 0
    while i < n:
        x = np.sin(x)
        i += 1
    return np.sum(x)


def two_loops(x, n):
    for i in range(n):
        x = np.sin(x)
    for i in range(n):
        x = np.cos(x)
    return np.sum(x)


def with_break(x, n):
    for i in range(n):
        x = np.sin(x)
        if np.sum(x) > 10:
            break
    return np.sum(x)


def return_before(x, n):
    y = x
    if n == 0:
        return np.sum(y)
    for i in range(n):
        y = np.sin(y)
    return np.sum(y)


def over_items(x, xs):
    for row in xs:
        x = np.sin(x) * row
    return np.sum(x)


def born_in_loop(x, n):
    for i in range(n):
        y = np.sin(x)
        x = y * 2.0
    return np.sum(x) + np.sum(y)


def no_loop(x):
    return np.sum(x)


@pytest.mark.parametrize(
    "f, words, hint",
    [
        (while_loop, "not `while` loops", "for step in range"),
        (two_loops, "has 2 (lines", "helper functions"),
        (with_break, "`break` ends steps early", "guard the rest"),
        (return_before, "return after its loop", "keep the result"),
        (over_items, "loops over `range", "for t in range(len(xs))"),
        (born_in_loop, "`y` is set inside", "give `y` a value before the loop"),
        (no_loop, "there is none", "without checkpoint"),
    ],
)
def test_refusals_name_the_line_and_a_way_out(f, words, hint):
    with pytest.raises(UnsupportedSyntaxError) as info:
        grad(f, checkpoint=2)
    err = info.value
    assert words in err.message and hint in err.hint
    assert err.loc is not None and err.loc.file.endswith("test_checkpoint.py")


def test_other_backends_are_refused():
    with pytest.raises(InputError, match="NumPy"):
        grad(euler, checkpoint=2, backend="jax")


def test_the_docs_page_runs(tmp_path):
    root = Path(__file__).resolve().parent.parent.parent
    page = (root / "docs" / "checkpointing.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", page, re.S)
    assert blocks
    path = tmp_path / "checkpointing_example.py"
    path.write_text("\n".join(blocks))
    done = subprocess.run(
        [sys.executable, str(path)], cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(root)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "snapshots;" in done.stdout


def in_place(u0, k, n):
    u = np.copy(u0)
    for i in range(n):
        u[0] = u[0] * 0.5 + np.sum(k * u)
        u += 0.1 * np.sin(u)
    return np.sum(u**2)


@pytest.mark.parametrize("n", [0, 1, 2, 7])
def test_a_body_updating_its_state_in_place_leaves_the_snapshots_alone(n):
    g = grad(in_place, wrt=("u0", "k"), checkpoint=2)
    assert g.pieces.in_place
    assert_same(g(U0, K, n), grad(in_place, wrt=("u0", "k"))(U0, K, n))
    check_grad(in_place, U0, K, n, wrt=("u0", "k"), grad_fn=g)


def test_check_compares_the_first_call_with_finite_differences():
    g = grad(euler, wrt="u0", checkpoint=2, check=True)
    assert_same(g(U0, K, 4, 0.1), grad(euler, wrt="u0")(U0, K, 4, 0.1))
    assert g.check is False  # done once


def carries_a_parameter(x, n, u):
    for i in range(n):
        u = np.sin(u * x) + u
    return np.sum(u)


@pytest.mark.parametrize("n", [0, 1, 5])
def test_a_carried_parameter_outside_wrt_still_carries_the_adjoint(n):
    # u is not differentiated, but after one step it depends on x
    g = grad(carries_a_parameter, wrt="x", checkpoint=2)
    assert_same(g(K, n, U0), grad(carries_a_parameter, wrt="x")(K, n, U0))
    check_grad(carries_a_parameter, K, n, U0, wrt="x", grad_fn=g)


def int_start(x, n):
    s = 0
    for i in range(n):
        s = s + np.sum(np.sin(x * i))
    return s


def test_a_state_that_starts_as_an_int_and_becomes_a_float_is_refused():
    g = grad(int_start, checkpoint=2)
    with pytest.raises(InputError, match="`s` enters the checkpointed loop as int") as info:
        g(U0, 3)
    assert "s = 0.0" in info.value.hint
