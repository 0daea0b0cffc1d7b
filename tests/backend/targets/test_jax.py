"""The JAX backend: eager and under jax.jit, functional updates, branches as where."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from symdiff import pipeline
from symdiff.errors import BackendError

from .cases import NAMES, code_of, compare

jax = pytest.importorskip("jax", reason="JAX is not installed")
jnp = pytest.importorskip("jax.numpy", reason="JAX is not installed")
jax.config.update("jax_enable_x64", True)
ARRAY = jax.Array


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
@pytest.mark.parametrize("name", NAMES)
def test_matches_numpy(name: str, jit: bool) -> None:
    compare(name, "jax", jnp.asarray, ARRAY, call=jax.jit if jit else lambda g: g)


@pytest.mark.parametrize("name", NAMES)
def test_the_generic_form_matches_numpy_under_jit(name: str) -> None:
    compare(name, "jax", jnp.asarray, ARRAY, typed=False, call=jax.jit)


def test_matmul_adjoints_are_written_as_xla_likes_them() -> None:
    t = compare("logistic_regression", "jax", jnp.asarray, ARRAY)
    assert "d_w = d_z @ X" in t.grad_source
    assert ".T" not in code_of(t.grad_source)


def test_a_data_dependent_branch_becomes_where() -> None:
    t = compare("branchy", "jax", jnp.asarray, ARRAY, call=jax.jit)
    code = code_of(t.value_and_grad_source)
    assert "if " not in code
    assert re.search(r"jnp\.where\(t\d+, branchy, branchy_1\)", code)


def test_a_branch_on_a_shape_stays_an_if() -> None:
    def f(x):
        if x.shape[0] > 2:
            y = np.sum(x * x)
        else:
            y = np.sum(x)
        return y

    t = pipeline.transform(f, 0, args=(np.ones(3),), backend="jax")
    assert "if t" in code_of(t.grad_source) or "if x.shape[0] > 2" in code_of(t.grad_source)
    g = jax.jit(t.grad)(jnp.arange(3.0))
    np.testing.assert_allclose(np.asarray(g), 2 * np.arange(3.0))


def test_a_branch_holding_a_loop_is_refused_at_its_line() -> None:
    def f(x):
        s = np.sum(x)
        if s > 0.0:
            for _ in range(3):
                s = s * s
        return s

    with pytest.raises(BackendError) as info:
        pipeline.transform(f, 0, args=(np.ones(3),), backend="jax")
    text = str(info.value)
    assert "'jax' backend cannot branch here" in text
    assert "a loop" in text and "if s > 0.0:" in text


def test_updates_are_functional() -> None:
    def f(x):
        y = x * 1.0
        y[0] = 3.0 * x[1]
        return np.sum(y * y)

    args = (np.arange(1.0, 4.0),)
    reference = pipeline.transform(f, 0, args=args).grad(*args)
    t = pipeline.transform(f, 0, args=args, backend="jax")
    assert ".at[" in t.grad_source
    np.testing.assert_allclose(np.asarray(jax.jit(t.grad)(jnp.asarray(args[0]))), reference)


def scalar_loop(x):
    y = x
    for _ in range(5):
        y = y * math.cos(y) + 0.1 * math.sin(x)
    return y


def test_math_on_a_float_is_written_with_jnp_so_jit_can_trace_it() -> None:
    reference = pipeline.transform(scalar_loop, 0, args=(0.3,)).grad(0.3)
    t = pipeline.transform(scalar_loop, 0, args=(0.3,), backend="jax")
    assert "jnp.cos(y)" in t.grad_source and "math." not in code_of(t.grad_source)
    np.testing.assert_allclose(float(jax.jit(t.grad)(0.3)), reference, rtol=1e-12)
