"""Many tangent directions through one program: a leading direction axis on every tangent.

A tangent program pushes one direction ``v`` forward; a Jacobian or a Hessian needs one per
input element. Calling the program d times repeats all the primal work d times and pays
Python's overhead per call. Batched, the tangent parameter ``x_dot`` has shape
``(d, *x.shape)`` and every value derived from it carries the same leading axis, so the
primal work runs once and the tangent work runs as a few large array operations: the
Hessian-vector products of all d directions at once are one matrix-matrix product where
they were d matrix-vector products.

The pass runs on the finished, specialised program (after the exact algebra): it needs the
rank of every value (``optimize.specialise.program_types``) and it must see the operations
the emitter will write, not ones a later rewrite could still change. First it finds the
batched values (those computed from a tangent parameter, through branches and loops, to a
fixed point); then each statement that reads one is offered to its primitive's row of
``batch_rules.BATCH_RULES``, which writes the same operation for the leading axis
(``x_dot @ W.T`` for ``W @ x_dot``, an axis shifted by one, ``x_dot[:, i]``).

A value that is not batched stands for the same value in every direction; a batched value
may also have a direction axis of length 1 (a zero tangent on one branch), which NumPy's
broadcasting stretches. The caller broadcasts the result to ``(d, *shape)``.

A primitive without a row, or a case its row does not write (a rank the analysis does not
know, ``np.dot`` of a 3-d array), runs one direction at a time inside the one pass (a loop
over the direction axis, ``batch_rules.per_direction``). What even that cannot write (a
tuple-valued step, tapes) is refused with ``BatchingError``; the API then pushes the
directions through the unbatched program one by one, so a refusal costs speed, never a
wrong derivative.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from ..abstract.infer import Analysis
from ..abstract.values import AbstractValue
from ..abstract.values import Kind as ValueKind
from ..ad.analysis import flows_from
from ..ad.program import GradProgram
from ..errors import Loc, SymdiffError
from ..ir import primitives as P
from ..ir.nodes import Assign, Atom, Block, Carry, Const, If, Loop, Phi, Pop, Push, Var
from ..naming import Counter
from .specialise import program_types


class BatchingError(SymdiffError):
    """A tangent program that cannot carry a direction axis (the API falls back to one
    pass per direction)."""


@dataclasses.dataclass
class Writer:
    """What a row of ``BATCH_RULES`` writes with: fresh names, the statement's place, the
    ranks the analysis found (of the unbatched values)."""

    types: Analysis
    loc: Loc | None
    fresh: Callable[[], Var]
    stmts: list[Any] = dataclasses.field(default_factory=list)
    defs: dict[Var, Assign] = dataclasses.field(default_factory=dict)  # earlier statements

    def transposed(self, a: Atom) -> Atom:
        """``a.T``, reading ``W`` back for an ``a`` that is ``W.T`` (never ``W.T.T``)."""
        made = self.defs.get(a) if isinstance(a, Var) else None
        if made is not None and made.prim is P.T_attr and self.rank(a) == 2:
            return made.args[0]
        return self.apply(P.T_attr, a)

    def rank(self, a: Atom) -> int:
        """The rank of ``a`` in one direction (a batched value has one axis more)."""
        if isinstance(a, Const):
            value = a.value
            shape = getattr(value, "shape", None)
            if shape is not None:
                return len(shape)
            if isinstance(value, (int, float, bool)):
                return 0
            self.refuse(f"a constant {type(value).__name__}")
        rank = self.types.value(a).rank
        if rank is None:
            self.refuse("a value whose rank the analysis does not know")
        assert rank is not None
        return rank

    def value(self, a: Atom) -> AbstractValue:
        return self.types.value(a)

    def apply(self, prim, *args: Atom, target: Var | None = None, **params: Any) -> Var:
        """``target = prim(*args, **params)`` (a fresh target unless given)."""
        out = target if target is not None else self.fresh()
        self.stmts.append(Assign(out, prim, tuple(args), tuple(params.items()), self.loc))
        return out

    def leading(self, a: Atom, axes: int) -> Atom:
        """A batched ``a`` with ``axes`` unit axes after its direction axis: what aligns it,
        by broadcasting, with a value of that many more axes."""
        if axes <= 0:
            return a
        index = (("slice", None, None, None),) + (("newaxis",),) * axes
        return self.apply(P.getitem, a, index=index)  # x_dot[:, None]

    def directions(self, a: Atom) -> Var:
        """``np.shape(a)[:1]``: the direction axis of a batched ``a``, as a shape."""
        shape = self.apply(P.np_shape, a)
        return self.apply(P.getitem, shape, Const(1), index=(("slice", None, 0, None),))

    def refuse(self, what: str) -> None:
        raise BatchingError(
            f"{what} cannot carry a direction axis",
            self.loc,
            "the directions are pushed one at a time instead",
        )


# (writer, statement, which args are batched) -> the atom the target stands for, or None when
# the writer's statements assign the target itself
BatchRule = Callable[[Writer, Assign, tuple[bool, ...]], Atom | None]


def batch(
    prog: GradProgram,
    args: tuple[AbstractValue, ...],
    rules: Callable[[Any], BatchRule],
    fallback: BatchRule,
) -> GradProgram:
    """``prog`` (a specialised tangent program) with a leading direction axis on its
    tangent parameters and on every value computed from them; ``rules`` gives a
    primitive's row (``batch_rules.rule_for``), ``fallback`` what writes a statement
    its row refuses (``batch_rules.per_direction``)."""
    types = program_types(prog, args)
    tangents = prog.params[len(args) :]
    if not tangents:
        raise BatchingError("a program without tangent parameters", prog.loc)
    batched = batched_values(prog.forward, set(tangents))
    counter = Counter("bd")
    rewriter = _Rewriter(types, batched, rules, fallback, lambda: Var(counter()))
    forward = rewriter.block(prog.forward)
    grads = tuple(rewriter.read(g) if g is not None else None for g in prog.grads)
    return dataclasses.replace(prog, forward=forward, grads=grads, batched=True)


def batched_values(block: Block, seeds: set[Var]) -> set[Var]:
    """Every value computed from ``seeds``, through branches and loop carries."""
    return flows_from(
        block, seeds, lambda s, out: any(a in out for a in s.args if isinstance(a, Var))
    )


class _Rewriter:
    def __init__(
        self,
        types: Analysis,
        batched: set[Var],
        rules: Callable[[Any], BatchRule],
        fallback: BatchRule,
        fresh: Callable[[], Var],
    ):
        self.types, self.batched, self.rules, self.fresh = types, batched, rules, fresh
        self.fallback = fallback
        self.alias: dict[Var, Atom] = {}
        self.defs: dict[Var, Assign] = {}

    def read(self, a: Atom) -> Atom:
        return self.alias.get(a, a) if isinstance(a, Var) else a

    def block(self, stmts: Block) -> Block:
        out: list[Any] = []
        for s in stmts:
            if isinstance(s, Assign):
                out += self.assign(s)
            elif isinstance(s, If):
                out.append(self.if_(s))
            elif isinstance(s, Loop):
                out += self.loop(s)
            elif isinstance(s, (Push, Pop)):
                if any(isinstance(v, Var) and v in self.batched for v in _tape_atoms(s)):
                    raise BatchingError("a tangent on a tape", s.loc)
                out.append(s)
        return tuple(out)

    def assign(self, s: Assign) -> list[Any]:
        s = Assign(s.target, s.prim, tuple(map(self.read, s.args)), s.params, s.loc)
        flags = tuple(isinstance(a, Var) and a in self.batched for a in s.args)
        if not any(flags):
            self.defs[s.target] = s
            return [s]
        w = Writer(self.types, s.loc, self.fresh, defs=self.defs)
        try:
            stands = self.rules(s.prim)(w, s, flags)
        except BatchingError:  # a case the row does not write: one direction at a time
            w = Writer(self.types, s.loc, self.fresh, defs=self.defs)
            stands = self.fallback(w, s, flags)
        if stands is not None:
            self.alias[s.target] = stands
            if isinstance(stands, Var):
                self.batched.add(stands)
        return w.stmts

    def lifted(self, a: Atom, loc: Loc | None) -> tuple[Atom, list[Assign]]:
        """An unbatched ``a`` where a batched value is expected: a direction axis of one."""
        a = self.read(a)
        if isinstance(a, Var) and a in self.batched:
            return a, []
        if self.types.value(a).kind in (ValueKind.LIST, ValueKind.TUPLE):
            return a, []  # a container's items carry the axis (an empty list has none)
        w = Writer(self.types, loc, self.fresh)
        out = w.apply(P.np_expand_dims, a, Const(0))
        self.batched.add(out)
        return out, w.stmts

    def if_(self, s: If) -> If:
        then, orelse = list(self.block(s.then)), list(self.block(s.orelse))
        phis = []
        for p in s.phis:
            if p.target not in self.batched:
                phis.append(Phi(p.target, self.read(p.then), self.read(p.orelse)))
                continue
            a, extra_a = self.lifted(p.then, s.loc)
            b, extra_b = self.lifted(p.orelse, s.loc)
            then += extra_a
            orelse += extra_b
            phis.append(Phi(p.target, a, b))
        return If(self.read(s.cond), tuple(then), tuple(orelse), tuple(phis), s.loc)

    def loop(self, s: Loop) -> list[Any]:
        before: list[Any] = []
        inits = {}
        for c in s.carries:
            if c.var in self.batched:
                inits[c], extra = self.lifted(c.init, s.loc)
                before += extra
            else:
                inits[c] = self.read(c.init)
        cond_block = list(self.block(s.cond_block))
        body = list(self.block(s.body))
        carries = []
        for c in s.carries:
            if c.var in self.batched:
                nxt, extra = self.lifted(c.next, s.loc)
                body += extra
            else:
                nxt = self.read(c.next)
            carries.append(Carry(c.var, inits[c], nxt, c.out))
        header = tuple(map(self.read, s.header))
        cond = self.read(s.cond) if s.cond is not None else None
        return before + [
            Loop(
                s.kind, header, s.index, tuple(carries), tuple(body), tuple(cond_block), cond,
                s.exit, s.loc,
            )  # fmt: skip
        ]


def _tape_atoms(s: Push | Pop) -> tuple[Atom, ...]:
    return s.values if isinstance(s, Push) else s.targets
