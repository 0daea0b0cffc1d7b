"""Branches for tracing backends: decided while tracing, written as where, or refused."""

from __future__ import annotations

import numpy as np
import pytest

from symdiff import pipeline
from symdiff.backend import targets
from symdiff.backend.targets.branches import MAX_SIDE, static_vars, traceable
from symdiff.errors import BackendError
from symdiff.ir import primitives as P
from symdiff.ir.nodes import Assign, If, Var


def on_shape_and_value(x):
    n = x.shape[0]
    s = np.sum(x)
    if n > 2:
        s = s * 2.0
    if s > 0.0:
        s = s * s
    return s


def long_side(x):
    s = np.sum(x)
    if s > 0.0:
        for _ in range(2):
            s = np.sin(s)
    return s


def test_shapes_are_static_and_values_are_not() -> None:
    prog = pipeline.transform(on_shape_and_value, 0).program
    static = static_vars(prog.forward + prog.backward)
    assert Var("n") in static and Var("s") not in static


def test_only_the_data_dependent_branch_becomes_where() -> None:
    prog = pipeline.transform(on_shape_and_value, 0).program
    out = traceable(prog, targets.get("jax"))
    ifs = [s for s in out.forward if isinstance(s, If)]
    assert len(ifs) == 1  # the branch on n stays: a tracer knows shapes
    wheres = [s for s in out.forward if isinstance(s, Assign) and s.prim is P.np_where]
    assert len(wheres) == 1


def test_a_side_that_cannot_be_computed_both_ways_is_refused() -> None:
    prog = pipeline.transform(long_side, 0).program
    with pytest.raises(BackendError, match="a side holds a loop") as info:
        traceable(prog, targets.get("dask"))
    assert "if s > 0.0:" in str(info.value) and MAX_SIDE > 0
