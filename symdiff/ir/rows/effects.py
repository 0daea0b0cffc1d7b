"""Rows for statements made for what they do, not for a value: ``print`` and ``assert``.

They run in the forward pass of generated code, where the user wrote them, and are never
differentiated: their result is None, which nothing reads, and their effect (a line printed,
a check made) is the whole point, so dead-code elimination keeps them (``Effect.OUTPUT``).
"""

from __future__ import annotations

import builtins
from typing import Any

from ..nodes import Effect, Form, Primitive
from .build import register


def _assertion(test: Any, *message: Any) -> None:
    """What ``assert test, message`` does (the reference interpreter runs this)."""
    if not test:
        raise AssertionError(*message)


b_print = register(
    Primitive(
        "print",
        Form.CALL,
        "print",
        builtins.print,
        nargs=-1,
        defaults=(("sep", " "), ("end", "\n"), ("flush", False)),
        differentiable=False,
        effect=Effect.OUTPUT,
    ),
    builtins.print,
)
# ``assert test`` or ``assert test, message``: a statement, so no object stands for it
b_assert = register(
    Primitive(
        "assert", Form.ASSERT, "assert", _assertion, nargs=-1, differentiable=False,
        effect=Effect.OUTPUT,
    )
)  # fmt: skip
