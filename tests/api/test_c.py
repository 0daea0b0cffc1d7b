"""symdiff.emit_c, symdiff.c_grad and ``symdiff emit --lang c``: the public C interface."""

import math
from pathlib import Path

import numpy as np
import pytest

import symdiff
from symdiff import CBackendError, WrtError
from symdiff.api.c import cache_dir
from symdiff.api.cli import main

from ..backend.c.compiling import STRICT, needs_cc, private_cache  # noqa: F401  (autouse)

ROOT = Path(__file__).resolve().parents[2]


def loss(W, x, b):
    z = W @ x + b
    return np.sum(np.tanh(z) ** 2)


def loop(x: float, n: int):
    y = x
    for _ in range(n):
        y = math.sin(y) * x
    return y


def test_emit_c_writes_a_header_and_a_source(tmp_path):
    code = symdiff.emit_c(
        loss, np.ones((2, 3)), np.ones(3), np.ones(2), wrt=("W", "b"), name="dense"
    )
    assert (
        "int dense_grad(const double *W, const double *x, const double *b, double *d_W, double *d_b);"
        in code.header
    )
    assert "int dense_value_and_grad(" in code.header and "#ifndef DENSE_H" in code.header
    assert "W: 2x3, x: 3, b: 2" in code.header
    h, c = code.write(tmp_path / "out")
    assert h.read_text() == code.header
    assert c.read_text().startswith('#include "dense.h"\n') and code.source in c.read_text()


@needs_cc
def test_the_function_itself_is_written_too():
    import ctypes

    from symdiff.api.c import build

    code = symdiff.emit_c(loop, 0.5, 3, wrt="x")
    assert "int loop(double x, long n, double *value);" in code.header
    lib = ctypes.CDLL(str(build(code.source, STRICT)))
    value = ctypes.c_double()
    lib.loop.argtypes = [ctypes.c_double, ctypes.c_long, ctypes.c_void_p]
    assert lib.loop(0.5, 3, ctypes.byref(value)) == 0
    assert value.value == pytest.approx(loop(0.5, 3), rel=1e-15)
    assert "tape" not in code.source.split("int loop_grad")[0]


def test_a_name_that_cannot_name_c_functions_is_refused():
    with pytest.raises(CBackendError, match="C identifier"):
        symdiff.emit_c(loop, 0.5, 3, name="my-loop")


def test_a_fault_of_the_c_backend_is_an_internal_error(monkeypatch):
    from symdiff import InternalError
    from symdiff.backend.c import kernels

    def broken(self, s, kind, name, t):
        raise KeyError("a kernel bug")

    monkeypatch.setattr(kernels.Kernels, "write", broken)
    with pytest.raises(InternalError, match="a kernel bug") as err:
        symdiff.emit_c(loss, np.ones((2, 3)), np.ones(3), np.ones(2))
    assert "def loss" in err.value.ir and "def loss_grad" in err.value.source


def test_cli_refuses_what_c_does_not_write(capsys):
    target = str(ROOT / "examples" / "newton.py:cube_root")
    assert main(["emit", target, "--lang", "c", "--kind", "hessian"]) == 2
    assert "--lang c" in capsys.readouterr().err


def test_integer_arguments_are_not_differentiated():
    with pytest.raises(WrtError):
        symdiff.emit_c(loop, 0.5, 3, wrt=1)


@needs_cc
def test_grad_with_the_c_backend_is_c_grad():
    rng = np.random.default_rng(2)
    W, x, b = rng.normal(size=(2, 3)), rng.normal(size=3), rng.normal(size=2)
    g = symdiff.grad(loss, wrt=("W", "b"), backend="c")
    assert isinstance(g, symdiff.api.c.CGradient)
    for got, want in zip(g(W, x, b), symdiff.grad(loss, wrt=("W", "b"))(W, x, b)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@needs_cc
def test_c_grad_returns_what_grad_returns():
    rng = np.random.default_rng(1)
    W, x, b = rng.normal(size=(2, 3)), rng.normal(size=3), rng.normal(size=2)
    dW, db = symdiff.c_grad(loss, wrt=("W", "b"), cflags=STRICT)(W, x, b)
    rW, rb = symdiff.grad(loss, wrt=("W", "b"))(W, x, b)
    assert dW.shape == (2, 3) and db.shape == (2,)
    np.testing.assert_allclose(dW, rW, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(db, rb, rtol=1e-12, atol=1e-12)
    g = symdiff.c_grad(loop, 0.5, 3, wrt=0, cflags=STRICT)
    assert type(g(0.5, 3)) is float
    assert g(0.5, 3) == pytest.approx(symdiff.grad(loop)(0.5, 3), rel=1e-12)


@needs_cc
def test_new_shapes_get_their_own_code_and_the_library_is_cached():
    g = symdiff.c_grad(loss, wrt="x", cflags=STRICT)
    small = g(np.ones((2, 3)), np.ones(3), np.ones(2))
    large = g(np.ones((4, 5)), np.ones(5), np.ones(4))
    assert small.shape == (3,) and large.shape == (5,)
    assert "4x5" in g.code(np.ones((4, 5)), np.ones(5), np.ones(4)).header
    libraries = sorted(cache_dir().glob("symdiff_*.so"))
    again = symdiff.c_grad(loss, wrt="x", cflags=STRICT)
    again(np.ones((2, 3)), np.ones(3), np.ones(2))
    assert sorted(cache_dir().glob("symdiff_*.so")) == libraries  # nothing compiled again


def test_no_compiler_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("CC", "")
    monkeypatch.setenv("PATH", "")
    with pytest.raises(CBackendError, match="no C compiler"):
        symdiff.c_grad(loss, np.ones((2, 3)), np.ones(3), np.ones(2))


def test_cli_emit_lang_c(tmp_path, capsys):
    assert (
        main(
            [
                "emit",
                str(ROOT / "examples" / "newton.py:cube_root"),
                "--lang",
                "c",
                "-o",
                str(tmp_path),
            ]
        )
        == 0
    )
    assert (tmp_path / "cube_root.h").exists() and (tmp_path / "cube_root.c").exists()
    assert "wrote" in capsys.readouterr().out
    assert main(["emit", str(ROOT / "examples" / "newton.py:cube_root"), "--lang", "c"]) == 0
    assert "int cube_root_grad(double a, double *d_a)" in capsys.readouterr().out


@needs_cc
def test_the_docs_python_examples_run(tmp_path):
    import os
    import re
    import subprocess
    import sys

    text = (ROOT / "docs" / "c.md").read_text()
    blocks = [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "import" in b]
    assert blocks
    (tmp_path / "doc_example.py").write_text("\n".join(blocks))
    done = subprocess.run(
        [sys.executable, "doc_example.py"], cwd=tmp_path, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "build" / "orbit.c").exists()


def orbit(x, z):  # docs/c.md's example, as the listing there was written from it
    y = x
    for _ in range(20):
        y = math.sin(y) * z + 0.1 * x
    return y * z


def test_the_docs_listing_is_what_symdiff_writes():
    import re

    text = (ROOT / "docs" / "c.md").read_text()
    listing = re.findall(r"```c\n(int orbit_grad.*?)```", text, re.S)[0]
    source = symdiff.emit_c(orbit, 0.4, 0.7, wrt=("x", "z")).source

    def lines_unnumbered(t: str) -> str:  # the docs' orbit starts on another line
        return re.sub(r"// line \d+:", "// line N:", t)

    assert lines_unnumbered(listing.strip()) in lines_unnumbered(source)
