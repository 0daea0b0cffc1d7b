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


# ----------------------------------------------------------------------------- specialised
# The same kind of functions asked for with example arguments: the gradient written for
# their types (tests/optimize/test_typed.py keeps it in tests/golden/specialised/).


def sigmoid_sum(z):
    return np.sum(sigmoid(z))


def tanh_sum(z):
    return np.sum(np.tanh(z))


def two_layer(W1, b1, W2, b2, x, y):
    h = np.tanh(W1 @ x + b1)
    out = W2 @ h + b2
    return 0.5 * np.sum((out - y) ** 2)


def logistic_regression(w, b, X, y):
    p = sigmoid(X @ w + b)
    return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


def mlp(W1, b1, W2, b2, X, Y):
    H = np.tanh(X @ W1 + b1)
    P = H @ W2 + b2
    return np.mean((P - Y) ** 2)


def coupled_loop(x):
    y = x
    z = x
    for _ in range(50):
        y = math.sin(y) * z + 0.1 * x
        z = math.cos(z) + 0.3 * y
    return y + z


def _draw(*shape):
    return np.random.default_rng(len(shape) * 7 + sum(shape)).normal(size=shape)


# name -> (function, wrt, example arguments)
SPECIALISED = {
    "sigmoid_sum": (sigmoid_sum, 0, (_draw(6),)),
    "tanh_sum": (tanh_sum, 0, (_draw(6),)),
    "relu_sum": (relu_sum, 0, (_draw(6),)),
    "softmax_cross_entropy": (softmax_cross_entropy, 0, (_draw(4), np.eye(4)[2])),
    "dense_loss": (dense_loss, ("W", "x", "b"), (_draw(3, 4), _draw(4), _draw(3), _draw(3))),
    "two_layer": (
        two_layer,
        ("W1", "b1", "W2", "b2"),
        (_draw(5, 4), _draw(5), _draw(2, 5), _draw(2), _draw(4), _draw(2)),
    ),
    "logistic_regression": (
        logistic_regression,
        ("w", "b"),
        (_draw(2), 0.1, _draw(20, 2), (_draw(20) > 0).astype(float)),
    ),
    "mlp": (
        mlp,
        ("W1", "b1", "W2", "b2"),
        (_draw(1, 16), _draw(16), _draw(16, 1), _draw(1), _draw(8, 1), _draw(8, 1)),
    ),
    "scalar_loop": (scalar_loop, 0, (0.3, 5)),
    "coupled_loop": (coupled_loop, 0, (0.3,)),
}
