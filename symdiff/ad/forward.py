"""Forward mode: from the IR of ``f`` to the IR of its tangent program.

Each primal statement is followed by its tangent statement, from the table in ``tangents``:
next to every value ``v`` the program carries ``v_dot``, the derivative of ``v`` along one
direction of the inputs, and returns ``f(x)`` with ``J·v``. Nothing is stored and nothing is
run backwards, so control flow keeps its shape: a branch computes the tangents of the values
it makes and merges them as it merges the values, and a loop carries the tangents of its
state next to the state (no tape). A program that already has tapes (a generated gradient
with loops, differentiated again) pushes each value's tangent together with the value and
pops it with it.

Tangents of values that do not depend on the inputs are symbolic zeros: no code is written
for them, and a product or linear map of one is zero without a statement. Every tangent has
its value's shape; where a rule's result can be smaller (``x + b`` with ``b`` constant and
larger than ``x``), the pass broadcasts it.

``gradient_program`` uses this to differentiate a program with tapes with respect to one
scalar: reverse mode would have to run the tapes backwards, one forward pass with the seed
1.0 gives the same derivative exactly. This is how ``grad(grad(f))`` works for ``f`` with
loops.
"""

from __future__ import annotations

from typing import Any

from ..errors import NonDifferentiableError
from ..ir import primitives as P
from ..ir.nodes import (  # fmt: skip
    Assign,
    Atom,
    Block,
    Carry,
    Const,
    Function,
    If,
    Loop,
    Phi,
    Pop,
    Push,
    Var,
)
from ..naming import TANGENT, Counter, NameGen, is_internal
from . import analysis
from .builder import Builder, Sym
from .program import GradProgram, Kind
from .tangents import tangent_for, variadic

# combining tangents rather than scaling them: a zero among them is a real 0.0, not a zero result
_COMBINING = frozenset(
    {P.np_where, P.np_concatenate, P.np_stack, P.np_vstack, P.np_hstack, P.np_dstack,
     P.np_column_stack, P.np_array, P.make_tuple, P.make_list, P.list_append, P.setitem,
     P.index_add, P.add_lists}
)  # fmt: skip
_ADD = frozenset({P.add, P.np_add})
_SUB = frozenset({P.sub, P.np_subtract})
# these make a new object each time: never shared between two statements that write them
_NOT_SHARED = frozenset({P.new_tape, P.make_list, P.list_append, P.setitem, P.index_add})


class Zero(Sym):
    """The tangent of a value that does not depend on the inputs."""

    __slots__ = ()


class TangentBuilder(Builder):
    """``Builder`` with a symbolic zero: ``F.zero * b`` is ``F.zero``, ``da + F.zero`` is ``da``."""

    def __init__(self, fresh, scalar, lists: set[Var]):
        super().__init__(fresh, scalar, lambda a: True)
        self.zero = Zero(Const(0.0), self)
        self.lists = lists

    def is_zero(self, d: Any) -> bool:
        return isinstance(d, Zero)

    def sym(self, a: Atom) -> Sym:
        return Sym(a, self)

    def dense(self, d: Sym, x: Sym | Atom) -> Sym:
        """``d``, or for a zero tangent, a real zero shaped like ``x``."""
        if not isinstance(d, Zero):
            return d
        x = x.atom if isinstance(x, Sym) else x
        if isinstance(x, Const) and x.value is None:  # a placeholder (regrad: branch values)
            return Sym(x, self)
        if x in self.lists:
            return self.apply(P.zeros_like_list, x)
        if self.is_scalar(x):
            return Sym(Const(0.0), self)
        return self.apply(P.np_zeros_like, x)

    def refuse(self, what: str) -> None:
        raise NonDifferentiableError(
            f"{what} is not supported in forward mode",
            self.loc,
            "differentiate with symdiff.grad (reverse mode) instead, or rewrite this step",
        )

    def apply(self, prim, *args: Any, **params: Any) -> Sym:
        zeros = [isinstance(a, Zero) for a in args]
        if not any(zeros):
            return super().apply(prim, *args, **params)
        if prim in _ADD:
            live = [a for a, z in zip(args, zeros) if not z]
            return live[0] if live else self.zero
        if prim in _SUB:
            a, b = args
            if zeros[1]:
                return a
            return self.zero if zeros[0] and zeros[1] else -b
        if prim in _COMBINING:
            return super().apply(
                prim, *(Const(0.0) if z else a for a, z in zip(args, zeros)), **params
            )
        return self.zero  # every other use of a tangent is linear in it


class Forward:
    def __init__(self, fn: Function, seeds: dict[Var, Atom]):
        self.fn = fn
        self.active, self.slots = activity(fn, tuple(seeds))
        self.scalars = analysis.scalars(fn, set(fn.scalar_params))
        self.counter = Counter("f")
        self.b = TangentBuilder(lambda: Var(self.counter()), self.is_scalar, lists(fn))
        self.tan: dict[Var, Atom] = dict(seeds)
        self.tangent_of: dict[Var, set[Atom]] = {
            d: {p} for p, d in seeds.items() if isinstance(d, Var)
        }
        self.adjoint_of: dict[Var, Var] = {}  # tangent -> primal: the emitter names it <primal>_dot
        self.primal: set[Var] = set(fn.params)

    def is_scalar(self, a: Atom) -> bool:
        if analysis.is_scalar(a, self.scalars):
            return True
        if not isinstance(a, Var):
            return False
        made = self.b.defining(a)
        if made is not None and (
            made.prim.returns_scalar
            or (_pointwise(made.prim) and all(map(self.is_scalar, made.args)))
        ):
            self.scalars.add(a)
            return True
        return False

    # ------------------------------------------------------------------ tangents
    def tangent(self, a: Atom) -> Sym:
        if isinstance(a, Var) and a in self.tan:
            return Sym(self.tan[a], self.b)
        return self.b.zero

    def set_tangent(self, v: Var, d: Atom) -> None:
        self.tan[v] = d
        if isinstance(d, Var):
            self.tangent_of.setdefault(d, set()).add(v)
            if is_internal(d.name) and d not in self.adjoint_of and d not in self.primal:
                self.adjoint_of[d] = v

    def dense(self, a: Atom) -> Atom:
        return self.b.dense(self.tangent(a), a).atom

    def run(self, result: Atom) -> tuple[Block, Atom]:
        self.block(self.fn.body)
        self.b.loc = self.fn.loc
        out = self.dense(result)
        return tuple(self.b.stmts), out

    # ------------------------------------------------------------------ statements
    def block(self, stmts: Block) -> None:
        for s in stmts:
            if isinstance(s, Assign):
                self.assign(s)
            elif isinstance(s, If):
                self.if_(s)
            elif isinstance(s, Loop):
                self.loop(s)
            elif isinstance(s, Push):
                self.push(s)
            else:
                self.pop(s)

    def assign(self, s: Assign) -> None:
        b = self.b
        b.append(s)
        self.primal.add(s.target)
        if s.prim not in _NOT_SHARED:  # a rule that needs this value reuses it
            b._memo[(s.prim.name, s.args, s.params)] = s.target
        if s.target not in self.active:
            return
        dxs = [self.tangent(a) for a in s.args]
        if all(isinstance(d, Zero) for d in dxs):
            return
        if s.prim is not P.tuple_item:  # a tuple read as an array: no item may be missing
            dxs = [self.dense_items(d, a) for d, a in zip(dxs, s.args)]
        rule = tangent_for(s.prim)
        if rule is None:
            raise NonDifferentiableError(
                f"no forward-mode (tangent) rule for `{s.prim.name}`, and its result depends "
                "on the arguments being differentiated",
                s.loc,
                "use symdiff.grad or symdiff.jacobian(..., mode='rev') (reverse mode) for "
                "this function",
            )
        b.loc = s.loc
        b.family = "math" if s.prim.family == "math" else "np"
        xs = [Sym(a, b) for a in s.args]
        y = Sym(s.target, b)
        params = dict(s.params)
        if variadic(s.prim):
            out = rule(b, y, tuple(xs), tuple(dxs), **params)
        else:
            out = rule(b, y, *xs, *dxs, **params)
        if isinstance(out, Zero):
            return
        d = out.atom
        if _pointwise(s.prim) and not self.covers(d, s):
            d = b.apply(P.np_broadcast_to, d, b.apply(P.np_shape, s.target)).atom
        self.set_tangent(s.target, d)

    def dense_items(self, d: Sym, x: Atom) -> Sym:
        """The tangent of a tuple with a real zero for each item that has none (None marks
        those, for ``tuple_item``): ``np.sum((a, b))`` reads every item."""
        made = self.b.defining(d.atom) if isinstance(d.atom, Var) else None
        if made is None or made.prim is not P.make_tuple:
            return d
        missing = [isinstance(a, Const) and a.value is None for a in made.args]
        primal = self.b.defining(x) if isinstance(x, Var) else None
        if not any(missing) or primal is None or primal.prim is not P.make_tuple:
            return d
        items = [
            self.b.dense(self.b.zero, p) if gap else Sym(a, self.b)
            for a, p, gap in zip(made.args, primal.args, missing)
        ]
        return self.b.apply(P.make_tuple, *items)

    def covers(self, d: Atom, s: Assign) -> bool:
        """Whether the tangent ``d`` of an elementwise result is certainly as large as the
        result: it broadcasts against every input that could make the result larger."""
        if self.is_scalar(s.target):
            return True
        have = self.extent(d, 0)
        if have is None:
            return False
        have = {self.same_shape(a) for a in have}
        needed = {self.same_shape(a) for a in s.args if not self.is_scalar(a)}
        return self.same_shape(s.target) in have or needed <= have

    def same_shape(self, a: Atom) -> Atom:
        """An earlier value with the shape of ``a``: through elementwise steps that have a
        single array operand (``-x``, ``np.exp(x)``, ``2.0 * x``)."""
        for _ in range(50):
            made = self.b.defining(a) if isinstance(a, Var) else None
            if made is None or not _pointwise(made.prim):
                break
            arrays = [x for x in made.args if not self.is_scalar(x)]
            if len(arrays) != 1:
                break
            a = arrays[0]
        return a

    def extent(self, a: Atom, depth: int) -> set[Atom] | None:
        """The values whose shapes ``a`` certainly broadcasts against (None: unknown)."""
        if isinstance(a, Const):
            return set() if self.is_scalar(a) else {a}
        if a in self.tangent_of:
            return set(self.tangent_of[a])
        made = self.b.defining(a)
        if a in self.primal or made is None:
            return {a}
        if depth > 50 or not _pointwise(made.prim):
            return set() if self.is_scalar(a) else None
        out: set[Atom] = set()
        for arg in made.args:
            inner = self.extent(arg, depth + 1)
            if inner is None:
                return None
            out |= inner
        return out

    def if_(self, s: If) -> None:
        """Both branches get their tangents; a value merged from them gets a merged tangent,
        with a real zero on a branch where that value is constant."""
        b = self.b
        blocks = []
        for blk in (s.then, s.orelse):
            with b.nested() as stmts:
                self.block(blk)
            blocks.append(stmts)
        wanted = [
            p
            for p in s.phis
            if p.target in self.active
            and not (
                isinstance(self.tangent(p.then), Zero) and isinstance(self.tangent(p.orelse), Zero)
            )
        ]
        ends = []
        for stmts, side in zip(blocks, ("then", "orelse")):
            with b.nested() as extra:
                b.loc = s.loc
                ends.append([self.dense(getattr(p, side)) for p in wanted])
            stmts.extend(extra)
        phis = list(s.phis)
        self.primal.update(p.target for p in s.phis)
        for i, p in enumerate(wanted):
            dt = Var(self.counter())
            phis.append(Phi(dt, ends[0][i], ends[1][i]))
            self.set_tangent(p.target, dt)
        b.append(If(s.cond, tuple(blocks[0]), tuple(blocks[1]), tuple(phis), s.loc))

    def loop(self, s: Loop) -> None:
        b = self.b
        b.loc = s.loc
        active = [c for c in s.carries if c.var in self.active]
        inits = {c: self.dense(c.init) for c in active}
        dvars = {c: Var(self.counter()) for c in active}
        for c in s.carries:
            self.primal.update((c.var, c.out))
        if s.index is not None:
            self.primal.add(s.index)
        for c in active:
            self.set_tangent(c.var, dvars[c])
        with b.nested() as cond_block:
            self.block(s.cond_block)
        with b.nested() as body:
            self.block(s.body)
            b.loc = s.loc
            nexts = {c: self.dense(c.next) for c in active}
        carries = list(s.carries)
        for c in active:
            dout = Var(self.counter())
            carries.append(Carry(dvars[c], inits[c], nexts[c], dout))
            self.set_tangent(c.out, dout)
        b.append(
            Loop(
                s.kind, s.header, s.index, tuple(carries), tuple(body), tuple(cond_block),
                s.cond, s.exit, s.loc,
            )  # fmt: skip
        )

    def push(self, s: Push) -> None:
        """A value goes on a tape with its tangent (for every slot that has one anywhere)."""
        slots = sorted(i for i in self.slots.get(s.tape, ()) if i < len(s.values))
        with_tangents = s.values + tuple(self.dense(s.values[i]) for i in slots)
        self.b.append(Push(s.tape, with_tangents, s.loc))

    def pop(self, s: Pop) -> None:
        if s.tape in self.active:  # a list value (an adjoint list): its tangent list too
            self.primal.update(s.targets)
            self.b.append(s)
            if isinstance(self.tangent(s.tape), Zero):
                return
            d_list = self.b.dense(self.tangent(s.tape), s.tape).var  # not a zero: see above
            dts = tuple(Var(self.counter()) for _ in s.targets)
            for t, dt in zip(s.targets, dts):
                self.set_tangent(t, dt)
            self.b.append(Pop(d_list, dts, s.loc))
            return
        slots = sorted(i for i in self.slots.get(s.tape, ()) if i < len(s.targets))
        dts = tuple(Var(self.counter()) for _ in slots)
        self.primal.update(s.targets)
        for i, dt in zip(slots, dts):
            self.set_tangent(s.targets[i], dt)
        self.b.append(Pop(s.tape, s.targets + dts, s.loc))


def _pointwise(prim) -> bool:
    return (prim.elementwise or prim.form.operator) and prim is not P.matmul


def _walk(block: Block):
    for s in block:
        yield s
        if isinstance(s, If):
            yield from _walk(s.then)
            yield from _walk(s.orelse)
        elif isinstance(s, Loop):
            yield from _walk(s.cond_block)
            yield from _walk(s.body)


_LIST_RESULTS = frozenset({P.zeros_like_list, P.add_lists, P.unstack, P.sum_list_grad})


def lists(fn: Function) -> set[Var]:
    """Values that are runtime lists: built in loops, and (in a generated gradient) their
    adjoints, which are lists too."""
    return analysis.lists(fn, P.LIST_MAKERS | _LIST_RESULTS)


def has_tapes(fn: Function) -> bool:
    """Whether ``fn`` pushes or pops a tape (a generated gradient with loops)."""
    return any(isinstance(s, (Push, Pop)) for s in _walk(fn.body))


def activity(fn: Function, wrt: tuple[Var, ...]) -> tuple[set[Var], dict[Var, set[int]]]:
    """Values that depend on ``wrt``, and for each tape the positions of pushed items that
    do somewhere (their tangents travel on the tape, at every push and pop of it)."""
    active = set(wrt)
    slots: dict[Var, set[int]] = {}
    changed = True
    while changed:  # loops and tapes feed values back: iterate to a fixed point
        changed = False
        for s in _walk(fn.body):
            new: list[Var] = []
            if isinstance(s, Assign):
                if s.prim.differentiable and any(a in active for a in s.args):
                    new.append(s.target)
            elif isinstance(s, If):
                new += [p.target for p in s.phis if p.then in active or p.orelse in active]
            elif isinstance(s, Loop):
                for c in s.carries:
                    if c.init in active or c.next in active or c.var in active:
                        new += [c.var, c.out]
            elif isinstance(s, Push):
                mine = slots.setdefault(s.tape, set())
                for i, v in enumerate(s.values):
                    if v in active and i not in mine:
                        mine.add(i)
                        changed = True
            elif s.tape in active:  # a list value that varies: everything popped does
                new += list(s.targets)
            else:
                mine = slots.get(s.tape, set())
                new += [t for i, t in enumerate(s.targets) if i in mine]
            for v in new:
                if v not in active:
                    active.add(v)
                    changed = True
    return active, slots


# ----------------------------------------------------------------------------- programs


def _user_names(fn: Function) -> set[str]:
    names = {p.name for p in fn.params} | {fn.name}
    for s in _walk(fn.body):
        if isinstance(s, Assign):
            names.add(s.target.name)
        elif isinstance(s, If):
            names.update(p.target.name for p in s.phis)
        elif isinstance(s, Pop):
            names.update(t.name for t in s.targets)
        elif isinstance(s, Loop):
            names.update(c.var.name for c in s.carries)
            names.update(c.out.name for c in s.carries)
            if s.index is not None:
                names.add(s.index.name)
    return {n for n in names if not is_internal(n)}


def extra_params(fn: Function, wanted: list[str]) -> tuple[tuple[Var, ...], tuple[str, ...]]:
    """New parameters named after ``wanted`` (never a name ``fn`` uses), and the signature
    with them appended: positional, or keyword-only after defaults or keyword-only ones."""
    gen = NameGen(_user_names(fn))
    params = tuple(Var(gen.fresh(w)) for w in wanted)
    signature = list(fn.signature or [p.name for p in fn.params])
    if fn.defaults and "*" not in signature:
        signature.append("*")
    return params, tuple(signature) + tuple(p.name for p in params)


def jvp_program(
    fn: Function, wrt: tuple[Var, ...], directions: list[str] | None = None, kind: Kind = Kind.JVP
) -> GradProgram:
    """``f``'s tangent program: ``(x, x_dot) -> (f(x), J(x)·x_dot)`` for the ``wrt`` inputs.
    ``directions`` names the tangent parameters (``v`` for a Hessian-vector product)."""
    tangents, signature = extra_params(fn, directions or [TANGENT.format(p.name) for p in wrt])
    fwd = Forward(fn, dict(zip(wrt, tangents)))
    block, out = fwd.run(fn.result)
    live = {a for a in (fn.result, out) if isinstance(a, Var)}
    return GradProgram(
        name=fn.name,
        params=fn.params + tangents,
        wrt=wrt,
        forward=analysis.prune(block, live),
        backward=(),
        value=fn.result,
        grads=(out,),
        adjoint_of=tuple(fwd.adjoint_of.items()),
        restored=(),
        scalar_value=True,  # any shape: nothing to check
        loc=fn.loc,
        signature=signature,
        defaults=fn.defaults,
        kind=kind,
    )


def gradient_program(fn: Function, wrt: tuple[Var, ...], seed: Atom | None) -> GradProgram:
    """The gradient of a scalar function of one scalar, in one forward pass (seed 1.0).

    ``modes`` calls this for programs with tapes, which reverse mode cannot run backwards, and
    for ``grad(..., mode="fwd")`` or the cheaper mode (``modes.cheaper_gradient``); the
    derivative is exact, and an array argument is refused when the gradient is called.
    """
    if seed is not None or len(wrt) != 1:
        what = "a vector-Jacobian product" if seed is not None else "several arguments at once"
        if has_tapes(fn):
            why = (
                f"{fn.name} is a generated gradient with loops (tapes), which symdiff "
                "differentiates again in forward mode only"
            )
        else:
            why = f"grad(..., mode='fwd') computes the gradient of {fn.name} in forward mode"
        raise NonDifferentiableError(
            f"{why}, one scalar argument per pass; {what} would need reverse mode",
            fn.loc,
            "differentiate with respect to one scalar argument, or use symdiff.hessian, "
            "symdiff.hvp or symdiff.jacobian(..., mode='fwd')"
            + ("" if has_tapes(fn) else ", or grad's mode='auto' or 'rev'"),
        )
    (x,) = wrt
    counter = Counter("s")
    dx = Var(counter())
    fwd = Forward(fn, {x: dx})
    seed_stmt = Assign(dx, P.scalar_seed, (x,), (("name", x.name),), fn.loc)
    block, out = fwd.run(fn.result)
    annotated = set(fn.scalar_params)
    scalar = analysis.is_scalar(fn.result, analysis.scalars(fn, annotated))
    live = {a for a in (fn.result, out) if isinstance(a, Var)}
    return GradProgram(
        name=fn.name,
        params=fn.params,
        wrt=wrt,
        forward=analysis.prune((seed_stmt, *block), live),
        backward=(),
        value=fn.result,
        grads=(out,),
        adjoint_of=tuple(fwd.adjoint_of.items()) + ((dx, x),),
        restored=(),
        scalar_value=scalar,
        loc=fn.loc,
        signature=fn.signature,
        defaults=fn.defaults,
        kind=Kind.GRAD_FWD,
    )
