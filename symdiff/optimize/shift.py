"""Shift invariance: a value the result does not depend on gets no derivative.

Softmax, log-softmax and log-sum-exp are computed stably by subtracting the maximum first:
``m = np.max(z, axis=1, keepdims=True); s = z - m; ... s - np.log(np.sum(np.exp(s), ...))``.
The result does not depend on ``m`` at all (any ``m`` constant along the reduced axes gives
the same softmax), but reverse mode does not know that: it sums ``d_s`` back to ``m``'s
shape, routes that to the positions of the maxima through an ``==`` mask and a count, and
adds it to ``d_z``: three passes over the data for a term that is zero. A person drops it.

This module proves the invariance instead of recognising a spelling. For a candidate ``m``
(a value that some ``+`` or ``-`` reads), it perturbs ``m`` to ``m + δ``, with ``δ`` any
array of ``m``'s shape, and follows what the perturbation does to every value downstream,
in a small lattice:

* *invariant*: unchanged (every value that does not read ``m``);
* ``ADD k``: the value becomes ``v + k·δ`` (``z - m`` is ``ADD -1``; ``m`` itself ``ADD 1``);
* ``SCALE k``: the value becomes ``v · exp(k·δ)`` (``np.exp(z - m)`` is ``SCALE -1``);
* anything else: the analysis stops and ``m`` keeps its derivative.

Each value also carries the shape of ``δ`` as broadcasting aligns it with the value, so a
reduction can ask whether ``δ`` is constant along the axes it reduces: a sum of
``v · exp(k·δ)`` along such axes is ``exp(k·δ) · sum(v)`` (``SCALE k`` again); a maximum,
minimum or mean of ``v + k·δ`` is ``ADD k``; along an axis where ``δ`` varies, nothing is
claimed. The rules are identities of real arithmetic, one per primitive (sums of ``ADD``
coefficients, products and quotients of ``SCALE`` factors, ``exp`` turning one into the
other and ``log`` back, a constant factor scaling a coefficient). When the function's result
comes out invariant, its partial derivative with respect to ``m`` is zero for every ``z``
and ``m``, so every path through ``m``'s definition contributes exactly zero to the
gradient, and the derivative is built with ``m``'s inputs treated as constants
(``detach``): ``m`` is still computed, its adjoint never is.

The rewrite is exact: the gradient it gives is the true gradient, and the term it drops was
zero in exact arithmetic (the old code computed it as a sum of rounding errors). It needs the
ranks and unit axes of the arguments, so it runs on programs specialised to their types.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import Enum
from fractions import Fraction
from typing import Any

from ..abstract.infer import Analysis
from ..abstract.values import Dim, Kind
from ..ad.program import GradProgram
from ..ir import primitives as P
from ..ir.nodes import Assign, Atom, Const, Function, Var, defined_by, substitute, used_by

COPY_PREFIX = "%detached"  # the constant copy of an input of a detached value


class Motion(Enum):
    """How a value moves when ``m`` moves by ``δ``."""

    ADD = "add"  # v + k·δ
    SCALE = "scale"  # v · exp(k·δ)


@dataclass(frozen=True)
class Moves:
    """A value that moves with ``δ``: how, by which coefficient, and the shape of ``δ``
    right-aligned with the value's own shape (1 where ``δ`` is constant)."""

    effect: Motion
    k: Fraction
    delta: tuple[Dim, ...]


_ADD = {P.add, P.np_add}
_SUB = {P.sub, P.np_subtract}
_MUL = {P.mul, P.np_multiply}
_DIV = {P.div, P.np_divide}
_NEG = {P.neg, P.np_negative}
_EXP = {P.np_exp, P.m_exp}
_LOG = {P.np_log, P.m_log}
_SUMS = {P.np_sum}
_MEANS = {P.np_mean}
_EXTREMA = {P.np_max, P.np_min}


def invariant_values(fn: Function, analysis: Analysis) -> list[Var]:
    """The values of ``fn``'s top level whose perturbation leaves its result unchanged."""
    defs = {s.target: s for s in fn.body if isinstance(s, Assign)}
    candidates: list[Var] = []
    for s in fn.body:
        if isinstance(s, Assign) and s.prim in _ADD | _SUB:
            candidates += [a for a in s.args if isinstance(a, Var) and a in defs]
    out: list[Var] = []
    for m in dict.fromkeys(candidates):
        if m != fn.result and is_float_like(analysis, m) and _invariant(fn, analysis, m):
            out.append(m)
    return out


def _invariant(fn: Function, analysis: Analysis, m: Var) -> bool:
    shape = analysis.value(m).shape
    if shape is None or not analysis.value(m).is_numeric:
        return False
    moves: dict[Var, Moves] = {m: Moves(Motion.ADD, Fraction(1), tuple(shape))}
    seen = False
    for stmt in fn.body:
        if not seen:
            seen = isinstance(stmt, Assign) and stmt.target == m
            continue
        reads = [a for a in used_by(stmt) if isinstance(a, Var) and a in moves]
        if not reads:
            continue
        if not isinstance(stmt, Assign):
            return False  # a branch or a loop reads it: not analysed
        got = _rule(stmt, moves, analysis)
        if got is None:
            return False
        if got.k != 0:
            moves[stmt.target] = got
    return seen and fn.result not in moves


def _rule(stmt: Assign, moves: dict[Var, Moves], analysis: Analysis) -> Moves | None:
    """How ``stmt``'s value moves, given how its arguments do (None: not known)."""
    prim, args = stmt.prim, stmt.args
    ms = [moves.get(a) if isinstance(a, Var) else None for a in args]
    if prim in _NEG and ms[0] is not None:
        m = ms[0]
        return m if m.effect is Motion.SCALE else dataclasses.replace(m, k=-m.k)
    if prim in _EXP and len(args) == 1 and ms[0] is not None and ms[0].effect is Motion.ADD:
        return dataclasses.replace(ms[0], effect=Motion.SCALE)
    if prim in _LOG and len(args) == 1 and ms[0] is not None and ms[0].effect is Motion.SCALE:
        return dataclasses.replace(ms[0], effect=Motion.ADD)
    if prim in _SUMS | _MEANS | _EXTREMA:
        return _reduction(stmt, ms[0], analysis)
    if len(args) != 2 or prim not in _ADD | _SUB | _MUL | _DIV:
        return None
    a, b = ms
    if a is not None and b is not None and a.delta != b.delta:
        return None
    if prim in _ADD | _SUB:
        sign = 1 if prim in _ADD else -1
        if any(x is not None and x.effect is not Motion.ADD for x in (a, b)):
            return None
        k = (a.k if a else 0) + sign * (b.k if b else 0)
        return Moves(Motion.ADD, Fraction(k), (a or b).delta)  # type: ignore[union-attr]
    if prim in _MUL and (a is None) != (b is None):
        x, other = (a, args[1]) if a is not None else (b, args[0])
        assert x is not None
        if x.effect is Motion.SCALE:  # v·e^{kδ}·w: any w that does not move
            return x
        c = _number(other)
        return None if c is None else dataclasses.replace(x, k=x.k * c)
    if prim in _MUL:  # both scale: the factors multiply
        if a.effect is Motion.SCALE and b.effect is Motion.SCALE:  # type: ignore[union-attr]
            return Moves(Motion.SCALE, a.k + b.k, a.delta)  # type: ignore[union-attr]
        return None
    # division
    if a is not None and b is None:
        if a.effect is Motion.SCALE:
            return a
        c = _number(args[1])
        return None if c is None or c == 0 else dataclasses.replace(a, k=a.k / c)
    if a is None and b is not None:
        return dataclasses.replace(b, k=-b.k) if b.effect is Motion.SCALE else None
    if a.effect is Motion.SCALE and b.effect is Motion.SCALE:  # type: ignore[union-attr]
        return Moves(Motion.SCALE, a.k - b.k, a.delta)  # type: ignore[union-attr]
    return None


def _reduction(stmt: Assign, m: Moves | None, analysis: Analysis) -> Moves | None:
    """A sum keeps a factor, a mean, maximum or minimum a shift, when ``δ`` is constant
    along every axis reduced (the maximum of ``v + c`` is ``max(v) + c`` for a constant
    ``c``; a sum of ``v · c`` is ``c · sum(v)``, and ``exp(k·δ) > 0`` keeps the order)."""
    if m is None or len(stmt.args) != 1:
        return None
    if stmt.prim in _SUMS and m.effect is not Motion.SCALE:
        return None  # a sum of shifts is the shift times a count
    if stmt.prim in _MEANS and m.effect is not Motion.ADD:
        return None
    if set(k for k, _ in stmt.params) - {"axis", "keepdims"}:
        return None  # dtype=, out=, where=...: not analysed
    shape = analysis.value(stmt.args[0]).shape
    if shape is None:
        return None
    rank = len(shape)
    axis = stmt.param("axis")
    axes = range(rank) if axis is None else (axis,) if isinstance(axis, int) else tuple(axis)
    lead = rank - len(m.delta)
    reduced = set()
    for ax in axes:
        if not isinstance(ax, int) or not -rank <= ax < rank:
            return None
        j = (ax % rank) - lead
        if j >= 0 and m.delta[j] != 1:
            return None  # δ varies along this axis
        if j >= 0:
            reduced.add(j)
    if stmt.param("keepdims", False):
        return m
    return dataclasses.replace(m, delta=tuple(d for j, d in enumerate(m.delta) if j not in reduced))


def _number(a: Atom) -> Fraction | None:
    if isinstance(a, Const) and isinstance(a.value, (int, float)) and not isinstance(a.value, bool):
        try:
            return Fraction(a.value)
        except (OverflowError, ValueError):  # inf, nan
            return None
    return None


# ----------------------------------------------------------------------------- detaching


@dataclass(frozen=True)
class Detached:
    """What ``detach`` added to a function, so that ``reattach`` can take it away."""

    copies: tuple[tuple[Var, Var], ...]  # (constant copy, the input it copies)
    values: tuple[Var, ...]  # the values detached


def detach(fn: Function, values: list[Var]) -> tuple[Function, Detached]:
    """``fn`` with each of ``values`` computed from constant copies of its inputs: extra
    parameters that are never differentiated, so the value has no derivative. The copies
    are replaced by the inputs again in the derivative program (``reattach``).

    A copy must stand for a value the derivative program still computes: a parameter, or a
    value some live statement other than the detached ones reads. An input read by nothing
    else (``m`` in ``m = np.max(z, axis=1); s = z - m[:, None]``, where ``m[:, None]`` is
    the value proved invariant) is detached in turn, which changes nothing (a value computed
    only from constants is a constant) and keeps its definition in the program.
    """
    defs = {s.target: s for s in fn.body if isinstance(s, Assign)}
    live = _live(fn)
    chosen: set[Var] = set()
    stack = [v for v in values if v in defs]
    while stack:
        v = stack.pop()
        if v in chosen:
            continue
        chosen.add(v)
        for a in defs[v].args:
            if isinstance(a, Var) and a in defs and not _read_elsewhere(fn, a, chosen, live):
                stack.append(a)
    copies: dict[Var, Var] = {}
    body: list[Any] = []
    for stmt in fn.body:
        if isinstance(stmt, Assign) and stmt.target in chosen:
            args = []
            for a in stmt.args:
                if isinstance(a, Var) and a not in chosen:
                    a = copies.setdefault(a, Var(f"{COPY_PREFIX}{len(copies)}"))
                args.append(a)
            stmt = dataclasses.replace(stmt, args=tuple(args))
        body.append(stmt)
    if any(v not in fn.params and not _read_elsewhere(fn, v, chosen, live) for v in copies):
        return fn, Detached((), ())  # a copy of a value nothing else keeps: not detached
    pairs = tuple((c, v) for v, c in copies.items())
    out = dataclasses.replace(fn, params=fn.params + tuple(c for c, _ in pairs), body=tuple(body))
    return out, Detached(pairs, tuple(values))


def _live(fn: Function) -> set[Var]:
    """Values the result needs (a statement of a block counts as live when its block is)."""
    live = {fn.result} if isinstance(fn.result, Var) else set()
    for stmt in reversed(fn.body):
        made = set(defined_by(stmt))
        if made & live or not made:
            live.update(a for a in used_by(stmt) if isinstance(a, Var))
    return live


def _read_elsewhere(fn: Function, v: Var, chosen: set[Var], live: set[Var]) -> bool:
    """Whether a live statement outside ``chosen`` reads ``v`` (or ``v`` is the result)."""
    if v == fn.result:
        return True
    for stmt in fn.body:
        if isinstance(stmt, Assign) and stmt.target in chosen:
            continue
        made = defined_by(stmt)
        if (not made or any(t in live for t in made)) and v in used_by(stmt):
            return True
    return False


def reattach(prog: GradProgram, detached: Detached) -> GradProgram:
    """The derivative program of a detached function, reading the original inputs."""
    if not detached.copies:
        return prog
    mapping: dict[Var, Atom] = dict(detached.copies)
    copies = set(mapping)
    return dataclasses.replace(
        prog,
        params=tuple(p for p in prog.params if p not in copies),
        forward=substitute(prog.forward, mapping),
        backward=substitute(prog.backward, mapping),
    )


def is_float_like(analysis: Analysis, v: Var) -> bool:
    """A value that can be shifted by a real ``δ`` (a float, or a float array)."""
    value = analysis.value(v)
    if value.kind is Kind.FLOAT:
        return True
    return value.is_numeric and value.dtype is not None and value.dtype.kind == "f"
