"""The exact algebra stage: rewrites that change no value, run on every typed program.

Two moments: before the derivative is built, on the user's function (repeated expressions
computed once: ``cse``; values the result is invariant to detached so that they get no
derivative: ``shift``), and after it, on the derivative program (mask arithmetic decided
from the types: ``masks``). Each rewrite is exact: the gradient computed is the same
function of the inputs (what they drop is zero or a repeat), and the code left is what a
person writes. The rewrites that hold only up to rounding are ``simplify=True``'s.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from ..abstract.infer import analyse
from ..abstract.values import AbstractValue, Kind
from ..ad.program import GradProgram
from ..ad.program import Kind as ProgramKind
from ..ir.nodes import Atom, Const, Function, Var, iter_assigns
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
    only where the types say the operands compared are float64 arrays (the forms are
    checked in float64: a float32 array would round them in float32)."""
    prog = named_for_inputs(prog)
    if args is None:
        return masks.decide_masks(prog)
    types = program_types(prog, args)

    def arrays(a: Atom) -> bool:
        v = types.value(a)
        if isinstance(a, Const):
            return v.is_scalar
        return v.kind is Kind.ARRAY and v.dtype == np.float64

    return masks.decide_masks(prog, arrays)


def named_for_inputs(prog: GradProgram) -> GradProgram:
    """A gradient that is also the adjoint of another value is named for its input.

    Once ``m`` is detached, ``d_z`` of ``s = z - m`` is ``d_s`` itself, and the program
    returns the variable the emitter calls ``d_s``; a person calls it ``d_z``. The
    variable is renamed (the adjoint is the same number under either name) unless it is
    the gradient of two inputs, or the sweep reads it again (``z = W @ x + b``: ``d_z``
    feeds ``np.outer(d_z, x)`` and is returned as ``b``'s gradient under its own name).
    """
    if prog.kind not in (ProgramKind.GRAD, ProgramKind.VJP):
        return prog  # a tangent program's results are tangents of its result, not gradients
    grads = [g for g in prog.grads if isinstance(g, Var)]
    owners = {d: p for d, p in prog.adjoint_of}
    read = {a for s in iter_assigns(prog.backward) for a in s.args}
    rename: dict[Var, Var] = {}
    for x, g in zip(prog.wrt, prog.grads):
        # an adjoint the sweep goes on reading keeps its own name (d_z in np.outer(d_z, x))
        if isinstance(g, Var) and grads.count(g) == 1 and owners.get(g, x) != x and g not in read:
            rename[g] = x
    if not rename:
        return prog
    adjoint_of = tuple(
        (d, p) for d, p in prog.adjoint_of if d not in rename and p not in set(rename.values())
    )
    return dataclasses.replace(prog, adjoint_of=adjoint_of + tuple(rename.items()))
