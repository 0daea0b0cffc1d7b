"""benchmarks/bench.py runs: its quick mode on one small case checks every symdiff gradient
(shape-generic and specialised) against the hand-written one and prints a row of ratios.

It runs in a subprocess: the benchmark changes the allocator's thresholds and puts its own
folder on ``sys.path``, neither of which belongs in the test process. Timings are printed,
never asserted.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_quick_mode_checks_and_times_the_coupled_scalar_loop():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--quick"]
    cmd += ["--only", "coupled_loop", "--no-peers", "--no-first-call"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr  # 1: a gradient disagreed
    assert "FAIL" not in proc.stderr and "ERROR" not in proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith("coupled_loop ")]
    assert len(rows) == 1, proc.stdout
    # grad(), the generic and the specialised `_grad`, simplify=True through grad() and on
    # the specialised `_grad`: each a "median (min)"
    ratios = re.findall(r"\d+\.\d\d \(\d+\.\d\d\)", rows[0])
    assert len(ratios) == 5, rows[0]
    # the target judges grad() itself once it runs the specialised program (it does: it
    # specialises at the call), else the specialised function alone
    target = r"(grad\(\)|`_grad` typed): \d+\.\d\d (ok|MISS) \(≤1\.15\)"
    assert re.search(target, rows[0]), rows[0]
    assert "in this revision it ran the" in proc.stdout
