"""The shape of the lowering (issue 12): parts of a few hundred lines, one class each."""

import ast
from pathlib import Path

from symdiff.frontend import lower_base
from symdiff.frontend.lowering import Lowering

FRONTEND = Path(lower_base.__file__).parent


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
        "CallLowering", "ComprehensionLowering", "LoweringBase",
    ]  # fmt: skip
    assert not getattr(Lowering, "__abstractmethods__", None)
