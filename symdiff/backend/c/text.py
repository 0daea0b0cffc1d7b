"""The text of C loops and indices: lines at their indentation, ``for`` nests over shapes
with index names no variable uses, and row-major offsets."""

from __future__ import annotations

import math
from typing import Callable

from .expressions import ADD, LONG, MUL, Ex, binary, literal
from .values import CType

Index = tuple[Ex, ...]
_INDEX_NAMES = ("i", "j", "k", "l", "p", "q", "r", "s", "u", "v")


def flat(idx: Index, shape: tuple[int, ...]) -> Ex:
    """The row-major offset of ``idx`` in an array of ``shape``."""
    out: Ex | None = None
    stride = 1
    for i, n in reversed(list(zip(idx, shape))):
        if i.text != "0":
            term = i if stride == 1 else binary(i, "*", literal(stride), MUL, LONG)
            out = term if out is None else binary(term, "+", out, ADD, LONG)
        stride *= n
    return out if out is not None else literal(0)


def unravel(offset: Ex, shape: tuple[int, ...]) -> Index:
    """The multi-index of a row-major ``offset`` in ``shape`` (inverse of ``flat``)."""
    out: list[Ex] = []
    stride = math.prod(shape)
    for k, n in enumerate(shape):
        stride //= n
        if n == 1:
            out.append(literal(0))
            continue
        e = offset if stride == 1 else binary(offset, "/", literal(stride), MUL, LONG)
        if k > 0:
            e = binary(e, "%", literal(n), MUL, LONG)
        out.append(e)
    return tuple(out)


def affine(start: int, step: int, i: Ex) -> Ex:
    """``start + step * i`` without the parts that are 0 or 1."""
    e = i if step == 1 else binary(literal(step), "*", i, MUL, LONG)
    if start == 0:
        return e
    return binary(literal(start), "+", e, ADD, LONG)


def lvalue(name: str, t: CType, idx: Index) -> str:
    """Where element ``idx`` of storage ``name`` of type ``t`` is written."""
    return name if t.scalar else f"{name}[{flat(idx, t.shape).text}]"


class Lines:
    """The lines of one function body; ``taken`` gives the names loop indices must avoid."""

    def __init__(self, taken: Callable[[], set[str]]):
        self.lines: list[str] = []
        self.indent = 1
        self.active: list[str] = []  # index names of the loops open around the current line
        self.taken = taken

    def emit(self, line: str) -> None:
        self.lines.append("    " * self.indent + line)

    def open(self, header: str) -> None:
        self.emit(header + " {")
        self.indent += 1

    def close(self, tail: str = "}") -> None:
        self.indent -= 1
        self.emit(tail)

    def index_name(self) -> str:
        """A loop index name no variable and no enclosing loop uses."""
        taken = self.taken() | set(self.active)
        for n in _INDEX_NAMES:
            if n not in taken:
                return n
        k = 1
        while f"i{k}" in taken:
            k += 1
        return f"i{k}"

    def loops(self, shape: tuple[int, ...]) -> tuple[Ex, ...]:
        """Open one ``for`` per axis of ``shape``; ``end_loops`` closes them."""
        idx = []
        for n in shape:
            if n == 1:  # a unit axis needs no loop
                idx.append(literal(0))
                continue
            i = self.index_name()
            self.active.append(i)
            self.open(f"for (int {i} = 0; {i} < {n}; {i}++)")
            idx.append(Ex(i, ctype=LONG))
        return tuple(idx)

    def end_loops(self, shape: tuple[int, ...]) -> None:
        for _ in [n for n in shape if n != 1]:
            self.active.pop()
            self.close()
