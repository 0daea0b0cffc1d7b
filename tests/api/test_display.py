"""How derivative objects, their sources and check reports show themselves in a notebook.

Each display is tested through its ``_repr_*_`` methods, and through IPython's own display
machinery when IPython is installed (those tests are skipped otherwise)."""

import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import symdiff
from symdiff.api.display import SourceText, fenced, highlight_html


def mse(w, x, y):
    """Mean squared error of a linear model."""
    return np.mean((x @ w - y) ** 2)


def wave(x):
    return np.sin(x) * 2.0


def waits(x):
    return np.sum(defined_below(x))  # noqa: F821  (the test defines it later)


def square(x):
    return x * x


X = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]])
W = np.array([0.3, -0.2])
Y = np.array([1.0, 0.0, 2.0])


# ----------------------------------------------------------------------------- .source


def test_source_is_the_plain_text_in_every_respect(capsys):
    src = symdiff.grad(mse).source
    plain = str(src)
    assert isinstance(src, SourceText) and isinstance(src, str) and type(plain) is str
    assert src == plain and hash(src) == hash(plain) and plain == src
    assert src + "#" == plain + "#" and "#" + src == "#" + plain
    assert repr(src) == repr(plain) and src.splitlines() == plain.splitlines()
    print(src)
    assert capsys.readouterr().out == plain + "\n"
    assert pickle.loads(pickle.dumps(src)) == plain
    assert symdiff.gradient_source(mse) == plain


def test_every_derivative_source_is_shown_as_code():
    for obj in (
        symdiff.grad(mse),
        symdiff.value_and_grad(mse),
        symdiff.jvp(wave),
        symdiff.vjp(wave),
        symdiff.jacobian(wave),
        symdiff.jacobian(wave, mode="rev"),
        symdiff.hessian(mse),
        symdiff.hvp(mse),
    ):
        assert isinstance(obj.source, SourceText), obj
    assert isinstance(symdiff.hessian(mse).gradient_source, SourceText)


def test_source_html_is_highlighted_with_pygments():
    pytest.importorskip("pygments")
    page = symdiff.grad(mse).source._repr_html_()
    assert page.startswith("<pre") and page.endswith("</pre>")
    assert '<span style="color: #008000; font-weight: bold">def</span>' in page
    assert "mse_grad" in page and "d_w" in page and "style=" in page and "class=" not in page


def test_without_pygments_the_source_is_escaped_text(monkeypatch):
    monkeypatch.setitem(sys.modules, "pygments", None)  # import pygments raises ImportError
    text = "def f(x):\n    return x < 1 and '&'\n"
    page = highlight_html(text)
    assert page.startswith("<pre") and "<span" not in page
    assert "x &lt; 1 and &#x27;&amp;&#x27;" in page


def test_markdown_fences_the_code():
    md = symdiff.grad(mse).source._repr_markdown_()
    assert md.startswith("```python\ndef mse_grad(w, x, y):\n") and md.endswith("\n```\n")
    assert fenced("a = '```'") == "````python\na = '```'\n````\n"


def test_plain_text_display_is_the_code_not_its_repr():
    class Printer:  # what IPython's pretty printer hands _repr_pretty_
        def __init__(self):
            self.out = []

        def text(self, s):
            self.out.append(s)

    p = Printer()
    src = symdiff.grad(mse).source
    src._repr_pretty_(p, False)
    assert p.out == [str(src)] and "\\n" not in p.out[0]


# ----------------------------------------------------------------------------- objects


def test_repr_says_what_of_which_function_wrt_what_how_and_whether_built():
    cases = {
        symdiff.grad(
            mse
        ): "<symdiff mse_grad: gradient of mse(w, x, y) wrt w, reverse mode, built>",
        symdiff.value_and_grad(mse, wrt=("w", "y")): (
            "<symdiff mse_value_and_grad: value and gradient of mse(w, x, y) wrt w, y, "
            "reverse mode, built>"
        ),
        symdiff.jvp(wave): (
            "<symdiff wave_jvp: Jacobian-vector product of wave(x) wrt x, forward mode, built>"
        ),
        symdiff.vjp(wave): (
            "<symdiff wave_vjp: vector-Jacobian product of wave(x) wrt x, reverse mode, built>"
        ),
        symdiff.jacobian(wave, mode="fwd"): (
            "<symdiff wave_jacobian: Jacobian of wave(x) wrt x, forward mode, built>"
        ),
        symdiff.hessian(mse): (
            "<symdiff mse_hessian: Hessian of mse(w, x, y) wrt w, forward mode over reverse "
            "mode, built>"
        ),
        symdiff.hvp(mse): (
            "<symdiff mse_hvp: Hessian-vector product of mse(w, x, y) wrt w, forward mode "
            "over reverse mode, built>"
        ),
    }
    for obj, text in cases.items():
        assert repr(obj) == text


def test_an_automatic_jacobian_says_which_mode_its_last_call_used():
    jac = symdiff.jacobian(wave)
    assert "forward or reverse mode, whichever takes fewer passes, built" in repr(jac)
    jac(np.array([0.1, 0.2]))
    assert "the last call used reverse mode" in repr(jac)  # as many outputs as inputs: reverse


def test_methods_show_the_callers_arguments():
    class Model:
        def loss(self, w):
            return np.sum(w * w)

    g = symdiff.grad(Model().loss)
    assert "gradient of loss(w) wrt w" in repr(g)


def test_a_gradient_waiting_for_a_name_shows_why(monkeypatch):
    g = symdiff.grad(waits)
    assert not g.built and repr(g).endswith("reverse mode, not built yet>")
    page = g._repr_html_()
    assert "not built yet" in page and "defined_below" in page and "hint: define it" in page
    assert "not built yet:\n\n```text\n" in g._repr_markdown_()
    monkeypatch.setitem(globals(), "defined_below", square)
    page = g._repr_html_()  # showing the code builds it, now that the name exists
    assert g.built and "waits_grad" in page and "not built" not in page
    assert repr(g).endswith("built>")


def test_html_and_markdown_of_a_derivative_object():
    g = symdiff.grad(mse)
    page = g._repr_html_()
    assert page.startswith("<div><p") and page.endswith("</pre></div>")
    assert "<b>mse_grad</b>: gradient of <code>mse(w, x, y)</code>" in page
    assert "with respect to <code>w</code> &middot; reverse mode" in page
    assert "test_display.py:" in page
    md = g._repr_markdown_()
    assert md.startswith("**mse_grad**: gradient of `mse(w, x, y)` with respect to `w`")
    assert "```python\ndef mse_grad(w, x, y):" in md


def test_docstrings_say_what_is_computed_and_from_which_line():
    doc = symdiff.grad(mse).__doc__
    first, usage, own_title, own = doc.split("\n\n")
    first = first.replace("\n", " ")
    assert first.startswith(
        "The gradient of mse(w, x, y) with respect to w (reverse mode), generated by symdiff from "
    )
    assert first.endswith(f"test_display.py:{mse.__code__.co_firstlineno} (mse).")
    assert usage.replace("\n", " ").startswith("Called with the arguments of mse, it returns")
    assert (
        own_title == "mse's own docstring:" and own == "    Mean squared error of a linear model."
    )
    for obj, words in (
        (symdiff.value_and_grad(wave), "returns (value, gradients)"),
        (symdiff.jvp(wave), "followed by one tangent per wrt argument"),
        (symdiff.vjp(wave), "pullback(cotangent) is cotangent·J"),
        (symdiff.jacobian(wave), "shaped f(x).shape + x.shape"),
        (symdiff.hessian(mse), "shaped x.shape + x.shape"),
        (symdiff.hvp(mse), "it returns H·v"),
    ):
        assert max(len(line) for line in obj.__doc__.splitlines()) <= 88, obj
        text = obj.__doc__.replace("\n", " ")
        assert words in text and "`.source` shows the code." in text, obj
        assert ("mse's own docstring" in text) == (obj.__name__.startswith("mse")), obj
    assert "own docstring" not in symdiff.grad(wave).__doc__  # wave has none


# ----------------------------------------------------------------------------- check reports


def test_check_report_table_in_html_and_text():
    report = symdiff.check_grad(mse, W, X, Y, wrt=("w", "x"))
    page = report._repr_html_()
    assert page.startswith("<table") and page.endswith("</table>")
    assert "gradient check of mse (rtol=1e-05, atol=1e-06): passed" in page
    for word in ("argument", "dtype", "checked", "max abs error", "verdict", "float64", "6 of 6"):
        assert word in page
    assert page.count("<tr>") == 3 and page.count('color: #070">ok') == 2
    text = str(report)
    assert text.splitlines()[0] == "gradient check of mse (rtol=1e-05, atol=1e-06)"
    assert text.splitlines()[1].split() == ["argument", "shape", "max", "abs", "error", "max",
                                            "rel", "error", "verdict"]  # fmt: skip


def test_a_failing_report_is_marked_in_red():
    report = symdiff.check_grad(
        mse, W, X, Y, grad_fn=lambda w, x, y: 2 * symdiff.grad(mse)(w, x, y),
        raise_on_failure=False,
    )  # fmt: skip
    page = report._repr_html_()
    assert "FAILED" in page and 'color: #c00">FAIL' in page


def test_large_arguments_say_they_were_sampled():
    x = np.linspace(0.0, 1.0, 100)
    page = symdiff.check_grad(sines, x)._repr_html_()
    assert "64 of 100 + 1 direction" in page


def sines(x):
    return np.sum(np.sin(x))


# ----------------------------------------------------------------------------- through IPython


def test_ipython_formats_every_object_as_notebooks_show_it():
    formatters = pytest.importorskip("IPython.core.formatters", reason="IPython is not installed")
    fmt = formatters.DisplayFormatter()
    g = symdiff.grad(mse)
    data, _ = fmt.format(g)
    assert data["text/plain"] == repr(g)
    assert data["text/html"] == g._repr_html_() and "text/markdown" in data
    data, _ = fmt.format(g.source)
    assert data["text/plain"] == str(g.source)  # the code as it reads, not a quoted string
    assert data["text/html"].startswith("<pre")
    report = symdiff.check_grad(mse, W, X, Y)
    data, _ = fmt.format(report)
    assert data["text/plain"] == str(report) and data["text/html"].startswith("<table")


def test_the_notebook_page_runs_and_shows_todays_output(tmp_path):
    """docs/notebook.md: its Python blocks run in order, and the reprs they quote in
    comments are the ones printed."""
    root = Path(__file__).resolve().parents[2]
    page = (root / "docs" / "notebook.md").read_text()
    script = "\n".join(re.findall(r"```python\n(.*?)```", page, re.S))
    (tmp_path / "page.py").write_text(script)
    done = subprocess.run(
        [sys.executable, "page.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(root), "PATH": ""},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    quoted = re.findall(r"^# (<symdiff [^.]*>)$", script, re.M)
    assert len(quoted) >= 2 and all(q in done.stdout for q in quoted)
