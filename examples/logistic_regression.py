"""Logistic regression: a linear classifier trained with the generated gradient.

The model predicts p = sigmoid(X @ w + b), the probability that a row of X belongs to class
1, and the loss is the mean binary cross-entropy -mean(y log p + (1 - y) log(1 - p)). Its
gradient has a famous closed form, dL/dw = X.T @ (p - y) / n and dL/db = mean(p - y): the
sigmoid's derivative cancels against the logarithms. symdiff does not know that formula; it
differentiates the code as written and arrives at the same numbers.

The data are two Gaussian clouds in the plane; 200 steps of gradient descent separate them.

Run: python examples/logistic_regression.py
"""

import numpy as np

import symdiff


def sigmoid(t):
    return 1.0 / (1.0 + np.exp(-t))


def loss(w, b, X, y):
    p = sigmoid(X @ w + b)
    return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


WRT = {"loss": ("w", "b")}


def make_data(n=100, seed=0):
    rng = np.random.default_rng(seed)
    X0 = rng.normal(loc=(-1.0, -1.0), size=(n // 2, 2))
    X1 = rng.normal(loc=(1.5, 1.0), size=(n // 2, 2))
    X = np.vstack([X0, X1])
    y = np.concatenate([np.zeros(n // 2), np.ones(n // 2)])
    return X, y


def example_loss():
    X, y = make_data(20)
    return np.array([0.3, -0.2]), 0.1, X, y


def loss_hand_grad(w, b, X, y):
    p = sigmoid(X @ w + b)
    return X.T @ (p - y) / len(y), np.mean(p - y)


if __name__ == "__main__":
    X, y = make_data()
    w, b = np.zeros(2), 0.0
    value_and_grad = symdiff.value_and_grad(loss, wrt=("w", "b"))
    for step in range(201):
        value, (dw, db) = value_and_grad(w, b, X, y)
        if step % 40 == 0:
            accuracy = np.mean((sigmoid(X @ w + b) > 0.5) == y)
            print(f"step {step:3d}   loss {value:.4f}   accuracy {accuracy:.0%}")
        w, b = w - 0.5 * dw, b - 0.5 * db
    print("w =", w, " b =", b)
    hw, hb = loss_hand_grad(w, b, X, y)
    dw, db = symdiff.grad(loss, wrt=("w", "b"))(w, b, X, y)
    print("generated gradient equals the closed form X.T @ (p - y) / n:",
          np.allclose(dw, hw), np.isclose(db, hb))  # fmt: skip
