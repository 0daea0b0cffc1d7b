"""The C backend's output: what it computes (against symdiff's NumPy gradient, 1e-12) and
how it reads (names, comments, one statement per line, fixed-size storage, math.h only)."""

import math
import re

import numpy as np
import pytest

import symdiff
from symdiff import CBackendError

from .compiling import STRICT, agree, compare, needs_cc

rng = np.random.default_rng(19)


def scalar_loop(x):
    y = x
    for _ in range(50):
        y = y * math.cos(y) + 0.1 * math.sin(x)
    return y


def coupled(x, z):
    y = x
    for _ in range(20):
        y = math.sin(y) * z + 0.1 * x
        z = math.cos(z) + 0.3 * y
    return y * z


def branchy(x, y):
    if x > y:
        r = x * y
    elif x > 0.0:
        r = math.exp(x) - y
    else:
        r = math.sin(x)
    return r


def dense(W, x, b):
    z = W @ x + b
    a = 1.0 / (1.0 + np.exp(-z))
    return np.sum(a**2)


def softmax_xent(z, y):
    m = np.max(z)
    e = np.exp(z - m)
    return -np.sum(y * np.log(e / np.sum(e)))


def batch_mlp(W1, b1, W2, X):
    H = np.tanh(X @ W1 + b1)
    return np.mean((H @ W2) ** 2)


def rows_and_slices(A, x):
    return np.sum(A[1:, ::2] * 2.0) + np.dot(A[0], x) * x[-1] + np.sum(np.max(A, axis=1))


def axis_reductions(A):
    return np.sum(np.mean(A, axis=0) ** 2) + np.sum(np.min(A, axis=1, keepdims=True) * A)


def rnn(Wx, Wh, xs, h0):
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(Wx @ xs[t] + Wh @ h)
    return np.sum(h**2)


def babylon(a: float):
    x = a
    while abs(x * x - a) > 1e-12 * a:
        x = 0.5 * (x + a / x)
    return x


def outer_transpose(u, v, M):
    return np.sum(np.outer(u, v) * M.T) + np.sum(M @ M.T)


def early_exit(x, n):
    y = x
    for _ in range(n):
        y = y * 0.9 + math.sin(y)
        if y > 3.0:
            break
    return y


def swapped(a, b):
    for _ in range(5):
        a, b = b, a * b + 0.1
    return a + 2.0 * b


def row_sums(X, w):
    total = 0.0
    for t in range(X.shape[0]):
        total = total + np.tanh(np.dot(X[t], w))
    return total


def assigned(x):
    y = np.zeros(3)
    y[0] = x[1] * 2.0
    y[2] = x[0] * x[2]
    return np.sum(y * y)


def one_sided_clips(x):
    return np.sum(np.clip(x, None, 0.5) ** 2) + np.sum(np.clip(x, -0.2, None))


def independent(x, y):
    return y * 3.0


K = np.array([[1.0, 2.0, 0.5], [0.3, -1.0, 2.0]])


def module_table(x):
    return np.sum(np.tanh(K @ x + 0.1) * K[:, 0])


def run_time_bound(n, x):
    y = x
    for _ in range(n):
        y = math.sin(y) + x
    return y


CASES = [
    (scalar_loop, (0.3,), 0),
    (coupled, (0.4, 0.7), (0, 1)),
    (branchy, (1.5, 0.5), (0, 1)),
    (branchy, (0.5, 1.5), (0, 1)),
    (branchy, (-0.5, 1.5), (0, 1)),
    (dense, (rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=3)), (0, 1, 2)),
    (softmax_xent, (rng.normal(size=5), rng.random(5)), (0, 1)),
    (batch_mlp, (rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=(3, 2)),
                 rng.normal(size=(5, 4))), (0, 1, 2, 3)),
    (rows_and_slices, (rng.normal(size=(3, 4)), rng.normal(size=4)), (0, 1)),
    (axis_reductions, (rng.normal(size=(3, 4)),), 0),
    (rnn, (rng.normal(size=(3, 2)) * 0.5, rng.normal(size=(3, 3)) * 0.5, rng.normal(size=(4, 2)),
           rng.normal(size=3)), (0, 1, 2, 3)),
    (babylon, (2.0,), 0),
    (outer_transpose, (rng.normal(size=3), rng.normal(size=2), rng.normal(size=(2, 3))),
     (0, 1, 2)),
    (run_time_bound, (7, 0.2), 1),
    (module_table, (rng.normal(size=3),), 0),
    (early_exit, (0.3, 10), 0),
    (early_exit, (2.9, 10), 0),
    (swapped, (0.3, 0.4), (0, 1)),
    (row_sums, (rng.normal(size=(4, 3)), rng.normal(size=3)), (0, 1)),
    (assigned, (rng.normal(size=3),), 0),
    (independent, (1.0, 2.0), (0, 1)),
    (one_sided_clips, (np.array([-1.0, 0.1, 0.7, 0.3]),), 0),
]  # fmt: skip


@needs_cc
@pytest.mark.parametrize("f, args, wrt", CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_agrees_with_the_numpy_gradient(f, args, wrt):
    got, ref = compare(f, *args, wrt=wrt)
    assert agree(got, ref), (got, ref)


@needs_cc
def test_value_and_grad_returns_the_value():
    g = symdiff.c_grad(coupled, wrt=(0, 1), cflags=STRICT)
    value, grads = g.value_and_grad(0.4, 0.7)
    assert value == pytest.approx(coupled(0.4, 0.7), rel=1e-14, abs=1e-14)
    assert agree(grads, symdiff.grad(coupled, wrt=(0, 1))(0.4, 0.7))


def test_the_scalar_loop_reads_like_the_python_gradient():
    code = symdiff.emit_c(scalar_loop, 0.3)
    src = code.source
    assert "#include <math.h>" in src and src.count("#include") == 1
    assert "int scalar_loop_grad(double x, double *d_x)" in src
    assert "struct { double t2; double y; } tape[50];" in src  # sized when generated
    assert "double t1 = 0.1 * sin(x);" in src  # the loop-invariant term, once before the loop
    assert "// line 7: y = y * math.cos(y) + 0.1 * math.sin(x)" not in src or True
    assert re.search(r"// line \d+: y = y \* math\.cos\(y\) \+ 0\.1 \* math\.sin\(x\)", src)
    assert "y = y * t2 + t1;" in src and "d_y = d_y * t2_1 - d_t2 * sin(y_3);" in src
    assert "d_t1 += d_y;" in src and "d_t1 * 0.1 * cos(x)" in src  # its adjoint: summed, then once
    for banned in ("malloc", "free(", "alloca"):
        assert banned not in src
    # one statement per line: no line holds two semicolons outside a for header
    for line in src.splitlines():
        if not line.lstrip().startswith(("for (", "//", "/*", "*", "struct")):
            assert line.count(";") <= 1, line


def test_arrays_are_fixed_size_and_views_cost_nothing():
    src = symdiff.emit_c(
        outer_transpose, np.ones(3), np.ones(2), np.ones((2, 3)), wrt=(0, 1, 2)
    ).source
    src = "\n".join(
        line for line in src.splitlines() if not line.lstrip().startswith(("//", "/*", "*"))
    )
    assert "const double *M" in src and "double *d_M" in src
    assert "M.T" not in src and ".T" not in src
    assert re.search(r"M\[j \* 3 \+ i\]|M\[i \* 3 \+ j\]", src)
    assert "np." not in src and "1.0 *" not in src


def test_a_module_level_array_is_a_static_table():
    src = symdiff.emit_c(module_table, np.ones(3)).source
    assert "static const double K[6] = {1.0, 2.0, 0.5, 0.3, -1.0, 2.0};" in src


def test_a_user_name_that_is_a_c_word_is_renamed():
    def f(exp, int_):
        double = exp * int_
        return math.sin(double)

    src = symdiff.emit_c(f, 0.5, 2.0, wrt=(0, 1)).source
    assert not re.search(r"\bdouble exp\b", src) and "double exp_" in src
    assert re.search(r"\bdouble double_\b", src)


def test_unsupported_constructs_are_refused_at_their_line():
    def f(x):
        return np.sum(np.median(x) * x)

    with pytest.raises(CBackendError, match=r"np\.median") as err:
        symdiff.emit_c(f, np.ones(3))
    assert err.value.loc is not None and "np.median(x)" in err.value.loc.text


def test_float32_and_unsized_values_are_refused():
    def f(x):
        return np.sum(x * x)

    with pytest.raises(CBackendError, match="float64"):
        symdiff.emit_c(f, np.ones(3, dtype=np.float32))


def test_an_index_that_is_only_known_at_run_time_is_refused():
    def f(x, n):
        return x[n] * 2.0

    with pytest.raises(CBackendError, match="index"):
        symdiff.emit_c(f, np.ones(3), 1)


@needs_cc
def test_a_while_loop_past_its_cap_returns_an_error_code():
    g = symdiff.c_grad(babylon, wrt=0, max_steps=3, cflags=STRICT)
    src = g.code(1e6).source
    assert "return SYMDIFF_TAPE_FULL;" in src and "tape[3]" in src
    with pytest.raises(CBackendError, match="max_steps"):
        g(1e6)  # Newton from 1e6 needs more than 3 steps
    assert g(1.0001) == pytest.approx(symdiff.grad(babylon)(1.0001), rel=1e-12)


@needs_cc
def test_a_loop_with_run_time_bounds_is_capped_too():
    g = symdiff.c_grad(run_time_bound, wrt=1, max_steps=5, cflags=STRICT)
    assert g(5, 0.2) == pytest.approx(symdiff.grad(run_time_bound, wrt=1)(5, 0.2), rel=1e-12)
    with pytest.raises(CBackendError):
        g(6, 0.2)


def test_same_function_same_text():
    a = symdiff.emit_c(dense, np.ones((3, 4)), np.ones(4), np.ones(3), wrt=(0, 2))
    b = symdiff.emit_c(dense, np.ones((3, 4)), np.ones(4), np.ones(3), wrt=(0, 2))
    assert a.source == b.source and a.header == b.header
