"""Inference on the random programs of tests/programs.py: on arguments a program runs at,
the analysis must never report a definite shape error, and every value the IR interpreter
binds must be covered by the inferred one, from exact arguments and from the signature."""

import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings

from symdiff.abstract.infer import analyse
from symdiff.abstract.values import covers, of, signature
from symdiff.frontend.lower import lower
from symdiff.frontend.source import get_source
from symdiff.ir.interpret import run_block

from ..programs import RandomChooser, generate, program_strategy


def interpreted(fn, args):
    env = dict(zip(fn.params, args))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        run_block(fn.body, env)
    return env


def check(prog) -> bool:
    """True if the program could be checked (it lowers and runs)."""
    try:
        fn = lower(get_source(prog.function()), reserved=set())[0]
        env = interpreted(fn, prog.args)
    except Exception:  # refused or invalid programs are the fuzz tests' business
        return False
    for args in (tuple(of(a) for a in prog.args), signature(prog.args)):
        values = analyse(fn, args).values
        for var, value in env.items():
            assert covers(values[var], of(value)), (str(prog), var, str(values[var]))
    return True


def test_seeded_programs():
    checked = sum(check(generate(RandomChooser(seed), seed)) for seed in range(60))
    assert checked >= 50


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(program_strategy())
def test_random_programs(prog):
    check(prog)
