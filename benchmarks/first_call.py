"""Time symdiff's first ``grad`` call for one case, in this (fresh) interpreter; print JSON.

Run by ``bench.py`` once per case in a new subprocess so nothing is already imported or
cached. NumPy and the case module are imported before the clock starts: they are the user's
costs, not symdiff's. ``black`` is imported and run only when a generated source is read,
which a gradient that is only called never does, so "first grad()" does not include it;
``transform`` timings afterwards call ``symdiff.pipeline.transform`` directly, which bypasses
the cache, and show the pipeline alone.

    python benchmarks/first_call.py CASE [--repeat N] [--cpu]
    python benchmarks/first_call.py --black [--cpu]   # only the cost of importing black

``--cpu`` reads process CPU time instead of wall time (steadier on a busy machine).
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
if importlib.util.find_spec("symdiff") is None:  # not installed nor on PYTHONPATH: this clone's
    sys.path.insert(1, str(HERE.parent))

import cases  # noqa: E402
import numpy as np  # noqa: E402


def main(argv: list[str]) -> dict:
    clock = time.process_time if "--cpu" in argv else time.perf_counter
    if argv[0] == "--black":
        t0 = clock()
        import black  # noqa: F401

        return {"black_import": clock() - t0}
    case = cases.BY_NAME[argv[0]]
    repeat = int(argv[argv.index("--repeat") + 1]) if "--repeat" in argv else 5
    t0 = clock()
    import symdiff

    t1 = clock()
    out: dict = {"case": case.name, "import": t1 - t0}
    try:
        g = symdiff.grad(case.fn, wrt=cases.wrt_arg(case))
        t2 = clock()
        g(*case.inputs(np.random.default_rng(0)))  # the compiled code's own first run
    except symdiff.SymdiffError:
        out["unsupported"] = "SymdiffError"  # a refusal: the feature is missing
        return out
    except symdiff.InternalError:
        out["unsupported"] = "InternalError"
        return out
    out["first_grad"] = t2 - t1
    warm = []
    for _ in range(repeat):
        s = clock()
        symdiff.pipeline.transform(case.fn, cases.wrt_arg(case))
        warm.append(clock() - s)
    out["transform"] = sorted(warm)[len(warm) // 2]
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
