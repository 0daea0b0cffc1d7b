"""The fuzz generator's programs (tests/programs.py) through the C backend: each one either
is refused when the C is written (a ``SymdiffError`` naming what C does not write) or its
compiled gradient equals symdiff's NumPy gradient to 1e-12. Never a wrong number, never a
crash; and enough of them are in scope that this tests something."""

import numpy as np

import symdiff
from symdiff import SymdiffError, from_source

from ...programs import RandomChooser, generate, namespace
from .compiling import STRICT, agree, as_tuple, needs_cc

SEEDS = range(100)


@needs_cc
def test_generated_programs_are_refused_or_agree():
    ok, wrong = 0, []
    for seed in SEEDS:
        prog = generate(RandomChooser(seed), seed)
        f = from_source(prog.source, prog.name, namespace())
        try:
            with np.errstate(all="ignore"):
                ref = symdiff.grad(f, wrt=prog.wrt)(*prog.args)
        except Exception:
            continue  # not a valid program for NumPy either
        try:
            got = symdiff.c_grad(f, *prog.args, wrt=prog.wrt, cflags=STRICT)(*prog.args)
        except SymdiffError:
            continue
        if agree(as_tuple(got, prog.wrt), as_tuple(ref, prog.wrt)):
            ok += 1
        else:
            wrong.append(f"seed {seed}:\n{prog.source}\nC: {got}\nNumPy: {ref}")
    assert not wrong, "\n\n".join(wrong)
    assert ok >= 10, f"only {ok} programs in the C backend's scope"
