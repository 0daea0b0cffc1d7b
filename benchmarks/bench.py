"""Time symdiff's generated gradients against hand-written NumPy and, where installed, peers.

    python benchmarks/bench.py [--quick] [--only NAME[,NAME...]] [--markdown] [--cpu]
                               [--stat min|median] [--no-peers] [--no-first-call]
                               [--system-malloc]

For every case in ``cases.py`` this checks that each gradient agrees with the hand-written one
(a loud FAIL and exit status 1 if not), then times in one process: the forward pass, the
hand-written gradient, the callable symdiff's ``grad`` returns, the generated ``<name>_grad``
function alone (what ``.source`` shows and a standalone module ships), and autograd,
JAX and PyTorch when they are installed. Each measurement is the per-call mean of a block of
calls lasting about ``budget`` seconds; blocks of all cases and tools take turns, round after
round, so a busy spell on a shared machine hits them alike and spoils few rounds of any one;
each number is the minimum (or median) over the rounds. Finally it runs
``first_call.py`` in fresh subprocesses to time symdiff's first ``grad`` (import, black,
transformation, compile). Targets are printed next to the numbers; missing one is reported,
not an error. A symdiff crash or InternalError is a loud ERROR, also with exit status 1.
"""

from __future__ import annotations

import argparse
import ctypes
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import timeit
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def single_thread_env() -> None:
    """For --cpu: one thread in every library; must run before any of them is imported."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    xla = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {xla}".strip()


if "--cpu" in sys.argv[1:]:
    single_thread_env()  # the subprocesses started later inherit it
if importlib.util.find_spec("symdiff") is None:  # not installed nor on PYTHONPATH: this clone's
    sys.path.insert(1, str(HERE.parent))

import cases  # noqa: E402
import numpy as np  # noqa: E402
import peers  # noqa: E402

import symdiff  # noqa: E402

FIRST_CALL_TARGET = 0.150  # seconds, for symdiff.grad(f) in a fresh interpreter
SEED = 0
SETTLE = 0.05  # seconds of idleness between timed blocks
LOAD = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


@dataclass
class Result:
    case: cases.Case
    times: dict[str, float] = field(default_factory=dict)  # implementation -> seconds per call
    notes: dict[str, str] = field(default_factory=dict)  # implementation -> why no number
    failed: dict[str, str] = field(default_factory=dict)  # implementation -> FAIL or ERROR
    first: dict[str, Any] = field(default_factory=dict)


# ----------------------------------------------------------------------------- correctness


def disagreement(got: Any, ref: tuple, case: cases.Case) -> str | None:
    """None when ``got`` matches the hand-written gradients, else a description of how not."""
    got = tuple(got)
    if len(got) != len(ref):
        return f"{len(got)} gradients, expected {len(ref)}"
    for name, g, r in zip(case.wrt, got, ref):
        g = np.asarray(g, dtype=np.float64)
        r = np.asarray(r, dtype=np.float64)
        if g.shape != r.shape:
            return f"d_{name} has shape {g.shape}, expected {r.shape}"
        scale = float(np.max(np.abs(r))) if r.size else 0.0
        if not np.allclose(g, r, rtol=1e-6, atol=1e-9 * scale):
            err = float(np.max(np.abs(g - r)))
            return f"d_{name} differs by up to {err:.3g} (largest entry {scale:.3g})"
    return None


def fail(result: Result, impl: str, why: str, kind: str = "FAIL") -> None:
    result.failed[impl] = kind
    bar = "!" * 78
    what = "disagrees with the hand-written gradient" if kind == "FAIL" else "is broken"
    msg = f"{kind}: {result.case.name}: {impl} {what}: {why}"
    print(f"\n{bar}\n{msg}\n{bar}\n", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- timing


def steady_malloc() -> bool:
    """Keep freed arrays in the heap (glibc only); True when that worked.

    By default glibc returns big freed blocks to the kernel and gets them back as fresh pages
    that must be faulted in and zeroed; whether it does so shifts with the process's history,
    and it can double the time of a 10⁶-element gradient. Fixing the thresholds makes every
    tool reuse memory, as a long-running training process would.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(mallopt(m_mmap_threshold, 32 * 2**20) and mallopt(m_trim_threshold, 2**30))


def per_call(run: Callable[[], Any], number: int, clock: Callable[[], float]) -> float:
    return timeit.Timer(run, timer=clock).timeit(number) / number


def measure(
    runs: dict[Any, Callable[[], Any]],
    budget: float,
    rounds: int,
    stat: Callable[[list[float]], float],
    clock: Callable[[], float] = time.perf_counter,
) -> dict:
    """Seconds per call for each run: blocks of ~budget seconds, interleaved over rounds.

    The caller passes every case's runs at once, so each case's rounds are spread over the
    whole benchmark and a busy spell on a shared machine cannot spoil all of them.
    """
    numbers = {}
    for key, run in runs.items():
        one = min(per_call(run, 1, clock) for _ in range(2))
        numbers[key] = max(1, int(budget / max(one, 1e-9)))
    samples: dict[Any, list[float]] = {key: [] for key in runs}
    for _ in range(rounds):
        for key, run in runs.items():
            # Thread pools (OpenBLAS, XLA, torch) spin for a while after their last task and
            # would steal the next tool's cores: pause, then one untimed call.
            time.sleep(SETTLE)
            run()
            samples[key].append(per_call(run, numbers[key], clock))
    return {key: stat(s) for key, s in samples.items()}


def first_call(case: cases.Case, runs: int, cpu: bool) -> dict[str, Any]:
    """symdiff's first grad() for ``case``, each run in a fresh interpreter; median of runs."""
    cmd = [sys.executable, str(HERE / "first_call.py"), case.name] + (["--cpu"] if cpu else [])
    outs = []
    for _ in range(runs):
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            lines = proc.stderr.strip().splitlines() or ["no output"]
            return {"error": f"crashed: {lines[-1][:60]}"}
        outs.append(json.loads(proc.stdout))
    if "unsupported" in outs[0]:
        return outs[0]
    return {k: statistics.median(o[k] for o in outs) for k in ("import", "first_grad", "transform")}


def black_import(runs: int, cpu: bool) -> float:
    cmd = [sys.executable, str(HERE / "first_call.py"), "--black"] + (["--cpu"] if cpu else [])
    times = []
    for _ in range(runs):
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
        times.append(json.loads(proc.stdout)["black_import"])
    return statistics.median(times)


# ----------------------------------------------------------------------------- one case


def prepare_case(case: cases.Case, loaded: list, opts: argparse.Namespace) -> tuple[Result, dict]:
    """Check every gradient of ``case`` against the hand-written one; return what to time."""
    result = Result(case)
    args = case.inputs(np.random.default_rng(SEED))
    ref = case.hand(*args)
    if opts.fd:
        report = symdiff.check_grad(
            case.fn, *args, wrt=case.wrt, grad_fn=case.hand, raise_on_failure=False
        )
        if not report.ok:
            fail(result, "hand-written (vs finite differences)", f"\n{report}")
    runs: dict[str, Callable[[], Any]] = {
        "forward": lambda: case.fn(*args),
        "hand": lambda: case.hand(*args),
    }
    try:
        # wrt spelled as a user would: a name alone, several names as a tuple
        g = symdiff.grad(case.fn, wrt=cases.wrt_arg(case))
        gs = symdiff.grad(case.fn, wrt=cases.wrt_arg(case), simplify=True)
        impls = {"symdiff": g, "raw": g.transformed.grad, "simplified": gs}
        got = {impl: cases.as_tuple(fn(*args), case) for impl, fn in impls.items()}
    except symdiff.SymdiffError as exc:  # a refusal: expected while a feature is missing
        result.notes["symdiff"] = result.notes["raw"] = result.notes["simplified"] = (
            "not supported yet"
        )
        print(f"  symdiff: not supported yet: {str(exc).splitlines()[0]}", file=sys.stderr)
    except Exception as exc:  # InternalError or a crash: a symdiff bug, reported as an ERROR
        note = type(exc).__name__
        result.notes["symdiff"] = result.notes["raw"] = result.notes["simplified"] = note
        fail(result, "symdiff", f"raised {note}: {str(exc).splitlines()[0]}", "ERROR")
    else:
        for impl, fn in impls.items():
            why = disagreement(got[impl], ref, case)
            if why:
                fail(result, impl, why)
            else:
                runs[impl] = (lambda fn: lambda: fn(*args))(fn)
    for peer in loaded:
        try:
            run = peer.build(case.fn, cases.positions(case), args)
            why = disagreement(peer.to_numpy(run()), ref, case)  # JAX compiles here
        except Exception as exc:  # a peer that cannot run this case is a note, not a failure
            result.notes[peer.name] = f"error: {type(exc).__name__}"
            print(f"  {peer.name}: {type(exc).__name__}: {exc}", file=sys.stderr)
            continue
        if why:
            fail(result, peer.name, why)
        else:
            runs[peer.name] = run
    for impl, kind in result.failed.items():
        result.notes.setdefault(impl, kind)
    return result, runs


# ----------------------------------------------------------------------------- reporting


def fmt_time(s: float | None) -> str:
    if s is None:
        return "—"
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs"
    if s < 1.0:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def ratio(r: Result, num: str, den: str) -> str:
    if num in r.times and den in r.times:
        return f"{r.times[num] / r.times[den]:.2f}"
    return r.notes.get(num, "—")


def verdict(value: float, target: float) -> str:
    return f"{value:.2f} {'ok' if value <= target else 'MISS'}"


def timing_table(results: list[Result], peer_names: list[str]) -> list[list[str]]:
    head = ["case", "size", "forward", "hand-written", "symdiff", "symdiff/hand (target)"]
    head += ["`_grad`/hand", "simplify=True/hand", "symdiff/fwd", "hand/fwd"]
    head += [f"{p}/hand" for p in peer_names]
    rows = [head]
    for r in results:
        t = r.times
        if "symdiff" in t:
            sd = f"{verdict(t['symdiff'] / t['hand'], r.case.target)} (≤{r.case.target})"
        else:
            sd = f"{r.notes.get('symdiff', '—')} (≤{r.case.target})"
        row = [r.case.name, r.case.shape, fmt_time(t.get("forward")), fmt_time(t.get("hand"))]
        row += [fmt_time(t.get("symdiff")) if "symdiff" in t else r.notes.get("symdiff", "—"), sd]
        row += [
            ratio(r, "raw", "hand"),
            ratio(r, "simplified", "hand"),
            ratio(r, "symdiff", "forward"),
            ratio(r, "hand", "forward"),
        ]
        row += [ratio(r, p, "hand") for p in peer_names]
        rows.append(row)
    return rows


def first_call_table(results: list[Result]) -> list[list[str]]:
    head = ["case", "import symdiff", "first grad() (target)", "import + first grad()"]
    rows = [head + ["transform only (warm)"]]
    for r in results:
        f = r.first
        if not f:
            continue
        if "error" in f or "unsupported" in f:
            note = f.get("error") or f["unsupported"]
            note = "not supported yet" if note == "SymdiffError" else note
            rows.append([r.case.name, fmt_time(f.get("import")), note, "—", "—"])
            continue
        first = f["first_grad"]
        mark = "ok" if first <= FIRST_CALL_TARGET else "MISS"
        rows.append(
            [
                r.case.name,
                fmt_time(f["import"]),
                f"{first * 1e3:.0f} ms {mark} (<{FIRST_CALL_TARGET * 1e3:.0f} ms)",
                fmt_time(f["import"] + first),
                fmt_time(f["transform"]),
            ]
        )
    return rows


def render(rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
        lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def revision() -> str:
    """The commit symdiff was measured at, and whether its sources had local edits."""
    root = str(Path(symdiff.__file__).resolve().parent.parent)

    def git(*args: str) -> str:
        cmd = ["git", "-C", root, *args]
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()

    try:
        head, dirty = git("rev-parse", "--short", "HEAD"), git("status", "--porcelain", "symdiff")
    except (OSError, subprocess.CalledProcessError):
        return "unknown revision"
    return f"commit {head}" + (" with uncommitted changes to symdiff/" if dirty else "")


def environment(loaded: list, missing: dict[str, str]) -> list[str]:
    lines = [
        f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
        f"Python {platform.python_version()}, NumPy {np.__version__}",
        f"symdiff {symdiff.__version__}, {revision()}",
        f"load average before the run: {LOAD:.2f} (other work on the machine adds noise)",
    ]
    for p in loaded:
        lines.append(f"{p.name} {p.version()}")
    for name, why in missing.items():
        lines.append(f"{name}: skipped, {why}")
    return lines


# ----------------------------------------------------------------------------- main


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="short blocks and few rounds (~1 min)")
    ap.add_argument("--only", help="comma-separated case names: " + ", ".join(cases.BY_NAME))
    ap.add_argument("--markdown", action="store_true", help="print the tables as markdown")
    ap.add_argument("--stat", choices=("min", "median"), default="min")
    ap.add_argument("--no-peers", action="store_true", help="skip autograd, JAX and PyTorch")
    ap.add_argument("--no-first-call", action="store_true", help="skip the subprocess timings")
    ap.add_argument(
        "--system-malloc", action="store_true", help="leave glibc's memory thresholds alone"
    )
    ap.add_argument(
        "--cpu",
        action="store_true",
        help="one thread in every library, timed by process CPU time: steadier on a busy machine",
    )
    opts = ap.parse_args(argv)
    opts.budget, opts.rounds, opts.first_runs = (0.03, 3, 1) if opts.quick else (0.15, 9, 3)
    opts.fd = not opts.quick  # check the hand-written gradients against finite differences
    return opts


def main(argv: list[str] | None = None) -> int:
    opts = parse(argv)
    steady = False if opts.system_malloc else steady_malloc()
    stat = min if opts.stat == "min" else statistics.median
    selected = cases.CASES
    if opts.only:
        names = opts.only.split(",")
        unknown = [n for n in names if n not in cases.BY_NAME]
        if unknown:
            sys.exit(f"unknown case(s) {', '.join(unknown)}; cases: {', '.join(cases.BY_NAME)}")
        selected = tuple(cases.BY_NAME[n] for n in names)
    loaded, missing = [], {}
    for peer in () if opts.no_peers else peers.PEERS:
        why = peer.load()
        if why:
            missing[peer.name] = why
            print(f"note: {peer.name} skipped: {why}", file=sys.stderr)
        else:
            loaded.append(peer)
    start = time.perf_counter()
    results, runs = [], {}
    for case in selected:
        print(f"checking {case.name} ...", file=sys.stderr, flush=True)
        result, case_runs = prepare_case(case, loaded, opts)
        results.append(result)
        runs.update({(len(results) - 1, impl): run for impl, run in case_runs.items()})
    print(f"timing {len(runs)} gradients, {opts.rounds} rounds ...", file=sys.stderr, flush=True)
    clock = time.process_time if opts.cpu else time.perf_counter
    times = measure(runs, opts.budget, opts.rounds, stat, clock)
    for (i, impl), t in times.items():
        results[i].times[impl] = t
    black = None
    if not opts.no_first_call:
        print("first calls ...", file=sys.stderr, flush=True)
        for result in results:
            result.first = first_call(result.case, opts.first_runs, opts.cpu)
            if "error" in result.first:
                fail(result, "first grad()", result.first["error"], "ERROR")
        black = black_import(opts.first_runs, opts.cpu)
    elapsed = time.perf_counter() - start

    peer_names = [p.name for p in loaded] + list(missing)
    how = f"{opts.stat} over {opts.rounds} interleaved rounds of ~{opts.budget * 1e3:.0f} ms blocks"
    if opts.cpu:
        how += "; --cpu: one thread everywhere, process CPU time, not wall time"
    lines = environment(loaded, missing)
    lines.append(f"steady state: seconds per call, {how}; peers' inputs converted beforehand")
    lines.append(
        "memory: freed arrays kept in the heap (glibc mallopt)"
        if steady
        else "memory: the allocator's defaults"
    )
    lines.append(
        "symdiff = a call of the callable grad() returns (argument handling, then the generated "
        "code); `_grad` = the generated gradient function alone, as `.source` shows it"
    )
    lines.append(f"run took {elapsed:.0f} s")
    bullet = "- " if opts.markdown else ""
    print("\n".join(bullet + line for line in lines))
    print()
    print(render(timing_table(results, peer_names), opts.markdown))
    if not opts.no_first_call:
        print()
        print(
            "First grad() in a fresh interpreter (median of "
            f"{opts.first_runs}; NumPy already imported; black's own import "
            f"{fmt_time(black)} of it):"
        )
        print()
        print(render(first_call_table(results), opts.markdown))
    failed = [(r.case.name, i, k) for r in results for i, k in r.failed.items()]
    if failed:
        print("\nFAIL/ERROR (details above): " + ", ".join(f"{c}/{i} {k}" for c, i, k in failed))
        for r in results:
            if "FAIL" in r.failed.values() and not set(r.times) - {"forward", "hand"}:
                print(f"FAIL: every tool disagrees on {r.case.name}: suspect the hand-written one")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
