"""The README's Python examples run as they are written."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
# runnable blocks: those that do something (generated-code listings only define functions)
BLOCKS = [b for b in re.findall(r"```python\n(.*?)```", README, re.S) if "import" in b]


def test_the_readme_has_runnable_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index, tmp_path):
    path = tmp_path / "readme_example.py"
    path.write_text(BLOCKS[index])
    done = subprocess.run(
        [sys.executable, str(path)], cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_the_readme_shows_the_gradient_symdiff_writes_today(tmp_path):
    """The listing under 'In 30 seconds' is the real output of the example above it."""
    path = tmp_path / "readme_example.py"
    path.write_text(BLOCKS[0])
    done = subprocess.run(
        [sys.executable, str(path)], cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
    )  # fmt: skip
    listing = re.findall(r"```python\n(def loss_grad.*?)```", README, re.S)[0]
    assert done.stdout.strip() == listing.strip()


def test_the_readme_shows_the_softmax_cross_entropy_gradient_symdiff_writes_today(tmp_path):
    """The listing under 'The algebra a person does' is the first function the example
    above it prints: a few statements, ``p - y`` up to the labels' row sums."""
    (block,) = [b for b in BLOCKS if "def softmax_xent(Z, Y)" in b]
    path = tmp_path / "readme_example.py"
    path.write_text(block)
    done = subprocess.run(
        [sys.executable, str(path)], cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
    )  # fmt: skip
    listing = re.findall(r"```python\n(def softmax_xent_grad.*?)```", README, re.S)[0]
    printed = done.stdout.split("\ndef leaky_relu_grad")[0]
    assert printed.strip() == listing.strip()
    body = [line for line in listing.splitlines() if re.match(r"    [\w(][^=]* = ", line)]
    assert len(body) <= 5  # m, S, exp, -Y, d_Z (black's wrapped line counts once)
