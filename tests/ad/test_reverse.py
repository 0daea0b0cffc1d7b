"""The reverse pass on its own: the forward and backward sweeps of one program per
control-flow shape, kept as golden text, and run by the IR interpreter against central
finite differences (so the golden text is never the only check of what the pass builds).
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from symdiff.ad.reverse import reverse
from symdiff.frontend.lower import lower
from symdiff.frontend.source import from_source, get_source
from symdiff.ir.interpret import run_block
from symdiff.ir.nodes import Const, Pop, Push

from ..golden_ir import assert_golden, format_program
from ..ir_programs import LOWER_CASES, REVERSE_CASES

ROOT = Path(__file__).resolve().parent.parent.parent


def program(name):
    f, _, wrt = LOWER_CASES[name]
    fn, _ = lower(get_source(f), reserved=set())
    return reverse(fn, tuple(fn.params[i] for i in wrt))


def interpret(prog, args):
    """The value and gradients a program computes, read off the IR interpreter."""
    env = dict(zip(prog.params, args, strict=True))
    run_block(prog.forward, env)
    run_block(prog.backward, env)

    def value(a):
        return a.value if isinstance(a, Const) else env[a]

    grads = []
    for g, x in zip(prog.grads, (args[prog.params.index(w)] for w in prog.wrt)):
        g = 0.0 if g is None else value(g)
        if np.ndim(g) == 0:  # a scalar adjoint stands for an array of its value
            g = np.broadcast_to(g, np.shape(x))
        assert np.shape(g) == np.shape(x)
        grads.append(g)
    return value(prog.value), grads


def central_difference(f, args, i, h=1e-6):
    x = np.asarray(args[i], dtype=np.float64)
    out = np.zeros_like(x)
    for k in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[k] += h
        down[k] -= h

        def at(v):
            return f(*args[:i], v if x.ndim else float(v), *args[i + 1 :])

        out[k] = (at(up) - at(down)) / (2 * h)
    return out


@pytest.mark.parametrize("name", REVERSE_CASES)
def test_reverse_pass_matches_golden_text(name):
    assert_golden("reverse", name, format_program(program(name)))


@pytest.mark.parametrize("name", REVERSE_CASES)
def test_reverse_pass_agrees_with_finite_differences(name):
    f, args, wrt = LOWER_CASES[name]
    value, grads = interpret(program(name), args)
    np.testing.assert_allclose(value, f(*args), rtol=1e-15, atol=0)
    for i, g in zip(wrt, grads):
        np.testing.assert_allclose(g, central_difference(f, args, i), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize(
    "name, args",
    [
        ("branch", (0.2,)),  # the other branch
        ("for_with_break", (1.5, 3)),  # the loop ends before the break
        ("for_with_break", (0.5, 0)),  # no iteration at all
        ("while_with_break", (3.0,)),  # the break in the first iteration
    ],
)
def test_reverse_pass_on_the_other_paths(name, args):
    f, _, wrt = LOWER_CASES[name]
    _, grads = interpret(program(name), args)
    for i, g in zip(wrt, grads):
        np.testing.assert_allclose(g, central_difference(f, args, i), rtol=1e-7, atol=1e-9)


def test_a_loop_tapes_its_values_forward_and_pops_them_backward():
    prog = program("while_with_break")

    def walk(block):
        for s in block:
            yield s
            for inner in ("then", "orelse", "body", "cond_block"):
                yield from walk(getattr(s, inner, ()))

    pushes = [s for s in walk(prog.forward) if isinstance(s, Push)]
    pops = [s for s in walk(prog.backward) if isinstance(s, Pop)]
    assert len(pushes) == len(pops) == 1
    assert pushes[0].tape == pops[0].tape
    assert len(pushes[0].values) == len(pops[0].targets)
    assert not [s for s in walk(prog.backward) if isinstance(s, Push)]


def test_an_input_the_result_does_not_read_has_no_gradient():
    f = from_source("def f(x, y):\n    return x * 2.0\n")
    fn, _ = lower(get_source(f), reserved=set())
    prog = reverse(fn, fn.params)
    assert prog.grads[1] is None
    assert interpret(prog, (0.5, 7.0))[1] == [2.0, 0.0]


def test_golden_reverse_pass_does_not_depend_on_the_hash_seed():
    """Set iteration order changes with PYTHONHASHSEED; the sweeps must not."""
    script = (
        "from tests.ad.test_reverse import program\n"
        "from tests.golden_ir import format_program\n"
        "from tests.ir_programs import REVERSE_CASES\n"
        "for name in REVERSE_CASES:\n"
        "    print(format_program(program(name)))\n"
    )
    here = "".join(format_program(program(name)) + "\n" for name in REVERSE_CASES)
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(ROOT))
        out = subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout == here
