"""A dense layer, z = W @ x + b, a = sigmoid(z), with a squared-error loss.

This is the building block of a neural network and the place where backpropagation's
formulas come from. With delta = dL/dz = (a - y) * a * (1 - a):

- dL/db = delta,
- dL/dW = outer(delta, x)  (each weight W[i, j] multiplies x[j] into z[i]),
- dL/dx = W.T @ delta      (what the layer passes back to the layer before it).

symdiff derives all three from the three lines of ``loss``; the generated code names
every value after the variable it differentiates (d_z, d_a, ...) and marks each block with
the source line it comes from.

Run: python examples/dense_layer.py
"""

import numpy as np

import symdiff


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def loss(W, x, b, y):
    z = W @ x + b
    a = sigmoid(z)
    return 0.5 * np.sum((a - y) ** 2)


WRT = {"loss": ("W", "x", "b")}


def example_loss():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(3, 4))  # 4 inputs, 3 units
    x = rng.normal(size=4)
    b = rng.normal(size=3)
    y = np.array([0.0, 1.0, 0.0])
    return W, x, b, y


def loss_hand_grad(W, x, b, y):
    a = sigmoid(W @ x + b)
    delta = (a - y) * a * (1.0 - a)
    return np.outer(delta, x), W.T @ delta, delta


if __name__ == "__main__":
    W, x, b, y = example_loss()
    g = symdiff.grad(loss, wrt=("W", "x", "b"))
    dW, dx, db = g(W, x, b, y)
    hW, hx, hb = loss_hand_grad(W, x, b, y)
    print(g.source)
    print("loss =", loss(W, x, b, y))
    print("dL/dW =\n", dW)
    print("dL/dx =", dx)
    print("dL/db =", db)
    print("max difference from the textbook formulas:",
          max(np.max(np.abs(p - q)) for p, q in [(dW, hW), (dx, hx), (db, hb)]))  # fmt: skip
