"""The shape of the lowering (issue 12): parts of a few hundred lines, and the small set of
hooks that ``relower`` overrides, each declared and documented in ``lower_base``."""

import ast
import inspect
from pathlib import Path

from symdiff.frontend import lower_base
from symdiff.frontend.lowering import Lowering
from symdiff.frontend.relower import GeneratedLowering

FRONTEND = Path(lower_base.__file__).parent
HOOKS = {
    "statement", "merge", "loop_state", "leave_loop", "lower_for", "call", "apply", "sharing",
}  # fmt: skip


def test_relower_overrides_only_the_documented_hooks():
    overridden = {
        name
        for name, value in vars(GeneratedLowering).items()
        if inspect.isfunction(value) and hasattr(Lowering, name) and name != "__init__"
    }
    assert overridden == HOOKS
    doc = lower_base.__doc__
    for name in HOOKS:
        assert f"``{name}``" in doc, name
        declared = getattr(lower_base.LoweringBase, name)
        assert declared.__doc__, name


def test_every_part_of_the_lowering_is_a_class_under_300_lines():
    for path in sorted(FRONTEND.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                size = node.end_lineno - node.lineno + 1
                assert size <= 300, f"{path.name}: {node.name} has {size} lines"
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 400, path.name


def test_the_lowering_is_the_sum_of_its_parts():
    parts = [c.__name__ for c in Lowering.__mro__[1:-2]]
    assert parts == [
        "StatementLowering", "BranchLowering", "LoopLowering", "ExpressionLowering",
        "CallLowering", "LoweringBase",
    ]  # fmt: skip
    assert not getattr(Lowering, "__abstractmethods__", None)
