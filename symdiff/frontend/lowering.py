"""Lowering: a Python syntax tree into symdiff's IR, by the parts that lower each kind of
construct.

Each source expression becomes single-assignment statements, one primitive each. The
outermost operation of ``z = W @ x + b`` is named ``z``; inner ones get internal temporary
names the emitter later folds back or names ``t1, t2, ...``. Names are resolved to the
Python objects they denote, calls to the user's own functions are inlined, and module-level
values become named constants. ``lower_base`` describes the parts and their interface.
"""

from __future__ import annotations

from .lower_branches import BranchLowering
from .lower_calls import CallLowering
from .lower_comprehensions import ComprehensionLowering
from .lower_exprs import ExpressionLowering
from .lower_loops import LoopLowering
from .lower_stmts import StatementLowering


class Lowering(
    StatementLowering,
    BranchLowering,
    LoopLowering,
    ExpressionLowering,
    CallLowering,
    ComprehensionLowering,
):
    """Lowers one function (``function()``), with every helper it calls inlined."""
