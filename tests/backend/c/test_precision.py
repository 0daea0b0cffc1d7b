"""float32 arguments give float32 code: ``float`` values, ``sinf``-style functions and
``0.1f`` literals, agreeing with symdiff's NumPy gradient on the same float32 arrays to
float32's precision (1e-5 relative)."""

import math

import numpy as np
import pytest

import symdiff
from symdiff import CBackendError
from symdiff.backend.c.precision import in_single

from .compiling import STRICT, asan_works, build_and_run, needs_cc

rng = np.random.default_rng(32)


def dense(W, x, b):
    z = W @ x + b
    a = 1.0 / (1.0 + np.exp(-z))
    return np.sum(a**2) * 0.5


def mixed(x, s):
    y = x * s
    for _ in range(5):
        y = np.sin(y) + 0.1 * x
    return np.mean(np.tanh(y)) + math.cos(s)


def f32(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def test_float32_arguments_give_float_code():
    code = symdiff.emit_c(dense, f32(3, 4), f32(4), f32(3), wrt=(0, 2))
    grad = code.emitted.grad
    assert grad.prototype == (
        "int dense_grad(const float *W, const float *x, const float *b, float *d_W, float *d_b)"
    )
    body = "\n".join(line for line in grad.text.splitlines() if "//" not in line)
    assert "double" not in body and "expf(" in body and "1.0f" in body
    assert "(float32, row-major)" in code.header
    assert ": a = 1.0 / (1.0 + np.exp(-z))" in grad.text  # comments quote the Python as written


def test_the_mapping_leaves_names_indices_and_comments_alone():
    text = "    double t2 = exp(-x2) * 1e-05 + t1[3] * 2.5; // 1.0 * np.exp(x)"
    assert in_single(text) == "    float t2 = expf(-x2) * 1e-05f + t1[3] * 2.5f; // 1.0 * np.exp(x)"


def test_float64_and_float32_arrays_together_are_refused():
    with pytest.raises(CBackendError, match="one precision"):
        symdiff.emit_c(dense, f32(3, 4), np.ones(4), f32(3), wrt=0)


@needs_cc
@pytest.mark.parametrize(
    "f, args, wrt",
    [(dense, (f32(3, 4), f32(4), f32(3)), (0, 2)), (mixed, (f32(6), 0.7), (0, 1))],
    ids=["dense", "loop"],
)
def test_float32_gradients_agree_with_numpy(f, args, wrt):
    g = symdiff.c_grad(f, *args, wrt=wrt, cflags=STRICT)
    got = g(*args)
    ref = symdiff.grad(f, wrt=wrt)(*args)
    for a, b, arg in zip(got, ref, (args[k] for k in wrt)):
        if isinstance(arg, np.ndarray):
            assert a.dtype == np.float32 and a.shape == arg.shape
        assert np.allclose(a, b, rtol=1e-5, atol=1e-6), (a, b)
    value, _ = g.value_and_grad(*args)
    assert value == pytest.approx(float(f(*args)), rel=1e-5)


@pytest.mark.skipif(not asan_works(), reason="cc -fsanitize=address does not work here")
def test_float32_code_stays_in_bounds_under_address_sanitizer(tmp_path):
    args = (f32(6), 0.7)
    code = symdiff.emit_c(mixed, *args, wrt=(0, 1))
    out = build_and_run(code, args, tmp_path, ("-fsanitize=address", "-fno-omit-frame-pointer"))
    value, (d_x, d_s) = symdiff.value_and_grad(mixed, wrt=(0, 1))(*args)
    assert np.allclose(out, [float(value), *d_x, d_s], rtol=1e-5, atol=1e-6)
