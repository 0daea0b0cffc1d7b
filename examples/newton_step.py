"""Newton's method on a logistic-regression loss, with the Hessian symdiff writes.

Gradient descent takes a step along -∇L and has to guess its length; Newton's method fits
the quadratic model L(w + s) ≈ L + ∇L·s + ½ sᵀ H s and jumps to its minimum,

    w ← w − H⁻¹ ∇L.

For the L2-regularized logistic loss, with p = σ(X w),

    ∇L = Xᵀ (p − y) / n + λ w,        H = Xᵀ diag(p (1 − p)) X / n + λ I,

and H is positive definite, so every Newton step goes downhill and a handful of them reach
the minimum to machine precision. ``symdiff.hessian`` differentiates the gradient symdiff
generated for ``loss`` in forward mode (forward-over-reverse): the program it prints
computes the gradient and, next to every value, its derivative along one direction.

Run: python examples/newton_step.py
"""

import numpy as np

import symdiff

LAMBDA = 0.1  # L2 regularization


def loss(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    data = -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))
    return data + 0.5 * LAMBDA * np.sum(w * w)


WRT = {"loss": "w"}
EMIT = {"loss": ["grad", "hessian"]}  # generated/newton_step_grad.py also has loss_hessian


def example_loss():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (X @ np.array([1.5, -2.0, 0.5]) + rng.normal(size=200) > 0).astype(float)
    return np.zeros(3), X, y


def loss_hand_grad(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return X.T @ (p - y) / len(y) + LAMBDA * w


def loss_hand_hessian(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return X.T @ (X * (p * (1.0 - p))[:, None]) / len(y) + LAMBDA * np.eye(len(w))


if __name__ == "__main__":
    w, X, y = example_loss()
    gradient = symdiff.grad(loss, wrt="w")
    hess = symdiff.hessian(loss, wrt="w")
    print(hess.source)
    print("Hessian at w = 0 equals the closed form Xᵀ diag(p(1-p)) X / n + λI:",
          np.allclose(hess(w, X, y), loss_hand_hessian(w, X, y), rtol=1e-12, atol=1e-14))  # fmt: skip
    for step in range(5):
        before = loss(w, X, y)
        w = w - np.linalg.solve(hess(w, X, y), gradient(w, X, y))
        after = loss(w, X, y)
        print(f"Newton step {step + 1}: loss {before:.12f} -> {after:.12f}, "
              f"|gradient| {np.linalg.norm(gradient(w, X, y)):.2e}")  # fmt: skip
    print("w =", np.round(w, 6))
