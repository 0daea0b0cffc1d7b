"""Checks a rewritten region must pass before it replaces the original.

Algebra can be wrong where SymPy's assumptions are not NumPy's, so a rewrite is kept only
if it is well formed (nothing read before it is made), does no arithmetic on values that
may be boolean, and agrees with the original on random inputs (``verify``).
"""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np

from ..ir.nodes import Assign, Atom, Const, Primitive, Var
from .context import ADD, KEEPS_BOOL, NEG, Context
from .sympy_tables import number

_POINTS = 10  # ordinary random points a rewritten region is checked on
_HUGE = 6  # and points with huge inputs


def bool_safe(c: Context, stmts: list[Assign]) -> bool:
    boolish = set(c.boolish)
    for s in stmts:
        flags = [isinstance(a, Var) and a in boolish for a in s.args]
        if s.prim in NEG | ADD and all(flags):
            return False
        if s.prim in KEEPS_BOOL and all(flags):
            boolish.add(s.target)
    return True


def verify(c: Context, old: list[Assign], new: list[Assign], outputs: list[Var]) -> bool:
    """Both versions agree at random points, forward values consistent with each other.

    Ordinary points (inputs of both signs, at least three where all is finite) must
    agree to rounding, and in where they are finite. At huge inputs, where rewrites change
    what overflows, the new version must be finite wherever the old one is: it may fix an
    overflow (0 · ∞ in the sigmoid derivative as first derived), never introduce one;
    there, values agree to rounding relative to the largest value computed on the way
    (``1 - a`` rounds to 0 where ``a`` rounds to 1, a loss the textbook form accepts).
    """
    rng = random.Random(0)
    finite = 0
    for k in range(_POINTS + _HUGE):
        shared: dict[Any, float] = {}
        a, scale = evaluate(c, old, outputs, shared, rng, k)
        b, _ = evaluate(c, new, outputs, shared, rng, k)
        ordinary = k < _POINTS
        if ordinary and all(math.isfinite(x) for x in a + b):
            finite += 1
        for x, y in zip(a, b):
            if math.isfinite(x):
                top = max(abs(x), abs(y)) if ordinary else max(abs(x), abs(y), scale)
                if not math.isfinite(y) or abs(x - y) > 1e-7 * top + 1e-12:
                    return False
            elif ordinary and (math.isfinite(y) or (x != y and not math.isnan(y))):
                return False
    return finite >= 3


def evaluate(c: Context, stmts, outputs, shared, rng, k) -> tuple[list[float], float]:
    """The outputs at point ``k``, and the largest finite magnitude met on the way."""
    local: dict[Var, float] = {}

    def value(a: Atom) -> float:
        if isinstance(a, Var) and a in local:
            return local[a]
        key = a if isinstance(a, Var) else ("const", a)
        if key in shared:
            return shared[key]
        if isinstance(a, Const) and number(a.value) is not None:
            x = float(a.value)
        elif isinstance(a, Var) and a in c.all_defs:
            d = c.all_defs[a]
            x = safe_eval(d.prim, [value(b) for b in d.args])
        elif isinstance(a, Var) and a in c.boolish:
            x = float(rng.random() < 0.5)
        elif k >= _POINTS:  # beyond exp's range, or far into a sigmoid's tails
            x = rng.choice((-1, 1)) * (rng.uniform(700, 800) if k % 2 else rng.uniform(20, 40))
        else:
            x = rng.uniform(0.2, 1.4) if k < _POINTS // 2 else rng.uniform(-1.4, 1.4)
        shared[key] = x
        return x

    scale = 0.0
    for s in stmts:
        args = [value(a) for a in s.args]
        local[s.target] = x = safe_eval(s.prim, args)
        scale = max([scale] + [abs(v) for v in (*args, x) if math.isfinite(v)])
    return [local[o] for o in outputs], scale


def well_formed(old: list[Assign], new: list[Assign]) -> bool:
    """No statement of ``new`` reads a value of the region before the region defines it."""
    region = {s.target for s in old} | {s.target for s in new}
    made: set[Var] = set()
    for s in new:
        if any(a in region and a not in made for a in s.args if isinstance(a, Var)):
            return False
        made.add(s.target)
    return True


def safe_eval(prim: Primitive, args: list[float]) -> float:
    """One primitive on Python floats; domain errors and complex results are NaN."""
    try:
        with np.errstate(all="ignore"):
            r = prim.impl(*args)
        if isinstance(r, complex) or np.iscomplexobj(r):
            return math.nan
        return float(r)
    except (ArithmeticError, ValueError, TypeError):
        return math.nan
