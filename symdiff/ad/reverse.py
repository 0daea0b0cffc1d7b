"""Reverse mode: from the IR of ``f`` to the IR of its gradient.

The gradient program is the forward sweep (``f``'s own statements, whose values are kept
for reuse, never recomputed) followed by the backward sweep, which visits the statements in
reverse and applies each one's rule from ``rules``. A value's adjoint is summed once, when
the sweep reaches the statement that defines it: by then every consumer has contributed.
Values that do not depend on ``wrt`` get no adjoint (activity analysis), a missing
contribution is a symbolic zero (never a ``0 * g`` term), and dead code is pruned at the end.
"""

from __future__ import annotations

from typing import TypeGuard

from ..errors import InternalError, NonDifferentiableError
from ..ir import primitives as P
from ..ir.nodes import (  # fmt: skip
    Assign,
    Atom,
    Block,
    Const,
    Function,
    If,
    Loop,
    Var,
)
from ..ir.printer import pformat
from ..naming import Counter, is_internal_of
from . import analysis
from .builder import Builder, Sym, same_shape
from .program import GradProgram
from .reverse_flow import ControlFlow
from .rules import rule_for


class Reverse(ControlFlow):
    def __init__(self, fn: Function, wrt: tuple[Var, ...], seed: Atom | None = None):
        self.fn = fn
        self.wrt = wrt
        self.seed = seed  # the result's adjoint: 1.0, or a cotangent (vjp: any shape)
        self.varied = analysis.varied(fn, wrt)
        # scalar by construction decides whether the result must be checked at run time;
        # once checked, it is scalar by contract, and so are the inputs of its elementwise ops
        annotated = set(fn.scalar_params)
        self.scalar_value = analysis.is_scalar(fn.result, analysis.scalars(fn, annotated))
        known: set[Var] = set(annotated)
        if isinstance(fn.result, Var) and seed is None:  # checked at run time
            known.add(fn.result)
        self.scalars = analysis.scalars(fn, known)
        # arguments that loops use as scalars (math.sin(x) in a body): their accumulated
        # adjoint starts at 0.0; if such a loop runs zero times, the gradient is 0.0, which the
        # caller turns into zeros of the argument's shape
        self.params_scalar_in_loops = analysis.scalars(fn, known, anywhere=True) & set(fn.params)
        self.lists = analysis.lists(fn)
        self.counter = Counter("b")
        self.b = Builder(lambda: Var(self.counter()), self.is_scalar, self.is_active)
        self.pending: dict[Var, list[Atom]] = {}
        self.adjoint_of: dict[Var, Var] = {}
        self.tape: Var | None = None  # the innermost loop's tape, while reversing its body
        self.tapes: list[Var] = []
        self.restored: dict[Var, Var] = {}  # popped variable -> the forward one it restores
        self.extra: dict[int, tuple] = {}  # id(forward If/Loop) -> pushes it must make
        self.trip_counts: dict[int, Var] = {}

    def is_scalar(self, a: Atom) -> bool:
        if analysis.is_scalar(a, self.scalars):
            return True
        if not isinstance(a, Var):
            return False
        made = self.b.defining(a)
        if made is None:
            return False
        prim = made.prim
        pointwise = prim.elementwise or prim.form.operator
        if prim.returns_scalar or (
            pointwise and prim is not P.matmul and all(map(self.is_scalar, made.args))
        ):
            self.scalars.add(a)
            return True
        return False

    def is_lazy(self, g: Atom, primal: Atom) -> bool:
        """A scalar adjoint standing for an array of that value shaped like ``primal``.

        ``np.sum(x)`` passes its scalar adjoint to ``x`` as it is: an array of copies would
        cost a pass over memory, and elementwise rules broadcast the scalar for free.
        """
        return self.is_scalar(g) and not self.is_scalar(primal)

    def is_active(self, a: Atom) -> TypeGuard[Var]:
        """Whether ``a`` depends on the ``wrt`` inputs (only variables can)."""
        return isinstance(a, Var) and a in self.varied

    def run(self) -> GradProgram:
        fn = self.fn
        if self.is_active(fn.result):
            self.pending[fn.result] = [Const(1.0) if self.seed is None else self.seed]
        self.block(fn.body)
        self.b.loc = fn.loc
        grads = tuple(self.finish_input(p) for p in self.wrt)
        live = {a for a in (fn.result, *grads) if isinstance(a, Var)}
        backward = analysis.prune(tuple(self.b.stmts), live)
        tapes = tuple(Assign(t, P.new_tape, (), (), fn.loc) for t in self.tapes)
        forward = analysis.prune(tapes + self.rebuild(fn.body), live)
        return GradProgram(
            name=fn.name,
            params=fn.params,
            wrt=self.wrt,
            forward=forward,
            backward=backward,
            value=fn.result,
            grads=grads,
            adjoint_of=tuple(self.adjoint_of.items()),
            restored=tuple(self.restored.items()),
            scalar_value=self.scalar_value,
            loc=fn.loc,
            signature=fn.signature,
            defaults=fn.defaults,
        )

    def block(self, stmts: Block) -> None:
        self.b.remember(s for s in stmts if isinstance(s, Assign))
        for stmt in reversed(stmts):
            if isinstance(stmt, Assign):
                self.assign(stmt)
            elif isinstance(stmt, If):
                self.if_(stmt)
            elif isinstance(stmt, Loop):
                self.loop(stmt)
            else:
                raise InternalError(f"reverse pass met {type(stmt).__name__}", ir=pformat(self.fn))

    def finish(self, v: Var) -> Atom | None:
        """Sum the contributions to ``v``'s adjoint; None when there are none (a zero)."""
        parts = self.pending.pop(v, None)
        if not parts:
            return None
        total = Sym(parts[0], self.b)
        for p in parts[1:]:
            if v in self.lists:  # list adjoints add item by item, never by concatenation
                total = self.b.apply(P.add_lists, total, p)
            else:
                total = total + Sym(p, self.b)
        atom = total.atom
        if isinstance(atom, Var) and is_internal_of(atom.name, "b") and atom not in self.adjoint_of:
            self.adjoint_of[atom] = v
        return atom

    def finish_input(self, p: Var) -> Atom | None:
        """An input's gradient, as a fresh writeable array (never a broadcast view)."""
        g = self.finish(p)
        if g is not None and self.is_lazy(g, p):
            full = self.b.apply(P.np_full_like, p, g).var
            self.adjoint_of[full] = p
            g = full
        made = self.b.defining(g) if isinstance(g, Var) else None
        if made is not None and made.prim is P.np_broadcast_to:
            copied = self.b.apply(P.np_copy, g).var
            self.adjoint_of[copied] = p
            g = copied
        return g

    def assign(self, stmt: Assign) -> None:
        self.b.loc = stmt.loc
        g = self.finish(stmt.target)
        if g is None:
            return
        prim = stmt.prim
        rule = rule_for(prim)
        if rule is None:
            raise NonDifferentiableError(
                f"no derivative rule for `{prim.name}`, and its result depends on the "
                "arguments being differentiated",
                stmt.loc,
                "declare one with symdiff.defrule",
            )
        b = self.b
        active = [i for i, a in enumerate(stmt.args) if self.is_active(a)]
        if self.is_lazy(g, stmt.target) and (
            not prim.elementwise or any(self.may_broadcast(stmt.args, i) for i in active)
        ):
            if prim.elementwise:  # the shape broadcasting gives, without computing the result
                shape = b.apply(P.np_broadcast_shapes, *(b.apply(P.np_shape, a) for a in stmt.args))
            else:
                shape = b.apply(P.np_shape, stmt.target)
            g = b.apply(P.np_broadcast_to, g, shape).atom
        b.family = "math" if prim.family == "math" else "np"
        syms = [Sym(a, b) for a in stmt.args]
        parts = rule(b, Sym(g, b), Sym(stmt.target, b), *syms, **dict(stmt.params))
        if len(parts) != len(stmt.args):
            raise InternalError(f"rule for {prim.name} returned {len(parts)} adjoints")
        for i, (arg, part) in enumerate(zip(stmt.args, parts)):
            if part is None or not self.is_active(arg):
                continue
            if (
                prim.elementwise
                and self.may_broadcast(stmt.args, i)
                and not self.is_scalar(part.atom)
            ):
                part = b.apply(P.unbroadcast, part, arg)
            self.pending.setdefault(arg, []).append(part.atom)

    def may_broadcast(self, args: tuple[Atom, ...], i: int) -> bool:
        """Whether ``args[i]`` may be smaller than the result of a broadcasting operation."""
        mine = same_shape(self.b, args[i])
        others = [a for j, a in enumerate(args) if j != i and a != args[i]]
        return not all(self.is_scalar(a) or same_shape(self.b, a) == mine for a in others)

    # ------------------------------------------------------------------ control flow


def reverse(fn: Function, wrt: tuple[Var, ...], seed: Atom | None = None) -> GradProgram:
    """The gradient program; with ``seed``, the vector-Jacobian product with that cotangent.

    ``fn`` must not have tapes (a generated gradient with loops): ``modes`` sends those to
    forward mode, which never runs a tape backwards."""
    return Reverse(fn, wrt, seed).run()
