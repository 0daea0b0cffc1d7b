"""Small programs whose IR is kept as golden text (tests/golden_ir.py), one per lowering shape.

Each comes with arguments to run it at, so a golden file is never the only thing that checks
its IR: the lowered IR must compute what the Python function computes, and the reverse
pass must agree with central finite differences.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np


def straight_line(x, y):
    a = x * y
    b = np.sin(a) + 2.0
    return b / y


def branch(x):
    if x > 0.5:
        y = x * x
    else:
        y = -x
    return y + 1.0


def for_with_break(x, n):
    s = 0.0
    for i in range(n):
        s = s + x * i
        if s > 10.0:
            break
    return s


def while_with_break(x):
    y = x
    k = 0
    while k < 5:
        y = np.tanh(y) * 2.0
        if y > 1.9:
            break
        k = k + 1
    return y


def _square_plus(u, c):
    return u * u + c


def helper_inlined(x):
    return _square_plus(x, 3.0) * x


def tuple_unpacking(x, y):
    a, b = x + y, x * y
    b, a = a, b
    return a - np.cos(b)


def index_update(x):
    y = np.zeros(3)
    y[0] = x[1] * 2.0
    y[1:] = x[:2]
    return np.sum(y * x)


def list_append(x):
    ys = []
    for i in range(3):
        ys.append(x * i)
    return np.sum(np.stack(ys))


# name -> (function, arguments, positions of the arguments to differentiate)
LOWER_CASES: dict[str, tuple[Callable[..., Any], tuple, tuple[int, ...]]] = {
    "straight_line": (straight_line, (0.7, 1.3), (0, 1)),
    "branch": (branch, (0.9,), (0,)),
    "for_with_break": (for_with_break, (1.5, 6), (0,)),
    "while_with_break": (while_with_break, (0.3,), (0,)),
    "helper_inlined": (helper_inlined, (0.4,), (0,)),
    "tuple_unpacking": (tuple_unpacking, (0.6, -0.2), (0, 1)),
    "index_update": (index_update, (np.array([0.5, -1.0, 2.0]),), (0,)),
    "list_append": (list_append, (np.array([0.5, -1.0]),), (0,)),
}

# the reverse pass of one program per control-flow shape
REVERSE_CASES = (
    "straight_line",
    "branch",
    "for_with_break",
    "while_with_break",
    "index_update",
    "list_append",
)
