"""symdiff's gradients on other array libraries against those libraries' own autodiff.

For every benchmark case (``cases.CASES``): ``jax.jit`` of symdiff's JAX-backend gradient
against ``jax.jit(jax.grad(f))``, and symdiff's PyTorch-backend gradient against
``torch.func.grad(f)``, where ``f`` is the case's own source re-executed with ``np`` bound to
the library (``peers.rebind``). Both sides get the same float64 inputs, converted before
timing; the ratio is symdiff's time over the library's (below 1.0: symdiff is faster). A
case a backend refuses is reported with the refusal, not timed.

    python benchmarks/backends.py [--repeat 20] [--only logreg,rnn]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cases  # noqa: E402
import peers  # noqa: E402


def best(run: Callable[[], Any], repeat: int) -> float:
    """The best of ``repeat`` timings of ``run`` after one warm-up call (which compiles)."""
    run()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def jax_pair(case: cases.Case, args: tuple) -> tuple[Callable[[], Any], Callable[[], Any]]:
    import jax
    import jax.numpy as jnp

    from symdiff import pipeline

    jax.config.update("jax_enable_x64", True)
    t = pipeline.transform(case.fn, cases.wrt_arg(case), args=args, backend="jax")
    mine = jax.jit(t.grad)
    theirs = jax.jit(jax.grad(peers.rebind(case.fn, jnp, jnp), argnums=cases.positions(case)))
    jargs = tuple(jax.device_put(np.asarray(a, dtype=np.float64)) for a in args)
    return (
        lambda: jax.block_until_ready(mine(*jargs)),
        lambda: jax.block_until_ready(theirs(*jargs)),
    )


def torch_pair(case: cases.Case, args: tuple) -> tuple[Callable[[], Any], Callable[[], Any]]:
    import torch
    import torch.func

    from symdiff import pipeline

    t = pipeline.transform(case.fn, cases.wrt_arg(case), args=args, backend="torch")
    shim = peers.TorchNumpy(torch)  # the NumPy spelling peers.py times torch with
    f = peers.rebind(case.fn, shim, shim)
    theirs = torch.func.grad(f, argnums=cases.positions(case))
    targs = tuple(torch.tensor(np.asarray(a, dtype=np.float64)) for a in args)
    return (lambda: t.grad(*targs), lambda: theirs(*targs))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--only", default="", help="comma-separated case names")
    opts = parser.parse_args(argv)
    only = set(filter(None, opts.only.split(",")))
    print(f"{'case':<14} {'backend':<8} {'symdiff':>10} {'library':>10} {'ratio':>7}")
    for case in cases.CASES:
        if only and case.name not in only:
            continue
        args = case.inputs(np.random.default_rng(0))
        for name, pair in (("jax", jax_pair), ("torch", torch_pair)):
            try:
                mine, theirs = pair(case, args)
                a, b = best(mine, opts.repeat), best(theirs, opts.repeat)
            except ImportError as exc:
                print(f"{case.name:<14} {name:<8} skipped: {exc}")
                continue
            except Exception as exc:  # a refusal or a failure: reported, not timed
                first = str(exc).splitlines()[0][:90]
                print(f"{case.name:<14} {name:<8} not timed: {type(exc).__name__}: {first}")
                continue
            print(f"{case.name:<14} {name:<8} {a * 1e6:>8.1f}us {b * 1e6:>8.1f}us {a / b:>7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
