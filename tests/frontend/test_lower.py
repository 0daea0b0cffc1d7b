"""Lowering, stage by stage: the IR of one program per source shape, kept as golden text.

The golden file says *how* a program is lowered (names, temporaries, phis, loop carries,
inlined helpers); the interpreter run says the IR still *means* the Python function, so an
update of a golden file cannot hide a lowering that computes something else.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from symdiff.frontend.lower import lower
from symdiff.frontend.source import get_source
from symdiff.ir.check import check
from symdiff.ir.interpret import run
from symdiff.ir.nodes import Assign, If, Loop, iter_assigns
from symdiff.ir.printer import pformat

from .. import ir_programs
from ..golden_ir import assert_golden
from ..ir_programs import LOWER_CASES

ROOT = Path(__file__).resolve().parent.parent.parent


def lowered(name):
    f = LOWER_CASES[name][0]
    return lower(get_source(f), reserved=set())


@pytest.mark.parametrize("name", sorted(LOWER_CASES))
def test_lowered_ir_matches_golden_text(name):
    fn, _ = lowered(name)
    assert_golden("lower", name, pformat(fn))


@pytest.mark.parametrize("name", sorted(LOWER_CASES))
def test_lowered_ir_is_well_formed_and_computes_the_function(name):
    f, args, _ = LOWER_CASES[name]
    fn, _ = lowered(name)
    check(fn)
    np.testing.assert_allclose(run(fn, *args), f(*args), rtol=1e-15, atol=0)


@pytest.mark.parametrize("name", sorted(LOWER_CASES))
def test_lowering_twice_gives_the_same_text(name):
    assert pformat(lowered(name)[0]) == pformat(lowered(name)[0])


def test_golden_ir_does_not_depend_on_the_hash_seed():
    """Set iteration order changes with PYTHONHASHSEED; the printed IR must not."""
    script = (
        "from tests.ir_programs import LOWER_CASES\n"
        "from symdiff.frontend.lower import lower\n"
        "from symdiff.frontend.source import get_source\n"
        "from symdiff.ir.printer import pformat\n"
        "for name in sorted(LOWER_CASES):\n"
        "    print(pformat(lower(get_source(LOWER_CASES[name][0]), reserved=set())[0]))\n"
    )
    here = "\n".join(pformat(lowered(name)[0]) for name in sorted(LOWER_CASES)) + "\n"
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(ROOT))
        out = subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout == here


def test_a_branch_becomes_an_if_with_one_phi_per_assigned_name():
    fn, _ = lowered("branch")
    (stmt,) = [s for s in fn.body if isinstance(s, If)]
    assert [p.target.name for p in stmt.phis] == ["y_2"]
    assert run(fn, 0.2) == ir_programs.branch(0.2)  # the other branch, through the phi


def test_a_break_sets_the_loop_exit_and_stops_it():
    fn, _ = lowered("for_with_break")
    (loop,) = [s for s in fn.body if isinstance(s, Loop)]
    assert loop.kind == "range" and loop.exit is not None
    # 1.5 * (0 + 1 + 2 + 3) = 9.0, then 9.0 + 6.0 > 10: the loop stops after i = 4
    assert run(fn, 1.5, 100) == 15.0 == ir_programs.for_with_break(1.5, 100)
    fn, _ = lowered("while_with_break")
    (loop,) = [s for s in fn.body if isinstance(s, Loop)]
    assert loop.kind == "while" and loop.exit is not None and loop.cond is not None
    for x in (0.3, 3.0):  # tanh(3.0) * 2 > 1.9: the break is taken in the first iteration
        assert run(fn, x) == ir_programs.while_with_break(x)


def test_a_helper_is_inlined_and_reported():
    fn, helpers = lowered("helper_inlined")
    assert [h.name for h in helpers] == ["_square_plus"]
    assert [a.prim.name for a in iter_assigns(fn.body)] == ["mul", "add", "mul"]


def test_tuple_unpacking_leaves_no_tuple_in_the_ir():
    fn, _ = lowered("tuple_unpacking")
    assert all(isinstance(s, Assign) for s in fn.body)
    assert run(fn, 0.6, -0.2) == ir_programs.tuple_unpacking(0.6, -0.2)


def test_an_index_update_is_a_setitem_on_a_new_version():
    fn, _ = lowered("index_update")
    updates = [a for a in iter_assigns(fn.body) if a.prim.name == "setitem"]
    assert [u.target.name for u in updates] == ["y_1", "y_2"]
    assert updates[1].args[0] == updates[0].target  # the second update reads the first's copy


def test_a_list_append_in_a_loop_is_loop_carried_state():
    fn, _ = lowered("list_append")
    (loop,) = [s for s in fn.body if isinstance(s, Loop)]
    assert [c.var.name for c in loop.carries] == ["ys_1"]
    assert [a.prim.name for a in iter_assigns(loop.body)] == ["mul", "list_append"]
