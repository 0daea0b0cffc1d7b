"""The Jacobian of the softmax, and why the cross-entropy gradient is so simple.

softmax(z)_i = exp(z_i) / Σ_j exp(z_j) = p_i. Differentiating the quotient gives

    ∂p_i/∂z_j = p_i (δ_ij − p_j),    that is    J = diag(p) − p pᵀ:

a symmetric matrix whose rows sum to zero (adding a constant to every z_i changes nothing).
``symdiff.jacobian`` builds it from generated code: in forward mode one column per input
(the tangent program pushes a direction e_j through softmax), in reverse mode one row per
output (the vector-Jacobian product pulls e_i back). Both agree with the closed form.

For the cross-entropy L = −Σ_i y_i log p_i with Σ y_i = 1, the chain rule through J gives
∂L/∂z = Jᵀ (−y / p) = p − y, the famous "prediction minus target".

Run: python examples/softmax_jacobian.py
"""

import numpy as np

import symdiff


def softmax(z):
    e = np.exp(z - np.max(z))  # shifting by max(z) changes nothing but avoids overflow
    return e / np.sum(e)


def cross_entropy(z, y):
    return -np.sum(y * np.log(softmax(z)))


WRT = {"cross_entropy": "z"}
EMIT = {"softmax": ["jacobian"]}  # generated/softmax_jacobian_grad.py also has softmax_jacobian


def example_cross_entropy():
    return np.array([2.0, 1.0, 0.1, -1.2]), np.array([0.0, 1.0, 0.0, 0.0])


def example_softmax():  # what softmax_jacobian in generated/ is specialised to
    return (example_cross_entropy()[0],)


def cross_entropy_hand_grad(z, y):
    return softmax(z) - y


def softmax_hand_jacobian(z):
    p = softmax(z)
    return np.diag(p) - np.outer(p, p)


if __name__ == "__main__":
    z, y = example_cross_entropy()
    forward = symdiff.jacobian(softmax, mode="fwd")
    backward = symdiff.jacobian(softmax, mode="rev")
    print(forward.source)
    J = forward(z)
    np.set_printoptions(precision=4, suppress=True)
    print("J = diag(p) - p pᵀ =\n", J)
    print("forward mode equals the closed form:",
          np.allclose(J, softmax_hand_jacobian(z), rtol=1e-12, atol=1e-15))  # fmt: skip
    print("reverse mode equals the closed form:",
          np.allclose(backward(z), softmax_hand_jacobian(z), rtol=1e-12, atol=1e-15))  # fmt: skip
    print("rows sum to zero:", np.allclose(J.sum(axis=1), 0.0, atol=1e-15))
    g = symdiff.grad(cross_entropy)(z, y)
    print("dL/dz =", g, "= p - y:", np.allclose(g, softmax(z) - y, rtol=1e-12, atol=1e-15))
