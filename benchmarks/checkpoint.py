"""Checkpointing a long integration: memory and time of grad(f, checkpoint=...) against the
taped gradient.

    python benchmarks/checkpoint.py [--steps 100000] [--state 1000] [--taped-steps 10000]
                                    [--checkpoint auto] [--rounds 3] [--quick]

The function is explicit Euler on a nonlinear reaction-diffusion equation (a ring of
``state`` cells, du/dt = Δu + sin(k u) − u³), ``steps`` steps, differentiated with respect
to the initial state and the rates ``k``. Each measurement runs in a fresh subprocess:

- *peak*: the largest memory that Python and NumPy allocated during the gradient call
  (``tracemalloc``, which NumPy reports its arrays to), with the peak resident set of the
  process beside it (which includes the interpreter and the libraries, ~100 MB);
- *time*: wall time of the gradient call divided by that of ``f`` itself (the forward
  integration alone), median and minimum over ``rounds`` calls, measured without tracing;
  the taped gradient's own ratio (at ``taped_steps``) beside it, to tell what the
  recomputation adds to what any reverse sweep costs.

The taped gradient keeps every step's values, so its memory grows with ``steps``; it is
measured at ``taped_steps`` (10⁴ by default: 10⁵ would need several GB) and its tape per step
extrapolated. The gradients are compared (relative difference, which should be at rounding
level: the checkpointed schedule performs the same operations) at ``taped_steps``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the repository, when symdiff is not installed

import numpy as np  # noqa: E402

import symdiff  # noqa: E402


def integrate(u0, k, n, dt):
    u = u0
    for _ in range(n):
        lap = np.roll(u, 1) - 2.0 * u + np.roll(u, -1)
        u = u + dt * (lap + np.sin(k * u) - u**3)
    return np.sum(u**2)


def inputs(state: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1.0, 1.0, size=state), rng.uniform(0.5, 1.5, size=state)


DT = 1e-3


def jax_gradient(checkpointed: bool):
    """The same integration in JAX: ``lax.scan`` over the step, the step wrapped in
    ``jax.checkpoint`` (its values recomputed in the backward pass, not stored) or not."""
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)

    def step(u, k):
        lap = jnp.roll(u, 1) - 2.0 * u + jnp.roll(u, -1)
        return u + DT * (lap + jnp.sin(k * u) - u**3)

    body = jax.checkpoint(step) if checkpointed else step

    def loss(u0, k, n):
        u, _ = jax.lax.scan(lambda u, _: (body(u, k), None), u0, None, length=n)
        return jnp.sum(u**2)

    fn = jax.jit(jax.grad(loss, argnums=(0, 1)), static_argnums=2)
    return lambda u0, k, n, dt: tuple(np.asarray(g) for g in fn(u0, k, n))


def one(kind: str, steps: int, state: int, checkpoint: str, rounds: int, trace: bool) -> dict:
    """One measurement (run in its own process by ``main``)."""
    import resource
    import tracemalloc

    u0, k = inputs(state)
    if kind == "forward":
        fn = integrate
    elif kind.startswith("jax"):
        fn = jax_gradient(kind == "jax-checkpoint")
        fn(u0, k, steps, DT)  # jit compiles for this length
    else:
        how = None if kind == "taped" else (int(checkpoint) if checkpoint.isdigit() else checkpoint)
        fn = symdiff.grad(integrate, wrt=("u0", "k"), checkpoint=how)
    fn(u0, k, 3, DT)  # write and compile the programs: not part of what is measured
    out: dict = {"kind": kind, "steps": steps}
    if trace:
        tracemalloc.start()
        result = fn(u0, k, steps, DT)
        out["traced_peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    else:
        times = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            result = fn(u0, k, steps, DT)
            times.append(time.perf_counter() - t0)
        out["times"] = times
    out["rss_peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if kind == "checkpointed":
        counts = fn.counts
        out |= {
            "snapshots": fn.snapshots,
            "advances": counts.advances,
            "reversed": counts.reversed,
            "most_snapshots": counts.most_snapshots,
            "state_bytes": int(u0.nbytes),
        }
    if kind != "forward":
        out["grad"] = [np.asarray(g).tolist() for g in result]
    return out


def run(kind: str, steps: int, args, trace: bool) -> dict:
    cmd = [sys.executable, __file__, "--one", kind, "--steps", str(steps), "--state",
           str(args.state), "--checkpoint", args.checkpoint, "--rounds", str(args.rounds)]  # fmt: skip
    if trace:
        cmd.append("--trace")
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"{kind} at {steps} steps failed:\n{proc.stderr}")
    return json.loads(proc.stdout.splitlines()[-1])


def mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB"


def ratio(times: list[float], base: float) -> str:
    return f"{statistics.median(times) / base:.2f} (min {min(times) / base:.2f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--state", type=int, default=1000)
    parser.add_argument("--taped-steps", type=int, default=10_000)
    parser.add_argument("--checkpoint", default="auto")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--jax", action="store_true", help="also JAX, with and without jax.checkpoint"
    )
    parser.add_argument("--quick", action="store_true", help="10⁴ steps, 10³ taped, 1 round")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.steps, args.state, args.checkpoint, args.rounds,
                             args.trace)))  # fmt: skip
        return 0
    if args.quick:
        args.steps, args.taped_steps, args.rounds = 10_000, 1_000, 1
    n, m = args.steps, args.taped_steps
    print(f"explicit Euler, {n:,} steps of a {args.state}-cell state; "
          f"checkpoint={args.checkpoint!r}; taped gradient measured at {m:,} steps")  # fmt: skip
    # agreement, at the taped length
    taped = run("taped", m, args, trace=True)
    check = run("checkpointed", m, args, trace=True)
    worst = 0.0
    for a, b in zip(taped["grad"], check["grad"]):
        a, b = np.asarray(a), np.asarray(b)
        worst = max(worst, float(np.max(np.abs(a - b)) / np.max(np.abs(a))))
    print(f"gradient at {m:,} steps: max |checkpointed - taped| / max |taped| = {worst:.1e}")
    per_step = taped["traced_peak"] / m
    tape_n = per_step * n
    # memory and time at the full length
    mem = run("checkpointed", n, args, trace=True)
    fwd = run("forward", n, args, trace=False)
    timed = run("checkpointed", n, args, trace=False)
    base = statistics.median(fwd["times"])
    fwd_m = run("forward", m, args, trace=False)
    taped_timed = run("taped", m, args, trace=False)
    base_m = statistics.median(fwd_m["times"])
    print(f"taped gradient: peak {mb(taped['traced_peak'])} at {m:,} steps "
          f"({per_step / 1e3:.1f} kB a step), so {mb(tape_n)} at {n:,} steps")  # fmt: skip
    s, state = mem["snapshots"], mem["state_bytes"]
    print(f"checkpointed: {s} snapshots of {state / 1e3:.1f} kB ({mb(s * state)}); "
          f"peak {mb(mem['traced_peak'])} = {100 * mem['traced_peak'] / tape_n:.2f}% of the "
          f"tape (process peak RSS {mb(mem['rss_peak'])})")  # fmt: skip
    advanced = mem["advances"] + 1 + mem["reversed"]  # the sweep's last step, the reversed ones
    print(
        f"step evaluations: {advanced / n:.2f} per step (forward alone: 1; "
        f"{mem['advances']:,} advances + 1 + {mem['reversed']:,} recomputed for the adjoint)"
    )
    print(f"time: forward {base:.2f} s; checkpointed gradient / forward = "
          f"{ratio(timed['times'], base)} (median, min over {args.rounds})")  # fmt: skip
    print(f"      taped gradient / forward at {m:,} steps = {ratio(taped_timed['times'], base_m)}")
    if args.jax:
        for kind in ("jax", "jax-checkpoint"):
            mem_j = run(kind, n, args, trace=True)
            timed_j = run(kind, n, args, trace=False)
            diff = max(
                float(np.max(np.abs(np.asarray(a) - np.asarray(b))) / np.max(np.abs(np.asarray(b))))
                for a, b in zip(mem_j["grad"], timed["grad"])
            )
            print(f"{kind} (lax.scan, jit, float64): process peak RSS {mb(mem_j['rss_peak'])}; "
                  f"time / symdiff's forward = {ratio(timed_j['times'], base)}; "
                  f"vs symdiff's checkpointed gradient {diff:.1e}")  # fmt: skip
    return 0 if worst < 1e-12 else 1


if __name__ == "__main__":
    sys.exit(main())
