"""The exact algebra stage as a whole (optimize.algebra): random programs of the fuzz
generator give the same gradients with it on and off."""

import numpy as np

from symdiff import SymdiffError, pipeline

from ..programs import RandomChooser, generate

SEEDS = range(120)


def _grads(prog, algebra):
    t = pipeline.transform(prog.function(), prog.wrt, args=prog.args, algebra=algebra)
    with np.errstate(all="ignore"):
        return [np.asarray(g, dtype=float) for g in t.grad(*prog.args)]


def test_random_programs_agree_with_the_algebra_on_and_off():
    disagreeing, compared = [], 0
    for seed in SEEDS:
        prog = generate(RandomChooser(seed))
        try:
            off = _grads(prog, False)
        except (SymdiffError, ArithmeticError, ValueError):
            continue  # outside what is compared here: the fuzz tests cover it
        on = _grads(prog, True)
        compared += 1
        for a, b in zip(on, off):
            if not np.allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True):
                disagreeing.append(str(prog))
    assert compared > 0.8 * len(SEEDS)
    assert disagreeing == []
