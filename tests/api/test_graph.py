"""symdiff.graph: the DOT text of a function's graph and of its backward sweep."""

import os
import re
import shutil
import subprocess

import numpy as np
import pytest

import symdiff
from symdiff.api.graph import Graph, GraphvizNotFoundError, render
from symdiff.errors import SymdiffError

SCALE = 2.0


def simple(x, y):
    return np.sum(np.exp(x) * y) * SCALE


def looped(w, x, n):
    h = x
    for i in range(n):
        h = np.tanh(w * h + i)
    if np.sum(h) > 0:
        out = np.sum(h * h)
    else:
        out = -np.sum(h)
    return out


def nodes(dot):
    """node id → label, for every node line."""
    return dict(re.findall(r'^\s+(\w+) \[label="((?:[^"\\]|\\.)*)"', dot, re.M))


def edges(dot):
    return re.findall(r"^\s+(\w+) -> (\w+)(?: \[(.*)\])?;$", dot, re.M)


def cluster(dot, name):
    start = dot.index(f"subgraph {name} {{")
    depth, i = 0, start
    while True:
        if dot[i] == "{":
            depth += 1
        elif dot[i] == "}":
            depth -= 1
            if depth == 0:
                return dot[start:i]
        i += 1


def test_straight_line_graph():
    g = symdiff.graph(simple)
    assert isinstance(g, Graph) and g.name == "simple"
    dot = g.dot
    assert dot.startswith('digraph "simple" {\n') and dot.endswith("}\n")
    forward = nodes(cluster(dot, "cluster_forward"))
    backward = nodes(cluster(dot, "cluster_backward"))
    # inputs (the wrt one marked), one node per operation, constants, the output
    assert forward["in1"] == "x\\n(wrt)" and forward["in2"] == "y"
    ops = sorted(v for k, v in forward.items() if re.fullmatch(r"f\d+", k))
    assert ops == sorted(["np.exp", "*", "np.sum", "*"])
    assert "SCALE" in forward.values()
    assert forward["out"] == "simple\\n(output)"
    # backward: the seed, and exactly one gradient, for x
    assert backward["seed"] == "d_simple = 1\\n(seed)"
    assert [v for k, v in backward.items() if k.startswith("grad")] == ["d_x"]
    # values flow along labelled edges; y is read back by the backward sweep (dashed)
    found = edges(dot)
    assert ("in1", "f1", 'label="x"') in found
    stored = [(a, b) for a, b, attrs in found if "dashed" in (attrs or "")]
    assert stored and all(a.startswith(("f", "in")) and b.startswith("b") for a, b in stored)
    assert ("out", "seed") in [(a, b) for a, b, _ in found]


def test_deterministic():
    assert symdiff.graph(simple, wrt=("x", "y")).dot == symdiff.graph(simple, wrt=(0, 1)).dot
    g = symdiff.graph(looped, wrt="w")
    assert g.dot == symdiff.graph(looped, wrt="w").dot


def test_control_flow_is_drawn_as_nested_clusters():
    dot = symdiff.graph(looped, wrt=("w", "x")).dot
    labels = set(nodes(dot).values())
    assert {"push", "pop", "if", "merge", "new_tape"} <= labels
    assert 'label="for i in range"' in dot
    assert 'label="for i in reversed(range)"' in dot or 'label="for _ in reversed(range)"' in dot
    assert 'label="then"' in dot and 'label="else"' in dot
    assert {"d_w", "d_x"} <= labels
    assert any("bold" in (attrs or "") for _, _, attrs in edges(dot))  # carried values


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
@pytest.mark.parametrize("f", [simple, looped])
def test_real_dot_accepts_the_text(f):
    svg = symdiff.graph(f).svg()
    assert "<svg" in svg and "</svg>" in svg


def test_without_dot(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    g = symdiff.graph(simple)
    assert g._repr_svg_() is None
    with pytest.raises(GraphvizNotFoundError, match="Graphviz"):
        g.svg()
    g.save(str(tmp_path / "g.dot"))
    assert (tmp_path / "g.dot").read_text() == g.dot
    assert str(g) == g.dot


@pytest.mark.skipif(os.name == "nt", reason="a POSIX shell script stands in for dot")
def test_repr_svg_uses_dot(monkeypatch, tmp_path):
    fake = tmp_path / "dot"
    fake.write_text('#!/bin/sh\necho "<svg>$1</svg>"\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", os.pathsep.join([str(tmp_path), os.environ.get("PATH", "")]))
    assert symdiff.graph(simple)._repr_svg_() == "<svg>-Tsvg</svg>\n"


def test_unknown_format_and_failing_dot(tmp_path, monkeypatch):
    with pytest.raises(SymdiffError, match=r"\.jpeg"):
        render("digraph {}", "jpeg")
    fake = tmp_path / "dot"
    fake.write_text("#!/bin/sh\necho 'syntax error in line 1' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", os.pathsep.join([str(tmp_path), os.environ.get("PATH", "")]))
    if os.name != "nt":
        with pytest.raises(SymdiffError, match="dot failed: syntax error in line 1"):
            render("digraph {", "svg")


def test_dot_file_parses_with_graphviz_when_available(tmp_path):
    if shutil.which("dot") is None:
        pytest.skip("Graphviz is not installed")
    path = tmp_path / "g.dot"
    symdiff.graph(looped).save(str(path))
    done = subprocess.run(["dot", "-Tsvg", str(path)], capture_output=True)
    assert done.returncode == 0, done.stderr
