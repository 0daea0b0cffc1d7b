"""Forward mode (jvp): tangent programs against finite differences and against reverse mode.

The tangent program must be a real forward pass: no tape, the loops of ``f`` with their
tangents carried next to the state, branches kept as branches. Every tangent has the shape
of its value, zero tangents included.
"""

import math

import numpy as np
import pytest

import symdiff
from symdiff import InputError, NonDifferentiableError, NonScalarOutputError, jvp, vjp
from symdiff.ad.tangents import TANGENTS
from symdiff.backend.fmt import format_source

RNG = np.random.default_rng(7)


def fd_directional(f, args, pos, v, h=1e-6):
    """(f(x + h v) - f(x - h v)) / 2h for argument ``pos``."""
    plus, minus = list(args), list(args)
    plus[pos] = args[pos] + h * v
    minus[pos] = args[pos] - h * v
    return (np.asarray(f(*plus)) - np.asarray(f(*minus))) / (2 * h)


# ----------------------------------------------------------------------------- functions


def elementwise(x, b):
    return np.tanh(x) * np.exp(-(x**2)) / (1.0 + b * b) + np.log1p(x * x) - np.sqrt(2.0 + x)


def reductions(x):
    return np.sum(x**2, axis=0) / np.max(x) + np.mean(np.abs(x), axis=1, keepdims=True)


def products(W, x, b):
    h = np.maximum(W @ x + b, 0.0)
    return np.outer(h, x) @ x + np.dot(h, h) * np.ones(3)


def indexing(x):
    y = np.zeros(4)
    y[1:3] = x[::2] * 2.0
    y[0] = np.sum(x)
    return np.concatenate([y, x[1:] ** 3, np.stack([x[0], x[-1]])])


def selection(x):
    return np.where(x > 0.2, np.sin(x), x * x) + np.clip(x, -0.5, 0.5) + np.minimum(x, 0.3)


def branchy(x, c):
    if c > 0:
        y = x * x
    else:
        y = np.cos(x)
    return y * c


def for_loop(x, n):
    s = x
    for i in range(n):
        s = np.sin(s) * x + i
    return s


def while_loop(x):
    y = x
    while np.sum(y * y) < 20.0:
        y = 1.3 * y + 0.1
    return y


def early_break(x):
    s = 0.0
    for i in range(10):
        s = s + x[i] ** 2
        if s > 2.0:
            break
    return s * x


def broadcast_constant(x, B):
    return x + B  # x is (3,), B is (2, 3): the tangent of x must become (2, 3)


def linalg(A, b):
    return np.linalg.solve(A, b) + np.linalg.inv(A) @ b * np.linalg.det(A)


def reorderings(x):
    X = np.reshape(x, (2, 3))
    return np.sort(x) * np.arange(6.0) + np.ravel(np.sort(X, axis=0) * X) + np.partition(x, 2)


def factorizations(x):
    X = np.reshape(x, (3, 3))
    A = X @ X.T + 3.0 * np.eye(3)
    B = X + X.T + np.tril(X)  # not symmetric: eigvalsh reads one triangle
    w, v = np.linalg.eigh(A)
    return (
        np.linalg.cholesky(A) @ np.ones(3)
        + np.linalg.eigvalsh(A) ** 2
        + np.linalg.eigvalsh(B, UPLO="U") * np.arange(3.0)
        + w * (v * v) @ np.arange(1.0, 4.0)  # v * v: free of the eigenvectors' sign
    )


CASES = [
    (elementwise, lambda: (RNG.normal(size=5), 0.7), 0),
    (elementwise, lambda: (RNG.normal(size=5), 0.7), 1),
    (reductions, lambda: (RNG.normal(size=(3, 4)),), 0),
    (products, lambda: (RNG.normal(size=(3, 4)), RNG.normal(size=4), RNG.normal(size=3)), 0),
    (products, lambda: (RNG.normal(size=(3, 4)), RNG.normal(size=4), RNG.normal(size=3)), 1),
    (indexing, lambda: (RNG.normal(size=4),), 0),
    (selection, lambda: (np.array([-1.0, 0.1, 0.4, 0.9]),), 0),
    (branchy, lambda: (RNG.normal(size=3), 2.0), 0),
    (branchy, lambda: (RNG.normal(size=3), -1.0), 0),
    (for_loop, lambda: (0.4, 4), 0),
    (while_loop, lambda: (np.array([0.3, -0.2]),), 0),
    (early_break, lambda: (np.linspace(0.2, 1.1, 10),), 0),
    (broadcast_constant, lambda: (RNG.normal(size=3), RNG.normal(size=(2, 3))), 0),
    (linalg, lambda: (np.eye(3) * 2.0 + RNG.normal(size=(3, 3)) * 0.3, RNG.normal(size=3)), 0),
    (reorderings, lambda: (RNG.permutation(6) * 0.5 - 1.2,), 0),  # distinct: no ties
    (factorizations, lambda: (RNG.normal(size=9),), 0),
]


@pytest.mark.parametrize("f, make, pos", CASES, ids=lambda c: getattr(c, "__name__", str(c)))
def test_jvp_agrees_with_finite_differences(f, make, pos):
    args = make()
    v = RNG.normal(size=np.shape(args[pos]))
    v = v if np.ndim(v) else float(v)
    value, tangent = jvp(f, wrt=pos)(*args, v)
    np.testing.assert_allclose(value, f(*args), rtol=1e-13, atol=1e-13)
    assert np.shape(tangent) == np.shape(value)
    np.testing.assert_allclose(tangent, fd_directional(f, args, pos, v), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("f, make, pos", CASES[:8], ids=lambda c: getattr(c, "__name__", str(c)))
def test_jvp_and_vjp_are_transposes(f, make, pos):
    """<u, J v> = <Jᵀ u, v>: forward and reverse mode compute the same Jacobian."""
    args = make()
    v = RNG.normal(size=np.shape(args[pos]))
    value, tangent = jvp(f, wrt=pos)(*args, v)
    u = RNG.normal(size=np.shape(value))
    _, pullback = vjp(f, wrt=pos)(*args)
    assert np.vdot(u, tangent) == pytest.approx(np.vdot(pullback(u), v), rel=1e-12, abs=1e-12)


def test_loops_carry_tangents_without_a_tape():
    source = jvp(for_loop).source
    assert "tape" not in source and ".pop()" not in source
    assert "for i in range(n):" in source
    assert "s_dot" in source and "def for_loop_jvp(x, n, x_dot):" in source
    assert format_source(source) == source
    assert "while" in jvp(while_loop).source


def test_branches_keep_their_structure_and_constant_branches_give_zero():
    def f(x, c):
        if c > 0:
            y = x * 3.0
        else:
            y = np.ones(2)
        return y

    fj = jvp(f)
    assert "if " in fj.source and "np.zeros_like" in fj.source
    _, t = fj(np.array([1.0, 2.0]), -1.0, np.array([5.0, 7.0]))
    assert t.shape == (2,) and not t.any()
    _, t = fj(np.array([1.0, 2.0]), 1.0, np.array([5.0, 7.0]))
    np.testing.assert_array_equal(t, [15.0, 21.0])


def test_constant_output_has_zero_tangent_of_its_shape():
    def f(x, W):
        return W @ np.ones(3) + 0.0 * np.size(x)

    value, t = jvp(f)(np.ones(2), np.ones((4, 3)), np.ones(2))
    assert t.shape == value.shape == (4,) and not t.any()


def test_several_wrt_arguments_take_several_tangents():
    f = lambda_free_product
    x, y = RNG.normal(size=3), RNG.normal(size=3)
    vx, vy = RNG.normal(size=3), RNG.normal(size=3)
    value, t = jvp(f, wrt=("x", "y"))(x, y, vx, vy)
    expected = fd_directional(lambda s: f(x + s * vx, y + s * vy), (0.0,), 0, 1.0)
    np.testing.assert_allclose(t, expected, rtol=1e-6)


def lambda_free_product(x, y):
    return np.sum(x * y) * x


def test_scalar_inputs_give_python_floats_and_tangents_are_never_the_callers_array():
    _, t = jvp(lambda_free_math)(0.3, 1.0)
    assert type(t) is float and t == pytest.approx(math.cos(0.3) * 2 + 1.0)
    v = np.array([1.0, 2.0])
    _, t = jvp(identity)(np.zeros(2), v)
    assert t is not v and np.array_equal(t, v)


def lambda_free_math(x):
    return math.sin(x) * 2.0 + x


def identity(x):
    return x


def test_tangent_shape_is_checked():
    with pytest.raises(InputError, match="shape"):
        jvp(identity)(np.zeros(3), np.zeros(2))


def test_operations_without_a_tangent_rule_are_refused_with_their_line():
    def singular(a):
        u, s, vh = np.linalg.svd(a)
        return s

    with pytest.raises(NonDifferentiableError, match="forward-mode") as info:
        jvp(singular)
    assert info.value.loc is not None and "svd" in info.value.loc.text


def test_tuple_results_are_refused():
    def pair(x):
        return x, x * 2.0

    with pytest.raises(NonScalarOutputError):
        jvp(pair)


def test_the_tangent_table_covers_the_common_primitives():
    from symdiff.ir import primitives as P

    for prim in (P.add, P.mul, P.np_exp, P.np_sum, P.matmul, P.getitem, P.setitem, P.np_where,
                 P.unbroadcast, P.matmul_grad_a, P.index_grad, P.index_add, P.scalar_checked):  # fmt: skip
        assert prim in TANGENTS, prim.name


def test_jvp_is_cached_and_reused():
    a = jvp(elementwise)
    b = jvp(elementwise)
    assert a.transformed is b.transformed


def test_decorator_forms():
    @symdiff.jvp(wrt="x")
    def f(x, k):
        return x**3 * k

    value, t = f(2.0, 3.0, 1.0)
    assert value == 24.0 and t == pytest.approx(36.0)


def sum_of_a_tuple(x, b):
    v = np.sum((x[1] * np.ones(4), b))  # b does not vary: its item of the tangent is missing
    return np.tanh(v) + np.sum(np.stack((x[0] * b, b)))


def test_a_tuple_read_as_an_array_gets_real_zeros():
    """Found by the higher-order fuzz campaign: the tangent of (a, b) with b constant was
    (d_a, None), and np.sum of it raised inside the generated code."""
    x, b = np.array([0.3, -0.7]), np.array([0.5, 1.0, -2.0, 0.1])
    v = np.array([1.0, 2.0])
    value, tangent = jvp(sum_of_a_tuple)(x, b, v)
    g = symdiff.grad(sum_of_a_tuple)(x, b)
    assert tangent == pytest.approx(float(np.dot(g, v)), rel=1e-12)
    assert value == pytest.approx(sum_of_a_tuple(x, b), rel=1e-15)
