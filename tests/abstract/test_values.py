"""Abstract values: abstraction of concrete values, the join lattice, broadcasting and the
erased call signature, with Hypothesis properties against NumPy."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from symdiff.abstract import table
from symdiff.abstract.values import (
    BOOL,
    FLOAT,
    INT,
    NONE,
    UNKNOWN,
    AbstractValue,
    Extent,
    Kind,
    ShapeError,
    array,
    broadcast,
    broadcast_shapes,
    covers,
    erase,
    join,
    list_of,
    np_scalar,
    of,
    show_shape,
    signature,
    tuple_of,
)

from .test_table import VALUE_DEPENDENT


def test_of_every_kind():
    assert of(1.5) == FLOAT and of(2) == INT and of(True) == BOOL and of(None) == NONE
    assert of(np.float32(1)) == np_scalar(np.float32)  # np.float64 is a float: checked first
    assert of(np.float64(1)) == np_scalar(np.float64)
    assert of(np.ones((2, 1), np.float32)) == array(np.float32, (2, 1))
    assert of((1.0, np.ones(3))) == tuple_of((FLOAT, array(np.float64, (3,))))
    assert of([np.ones(3), np.ones(4)]) == list_of(array(np.float64, (Extent.MANY,)))
    assert of([]) == list_of(None)
    assert of("s") == AbstractValue(Kind.OTHER, pytype="str")


def test_signature_forgets_sizes_but_not_unit_axes():
    a = signature((np.ones((5, 1, 3)), 2.0, np.float32(1)))
    b = signature((np.ones((7, 1, 2)), 3.0, np.float32(2)))
    assert a == b and hash(a) == hash(b)
    assert a[0] == array(np.float64, (Extent.MANY, 1, Extent.MANY))
    assert signature((np.ones((5, 3)),)) != signature((np.ones((5, 1)),))
    assert signature((np.ones(3, np.float32),)) != signature((np.ones(3),))


def test_join_examples():
    assert join(array("f8", (3, 1)), array("f8", (4, 1))) == array("f8", (Extent.MANY, 1))
    assert join(array("f8", (3,)), array("f8", (1,))) == array("f8", (Extent.ANY,))
    assert join(array("f8", (3,)), array("f8", (3, 3))) == array("f8", None)
    assert join(array("f8", (3,)), array("f4", (3,))) == array(None, (3,))
    assert join(FLOAT, array("f8", ())) is UNKNOWN
    assert join(FLOAT, INT) is UNKNOWN
    assert join(tuple_of((FLOAT,)), tuple_of((FLOAT, FLOAT))) == tuple_of(None)
    assert join(list_of(None), list_of(INT)) == list_of(INT)


def test_broadcast_examples():
    assert broadcast(array("f8", (2, 1)), array("f8", (3,))) == (2, 3)
    assert broadcast(erase(array("f8", (2, 1))), FLOAT) == (Extent.MANY, 1)
    assert broadcast_shapes(((Extent.ANY,), (3,))) == (3,)
    assert broadcast_shapes(((Extent.ANY,), (Extent.MANY,))) == (Extent.MANY,)
    assert broadcast_shapes(((Extent.ANY,), (1,))) == (Extent.ANY,)
    assert broadcast_shapes(((2, 3), None)) is None
    with pytest.raises(ShapeError, match=r"shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        broadcast_shapes(((2, 3), (4,)), "a + b")
    assert show_shape((Extent.MANY, 1, Extent.ANY)) == "(n, 1, ?)"


dtypes = st.sampled_from([np.float32, np.float64, np.int64, np.bool_])
arrays = st.builds(
    lambda shape, dt: np.zeros(shape, dt),
    hnp.array_shapes(min_dims=0, max_dims=3, max_side=3),
    dtypes,
)
values = st.one_of(
    arrays, st.floats(allow_nan=False), st.integers(-3, 3), st.booleans(), st.none(),
    dtypes.map(lambda dt: dt(0)),
)  # fmt: skip
abstract = st.one_of(values.map(of), values.map(lambda v: erase(of(v))))


@given(abstract, abstract, abstract)
def test_join_is_a_least_upper_bound(a, b, c):
    assert join(a, b) == join(b, a)
    assert join(a, a) == a
    assert covers(join(a, b), a) and covers(join(a, b), b)
    assert join(join(a, b), c) == join(a, join(b, c))
    assert covers(UNKNOWN, a)


@given(values)
def test_erasing_is_sound(v):
    assert covers(erase(of(v)), of(v))


@given(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=3))
def test_broadcast_agrees_with_numpy(shapes):
    inputs, expected = shapes
    assert broadcast_shapes(inputs) == expected
    erased = broadcast_shapes(erase(array("f8", s)).shape for s in inputs)
    assert covers(array("f8", erased), array("f8", expected))


BINARY = [p for p in table.catalogue() if p.elementwise and p.nargs == 2]


@given(
    st.sampled_from(BINARY),
    hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
    st.sampled_from([np.float32, np.float64, float]),
    st.sampled_from([np.float32, np.float64, float]),
)
def test_elementwise_table_matches_numpy(prim, shapes, t1, t2):
    def make(shape, t):
        return 0.5 if t is float else np.full(shape, 0.5, t)

    x, y = make(shapes.input_shapes[0], t1), make(shapes.input_shapes[1], t2)
    with np.errstate(all="ignore"):
        try:
            truth = of(prim.impl(x, y))
        except (TypeError, ValueError):
            return  # NumPy refuses (bitwise operators on floats, max() of arrays)
    got = table.apply(prim, (of(x), of(y)))
    assert covers(got, truth) if prim in VALUE_DEPENDENT else got == truth
    assert covers(table.apply(prim, signature((x, y))), truth)
