"""examples/c_embedding: the checked-in C is what symdiff writes today, and main.c, built
with it, fits the same weights as gradient descent with symdiff's NumPy gradient."""

import importlib.util
import subprocess
from pathlib import Path

import numpy as np

import symdiff
from symdiff.api.cli import main

from .compiling import CC, STRICT, needs_cc

ROOT = Path(__file__).resolve().parents[3]
FOLDER = ROOT / "examples" / "c_embedding"


def _model():
    spec = importlib.util.spec_from_file_location("c_embedding_model", FOLDER / "model.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_checked_in_c_is_current(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # the header names the model by its path in the repository
    target = "examples/c_embedding/model.py:loss"
    assert main(["emit", target, "--lang", "c", "-o", str(tmp_path)]) == 0
    for name in ("loss.h", "loss.c"):
        assert (tmp_path / name).read_text() == (FOLDER / name).read_text(), (
            f"examples/c_embedding/{name} is out of date: run symdiff emit {target} --lang c "
            "-o examples/c_embedding/"
        )


@needs_cc
def test_the_c_program_fits_what_python_fits(tmp_path):
    assert CC is not None
    exe = tmp_path / "fit"
    cmd = [CC, "-std=c99", "-O2", *STRICT, "-o", str(exe), str(FOLDER / "main.c"),
           str(FOLDER / "loss.c"), "-lm"]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout.split("\n")
    w_c = np.array([float(v) for v in out[1].split()[1:]])
    model = _model()
    w_py = model.fit(symdiff.grad(model.loss, wrt="w"))
    np.testing.assert_allclose(w_c, w_py, rtol=1e-10, atol=1e-12)
    # the loss printed is the one of the last call: at the weights before the last step
    _, X, y = model.example_loss()
    before = model.fit(symdiff.grad(model.loss, wrt="w"), steps=199)
    np.testing.assert_allclose(float(out[0].split()[1]), model.loss(before, X, y), rtol=1e-12)
