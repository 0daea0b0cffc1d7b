"""JAX gradients of row-sharded data on two (forced host) devices.

The device count is fixed when JAX starts, and in a full test session JAX has long been
imported with one device, so the checks (``sharded_jax.py``) run in a new interpreter
started with ``XLA_FLAGS`` set.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("jax", reason="JAX is not installed")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
FORCE = "--xla_force_host_platform_device_count=2"


def run_on_two_devices(path: Path) -> subprocess.CompletedProcess[str]:
    """``path`` run by Python with JAX on two CPU devices and symdiff importable."""
    env = dict(os.environ)
    env["XLA_FLAGS"] = f"{env.get('XLA_FLAGS', '')} {FORCE}".strip()
    env["JAX_PLATFORMS"] = "cpu"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return subprocess.run(
        [sys.executable, str(path)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_sharded_gradients_match_numpy_and_are_reduced_across_devices() -> None:
    done = run_on_two_devices(HERE / "sharded_jax.py")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert sum("by all-reduce" in line for line in lines) == 4, done.stdout
    assert "logistic, X: equal to NumPy, row-sharded like X" in lines


def test_the_multi_device_recipe_of_the_docs_runs(tmp_path: Path) -> None:
    """docs/backends.md, "Past one machine": the JAX recipe as written."""
    from tests.helpers import doc_blocks

    (recipe,) = [b for b in doc_blocks("backends.md", "Past one machine") if "jax" in b]
    (tmp_path / "recipe.py").write_text(recipe)
    done = run_on_two_devices(tmp_path / "recipe.py")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"
