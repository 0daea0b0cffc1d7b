"""What a typed rewrite (``optimize.specialise``) is given, and what it may answer.

Kept apart from the driver so that the rewrite modules (``typed_broadcast``,
``typed_linalg``, ``typed_shapes``, ``typed_elementwise``) and the driver import this and
never each other. Besides the interface, the few facts about types every rewrite needs live
here: when two results are interchangeable (``same_type``), when broadcasting one shape
against another leaves the other as it is (``fits``), and where a value is defined
(``scopes``: a common-subexpression step may reuse only a value computed on every path to
its reader).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Callable, Hashable, Iterator, Union

from ..abstract.infer import Analysis
from ..abstract.values import AbstractValue, Dim, Extent, Kind
from ..ir.nodes import Assign, Atom, Block, Const, If, Loop, Primitive, Var

FRESH_PREFIX = "%sp"  # temporaries a rewrite introduces (internal: the emitter names them)


@dataclass
class Types:
    """The abstract value of every atom of the analysed program, and fresh temporaries."""

    analysis: Analysis
    defs: dict[Var, Assign] = field(default_factory=dict)  # the assignment defining a var
    backward: bool = False  # the statement offered is in the backward sweep
    counter: Iterator[int] = field(default_factory=itertools.count)
    # where each variable is defined (``scopes``); empty: unknown, nothing is reused
    scope: dict[Var, tuple] = field(default_factory=dict)
    # statements seen so far this round, by what they compute (``remember``/``recall``)
    seen: dict[Hashable, list[Var]] = field(default_factory=dict)

    def of(self, atom: Atom) -> AbstractValue:
        return self.analysis.value(atom)

    def definition(self, atom: Atom) -> Assign | None:
        """The assignment that defines ``atom`` (``None``: a parameter, constant, carry...)."""
        return self.defs.get(atom) if isinstance(atom, Var) else None

    def recall(self, key: Hashable, target: Var) -> Var | None:
        """A variable computed earlier under ``key`` that is defined on every path to
        ``target`` (its block encloses ``target``'s), else None; ``target`` is remembered
        under ``key`` when nothing is found."""
        inner = self.scope.get(target)
        if inner is None:
            return None
        earlier = self.seen.setdefault(key, [])
        for v in earlier:
            outer = self.scope[v]
            if v != target and inner[: len(outer)] == outer:
                return v
        earlier.append(target)
        return None

    def fresh(self) -> Var:
        """A temporary no statement of the program defines yet."""
        while True:
            v = Var(f"{FRESH_PREFIX}{next(self.counter)}")
            if v not in self.analysis.values and v not in self.defs:
                return v


# what a rewrite answers: an atom the target is equal to, statements ending with the
# target's definition, or None to leave the statement as it is
Replacement = Union[Atom, tuple[Assign, ...], None]
Rewrite = Callable[[Assign, Types], Replacement]


def is_python_float(v: AbstractValue) -> bool:
    return v.kind is Kind.FLOAT


def is_array(v: AbstractValue, rank: int | None = None) -> bool:
    """An ndarray of known rank (``rank``, when given)."""
    if v.kind is not Kind.ARRAY or v.shape is None:
        return False
    return rank is None or len(v.shape) == rank


def scalar_like(v: AbstractValue) -> bool:
    """A Python or NumPy scalar: broadcasting never stretches anything to it."""
    return v.is_scalar


def unit_axes_known(v: AbstractValue) -> bool:
    """Every axis is known to be 1 or known not to be (no ``Extent.ANY``)."""
    return v.shape is not None and all(d is not Extent.ANY for d in v.shape)


def const(value: object) -> Const:
    return Const(value)


def same_type(a: AbstractValue, b: AbstractValue) -> bool:
    """Values of these two abstract values may stand for each other: the same kind and the
    same dtype (for arrays, the same rank; exact lengths are decided by the caller). A
    rewrite keeps its target's type exactly, so that no later operation changes meaning (a
    NumPy scalar is not weak, a Python float is; a 0-d array is not a scalar)."""
    if a.kind is not b.kind or a.kind is Kind.UNKNOWN:
        return False
    if a.kind in (Kind.ARRAY, Kind.NP_SCALAR) and (a.dtype is None or a.dtype != b.dtype):
        return False
    return a.rank == b.rank if a.kind is Kind.ARRAY else True


def fits(inner: tuple[Dim, ...] | None, outer: tuple[Dim, ...] | None) -> bool:
    """Broadcasting a value of shape ``inner`` against one of shape ``outer`` gives
    ``outer`` on every run, exact lengths unknown. Both are operands of one broadcasting
    operation that runs, so on each aligned axis the lengths are equal or one is 1: the
    result is ``outer``'s where ``inner`` has 1 or ``outer`` is known not to be 1."""
    if inner is None or outer is None or len(inner) > len(outer):
        return False
    aligned = zip(reversed(inner), reversed(outer))
    return all(i == 1 or i == o and o is not Extent.ANY or not_one(o) for i, o in aligned)


def not_one(d: Dim) -> bool:
    return d is Extent.MANY or isinstance(d, int) and d != 1


def covering(shapes: list[tuple[Dim, ...] | None]) -> int | None:
    """The position of a shape every other one fits into (the broadcast of all of them),
    the first such; None if there is none."""
    for k, s in enumerate(shapes):
        if all(fits(t, s) for j, t in enumerate(shapes) if j != k):
            return k
    return None


def number(atom: Atom) -> float | None:
    """The value of a Python ``int`` or ``float`` constant as a float (``1`` and ``1.0`` are
    one number), None for anything else or a value a float cannot hold exactly."""
    if not isinstance(atom, Const) or isinstance(atom.value, bool):
        return None
    v = atom.value
    if not isinstance(v, (int, float)):
        return None
    try:
        f = float(v)
    except OverflowError:
        return None
    return f if f == v else None


def value_key(atom: Atom) -> Hashable:
    """What an operand contributes to a statement's identity: a Python number by its value
    and sign (``-0.0`` is not ``0.0``), anything else as itself."""
    f = number(atom)
    if f is None or f != f:
        return atom
    return ("number", f, math.copysign(1.0, f))


def scopes(*sweeps: Block) -> dict[Var, tuple]:
    """Where each variable is defined: the path of the branch or loop blocks around its
    definition, ``()`` at the top level of the sweeps (which run one after the other, so a
    top-level value of the forward sweep is defined everywhere in the backward one)."""
    out: dict[Var, tuple] = {}
    blocks = itertools.count()  # each nested block gets its own number

    def visit(block: Block, path: tuple) -> None:
        for stmt in block:
            if isinstance(stmt, Assign):
                out[stmt.target] = path
            elif isinstance(stmt, If):
                visit(stmt.then, path + (next(blocks),))
                visit(stmt.orelse, path + (next(blocks),))
            elif isinstance(stmt, Loop):
                visit(stmt.cond_block, path + (next(blocks),))
                visit(stmt.body, path + (next(blocks),))

    for sweep in sweeps:
        visit(sweep, ())
    return out


def combined(*tables: dict[Primitive, Rewrite]) -> dict[Primitive, Rewrite]:
    """One table from several: a primitive several tables rewrite is offered to each of
    their rewrites in turn, and the first answer is taken."""
    found: dict[Primitive, list[Rewrite]] = {}
    for table in tables:
        for prim, rewrite in table.items():
            found.setdefault(prim, []).append(rewrite)
    return {prim: rs[0] if len(rs) == 1 else _first(tuple(rs)) for prim, rs in found.items()}


def _first(rewrites: tuple[Rewrite, ...]) -> Rewrite:
    def rewrite(stmt: Assign, types: Types) -> Replacement:
        for r in rewrites:
            answer = r(stmt, types)
            if answer is not None:
                return answer
        return None

    return rewrite
