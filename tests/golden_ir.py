"""Golden IR text: the printed IR of a stage kept in ``tests/golden/ir/<stage>/<name>.txt``.

The IR printer (``symdiff.ir.printer.pformat``) is what bug reports show, so a change in what a
stage produces shows up here as a readable diff, not only as a changed gradient. Set
SYMDIFF_UPDATE_GOLDEN=1 to rewrite the files after an intended change (the same flag as the
golden source files), then review the diff before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

from symdiff.ad.reverse import GradProgram
from symdiff.ir.printer import format_block

GOLDEN_IR = Path(__file__).parent / "golden" / "ir"
UPDATE = os.environ.get("SYMDIFF_UPDATE_GOLDEN") == "1"


def assert_golden(stage: str, name: str, text: str) -> None:
    """``text`` equals the golden file of ``name`` for ``stage`` (rewritten under UPDATE)."""
    path = GOLDEN_IR / stage / f"{name}.txt"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    assert path.exists(), f"no golden IR for {stage}/{name}: run with SYMDIFF_UPDATE_GOLDEN=1"
    assert text + "\n" == path.read_text(), (
        f"the {stage} IR of {name} changed; if intended, rerun with SYMDIFF_UPDATE_GOLDEN=1 "
        "and review the diff"
    )


def format_program(prog: GradProgram) -> str:
    """A gradient program as text: both sweeps, then which atoms are the value and gradients.

    ``GradProgram`` has no printer of its own; this one reuses the IR's block printer so the
    golden files read like ``pformat`` output.
    """
    lines = [
        f"grad {prog.name}({', '.join(map(str, prog.params))}) wrt {', '.join(map(str, prog.wrt))}:"
    ]
    lines.append("  forward:")
    format_block(prog.forward, 1, lines)
    lines.append("  backward:")
    format_block(prog.backward, 1, lines)
    lines.append(f"  value: {prog.value}")
    lines.append(f"  grads: {', '.join(str(g) for g in prog.grads)}")
    lines.append(f"  adjoints: {', '.join(f'{a}<-{p}' for a, p in prog.adjoint_of)}")
    lines.append(f"  restored: {', '.join(f'{a}<-{p}' for a, p in prog.restored)}")
    return "\n".join(lines)
