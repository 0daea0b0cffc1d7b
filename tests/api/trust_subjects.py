"""Functions that fail on purpose, for tests/api/test_blame.py and tests/api/test_trust_hostile.py.

Each line an error must point at carries a ``# @tag`` comment: the tests look the line up by
its tag, so that editing this file never leaves a test pointing at the wrong line.
"""

import math

import numpy as np

import symdiff


def matmul_shapes(W, x):
    y = W @ x  # @matmul
    return np.sum(y**2)


def axis_five(x):
    return np.sum(np.sum(x, axis=5))  # @axis


def broadcast(x, y):
    z = x + y  # @broadcast
    return np.sum(z)


def index_past_end(x):
    return x[5] * 2.0  # @index


def times_label(x, label):
    return np.sum(x * label)  # @dtype


def reshape_wrong(x):
    return np.sum(x.reshape(4, 4))  # @reshape


def checked_sqrt(x):
    if np.any(x < 0):
        raise ValueError("checked_sqrt needs x >= 0")  # @own-raise
    return np.sqrt(x)


def uses_checked_sqrt(x):
    return np.sum(checked_sqrt(x))  # @calls-own


def grad_through_checked_sqrt(x):
    """The gradient of ``uses_checked_sqrt``, with ``checked_sqrt``'s rule declared only for
    the call (a rule left declared would leak into other tests)."""
    with symdiff.defrule(checked_sqrt, lambda F, g, y, x: g * 0.5 / y):
        return symdiff.grad(uses_checked_sqrt)(x)


def math_domain(x):
    return math.log(x) + math.sqrt(x)  # @domain


def two(x, y):  # @def-two
    return x * y


def singular(A):
    return np.sum(np.linalg.inv(A))  # @inv


def vector(x):
    return x * 2.0  # @return-vector


def vector_two_ways(x):  # @def-two-ways
    if np.sum(x) > 0:
        return x * 2.0
    return x * 3.0


def star_args(*xs):  # @def-star
    return xs[0] * 2.0


def total(x):  # @def-total
    return np.sum(x * x)  # @use-total


def weighted(x, w):  # @def-weighted
    return np.sum(w * x)


def logs(x):  # @def-logs
    return np.sum(np.log(x))


class Thing:
    """Not a number."""


def grows(x):  # @def-grows
    return np.sum(np.exp(x))
