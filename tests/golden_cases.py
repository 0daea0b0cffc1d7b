"""Functions whose generated gradient source is kept as a golden file."""

import math

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def dense_loss(W, x, b, y):
    a = sigmoid(W @ x + b)
    return np.sum((a - y) ** 2)


def relu_sum(x):
    return np.sum(np.maximum(x, 0.0))


def softmax_cross_entropy(z, y):
    m = np.max(z)
    e = np.exp(z - m)
    p = e / np.sum(e)
    return -np.sum(y * np.log(p))


def scalar_loop(x, n):
    y = x
    for i in range(n):
        y = y * math.cos(y) + 0.1 * math.sin(x)
    return y


def piecewise(x: float) -> float:
    if x > 1.0:
        y = x * x
    elif x > 0.0:
        y = 3.0 * x - 1.0
    else:
        y = math.exp(x) - 1.0
    return y * 3.0


def rnn(Wx, Wh, b, xs, h0):
    h = h0
    for x_t in xs:
        h = np.tanh(Wx @ x_t + Wh @ h + b)
    return np.sum(h**2)


CASES = {
    "dense_loss": (dense_loss, ("W", "b")),
    "relu_sum": (relu_sum, 0),
    "softmax_cross_entropy": (softmax_cross_entropy, 0),
    "scalar_loop": (scalar_loop, 0),
    "piecewise": (piecewise, 0),
    "rnn": (rnn, ("Wx", "Wh", "b")),
}

import symdiff  # noqa: E402  (below the older cases, whose golden files quote their lines)


def everyday(w, X):
    """A comprehension with a filter, a generator summed, stop_gradient, print and assert."""
    assert X.shape[1] == w.shape[0], "one weight per feature"
    h = np.stack([np.tanh(row @ w) for row in X if np.sum(row) > 0.0])
    scale = symdiff.stop_gradient(np.max(np.abs(h)))
    print("scale", scale)
    return sum((v / scale) ** 2 for v in h)


CASES["everyday"] = (everyday, "w")
