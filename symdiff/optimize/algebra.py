"""The exact algebra stage: rewrites that change no value, run on every typed program.

Two moments: before the derivative is built, on the user's function (repeated expressions
computed once: ``cse``; values the result is invariant to detached so that they get no
derivative: ``shift``), and after it, on the derivative program (mask arithmetic decided
from the types: ``masks``). Each rewrite is exact: the gradient computed is the same
function of the inputs (what they drop is zero or a repeat), and the code left is what a
person writes. The rewrites that hold only up to rounding are ``simplify=True``'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..abstract.infer import analyse
from ..abstract.values import AbstractValue, Kind
from ..ad.program import GradProgram
from ..ir.nodes import Atom, Const, Function, Var
from . import cse, masks, shift
from .specialise import program_types


@dataclass(frozen=True)
class Prepared:
    """The user's function as the derivative is built from it, and what was done to it."""

    function: Function
    detached: shift.Detached = field(default_factory=lambda: shift.Detached((), ()))
    repeats: int = 0  # statements removed as repeats of earlier ones

    @property
    def invariant(self) -> tuple[Var, ...]:
        """The values the result was proved invariant to (they get no derivative)."""
        return self.detached.values


def before_derivative(
    fn: Function, args: tuple[AbstractValue, ...] | None, enabled: bool = True
) -> Prepared:
    """``fn`` with its repeats merged and, when the argument types are known, the values
    its result is invariant to detached (``enabled=False``: ``fn`` as it is)."""
    if not enabled:
        return Prepared(fn)
    fn, repeats = cse.common_subexpressions(fn)
    if args is None:
        return Prepared(fn, repeats=repeats)
    values = shift.invariant_values(fn, analyse(fn, args))
    if not values:
        return Prepared(fn, repeats=repeats)
    detached_fn, detached = shift.detach(fn, values)
    return Prepared(detached_fn, detached, repeats)


def after_derivative(prog: GradProgram, prepared: Prepared) -> GradProgram:
    """The derivative program reading the user's values again (``before_derivative``)."""
    return shift.reattach(prog, prepared.detached)


def finish(prog: GradProgram, args: tuple[AbstractValue, ...] | None) -> GradProgram:
    """The derivative program with its masks decided (``masks``): after specialisation,
    which leaves the mask arithmetic free of shape bookkeeping. Mask values are combined
    only where the types say the operands compared are arrays."""
    if args is None:
        return masks.decide_masks(prog)
    types = program_types(prog, args)

    def arrays(a: Atom) -> bool:
        v = types.value(a)
        return v.kind is Kind.ARRAY or (isinstance(a, Const) and v.is_scalar)

    return masks.decide_masks(prog, arrays)
