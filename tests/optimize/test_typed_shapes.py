"""optimize.typed_shapes: shape reads the types answer, or read off an argument."""

import itertools

import pytest

from .specialised import agree, body, function, kinds, runs, shape_calls

ARGS = kinds()
SCALARS = ("float", "np_scalar", "zero_d")
PAIRS = [
    (a, b)
    for a, b in itertools.product(("vector", "row", "column", *SCALARS), repeat=2)
    if runs(lambda x, y: x * y, (ARGS[a], ARGS[b]))
]


@pytest.mark.parametrize("a, b", PAIRS)
def test_the_mean_of_a_broadcast_divides_by_a_size_read_off_an_argument(a, b):
    f = function("def f(x, y):\n    return np.mean(x * y - y)\n")
    t = agree(f, (ARGS[a], ARGS[b]), wrt=(0, 1))
    if a == b or a in SCALARS or b in SCALARS:  # no gradient needs the broadcast shape
        assert not shape_calls(t.grad_source), t.grad_source
    if a == b == "vector":
        assert "x.size" in body(t) or "y.size" in body(t), t.grad_source


@pytest.mark.parametrize("other", ["vector", "float", "zero_d", "empty"])
def test_empty_axes_are_not_unit_axes(other):
    f = function("def f(x, y):\n    return np.sum(x * y + x)\n")
    if runs(f, (ARGS["empty"], ARGS[other])):
        agree(f, (ARGS["empty"], ARGS[other]), wrt=(0, 1))


def test_lengths_the_types_fix_are_constants():
    f = function(
        "def f(x):\n    return np.sum(x) / len(x) + x.ndim * np.sum(x) + np.sum(x) / x.size\n"
    )
    row = agree(f, (ARGS["row"],))  # (1, n): len 1, ndim 2; the size is not known
    assert "len(" not in body(row) and ".ndim" not in body(row) and "x.size" in body(row)
    matrix = agree(f, (ARGS["matrix"],))  # (n, n): only the rank is known
    assert "len(x)" in body(matrix) and ".ndim" not in body(matrix)
    unit = agree(f, (ARGS["unit"],))  # (1,): everything is known
    assert "len(" not in body(unit) and ".size" not in body(unit), unit.grad_source


@pytest.mark.parametrize("kind", ["float", "np_scalar", "zero_d"])
def test_the_shape_of_a_scalar_is_empty(kind):
    f = function("def f(x, y):\n    return np.sum(x * y) + np.mean(x * x)\n")
    t = agree(f, (ARGS["vector"], ARGS[kind]), wrt=(0, 1))
    assert not shape_calls(t.grad_source), t.grad_source


def test_broadcast_shapes_of_one_shape_and_those_fitting_it_is_that_shape():
    # np.where's lazy adjoint is broadcast to the shapes of c, x and y: all of one shape
    f = function("def f(x, y):\n    return np.sum(np.where(x > 0, x, y))\n")
    t = agree(f, (ARGS["vector"], ARGS["vector"]), wrt=(0, 1))
    assert not shape_calls(t.grad_source), t.grad_source
    # a row and a matrix: the matrix's shape; a row and a column: neither fits the other
    agree(f, (ARGS["matrix"], ARGS["row"]), wrt=(0, 1))
    agree(f, (ARGS["row"], ARGS["column"]), wrt=(0, 1))


def test_a_shape_read_of_a_value_inside_a_loop_reads_what_is_there():
    f = function(
        "def f(x, y):\n    s = 0.0\n    for i in range(3):\n"
        "        s = s + np.mean(x * y * i)\n    return s\n"
    )
    for a, b in (("vector", "vector"), ("matrix", "row"), ("vector", "float")):
        t = agree(f, (ARGS[a], ARGS[b]), wrt=(0, 1))
        assert not shape_calls(t.grad_source), t.grad_source
