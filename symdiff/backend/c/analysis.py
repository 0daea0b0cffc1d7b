"""The abstract types of a derivative program as C sees them: every float scalar is a double.

Python tells a float, a NumPy float64 scalar and a 0-d array apart, and the abstract
evaluation does too, so a loop that starts ``acc = 0.0`` and adds ``np.sum(x)`` carries a
value of no single kind. In C all three are one ``double``; ``CAnalysis`` records each of
them as a Python float, so that branches and loops join to what C holds. The arrays' shapes
and everything else are those of ``abstract.infer``.
"""

from __future__ import annotations

import numpy as np

from ...abstract.infer import Analysis
from ...abstract.values import FLOAT, AbstractValue, Kind
from ...ad.program import GradProgram
from ...ad.program import Kind as ProgramKind
from ...ir.nodes import Assign
from .values import HINT, CBackendError


def as_c(value: AbstractValue) -> AbstractValue:
    """A float scalar of any kind as a Python float; anything else unchanged."""
    float_scalar = value.kind is Kind.NP_SCALAR or (value.kind is Kind.ARRAY and value.shape == ())
    if float_scalar and value.dtype is not None and value.dtype == np.float64:
        return FLOAT
    return value


class CAnalysis(Analysis):
    def assign(self, stmt: Assign, certain: bool) -> None:
        super().assign(stmt, certain)
        self.values[stmt.target] = as_c(self.values[stmt.target])


def c_program_types(prog: GradProgram, args: tuple[AbstractValue, ...]) -> Analysis:
    """The C view of the type of every variable of a gradient program called with ``args``."""
    if prog.kind is not ProgramKind.GRAD:
        raise CBackendError(
            f"the C backend writes gradients, not {prog.kind.value} programs", prog.loc, HINT
        )
    analysis = CAnalysis(dict(zip(prog.params, map(as_c, args))))
    analysis.block(prog.forward, certain=True)
    analysis.block(prog.backward, certain=True)
    return analysis
