"""The model whose gradient main.c embeds: L2-regularised logistic regression on 16 points.

    symdiff emit examples/c_embedding/model.py:loss --lang c -o examples/c_embedding/

writes loss.h and loss.c (checked in next to this file; a test keeps them current), which
main.c calls to fit the weights by gradient descent, with no Python at run time:

    cc -std=c99 -O2 -o fit examples/c_embedding/main.c examples/c_embedding/loss.c -lm
"""

import math

import numpy as np

N = 16  # points, fixed in the C code too


def loss(w, X, y):
    z = X @ w
    return np.mean(np.logaddexp(0.0, z) - y * z) + 0.01 * np.sum(w * w)


WRT = {"loss": ("w",)}


def data():
    """The points main.c builds: a bias column, sin(i), cos(3i); labelled by a line."""
    X = np.array([[1.0, math.sin(i), math.cos(3.0 * i)] for i in range(N)])
    y = np.array([1.0 if X[i, 1] + 0.5 * X[i, 2] > 0.0 else 0.0 for i in range(N)])
    return X, y


def example_loss():
    X, y = data()
    return np.zeros(3), X, y


def fit(grad, steps=200, rate=0.5):
    """What main.c does, in Python: gradient descent from zero weights."""
    w, X, y = example_loss()
    for _ in range(steps):
        w = w - rate * grad(w, X, y)
    return w
