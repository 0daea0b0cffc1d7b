"""`symdiff check` and `symdiff demo` judge a hand-written gradient by finite differences,
with the tolerances of `check_grad`, instead of only printing its distance from ours."""

import re
import textwrap

import numpy as np
import pytest

from symdiff.api.check import tolerances
from symdiff.api.cli import main

MODULE = """
import numpy as np


def f(x):
    return np.sum(np.sin(x))


def f_hand_grad(x):
    return np.sin(x)  # wrong: the derivative of sin is cos


def example_f():
    return (np.linspace(0.1, 1.0, 4),)


def good(x):
    return np.sum(np.sin(x))


def good_hand_grad(x):
    return np.cos(x)


def example_good():
    return (np.linspace(0.1, 1.0, 4),)


def near(x):
    return np.sum(x * x)


def near_hand_grad(x):
    return 2.0 * x + NUDGE


def example_near():
    return (np.array([0.5, 1.5]),)


def pair(W, b):
    return np.sum(np.tanh(W @ np.ones(3) + b))


def pair_hand_grad(W, b):
    d = 1.0 - np.tanh(W @ np.ones(3) + b) ** 2
    return np.outer(d, np.ones(3)), d


def example_pair():
    return (np.full((2, 3), 0.1), np.array([0.2, -0.3]))


WRT = {"pair": ("W", "b"), "short": ("W", "b"), "shape": "x"}


def short(W, b):
    return np.sum(W) + np.sum(b)


def short_hand_grad(W, b):
    return (np.ones_like(W),)  # one gradient for two arguments


def example_short():
    return (np.ones((2, 2)), np.ones(2))


def shape(x):
    return np.sum(x * x)


def shape_hand_grad(x):
    return 2.0 * x[:2]


def example_shape():
    return (np.ones(3),)
"""


def write(tmp_path, nudge=0.0, name="hands.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(MODULE).replace("NUDGE", repr(nudge)))
    return str(path)


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def rows(out):
    """The check table's rows as {argument: verdict}."""
    table = {}
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[-1] in ("ok", "FAIL") and "  " in line:
            table[line.split("  ")[0].strip()] = parts[-1]
    return table


def test_a_wrong_hand_written_gradient_fails_check(capsys, tmp_path):
    code, out, _ = run(capsys, "check", f"{write(tmp_path)}:f")
    assert code == 1
    assert rows(out) == {"x": "ok", "f_hand_grad: x": "FAIL"}
    assert out.splitlines()[-1] == "verdict: FAIL"


def test_a_right_hand_written_gradient_passes(capsys, tmp_path):
    code, out, _ = run(capsys, "check", f"{write(tmp_path)}:good")
    assert code == 0
    assert rows(out) == {"x": "ok", "good_hand_grad: x": "ok"}
    assert out.splitlines()[-1] == "verdict: ok"


def test_the_hand_written_rows_use_check_grads_tolerances(capsys, tmp_path):
    _, rtol, atol = tolerances(np.dtype(np.float64))
    # |fd| is at most 3 here: a nudge well inside atol + rtol * 3 passes, one well past fails
    inside = 0.1 * atol
    outside = 10 * (atol + rtol * 3.0)
    code, out, _ = run(capsys, "check", f"{write(tmp_path, inside, 'a.py')}:near")
    assert (code, rows(out)["near_hand_grad: x"]) == (0, "ok")
    code, out, _ = run(capsys, "check", f"{write(tmp_path, outside, 'b.py')}:near")
    assert (code, rows(out)["near_hand_grad: x"]) == (1, "FAIL")


def test_a_tuple_of_hand_written_gradients_gets_a_row_each(capsys, tmp_path):
    code, out, _ = run(capsys, "check", f"{write(tmp_path)}:pair")
    assert code == 0
    assert rows(out) == {"W": "ok", "b": "ok", "pair_hand_grad: W": "ok", "pair_hand_grad: b": "ok"}


@pytest.mark.parametrize("func", ["short", "shape"])
def test_a_hand_written_gradient_of_the_wrong_count_or_shape_fails(capsys, tmp_path, func):
    code, out, _ = run(capsys, "check", f"{write(tmp_path)}:{func}")
    assert code == 1
    assert out.splitlines()[-1] == "verdict: FAIL"
    hand = [line for line in out.splitlines() if line.startswith(f"{func}_hand_grad: ")]
    assert hand and hand[0].split()[-1] == "FAIL"


def test_demo_fails_on_a_wrong_hand_written_gradient(capsys, tmp_path):
    folder = tmp_path / "ex"
    folder.mkdir()
    write(folder)
    code, out, _ = run(capsys, "demo", folder)
    assert code == 1
    summary = out[out.index("summary\n") :].splitlines()
    cells = [re.split(r"\s{2,}", line) for line in summary[3:-1]]
    verdicts = {c[0]: c[1] for c in cells}
    assert verdicts["hands.f"] == "FAIL (hand)"
    assert verdicts["hands.good"] == "ok"
    assert "hands.f" in out.splitlines()[-1] and out.splitlines()[-1].startswith("FAILED: ")
    assert "all " not in out.splitlines()[-1]


NAN_MODULE = """
import numpy as np


def f(x):  # @def
    return np.sum(x * x)


def example_f():
    return (np.array([1.0, np.nan]),)
"""


def test_a_nan_example_input_is_an_input_error_not_a_failed_check(capsys, tmp_path):
    path = tmp_path / "nanny.py"
    path.write_text(textwrap.dedent(NAN_MODULE))
    code, out, err = run(capsys, "check", f"{path}:f")
    assert code == 2  # an error in the input, not a gradient verdict
    assert "FAIL" not in out + err
    line = next(i for i, t in enumerate(NAN_MODULE.splitlines(), 1) if "# @def" in t)
    assert err.splitlines()[0] == (
        f"error: nanny.py:{line}:1: f is NaN at this input (f(...) = nan), so its gradient "
        "cannot be checked there: argument x holds nan at index 1 (1 of 2)"
    )
