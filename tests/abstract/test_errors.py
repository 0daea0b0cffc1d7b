"""Definite user errors found by the abstract evaluation, reported at the user's line with
the shapes; the same shapes without known sizes, or in code that may not run, are no error.
"""

import inspect
import os

import numpy as np
import pytest

from symdiff.abstract import table
from symdiff.abstract.call import NOT_CONST
from symdiff.abstract.infer import analyse
from symdiff.abstract.values import ShapeError, of, signature
from symdiff.errors import SymdiffError
from symdiff.frontend.lower import lower
from symdiff.frontend.source import get_source
from symdiff.ir import primitives as P

from . import programs


def lowered(f):
    return lower(get_source(f), reserved=set())[0]


def line_of(f, offset):
    return inspect.getsourcelines(f)[1] + offset


def raised(f, *args):
    with pytest.raises(ShapeError) as info:
        analyse(lowered(f), tuple(of(a) for a in args))
    return info.value


def test_matmul_that_cannot_align_names_the_line_and_the_shapes():
    err = raised(programs.bad_matmul, np.ones((2, 3)), np.ones(4))
    assert isinstance(err, SymdiffError)
    text = str(err)
    where = f"{os.path.basename(programs.__file__)}:{line_of(programs.bad_matmul, 1)}:"
    assert os.path.basename(err.loc.file) + f":{err.loc.line}:" == where
    assert "W @ x: shapes (2, 3) and (4,) do not align" in text
    assert "y = W @ x" in text  # the source line under the message


def test_axis_out_of_range():
    err = raised(programs.bad_axis, np.ones((2, 3)))
    assert err.loc.line == line_of(programs.bad_axis, 1)
    assert "np.sum(W): axis 5 is out of bounds for an array of rank 2" in str(err)


def test_broadcast_mismatch():
    err = raised(programs.bad_broadcast, np.ones((2, 3)), np.ones(4))
    assert "a + b: shapes (2, 3) and (4,) cannot be broadcast together" in str(err)


def test_a_temporary_reads_as_the_expression_it_stands_for():
    err = raised(programs.bad_layer, np.ones((2, 3)), np.ones(3), np.ones(3))
    assert "(W @ x) + b: shapes (2,) and (3,) cannot be broadcast together" in str(err)


def test_reshape_of_the_wrong_size():
    err = raised(programs.bad_reshape, np.ones(6))
    assert "cannot reshape an array of size 6 into (4, 2)" in str(err)


def test_numpy_agrees_that_these_fail():
    for f, args in [
        (programs.bad_matmul, (np.ones((2, 3)), np.ones(4))),
        (programs.bad_axis, (np.ones((2, 3)),)),
        (programs.bad_broadcast, (np.ones((2, 3)), np.ones(4))),
        (programs.bad_reshape, (np.ones(6),)),
    ]:
        with pytest.raises((ValueError, np.exceptions.AxisError)):
            f(*args)


def test_unknown_sizes_are_not_an_error():
    analyse(lowered(programs.bad_matmul), signature((np.ones((2, 3)), np.ones(4))))
    analyse(lowered(programs.bad_broadcast), signature((np.ones((2, 3)), np.ones(4))))


def test_a_unit_axis_against_a_longer_one_is_an_error_even_without_sizes():
    with pytest.raises(ShapeError, match="do not align"):
        analyse(lowered(programs.bad_matmul), signature((np.ones((2, 1)), np.ones(4))))


def test_an_error_in_a_branch_that_may_not_run_is_only_possible():
    W, x = np.ones((2, 3)), np.ones(4)
    result = analyse(lowered(programs.bad_matmul_in_branch), (of(W), of(x)))
    assert programs.bad_matmul_in_branch(W, x) == 4.0  # the branch is not taken
    assert len(result.possible_errors) == 1
    assert "do not align" in str(result.possible_errors[0])


def ones(*shape):
    return np.ones(shape)


DEFINITE = [
    (P.np_concatenate, (ones(2, 3), ones(3, 4)), {}, "do not match"),
    (P.np_stack, (ones(2, 3), ones(2, 4)), {}, "do not match"),
    (P.la_solve, (ones(3, 3), ones(4)), {}, "do not align"),
    (P.la_det, (ones(2, 3),), {}, "not square"),
    (P.np_einsum, ("ij,jk->ik", ones(2, 3), ones(4, 5)), {}, "do not align"),
    (P.np_tensordot, (ones(2, 3), ones(4, 5)), {"axes": 1}, "do not align"),
    (P.np_dot, (ones(2, 3), ones(2, 3)), {}, "do not align"),
    (P.np_reshape, (ones(7), (2, -1)), {}, "cannot reshape"),
    (P.np_split, (ones(7),), {"indices_or_sections": 2}, "equal parts"),
    (P.np_squeeze, (ones(2, 3),), {"axis": 0}, "cannot squeeze"),
    (P.np_sum, (ones(2, 3),), {"axis": -3}, "out of bounds"),
    (P.np_transpose, (ones(2, 3),), {"axes": (0, 2)}, "out of bounds"),
    (P.np_broadcast_to, (ones(3), (2, 4)), {}, "cannot broadcast"),
    (P.getitem, (ones(2, 3), 5), {"index": (("at", 0),)}, "out of bounds"),
    (P.getitem, (ones(3), 0, 0), {"index": (("tuple",), ("at", 0), ("at", 1))}, "too many"),
    (P.getitem, (ones(3), ones(4) > 0), {"index": (("at", 0),)}, "does not match"),
    (P.add, (ones(2, 3), ones(2)), {}, "cannot be broadcast"),
    (P.np_where, (ones(3) > 0, ones(2), 1.0), {}, "cannot be broadcast"),
]


@pytest.mark.parametrize("prim,args,params,message", DEFINITE, ids=lambda v: str(v)[:30])
def test_definite_errors_of_the_table_are_errors_in_numpy_too(prim, args, params, message):
    with pytest.raises((ValueError, IndexError)):
        prim.impl(*args, **params)
    consts = tuple(a if not isinstance(a, np.ndarray) else NOT_CONST for a in args)
    abstract = tuple(of(a) for a in args)
    with pytest.raises(ShapeError, match=message):
        table.apply(prim, abstract, consts, dict(params))
