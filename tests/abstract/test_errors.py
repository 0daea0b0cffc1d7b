"""Definite user errors found by the abstract evaluation, reported at the user's line with
the shapes; the same shapes without known sizes, or in code that may not run, are no error.
"""

import inspect
import os

import numpy as np
import pytest

from symdiff.abstract.infer import analyse
from symdiff.abstract.values import ShapeError, of, signature
from symdiff.errors import SymdiffError
from symdiff.frontend.lower import lower
from symdiff.frontend.source import get_source

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
