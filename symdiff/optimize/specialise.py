"""A derivative program rewritten for the abstract signature it will be called with.

The reverse and forward rules write for every possible argument at once: an operand's
adjoint goes through ``unbroadcast(d, x)`` in case broadcasting stretched it, an accumulator
starts as ``np.zeros_like(x)`` in case ``x`` is an array, a matrix product's adjoint calls a
helper that tests ranks at run time. Once the abstract value of every variable is known
(``abstract.infer``), most of that bookkeeping has one answer, and a person would have
written the answer: ``d_z``, ``0.0``, ``np.outer(d_z, x)``.

One mechanism does all of it: the program is analysed, every assignment whose primitive has a
rewrite in ``REWRITES`` is offered to it with the types of its arguments, and a rewrite
answers either an atom that stands for the target (the statement disappears and its readers
read the atom) or the statements that compute the target more directly. The program is
analysed again after a round that changed something, because one rewrite makes the next
possible (an adjoint that is no longer a 0-d array lets the next ``unbroadcast`` go). Tape
entries that the backward sweep no longer reads are then dropped from both sweeps.

A rewrite must be sound for every call with that signature, exact lengths unknown: it may
rely on what the types say (kinds, dtypes, ranks, which axes are 1) and on the program being
one that runs (operands of a broadcasting operation are compatible), nothing else.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping

from ..abstract.infer import Analysis
from ..abstract.values import AbstractValue, show_shape
from ..abstract.values import Kind as ValueKind
from ..ad.analysis import prune, use_counts, walk
from ..ad.program import GradProgram, Kind
from ..errors import NonScalarOutputError
from ..ir import primitives as P
from ..ir.nodes import (
    Assign,
    Atom,
    Block,
    Effect,
    If,
    Loop,
    Pop,
    Primitive,
    Push,
    Var,
    iter_assigns,
    substitute,
)
from ..naming import is_internal
from . import typed_broadcast, typed_elementwise, typed_linalg, typed_shapes, typed_where
from .typed import FRESH_PREFIX, Rewrite, Types, combined, scopes

MAX_ROUNDS = 8  # each round can only remove bookkeeping, so a few always suffice


REWRITES: dict[Primitive, Rewrite] = combined(
    typed_broadcast.REWRITES,
    typed_linalg.REWRITES,
    typed_shapes.REWRITES,
    typed_elementwise.REWRITES,
    typed_where.REWRITES,
)


def program_types(prog: GradProgram, args: tuple[AbstractValue, ...]) -> Analysis:
    """The abstract value of every variable of ``prog`` when its function is called with
    arguments of types ``args``; parameters the derivative program adds (a tangent per
    ``wrt`` input, a cotangent of the result's type) take their types from what they pair
    with."""
    primal = prog.params[: len(args)]
    analysis = Analysis(dict(zip(primal, args)))
    extra = prog.params[len(args) :]
    if extra and prog.kind is not Kind.VJP:  # tangents: one per wrt input, its type
        for tangent, x in zip(extra, prog.wrt):
            analysis.values[tangent] = analysis.value(x)
    analysis.block(prog.forward, certain=True)
    if extra and prog.kind is Kind.VJP:
        analysis.values[extra[0]] = analysis.value(prog.value)
    analysis.block(prog.backward, certain=True)
    return analysis


def specialise(
    prog: GradProgram,
    args: tuple[AbstractValue, ...],
    extra: Mapping[Primitive, Rewrite] | None = None,
) -> GradProgram:
    """``prog`` rewritten for calls whose arguments have the abstract values ``args``;
    ``extra`` rewrites (a backend's spellings: ``backend.targets``) are offered after
    these and may be offered what these left."""
    table = {**REWRITES, **(extra or {})} if extra else REWRITES
    for _ in range(MAX_ROUNDS):
        defs = {s.target: s for s in iter_assigns(prog.forward + prog.backward)}
        types = Types(program_types(prog, args), defs, scope=scopes(prog.forward, prog.backward))
        prog = _value_checked(prog, types)
        rewriter = _Rewriter(types, table)
        forward = rewriter.block(prog.forward)
        types.backward = True
        backward = rewriter.block(prog.backward)
        if not rewriter.changed:
            break
        prog = _substituted(dataclasses.replace(prog, forward=forward, backward=backward), rewriter)
    prog = drop_unread_tape_entries(without_dead_statements(prog))
    return fresh_gradients(prog, program_types(prog, args))


def fresh_gradients(prog: GradProgram, analysis: Analysis) -> GradProgram:
    """Every array gradient a new array the caller owns, as the rules make them: a rewrite
    may find that one equals an argument (``d_x = y`` for ``np.sum(x * y)``), a view of one,
    a read-only broadcast or another gradient, which is then copied once at the end."""
    if prog.kind.forward_only:
        return prog
    params = set(prog.params)
    defs = {s.target: s for s in iter_assigns(prog.forward + prog.backward)}
    phis = {
        p.target: (p.then, p.orelse)
        for stmt in walk(prog.forward + prog.backward)
        if isinstance(stmt, If)
        for p in stmt.phis
    }
    grads: list = []
    copies: list[Assign] = []
    adjoint_of = list(prog.adjoint_of)
    for g, x in zip(prog.grads, prog.wrt):
        if isinstance(g, Var) and analysis.value(g).kind is ValueKind.ARRAY:
            if g in grads or _borrowed(g, params, defs, phis):
                copied = Var(f"{FRESH_PREFIX}copy{len(copies)}")
                copies.append(Assign(copied, P.np_copy, (g,), (), prog.loc))
                adjoint_of.append((copied, x))
                g = copied
        grads.append(g)
    if not copies:
        return prog
    backward = prog.backward + tuple(copies)
    return dataclasses.replace(
        prog, backward=backward, grads=tuple(grads), adjoint_of=tuple(adjoint_of)
    )


def _borrowed(
    v: Atom, params: set[Var], defs: dict[Var, Assign], phis: dict, depth: int = 0
) -> bool:
    """``v`` is an argument, a broadcast, or a view of one of these, on some path (a value
    chosen by a branch is borrowed when either choice is)."""
    if not isinstance(v, Var) or depth > 32:
        return False
    if v in params:
        return True
    if v in phis:
        return any(_borrowed(a, params, defs, phis, depth + 1) for a in phis[v])
    made = defs.get(v)
    if made is None or made.prim.effect is not Effect.VIEW:
        return False
    if made.prim is P.np_broadcast_to:
        return True
    return bool(made.args) and _borrowed(made.args[0], params, defs, phis, depth + 1)


def without_dead_statements(prog: GradProgram) -> GradProgram:
    """``prog`` without the statements neither the value nor a derivative needs: a rewrite
    that stops reading a value (``np.shape(t)`` became ``np.shape(x)``) leaves its
    definition behind, and a dead reader of a tape entry would keep the entry."""
    live = {a for a in (prog.value, *prog.grads) if isinstance(a, Var)}
    backward = prune(prog.backward, live)
    return dataclasses.replace(prog, forward=prune(prog.forward, live), backward=backward)


def _value_checked(prog: GradProgram, types: Types) -> GradProgram:
    """A gradient's run-time check that the result is a scalar, decided from its type: not
    written when the result is certainly a scalar, refused now when it certainly is not."""
    if prog.scalar_value or prog.kind.forward_only or prog.kind is Kind.VJP:
        return prog
    value = types.of(prog.value)
    if value.is_scalar or (value.kind is ValueKind.ARRAY and value.shape == ()):
        return dataclasses.replace(prog, scalar_value=True)
    if value.kind is ValueKind.ARRAY and value.shape:
        raise NonScalarOutputError(
            f"{prog.name} returns an array of shape {show_shape(value.shape)} for these arguments; "
            "a gradient needs one scalar result",
            prog.loc,
            "reduce it (np.sum, np.mean) to the scalar to differentiate, or use jacobian",
        )
    return prog


class _Rewriter:
    """One round of rewrites over a program's blocks, collecting the aliases they made."""

    def __init__(self, types: Types, table: Mapping[Primitive, Rewrite] = REWRITES):
        self.types = types
        self.table = table
        self.alias: dict[Var, Atom] = {}
        self.changed = False

    def block(self, block: Block) -> Block:
        out: list = []
        for stmt in block:
            if isinstance(stmt, Assign):
                out.extend(self.assign(stmt))
            elif isinstance(stmt, If):
                then, orelse = self.block(stmt.then), self.block(stmt.orelse)
                out.append(If(stmt.cond, then, orelse, stmt.phis, stmt.loc))
            elif isinstance(stmt, Loop):
                body, cond_block = self.block(stmt.body), self.block(stmt.cond_block)
                out.append(dataclasses.replace(stmt, body=body, cond_block=cond_block))
            else:
                out.append(stmt)
        return tuple(out)

    def assign(self, stmt: Assign) -> tuple:
        rewrite = self.table.get(stmt.prim)
        if rewrite is None:
            return (stmt,)
        stmt = Assign(
            stmt.target, stmt.prim, tuple(map(self.read, stmt.args)), stmt.params, stmt.loc
        )
        answer = rewrite(stmt, self.types)
        if answer is None:
            return (stmt,)
        self.changed = True
        if isinstance(answer, tuple):
            return answer
        self.alias[stmt.target] = self.read(answer)
        return ()

    def read(self, atom: Atom) -> Atom:
        """An atom with this round's aliases resolved (an alias may name another alias)."""
        while isinstance(atom, Var) and atom in self.alias:
            atom = self.alias[atom]
        return atom


def _substituted(prog: GradProgram, rewriter: _Rewriter) -> GradProgram:
    """Every read of an aliased variable, in the sweeps and the outputs, reads its atom."""
    mapping = {v: rewriter.read(v) for v in rewriter.alias}
    if not mapping:
        return prog
    grads = tuple(None if g is None else rewriter.read(g) for g in prog.grads)
    # an adjoint found equal to an unnamed temporary lends it its name (d_out = out - y)
    named = dict(prog.adjoint_of)
    for v, atom in mapping.items():
        if v in named and isinstance(atom, Var) and is_internal(atom.name):
            named.setdefault(atom, named[v])
    return dataclasses.replace(
        prog,
        adjoint_of=tuple(named.items()),
        forward=substitute(prog.forward, mapping),
        backward=substitute(prog.backward, mapping),
        value=rewriter.read(prog.value),
        grads=grads,
    )


# ----------------------------------------------------------------------------- tapes


def drop_unread_tape_entries(prog: GradProgram) -> GradProgram:
    """Tape entries no pop target of which is read anywhere are pushed no more.

    The reverse pass tapes every forward value a rule might read; a rewrite that no longer
    reads one (``unbroadcast(d, t)`` became ``d``) leaves a push of a value nobody pops into
    use. A tape with no entry left is not kept at all (the emitter drops what is unread).
    """
    outputs = (prog.value, *(g for g in prog.grads if g is not None))
    reads = set(use_counts([prog.forward + prog.backward], outputs))
    pops: dict[Var, list[Pop]] = {}
    for stmt in walk(prog.forward + prog.backward):
        if isinstance(stmt, Pop):
            pops.setdefault(stmt.tape, []).append(stmt)
    drop: dict[Var, set[int]] = {}
    for tape, found in pops.items():
        width = {len(p.targets) for p in found}
        if len(width) != 1:
            continue
        unread = {k for k in range(width.pop()) if all(p.targets[k] not in reads for p in found)}
        if unread:
            drop[tape] = unread
    if not drop:
        return prog
    return dataclasses.replace(
        prog, forward=_drop(prog.forward, drop), backward=_drop(prog.backward, drop)
    )


def _drop(block: Block, drop: dict[Var, set[int]]) -> Block:
    out: list = []
    for stmt in block:
        if isinstance(stmt, Push) and stmt.tape in drop:
            values = tuple(v for k, v in enumerate(stmt.values) if k not in drop[stmt.tape])
            if values:
                out.append(Push(stmt.tape, values, stmt.loc))
        elif isinstance(stmt, Pop) and stmt.tape in drop:
            targets = tuple(v for k, v in enumerate(stmt.targets) if k not in drop[stmt.tape])
            if targets:
                out.append(Pop(stmt.tape, targets, stmt.loc))
        elif isinstance(stmt, If):
            out.append(
                If(stmt.cond, _drop(stmt.then, drop), _drop(stmt.orelse, drop), stmt.phis, stmt.loc)
            )
        elif isinstance(stmt, Loop):
            out.append(
                dataclasses.replace(
                    stmt, body=_drop(stmt.body, drop), cond_block=_drop(stmt.cond_block, drop)
                )
            )
        else:
            out.append(stmt)
    return tuple(out)
