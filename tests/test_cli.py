"""The symdiff command: every subcommand's exit status and the shape of its output."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import symdiff
from symdiff.api.cli import main, parse_wrt

ROOT = Path(__file__).resolve().parent.parent

MODULE = """
import numpy as np

SCALE = 3.0


def loss(W, x, b):
    z = W @ x + b
    return SCALE * np.sum(np.tanh(z))


def relu_at_kink(x):
    return np.sum(np.maximum(x, 0.0))


def no_example(x):
    return x * x


WRT = {"loss": ("W", "b")}


def example_loss():
    rng = np.random.default_rng(0)
    return rng.normal(size=(2, 3)), rng.normal(size=3), rng.normal(size=2)


def loss_hand_grad(W, x, b):
    d_z = SCALE * (1.0 - np.tanh(W @ x + b) ** 2)
    return np.outer(d_z, x), d_z


def example_relu_at_kink():
    return (np.array([0.0, 1.0]),)  # at the kink, finite differences see 0.5, symdiff 0
"""

BAD = """
def with_try(x):
    try:
        y = x * 2
    except ValueError:
        y = x
    return y


def example_with_try():
    return (1.0,)
"""


@pytest.fixture()
def mod(tmp_path):
    path = tmp_path / "mymod.py"
    path.write_text(textwrap.dedent(MODULE))
    return str(path)


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


COMMANDS = ["show", "emit", "check", "demo", "graph", "regenerate"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_examples(capsys, command):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: symdiff {command}")
    assert "examples:\n  symdiff " + command in out


def test_top_level_help_and_no_command(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in COMMANDS:
        assert command in out
    assert "exit status" in out
    assert main([]) == 2
    assert "usage: symdiff" in capsys.readouterr().err


def test_parse_wrt():
    assert parse_wrt("W,b") == ("W", "b")
    assert parse_wrt("x") == "x"
    assert parse_wrt("0, 2") == (0, 2)
    assert parse_wrt(None) is None


def test_show_prints_the_gradient(capsys, mod):
    code, out, err = run(capsys, "show", f"{mod}:loss")
    assert code == 0 and err == ""
    assert out.startswith("def loss_grad(W, x, b):")
    assert "with respect to W, b." in out  # WRT from the module
    code, out, _ = run(capsys, "show", f"{mod}:loss", "--wrt", "x", "--value")
    assert code == 0
    assert out.startswith("def loss_value_and_grad(W, x, b):")
    assert "return loss, d_x" in out


def test_show_writes_the_gradient_for_a_backend(capsys, mod):
    pytest.importorskip("jax", reason="JAX is not installed")
    code, out, err = run(capsys, "show", f"{mod}:loss", "--backend", "jax")
    assert code == 0 and err == ""
    statements = [ln for ln in out.split('"""')[-1].splitlines() if not ln.strip().startswith("#")]
    assert "jnp." in out and not any(" np." in ln or "(np." in ln for ln in statements)
    code, out, err = run(capsys, "show", f"{mod}:loss", "--backend", "tensorflow")
    assert code == 2 and "no backend called 'tensorflow'" in err


def test_show_specialises_to_the_example_and_generic_does_not(capsys, mod):
    code, out, _ = run(capsys, "show", f"{mod}:loss")
    assert code == 0
    assert "Specialised for W: ndarray[float64, (n, n)], x: ndarray[float64, (n,)]" in out
    assert "d_W = np.outer(d_z, x)" in out and "unbroadcast" not in out
    code, out, _ = run(capsys, "show", f"{mod}:loss", "--generic")
    assert code == 0 and "Specialised" not in out
    assert "matmul_grad_a(" in out and "return d_W, d_b" in out
    code, out, _ = run(capsys, "show", f"{mod}:no_example")  # nothing to specialise to
    assert code == 0 and "Specialised" not in out and "def no_example_grad(x):" in out
    code, out, _ = run(capsys, "show", f"{mod}:loss", "--kind", "hessian", "--wrt", "x")
    assert code == 0 and "Specialised for W: ndarray" in out  # the tangent program
    code, out, _ = run(
        capsys, "show", f"{mod}:loss", "--kind", "hessian", "--wrt", "x", "--generic"
    )
    assert code == 0 and "Specialised" not in out


def test_emit_and_regenerate_specialise_unless_generic(capsys, mod, tmp_path):
    code, out, _ = run(capsys, "emit", mod)
    assert code == 0
    header = out.split('"""')[1]
    assert (
        "loss: with respect to W, b\n        specialised for W: ndarray[float64, (n, n)]" in header
    )
    assert "relu_at_kink: with respect to x\n        specialised for x: ndarray" in header
    code, out, _ = run(capsys, "emit", mod, "--generic")
    assert code == 0 and "specialised" not in out.lower()
    examples = tmp_path / "ex"
    examples.mkdir()
    (examples / "mymod.py").write_text(textwrap.dedent(MODULE))
    out_dir = tmp_path / "gen"
    assert run(capsys, "regenerate", "--examples", examples, "--out", out_dir)[0] == 0
    assert "Specialised for" in (out_dir / "mymod_grad.py").read_text()
    assert run(capsys, "regenerate", "--examples", examples, "--out", out_dir, "--check")[0] == 0
    code, out, _ = run(capsys, "regenerate", "--examples", examples, "--out", out_dir,
                       "--check", "--generic")  # fmt: skip
    assert code == 1 and "mymod_grad.py" in out


def test_check_and_demo_run_the_program_they_print(capsys, mod, tmp_path):
    for flags in ([], ["--generic"]):
        code, out, _ = run(capsys, "check", f"{mod}:loss", *flags)
        assert code == 0 and "verdict: ok" in out
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "mymod.py").write_text(textwrap.dedent(MODULE).replace("0.0, 1.0", "0.5, 1.0"))
    code, out, _ = run(capsys, "demo", folder)
    assert code == 0 and "Specialised for" in out
    code, out, _ = run(capsys, "demo", folder, "--generic")
    assert code == 0 and "Specialised for" not in out and "matmul_grad_a" in out


def test_a_shape_mistake_is_the_users_error_with_exit_2(capsys, tmp_path):
    path = tmp_path / "shapes.py"
    path.write_text(textwrap.dedent(SHAPES))
    for command in ("show", "check", "emit"):
        code, _, err = run(capsys, command, f"{path}:loss")
        assert code == 2, err
        assert err.startswith(f"error: {path}:5:") or "shapes.py:5:" in err.splitlines()[0]
        assert "loss raised ValueError: matmul" in err and "bug in symdiff" not in err
    assert run(capsys, "show", f"{path}:loss", "--generic")[0] == 0  # no types, no error yet


SHAPES = """
import numpy as np

def loss(W, x):
    return np.sum(W @ x)

def example_loss():
    return np.ones((2, 3)), np.ones(4)
"""


def test_show_a_whole_file_shows_every_function_with_an_example(capsys, mod):
    code, out, _ = run(capsys, "show", mod)
    assert code == 0
    assert "def loss_grad(" in out and "def relu_at_kink_grad(" in out
    assert "no_example" not in out


def test_emit_to_a_folder_and_to_stdout(capsys, mod, tmp_path):
    code, out, _ = run(capsys, "emit", f"{mod}:loss", "-o", tmp_path / "out")
    assert code == 0
    written = tmp_path / "out" / "mymod_grad.py"
    assert out.strip() == f"wrote {written} (loss)"
    text = written.read_text()
    assert "loss: with respect to W, b" in text
    assert "Source: mymod.py" in text  # no project marker around: just the file name
    code, out, _ = run(capsys, "emit", f"{mod}:loss")
    assert code == 0 and out == text
    code, out, _ = run(capsys, "emit", mod, "--wrt", "0", "-o", tmp_path / "both.py")
    assert code == 0
    both = (tmp_path / "both.py").read_text()
    assert "loss: with respect to W\n" in both and "relu_at_kink: with respect to x" in both


def test_check_passes_and_prints_the_table(capsys, mod):
    code, out, _ = run(capsys, "check", f"{mod}:loss")
    assert code == 0
    lines = out.splitlines()
    header = next(ln for ln in lines if ln.startswith("argument"))
    assert header.split() == ["argument", "shape", "max", "abs", "error", "max", "rel", "error",
                              "verdict"]  # fmt: skip
    rows = [ln.split() for ln in lines if ln.startswith(("W ", "b "))]
    assert [r[0] for r in rows] == ["W", "b"]
    assert [r[-1] for r in rows] == ["ok", "ok"]
    assert "hand-written loss_hand_grad: max abs difference" in out
    assert lines[-1] == "verdict: ok"


def test_check_failure_exits_1(capsys, mod):
    code, out, _ = run(capsys, "check", f"{mod}:relu_at_kink")
    assert code == 1
    assert "FAIL" in out and out.splitlines()[-1] == "verdict: FAIL"
    code, out, _ = run(capsys, "check", mod)  # one failure among two: still 1
    assert code == 1 and "verdict: ok" in out


def test_errors_exit_2_with_the_located_message_and_no_traceback(capsys, tmp_path, mod):
    bad = tmp_path / "bad.py"
    bad.write_text(textwrap.dedent(BAD))
    code, out, err = run(capsys, "show", f"{bad}:with_try")
    assert code == 2 and out == ""
    assert err.startswith("error: ")
    assert f"{bad.name}:3:5:" in err or "bad.py:3:5:" in err
    assert "hint:" in err and "Traceback" not in err
    code, _, err = run(capsys, "--debug", "show", f"{bad}:with_try")
    assert code == 2 and "Traceback" in err
    code, _, err = run(capsys, "show", f"{bad}:with_try", "--debug")
    assert code == 2 and "Traceback" in err


@pytest.mark.parametrize(
    "argv, words",
    [
        (["show", "missing.py:f"], "no such file: missing.py"),
        (["show", "{mod}:nope"], "defines no function 'nope'"),
        (["check", "{mod}:no_example"], "example_no_example()"),
        (["graph", "{mod}"], "several functions"),
        (["demo", "{tmp}/nowhere"], "no examples folder"),
    ],
)
def test_usage_errors_exit_2(capsys, mod, tmp_path, argv, words):
    argv = [a.format(mod=mod, tmp=tmp_path) for a in argv]
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert words in err


def test_a_module_that_raises_on_import(capsys, tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("raise RuntimeError('boom')\n")
    code, _, err = run(capsys, "show", f"{path}:f")
    assert code == 2
    assert "importing" in err and "RuntimeError: boom" in err and "Traceback" not in err


def test_graph_prints_dot_and_writes_files(capsys, mod, tmp_path):
    code, out, _ = run(capsys, "graph", f"{mod}:loss")
    assert code == 0
    assert out.startswith('digraph "loss" {') and out.rstrip().endswith("}")
    assert "cluster_forward" in out and "cluster_backward" in out
    code, again, _ = run(capsys, "graph", f"{mod}:loss")
    assert again == out  # deterministic
    code, msg, _ = run(capsys, "graph", f"{mod}:loss", "-o", tmp_path / "g.dot")
    assert code == 0 and (tmp_path / "g.dot").read_text() == out


def test_graph_hides_shape_bookkeeping_unless_asked(capsys, mod):
    code, hidden, _ = run(capsys, "graph", f"{mod}:loss")
    code2, shown, _ = run(capsys, "graph", f"{mod}:loss", "--shapes")
    assert code == code2 == 0
    # here the bookkeeping is only what unbroadcast reads for its shape: edges, no nodes
    assert set(hidden.splitlines()) < set(shown.splitlines())
    assert all("->" in line for line in set(shown.splitlines()) - set(hidden.splitlines()))


def test_graph_svg_without_dot_is_a_clear_error(capsys, mod, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    code, _, err = run(capsys, "graph", f"{mod}:loss", "-o", tmp_path / "g.svg")
    assert code == 2
    assert "Graphviz" in err and "-o FILE.dot" in err
    assert not (tmp_path / "g.svg").exists()


@pytest.mark.skipif(os.name == "nt", reason="a POSIX shell script stands in for dot")
def test_graph_svg_runs_dot(capsys, mod, tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "dot"
    fake.write_text('#!/bin/sh\ncat > "$(dirname "$0")/input.dot"\necho "<svg>$1</svg>"\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", os.pathsep.join([str(bin_dir), os.environ.get("PATH", "")]))
    code, _, _ = run(capsys, "graph", f"{mod}:loss", "-o", tmp_path / "g.svg")
    assert code == 0
    assert (tmp_path / "g.svg").read_text() == "<svg>-Tsvg</svg>\n"
    assert (bin_dir / "input.dot").read_text().startswith('digraph "loss"')


def test_demo_on_a_folder(capsys, mod, tmp_path):
    folder = Path(mod).parent
    code, out, _ = run(capsys, "demo", folder)
    assert code == 1  # relu_at_kink fails its check on purpose
    assert out.startswith("[1/2] mymod.loss ...")
    assert "[2/2] mymod.relu_at_kink ..." in out
    for section in ("source (", "generated gradient:", "finite-difference check:", "timing:"):
        assert section in out
    summary = out[out.index("summary\n") :].splitlines()
    assert summary[1].split()[:3] == ["example", "check", "max"]
    assert summary[3].split()[:2] == ["mymod.loss", "ok"]
    assert summary[4].split()[:2] == ["mymod.relu_at_kink", "FAIL"]
    assert out.splitlines()[-1] == "FAILED: mymod.relu_at_kink"
    assert "hand-written" in out  # loss has a hand-written gradient, timed


def test_demo_reports_an_example_symdiff_refuses(capsys, tmp_path):
    (tmp_path / "bad.py").write_text(textwrap.dedent(BAD))
    code, out, _ = run(capsys, "demo", tmp_path)
    assert code == 1
    assert "error: " in out and "bad.with_try  error" in out


def test_regenerate_writes_and_checks(capsys, mod, tmp_path):
    examples = Path(mod).parent
    out_dir = tmp_path / "gen"
    code, out, _ = run(capsys, "regenerate", "--examples", examples, "--out", out_dir, "--check")
    assert code == 1
    assert "mymod_grad.py (missing)" in out and "refresh with: symdiff regenerate" in out
    code, out, _ = run(capsys, "regenerate", "--examples", examples, "--out", out_dir)
    assert code == 0 and (out_dir / "mymod_grad.py").exists()
    (out_dir / "old_grad.py").write_text("# stale\n")
    code, out, _ = run(capsys, "regenerate", "--examples", examples, "--out", out_dir, "--check")
    assert code == 1 and "old_grad.py (no example produces it)" in out
    code, out, _ = run(capsys, "regenerate", "--examples", examples, "--out", out_dir)
    assert code == 0 and not (out_dir / "old_grad.py").exists()
    code, out, _ = run(capsys, "regenerate", "--examples", examples, "--out", out_dir, "--check")
    assert code == 0 and "up to date" in out


def test_python_dash_m_symdiff(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-m", "symdiff", "--version"], capture_output=True, text=True, env=env,
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0
    assert done.stdout.strip() == f"symdiff {symdiff.__version__}"
    done = subprocess.run(
        [sys.executable, "-m", "symdiff", "show", "nowhere.py:f"], capture_output=True,
        text=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == "error: no such file: nowhere.py\n"
