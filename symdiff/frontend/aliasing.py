"""What the lowering knows about values' memory and kind, to refuse updates Python would see.

Single assignment makes ``y[i] = v`` a new array, which is right only if nothing else names
the old one: in Python an alias (``z = y``, a view ``y[1:]``, a caller's argument) would see
the update. ``Memory`` records which values may share memory, which are runtime lists (built
by ``append`` in a loop), which are index arrays (as an index they copy instead of viewing),
which cannot depend on the inputs at all (``inert``: random draws and ``np.unique`` need
that of what they read), and which are certainly scalars (``kinds``): a number is never
updated in place, so sharing it is harmless.

Loop state shares memory with its initial value and with what the body makes of it, which
the body itself may alias (``for ...: a += 1; b = a`` makes ``b`` the array ``a`` updates in
the next iteration). Until the body is lowered that second half is unknown, so an in-place
update allowed inside a loop is checked again once every loop around it is closed
(``Memory.allowed``, ``Memory.settle``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence, TypeGuard

from ..errors import SymdiffError
from ..ir import primitives as P
from ..ir.nodes import Atom, Const, Effect, Form, Primitive, Var
from .kinds import Scalars
from .values import Frame, Value

# operations whose result, used as an index, makes indexing advanced (a copy, never a view)
INDEX_ARRAYS = frozenset(
    {P.np_array, P.np_array_list, P.np_arange, P.np_argsort, P.lt, P.le, P.gt, P.ge, P.eq, P.ne,
     P.np_logical_and, P.np_logical_or, P.np_logical_not, P.np_unique, P.np_triu_indices,
     P.np_tril_indices, P.np_triu_indices_from, P.np_tril_indices_from, P.np_diag_indices}
)  # fmt: skip
# the operations a runtime list may be passed to
LIST_OPS = frozenset({P.list_append, P.np_stack_list, P.np_array_list, P.sum_list, P.b_len})

# how a refused update is reported, given the other names that see it and the parameters
# whose kind is not known (annotating them a number would settle it, if they are numbers)
Refusal = Callable[[list[str], list[str]], SymdiffError]


@dataclass(frozen=True)
class Update:
    """An in-place update allowed while a loop was open, to check again once it is closed:
    the value updated, the other names bound then (with their values) and how to refuse."""

    value: Atom
    bound: tuple[tuple[str, Var], ...]
    refuse: Refusal


class Memory:
    """Facts about the values made so far, keyed by their IR variables."""

    def __init__(self) -> None:
        self.params: set[Var] = set()
        self.scalar_params: set[Var] = set()  # annotated or declared scalars
        self.kinds = Scalars()
        self.pending: list[Update] = []  # updates allowed inside loops still open
        self.lists: set[Var] = set()  # runtime Python lists (built by append in a loop)
        # which earlier values a value may share memory with: views, loop state, phis
        self.alias_src: dict[Var, tuple[Atom, ...]] = {}
        self.index_arrays: set[Var] = set()  # arrays and masks: as an index, they copy
        # values that cannot depend on the inputs: built from constants, or results of
        # operations without a derivative (shapes, indices, masks, random draws)
        self.inert: set[Var] = set()

    def record(
        self, prim: Primitive, target: Var, args: tuple[Atom, ...], params: tuple = ()
    ) -> None:
        """What ``target = prim(*args, **params)`` is: a list, inert, an index array, a
        view, a scalar."""
        self.kinds.made(prim, target, args, dict(params))
        if prim in P.LIST_MAKERS:
            self.lists.add(target)
        if not prim.differentiable or all(self.is_inert(a) for a in args):
            self.inert.add(target)
        if prim in INDEX_ARRAYS:
            self.index_arrays.add(target)
        # a result that may share its first argument's memory: a view, or the list appended to
        if (prim.effect is Effect.VIEW or prim.form is Form.APPEND) and args:
            advanced = prim is P.getitem and any(a in self.index_arrays for a in args[1:])
            if not advanced:  # x[[0, 0]], x[mask]: advanced indexing always copies
                self.alias_src[target] = (args[0],)

    def joined(self, target: Var, sources: tuple[Atom, ...]) -> None:
        """``target`` is one of ``sources`` (a phi, a loop carry): it shares their memory,
        and is a list if one of them is."""
        self.alias_src[target] = sources
        self.kinds.one_of(target, sources)
        if any(s in self.lists for s in sources):
            self.lists.add(target)

    def entered(self, var: Var, init: Atom) -> None:
        """``var`` is loop state starting as ``init``; what the body makes of it is not
        known until ``left``."""
        self.alias_src[var] = (init,)
        self.kinds.enter(var, init)
        if init in self.lists:
            self.lists.add(var)

    def left(self, var: Var, init: Atom, nxt: Atom, after: Var, runs: bool) -> None:
        """The body is lowered: ``var`` is ``init`` or the previous iteration's ``nxt``, and
        ``after`` (the state after the loop) is ``var``, or ``nxt`` when the loop certainly
        runs at least once."""
        self.alias_src[var] = (init, nxt)
        self.kinds.close(var, init, nxt)
        last: tuple[Atom, ...] = (nxt,) if runs else (var,)
        self.alias_src[after] = last
        self.kinds.one_of(after, last)
        if var in self.lists or nxt in self.lists:
            self.lists.update((var, after))

    def renamed(self, new: Var, old: Var) -> None:
        """``new`` is ``old`` under another name: the same memory and the same kind."""
        self.alias_src[new] = (old,)
        self.kinds.one_of(new, (old,))
        if old in self.lists:
            self.lists.add(new)
        if old in self.inert:
            self.inert.add(new)

    def is_list(self, v: Value | None) -> TypeGuard[Var]:
        """Whether ``v`` is a runtime list (only variables are; other values need not hash)."""
        return isinstance(v, Var) and v in self.lists

    def is_inert(self, a: Atom) -> bool:
        """Whether ``a`` is certainly the same whatever the inputs are."""
        return isinstance(a, Const) or a in self.inert

    def may_alias(self, v: Value) -> set[Var]:
        """The values ``v`` may share memory with (itself included); scalars share nothing
        that can change."""
        out: set[Var] = set()
        todo = [v]
        while todo:
            a = todo.pop()
            if isinstance(a, Var) and a not in out and not self.kinds.is_scalar(a):
                out.add(a)
                todo.extend(self.alias_src.get(a, ()))
        return out

    def bound(
        self, frames: Sequence[Frame], name: str, dead: Callable[[str], bool] = lambda k: False
    ) -> tuple[tuple[str, Var], ...]:
        """The variables bound to names in ``frames`` (the current one first, then the
        callers'), but for ``name`` and the names ``dead`` says are never read again in the
        current frame: those an update of ``name`` must not change."""
        frame = frames[0]
        return tuple(
            (k, v)
            for f in frames
            for k, v in f.env.items()
            if (f is not frame or (k != name and not dead(k))) and isinstance(v, Var)
        )

    def sharing(self, bound: Sequence[tuple[str, Var]], value: Value) -> list[str]:
        """The names in ``bound`` whose memory ``value`` may share: updating it in place
        would change what they see (nothing, when ``value`` is a scalar)."""
        mine = self.may_alias(value)
        if not mine:
            return []
        return sorted({k for k, v in bound if self.may_alias(v) & mine})

    def unknown_params(self, value: Atom) -> list[str]:
        """The parameters whose kind alone keeps ``value`` from being a scalar (empty when
        something else does): annotated as numbers, they would settle it."""
        unknowns = self.kinds.unknowns(value)
        if unknowns and all(u in self.params for u in unknowns):
            return sorted(str(u) for u in unknowns)
        return []

    def allowed(
        self,
        frames: Sequence[Frame],
        name: str,
        value: Atom,
        refuse: Refusal,
        dead: Callable[[str], bool] = lambda k: False,
    ) -> None:
        """Refuse an in-place update of ``value`` (bound to ``name``) that another name
        would see (one ``dead`` says is never read again sees nothing); inside a loop, allow
        it for now and check again once the loop is closed (the loop's state may turn out
        to alias more, or not to be a scalar)."""
        update = Update(value, self.bound(frames, name, dead), refuse)
        self.check(update)
        if self.kinds.open:
            self.pending.append(update)

    def check(self, update: Update) -> None:
        others = self.sharing(update.bound, update.value)
        if others:
            raise update.refuse(others, self.unknown_params(update.value))

    def settle(self) -> None:
        """Once no loop is open, check again the updates allowed inside loops, in order."""
        if self.kinds.open:
            return
        pending, self.pending = self.pending, []
        for update in pending:
            self.check(update)
