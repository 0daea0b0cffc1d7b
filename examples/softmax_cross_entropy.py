"""Softmax with cross-entropy: the loss of almost every classifier, in two forms.

softmax turns scores z into probabilities p_i = exp(z_i) / sum_j exp(z_j); cross-entropy
against target probabilities y (one-hot for a labelled example) is -sum_i y_i log p_i.
Together their gradient is remarkably simple: dL/dz = p * sum(y) - y, which is p - y for a
one-hot y.

The plain form overflows as soon as a score passes about 709 (exp(710) is inf in float64)
and returns nan. The stable form subtracts max(z) first: the probabilities are unchanged,
so the gradient is too. symdiff differentiates through np.max as well; the contribution
that flows through the shift sums to zero, and the result is again p - y, now without
overflow.

Run: python examples/softmax_cross_entropy.py
"""

import numpy as np

import symdiff


def cross_entropy(z, y):
    p = np.exp(z) / np.sum(np.exp(z))
    return -np.sum(y * np.log(p))


def stable_cross_entropy(z, y):
    shifted = z - np.max(z)
    log_p = shifted - np.log(np.sum(np.exp(shifted)))
    return -np.sum(y * log_p)


WRT = {"cross_entropy": "z", "stable_cross_entropy": "z"}


def example_cross_entropy():
    z = np.array([2.0, -1.0, 0.5, 3.0])  # scores of 4 classes
    y = np.array([0.0, 0.0, 1.0, 0.0])  # the true class is 2
    return z, y


def example_stable_cross_entropy():
    return example_cross_entropy()


def softmax(z):
    e = np.exp(z - np.max(z))
    return e / np.sum(e)


def cross_entropy_hand_grad(z, y):
    return softmax(z) * np.sum(y) - y


def stable_cross_entropy_hand_grad(z, y):
    return softmax(z) * np.sum(y) - y


if __name__ == "__main__":
    z, y = example_cross_entropy()
    plain = symdiff.grad(cross_entropy, wrt="z")
    stable = symdiff.grad(stable_cross_entropy, wrt="z")
    print("z =", z, " y =", y)
    print("softmax(z) - y      =", np.round(softmax(z) - y, 6))
    print("plain  dL/dz        =", np.round(plain(z, y), 6))
    print("stable dL/dz        =", np.round(stable(z, y), 6))

    big = np.array([1000.0, 0.0, -1000.0])
    y3 = np.array([1.0, 0.0, 0.0])
    with np.errstate(all="ignore"):  # the plain form overflows on purpose here
        print("\nscores", big)
        print("plain  loss and gradient:", cross_entropy(big, y3), plain(big, y3))
    print("stable loss and gradient:", stable_cross_entropy(big, y3), stable(big, y3))
