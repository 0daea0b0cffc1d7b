"""The functions the benchmark differentiates, their inputs, and their hand-written gradients.

Every function here is plain NumPy/``math`` source: symdiff reads it, and the peer adapters
re-execute the same text with another ``np`` (autograd, JAX, a torch shim), so all tools
differentiate exactly the same math. This module must not import symdiff: the first-call
measurement imports it in a fresh interpreter after this module, to time it honestly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import handwritten as hw
import numpy as np

# ----------------------------------------------------------------------------- 1. activations


def sigmoid_sum(x):
    return np.sum(1.0 / (1.0 + np.exp(-x)))


def tanh_sum(x):
    return np.sum(np.tanh(x))


def relu_sum(x):
    return np.sum(np.maximum(x, 0))


def leaky_relu_sum(x):
    return np.sum(np.maximum(0.01 * x, x))


def softmax_xent(Z, Y):
    m = np.max(Z, axis=1, keepdims=True)
    S = Z - m
    lse = np.log(np.sum(np.exp(S), axis=1, keepdims=True))
    return -np.sum(Y * (S - lse)) / Z.shape[0]


# ----------------------------------------------------------------------------- 2-4. models


def dense_mse(W, b, X, Y):
    A = 1.0 / (1.0 + np.exp(-(X @ W.T + b)))
    return np.mean((A - Y) ** 2)


def mlp_xent(W1, b1, W2, b2, X, Y):
    H = np.maximum(X @ W1 + b1, 0)
    Z = H @ W2 + b2
    m = np.max(Z, axis=1, keepdims=True)
    S = Z - m
    lse = np.log(np.sum(np.exp(S), axis=1, keepdims=True))
    return -np.sum(Y * (S - lse)) / X.shape[0]


def logreg(w, X, y):
    z = X @ w
    return np.mean(np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z))) - y * z)


# ----------------------------------------------------------------------------- 5. loops


def rnn(Wx, Wh, b, xs, h0):
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(Wx @ xs[t] + Wh @ h + b)
    return np.sum(h**2)


def gru(Wz, Uz, Wr, Ur, Wc, Uc, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        x = xs[t]
        z = 1.0 / (1.0 + np.exp(-(Wz @ x + Uz @ h)))
        r = 1.0 / (1.0 + np.exp(-(Wr @ x + Ur @ h)))
        c = np.tanh(Wc @ x + Uc @ (r * h))
        h = (1.0 - z) * h + z * c
        hs.append(h)
    H = np.stack(hs)
    return np.sum(H[:, :16] ** 2) + np.mean(H[:, 16:])


def scalar_loop(x):
    y = x
    for _ in range(50):
        y = y * math.cos(y) + 0.1 * math.sin(x)
    return y


def coupled_loop(x):
    y = x
    z = x
    for _ in range(50):
        y = math.sin(y) * z + 0.1 * x
        z = math.cos(z) + 0.3 * y
    return y + z


# ----------------------------------------------------------------------------- 6. small work
# Vectors of 1000 and the demo's models at the demo's sizes: here a gradient costs
# microseconds, so what a generated gradient does beyond the arithmetic (shape calls,
# runtime helpers, 0-d accumulators) shows, and specialising to the argument types matters.


def softmax_xent_vec(z, y):
    m = np.max(z)
    s = z - m
    return -np.sum(y * (s - np.log(np.sum(np.exp(s)))))


# The losses of examples/logistic_regression.py and examples/newton_step.py as written there
# (a helper, a module constant), under names of their own: this module must not import the
# examples, which import symdiff.


def demo_sigmoid(t):
    return 1.0 / (1.0 + np.exp(-t))


def demo_logreg(w, b, X, y):
    p = demo_sigmoid(X @ w + b)
    return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


NEWTON_LAMBDA = 0.1


def demo_newton(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    data = -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))
    return data + 0.5 * NEWTON_LAMBDA * np.sum(w * w)


# ----------------------------------------------------------------------------- inputs


def _one_hot(rng: np.random.Generator, rows: int, classes: int) -> np.ndarray:
    return np.eye(classes)[rng.integers(0, classes, size=rows)]


def _vector(rng):
    return (rng.standard_normal(10**6),)


def _logits(rng):
    return rng.standard_normal((1000, 1000)), _one_hot(rng, 1000, 1000)


def _dense(rng):
    W = rng.standard_normal((256, 784)) * 0.05
    b = rng.standard_normal(256) * 0.1
    X = rng.standard_normal((64, 784))
    Y = rng.random((64, 256))
    return W, b, X, Y


def _mlp(rng):
    W1 = rng.standard_normal((784, 512)) * math.sqrt(2 / 784)
    b1 = rng.standard_normal(512) * 0.1
    W2 = rng.standard_normal((512, 10)) * math.sqrt(1 / 512)
    b2 = rng.standard_normal(10) * 0.1
    X = rng.standard_normal((128, 784))
    return W1, b1, W2, b2, X, _one_hot(rng, 128, 10)


def _logreg(rng):
    X = rng.standard_normal((10000, 100))
    w = rng.standard_normal(100) * 0.1
    y = (rng.random(10000) < 0.5).astype(np.float64)
    return w, X, y


def _rnn(rng):
    hidden, inputs, steps = 128, 64, 50
    Wx = rng.standard_normal((hidden, inputs)) / math.sqrt(inputs)
    Wh = rng.standard_normal((hidden, hidden)) / math.sqrt(hidden)
    b = rng.standard_normal(hidden) * 0.1
    xs = rng.standard_normal((steps, inputs))
    return Wx, Wh, b, xs, np.zeros(hidden)


def _gru(rng):
    hidden, inputs, steps = 64, 32, 50
    Ws = [rng.standard_normal((hidden, inputs)) / math.sqrt(inputs) for _ in range(3)]
    Us = [rng.standard_normal((hidden, hidden)) / math.sqrt(hidden) for _ in range(3)]
    xs = rng.standard_normal((steps, inputs))
    return Ws[0], Us[0], Ws[1], Us[1], Ws[2], Us[2], xs, np.zeros(hidden)


def _scalar(rng):
    return (0.7,)


def _vector_1k(rng):
    return (rng.standard_normal(1000),)


def _logits_1k(rng):
    return rng.standard_normal(1000), _one_hot(rng, 1, 1000)[0]


def _demo_logreg(rng):
    # examples/logistic_regression.py: example_loss(), two Gaussian clouds of 10 points each
    X0 = rng.normal(loc=(-1.0, -1.0), size=(10, 2))
    X1 = rng.normal(loc=(1.5, 1.0), size=(10, 2))
    X, y = np.vstack([X0, X1]), np.concatenate([np.zeros(10), np.ones(10)])
    return np.array([0.3, -0.2]), 0.1, X, y


def _demo_newton(rng):
    # examples/newton_step.py: example_loss(), 200 points in 3 dimensions, at w = 0
    X = rng.normal(size=(200, 3))
    y = (X @ np.array([1.5, -2.0, 0.5]) + rng.normal(size=200) > 0).astype(float)
    return np.zeros(3), X, y


# ----------------------------------------------------------------------------- the registry


@dataclass(frozen=True)
class Case:
    name: str
    fn: Callable[..., Any]
    wrt: tuple[str, ...]  # always a tuple, so every tool returns a tuple of gradients
    inputs: Callable[[np.random.Generator], tuple]
    hand: Callable[..., tuple]
    target: float  # the generated/hand-written ratio we aim to stay under
    shape: str  # for the table


CASES = (
    Case("sigmoid", sigmoid_sum, ("x",), _vector, hw.sigmoid_sum, 1.15, "n=1e6"),
    Case("tanh", tanh_sum, ("x",), _vector, hw.tanh_sum, 1.15, "n=1e6"),
    Case("relu", relu_sum, ("x",), _vector, hw.relu_sum, 1.15, "n=1e6"),
    Case("leaky_relu", leaky_relu_sum, ("x",), _vector, hw.leaky_relu_sum, 1.15, "n=1e6"),
    Case("softmax_xent", softmax_xent, ("Z",), _logits, hw.softmax_xent, 1.15, "1000x1000"),
    Case("dense_mse", dense_mse, ("W", "b"), _dense, hw.dense_mse, 1.15, "256x784, batch 64"),
    Case(
        "mlp_xent",
        mlp_xent,
        ("W1", "b1", "W2", "b2"),
        _mlp,
        hw.mlp_xent,
        1.15,
        "784-512-10, batch 128",
    ),
    Case("logreg", logreg, ("w",), _logreg, hw.logreg, 1.15, "X 10000x100"),
    Case("rnn", rnn, ("Wx", "Wh", "b"), _rnn, hw.rnn, 1.2, "h128, in64, T=50"),
    Case(
        "gru",
        gru,
        ("Wz", "Uz", "Wr", "Ur", "Wc", "Uc"),
        _gru,
        hw.gru,
        2.5,
        "h64, in32, T=50, stacked",
    ),
    Case("scalar_loop", scalar_loop, ("x",), _scalar, hw.scalar_loop, 1.15, "50 steps, float"),
    Case(
        "coupled_loop", coupled_loop, ("x",), _scalar, hw.coupled_loop, 1.15, "50 steps, 2 floats"
    ),
    Case("sigmoid_1k", sigmoid_sum, ("x",), _vector_1k, hw.sigmoid_sum, 1.15, "n=1000"),
    Case("tanh_1k", tanh_sum, ("x",), _vector_1k, hw.tanh_sum, 1.15, "n=1000"),
    Case("relu_1k", relu_sum, ("x",), _vector_1k, hw.relu_sum, 1.15, "n=1000"),
    Case("leaky_relu_1k", leaky_relu_sum, ("x",), _vector_1k, hw.leaky_relu_sum, 1.15, "n=1000"),
    Case(
        "softmax_xent_1k", softmax_xent_vec, ("z",), _logits_1k, hw.softmax_xent_vec, 1.15, "n=1000"
    ),
    Case("demo_logreg", demo_logreg, ("w", "b"), _demo_logreg, hw.demo_logreg, 1.15, "X 20x2"),
    Case("demo_newton", demo_newton, ("w",), _demo_newton, hw.demo_newton, 1.15, "X 200x3"),
)

BY_NAME = {c.name: c for c in CASES}


def wrt_arg(case: Case) -> str | tuple[str, ...]:
    """``wrt`` as a user would spell it: one name alone, several as a tuple."""
    return case.wrt[0] if len(case.wrt) == 1 else case.wrt


def as_tuple(grads: Any, case: Case) -> tuple:
    """Gradients as a tuple in ``wrt`` order, whichever way a tool returned them."""
    return (grads,) if len(case.wrt) == 1 else tuple(grads)


def positions(case: Case) -> tuple[int, ...]:
    """The argument positions of ``case.wrt``, for tools that take numbers (autograd, JAX)."""
    names = case.fn.__code__.co_varnames[: case.fn.__code__.co_argcount]
    return tuple(names.index(n) for n in case.wrt)
