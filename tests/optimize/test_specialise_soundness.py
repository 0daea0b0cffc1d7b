"""What could make a typed rewrite wrong for some call with its signature: one test per risk.

A rewrite may rely on the types (kinds, dtypes, ranks, which axes are 1) and on the program
being one that runs, nothing else. The risks found reading ``specialise``, ``typed_broadcast``
and ``typed_linalg``:

- ``unbroadcast(d, x)`` as ``d`` or an ``np.sum`` over the stretched axes assumes ``d`` is
  shaped like the broadcast result: checked on every pairing of ranks and unit axes, with
  0-d arrays, NumPy scalars and zero-length axes (``test_broadcast_pairs``);
- a matrix product's adjoints are picked by rank alone: every rank pairing, stacks and unit
  and zero-length axes (``test_matmul_ranks``);
- a signature erases exact lengths, so one program must serve every length that is not 1
  (zero included), and the signature must tell a length-1 axis apart, because the program
  depends on it (``test_one_program_serves_every_length_but_not_length_one``);
- the analysis types a tangent and a cotangent as the value they pair with (a Python float,
  a 0-d array), while ``jvp``, ``hvp`` and ``vjp`` pass NumPy floats: ``tests.specialised``
  calls every tangent program both ways;
- an accumulator of a Python float starts at ``0.0``: it must still take array-valued and
  NumPy-scalar contributions and stay out of in-place updates (``test_float_accumulators``);
- the scalar check decided from the result's type: a 0-d array result is a scalar, a
  1-element array is refused when the gradient is built, as the generic check refuses it at
  run time (``test_the_scalar_check``);
- tape entries no longer read are dropped from both sweeps: loops whose tapes keep some
  entries and lose others, nested loops and branches inside loops share tapes
  (``test_tapes_lose_only_unread_entries``);
- a dtype the generic helpers widen (a Python-float adjoint of a float32 product) stays the
  argument's (``test_float32_products_keep_their_dtype``);
- a specialised gradient is itself differentiated (``grad`` of it, and ``hvp``): its
  rewritten statements (``np.outer``, ``.T``, ``np.sum(..., keepdims=True)``) must have
  derivatives that agree (``test_a_specialised_gradient_differentiated_again``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from symdiff import check_grad, pipeline
from symdiff.abstract.values import signature
from symdiff.errors import NonScalarOutputError

from ..specialised import compare, same

RNG = np.random.default_rng(11)


def v(*shape: int) -> np.ndarray:
    return RNG.uniform(0.2, 1.5, shape)


def agree(f, args, wrt, modes=("grad", "vjp", "hvp", "jvp")) -> None:
    found = compare(f, args, wrt, modes)
    assert found.ok, "\n".join(found.problems)
    assert set(found.compared) == set(modes), found.refused  # nothing refused: none vacuous


# ----------------------------------------------------------------------------- broadcasting


def products(x, y):
    return np.sum(np.sin(x * y) + x / (y + 2.0) - np.maximum(x, 0.5 * y))


def weighted(x, y):
    return np.sum((x + y) ** 2 * W_WIDE)


W_WIDE = RNG.standard_normal((2, 3, 4))

PAIRS = [
    ((3, 4), (4,)), ((3, 1), (1, 4)), ((1,), (3,)), ((2, 1, 4), (3, 1)), ((1, 1), (3,)),
    ((), (3,)), ((1, 4), ()), ((0, 4), (4,)), ((0, 1), (1, 4)), ((1,), (1,)), ((2, 3, 4), (1,)),
]  # fmt: skip


def _as_kind(shape: tuple[int, ...], kind: str):
    if shape:
        return v(*shape)
    value = float(RNG.uniform(0.2, 1.5))
    return {"float": value, "numpy": np.float64(value), "0-d": np.array(value)}[kind]


@pytest.mark.parametrize("kind", ["float", "numpy", "0-d"])
@pytest.mark.parametrize("xs, ys", PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_broadcast_pairs(xs, ys, kind):
    x, y = _as_kind(xs, kind), _as_kind(ys, kind)
    agree(products, (x, y), (0, 1), ("grad", "vjp") if kind == "float" else ("grad",))


@pytest.mark.parametrize("xs, ys", [((3, 4), (2, 1, 1)), ((1, 1, 4), (3, 1)), ((4,), (2, 3, 1))])
def test_broadcast_against_a_module_array(xs, ys):
    """The weights give every element its own adjoint: a sum over the wrong axis shows."""
    agree(weighted, (v(*xs), v(*ys)), (0, 1), ("grad", "vjp"))


# ----------------------------------------------------------------------------- matmul


def layer(a, b):
    return np.sum(np.tanh(a @ b) * 1.5)


MATMUL = [
    ((3, 4), (4,)), ((3, 4), (4, 2)), ((4,), (4, 2)), ((4,), (4,)), ((1, 4), (4,)),
    ((3, 1), (1,)), ((1, 1), (1, 1)), ((4,), (4, 1)), ((1,), (1, 3)), ((2, 3, 4), (4,)),
    ((4,), (2, 4, 3)), ((2, 3, 4), (4, 5)), ((0, 4), (4,)), ((3, 0), (0,)), ((3, 4), (4, 0)),
]  # fmt: skip


@pytest.mark.parametrize("xs, ys", MATMUL, ids=[f"{a}@{b}" for a, b in MATMUL])
def test_matmul_ranks(xs, ys):
    agree(layer, (v(*xs), v(*ys)), (0, 1), ("grad", "vjp", "jvp"))


def test_matmul_hessian_vector_products():
    for xs, ys in [((3, 4), (4,)), ((4,), (4, 2)), ((4,), (4,)), ((3, 4), (4, 2))]:
        agree(layer, (v(*xs), v(*ys)), 0, ("hvp",))
        agree(layer, (v(*xs), v(*ys)), 1, ("hvp",))


def test_matmul_adjoints_are_the_products_a_person_writes():
    """Not a soundness check: it keeps the tests above from passing on a program the
    rewrites never touched."""
    t = pipeline.transform(layer, (0, 1), args=(v(3, 4), v(4)))
    assert "np.outer(" in t.grad_source and ".T @" in t.grad_source
    assert "matmul_grad" not in t.grad_source


# ----------------------------------------------------------------------------- signatures


def scaled(x, y):
    return np.sum(x * y)


def test_one_program_serves_every_length_but_not_length_one():
    t = pipeline.transform(scaled, (0, 1), args=(v(3), v(3)))
    for n in (0, 2, 7):
        x, y = v(n), v(n)
        assert signature((x, y)) == t.signature
        assert not same(pipeline.transform(scaled, (0, 1)).grad(x, y), t.grad(x, y), 1e-12)
    # a length-1 axis broadcasts, so it is part of the signature: another program
    assert signature((v(1), v(3))) != t.signature
    unit = pipeline.transform(scaled, (0, 1), args=(v(1), v(3)))
    report = check_grad(scaled, v(1), v(3), wrt=(0, 1), grad_fn=unit.grad)
    assert report.ok


# ----------------------------------------------------------------------------- accumulators


def float_into_arrays(x, w, n):
    s = 0.0
    for i in range(n):
        s = s + np.sum(np.tanh(x * w[i]))  # x is a float: its adjoint takes NumPy scalars
    return s * x


def float_read_twice(x, w):
    a = x * w  # an array built from a float
    b = math.sin(x)
    return np.sum(a * b) + x * x


@pytest.mark.parametrize("n", [0, 1, 4])
def test_float_accumulators(n):
    w = v(4, 3)
    agree(float_into_arrays, (0.7, w, n), 0)
    agree(float_read_twice, (0.7, v(3)), 0)
    t = pipeline.transform(float_into_arrays, 0, args=(0.7, w, n))
    g = t.grad(0.7, w, n)
    assert np.ndim(g) == 0, g


# ----------------------------------------------------------------------------- scalar check


def zero_d(x):
    return np.asarray(np.sum(x * x))


def one_element(x):
    return x * 2.0


def test_the_scalar_check():
    x = v(3)
    agree(zero_d, (x,), 0, ("grad",))
    t = pipeline.transform(zero_d, 0, args=(x,))
    assert "ensure_scalar" not in t.value_and_grad_source
    with pytest.raises(NonScalarOutputError, match="shape"):
        pipeline.transform(one_element, 0, args=(v(1),))
    generic = pipeline.transform(one_element, 0)
    with pytest.raises(ValueError, match="scalar"):
        generic.grad(v(1))


# ----------------------------------------------------------------------------- tapes


def tape_mix(x, y, n):
    s = x
    for i in range(n):
        t = s * y  # taped for y's adjoint, and s for t's
        u = np.exp(t) if i % 2 == 0 else t * t  # a branch pushes on the loop's tape too
        s = 0.5 * u + 0.1 * s
    return np.sum(s)


def nested_tapes(x, n, m):
    acc = 0.0 * x
    for i in range(n):
        h = x * (i + 1.0)
        for j in range(m):
            h = np.sin(h) + 0.1 * x
        acc = acc + h * h
    return np.sum(acc)


@pytest.mark.parametrize("n", [0, 1, 3])
def test_tapes_lose_only_unread_entries(n):
    agree(tape_mix, (v(3), v(3), n), (0, 1))
    agree(tape_mix, (v(1), v(3), n), (0, 1), ("grad",))
    agree(nested_tapes, (v(2), n, 2), 0)
    agree(nested_tapes, (0.4, n, 0), 0, ("grad", "vjp"))


# ----------------------------------------------------------------------------- again


def two_floats(x, y):
    return math.exp(x * y) + x * math.sin(y) / (1.0 + y * y)


def test_a_specialised_gradient_differentiated_again():
    args = (0.3, 0.8)
    t = pipeline.transform(two_floats, 0, args=args)
    generic = pipeline.transform(two_floats, 0)
    again = pipeline.transform(t.grad, 0, args=args)  # d2f/dx2, reverse over reverse
    again_generic = pipeline.transform(generic.grad, 0)
    assert not same(again_generic.grad(*args), again.grad(*args), 1e-12)
    h = 1e-5
    fd = (t.grad(args[0] + h, args[1]) - t.grad(args[0] - h, args[1])) / (2 * h)
    assert abs(again.grad(*args) - fd) < 1e-6 * max(1.0, abs(fd))
    agree(layer, (v(3, 4), v(4)), 0, ("hvp",))


def scaled_dot(x, y):
    return (x @ y) * 2.0


def test_float32_products_keep_their_dtype():
    """The adjoint reaching x @ y is the Python float 2.0: the generic helper computes in
    float64 (the API casts back); the specialised d * y stays float32, as a person writes."""
    x, y = v(3).astype(np.float32), v(3).astype(np.float32)
    agree(scaled_dot, (x, y), (0, 1))
    t = pipeline.transform(scaled_dot, (0, 1), args=(x, y))
    assert [g.dtype for g in t.grad(x, y)] == [np.float32, np.float32]
