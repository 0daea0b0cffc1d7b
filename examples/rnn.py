"""A recurrent network unrolled with a for loop: backpropagation through time, written for you.

    h_t = tanh(Wx @ x_t + Wh @ h_{t-1} + b),   loss = 0.5 * ||h_T - target||^2

The loop runs over the time steps of the sequence. Reverse mode has to walk the steps
backwards, using the hidden state of every step: symdiff's gradient keeps the loop
structure of the source (a forward loop, then a backward loop over reversed(range(T))),
saves exactly the values the backward loop reads on a tape during the forward loop
(O(T * hidden) memory, as a hand-written BPTT), and accumulates the weight gradients
across steps. Compare the generated code with `loss_hand_grad` below.

Run: python examples/rnn.py
"""

import numpy as np

import symdiff


def loss(Wx, Wh, b, xs, h0, target):
    h = h0
    for x_t in xs:
        h = np.tanh(Wx @ x_t + Wh @ h + b)
    return 0.5 * np.sum((h - target) ** 2)


WRT = {"loss": ("Wx", "Wh", "b")}


def example_loss(hidden=128, steps=50, inputs=16, seed=0):
    rng = np.random.default_rng(seed)
    Wx = rng.normal(scale=0.3 / np.sqrt(inputs), size=(hidden, inputs))
    Wh = rng.normal(scale=0.9 / np.sqrt(hidden), size=(hidden, hidden))
    b = rng.normal(scale=0.1, size=hidden)
    xs = rng.normal(size=(steps, inputs))
    h0 = np.zeros(hidden)
    target = rng.uniform(-0.5, 0.5, size=hidden)
    return Wx, Wh, b, xs, h0, target


def loss_hand_grad(Wx, Wh, b, xs, h0, target):
    """Backpropagation through time, by hand: keep every h, then walk back."""
    hs = [h0]
    for x_t in xs:
        hs.append(np.tanh(Wx @ x_t + Wh @ hs[-1] + b))
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dh = hs[-1] - target
    for t in range(len(xs) - 1, -1, -1):
        dz = dh * (1.0 - hs[t + 1] ** 2)
        dWx += np.outer(dz, xs[t])
        dWh += np.outer(dz, hs[t])
        db += dz
        dh = Wh.T @ dz
    return dWx, dWh, db


if __name__ == "__main__":
    args = example_loss()
    grad_loss = symdiff.grad(loss, wrt=WRT["loss"])
    print(grad_loss.source)
    generated = grad_loss(*args)
    by_hand = loss_hand_grad(*args)
    for name, a, h in zip(WRT["loss"], generated, by_hand):
        print(f"{name}: max |generated - hand-written| = {np.max(np.abs(a - h)):.2e}")
    print(symdiff.check_grad(loss, *args, wrt=WRT["loss"]))
