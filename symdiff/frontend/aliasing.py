"""What the lowering knows about values' memory and kind, to refuse updates Python would see.

Single assignment makes ``y[i] = v`` a new array, which is right only if nothing else names
the old one: in Python an alias (``z = y``, a view ``y[1:]``, a caller's argument) would see
the update. ``Memory`` records which values may share memory, which are runtime lists (built
by ``append`` in a loop), which are index arrays (as an index they copy instead of viewing),
and which cannot depend on the inputs at all (``inert``: random draws and ``np.unique`` need
that of what they read).
"""

from __future__ import annotations

from typing import TypeGuard

from ..ir import primitives as P
from ..ir.nodes import Atom, Const, Effect, Form, Primitive, Var
from .values import Frame, Value

# operations whose result, used as an index, makes indexing advanced (a copy, never a view)
INDEX_ARRAYS = frozenset(
    {P.np_array, P.np_array_list, P.np_arange, P.np_argsort, P.lt, P.le, P.gt, P.ge, P.eq, P.ne,
     P.np_logical_and, P.np_logical_or, P.np_logical_not, P.np_unique, P.np_triu_indices,
     P.np_tril_indices, P.np_triu_indices_from, P.np_tril_indices_from, P.np_diag_indices}
)  # fmt: skip
# the operations a runtime list may be passed to
LIST_OPS = frozenset({P.list_append, P.np_stack_list, P.np_array_list, P.sum_list, P.b_len})


class Memory:
    """Facts about the values made so far, keyed by their IR variables."""

    def __init__(self) -> None:
        self.params: set[Var] = set()
        self.scalar_params: set[Var] = set()  # annotated float/int: certainly scalars
        self.lists: set[Var] = set()  # runtime Python lists (built by append in a loop)
        # which earlier values a value may share memory with: views, loop state, phis
        self.alias_src: dict[Var, tuple[Atom, ...]] = {}
        self.index_arrays: set[Var] = set()  # arrays and masks: as an index, they copy
        # values that cannot depend on the inputs: built from constants, or results of
        # operations without a derivative (shapes, indices, masks, random draws)
        self.inert: set[Var] = set()

    def record(self, prim: Primitive, target: Var, args: tuple[Atom, ...]) -> None:
        """What ``target = prim(*args)`` is: a list, inert, an index array, a view."""
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
        if any(s in self.lists for s in sources):
            self.lists.add(target)

    def renamed(self, new: Var, old: Var) -> None:
        """``new`` is ``old`` under another name: the same memory and the same kind."""
        self.alias_src[new] = (old,)
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
        """The values ``v`` may share memory with (itself included)."""
        out: set[Var] = set()
        todo = [v]
        while todo:
            a = todo.pop()
            if isinstance(a, Var) and a not in out:
                out.add(a)
                todo.extend(self.alias_src.get(a, ()))
        return out

    def sharing(self, frames: tuple[Frame, ...], name: str, value: Value) -> list[str]:
        """Other names, in ``frames`` (the current one first, then the callers'), bound to
        memory that ``value`` may share: updating it in place would change what they see."""
        mine = self.may_alias(value)
        if not mine:
            return []
        frame = frames[0]
        return sorted(
            {
                k
                for f in frames
                for k, v in f.env.items()
                if (k != name or f is not frame) and isinstance(v, Var) and self.may_alias(v) & mine
            }
        )
