"""Who defines and reads each variable of a generated function, where, and how often.

The emitter's decisions (which temporaries to fold, which arrays to update in place, which
variables can share a Python name) all rest on these few facts, gathered in one pass over
the function's two sweeps. A read is recorded with the block it happens in, so a read
inside a loop of a value defined outside it can count as many (it happens every iteration).
"""

from __future__ import annotations

from typing import Any

from ..ir.nodes import (
    Assign,
    Atom,
    Block,
    Carry,
    Effect,
    Form,
    If,
    Loop,
    Pop,
    Primitive,
    Push,
    Var,
)


def is_update(prim: Primitive) -> bool:
    """An operation that makes an updated copy of its first argument, or updates it in place
    when nothing else reads the old value: ``y[i] = v``, ``xs.append(v)``, ``np.add.at``."""
    return prim.effect is Effect.UPDATE


def copier(prim: Primitive) -> str:
    """The copy an update starts from when it cannot work in place."""
    return "list" if prim.form is Form.APPEND else "np.copy"


class Facts:
    """Definitions and reads of one function's variables, in program order.

    Blocks are identified by ``id`` of their tuple (0 for a sweep's top level), which is
    enough: every block is a distinct object of the one program being emitted.
    """

    def __init__(self, params: tuple[Var, ...], blocks: tuple[Block, ...], results: tuple):
        self.params = set(params)
        self.defs: dict[Var, Any] = {}
        self.def_block: dict[Var, int] = {}
        self.reads: dict[Var, list[int]] = {}
        self.reads_by: dict[Var, list[Any]] = {}
        self.block_loops: dict[int, tuple] = {}
        self.order: list[Var] = list(params)
        for block in blocks:
            self._scan(block, 0)
        for a in results:
            self._read(a, 0)

    def _read(self, a: Atom | None, block: int, by: Any = None) -> None:
        if isinstance(a, Var):
            self.reads.setdefault(a, []).append(block)
            self.reads_by.setdefault(a, []).append(by)

    def _define(self, v: Var, block: int, stmt: Any) -> None:
        self.defs[v] = stmt
        self.def_block[v] = block
        self.order.append(v)

    def _scan(self, block: Block, bid: int, loops: tuple = ()) -> None:
        self.block_loops[bid] = loops
        for s in block:
            if isinstance(s, Assign):
                for a in s.args:
                    self._read(a, bid, s)
                self._define(s.target, bid, s)
            elif isinstance(s, Push):
                for a in (s.tape, *s.values):
                    self._read(a, bid)
            elif isinstance(s, Pop):
                self._read(s.tape, bid)
                for t in s.targets:
                    self._define(t, bid, s)
            elif isinstance(s, If):
                self._scan_if(s, bid, loops)
            elif isinstance(s, Loop):
                self._scan_loop(s, bid, loops)

    def _scan_if(self, s: If, bid: int, loops: tuple) -> None:
        self._read(s.cond, bid)
        tb, eb = id(s.then), id(s.orelse)
        self._scan(s.then, tb, loops)
        self._scan(s.orelse, eb, loops)
        for p in s.phis:
            self._read(p.then, tb)
            self._read(p.orelse, eb)
            self._define(p.target, bid, s)

    def _scan_loop(self, s: Loop, bid: int, loops: tuple) -> None:
        bb, cb = id(s.body), id(s.cond_block)
        for a in s.header:
            self._read(a, bid)
        for c in s.carries:
            self._read(c.init, bid)
            self._define(c.var, bb, s)
        if s.index is not None:
            self._define(s.index, bb, s)
        self._scan(s.cond_block, cb, loops + (id(s),))
        self._read(s.cond, cb)
        self._scan(s.body, bb, loops + (id(s),))
        for c in s.carries:
            self._read(c.next, bb)
        self._read(s.exit, bb)
        for c in s.carries:
            self._define(c.out, bid, s)

    def count(self, v: Atom) -> int:
        """How often ``v`` is read; a read inside a loop that ``v`` is defined outside of
        counts as many (it happens once per iteration)."""
        if not isinstance(v, Var):
            return 0
        reads = self.reads.get(v, ())
        home = self.block_loops.get(self.def_block[v], ()) if v in self.def_block else ()
        if any(len(self.block_loops.get(b, ())) > len(home) for b in reads):
            return max(2, len(reads))
        return len(reads)

    def read_once_where_made(self, v: Var) -> bool:
        """Read exactly once, in the block that defines it: the condition for folding."""
        return self.count(v) == 1 and self.reads[v][0] == self.def_block[v]

    def copy_fn(self, v: Var) -> str:
        """How to copy ``v`` before updating it: ``list`` for a list, else ``np.copy``."""
        for r in self.reads_by.get(v, ()):
            if isinstance(r, Assign) and is_update(r.prim):
                return copier(r.prim)
        return "np.copy"

    def carry_of(self, v: Var) -> Carry | None:
        """The loop-carried state ``v`` is the in-loop name of, if it is one."""
        d = self.defs.get(v)
        if isinstance(d, Loop):
            for c in d.carries:
                if c.var == v:
                    return c
        return None

    def owned(self, v: Atom, depth: int = 0) -> bool:
        """Whether ``v`` is an array no other name can see (so it may be updated in place)."""
        if not isinstance(v, Var) or v in self.params or depth > 20:
            return False
        d = self.defs.get(v)
        if isinstance(d, Assign):
            # a new array, or an update's copy: nothing else can see it
            return d.prim.effect in (Effect.FRESH, Effect.UPDATE)
        if isinstance(d, Loop):
            for c in d.carries:
                if v in (c.var, c.out):
                    return self.count(c.init) == 1 and self.owned(c.init, depth + 1)
        if isinstance(d, If):
            for p in d.phis:
                if p.target == v:
                    return all(
                        self.count(a) == 1 and self.owned(a, depth + 1) for a in (p.then, p.orelse)
                    )
        return False
