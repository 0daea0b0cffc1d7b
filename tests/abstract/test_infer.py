"""Inference over lowered programs against the values the IR interpreter produces.

Every variable the interpreter binds must be described soundly by the inferred value
(``covers``), from the exact abstract arguments and from the erased signature alike; in
straight-line code without value-dependent steps the description is exact.
"""

import numpy as np
import pytest

from symdiff.abstract import infer as infer_module
from symdiff.abstract.infer import analyse, infer
from symdiff.abstract.values import (
    FLOAT,
    INT,
    UNKNOWN,
    Extent,
    Kind,
    array,
    covers,
    list_of,
    of,
    signature,
    tuple_of,
)
from symdiff.frontend.lower import lower
from symdiff.frontend.source import get_source
from symdiff.ir import primitives as P
from symdiff.ir.interpret import run_block
from symdiff.ir.nodes import Assign, Function, Pop, Push, Var

from ..ir.test_nodes import every_statement
from .programs import INFER_CASES


def lowered(f):
    return lower(get_source(f), reserved=set())[0]


def interpreted(fn, args):
    env = dict(zip(fn.params, args))
    run_block(fn.body, env)
    return env


CASES = [(name, k) for name, (_, arg_sets) in INFER_CASES.items() for k in range(len(arg_sets))]


@pytest.mark.parametrize("name,k", CASES)
def test_inferred_values_describe_every_interpreted_value(name, k):
    f, arg_sets = INFER_CASES[name]
    args = arg_sets[k]
    fn = lowered(f)
    env = interpreted(fn, args)
    for abstract_args in (tuple(of(a) for a in args), signature(args)):
        values = infer(fn, abstract_args)
        for var, value in env.items():
            assert var in values, var
            assert covers(values[var], of(value)), (var, str(values[var]), str(of(value)))


def test_straight_line_is_exact():
    f, arg_sets = INFER_CASES["shapes_and_reductions"]
    fn = lowered(f)
    for args in arg_sets:
        env = interpreted(fn, args)
        values = infer(fn, tuple(of(a) for a in args))
        for var, value in env.items():
            assert values[var] == of(value), (var, str(values[var]), str(of(value)))


def test_signature_keeps_unit_axes_and_rank_only():
    fn = lowered(INFER_CASES["layer"][0])
    W, x, b = np.ones((2, 3)), np.ones((3, 1)), np.ones((2, 1))
    values = infer(fn, signature((W, x, b)))
    h = next(v for v in values if v.name.startswith("%t") and values[v].rank == 2)
    assert values[h] == array(np.float64, (Extent.MANY, 1))
    assert values[Var("layer")] == array(np.float64, ()).__class__(Kind.NP_SCALAR, np.dtype("f8"))


def test_branch_joins_the_phis():
    fn = lowered(INFER_CASES["branch_same_kind"][0])
    values = infer(fn, (of(np.ones(4)),))
    assert values[Var("y_2")] == array(np.float64, (2,))
    fn = lowered(INFER_CASES["branch_kind_differs"][0])
    values = infer(fn, (of(np.ones(4)),))
    assert values[Var("y_2")] is UNKNOWN  # an array on one side, a NumPy scalar on the other


def test_loop_fixed_points():
    x = of(np.ones(3))
    values = infer(lowered(INFER_CASES["loop_stable"][0]), (x, INT))
    assert values[Var("s_2")] == array(np.float64, (3,))
    values = infer(lowered(INFER_CASES["loop_kind_changes"][0]), (x, INT))
    assert values[Var("acc_2")] is UNKNOWN  # 0.0 (no trip) or an array
    values = infer(lowered(INFER_CASES["loop_rank_grows"][0]), (x, INT))
    out = values[Var("y_2")]
    assert out.kind is Kind.ARRAY and out.shape is None and out.dtype == np.float64
    values = infer(lowered(INFER_CASES["while_halving"][0]), (x,))
    assert values[Var("y_2")] == array(np.float64, (3,)) and values[Var("k_2")] == INT
    values = infer(lowered(INFER_CASES["list_in_loop"][0]), (x, INT))
    assert values[Var("xs_3")] == list_of(array(np.float64, (3,)))
    assert values[Var("%t2")] == array(np.float64, (Extent.ANY, 3))


def test_a_loop_that_does_not_settle_is_widened(monkeypatch):
    monkeypatch.setattr(infer_module, "MAX_ROUNDS", 1)
    values = infer(lowered(INFER_CASES["loop_rank_grows"][0]), (of(np.ones((2, 2))), INT))
    assert covers(values[Var("y_2")], of(np.ones((1, 1, 2, 2))))


def test_tapes_carry_what_was_pushed():
    fn = every_statement()
    values = infer(fn, (FLOAT, INT))
    assert values[Var("tape")] == list_of(tuple_of((FLOAT,)))
    assert values[Var("p")] == FLOAT
    assert values[Var("k_out")] == INT
    assert values[Var("out")] == of(np.float64(1.0))
    env = interpreted(fn, (0.5, 3))
    for var, value in env.items():
        assert covers(values[var], of(value)), var


def test_a_pop_from_a_tape_of_tuples_of_different_lengths_is_unknown():
    x, t = Var("x"), Var("tape")
    body = (
        Assign(t, P.new_tape, ()),
        Push(t, (x,)),
        Push(t, (x, x)),
        Pop(t, (Var("a"), Var("b"))),
    )
    fn = Function("f", (x,), body, Var("a"))
    values = infer(fn, (FLOAT,))
    assert values[t] == list_of(tuple_of(None))
    assert values[Var("a")] is UNKNOWN and values[Var("b")] is UNKNOWN


def test_wrong_number_of_arguments():
    with pytest.raises(TypeError):
        analyse(lowered(INFER_CASES["layer"][0]), (FLOAT,))
