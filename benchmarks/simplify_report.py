"""How much ``simplify=True`` shrinks gradients, and what it costs.

For every function in ``examples/`` that has an ``example_<FUNC>()`` (plus a few seed
functions defined here), prints the number of operations the generated ``_grad`` function
executes without and with simplification, the same count for the hand-written gradient
when the example has one (``<FUNC>_hand_grad``), and the time ``simplify`` took. Exits
non-zero if a count goes up, a simplified gradient disagrees with the plain one, or a
simplification takes 2 s or more.

Run: python benchmarks/simplify_report.py [--markdown]
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import pathlib
import sys
import time
from typing import Any, Callable

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from symdiff.frontend.lower import lower  # noqa: E402
from symdiff.frontend.source import get_source  # noqa: E402
from symdiff.ir import nodes as ir  # noqa: E402
from symdiff.pipeline import transform  # noqa: E402

LIMIT_SECONDS = 2.0

# ----------------------------------------------------------------------------- seeds


def seed_sigmoid_sum(x):
    return np.sum(1.0 / (1.0 + np.exp(-x)))


def seed_scalar_sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def seed_tanh_sum(x):
    return np.sum(np.tanh(x))


def seed_logistic(w, b, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w + b)))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def seed_scalar_mix(x, y):
    t = math.sin(x) * y + math.exp(x * y)
    return t * t / (1.0 + y * y)


def seed_hand_sigmoid(x):
    s = 1.0 / (1.0 + np.exp(-x))
    return s * (1.0 - s)


def seed_hand_tanh(x):
    return 1.0 - np.tanh(x) ** 2


_rng = np.random.default_rng(0)
SEEDS: list[tuple[Callable, Any, tuple, Callable | None]] = [
    (seed_sigmoid_sum, 0, (_rng.normal(size=8),), seed_hand_sigmoid),
    (seed_scalar_sigmoid, 0, (0.4,), None),
    (seed_tanh_sum, 0, (_rng.normal(size=8),), seed_hand_tanh),
    (
        seed_logistic,
        (0, 1),
        (_rng.normal(size=3), 0.2, _rng.normal(size=(10, 3)), (_rng.random(10) > 0.5) * 1.0),
        None,
    ),
    (seed_scalar_mix, (0, 1), (0.3, 0.8), None),
]


# ----------------------------------------------------------------------------- examples


def example_cases() -> list[tuple[str, Callable, Any, tuple, Callable | None]]:
    """(label, function, wrt, arguments, hand-written gradient) for each example function."""
    cases = []
    for path in sorted((ROOT / "examples").glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"_example_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        wrt_table = getattr(module, "WRT", {})
        for name, make in vars(module).items():
            if not name.startswith("example_") or not callable(make):
                continue
            fname = name[len("example_") :]
            f = getattr(module, fname, None)
            if f is None:
                continue
            hand = getattr(module, f"{fname}_hand_grad", None)
            if np.ndim(f(*make())) != 0:
                continue  # a Jacobian's example (softmax_jacobian.softmax): no gradient
            cases.append((f"{path.stem}.{fname}", f, wrt_table.get(fname, 0), make(), hand))
    return cases


def hand_ops(hand: Callable | None) -> int | None:
    """Operations of a hand-written gradient, counted on symdiff's IR of it."""
    if hand is None:
        return None
    try:
        fn, _ = lower(get_source(hand), reserved=set())
    except Exception:  # a hand gradient symdiff cannot read: no count
        return None
    return sum(1 for _ in ir.iter_assigns(fn.body))


def measure(f: Callable, wrt: Any, args: tuple) -> dict[str, Any]:
    from symdiff.optimize.simplify import count_ops, simplify_with_report

    plain = transform(f, wrt)
    start = time.perf_counter()
    prog, report = simplify_with_report(plain.program)
    seconds = time.perf_counter() - start
    simple = transform(f, wrt, simplify=True)
    g0, g1 = plain.grad(*args), simple.grad(*args)
    g0, g1 = (g0 if isinstance(g0, tuple) else (g0,)), (g1 if isinstance(g1, tuple) else (g1,))
    agree = all(np.allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True) for a, b in zip(g0, g1))
    return {
        "before": count_ops(plain.program),
        "after": count_ops(prog),
        "seconds": seconds,
        "agree": agree,
        "regions": f"{report.rewritten}/{report.regions}",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    opts = parser.parse_args()

    start = time.perf_counter()
    import symdiff.optimize.simplify  # noqa: F401  (loads SymPy: not part of any row)

    loaded = time.perf_counter()
    transform(seed_sigmoid_sum, 0, simplify=True)  # warms SymPy's caches up
    warmup = time.perf_counter() - loaded
    loading = loaded - start

    rows = [(f"seed.{f.__name__[5:]}", f, w, a, h) for f, w, a, h in SEEDS] + example_cases()
    header = ("function", "ops", "simplified", "hand-written", "rewritten", "time (s)")
    table, failures = [], []
    for label, f, wrt, args, hand in rows:
        m = measure(f, wrt, args)
        h = hand_ops(hand)
        table.append(
            (label, m["before"], m["after"], "" if h is None else h, m["regions"], m["seconds"])
        )
        if m["after"] > m["before"]:
            failures.append(f"{label}: {m['before']} -> {m['after']} operations")
        if not m["agree"]:
            failures.append(f"{label}: simplified gradient disagrees")
        if m["seconds"] >= LIMIT_SECONDS:
            failures.append(f"{label}: simplify took {m['seconds']:.2f} s")
    total = sum(r[1] for r in table), sum(r[2] for r in table)

    if opts.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
        for r in table:
            print(f"| `{r[0]}` | {r[1]} | {r[2]} | {r[3]} | {r[4]} | {r[5]:.3f} |")
        print(f"| **total** | {total[0]} | {total[1]} | | | |")
    else:
        widths = [max(len(header[0]), *(len(r[0]) for r in table))] + [12] * 5
        print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
        for r in table:
            cells = [r[0], str(r[1]), str(r[2]), str(r[3]), r[4], f"{r[5]:.3f}"]
            print("  ".join(c.ljust(w) for c, w in zip(cells, widths)))
        print(f"total operations: {total[0]} -> {total[1]}")
    print(f"\nloading SymPy: {loading:.2f} s; first transformation with simplify: {warmup:.2f} s")
    for line in failures:
        print("FAIL", line)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
