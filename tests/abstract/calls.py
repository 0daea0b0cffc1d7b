"""The concrete calls the table is tested on: how one is described, and the arrays they take."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from symdiff.ir.nodes import Primitive

RNG = np.random.default_rng(0)


def a(*shape: int, dtype: Any = np.float64) -> np.ndarray:
    """An array of values in (0.1, 0.9): inside every domain that matters for dtypes."""
    return (0.1 + 0.8 * RNG.random(shape)).astype(dtype)


def ia(*shape: int) -> np.ndarray:
    return RNG.integers(1, 4, size=shape)


def ba(*shape: int) -> np.ndarray:
    return RNG.random(shape) > 0.5


@dataclass
class Case:
    prim: Primitive
    args: tuple
    params: dict = field(default_factory=dict)
    consts: tuple[int, ...] | None = None  # argument positions that are IR constants
    loose: bool = False  # the result depends on the values: held to soundness only

    def const_positions(self) -> tuple[int, ...]:
        if self.consts is not None:
            return self.consts
        return tuple(i for i, v in enumerate(self.args) if not isinstance(v, np.ndarray))

    def __repr__(self) -> str:
        shown = ", ".join(
            f"array{v.shape}:{v.dtype}" if isinstance(v, np.ndarray) else repr(v) for v in self.args
        )
        return f"{self.prim.name}({shown}; {self.params})"
