"""What a structured argument costs a call: an MLP's parameters as a dict against the same
gradient taken with the leaves as arguments, with and without has_aux.

Each line is a ratio to the flat call, over ``--rounds`` rounds of ``--number`` calls each
(median and minimum of the per-round ratios: the machine's noise cancels in a ratio better
than in a time).

    python benchmarks/pytrees.py [--rounds 15] [--number 2000]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import timeit
from pathlib import Path

if importlib.util.find_spec("symdiff") is None:  # not installed nor on PYTHONPATH: this clone's
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

import symdiff  # noqa: E402


def loss(params, x, y):
    h = np.tanh(params["W1"] @ x + params["b1"])
    return np.sum((params["W2"] @ h + params["b2"] - y) ** 2)


def flat_loss(W1, b1, W2, b2, x, y):
    h = np.tanh(W1 @ x + b1)
    return np.sum((W2 @ h + b2 - y) ** 2)


def aux_loss(params, x, y):
    h = np.tanh(params["W1"] @ x + params["b1"])
    return np.sum((params["W2"] @ h + params["b2"] - y) ** 2), h


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--number", type=int, default=2000)
    opts = parser.parse_args()
    rng = np.random.default_rng(0)
    params = {"W1": rng.normal(size=(16, 8)), "b1": rng.normal(size=16),
              "W2": rng.normal(size=(4, 16)), "b2": rng.normal(size=4)}  # fmt: skip
    x, y = rng.normal(size=8), rng.normal(size=4)
    leaves = [params[k] for k in ("W1", "b1", "W2", "b2")]
    flat = symdiff.grad(flat_loss, wrt=(0, 1, 2, 3))
    tree = symdiff.grad(loss)
    aux = symdiff.grad(aux_loss, has_aux=True)
    calls = {
        "flat arguments": lambda: flat(*leaves, x, y),
        "dict of parameters": lambda: tree(params, x, y),
        "dict, has_aux=True": lambda: aux(params, x, y),
    }
    for call in calls.values():
        call()  # build the programs first
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(opts.rounds):
        for name, call in calls.items():
            times[name].append(timeit.timeit(call, number=opts.number) / opts.number)
    base = times["flat arguments"]
    print(f"flat arguments: median {statistics.median(base) * 1e6:.1f} µs per call")
    for name in list(calls)[1:]:
        ratios = [t / b for t, b in zip(times[name], base)]
        print(f"{name}: {statistics.median(ratios):.2f}x the flat call "
              f"(minimum {min(ratios):.2f}x)")  # fmt: skip


if __name__ == "__main__":
    main()
