"""optimize.typed: the facts about types every rewrite relies on, and the specialised
gradients of the seed, batched and scalar cases kept as golden files.

Set SYMDIFF_UPDATE_GOLDEN=1 to rewrite the golden files after an intended change, then
review the diff: the text must read as a careful person would write it.
"""

import os
from pathlib import Path

import numpy as np
import pytest

from symdiff.abstract.values import FLOAT, Extent, array, np_scalar
from symdiff.ir import primitives as P
from symdiff.ir.nodes import Assign, Const, If, Loop, Var
from symdiff.optimize.typed import (
    combined,
    covering,
    fits,
    number,
    same_type,
    scopes,
    value_key,
)
from symdiff.pipeline import transform

from ..golden_cases import SPECIALISED
from .specialised import agree, helper_calls, shape_calls

GOLDEN = Path(__file__).parent.parent / "golden" / "specialised"
UPDATE = os.environ.get("SYMDIFF_UPDATE_GOLDEN") == "1"
N, ANY = Extent.MANY, Extent.ANY


def test_a_shape_fits_another_when_broadcasting_leaves_the_other_as_it_is():
    assert fits((N,), (N,)) and fits((1, N), (N, N)) and fits((), (N, 1))
    assert fits((N,), (2, N)) and fits((ANY,), (N,)) and fits((3,), (3,))
    assert not fits((N, 1), (1, N))  # the broadcast is neither
    assert not fits((N,), (ANY,))  # the other may be 1, then the result is n
    assert not fits((N, N), (N,)) and not fits(None, (N,))
    assert covering([(N, 1), (1,), (N, N)]) == 2 and covering([(N, 1), (1, N)]) is None


def test_results_stand_for_each_other_only_with_the_same_kind_dtype_and_rank():
    f64 = array(np.float64, (N,))
    assert same_type(f64, array(np.float64, (ANY,)))
    assert not same_type(f64, array(np.float32, (N,)))
    assert not same_type(f64, array(np.float64, (N, 1)))
    assert not same_type(np_scalar(np.float64), FLOAT)  # a NumPy scalar is not weak
    assert not same_type(array(np.float64, ()), np_scalar(np.float64))


def test_one_and_one_point_zero_are_one_number_but_minus_zero_is_not_zero():
    assert number(Const(1)) == number(Const(1.0)) == 1.0
    assert number(Const(True)) is None and number(Const(2**60 + 1)) is None
    assert value_key(Const(1)) == value_key(Const(1.0))
    assert value_key(Const(0.0)) != value_key(Const(-0.0))
    assert value_key(Const(0.1, "ALPHA")) == value_key(Const(0.1))


def test_scopes_tell_a_value_defined_on_every_path_from_one_in_a_branch():
    a, b, c, d = Var("a"), Var("b"), Var("c"), Var("d")
    branch = If(Var("flag"), (Assign(b, P.neg, (a,)),), (Assign(c, P.neg, (a,)),), ())
    loop = Loop("range", (Const(0), Const(3)), None, (), (Assign(d, P.neg, (a,)),))
    where = scopes((Assign(a, P.neg, (Var("x"),)), branch), (loop,))
    assert where[a] == ()  # the top level of the forward sweep reaches everything
    assert len({where[b], where[c], where[d]}) == 3 and all(where[v] for v in (b, c, d))


def test_combined_tables_offer_a_statement_to_each_rewrite_in_turn():
    def never(stmt, types):
        return None

    def always(stmt, types):
        return Const(1.0)

    table = combined({P.add: never}, {P.add: always, P.mul: never})
    assert table[P.add](Assign(Var("t"), P.add, (Const(1), Const(2))), None) == Const(1.0)
    assert table[P.mul] is never


# ----------------------------------------------------------------------------- golden


@pytest.mark.parametrize("name", sorted(SPECIALISED))
def test_specialised_gradient_matches_golden_file(name):
    f, wrt, args = SPECIALISED[name]
    source = transform(f, wrt, args=args).grad_source
    path = GOLDEN / f"{name}.py"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    assert path.exists(), f"no golden file for {name}: run with SYMDIFF_UPDATE_GOLDEN=1"
    assert source == path.read_text(), (
        f"specialised source of {name} changed; if intended, rerun with SYMDIFF_UPDATE_GOLDEN=1 "
        "and review the diff"
    )


@pytest.mark.parametrize("name", sorted(SPECIALISED))
def test_specialised_gradient_calls_no_helper_and_computes_no_shape(name):
    f, wrt, args = SPECIALISED[name]
    t = agree(f, args, wrt)
    assert not helper_calls(t.grad_source) and not shape_calls(t.grad_source), t.grad_source
    assert "ensure_scalar" not in t.grad_source and "np.zeros_like" not in t.grad_source
