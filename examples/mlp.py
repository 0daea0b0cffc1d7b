"""A two-layer network (a multilayer perceptron) trained with the gradient symdiff writes.

The network maps each input row x to tanh(x @ W1 + b1) @ W2 + b2: a hidden layer of 16 tanh
units and a linear output. The loss is the mean squared error over a batch. The task is a
small regression: learn y = sin(3x) from 64 noisy samples on [-1, 1].

``loss`` is differentiated once, with respect to the four parameters; training is then
plain gradient descent with the generated ``value_and_grad``. Note the bias ``b1`` is added
to a whole batch: its gradient is summed over the batch (``unbroadcast`` in the generated
code), exactly as the hand-written version does with ``.sum(axis=0)``.

Run: python examples/mlp.py
"""

import numpy as np

import symdiff


def loss(W1, b1, W2, b2, X, Y):
    H = np.tanh(X @ W1 + b1)  # (batch, hidden)
    P = H @ W2 + b2  # (batch, 1)
    return np.mean((P - Y) ** 2)


WRT = {"loss": ("W1", "b1", "W2", "b2")}


def make_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n, 1))
    Y = np.sin(3.0 * X) + 0.05 * rng.normal(size=(n, 1))
    return X, Y


def init_params(hidden=16, seed=1):
    rng = np.random.default_rng(seed)
    W1 = rng.normal(size=(1, hidden))
    b1 = np.zeros(hidden)
    W2 = rng.normal(size=(hidden, 1)) / np.sqrt(hidden)
    b2 = np.zeros(1)
    return W1, b1, W2, b2


def example_loss():
    rng = np.random.default_rng(2)
    params = [p + 0.1 * rng.normal(size=p.shape) for p in init_params()]
    return (*params, *make_data(16))


def loss_hand_grad(W1, b1, W2, b2, X, Y):
    H = np.tanh(X @ W1 + b1)
    P = H @ W2 + b2
    dP = 2.0 * (P - Y) / P.size
    dH = dP @ W2.T
    dA = dH * (1.0 - H**2)  # tanh' = 1 - tanh^2
    return X.T @ dA, dA.sum(axis=0), H.T @ dP, dP.sum(axis=0)


def train(steps=600, learning_rate=0.2, report_every=100):
    X, Y = make_data()
    params = list(init_params())
    value_and_grad = symdiff.value_and_grad(loss, wrt=("W1", "b1", "W2", "b2"))
    history = []
    for step in range(steps + 1):
        value, grads = value_and_grad(*params, X, Y)
        history.append(value)
        if step % report_every == 0:
            print(f"step {step:4d}   loss {value:.5f}")
        params = [p - learning_rate * g for p, g in zip(params, grads)]
    return params, history


if __name__ == "__main__":
    params, history = train()
    print(f"loss went from {history[0]:.4f} to {history[-1]:.4f}")
    X = np.array([[-0.5], [0.0], [0.5]])
    W1, b1, W2, b2 = params
    P = np.tanh(X @ W1 + b1) @ W2 + b2
    for x, p in zip(X[:, 0], P[:, 0]):
        print(f"  x = {x:5.2f}   network {p:7.4f}   sin(3x) {np.sin(3 * x):7.4f}")
