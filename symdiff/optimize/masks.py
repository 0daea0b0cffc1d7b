"""Masks decided once: comparisons with a multiple of the same value, and mask arithmetic.

The rules of ``maximum``, ``minimum``, ``where``, ``clip`` and ``abs`` each write their
own masks, and a composition writes several: leaky ReLU ``np.maximum(0.01 * x, x)`` gives
``m = (0.01 * x > x) + 0.5 * (0.01 * x == x)`` (ties split evenly) and
``d_x = 1.0 - m + m * 0.01``, six passes over the data where a person writes two. Two exact
rewrites close the gap.

**Comparisons with a multiple.** For a constant ``c <= 1/2``, ``c * x > x`` holds exactly
when ``x < 0``, and ``c * x == x`` exactly when ``x == 0``, for every finite ``x``
(including subnormals and signed zeros), in floating point and not only in real arithmetic:
``|fl(c·x)| <= fl(|x|/2) < |x|`` for ``x != 0`` (rounding is monotonic and halving is exact
or rounds a subnormal to a smaller one), and ``c·x`` is never on the other side of ``x``'s
sign. For ``c >= 2``, ``|fl(c·x)| >= 2|x| > |x|`` (an overflow gives an infinity, larger
still). Between the two, rounding can make ``c·x`` equal to ``x`` (``c = 1 - 2^-53``), and
nothing is rewritten. Every comparison operator and both operand orders follow from these.
Infinite ``x`` is outside the claim (``0.01 * -inf == -inf``), as NaN is (every comparison
is false on both sides).

**One mask expression per value.** A value computed only from comparisons of one pair of
operands ``(p, q)`` and numeric constants is a function of which of ``p < q``, ``p == q``,
``p > q`` holds: three numbers, found by evaluating the statements themselves (with
NumPy's float64 and boolean scalars, so the rounding is the arrays' rounding) on each
case. The value is then written as the cheapest of a few forms that gives exactly those
three numbers, checked by evaluating the form on each case: ``a + b * np.sign(p)`` (``p -
q`` when ``q`` is not 0: exact, since a difference of distinct finite floats is never 0),
``a + h * (np.sign(p) + 1)`` or a sum of two masks, and only when it is shorter than
what it replaces (``np.where`` is never written: on a random mask it is several times
slower than arithmetic). Leaky ReLU's gradient becomes one ``np.sign`` and three
arithmetic passes, with the documented tie value. Only arrays are rewritten (a Python
float stays a Python float, which ``np.sign`` would not keep), and only constants whose
value is fixed (a named module constant such as ``ALPHA`` stays a name in the code, so
nothing is computed from its value now).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from fractions import Fraction
from typing import Any, Callable

import numpy as np

from ..ad import analysis
from ..ad.program import GradProgram
from ..ir import primitives as P
from ..ir.nodes import Assign, Atom, Block, Const, If, Loop, Var, iter_assigns, used_by

_FLIP = {P.lt: P.gt, P.gt: P.lt, P.le: P.ge, P.ge: P.le, P.eq: P.eq, P.ne: P.ne}
_NP = {
    P.np_less: P.lt,
    P.np_greater: P.gt,
    P.np_less_equal: P.le,
    P.np_greater_equal: P.ge,
    P.np_equal: P.eq,
}
_ARITH = {P.add, P.sub, P.mul, P.neg, P.np_add, P.np_subtract, P.np_multiply, P.np_negative}
# where(mask, a, b): the rules of where; as_float: a mask as numbers (ReLU's rule)
_ARITH |= {P.np_where, P.as_float}
_TEMP = "%mask"


class _Names:
    """Temporaries of the forms written (internal names: the emitter names them)."""

    def __init__(self) -> None:
        self.counter = itertools.count()
        self.signs: dict[tuple[Atom, Atom], Var] = {}  # computed once per pair, where first used

    def fresh(self) -> Var:
        return Var(f"{_TEMP}{next(self.counter)}")


# ----------------------------------------------------------------------------- comparisons


def compare_multiples(stmt: Assign, defs: dict[Var, Assign]) -> Assign | None:
    """``c * x OP x`` (either order) as ``x OP' 0``, where ``c <= 1/2`` or ``c >= 2``."""
    prim = _NP.get(stmt.prim, stmt.prim)
    if prim not in _FLIP or len(stmt.args) != 2:
        return None
    a, b = stmt.args
    for left, right, op in ((a, b, prim), (b, a, _FLIP[prim])):
        c = _multiple_of(left, right, defs)
        if c is None:
            continue
        if c <= Fraction(1, 2):  # c·x OP x  ⇔  x OP' 0, with the order reversed
            new = _FLIP[op]
        elif c >= 2:  # c·x OP x  ⇔  x OP 0
            new = op
        else:
            return None
        return Assign(stmt.target, new, (right, Const(0)), (), stmt.loc)
    return None


def _multiple_of(value: Atom, x: Atom, defs: dict[Var, Assign]) -> Fraction | None:
    """``c`` when ``value`` is defined as ``c * x`` or ``x * c`` for a finite number ``c``."""
    d = defs.get(value) if isinstance(value, Var) else None
    if d is None or d.prim not in (P.mul, P.np_multiply) or not isinstance(x, Var):
        return None
    for k, other in ((0, 1), (1, 0)):
        if d.args[other] == x:
            c = d.args[k]
            if isinstance(c, Const) and c.name is None and _is_number(c.value):
                return Fraction(float(c.value))
    return None


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


# ----------------------------------------------------------------------------- mask values


def combine(block: Block, keep: set[Var], names: _Names, arrays: Callable[[Atom], bool]) -> Block:
    """Each mask value read outside the mask arithmetic (or kept: a gradient, a value the
    emitter names) rewritten as one expression of its pair's sign (see the module)."""
    defs = {s.target: s for s in block if isinstance(s, Assign)}
    masks: dict[Var, tuple[Atom, Atom]] = {}  # a value computed from comparisons of one pair
    for s in block:
        if not isinstance(s, Assign):
            continue
        if s.prim in _FLIP and len(s.args) == 2:
            masks[s.target] = (s.args[0], s.args[1])
        elif s.prim is P.np_sign and not s.params:  # abs's rule: the sign of x is x vs 0
            masks[s.target] = (s.args[0], Const(0))
        elif s.prim in _ARITH:
            pairs = {_ordered(masks[a]) for a in s.args if isinstance(a, Var) and a in masks}
            others = [a for a in s.args if not (isinstance(a, Var) and a in masks)]
            fixed = all(
                isinstance(a, Const) and a.name is None and _is_number(a.value) for a in others
            )
            if len(pairs) == 1 and fixed:  # a named constant stays a name: nothing baked in
                masks[s.target] = pairs.pop()
    readers: dict[Var, set[Var | None]] = {}
    for s in block:
        reads = s.args if isinstance(s, Assign) else used_by(s)
        for a in reads:
            if isinstance(a, Var):
                readers.setdefault(a, set()).add(s.target if isinstance(s, Assign) else None)
    out: list = []
    for s in block:
        if isinstance(s, Assign) and s.target in masks and s.prim in _ARITH:
            outside = any(r is None or r not in masks for r in readers.get(s.target, ()))
            if (outside or s.target in keep) and all(map(arrays, masks[s.target])):
                new = _rewritten(s, masks[s.target], defs, names)
                if new is not None:
                    out.extend(new)
                    continue
        out.append(s)
    return tuple(out)


def _ordered(pair: tuple[Atom, Atom]) -> tuple[Atom, Atom]:
    """A pair and its reverse are the same pair (``p < q`` is ``q > p``)."""
    a, b = pair
    return pair if isinstance(b, Const) or (isinstance(a, Var) and str(a) <= str(b)) else (b, a)


def _rewritten(
    stmt: Assign, pair: tuple[Atom, Atom], defs: dict[Var, Assign], names: _Names
) -> tuple[Assign, ...] | None:
    cases = [_evaluate(stmt.target, defs, pair, s) for s in (-1, 0, 1)]
    if any(c is None for c in cases):
        return None
    values = [float(c) for c in cases]  # type: ignore[arg-type]
    p, q = pair
    for form in _forms(values):
        if all(_same(form.evaluate(s), v) for s, v in zip((-1.0, 0.0, 1.0), values)):
            signs = dict(names.signs)
            new = form.build(stmt, p, q, names)
            if len(new) < _size(stmt.target, defs):
                return new
            names.signs = signs  # not written: a later value computes the sign itself
            return None
    return None


def _size(v: Var, defs: dict[Var, Assign]) -> int:
    """Statements computing mask value ``v`` from its comparisons: what the form replaces."""
    seen: set[Var] = set()
    stack = [v]
    while stack:
        a = stack.pop()
        if a in seen or a not in defs:
            continue
        seen.add(a)
        if defs[a].prim not in _FLIP and defs[a].prim is not P.np_sign:
            stack += [b for b in defs[a].args if isinstance(b, Var)]
    return len(seen)


def _evaluate(v: Var, defs: dict[Var, Assign], pair: tuple[Atom, Atom], sign: int) -> Any:
    """The value of mask value ``v`` where ``p - q`` has the given sign (float64 scalars)."""
    p, q = pair
    memo: dict[Var, Any] = {}

    def value(a: Atom) -> Any:
        if isinstance(a, Const):
            return a.value
        if a in memo:
            return memo[a]
        d = defs[a]
        if d.prim is P.np_sign:
            r = np.sign(np.float64(sign))
        elif d.prim in _FLIP:
            left, right = d.args
            x, y = (np.float64(sign), np.float64(0.0))
            if (left, right) == (q, p):
                x, y = y, x
            r = d.prim.impl(x, y)
        else:
            r = d.prim.impl(*[value(b) for b in d.args])
        memo[a] = r
        return r

    with np.errstate(all="ignore"):
        r = value(v)
    if isinstance(r, np.ndarray) and r.shape == ():  # np.asarray of a scalar
        r = r[()]
    if not isinstance(r, (np.floating, float)) or not math.isfinite(float(r)):
        return None  # a boolean or integer mask is left as it is
    return r


def _same(a: float, b: float) -> bool:
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


class _Form:
    """One way of writing three case values; ``evaluate`` replays its rounding."""

    def __init__(self, evaluate: Callable[[float], float], build: Callable[..., tuple]):
        self.evaluate = evaluate
        self.build = build


def _forms(v: list[float]) -> list[_Form]:
    """The candidate forms for case values ``v`` (p < q, p == q, p > q), cheapest first."""
    lo, tie, hi = (np.float64(x) for x in v)
    b, h = hi - tie, (hi - lo) / 2
    d1, d2 = hi - lo, tie - lo
    return [
        _Form(
            lambda s: tie + b * np.float64(s),
            lambda stmt, p, q, names: _affine(stmt, p, q, names, tie, b, shifted=False),
        ),
        _Form(
            lambda s: lo + h * (np.float64(s) + 1),
            lambda stmt, p, q, names: _affine(stmt, p, q, names, lo, h, shifted=True),
        ),
        _Form(
            lambda s: _two_masks_value(s, lo, d1, d2),
            lambda stmt, p, q, names: _two_masks(stmt, p, q, names, lo, d1, d2),
        ),
    ]


def _sign(p: Atom, q: Atom, stmt: Assign, names: _Names) -> tuple[list[Assign], Atom]:
    """The sign of ``p - q`` (of ``p`` when ``q`` is 0): the statements computing it, the
    first time the pair's sign is asked for, and the variable holding it."""
    known = names.signs.get((p, q))
    if known is not None:
        return [], known
    out: list[Assign] = []
    x = p
    if not (isinstance(q, Const) and _is_number(q.value) and q.value == 0):
        x = names.fresh()
        out.append(Assign(x, P.sub, (p, q), (), stmt.loc))
    s = names.fresh()
    out.append(Assign(s, P.np_sign, (x,), (), stmt.loc))
    names.signs[(p, q)] = s
    return out, s


def _affine(stmt, p, q, names, a, b, shifted: bool) -> tuple[Assign, ...]:
    """``a + b * sign`` (``a + b * (sign + 1)`` when shifted), constants left out where
    they are 0 or 1, ``a - |b| * sign`` for a negative ``b`` (the same rounding)."""
    out, s = _sign(p, q, stmt, names)
    if shifted:
        t = names.fresh()
        out.append(Assign(t, P.add, (s, Const(1.0)), (), stmt.loc))
        s = t
    a, b = float(a), float(b)
    last = a == 0.0
    if abs(b) != 1.0 or (last and b < 0):
        t = stmt.target if last else names.fresh()
        out.append(Assign(t, P.mul, (Const(b if last else abs(b)), s), (), stmt.loc))
        s = t
    if not last:
        prim = P.sub if b < 0 else P.add
        out.append(Assign(stmt.target, prim, (Const(a), s), (), stmt.loc))
    elif s != stmt.target:  # the sign itself (a = 0, b = 1)
        out.append(Assign(stmt.target, P.pos, (s,), (), stmt.loc))
    return tuple(out)


def _two_masks_terms(lo, d1, d2) -> tuple[list, bool]:
    """The terms ``lo + d1 * (p > q) + d2 * (p == q)`` is written with: a term whose
    coefficient is 0 is left out (the ReLU-like conventions), and ``lo`` when it is 0."""
    terms = [(P.gt, float(d1)), (P.eq, float(d2))]
    return [(op, d) for op, d in terms if d != 0.0], float(lo) != 0.0


def _two_masks_value(s: float, lo, d1, d2) -> float:
    """The rounding of the form ``_two_masks`` writes, replayed on one case."""
    terms, with_lo = _two_masks_terms(lo, d1, d2)
    if not terms:
        return math.nan  # a constant: not written as a mask
    values = [np.float64(d) * np.float64((s > 0) if op is P.gt else (s == 0)) for op, d in terms]
    if with_lo:
        values[0] = np.float64(lo) + values[0]
    total = values[0]
    for v in values[1:]:
        total = total + v
    return float(total)


def _two_masks(stmt, p, q, names, lo, d1, d2) -> tuple[Assign, ...]:
    """``lo + d1 * (p > q) + d2 * (p == q)``, without the terms that are 0 (a mask alone
    is made a float array: the value it replaces was one)."""
    terms, with_lo = _two_masks_terms(lo, d1, d2)
    out: list[Assign] = []
    parts: list[Atom] = []
    for op, d in terms:
        m, t = names.fresh(), names.fresh()
        out.append(Assign(m, op, (p, q), (), stmt.loc))
        if d == 1.0:
            out.append(Assign(t, P.as_float, (m,), (), stmt.loc))
        else:
            out.append(Assign(t, P.mul, (Const(d), m), (), stmt.loc))
        parts.append(t)
    if with_lo:
        t = names.fresh()
        first = parts.pop(0)
        out.append(Assign(t, P.add, (Const(float(lo)), first), (), stmt.loc))
        parts.insert(0, t)
    while len(parts) > 1:
        t = names.fresh()
        out.append(Assign(t, P.add, (parts[0], parts[1]), (), stmt.loc))
        parts[:2] = [t]
    last = out[-1]
    out[-1] = Assign(stmt.target, last.prim, last.args, last.params, stmt.loc)
    return tuple(out)


# ----------------------------------------------------------------------------- the pass


def decide_masks(prog: GradProgram, arrays: Callable[[Atom], bool] | None = None) -> GradProgram:
    """``prog`` with its comparisons of multiples simplified and, where ``arrays`` says a
    pair of operands is an array (or an array and a number), the mask values its backward
    sweep's top level computes combined; what nothing reads any more is pruned."""
    defs = {s.target: s for s in iter_assigns(prog.forward + prog.backward)}

    def block(stmts: Block) -> Block:
        out = []
        for s in stmts:
            if isinstance(s, Assign):
                s = compare_multiples(s, defs) or s
            elif isinstance(s, If):
                s = dataclasses.replace(s, then=block(s.then), orelse=block(s.orelse))
            elif isinstance(s, Loop):
                s = dataclasses.replace(s, body=block(s.body), cond_block=block(s.cond_block))
            out.append(s)
        return tuple(out)

    forward, backward = block(prog.forward), block(prog.backward)
    grads = {g for g in prog.grads if isinstance(g, Var)}
    if arrays is not None:
        backward = combine(backward, grads, _Names(), arrays)
    if forward == prog.forward and backward == prog.backward:
        return prog
    live = grads | ({prog.value} if isinstance(prog.value, Var) else set())
    backward = analysis.prune(backward, live)
    forward = analysis.prune(forward, live)
    return dataclasses.replace(prog, forward=forward, backward=backward)
