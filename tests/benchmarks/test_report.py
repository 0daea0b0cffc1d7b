"""benchmarks/report.py: the cells of the timing table and the docs section it rewrites."""

import importlib.util
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
spec = importlib.util.spec_from_file_location(
    "symdiff_benchmark_report", ROOT / "benchmarks" / "report.py"
)
report = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = report  # dataclasses look their module up there
spec.loader.exec_module(report)


@dataclass(frozen=True)
class FakeCase:
    name: str = "c"
    shape: str = "n=3"
    target: float = 1.15


def result(**samples):
    return report.Result(FakeCase(), samples=samples, grad_program="generic")


def test_a_ratio_cell_is_the_ratio_of_medians_then_of_minima():
    r = result(hand=[1.0, 2.0, 4.0], typed=[1.5, 3.0, 3.0])
    assert r.ratio("typed", "hand", statistics.median) == 1.5
    assert report.ratio_cell(r, "typed") == "1.50 (1.50)"
    r = result(hand=[1.0, 2.0, 4.0], typed=[1.0, 5.0, 9.0])
    assert report.ratio_cell(r, "typed") == "2.50 (1.00)"


def test_the_target_judges_the_specialised_gradient_by_the_chosen_statistic():
    r = result(hand=[1.0, 1.0, 1.0], typed=[1.1, 1.3, 1.3], symdiff=[9.0, 9.0, 9.0])
    assert report.verdict(r, min).endswith("1.10 ok (≤1.15)")
    assert report.verdict(r, statistics.median).endswith("1.30 MISS (≤1.15)")
    assert report.misses([r], "median") == ["c 1.30"]
    assert report.meets(1.154, 1.15) and not report.meets(1.156, 1.15)  # as printed
    r.grad_program = "typed"  # grad() specialises at the call: judged through grad()
    assert report.verdict(r, min).startswith("grad(): 9.00 MISS")


def test_a_missing_number_shows_why():
    r = result(hand=[1.0])
    r.notes["typed"] = "not supported yet"
    assert report.ratio_cell(r, "typed") == "not supported yet"
    assert report.ratio_cell(r, "JAX") == "—"


def test_the_docs_section_between_the_markers_is_replaced_and_the_rest_kept():
    text = f"# Benchmarks\nbefore\n{report.DOCS_BEGIN}\nold table\n{report.DOCS_END}\nafter\n"
    new = report.replace_section(text, "| new | table |\n")
    assert new == (
        f"# Benchmarks\nbefore\n{report.DOCS_BEGIN}\n| new | table |\n{report.DOCS_END}\nafter\n"
    )
    assert report.replace_section(new, "x").count(report.DOCS_BEGIN) == 1
    with pytest.raises(ValueError, match="section to replace"):
        report.replace_section("no markers here", "x")
