"""The limits of one simplification, and what it did within them.

Simplification is optional polish: it must never make building a gradient slow. Every
region has a size and a time limit and the whole pass one more; ``Report`` says what
happened to each region, and ``count_ops`` measures the result the way a user would.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import NamedTuple

from ..ad import analysis
from ..ad.program import GradProgram
from ..ir.nodes import Var, iter_assigns


@dataclass(frozen=True)
class Budget:
    """Limits that keep simplification fast whatever the input."""

    max_ops: int = 40  # statements per region; longer runs are cut into pieces this long
    max_size: int = 120  # nodes of one expression; bigger values stay variables
    small: int = 40  # size up to which cancel/together/factor are tried
    proof_size: int = 400  # nodes of an expanded difference SymPy must reduce to zero
    proof_seconds: float = 0.2  # for the proof of one region, after its search
    region_seconds: float = 0.2
    total_seconds: float = 5.0


class Rewrite(NamedTuple):
    """One output of a rewritten region, as the report shows it."""

    value: str  # the value's name (``d_z`` for an adjoint)
    before: str  # the region's statements before, as IR text
    after: str  # the value's new expression, in SymPy's spelling over the region's inputs
    proof: str  # how SymPy proved before == after (the normal form that reduced it to 0)


@dataclass
class Report:
    """What one ``simplify`` call did: operation counts of the gradient, time, regions."""

    ops_before: int = 0
    ops_after: int = 0
    seconds: float = 0.0
    regions: int = 0
    rewritten: int = 0
    outcomes: Counter = field(default_factory=Counter)
    # every output of a rewritten region, with its proof
    rewrites: list[Rewrite] = field(default_factory=list)


def count_ops(prog: GradProgram, with_value: bool = False) -> int:
    """Statements the generated ``_grad`` (or ``_value_and_grad``) function executes once."""
    live = {a for a in prog.grads if isinstance(a, Var)}
    if (with_value or not prog.scalar_value) and isinstance(prog.value, Var):
        live.add(prog.value)
    backward = analysis.prune(prog.backward, live)
    forward = analysis.prune(prog.forward, live)
    return sum(1 for _ in iter_assigns(forward + backward))
