"""The C backend against NumPy on small work, where NumPy's per-call cost dominates.

For each case: the hand-written NumPy gradient (``handwritten.py``), symdiff's NumPy
gradient called through ``grad()``, the C gradient called from Python through ctypes
(``symdiff.c_grad``), and the same C gradient timed from C itself by a small harness
compiled next to it (a loop of calls between two ``clock_gettime`` readings, no Python at
all), and JAX's jitted gradient when JAX is installed. Every gradient is checked against the
hand-written one before it is timed.

    python benchmarks/bench_c.py            # the table, times per call in microseconds
    python benchmarks/bench_c.py --quick    # fewer repeats

Method: each figure is the best of ``--repeat`` runs of a timed loop sized to last about
0.1 s (the C harness: the same number of calls), so it is the cost of one call on a warm
cache; the speed-up column is hand-written NumPy over C timed from C.
"""

from __future__ import annotations

import argparse
import ctypes
import math
import os
import shutil
import subprocess
import sys
import tempfile
import timeit
from pathlib import Path
from typing import Any, Callable

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import cases  # noqa: E402
import handwritten as hw  # noqa: E402

import symdiff  # noqa: E402
from symdiff.api.c import CCode  # noqa: E402


def _dense(rng: np.random.Generator) -> tuple:
    W = rng.standard_normal((16, 32)) * 0.2
    b = rng.standard_normal(16) * 0.1
    X = rng.standard_normal((8, 32))
    Y = rng.random((8, 16))
    return W, b, X, Y


def _mlp(rng: np.random.Generator) -> tuple:
    W1 = rng.standard_normal((32, 16)) * math.sqrt(2 / 32)
    b1 = rng.standard_normal(16) * 0.1
    W2 = rng.standard_normal((16, 10)) * math.sqrt(1 / 16)
    b2 = rng.standard_normal(10) * 0.1
    X = rng.standard_normal((8, 32))
    Y = np.eye(10)[rng.integers(0, 10, size=8)]
    return W1, b1, W2, b2, X, Y


def _vector(rng: np.random.Generator) -> tuple:
    return (rng.standard_normal(1000),)


# name, function, wrt, inputs, hand-written gradient
CASES: list[tuple[str, Callable[..., Any], tuple[str, ...], Callable[..., tuple], Callable]] = [
    ("scalar loop, 50 steps", cases.scalar_loop, ("x",), lambda rng: (0.7,), hw.scalar_loop),
    ("sigmoid, n=1000", cases.sigmoid_sum, ("x",), _vector, hw.sigmoid_sum),
    ("tanh, n=1000", cases.tanh_sum, ("x",), _vector, hw.tanh_sum),
    ("ReLU, n=1000", cases.relu_sum, ("x",), _vector, hw.relu_sum),
    ("dense 16x32, batch 8", cases.dense_mse, ("W", "b"), _dense, hw.dense_mse),
    ("MLP 32-16-10, batch 8", cases.mlp_xent, ("W1", "b1", "W2", "b2"), _mlp, hw.mlp_xent),
]


def per_call(fn: Callable[[], Any], repeat: int) -> float:
    """Seconds per call: the best of ``repeat`` loops of about 0.1 s each."""
    number, _ = timeit.Timer(fn).autorange()
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def harness(code: CCode) -> str:
    """A C function ``bench(reps, <the gradient's arguments>)``: nanoseconds per call."""
    fn = code.emitted.grad
    params = ", ".join(p.declaration() for p in fn.params)
    names = ", ".join(p.name for p in fn.params)
    return "\n".join(
        [
            "#define _POSIX_C_SOURCE 199309L",
            "#include <time.h>",
            f'#include "{code.name}.h"',
            "",
            f"double bench(long reps, {params})",
            "{",
            "    struct timespec start, stop;",
            "    clock_gettime(CLOCK_MONOTONIC, &start);",
            "    for (long r = 0; r < reps; r++) {",
            f"        if ({fn.name}({names}) != 0) {{",
            "            return -1.0;",
            "        }",
            "    }",
            "    clock_gettime(CLOCK_MONOTONIC, &stop);",
            "    double ns = (stop.tv_sec - start.tv_sec) * 1e9 + (stop.tv_nsec - start.tv_nsec);",
            "    return ns / reps;",
            "}",
            "",
        ]
    )


def timed_in_c(code: CCode, args: tuple, folder: Path, repeat: int) -> float:
    """Seconds per call of the C gradient, measured by the harness, not by Python."""
    cc = shutil.which(os.environ.get("CC") or "cc")
    assert cc is not None, "no C compiler"
    code.write(folder)
    (folder / "bench.c").write_text(harness(code))
    lib_path = folder / "bench.so"
    subprocess.run(
        [cc, "-std=c99", "-O2", "-fno-math-errno", "-shared", "-fPIC", "-o", str(lib_path), str(folder / "bench.c"),
         str(folder / f"{code.name}.c"), "-lm"],
        check=True,
    )  # fmt: skip
    lib = ctypes.CDLL(str(lib_path))
    lib.bench.restype = ctypes.c_double
    call: list[Any] = []
    keep: list[np.ndarray] = []
    inputs = iter(args)
    for p in code.emitted.grad.params:
        if p.role == "in":
            a = next(inputs)
            if p.ctype.scalar:
                call.append(ctypes.c_double(float(a)))
                continue
            arr = np.ascontiguousarray(a, dtype=np.float64)
        else:
            arr = np.empty(max(p.ctype.size, 1))
        keep.append(arr)
        call.append(ctypes.c_void_p(arr.ctypes.data))
    reps = 1
    while lib.bench(ctypes.c_long(reps), *call) * reps < 1e8 and reps < 1 << 30:  # ~0.1 s
        reps *= 4
    return min(lib.bench(ctypes.c_long(reps), *call) for _ in range(repeat)) * 1e-9


def jax_call(fn: Callable[..., Any], wrt: tuple[str, ...], args: tuple) -> Callable[[], Any] | None:
    """JAX's jitted gradient on these arguments as a call of no arguments, if JAX is here."""
    try:
        import peers

        peer = peers.Jax()
        if peer.load() is not None:
            return None
        names = fn.__code__.co_varnames[: fn.__code__.co_argcount]
        run = peer.build(fn, tuple(names.index(n) for n in wrt), args)
        run()  # compile outside the timing
        return run
    except Exception:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="three repeats instead of seven")
    parser.add_argument("--repeat", type=int, default=7)
    opts = parser.parse_args(argv)
    repeat = 3 if opts.quick else opts.repeat
    rng = np.random.default_rng(0)
    head = f"{'case':<24} {'hand NumPy':>11} {'symdiff NumPy':>14} {'C (ctypes)':>11} {'C (from C)':>11} {'speed-up':>9} {'JAX jit':>8}"
    print(head)
    print("-" * len(head))
    with tempfile.TemporaryDirectory() as tmp:
        for k, (label, fn, wrt, make, hand) in enumerate(CASES):
            args = make(rng)
            w = wrt[0] if len(wrt) == 1 else wrt
            ref = hand(*args)
            g_np = symdiff.grad(fn, wrt=w)
            g_c = symdiff.c_grad(fn, *args, wrt=w)
            got = g_c(*args)
            got = (got,) if len(wrt) == 1 else got
            for a, b in zip(got, ref):
                assert np.allclose(a, b, rtol=1e-9, atol=1e-12), f"{label}: C disagrees"
            t_hand = per_call(lambda: hand(*args), repeat)
            t_np = per_call(lambda: g_np(*args), repeat)
            t_ctypes = per_call(lambda: g_c(*args), repeat)
            folder = Path(tmp) / f"case{k}"
            folder.mkdir()
            t_c = timed_in_c(g_c.code(*args), args, folder, repeat)
            jg = jax_call(fn, wrt, args)
            t_jax = f"{per_call(jg, repeat) * 1e6:8.2f}" if jg else f"{'-':>8}"
            print(
                f"{label:<24} {t_hand * 1e6:11.2f} {t_np * 1e6:14.2f} {t_ctypes * 1e6:11.2f} "
                f"{t_c * 1e6:11.3f} {t_hand / t_c:8.2f}x {t_jax}"
            )
    print("\ntimes in microseconds per call; speed-up: hand-written NumPy / C timed from C")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
