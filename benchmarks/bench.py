"""Time symdiff's generated gradients against hand-written NumPy and, where installed, peers.

    python benchmarks/bench.py [--quick] [--only NAME[,NAME...]] [--markdown] [--cpu]
                               [--stat min|median] [--no-peers] [--no-first-call]
                               [--system-malloc] [--docs] [--show-source]

For every case in ``cases.py`` this checks that each gradient agrees with the hand-written one
(a loud FAIL and exit status 1 if not), then times in one process: the forward pass, the
hand-written gradient, the callable symdiff's ``grad`` returns, the generated ``<name>_grad``
function alone both shape-generic and specialised to the abstract signature of the case's
arguments (what ``.source`` shows and a standalone module ships), ``simplify=True`` (through
``grad`` and on the specialised function alone: what the simplified program itself costs), and
autograd, JAX and PyTorch when they are installed. Each measurement is the per-call mean of a
block of calls lasting about ``budget`` seconds; blocks of all cases and tools take turns,
round after round, so a busy spell on a shared machine hits them alike and spoils few rounds
of any one; the tables give the median and the minimum over the rounds. Finally it runs
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
import report  # noqa: E402
from report import Result  # noqa: E402

import symdiff  # noqa: E402

SEED = 0
SETTLE = 0.05  # seconds of idleness between timed blocks
LOAD = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


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
    clock: Callable[[], float] = time.perf_counter,
) -> dict[Any, list[float]]:
    """Seconds per call for each run, one sample per round: blocks of ~budget seconds,
    interleaved over the rounds.

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
    return samples


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


def symdiff_builders(case: cases.Case, args: tuple) -> dict[str, Callable[[], Any]]:
    """How to build each symdiff implementation of ``case``: ``wrt`` spelled as a user would
    (a name alone, several names as a tuple); the generated functions straight from
    ``pipeline.transform``, which bypasses every cache, shape-generic and specialised to the
    abstract signature of ``args`` (the program serves every argument of that signature)."""
    wrt = cases.wrt_arg(case)
    transform = symdiff.pipeline.transform
    return {
        "symdiff": lambda: symdiff.grad(case.fn, wrt=wrt),
        "generic": lambda: transform(case.fn, wrt).grad,
        "typed": lambda: transform(case.fn, wrt, args=args).grad,
        "simplified": lambda: symdiff.grad(case.fn, wrt=wrt, simplify=True),
        "typed_simplified": lambda: transform(case.fn, wrt, args=args, simplify=True).grad,
    }


def program_kind(g: Any) -> str:
    """Which program the callable ``grad()`` returned ran on its latest call: "typed" when
    that transformation carries an abstract signature, else "generic". A ``grad()`` that
    specialises at the call names it ``latest`` (``transformed`` stays the generic one);
    before that, ``transformed`` is the only one."""
    t = getattr(g, "latest", None) or g.transformed
    return "generic" if getattr(t, "signature", None) is None else "typed"


def prepare_case(case: cases.Case, loaded: list, opts: argparse.Namespace) -> tuple[Result, dict]:
    """Check every gradient of ``case`` against the hand-written one; return what to time."""
    result = Result(case)
    args = case.inputs(np.random.default_rng(SEED))
    ref = case.hand(*args)
    if opts.fd:
        fd = symdiff.check_grad(
            case.fn, *args, wrt=case.wrt, grad_fn=case.hand, raise_on_failure=False
        )
        if not fd.ok:
            fail(result, "hand-written (vs finite differences)", f"\n{fd}")
    runs: dict[str, Callable[[], Any]] = {
        "forward": lambda: case.fn(*args),
        "hand": lambda: case.hand(*args),
    }
    for impl, build in symdiff_builders(case, args).items():
        try:
            fn = build()
            got = cases.as_tuple(fn(*args), case)
        except symdiff.SymdiffError as exc:  # a refusal: expected while a feature is missing
            result.notes[impl] = "not supported yet"
            print(f"  {impl}: not supported yet: {str(exc).splitlines()[0]}", file=sys.stderr)
            continue
        except Exception as exc:  # InternalError or a crash: a symdiff bug, an ERROR
            result.notes[impl] = type(exc).__name__
            fail(result, impl, f"raised {type(exc).__name__}: {str(exc).splitlines()[0]}", "ERROR")
            continue
        if impl == "symdiff":
            result.grad_program = program_kind(fn)
        if impl == "typed":
            result.typed_source = fn.__symdiff_from__.grad_source
        why = disagreement(got, ref, case)
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
    ap.add_argument(
        "--stat",
        choices=("min", "median"),
        default="min",
        help="which statistic the target column judges (the table shows both)",
    )
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
    ap.add_argument(
        "--docs",
        action="store_true",
        help="also write the tables (as markdown) into docs/benchmarks.md, between its markers",
    )
    ap.add_argument(
        "--show-source",
        action="store_true",
        help="print each case's specialised gradient after the tables",
    )
    opts = ap.parse_args(argv)
    opts.budget, opts.rounds, opts.first_runs = (0.03, 3, 1) if opts.quick else (0.15, 9, 3)
    opts.fd = not opts.quick  # check the hand-written gradients against finite differences
    opts.command = " ".join(
        ["python benchmarks/bench.py", *(sys.argv[1:] if argv is None else argv)]
    )
    return opts


def select(only: str | None) -> tuple[cases.Case, ...]:
    if not only:
        return cases.CASES
    names = only.split(",")
    unknown = [n for n in names if n not in cases.BY_NAME]
    if unknown:
        sys.exit(f"unknown case(s) {', '.join(unknown)}; cases: {', '.join(cases.BY_NAME)}")
    return tuple(cases.BY_NAME[n] for n in names)


def main(argv: list[str] | None = None) -> int:
    opts = parse(argv)
    steady = False if opts.system_malloc else steady_malloc()
    selected = select(opts.only)
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
    for (i, impl), samples in measure(runs, opts.budget, opts.rounds, clock).items():
        results[i].samples[impl] = samples
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
    out = [describe(opts, results, loaded, missing, steady, elapsed, markdown=opts.markdown)]
    text_tables, md_tables = tables(opts, results, peer_names, black)
    out.append(md_tables if opts.markdown else text_tables)
    missed = report.misses(results, opts.stat)
    out.append(f"missing the target ({opts.stat}): {', '.join(missed) if missed else 'none'}")
    print("\n\n".join(out))
    if opts.show_source:
        for r in results:
            if r.typed_source:
                print(f"\n# {r.case.name}, specialised to its benchmark arguments\n")
                print(r.typed_source)
    if opts.docs:
        body = describe(opts, results, loaded, missing, steady, elapsed, markdown=True)
        docs = HERE.parent / "docs" / "benchmarks.md"
        report.write_docs(docs, f"{body}\n\n{md_tables}")
        print(f"\nwrote the tables into {docs.relative_to(HERE.parent)}", file=sys.stderr)
    failed = [(r.case.name, i, k) for r in results for i, k in r.failed.items()]
    if failed:
        print("\nFAIL/ERROR (details above): " + ", ".join(f"{c}/{i} {k}" for c, i, k in failed))
        for r in results:
            if "FAIL" in r.failed.values() and not set(r.samples) - {"forward", "hand"}:
                print(f"FAIL: every tool disagrees on {r.case.name}: suspect the hand-written one")
        return 1
    return 0


def describe(
    opts: argparse.Namespace,
    results: list[Result],
    loaded: list,
    missing: dict[str, str],
    steady: bool,
    elapsed: float,
    markdown: bool,
) -> str:
    """The lines above the tables: the command, the machine, the versions, the method."""
    how = f"{opts.rounds} interleaved rounds of ~{opts.budget * 1e3:.0f} ms blocks"
    if opts.cpu:
        how += "; --cpu: one thread everywhere, process CPU time, not wall time"
    lines = [f"command: `{opts.command}`"] if markdown else [f"command: {opts.command}"]
    lines += environment(loaded, missing)
    lines.append(f"steady state: seconds per call over {how}; peers' inputs converted beforehand")
    lines.append(
        "memory: freed arrays kept in the heap (glibc mallopt)"
        if steady
        else "memory: the allocator's defaults"
    )
    kinds = sorted({r.grad_program for r in results if r.grad_program})
    ran = " and ".join(kinds) if kinds else "no"
    lines.append(
        f"grad() = a call of the callable grad() returns (argument handling, then the generated "
        f"code); in this revision it ran the {ran} program. `_grad` = the generated function "
        "alone, from pipeline.transform: generic = for any arguments, typed = specialised to "
        "the abstract signature of the benchmark's arguments (args=...)"
    )
    lines.append(
        "ratios to the hand-written gradient: median over the rounds (minimum in parentheses); "
        f"the target column judges the typed gradient by the {opts.stat}"
    )
    lines.append(f"run took {elapsed:.0f} s")
    bullet = "- " if markdown else ""
    return "\n".join(bullet + line for line in lines)


def tables(
    opts: argparse.Namespace, results: list[Result], peer_names: list[str], black: float | None
) -> tuple[str, str]:
    """The timing tables as plain text and as markdown."""
    out = []
    for markdown in (False, True):
        parts = [report.render(report.timing_table(results, peer_names, opts.stat), markdown)]
        if not opts.no_first_call:
            parts.append(
                "First grad() in a fresh interpreter (median of "
                f"{opts.first_runs}; NumPy already imported; black's own import "
                f"{report.fmt_time(black)} of it):"
            )
            parts.append(report.render(report.first_call_table(results), markdown))
        out.append("\n\n".join(parts))
    return out[0], out[1]


if __name__ == "__main__":
    sys.exit(main())
