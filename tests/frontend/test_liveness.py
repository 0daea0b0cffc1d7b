"""``read_later``: a name never read after an in-place update cannot see it, so the update
is allowed; any read after it, or anywhere in an enclosing loop, keeps the refusal."""

from __future__ import annotations

import ast

import numpy as np
import pytest

import symdiff
from symdiff.errors import UnsupportedSyntaxError
from symdiff.frontend.liveness import read_later

CODE = """
def f(x, c):
    a = x[0]
    x[0] = a * 2.0
    for i in range(3):
        b = x[1:]
        x[1] = 1.0
        s = np.sum(b)
    if c:
        x[2] = 0.0
    else:
        t = a
    return np.sum(x)
"""


def statement(tree: ast.AST, line: int) -> ast.stmt:
    return next(n for n in ast.walk(tree) if isinstance(n, ast.stmt) and n.lineno == line)


def test_reads_after_and_in_loops():
    tree = ast.parse(CODE)
    update = statement(tree, 4)  # x[0] = a * 2.0: its own read of a runs before it
    assert read_later(tree, update, "a")  # the else branch below reads it
    assert not read_later(tree, update, "s")
    in_loop = statement(tree, 7)  # x[1] = 1.0: the next iteration reads b again
    assert read_later(tree, in_loop, "b")
    assert not read_later(tree, statement(tree, 12), "a")  # t = a is the last read


def test_an_item_read_before_the_update_is_allowed():
    def overwrite(x):  # from Tangent's corpus (test_subscript2)
        a = x[0]
        b = x[1]
        x[0] = a * b
        return np.sum(x)

    x = np.array([1.5, -2.0, 3.0])
    np.testing.assert_allclose(symdiff.grad(overwrite)(x), [x[1], x[0] + 1.0, 1.0])
    symdiff.check_grad(overwrite, x.copy())


@pytest.mark.parametrize(
    "text",
    [
        "def f(x):\n    a = x[1:]\n    x[1] = 5.0\n    return np.sum(a)\n",
        "def f(x):\n    y = x * 1.0\n    a = y[1:]\n    for i in range(3):\n"
        "        y[1] = 2.0 * x[0]\n        b = np.sum(a)\n    return np.sum(y) + b\n",
    ],
)
def test_a_view_read_after_the_update_is_refused(text):
    with pytest.raises(UnsupportedSyntaxError, match="`a` also names"):
        symdiff.grad(symdiff.from_source("import numpy as np\n" + text, "f"))
