"""The derivative program every mode produces, and the kinds of program there are.

Reverse mode, forward mode and the vector-Jacobian product all end in the same shape: a
forward sweep, a backward sweep (empty in forward mode), the atoms holding the value and
the derivatives. The emitter, the simplifier and the graph drawing read only this, so it
lives apart from the passes that build it: ``reverse`` and ``forward`` both import it and
neither needs the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ..errors import Loc
from ..ir.nodes import Atom, Block, Var


class Kind(StrEnum):
    """What a program computes; it picks the names and words the emitter writes.

    A ``StrEnum``: a kind compares and hashes as its string, so tables keyed by the plain
    names (the emitter's) keep working.
    """

    GRAD = "grad"  # reverse mode: the gradient
    GRAD_FWD = "grad_fwd"  # the gradient in one forward pass (a program with tapes, again)
    JVP = "jvp"  # the tangent program: J·v
    HVP = "hvp"  # the tangent program of a generated gradient: H·v
    VJP = "vjp"  # reverse mode seeded with a cotangent: ct·J

    @property
    def tangent_names(self) -> bool:
        """Its derivatives are tangents (forward mode), named ``v_dot``, not ``d_v``."""
        return self in (Kind.JVP, Kind.HVP, Kind.GRAD_FWD)

    @property
    def forward_only(self) -> bool:
        """A tangent program: no backward sweep, and the result is a value, not gradients."""
        return self in (Kind.JVP, Kind.HVP)


@dataclass(frozen=True)
class GradProgram:
    """``f``'s forward sweep and backward sweep, and which atoms are the value and gradients."""

    name: str
    params: tuple[Var, ...]
    wrt: tuple[Var, ...]
    forward: Block
    backward: Block
    value: Atom
    grads: tuple[Atom | None, ...]  # None: the result does not depend on that input
    # (derivative, primal): the emitter names it d_<primal> (or <primal>_dot, a tangent)
    adjoint_of: tuple[tuple[Var, Var], ...]
    restored: tuple[tuple[Var, Var], ...]  # (popped, forward): a forward value read back
    scalar_value: bool  # the value is a scalar by construction; no runtime check needed
    loc: Loc | None = None
    signature: tuple[str, ...] = ()
    defaults: tuple[tuple[str, Any], ...] = ()
    tuple_result: bool = False  # wrt was given as a tuple: return a tuple even of one
    kind: Kind = Kind.GRAD
    # tangents carry a leading direction axis (optimize.batching): many directions, one pass
    batched: bool = False
