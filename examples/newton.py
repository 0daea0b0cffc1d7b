"""Differentiating through an iterative solver: Newton's method for a cube root.

    x_{k+1} = x_k - (x_k^3 - a) / (3 x_k^2),  repeated while |x^3 - a| > tol

`cube_root` runs a while loop whose number of steps depends on the data. symdiff
differentiates the iteration itself. Called with a float, the gradient is computed in forward
mode (one scalar input and a loop: see README, "Forward or reverse mode"): every step updates
the derivative of the iterate next to the iterate, and nothing is stored. In reverse mode
(``symdiff.grad(cube_root, mode="rev")``, or the shape-generic program) the generated gradient
counts the steps, stores what each step needs, and runs the steps backwards. At convergence the derivative of the iterate
approaches the true derivative d(a^(1/3))/da = 1 / (3 a^(2/3)), which the example prints next
to it. `loss` shows the solver used inside a larger computation.

Run: python examples/newton.py
"""

import numpy as np

import symdiff


def cube_root(a: float) -> float:
    x = a if a > 1.0 else 1.0
    while abs(x * x * x - a) > 1e-12 * a:
        x = x - (x * x * x - a) / (3.0 * x * x)
    return x


def loss(a: float, w: float) -> float:
    r = cube_root(a * w)
    return (r - 2.0) ** 2 + 0.1 * w * w


WRT = {"cube_root": ("a",), "loss": ("a", "w")}


def example_cube_root():
    return (20.0,)


def example_loss():
    return 5.0, 1.5


def cube_root_hand_grad(a):
    return (1.0 / (3.0 * np.cbrt(a) ** 2),)


if __name__ == "__main__":
    d_cube_root = symdiff.grad(cube_root)
    print(d_cube_root.source)
    for a in (0.5, 8.0, 27.0, 1000.0):
        print(
            f"a = {a:7.1f}: cube root {cube_root(a):.6f}, "
            f"symdiff {d_cube_root(a):.12f}, exact {1.0 / (3.0 * a ** (2 / 3)):.12f}"
        )
    print(symdiff.check_grad(loss, *example_loss(), wrt=("a", "w")))
