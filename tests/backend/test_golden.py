"""Golden files: the exact generated source of the seed cases, a loop, a branch and an RNN.

Set SYMDIFF_UPDATE_GOLDEN=1 to rewrite them after an intended change, then review the diff.
"""

import os
from pathlib import Path

import black
import pytest

from symdiff.pipeline import transform

from ..golden_cases import CASES

GOLDEN = Path(__file__).parent.parent / "golden" / "core"
UPDATE = os.environ.get("SYMDIFF_UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("name", sorted(CASES))
def test_generated_source_matches_golden_file(name):
    f, wrt = CASES[name]
    source = transform(f, wrt=wrt).grad_source
    path = GOLDEN / f"{name}.py"
    if UPDATE:
        path.write_text(source)
    assert path.exists(), f"no golden file for {name}: run with SYMDIFF_UPDATE_GOLDEN=1"
    assert source == path.read_text(), (
        f"generated source of {name} changed; if intended, rerun with SYMDIFF_UPDATE_GOLDEN=1 "
        "and review the diff"
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_generated_source_is_black_stable(name):
    f, wrt = CASES[name]
    source = transform(f, wrt=wrt).grad_source
    assert black.format_str(source, mode=black.Mode(line_length=88)) == source
