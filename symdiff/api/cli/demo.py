"""``symdiff demo``: every bundled example differentiated, checked against finite differences
and timed beside its hand-written gradient, ending with one summary table.
"""

from __future__ import annotations

import argparse
import textwrap
import time
import traceback
from typing import Any, Callable

from ...errors import SymdiffError
from .commands import hand_difference, run_check
from .targets import HAND_SUFFIX, CommandError, Target, example_files, resolve

TIMING_SECONDS = 0.02  # per timed run; three runs per function keep the demo short


def best_time(fn: Callable[[], Any]) -> float:
    """Seconds per call: calls are batched to ``TIMING_SECONDS``, best of three batches."""
    fn()
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= TIMING_SECONDS or n >= 1 << 20:
            break
        n *= 2 if elapsed == 0 else max(2, min(10, int(TIMING_SECONDS / elapsed) + 1))
    best = elapsed
    for _ in range(2):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, time.perf_counter() - start)
    return best / n


def _us(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e6:.1f} us"


def _section(title: str, body: str) -> str:
    return f"{title}\n{textwrap.indent(body.rstrip(), '    ')}\n"


def cmd_demo(args: argparse.Namespace) -> int:
    folder = args.folder
    files = example_files(folder)
    targets = [t for f in files for t in resolve(f)]
    if not targets:
        raise CommandError(f"no examples with example inputs in {folder}")
    rows = []
    width = len(str(len(targets)))
    for i, t in enumerate(targets, 1):
        print(f"[{i:>{width}}/{len(targets)}] {t.label} ...", flush=True)
        row = {"example": t.label, "check": "error", "rel": "-", "gen": None, "hand": None}
        rows.append(row)
        try:
            demo_one(t, row, getattr(args, "generic", False), getattr(args, "simplify", False))
        except SymdiffError as exc:
            print(textwrap.indent(f"error: {exc}", "    ") + "\n")
        except Exception as exc:  # a bug: report it, and go on with the other examples
            if getattr(args, "debug", False):
                traceback.print_exc()
            print(f"    error (a bug in symdiff): {type(exc).__name__}: {exc}\n")
    print(summary_table(rows))
    failed = [str(r["example"]) for r in rows if r["check"] != "ok"]
    if failed:
        print(f"FAILED: {', '.join(failed)}")
        return 1
    print(f"all {len(rows)} gradients agree with finite differences")
    return 0


def demo_one(t: Target, row: dict, generic: bool = False, simplify: bool = False) -> None:
    """Source, generated gradient, check table and timing of one example; fills ``row``."""
    report, tr, inputs = run_check(t, simplify=simplify, generic=generic)
    helpers = "".join(h.text + "\n" for h in tr.helpers)
    print(_section(f"source ({tr.source.file}):", helpers + tr.source.text))
    print(_section("generated gradient:", tr.grad_source))
    print(_section("finite-difference check:", report.table()))
    own = [a for a in report.args if not a.name.startswith(f"{t.name}{HAND_SUFFIX}: ")]
    row["check"] = "ok" if report.ok else "FAIL" if not all(a.ok for a in own) else "FAIL (hand)"
    row["rel"] = f"{max((a.max_rel_error for a in own), default=0.0):.1e}"
    row["gen"] = best_time(lambda: tr.grad(*inputs))
    hand = t.hand_grad()
    if hand is None:
        lines = [f"generated {_us(row['gen'])} per call (no {t.name}{HAND_SUFFIX} to compare)"]
    else:
        diff = hand_difference(t, tr, inputs)
        row["hand"] = best_time(lambda: hand(*inputs))
        lines = [
            f"max abs difference from {t.name}{HAND_SUFFIX}: {diff:.1e}",
            f"generated {_us(row['gen'])} per call, hand-written {_us(row['hand'])} "
            f"(ratio {row['gen'] / row['hand']:.2f})",
        ]
    print(_section("timing:", "\n".join(lines)))


def summary_table(rows: list[dict]) -> str:
    head = ("example", "check", "max rel error", "generated", "hand-written", "gen/hand")
    table = [head]
    for r in rows:
        ratio = f"{r['gen'] / r['hand']:.2f}" if r["gen"] and r["hand"] else "-"
        table.append((r["example"], r["check"], r["rel"], _us(r["gen"]), _us(r["hand"]), ratio))
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "summary\n" + "\n".join(lines)
