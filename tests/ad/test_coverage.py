"""The NumPy surface: what is refused is refused at its line, the docs list what is there, and
symdiff covers at least as much of NumPy as autograd does."""

import importlib.util
import re
import sys
from pathlib import Path

import numpy as np
import pytest

import symdiff
from symdiff.ad import rules
from symdiff.errors import NonDifferentiableError, UnsupportedFunctionError, UnsupportedSyntaxError
from symdiff.ir import primitives as P

ROOT = Path(__file__).resolve().parent.parent.parent


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


coverage = _load(ROOT / "benchmarks" / "coverage.py", "symdiff_benchmark_coverage")
MISSING = [e.name for e in coverage.numpy_functions() if coverage.symdiff_status(e) == "missing"]


def test_every_unsupported_numpy_function_is_refused_at_its_line():
    """Not one NumPy function without a rule slips through (inlined, or silently constant)."""
    assert len(MISSING) > 50  # the list is real
    for name in MISSING:
        f = symdiff.from_source(f"def f(x):\n    return np.sum(np.{name}(x))\n")
        with pytest.raises(UnsupportedFunctionError) as info:
            symdiff.grad(f)
        err = info.value
        assert f"`np.{name}`" in err.message, name
        assert "symdiff.defrule" in err.hint and "docs/numpy.md" in err.hint
        assert err.loc is not None and err.loc.line == 2 and err.loc.col == 18, name


@pytest.mark.parametrize(
    "code, error, words",
    [
        ("np.sum(x, where=x > 0)", UnsupportedSyntaxError, ["where=", "np.sum"]),
        ("np.sum(np.cumsum(x, out=x))", UnsupportedSyntaxError, ["out"]),
        ("np.sum(np.pad(x, 1, mode='edge'))", NonDifferentiableError, ["mode='edge'"]),
        ("np.sum(np.einsum(x, [0]))", UnsupportedSyntaxError, ["subscripts"]),
        ("np.sum(x.searchsorted(x))", UnsupportedFunctionError, [".searchsorted()"]),
        ("np.sum(np.split(x, N)[0])", UnsupportedSyntaxError, ["indices_or_sections", "constant"]),
        ("np.sum(np.linalg.norm(x, ord=N))", UnsupportedSyntaxError, ["ord", "constant"]),
    ],
)
def test_unsupported_arguments_are_refused_with_their_place(code, error, words):
    f = symdiff.from_source(f"def f(x, N):\n    return {code}\n")
    with pytest.raises(error) as info:
        symdiff.grad(f)
    assert info.value.loc is not None and info.value.loc.line == 2
    for w in words:
        assert w in str(info.value)


def test_constants_give_no_gradient_and_do_not_break_the_rest():
    def f(x):
        steps = np.floor(x) + np.round(x, 1) + np.sign(x) + np.rint(x) + np.trunc(x)
        masks = np.isclose(x, 0.0) + np.isnan(x) + np.logical_xor(x > 0, x < 1)
        picks = np.argmax(x) + np.argsort(x)[0] + np.count_nonzero(x > 0) + np.searchsorted(x, 0.1)
        return np.sum(x * steps) + np.sum(masks * x**2) + picks * np.sum(x)

    x = np.array([0.31, -1.27, 2.44, 0.73])
    symdiff.check_grad(f, x)


def test_constants_are_declared_not_differentiable():
    for p in (P.np_floor, P.np_argmax, P.np_isnan, P.np_zeros_like, P.np_shape):
        assert p in rules.NON_DIFFERENTIABLE


# ----------------------------------------------------------------------------- docs

DOC = (ROOT / "docs" / "numpy.md").read_text(encoding="utf-8")


FUNCTION_GROUPS = {
    "elementwise", "binary elementwise", "`math`", "reductions", "scans and orderings",
    "shape and layout", "linear algebra",
}  # fmt: skip


def _documented() -> set[str]:
    """Every ``np.name``/``math.name`` of the docs' table, with the group prefix spelled out."""
    table = DOC.split("## Differentiable functions")[1].split("## Constants")[0]
    names: set[str] = set()
    for line in table.splitlines():
        cells = line.split("|")
        if len(cells) < 4 or cells[1].strip() not in FUNCTION_GROUPS:
            continue
        prefix = "np."
        for token in re.findall(r"`([^`]+)`", cells[2]):
            for part in token.split("/"):
                m = re.match(r"(np\.linalg\.|np\.|math\.)?([A-Za-z_][A-Za-z0-9_]*)$", part.strip())
                if not m:
                    continue
                if m.group(1):
                    prefix = m.group(1)
                names.add(prefix + m.group(2))
    return names


def test_the_docs_table_lists_exactly_the_functions_with_rules():
    resolved = set()
    for name in _documented():
        module, _, attr = name.rpartition(".")
        obj = getattr({"np": np, "np.linalg": np.linalg, "math": __import__("math")}[module], attr)
        prim = P.resolve(obj)
        assert prim is not None and prim in rules.RULES, f"{name} is documented but has no rule"
        resolved.add(prim)
    for e in coverage.numpy_functions():
        if coverage.symdiff_status(e) == "rule":
            assert P.resolve(e.obj) in resolved, f"np.{e.name} has a rule but is not documented"


def test_the_docs_coverage_figures_are_current():
    pytest.importorskip("autograd")
    entries = coverage.numpy_functions()
    mine = [coverage.symdiff_status(e) for e in entries]
    theirs = [coverage.autograd_status(e) for e in entries]
    composite = theirs.count("rule") + theirs.count("composite")
    assert f"the {len(entries)} public" in DOC
    for row in (
        f"| with a derivative rule | {mine.count('rule')} | {theirs.count('rule')} |",
        f"| with a rule, or written in Python on top of rules | {mine.count('rule')} | {composite} |",
        f"| treated as constants | {mine.count('constant')} | {theirs.count('constant')} |",
    ):
        assert row in DOC
    assert mine.count("rule") >= composite
