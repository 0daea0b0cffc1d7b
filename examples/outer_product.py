"""The weight gradient of a linear layer is an outer product: dL/dW = delta x^T.

For z = W @ x, each weight W[i, j] contributes W[i, j] * x[j] to z[i], so
dL/dW[i, j] = dL/dz[i] * x[j]. Writing delta = dL/dz, that is the matrix np.outer(delta, x):
one row per output, one column per input, the same shape as W. For a batch of inputs
stacked as the columns of X, the gradient is the sum of the per-example outer products,
Delta @ X.T.

symdiff gets there from the rule for ``@`` alone; this example checks that its gradient is
exactly np.outer(delta, x), element for element.

Run: python examples/outer_product.py
"""

import numpy as np

import symdiff


def linear_loss(W, x, y):
    z = W @ x
    return 0.5 * np.sum((z - y) ** 2)  # so that delta = dL/dz = z - y


def batch_linear_loss(W, X, Y):
    Z = W @ X  # one column per example
    return 0.5 * np.sum((Z - Y) ** 2)


WRT = {"linear_loss": "W", "batch_linear_loss": "W"}


def example_linear_loss():
    rng = np.random.default_rng(1)
    return rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=3)


def example_batch_linear_loss():
    rng = np.random.default_rng(2)
    return rng.normal(size=(3, 4)), rng.normal(size=(4, 5)), rng.normal(size=(3, 5))


def linear_loss_hand_grad(W, x, y):
    delta = W @ x - y
    return np.outer(delta, x)


def batch_linear_loss_hand_grad(W, X, Y):
    Delta = W @ X - Y
    return Delta @ X.T


if __name__ == "__main__":
    W, x, y = example_linear_loss()
    dW = symdiff.grad(linear_loss, wrt="W")(W, x, y)
    delta = W @ x - y
    print("delta = dL/dz =", delta)
    print("x             =", x)
    print("symdiff dL/dW =\n", dW)
    print("dL/dW has the shape of W:", dW.shape == W.shape)
    print("equal to np.outer(delta, x), element for element:",
          np.array_equal(dW, np.outer(delta, x)))  # fmt: skip

    W, X, Y = example_batch_linear_loss()
    dW = symdiff.grad(batch_linear_loss, wrt="W")(W, X, Y)
    Delta = W @ X - Y
    per_example = sum(np.outer(Delta[:, k], X[:, k]) for k in range(X.shape[1]))
    print("\nbatch of", X.shape[1], "examples: dL/dW = sum of outer products = Delta @ X.T:",
          np.allclose(dW, per_example), np.allclose(dW, Delta @ X.T))  # fmt: skip
