"""Activation functions and their derivatives: sigmoid, tanh, ReLU and leaky ReLU.

symdiff differentiates functions that return a scalar. The sum of an elementwise
activation is the usual trick to see the activation's derivative: the gradient of
``np.sum(f(z))`` with respect to ``z`` is ``f'(z)``, element by element.

Leaky ReLU is written twice, as ``np.maximum(ALPHA * z, z)`` and with ``np.where``. They
compute the same values and, away from 0, the same gradient. At z = 0 (the kink) there is
no derivative and each form picks a different subgradient: ``np.maximum`` sees a tie and
splits the gradient evenly between its two inputs, (ALPHA + 1) / 2, while ``np.where``
takes its ``else`` branch, ALPHA. ReLU, ``np.maximum(z, 0.0)``, gives 0 at 0: with one side
constant, the constant takes the tie.

Run: python examples/activations.py
"""

import numpy as np

import symdiff

ALPHA = 0.1  # the slope of leaky ReLU for negative inputs


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def relu(z):
    return np.maximum(z, 0.0)


def leaky_relu_max(z):
    return np.maximum(ALPHA * z, z)


def leaky_relu_where(z):
    return np.where(z > 0, z, ALPHA * z)


# What symdiff differentiates: one scalar per activation.
def sigmoid_sum(z):
    return np.sum(sigmoid(z))


def tanh_sum(z):
    return np.sum(np.tanh(z))


def relu_sum(z):
    return np.sum(relu(z))


def leaky_relu_max_sum(z):
    return np.sum(leaky_relu_max(z))


def leaky_relu_where_sum(z):
    return np.sum(leaky_relu_where(z))


# Example inputs for `symdiff check` / `symdiff demo`; they avoid the kink at 0.
def _z():
    return np.array([-3.0, -1.5, -0.2, 0.4, 1.0, 2.5])


def example_sigmoid_sum():
    return (_z(),)


def example_tanh_sum():
    return (_z(),)


def example_relu_sum():
    return (_z(),)


def example_leaky_relu_max_sum():
    return (_z(),)


def example_leaky_relu_where_sum():
    return (_z(),)


# The textbook derivatives.
def sigmoid_sum_hand_grad(z):
    s = sigmoid(z)
    return s * (1.0 - s)  # sigma'(z) = sigma(z) (1 - sigma(z))


def tanh_sum_hand_grad(z):
    return 1.0 - np.tanh(z) ** 2


def relu_sum_hand_grad(z):
    return (z > 0).astype(float)


def leaky_relu_max_sum_hand_grad(z):
    return np.where(z > 0, 1.0, ALPHA)


def leaky_relu_where_sum_hand_grad(z):
    return np.where(z > 0, 1.0, ALPHA)


if __name__ == "__main__":
    z = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    print("z".ljust(22), " ".join(f"{v:7.2f}" for v in z))
    for f in (sigmoid_sum, tanh_sum, relu_sum, leaky_relu_max_sum, leaky_relu_where_sum):
        d = symdiff.grad(f)(z)
        print(f"d/dz {f.__name__[:-4]:17}", " ".join(f"{v:7.3f}" for v in d))
    print("\nAt z = 0 the two leaky ReLU forms pick different subgradients:")
    print("  np.maximum(ALPHA * z, z) splits the tie: (ALPHA + 1) / 2 =", (ALPHA + 1) / 2)
    print("  np.where(z > 0, z, ALPHA * z) takes the else branch: ALPHA =", ALPHA)
    print("\nThe gradient symdiff wrote for sigmoid_sum, i.e. the derivative of sigmoid:\n")
    print(symdiff.grad(sigmoid_sum).source)
