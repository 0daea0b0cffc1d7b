"""What one generated function computes and where each value lives, before any printing.

``Plan`` decides, for ``_grad`` or ``_value_and_grad`` of a program:

* what to compute: statements no result needs are pruned, and values read only for their
  shapes are detached from those reads (``optimize.shapes``), then pruned too;
* where values live: IR variables that can share one Python name are grouped (a value and
  the phi it flows into, a loop's state before, during and after the loop, an array and the
  copy ``y[i] = v`` makes of it when the old array is never read again, which then becomes
  an update in place);
* which single-use temporaries are folded into the expression that reads them;
* the name of every group.

Grouping must never let a write of one member come before a read of another under their
common name; ``clobbers`` checks that, looking through temporaries that will be folded
(their reads move to where they are used).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterator

from .. import naming
from ..ad.analysis import prune
from ..ad.program import GradProgram
from ..ir import primitives as P
from ..ir.nodes import Assign, Block, Effect, If, Loop, Var, defined_by, used_by
from ..naming import NameGen, is_internal
from ..optimize import shapes
from .facts import Facts, is_update


class Plan:
    """The decisions for one generated function; ``which`` is "grad" or "value_and_grad"."""

    def __init__(self, prog: GradProgram, taken: set[str], which: str):
        self.prog = prog
        grads = tuple(a for a in prog.grads if a is not None)
        self.needs_value = which != "grad" or not prog.scalar_value
        live = {
            a for a in grads + ((prog.value,) if self.needs_value else ()) if isinstance(a, Var)
        }
        outputs = set(live)
        # prune grows ``live`` in place: what the backward sweep reads keeps forward values
        backward = prune(prog.backward, live)
        forward, backward = shapes.detach(prune(prog.forward, live), backward, outputs)
        live = set(outputs)  # what the shapes no longer read is dead now
        self.backward = prune(backward, live)
        self.forward = prune(forward, live)
        self.adjoint_of = dict(prog.adjoint_of)
        self.restored = dict(prog.restored)
        self.facts = Facts(prog.params, (self.forward, self.backward), grads + (prog.value,))
        self.parent: dict[Var, Var] = {}
        self.inplace: set[Var] = set()  # updates done on the old array, not on a copy
        self.copy_init: set[Var] = set()  # loop state copied before the loop (then owned)
        self.could_fold = {v for v in self.facts.defs if self._could_fold(v)}
        self._coalesce(self.forward + self.backward)
        self.fold: set[Var] = set()  # temporaries written into their one reader
        self.names: dict[Var, str] = {p: p.name for p in prog.params}
        self.gen = NameGen(set(taken))
        self._choose_names()

    # ------------------------------------------------------------ groups
    def find(self, v: Var) -> Var:
        while v in self.parent:
            v = self.parent[v]
        return v

    def union(self, a: Var, b: Var) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra
            # one name for several values: each is written where it is made, none folded,
            # so later clobber checks read them there
            self.could_fold.discard(a)
            self.could_fold.discard(b)

    def group(self, v: Var) -> set[Var]:
        r = self.find(v)
        return {m for m in self.facts.order if self.find(m) == r}

    def _coalesce(self, block: Block, elsewhere: Counter[Var] | None = None) -> None:
        """Group the values ``block`` may keep under one name. ``elsewhere`` counts reads
        that happen only on other paths than this block's (a phi's other side): an update
        here may work in place although they read the old value."""
        count = self.facts.count
        elsewhere = elsewhere or Counter()
        for s in block:
            if isinstance(s, Assign) and is_update(s.prim):
                old = s.args[0]
                if not (isinstance(old, Var) and count(old) - elsewhere[old] == 1):
                    continue
                if self.facts.owned(old):
                    self.inplace.add(s.target)
                    self.union(old, s.target)
                elif self.facts.carry_of(old) is not None:
                    # a loop updating its state in place: copy the start value once, before
                    # the loop, instead of copying the whole array in every iteration
                    self.copy_init.add(old)
                    self.inplace.add(s.target)
                    self.union(old, s.target)
            elif isinstance(s, If):
                self._coalesce_if(s, elsewhere)
            elif isinstance(s, Loop):
                self._coalesce_loop(s)

    def _coalesce_if(self, s: If, elsewhere: Counter[Var]) -> None:
        # ``if c: ys.append(v)``: the phi reads the old list only when the branch did not run
        for blk, other in ((s.then, "orelse"), (s.orelse, "then")):
            reads = Counter(a for p in s.phis if isinstance(a := getattr(p, other), Var))
            self._coalesce(blk, elsewhere + reads)
        for p in s.phis:
            for src, blk in ((p.then, s.then), (p.orelse, s.orelse)):
                if (
                    isinstance(src, Var)
                    and self.facts.count(src) == 1
                    and src in _defined_in(blk)
                    and self.find(src) == src
                    and not self.clobbers(blk, self.group(src), self.group(p.target), ())
                ):
                    self.union(p.target, src)

    def _coalesce_loop(self, s: Loop) -> None:
        count = self.facts.count
        self._coalesce(s.cond_block)
        self._coalesce(s.body)
        for c in s.carries:
            self.union(c.var, c.out)
            if (
                isinstance(c.init, Var)
                and count(c.init) == 1
                and c.init not in self.facts.params
                and self.facts.def_block.get(c.init) is not None
                and self.find(c.init) == c.init
            ):
                self.union(c.var, c.init)
            tails = [d.next for d in s.carries if d is not c] + [s.exit]
            if (
                isinstance(c.next, Var)
                and count(c.next) == 1
                and c.next in _defined_in(s.body)
                and self.find(c.next) != self.find(c.var)
                and not self.clobbers(s.body, self.group(c.next), self.group(c.var), tails)
            ):
                self.union(c.var, c.next)

    # ------------------------------------------------------------ folding
    def _could_fold(self, v: Var) -> bool:
        d = self.facts.defs.get(v)
        primal = self.adjoint_of.get(v)
        return (
            is_internal(v.name)
            # the adjoint of an unnamed temporary may be folded too (see _group_name): a
            # superset is safe for clobbers, which looks through these for hidden reads
            and (primal is None or is_internal(primal.name))
            and v not in self.restored
            and isinstance(d, Assign)
            and not is_update(d.prim)
            and d.prim is not P.new_tape
            and self.facts.read_once_where_made(v)
        )

    def eff_reads(self, s: Any, named: set[Var] | frozenset[Var] = frozenset()) -> set[Var]:
        """What a statement reads where it stands, once single-use temporaries are folded
        into it (their own reads move with them). ``named`` will not be folded."""
        out: set[Var] = set()
        defs = self.facts.defs
        for a in used_by(s):
            if not isinstance(a, Var):
                continue
            if a in self.could_fold and a not in named and isinstance(defs.get(a), Assign):
                out |= self.eff_reads(defs[a], named)
            else:
                out.add(a)
        return out

    def clobbers(self, block: Block, new: set[Var], old: set[Var], tails: Any) -> bool:
        """Whether, giving ``new`` and ``old`` one name, a write of ``new`` in ``block`` would
        come before a read of ``old`` on the same path (``tails``: read at the block's end)."""
        bad, written = self._scan_writes(block, False, new, old)
        if bad or not written:
            return bad
        at_end: set[Var] = set()  # a temporary read at the end is folded there: its reads too
        defs = self.facts.defs
        for t in tails:
            if isinstance(t, Var) and t in self.could_fold and isinstance(defs.get(t), Assign):
                at_end |= self.eff_reads(defs[t], new)
            elif isinstance(t, Var):
                at_end.add(t)
        return bool(at_end & old)

    def _scan_writes(
        self, stmts: Block, written: bool, new: set[Var], old: set[Var]
    ) -> tuple[bool, bool]:
        """(a read of ``old`` follows a write of ``new``, ``new`` is written by the end)."""
        for s in stmts:
            if isinstance(s, Assign) and s.target in self.could_fold and s.target not in new:
                continue  # its reads happen where it is used
            if isinstance(s, If):
                if written and s.cond in old:
                    return True, written
                w_any = written
                for blk, side in ((s.then, "then"), (s.orelse, "orelse")):
                    bad, w = self._scan_writes(blk, written, new, old)
                    srcs = {getattr(p, side) for p in s.phis}
                    if bad or (w and srcs & old):
                        return True, w
                    w_any = w_any or w
                written = w_any or any(p.target in new for p in s.phis)
                continue
            if isinstance(s, Loop):
                inner: set[Var] = set()
                for x in walk(s.cond_block + s.body):
                    inner |= self.eff_reads(x, new)
                inner |= self.eff_reads(s, new)
                if (written and inner & old) or (
                    inner & old and any(set(defined_by(x)) & new for x in walk(s.body))
                ):
                    return True, written
                written = written or bool(set(defined_by(s)) & new)
                continue
            if written and self.eff_reads(s, new) & old:
                return True, written
            if set(defined_by(s)) & new:
                written = True
        return False, written

    # ------------------------------------------------------------ names
    def _choose_names(self) -> None:
        groups: dict[Var, list[Var]] = {}
        for v in self.facts.order:
            groups.setdefault(self.find(v), []).append(v)
        for v in self.facts.order:
            r = self.find(v)
            if v in self.names or r not in groups or _is_output(self.facts.defs.get(v)):
                continue  # print(...) and assert: statements whose None is never named
            members = groups.pop(r)
            name = self._group_name(members)
            if name is None:
                self.fold.add(v)
                continue
            for m in members:
                self.names[m] = name

    def _group_name(self, members: list[Var]) -> str | None:
        """A parameter's or user variable's own name, else ``d_<primal>`` for an adjoint
        (``<primal>_dot`` for a tangent),
        a version of the forward name for a value restored from the tape, ``tape``/``steps``
        for the bookkeeping, a temporary ``tN``; None for a temporary to fold."""
        for m in members:
            if m in self.facts.params:
                return m.name
        for m in members:
            if not is_internal(m.name):
                return m.name
        for m in members:
            primal = self.adjoint_of.get(m)
            if primal is not None:
                base = self.names.get(primal) or (None if is_internal(primal.name) else primal.name)
                if base is not None:
                    return self.gen.derivative(base, self.prog.kind.tangent_names)
        for m in members:
            fwd = self.restored.get(m)
            if fwd is not None and fwd in self.names:
                return self.gen.fresh(self.names[fwd])
        v = members[0]
        for hint in ("tape", "steps"):
            if any(naming.is_internal_of(m.name, hint) for m in members):
                return self.gen.fresh(hint)
        d = self.facts.defs.get(v)
        foldable = (
            len(members) == 1
            and isinstance(d, Assign)
            and d.prim not in (P.setitem, P.new_tape)
            and self.facts.read_once_where_made(v)
        )
        return None if foldable else self.gen.temp()


def _is_output(stmt: Any) -> bool:
    return isinstance(stmt, Assign) and stmt.prim.effect is Effect.OUTPUT


def _defined_in(block: Block) -> set[Var]:
    out: set[Var] = set()
    for s in block:
        out.update(defined_by(s))
    return out


def walk(block: Block) -> Iterator[Any]:
    """Every statement of a block, nested blocks included, in program order."""
    for s in block:
        yield s
        if isinstance(s, If):
            yield from walk(s.then)
            yield from walk(s.orelse)
        elif isinstance(s, Loop):
            yield from walk(s.cond_block)
            yield from walk(s.body)
