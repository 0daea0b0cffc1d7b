"""Emitted modules: where `symdiff emit -o` writes, that the text is lint-clean at 88
columns (line length included), and that docstrings name the user's file and line."""

import shutil
import subprocess
import textwrap

import numpy as np
import pytest

import symdiff
from symdiff.api.cli import main, output_path
from symdiff.api.copied import HELPERS, WIDTH, fitted, helper_source, needed, renamed
from symdiff.backend.fmt import format_source

MODULE = """
import numpy as np


def loss(W, x):
    return np.sum(np.tanh(W @ x))


def example_loss():
    return (np.ones((2, 3)), np.ones(3))
"""

# a module of its own with a function called like a runtime helper: symdiff's copy is
# renamed, which must keep the helper's comments and fit the line length all the same
CLASH = """
import numpy as np


def unbroadcast(v):
    return v


def loss(W, x, b):
    return np.sum(np.tanh(W @ x + b)) + np.sum(unbroadcast(x) ** 2)


def example_loss():
    return (np.ones((2, 3)), np.ones(3), np.ones(2))
"""


@pytest.fixture()
def mod(tmp_path):
    path = tmp_path / "layer.py"
    path.write_text(textwrap.dedent(MODULE))
    return path


def emit_to(capsys, mod, out):
    code = main(["emit", f"{mod}:loss", "-o", str(out)])
    assert code == 0
    return capsys.readouterr().out


def printed(capsys, mod):
    assert main(["emit", f"{mod}:loss"]) == 0
    return capsys.readouterr().out


def test_a_name_with_another_extension_is_a_file_not_a_folder(capsys, mod, tmp_path):
    text = printed(capsys, mod)
    out = tmp_path / "out.txt"
    said = emit_to(capsys, mod, out)
    assert out.is_file() and out.read_text() == text
    assert said == f"wrote {out} (loss)\n"


def test_an_existing_file_without_extension_is_overwritten(capsys, mod, tmp_path):
    out = tmp_path / "GRADS"
    out.write_text("old\n")
    emit_to(capsys, mod, out)
    assert out.is_file() and out.read_text() == printed(capsys, mod)


@pytest.mark.parametrize("name", ["fresh", "fresh/", "existing.d"])
def test_folders_get_the_first_files_module(capsys, mod, tmp_path, name):
    if name == "existing.d":
        (tmp_path / name).mkdir()
    emit_to(capsys, mod, tmp_path / name if not name.endswith("/") else f"{tmp_path}/{name}")
    written = tmp_path / name.rstrip("/") / "layer_grad.py"
    assert written.is_file() and written.read_text() == printed(capsys, mod)


def test_output_path_rule():
    assert output_path("a/b.py", "m_grad.py") == "a/b.py"
    assert output_path("a/b.txt", "m_grad.py") == "a/b.txt"
    assert output_path("a/b", "m_grad.py").replace("\\", "/") == "a/b/m_grad.py"
    assert output_path("a/b/", "m_grad.py").replace("\\", "/") == "a/b/m_grad.py"


def lines_too_long(text, width=WIDTH):
    return [line for line in text.splitlines() if len(line) > width]


@pytest.mark.parametrize("name", sorted(HELPERS))
def test_every_copied_helper_fits_88_columns(name):
    assert lines_too_long(format_source(helper_source(name, {}))) == []
    longer = {h: h + "_renamed_longer" for h in HELPERS}  # renames lengthen code lines only
    assert lines_too_long(format_source(helper_source(name, longer))) == []


def test_a_rename_keeps_the_helpers_comments_and_layout():
    funcs, _ = needed(["matmul_grad_a"])
    assert "_as_matrices" in funcs
    plain = helper_source("matmul_grad_a", {})
    moved = helper_source("matmul_grad_a", {"_as_matrices": "_as_matrices_1"})
    assert "# the weight gradient of a layer" in moved
    assert moved == plain.replace("_as_matrices(", "_as_matrices_1(")


def test_renaming_a_function_and_names_in_an_f_string():
    text = 'def f(x):\n    # keep me\n    return g(x) + h(f"{g(x)}")  # and me\n'
    out = renamed(text, {"g": "g_2", "f": "f_2"})
    assert out == 'def f_2(x):\n    # keep me\n    return g_2(x) + h(f"{g_2(x)}")  # and me\n'


def test_fitting_rewraps_only_what_is_too_wide():
    text = (
        "def f(x):\n"
        '    """A docstring whose first paragraph runs past the edge of the page, which is '
        'far too long.\n\n        a  = laid out by hand\n    """\n'
        "    # a comment that is short\n"
        "    return x  # " + "word " * 20 + "\n"
    )
    out = fitted(text, 60)
    assert "        a  = laid out by hand\n" in out  # a paragraph that fits keeps its lines
    assert "    # a comment that is short\n" in out
    assert all(len(line) <= 60 for line in out.splitlines()[:3])
    assert out.splitlines()[-1] == text.splitlines()[-1]  # code lines are left to black


def run_ruff(path):
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed")
    return subprocess.run(
        [ruff, "check", "--isolated", "--no-cache", "--select", "E,F,W,I", str(path)],
        capture_output=True, text=True,
    )  # fmt: skip


@pytest.mark.parametrize("source", [MODULE, CLASH], ids=["plain", "renamed-helpers"])
def test_an_emitted_module_passes_ruff_with_line_length(capsys, tmp_path, source):
    path = tmp_path / "subject.py"
    path.write_text(textwrap.dedent(source))
    out = tmp_path / "subject_grad.py"
    generic = ["--generic"] if source is CLASH else []  # runtime helpers: the generic program's
    main(["emit", str(path), "-o", str(out), "--kind", "grad,hessian,jacobian,hvp", *generic])
    capsys.readouterr()
    text = out.read_text()
    if source is CLASH:
        assert "def unbroadcast_1(" in text
    done = run_ruff(out)
    assert done.returncode == 0, done.stdout


def test_the_generated_examples_pass_ruff_with_line_length():
    done = run_ruff("generated")
    assert done.returncode == 0, done.stdout


def xent(z, y):
    m = np.max(z)
    return np.log(np.sum(np.exp(z - m))) + m - np.sum(y * z)


def square_sum(x):
    return np.sum(np.sin(x)) ** 2


@pytest.mark.parametrize(
    "make",
    [lambda: symdiff.hvp(xent), lambda: symdiff.grad(symdiff.grad(square_sum))],
    ids=["hvp", "grad-of-grad"],
)
def test_docstrings_of_derivatives_read_back_name_the_users_file(make):
    obj = make()
    user = xent if obj.__name__.startswith("xent") else square_sum
    where = f"tests/api/test_export_output.py:{user.__code__.co_firstlineno} ({user.__name__})"
    for text in (obj.source, symdiff.emit(obj)):
        assert "<symdiff " not in text
        assert f"Generated by symdiff {symdiff.__version__} from {where}" in " ".join(text.split())
