"""Programs the abstract inference is run on (lowered from this file's source, so their
statements carry this file's lines).

Each entry of ``INFER_CASES`` lists argument tuples to run the program at; zero-trip loops
and loops whose carried value changes rank or kind are there on purpose.
"""

from __future__ import annotations

import numpy as np


def layer(W, x, b):
    h = np.tanh(W @ x + b)
    return np.sum(h**2)


def branch_same_kind(x):
    if np.sum(x) > 0.0:
        y = x[0:2] * 2.0
    else:
        y = x[1:3]
    return np.sum(y)


def branch_kind_differs(x):
    if np.sum(x) > 1.0:
        y = x * 2.0
    else:
        y = np.sum(x)
    return np.sum(y)


def loop_stable(x, n):
    s = np.zeros_like(x)
    for i in range(n):
        s = s + x * i
    return np.sum(s)


def loop_kind_changes(x, n):
    acc = 0.0
    for i in range(n):
        acc = acc + x
    return np.sum(acc)


def loop_rank_grows(x, n):
    y = x
    for i in range(n):
        y = np.expand_dims(y, 0)
    return np.sum(y)


def while_halving(x):
    y = x
    k = 0
    while k < 3:
        y = y * 0.5
        k = k + 1
    return np.sum(y) + k


def list_in_loop(x, n):
    xs = [x]
    for i in range(n):
        xs.append(x * i)
    return np.sum(np.stack(xs))


def shapes_and_reductions(A, v):
    m = np.mean(A, axis=0, keepdims=True)
    c = A - m
    cov = c.T @ c / A.shape[0]
    w = np.linalg.solve(cov + np.eye(3), v)
    return np.dot(w, v) + np.max(np.abs(A[:, 0]))


def bad_matmul(W, x):
    y = W @ x
    return np.sum(y)


def bad_axis(W):
    return np.sum(np.sum(W, axis=5))


def bad_broadcast(a, b):
    return np.sum(a + b)


def bad_reshape(a):
    return np.sum(np.reshape(a, (4, 2)))


def bad_layer(W, x, b):
    return np.sum(np.tanh(W @ x + b))


def bad_matmul_in_branch(W, x):
    if x.ndim == 2:
        y = np.sum(W @ x)
    else:
        y = np.sum(x)
    return y


rng = np.random.default_rng(1)
A32 = rng.random((5, 3)).astype(np.float32)

INFER_CASES = {
    "layer": (layer, [(rng.random((2, 3)), rng.random(3), rng.random(2)),
                      (rng.random((2, 3)), rng.random((3, 1)), rng.random((2, 1))),
                      (rng.random((1, 3)), rng.random(3), 0.5)]),
    "branch_same_kind": (branch_same_kind, [(rng.random(4),), (-rng.random(4),)]),
    "branch_kind_differs": (branch_kind_differs, [(rng.random(4),), (rng.random(4) * 0.1,)]),
    "loop_stable": (loop_stable, [(rng.random(3), 4), (rng.random((2, 1)), 0)]),
    "loop_kind_changes": (loop_kind_changes, [(rng.random(3), 3), (rng.random(3), 0)]),
    "loop_rank_grows": (loop_rank_grows, [(rng.random(3), 3), (rng.random(3), 0)]),
    "while_halving": (while_halving, [(rng.random(3),), (np.float32(2.0),)]),
    "list_in_loop": (list_in_loop, [(rng.random(3), 2), (rng.random((2, 2)), 0)]),
    "shapes_and_reductions": (shapes_and_reductions, [(rng.random((5, 3)), rng.random(3)),
                                                      (A32, np.ones(3, np.float32))]),
}  # fmt: skip
