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


def huber(pred, target, delta=1.0):
    r = pred - target
    a = np.abs(r)
    return np.mean(np.where(a <= delta, 0.5 * r**2, delta * (a - 0.5 * delta)))


def rnn(Wx, Wh, b, xs, h0):
    h = h0
    for x_t in xs:
        h = np.tanh(Wx @ x_t + Wh @ h + b)
    return np.sum(h * h)


def product(x, y):
    return x * y


def branchy(x):
    if x > 0:
        y = x * x
    else:
        y = -x
    return y


SHAPE_LABELS = {"np.shape", "np.size", "np.broadcast_shapes", "shape", "size", "len"}


def test_the_seed_feeds_where_the_backward_sweep_starts():
    # the node computing 1 / n from the seed (the mean's adjoint), the first adjoint of a
    # loop's result, each branch's adjoint, or the gradient itself when it is a forward value
    cases = {
        (huber, 0): ["/"],
        (rnn, ("Wx", "Wh", "b")): ["+"],  # d_h = h + h
        (product, 0): ["d_x"],
        (simple, 0): ["np.broadcast_to"],  # the seed times SCALE, as an array
    }
    for (f, wrt), starts in cases.items():
        dot = symdiff.graph(f, wrt=wrt).dot
        labels = nodes(dot)
        fed = [labels[b] for a, b, _ in edges(dot) if a == "seed"]
        assert fed == starts, f.__name__
    dot = symdiff.graph(branchy).dot
    labels = nodes(dot)
    fed = [labels[b] for a, b, _ in edges(dot) if a == "seed"]
    assert fed == ["+", "np.broadcast_to"]  # x + x in one branch, −(seed as an array) in the other


def test_shape_bookkeeping_is_hidden_unless_asked_for():
    hidden = symdiff.graph(huber).dot
    shown = symdiff.graph(huber, shapes=True).dot
    assert not SHAPE_LABELS & set(nodes(hidden).values())
    assert {"np.shape", "np.size", "np.broadcast_shapes"} <= set(nodes(shown).values())
    assert "shape bookkeeping hidden (5 nodes)" in hidden and "hidden" not in shown
    # unbroadcast(g, x) reads x for its shape only: one edge in, the gradient, when hidden
    for dot, into in ((hidden, 1), (shown, 2)):
        labels = nodes(dot)
        for nid, label in labels.items():
            if label == "unbroadcast":
                assert sum(1 for _, b, _ in edges(dot) if b == nid) == into
    # nothing is hidden that carries a derivative: the same gradient boxes and operations
    ops = lambda dot: sorted(v for v in nodes(dot).values() if v not in SHAPE_LABELS)  # noqa: E731
    assert ops(hidden) == ops(shown)
    assert "len" in nodes(symdiff.graph(rnn, shapes=True).dot).values()
    assert "len" not in nodes(symdiff.graph(rnn).dot).values()


def test_the_inputs_are_on_top_and_the_seed_right_of_them():
    dot = symdiff.graph(rnn, wrt=("Wx", "Wh", "b")).dot
    assert "{ rank=same; in1; in2; in3; in4; in5; in5 -> seed [style=invis]; }" in dot
    assert 'newrank="true"' in dot


def biggest(x, y):
    return max(x, y)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
@pytest.mark.parametrize(
    "f, wrt",
    [(rnn, ("Wx", "Wh", "b")), (huber, 0), (looped, ("w", "x")), (biggest, ("x", "y")),
     (simple, 0), (product, ("x", "y"))],
)  # fmt: skip
def test_dot_draws_forward_left_and_backward_right(f, wrt):
    """Where Graphviz puts the nodes (``-Tplain``: ``node name x y ...``) in the text the
    pictures are rendered from (for biggest, .dot itself comes out mirrored)."""
    dot = symdiff.graph(f, wrt=wrt).arranged()
    done = subprocess.run(["dot", "-Tplain"], input=dot, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    x = {ln.split()[1]: float(ln.split()[2]) for ln in done.stdout.splitlines()
         if ln.startswith("node ")}  # fmt: skip
    forward = nodes(cluster(dot, "cluster_forward"))
    backward = nodes(cluster(dot, "cluster_backward"))
    assert max(x[n] for n in forward) < min(x[n] for n in backward)


def test_notebooks_get_the_picture_or_what_to_install(monkeypatch, tmp_path):
    g = symdiff.graph(huber)
    assert re.fullmatch(r"<symdiff Graph of huber: \d+ nodes; \.dot, \.svg\(\), \.save\(path\)>",
                        repr(g))  # fmt: skip
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot
    assert g.arranged() == g.dot  # nothing to ask: the text as it is
    bundle = g._repr_mimebundle_()
    assert set(bundle) == {"text/html", "text/plain"}
    assert (
        "apt install graphviz" in bundle["text/html"]
        and "brew install graphviz" in bundle["text/plain"]
    )
    assert "digraph &quot;huber&quot;" in bundle["text/html"]  # the DOT text, escaped
    fake = tmp_path / "dot"
    fake.write_text('#!/bin/sh\necho "<svg>$1</svg>"\n')
    fake.chmod(0o755)
    assert g._repr_mimebundle_() == {"image/svg+xml": "<svg>-Tsvg</svg>\n"}


def test_ipython_shows_the_graph_or_the_hint(monkeypatch, tmp_path):
    formatters = pytest.importorskip("IPython.core.formatters", reason="IPython is not installed")
    monkeypatch.setenv("PATH", str(tmp_path))
    data, _ = formatters.DisplayFormatter().format(symdiff.graph(huber))
    assert "image/svg+xml" not in data and "apt install graphviz" in data["text/html"]
