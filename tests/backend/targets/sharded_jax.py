"""The checks of ``test_sharded_jax``, run as a script in a fresh interpreter.

XLA reads ``--xla_force_host_platform_device_count`` once, when JAX starts, so these run
where JAX has not been imported yet: the test starts this file with ``XLA_FLAGS`` set.
Each check compares with symdiff's NumPy gradient in float64 and prints one line.
"""

from __future__ import annotations

import os
import sys

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

import symdiff
from symdiff import pipeline

jax.config.update("jax_enable_x64", True)


def logistic(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


def mlp(W1, b1, w2, X, y):
    h = np.tanh(X @ W1 + b1)
    r = h @ w2 - y
    return np.mean(r * r)


def main() -> None:
    assert len(jax.devices()) == 2, (jax.devices(), os.environ.get("XLA_FLAGS"))
    mesh = Mesh(np.array(jax.devices()), ("rows",))
    rows = NamedSharding(mesh, PartitionSpec("rows"))
    everywhere = NamedSharding(mesh, PartitionSpec())
    rng = np.random.default_rng(0)
    n, d, h = 256, 6, 5
    X, y = rng.normal(size=(n, d)), (rng.random(n) > 0.5) * 1.0
    w, W1, b1, w2 = (
        rng.normal(size=d),
        rng.normal(size=(d, h)),
        rng.normal(size=h),
        rng.normal(size=h),
    )
    Xs, ys = jax.device_put(X, rows), jax.device_put(y, rows)

    def on(value):
        return jax.device_put(value, everywhere)

    cases = [
        ("logistic, w", logistic, 0, (w, X, y), (on(w), Xs, ys)),
        ("mlp, weights", mlp, (0, 1, 2), (W1, b1, w2, X, y), (on(W1), on(b1), on(w2), Xs, ys)),
    ]
    for label, f, wrt, args, sharded in cases:
        reference = symdiff.grad(f, wrt=wrt)(*args)
        typed = pipeline.transform(f, wrt, args=args, backend="jax").grad
        for kind, g in (("typed", typed), ("generic", symdiff.grad(f, wrt=wrt, backend="jax"))):
            compiled = jax.jit(g).lower(*sharded).compile()  # once, for the call and its HLO
            got = compiled(*sharded)
            for mine, want in zip(_tuple(got), _tuple(reference)):
                assert isinstance(mine, jax.Array)
                np.testing.assert_allclose(np.asarray(mine), want, rtol=1e-10, atol=1e-13)
                # the weight gradient sums over rows held by both devices: one copy on each
                assert mine.sharding.is_fully_replicated, mine.sharding
                assert len(mine.addressable_shards) == 2
            assert "all-reduce" in compiled.as_text(), "partial sums not combined across devices"
            print(f"{label}, {kind}: equal to NumPy, replicated, by all-reduce")
    assert Xs.sharding.spec == PartitionSpec("rows"), "the data moved"

    # the gradient with respect to the row-sharded data stays row-sharded
    dX = jax.jit(symdiff.grad(logistic, wrt=1, backend="jax"))(on(w), Xs, ys)
    np.testing.assert_allclose(
        np.asarray(dX), symdiff.grad(logistic, wrt=1)(w, X, y), rtol=1e-10, atol=1e-13
    )
    assert not dX.sharding.is_fully_replicated
    assert dX.sharding.is_equivalent_to(Xs.sharding, 2), dX.sharding
    assert {s.data.shape for s in dX.addressable_shards} == {(n // 2, d)}
    print("logistic, X: equal to NumPy, row-sharded like X")

    # value and gradient together: the loss is replicated too
    value, dw = jax.jit(symdiff.value_and_grad(logistic, backend="jax"))(on(w), Xs, ys)
    assert abs(float(value) - logistic(w, X, y)) < 1e-12 and value.sharding.is_fully_replicated
    np.testing.assert_allclose(np.asarray(dw), symdiff.grad(logistic)(w, X, y), rtol=1e-10)
    print("value_and_grad: equal to NumPy, replicated")


def _tuple(x):
    return x if isinstance(x, tuple) else (x,)


if __name__ == "__main__":
    main()
    sys.exit(0)
