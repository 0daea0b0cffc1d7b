"""What a typed rewrite (``optimize.specialise``) is given, and what it may answer.

Kept apart from the driver so that the rewrite modules (``typed_broadcast``,
``typed_linalg``) and the driver import this and never each other.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Callable, Iterator, Union

from ..abstract.infer import Analysis
from ..abstract.values import AbstractValue, Extent, Kind
from ..ir.nodes import Assign, Atom, Const, Var

FRESH_PREFIX = "%sp"  # temporaries a rewrite introduces (internal: the emitter names them)


@dataclass
class Types:
    """The abstract value of every atom of the analysed program, and fresh temporaries."""

    analysis: Analysis
    defs: dict[Var, Assign] = field(default_factory=dict)  # the assignment defining a var
    backward: bool = False  # the statement offered is in the backward sweep
    counter: Iterator[int] = field(default_factory=itertools.count)

    def of(self, atom: Atom) -> AbstractValue:
        return self.analysis.value(atom)

    def definition(self, atom: Atom) -> Assign | None:
        """The assignment that defines ``atom`` (``None``: a parameter, constant, carry...)."""
        return self.defs.get(atom) if isinstance(atom, Var) else None

    def fresh(self) -> Var:
        """A temporary no statement of the program defines yet."""
        while True:
            v = Var(f"{FRESH_PREFIX}{next(self.counter)}")
            if v not in self.analysis.values and v not in self.defs:
                return v


# what a rewrite answers: an atom the target is equal to, statements ending with the
# target's definition, or None to leave the statement as it is
Replacement = Union[Atom, tuple[Assign, ...], None]
Rewrite = Callable[[Assign, Types], Replacement]


def is_python_float(v: AbstractValue) -> bool:
    return v.kind is Kind.FLOAT


def is_array(v: AbstractValue, rank: int | None = None) -> bool:
    """An ndarray of known rank (``rank``, when given)."""
    if v.kind is not Kind.ARRAY or v.shape is None:
        return False
    return rank is None or len(v.shape) == rank


def scalar_like(v: AbstractValue) -> bool:
    """A Python or NumPy scalar: broadcasting never stretches anything to it."""
    return v.is_scalar


def unit_axes_known(v: AbstractValue) -> bool:
    """Every axis is known to be 1 or known not to be (no ``Extent.ANY``)."""
    return v.shape is not None and all(d is not Extent.ANY for d in v.shape)


def const(value: object) -> Const:
    return Const(value)
