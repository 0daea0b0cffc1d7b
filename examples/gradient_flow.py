"""How a gradient flows backwards through the three gates every network is made of: +, *, max.

Read this example first. Reverse mode (backpropagation) visits a computation from its
output back to its inputs, and at each operation multiplies the gradient arriving at the
operation's output by the operation's local derivative, once for each input:

- addition distributes: for s = x + y, ds/dx = ds/dy = 1, so both inputs receive the
  incoming gradient unchanged;
- multiplication swaps: for p = x * y, dp/dx = y and dp/dy = x, so each input receives the
  incoming gradient times the *other* input;
- max routes: m = max(x, y) passes the whole gradient to the larger input and nothing to
  the other (it was not used).

When a value feeds two operations (``y`` in ``circuit`` below), the gradients coming back
along the two paths add up.

Run: python examples/gradient_flow.py
"""

import symdiff


def add(x, y):
    return x + y


def multiply(x, y):
    return x * y


def maximum(x, y):
    return max(x, y)


def circuit(x, y, z):
    """f = (x + y) * max(y, z): all three gates in one expression."""
    s = x + y
    m = max(y, z)
    return s * m


# The arguments each function is differentiated with respect to (read by the symdiff command).
WRT = {
    "add": ("x", "y"),
    "multiply": ("x", "y"),
    "maximum": ("x", "y"),
    "circuit": ("x", "y", "z"),
}


# Example inputs (read by `symdiff check` and `symdiff demo`). max has no derivative where
# its inputs tie, so the examples avoid ties.
def example_add():
    return (3.0, -4.0)


def example_multiply():
    return (3.0, -4.0)


def example_maximum():
    return (3.0, -4.0)


def example_circuit():
    return (-2.0, 5.0, -4.0)


# The same gradients worked out by hand, gate by gate.
def add_hand_grad(x, y):
    return 1.0, 1.0


def multiply_hand_grad(x, y):
    return y, x


def maximum_hand_grad(x, y):
    return (1.0, 0.0) if x > y else (0.0, 1.0)


def circuit_hand_grad(x, y, z):
    s = x + y
    m = max(y, z)
    d_s, d_m = m, s  # the product swaps its inputs
    d_x = d_s  # the sum distributes...
    d_y = d_s + (d_m if y > z else 0.0)  # ...and y also feeds the max: the two paths add
    d_z = d_m if z > y else 0.0  # the max routes the gradient to the larger input
    return d_x, d_y, d_z


if __name__ == "__main__":
    x, y = 3.0, -4.0
    print(f"gates at x = {x}, y = {y}:")
    for f, words in [
        (add, "addition distributes"),
        (multiply, "multiplication swaps"),
        (maximum, "max routes to the larger input"),
    ]:
        dx, dy = symdiff.grad(f, wrt=("x", "y"))(x, y)
        print(f"  {f.__name__:9} df/dx = {dx:5}, df/dy = {dy:5}   ({words})")

    x, y, z = example_circuit()
    g = symdiff.grad(circuit, wrt=("x", "y", "z"))
    print(f"\ncircuit(x={x}, y={y}, z={z}) = (x + y) * max(y, z) = {circuit(x, y, z)}")
    print("  symdiff: df/dx, df/dy, df/dz =", g(x, y, z))
    print("  by hand: df/dx, df/dy, df/dz =", circuit_hand_grad(x, y, z))
    print("\nThe gradient symdiff wrote for circuit:\n")
    print(g.source)
