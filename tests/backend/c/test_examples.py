"""Every bundled example through the C backend: compiled with the strict flags, each
gradient equal to symdiff's NumPy gradient to 1e-12; and one run outside Python under
AddressSanitizer, which fails on any read or write out of bounds."""

import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

import symdiff
from symdiff.api.cli import example_files, resolve

from .compiling import CC, agree, as_tuple, build_and_run, compare, needs_cc

ROOT = Path(__file__).resolve().parents[3]
TARGETS = [t for f in example_files(str(ROOT / "examples")) for t in resolve(f)]


@needs_cc
@pytest.mark.parametrize("target", TARGETS, ids=lambda t: f"{Path(t.path).stem}:{t.name}")
def test_bundled_example_agrees(target):
    args = target.example()
    got, ref = compare(target.func, *args, wrt=target.wrt)
    assert agree(got, ref), (got, ref)


def _asan_works() -> bool:
    if CC is None:
        return False
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "t.c"
        src.write_text("int main(void) { return 0; }\n")
        done = subprocess.run(
            [CC, "-fsanitize=address", str(src), "-o", str(Path(tmp) / "t")], capture_output=True
        )
        if done.returncode != 0:
            return False
        return subprocess.run([str(Path(tmp) / "t")], capture_output=True).returncode == 0


@pytest.mark.skipif(not _asan_works(), reason="cc -fsanitize=address does not work here")
@pytest.mark.parametrize("name", ["rnn.py:loss", "newton.py:cube_root", "mlp.py:loss",
                                  "softmax_cross_entropy.py:stable_cross_entropy"])  # fmt: skip
def test_no_access_out_of_bounds_under_address_sanitizer(name, tmp_path):
    (target,) = resolve(str(ROOT / "examples" / name))
    args = target.example()
    code = symdiff.emit_c(target.func, *args, wrt=target.wrt)
    out = build_and_run(
        code, args, tmp_path, ("-fsanitize=address", "-fno-omit-frame-pointer", "-g")
    )
    value, ref = symdiff.value_and_grad(target.func, wrt=target.wrt)(*args)
    flat = np.concatenate([np.ravel(np.asarray(g, dtype=float)) for g in as_tuple(ref, target.wrt)])
    assert np.allclose(out, [float(value), *flat], rtol=1e-12, atol=1e-12)
