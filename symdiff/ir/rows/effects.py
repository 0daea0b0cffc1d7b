"""Rows for statements made for what they do, not for a value: ``print`` and ``assert``,
and the f-strings they are usually given.

They run in the forward pass of generated code, where the user wrote them, and are never
differentiated: their result is None, which nothing reads, and their effect (a line printed,
a check made) is the whole point, so dead-code elimination keeps them (``Effect.OUTPUT``).
An f-string is a value (a string, with no derivative), kept as an f-string in generated code.
"""

from __future__ import annotations

import builtins
from typing import Any, Callable

from ..nodes import Effect, Form, Primitive
from .build import REQUIRED, register

# ``{x!s}``, ``{x!r}``, ``{x!a}``: the conversion as ``ast`` numbers it
_CONVERSIONS: dict[int, Callable[[Any], str]] = {ord("s"): str, ord("r"): repr, ord("a"): ascii}


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


def _fstring(*values: Any, parts: tuple) -> str:
    """What ``f"..."`` evaluates to: ``parts`` holds ``("text", s)`` for literal text and
    ``("value", conversion, spec)`` for the next value (``conversion`` as ``ast`` has it)."""
    out = []
    rest = iter(values)
    for part in parts:
        if part[0] == "text":
            out.append(part[1])
        else:
            _, conversion, spec = part
            value = next(rest)
            if conversion in _CONVERSIONS:
                value = _CONVERSIONS[conversion](value)
            out.append(format(value, spec))
    return "".join(out)


fstring = register(
    Primitive(
        "fstring", Form.FSTRING, "f''", _fstring, nargs=-1, defaults=(("parts", REQUIRED),),
        differentiable=False,
    )
)  # fmt: skip
