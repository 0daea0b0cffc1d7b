"""A long fuzz campaign: thousands of random programs through every property of issue 6.

    python benchmarks/fuzz.py --programs 10000 [--start 0] [--jobs 2] [--simplify-every 10]
    python benchmarks/fuzz.py --minutes 15          # as many programs as fit, then the report
    python benchmarks/fuzz.py --seed 1234          # replay one program, print it and its outcome
    python benchmarks/fuzz.py --seed 1234 --minimize

Program ``k`` is ``tests.programs.generate(RandomChooser(k))``: a campaign is reproducible
from its seeds alone. For each program the script checks that the generated gradient agrees
with central finite differences, that the value the generated code computes is the
function's, that the generated source is black-stable and the same when transformed twice,
(every ``--simplify-every`` programs) that ``simplify=True`` agrees with
``simplify=False``, and (every ``--specialise-every`` programs) that the gradient specialised
to the program's argument types (``pipeline.transform(..., args=...)``) agrees with the
generic one, also in forward mode, as a pullback and as a Hessian-vector product on the
programs that check higher derivatives. It prints how many programs ran, how many symdiff refused (by message),
how many the generator got wrong (``invalid``: the function itself fails; never symdiff's
fault, but a rising count means the generator drifted), how many were skipped at a kink,
which primitives the programs exercised, and every disagreement with its program's source
(minimized with ``--minimize``). The exit status is 1 when anything disagreed.
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing
import os
import re
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.programs import (  # noqa: E402
    Outcome,
    Program,
    RandomChooser,
    check_program,
    generate,
)
from tests.specialised import MODES  # noqa: E402


def _normalize(message: str) -> str:
    """A refusal message without the user's names, so that equal causes count together."""
    return re.sub(r"`[^`]*`", "`…`", (message.splitlines() or [""])[0])[:110]


def run_one(job: tuple[int, int, int]) -> dict[str, Any]:
    seed, simplify_every, higher_every, specialise_every = job
    import warnings

    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    simplify = simplify_every > 0 and seed % simplify_every == 0
    higher = higher_every > 0 and seed % higher_every == 0
    specialised: tuple[str, ...] = ()
    if specialise_every > 0 and seed % specialise_every == 0:
        specialised = ("grad", "jvp", "vjp", "hvp") if higher else ("grad",)
    try:
        prog = generate(RandomChooser(seed), seed)
        out = check_program(prog, simplify=simplify, higher=higher, specialised=specialised)
    except Exception:  # the harness itself failed: report it, keep the campaign going
        import traceback

        prog = Program("", "", (), (), seed=seed)
        out = Outcome("invalid", "harness", traceback.format_exc(limit=3), prog)
    return {
        "seed": seed,
        "status": out.status,
        "kind": out.kind,
        "detail": out.detail if out.status == "bug" else _normalize(out.detail),
        "prims": sorted(out.prims),
        "features": sorted(prog.features),
        "checked": out.checked,
        "seconds": time.perf_counter() - t0,
        "source": str(prog) if out.status == "bug" else "",
    }


def still_fails(prog: Program, kind: str, simplify: bool) -> bool:
    try:
        out = check_program(prog, simplify=simplify)
    except Exception:
        return False
    return out.status == "bug" and out.kind == kind


def minimize(prog: Program, kind: str, simplify: bool) -> Program:
    """Delete lines (a line with the block it opens) while the same kind of bug remains."""
    import dataclasses

    lines = prog.source.splitlines()
    changed = True
    while changed:
        changed = False
        i = 0
        while i < len(lines):
            line = lines[i]
            if line.startswith("def ") and line.startswith(f"def {prog.name}("):
                i += 1
                continue
            indent = len(line) - len(line.lstrip())
            j = i + 1
            while j < len(lines) and (
                not lines[j].strip() or len(lines[j]) - len(lines[j].lstrip()) > indent
            ):
                j += 1
            trial = lines[:i] + lines[j:]
            text = "\n".join(trial) + "\n"
            try:
                compile(text, "<minimize>", "exec")
            except SyntaxError:
                i += 1
                continue
            candidate = dataclasses.replace(prog, source=text)
            if line.strip() and still_fails(candidate, kind, simplify):
                lines = trial
                changed = True
            else:
                i += 1
    return dataclasses.replace(prog, source="\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--programs", type=int, default=10000)
    ap.add_argument("--start", type=int, default=0, help="first seed")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--simplify-every", type=int, default=10, help="0: never")
    ap.add_argument(
        "--higher-every", type=int, default=4,
        help="also check jvp and hvp on every Nth program (0: never)",
    )  # fmt: skip
    ap.add_argument(
        "--specialise-every", type=int, default=1,
        help="compare the specialised program with the generic one on every Nth (0: never)",
    )  # fmt: skip
    ap.add_argument(
        "--minutes", type=float, default=0.0,
        help="stop starting programs after this long (0: run --programs of them)",
    )  # fmt: skip
    ap.add_argument("--seed", type=int, help="replay one program")
    ap.add_argument("--minimize", action="store_true", help="minimize disagreeing programs")
    args = ap.parse_args(argv)

    if args.seed is not None:
        prog = generate(RandomChooser(args.seed), args.seed)
        out = check_program(prog, simplify=True, higher=True, specialised=MODES)
        print(out.report())
        if out.status == "bug" and args.minimize:
            print("--- minimized ---")
            print(minimize(prog, out.kind, True))
        return 1 if out.status == "bug" else 0

    every = (args.simplify_every, args.higher_every, args.specialise_every)
    count = args.programs if not args.minutes else 10**9
    jobs = ((s, *every) for s in range(args.start, args.start + count))
    t0 = time.perf_counter()
    deadline = t0 + 60 * args.minutes if args.minutes else float("inf")
    results: list[dict[str, Any]] = []
    if args.jobs > 1:
        ctx = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
        with ctx.Pool(args.jobs, maxtasksperchild=500) as pool:
            for i, r in enumerate(pool.imap_unordered(run_one, jobs, chunksize=8), 1):
                results.append(r)
                if i % 500 == 0:
                    print(f"... {i} programs, {time.perf_counter() - t0:.0f} s", flush=True)
                if time.perf_counter() > deadline:
                    pool.terminate()  # the programs still running are not counted
                    break
    else:
        for i, job in enumerate(jobs, 1):
            results.append(run_one(job))
            if i % 500 == 0:
                print(f"... {i} programs, {time.perf_counter() - t0:.0f} s", flush=True)
            if time.perf_counter() > deadline:
                break
    elapsed = time.perf_counter() - t0
    report(results, elapsed, args)
    return 1 if any(r["status"] == "bug" for r in results) else 0


def report(results: list[dict[str, Any]], elapsed: float, args: argparse.Namespace) -> None:
    by_status = collections.Counter(r["status"] for r in results)
    checked = collections.Counter(c for r in results for c in r["checked"])
    print(f"\n{len(results)} programs in {elapsed:.0f} s ({args.jobs} jobs)")
    print(f"  ran and agreed: {by_status['ok']}")
    print(f"  refused (SymdiffError when the gradient is built): {by_status['refused']}")
    print(f"  invalid (the generator's fault: the function itself fails): {by_status['invalid']}")
    print(f"  skipped at a kink (finite differences straddle it): {by_status['kink']}")
    print(f"  disagreeing: {by_status['bug']}")
    print("  properties checked: " + ", ".join(f"{k} {v}" for k, v in sorted(checked.items())))
    for status in ("refused", "invalid"):
        seeds: dict[str, list[int]] = collections.defaultdict(list)
        for r in sorted(results, key=lambda r: r["seed"]):
            if r["status"] == status:
                seeds[f"{r['kind']}: {r['detail']}"].append(r["seed"])
        if seeds:
            print(f"\n{status}, by message (replay one with --seed K):")
            for msg, ks in sorted(seeds.items(), key=lambda item: -len(item[1])):
                more = ", ..." if len(ks) > 10 else ""
                print(
                    f"  {len(ks):6d}  {msg}\n          seeds {', '.join(map(str, ks[:10]))}{more}"
                )
    seen = collections.Counter(p for r in results for p in r["prims"])
    from symdiff.ad import rules

    user = sorted({p.name for p in rules.RULES if p not in rules.INTERNAL})  # what users can write
    missing = [p for p in user if p not in seen]
    print(f"\nprimitives with a derivative rule exercised: {len(user) - len(missing)}/{len(user)}")
    if missing:
        print("  never: " + ", ".join(missing))
    bugs = sorted((r for r in results if r["status"] == "bug"), key=lambda r: r["seed"])
    for r in bugs:
        print(f"\n=== disagreement: seed {r['seed']} ({r['kind']}) ===")
        print(r["detail"][:4000])
        print(r["source"])
        if args.minimize:
            prog = generate(RandomChooser(r["seed"]), r["seed"])
            simplify = r["kind"] == "simplify"
            print("--- minimized ---")
            print(minimize(prog, r["kind"], simplify))


if __name__ == "__main__":
    sys.exit(main())
