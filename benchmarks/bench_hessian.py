"""Second derivatives of a logistic-regression loss (d = 100): Hessian-vector product and the
full Hessian, symdiff against a hand-written NumPy version and, where installed, autograd,
JAX and PyTorch.

    python benchmarks/bench_hessian.py [--quick] [--d 100] [--n 1000] [--markdown]

symdiff computes both by forward-over-reverse: the tangent program of the generated gradient.
``symdiff hvp`` is the ``hvp`` callable (argument checks included), ``generated`` the bare
generated function its ``.source`` shows. ``symdiff`` 's full Hessian pushes all d directions
through one batched tangent program (a leading direction axis, ``optimize.batching``);
``symdiff, one pass per direction`` is the same Hessian the way it was built before: d
calls of the unbatched program. The hand-written versions use the closed forms
H v = Xᵀ (s ⊙ X v) / n + λ v and H = Xᵀ diag(s) X / n + λ I with s = p (1 − p).

Every result is first checked against the hand-written one (a loud FAIL and exit status 1 if
it disagrees). Peers differentiate the same source text (``peers.rebind``), in float64;
JAX is timed jitted, after a compiling call; PyTorch's Hessian is ``torch.func.hessian``
(forward-over-reverse, vectorised with ``vmap``). Each number is the per-call minimum over
rounds of blocks lasting about ``budget`` seconds, the median over the rounds next to it; the
rounds interleave the implementations so that background load hits them alike. The ratios
against JAX are printed under the table (median and minimum).
"""

from __future__ import annotations

import argparse
import sys
import time
import timeit
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))  # the repository, when symdiff is not installed

import numpy as np  # noqa: E402
import peers  # noqa: E402

import symdiff  # noqa: E402

LAMBDA = 0.01


def loss(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    data = -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))
    return data + 0.5 * LAMBDA * np.sum(w * w)


def hand_hvp(w, X, y, v):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return X.T @ (p * (1.0 - p) * (X @ v)) / len(y) + LAMBDA * v


def hand_hessian(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return X.T @ (X * (p * (1.0 - p))[:, None]) / len(y) + LAMBDA * np.eye(len(w))


Run = Callable[[], Any]


# ----------------------------------------------------------------------------- implementations


def symdiff_runs(w, X, y, v) -> dict[str, tuple[Run, Run]]:
    """name -> (hvp call, hessian call or None)."""
    hv = symdiff.hvp(loss)
    H = symdiff.hessian(loss)
    bare = hv.transformed.grad  # loss_hvp(w, X, y, v): H v alone
    name = hv.transformed.program.params[-1].name
    call = hv._tangents.prepare((w, X, y), {})  # the unbatched program, for the old way

    def one_per_direction():
        eye = np.eye(len(w))
        return np.stack([call.tangent([e]) for e in eye], axis=1)

    return {
        "hand-written": (lambda: hand_hvp(w, X, y, v), lambda: hand_hessian(w, X, y)),
        "symdiff": (lambda: hv(w, X, y, v), lambda: H(w, X, y)),
        "generated": (lambda: bare(w, X, y, **{name: v}), None),
        "symdiff, one pass per direction": (None, one_per_direction),
    }


def autograd_runs(w, X, y, v) -> tuple[Run, Run]:
    import autograd
    import autograd.numpy as anp

    f = peers.rebind(loss, anp, anp)
    f.__globals__["LAMBDA"] = LAMBDA
    hvp = autograd.hessian_tensor_product(f)
    hess = autograd.hessian(f)
    return (lambda: hvp(w, X, y, v)), (lambda: hess(w, X, y))


def jax_runs(w, X, y, v) -> tuple[Run, Run]:
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    f = peers.rebind(loss, jnp, jnp)
    f.__globals__["LAMBDA"] = LAMBDA
    hvp = jax.jit(lambda w, X, y, v: jax.jvp(lambda u: jax.grad(f)(u, X, y), (w,), (v,))[1])
    hess = jax.jit(jax.hessian(f))
    jw, jX, jy, jv = (jax.device_put(a) for a in (w, X, y, v))
    return (
        lambda: jax.block_until_ready(hvp(jw, jX, jy, jv)),
        lambda: jax.block_until_ready(hess(jw, jX, jy)),
    )


def torch_runs(w, X, y, v) -> tuple[Run, Run]:
    import torch

    shim = peers._TorchNumpy(torch)
    f = peers.rebind(loss, shim, shim)
    f.__globals__["LAMBDA"] = LAMBDA
    tw, tX, ty, tv = (torch.tensor(a) for a in (w, X, y, v))

    def hvp():  # double backward: PyTorch's fastest H·v here (torch.func.jvp is slower)
        u = tw.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(f(u, tX, ty), u, create_graph=True)
        return torch.autograd.grad(g, u, tv)[0]

    hessian = torch.func.hessian(lambda u: f(u, tX, ty))

    def hess():
        return hessian(tw)

    return hvp, hess


PEERS = {"autograd": autograd_runs, "JAX": jax_runs, "PyTorch": torch_runs}


# ----------------------------------------------------------------------------- measuring


def per_call(run: Run, budget: float) -> float:
    """Mean seconds per call over a block of calls lasting about ``budget`` seconds."""
    n, elapsed = 1, 0.0
    while True:
        elapsed = timeit.timeit(run, number=n)
        if elapsed >= budget or n >= 1 << 20:
            return elapsed / n
        n = max(2 * n, int(n * budget / max(elapsed, 1e-9)) + 1)


def agrees(got: Any, want: np.ndarray) -> bool:
    got = np.asarray(got.detach() if hasattr(got, "detach") else got, dtype=np.float64)
    return got.shape == want.shape and np.allclose(got, want, rtol=1e-9, atol=1e-12)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--d", type=int, default=100, help="number of weights")
    parser.add_argument("--n", type=int, default=1000, help="number of samples")
    parser.add_argument("--quick", action="store_true", help="short timing blocks, 2 rounds")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    opts = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(opts.n, opts.d)) / np.sqrt(opts.d)
    y = (rng.random(opts.n) < 0.5).astype(float)
    w, v = rng.normal(size=opts.d), rng.normal(size=opts.d)
    want_hvp, want_h = hand_hvp(w, X, y, v), hand_hessian(w, X, y)

    runs: dict[str, tuple[Run, Run | None]] = {}
    notes: dict[str, str] = {}
    started = time.perf_counter()
    runs.update(symdiff_runs(w, X, y, v))
    build = time.perf_counter() - started
    for name, make in PEERS.items():
        try:
            runs[name] = make(w, X, y, v)
        except ImportError as exc:
            notes[name] = f"not installed ({exc.__class__.__name__})"

    failed = []
    for name, (hvp_run, hess_run) in runs.items():  # correctness first, and warm-up (JIT)
        if hvp_run is not None and not agrees(hvp_run(), want_hvp):
            failed.append(f"{name} Hessian-vector product")
        if hess_run is not None and not agrees(hess_run(), want_h):
            failed.append(f"{name} Hessian")
    for what in failed:
        print(f"FAIL: {what} disagrees with the hand-written one", file=sys.stderr)

    budget, rounds = (0.02, 2) if opts.quick else (0.2, 5)
    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(rounds):
        for name, (hvp_run, hess_run) in runs.items():
            for kind, run in (("hvp", hvp_run), ("hessian", hess_run)):
                if run is not None:
                    times.setdefault((name, kind), []).append(per_call(run, budget))
    best = {key: min(ts) for key, ts in times.items()}
    median = {key: float(np.median(ts)) for key, ts in times.items()}

    def cell(name: str, kind: str) -> str:
        t = best.get((name, kind))
        if t is None:
            return "—"
        return f"{t * 1e6:,.0f} µs (median {median[name, kind] * 1e6:,.0f})"

    header = (f"logistic-regression loss, d = {opts.d}, n = {opts.n} "
              f"(symdiff build: {build * 1e3:.0f} ms, both programs)")  # fmt: skip
    rows = [(name, cell(name, "hvp"), cell(name, "hessian")) for name in runs]
    rows += [(name, note, note) for name, note in notes.items()]
    print(header)
    if opts.markdown:
        print("\n| implementation | Hessian-vector product | full Hessian |\n| --- | --- | --- |")
        for r in rows:
            print(f"| {r[0]} | {r[1]} | {r[2]} |")
    else:
        widths = [max(len(r[i]) for r in rows + [("", "H·v", "Hessian")]) for i in range(3)]
        print("  ".join(h.ljust(wd) for h, wd in zip(("", "H·v", "Hessian"), widths)))
        for r in rows:
            print("  ".join(c.ljust(wd) for c, wd in zip(r, widths)))
    for kind, what in (("hessian", "full Hessian"), ("hvp", "H·v")):
        if ("JAX", kind) not in best or ("symdiff", kind) not in best:
            continue
        ratios = [a / b for a, b in zip(times["symdiff", kind], times["JAX", kind])]
        print(
            f"symdiff / JAX, {what}: median {np.median(ratios):.2f}×, "
            f"minimum {min(ratios):.2f}× (per round)"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
