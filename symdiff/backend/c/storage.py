"""What each variable of one generated C function is and where it lives.

``Storage`` reuses the Python backend's ``Plan`` for what to compute and what to call it
(pruning, the user's names, ``d_x`` for adjoints, a loop's state under one name, in-place
accumulators), so the C reads like the Python output, and decides on top of it what is
particular to C:

* the C type of every variable, from the exact argument types (``values.c_type``), and the
  values known at generation time (shapes, sizes), written as literals where they are read;
* which values get no storage of their own (``virtual``): views of a value that is never
  overwritten, and single-use elementwise temporaries, fused into the loop that reads them;
* the tapes: one fixed-size array of structs per tape, sized from the loops that push on it
  (a constant trip count, or the documented cap ``max_steps`` for a ``while`` loop or one
  with bounds known only at run time, checked on every push);
* which gradient arrays are built directly in the caller's output buffer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

from ...abstract.infer import Analysis
from ...ad.program import GradProgram
from ...ir.nodes import Assign, Atom, Block, Const, If, Loop, LoopKind, Pop, Push, Var
from ..plan import Plan
from .catalogue import CONTRACT, ELEMENT, REDUCE, UPDATES, VIEWS, WRITTEN
from .expressions import C_FUNCTIONS, C_KEYWORDS, LONG
from .values import HINT, CBackendError, CType, c_type, static_value

TAPE_FULL = "SYMDIFF_TAPE_FULL"  # the status a capped tape returns when a loop overruns it
RESERVED = C_KEYWORDS | C_FUNCTIONS | {TAPE_FULL}


@dataclass
class Tape:
    """A tape as C storage: ``struct { fields } name[capacity]`` and its length ``name_len``."""

    name: str
    fields: list[tuple[str, CType]]
    capacity: int
    checked: bool  # the capacity is the cap, not a count: every push checks it


class Storage:
    """The C facts of one generated function (``which``: "grad" or "value_and_grad")."""

    def __init__(
        self,
        prog: GradProgram,
        analysis: Analysis,
        which: str,
        taken: set[str],
        outputs: dict[Var, str],
        max_steps: int,
        reserved: frozenset[str] | set[str] = RESERVED,
    ):
        self.prog = prog
        self.reserved = reserved  # names no variable may have: C's, math.h's, the functions'
        self.max_steps = max_steps
        self.plan = Plan(prog, taken | set(outputs.values()), which)
        self.facts = self.plan.facts
        self.defs: dict[Var, Any] = self.facts.defs
        self.outputs = outputs
        self.value_name = self.plan.gen.fresh("value")
        self.types: dict[Var, CType] = {}
        self.static: dict[Var, Any] = {}
        self.virtual: set[Var] = set()
        self.names: dict[Var, str] = dict(self.plan.names)
        self.pointers: set[Var] = set()  # array pop targets read in place from the tape
        self.aliased: set[str] = set()  # output buffers that hold a gradient as it is built
        self.extra: dict[str, CType] = {}  # staging buffers (parallel copies, aliasing)
        self.tapes: dict[Var, Tape] = {}
        self.constants: dict[Const, str] = {}  # module-level arrays, as static tables
        for s in self.assigns():  # what C cannot write is named before any type is asked
            if s.prim.name not in WRITTEN:
                raise CBackendError(
                    f"the C backend has no code for `{s.prim.spelling}` ({s.prim.name})",
                    s.loc,
                    HINT,
                )
        self._types(analysis)
        self._statics()
        self._virtuals()
        self._names()
        self._tapes()

    # ------------------------------------------------------------ facts
    def _types(self, analysis: Analysis) -> None:
        for v in self.facts.order:
            d = self.defs.get(v)
            loc = getattr(d, "loc", None) or self.prog.loc
            shown = self.plan.names.get(v) or "a temporary"
            value = analysis.value(v)
            t = c_type(value, f"`{shown}`" if shown != "a temporary" else shown, loc)
            if t is not None:
                self.types[v] = t

    def shape(self, a: Atom) -> tuple[int, ...]:
        t = self.type_of(a)
        return t.shape if t is not None else ()

    def type_of(self, a: Atom) -> CType | None:
        if isinstance(a, Const):
            if isinstance(a.value, np.ndarray) and a.value.shape:
                return CType("double", tuple(a.value.shape))
            return CType(LONG) if isinstance(a.value, (bool, int)) else CType("double")
        return self.types.get(a)

    def constant_name(self, c: Const) -> str:
        """The name of a module-level array in the C code: a ``static const`` table, under
        the Python name when it is free."""
        found = self.constants.get(c)
        if found is None:
            value = c.value
            if not isinstance(value, np.ndarray) or value.dtype.kind not in "fbiu":
                raise CBackendError(
                    f"the constant {c} ({type(value).__name__}) cannot be written in C", None, HINT
                )
            base = c.name if c.name and c.name.isidentifier() else "table"
            found = self.plan.gen.fresh(base + "_" if base in self.reserved else base)
            self.constants[c] = found
        return found

    def _statics(self) -> None:
        for s in self.assigns():
            args: list[Any] = []
            shapes: list[tuple[int, ...] | None] = []
            for a in s.args:
                if isinstance(a, Const):
                    args.append(a.value)
                else:
                    args.append(self.static.get(a, NotImplemented))
                t = self.type_of(a)
                shapes.append(t.shape if t is not None else None)
            value = static_value(s, args, shapes)
            if value is not NotImplemented:
                self.static[s.target] = value

    def kind(self, s: Assign) -> str:
        """How the C code computes ``s``: "element" (an expression per element), "reduce",
        "contract", "scatter", or "none" (a tape or a tuple: no code of its own)."""
        name = s.prim.name
        if name in ("new_tape", "tuple"):
            return "none"
        if name in CONTRACT and any(self.shape(a) == () for a in s.args):
            return "element"
        if name in ELEMENT:
            return "element"
        if name in REDUCE:
            return "reduce"
        if name in CONTRACT:
            return "contract"
        if name == "index_grad":
            return "scatter"
        if name in UPDATES:
            return "update"
        raise CBackendError(
            f"the C backend has no code for `{s.prim.spelling}` ({name})", s.loc, HINT
        )

    def _virtuals(self) -> None:
        sizes: dict[Var, int] = {}
        for v in self.facts.order:
            root = self.plan.find(v)
            sizes[root] = sizes.get(root, 0) + 1
        self.group_size = sizes
        for s in self.assigns():
            v = s.target
            if v in self.static:
                continue
            kind = self.kind(s)
            if kind == "none" or v not in self.types:
                if s.prim.name == "tuple" or s.prim.name == "tuple_item":
                    self.virtual.add(v)
                continue
            if kind != "element":
                continue
            if s.prim.name in VIEWS and self._stable(s.args[0]):
                self.virtual.add(v)
            elif v in self.plan.fold and self._fold_ok(v):
                self.virtual.add(v)

    def _stable(self, a: Atom) -> bool:
        """Never overwritten once made: a view of it may be read through it at any time."""
        if not isinstance(a, Var) or a in self.static or a in self.facts.params:
            return True
        if a in self.virtual:
            d = self.defs[a]
            return isinstance(d, Assign) and all(self._stable(x) for x in d.args)
        return self.group_size.get(self.plan.find(a), 0) == 1

    def _fold_ok(self, v: Var) -> bool:
        """A single-use temporary can be written inside its reader: a scalar into a scalar
        expression, an array into an elementwise expression of its shape or a sum."""
        readers = self.facts.reads_by.get(v, [])
        if len(readers) != 1:
            return False
        r = readers[0]
        if not isinstance(r, Assign):
            return True
        t, rt = self.types[v], self.types.get(r.target)
        kind = self.kind(r)
        if t.scalar:
            return rt is not None and rt.scalar and kind == "element"
        if kind == "element":
            return rt is not None and rt.shape == t.shape
        return r.args[0] == v and r.prim.name in (
            "np.sum",
            "np.mean",
            "sum_to",
            "unbroadcast",
            "index_grad",
        )

    def _names(self) -> None:
        gen = self.plan.gen
        for v in self.facts.order:
            if (
                v not in self.names
                and v in self.types
                and v not in self.virtual
                and v not in self.static
            ):
                self.names[v] = gen.temp()
        renamed: dict[str, str] = {}
        for v, n in list(self.names.items()):
            if n in self.reserved:
                if n not in renamed:
                    renamed[n] = gen.fresh(n + "_")
                self.names[v] = renamed[n]
        for wrt, grad in zip(self.prog.wrt, self.prog.grads):
            if self._can_alias(grad):
                assert isinstance(grad, Var)
                root = self.plan.find(grad)
                for m in self.facts.order:
                    if self.plan.find(m) == root:
                        self.names[m] = self.outputs[wrt]
                self.aliased.add(self.outputs[wrt])

    def _can_alias(self, g: Atom | None) -> bool:
        """A gradient array that can be built in the caller's buffer directly."""
        if not isinstance(g, Var) or g in self.virtual or g in self.static:
            return False
        t = self.types.get(g)
        if t is None or t.scalar or self.prog.grads.count(g) != 1 or g == self.prog.value:
            return False
        root = self.plan.find(g)
        for m in self.facts.order:
            if self.plan.find(m) == root and (
                m in self.facts.params or isinstance(self.defs.get(m), Pop)
            ):
                return False
        return True

    def name(self, v: Var) -> str:
        return self.names[v]

    def tuple_part(self, s: Assign) -> Atom:
        d = self.defs.get(s.args[0]) if isinstance(s.args[0], Var) else None
        ks = [a.value for a in s.args[1:] if isinstance(a, Const)]
        if isinstance(d, Assign) and d.prim.name == "tuple" and len(ks) == 1:
            return d.args[ks[0]]
        raise CBackendError("a tuple the C backend cannot take apart", s.loc, HINT)

    def static_bounds(self, loop: Loop) -> list[int] | None:
        """The index values of a ``range`` loop whose bounds are known now, else None."""
        values = []
        for a in loop.header:
            v = a.value if isinstance(a, Const) else self.static.get(a, NotImplemented)
            if isinstance(v, bool) or not isinstance(v, int):
                return None
            values.append(v)
        return list(range(*values))

    def assigns(self) -> Iterator[Assign]:
        for s in walk(self.plan.forward + self.plan.backward):
            if isinstance(s, Assign):
                yield s

    # ------------------------------------------------------------ tapes
    def _tapes(self) -> None:
        self._find_pushes(self.plan.forward, 1, False)
        for s in walk(self.plan.backward):
            if isinstance(s, Pop) and s.tape in self.tapes:  # read in place when alone
                for t in s.targets:
                    ty = self.types.get(t)
                    if (
                        ty is not None
                        and not ty.scalar
                        and self.group_size.get(self.plan.find(t)) == 1
                    ):
                        self.pointers.add(t)

    def _find_pushes(self, block: Block, trips: int, capped: bool) -> None:
        for s in block:
            if isinstance(s, Push):
                tape = self.tapes.get(s.tape)
                if tape is None:
                    fields = []
                    used: set[str] = set()
                    for k, a in enumerate(s.values):
                        base = self.names.get(a, f"v{k}") if isinstance(a, Var) else f"v{k}"
                        while base in used:
                            base += "_"
                        used.add(base)
                        t = self.type_of(a)
                        fields.append((base, t if t is not None else CType("double")))
                    self.tapes[s.tape] = Tape(self.names[s.tape], fields, trips, capped)
                else:
                    tape.capacity = max(tape.capacity, trips)
                    tape.checked = tape.checked or capped
            elif isinstance(s, If):
                self._find_pushes(s.then, trips, capped)
                self._find_pushes(s.orelse, trips, capped)
            elif isinstance(s, Loop):
                bounds = self.static_bounds(s) if s.kind is not LoopKind.WHILE else None
                if bounds is None:
                    self._find_pushes(s.cond_block + s.body, trips * self.max_steps, True)
                else:
                    self._find_pushes(s.body, trips * len(bounds), capped)

    # ------------------------------------------------------------ reads
    def reads(self, a: Atom, skewed: bool = False) -> set[str]:
        """The storage names ``a``'s elements are read from (``skewed``: only those read at
        another index than the element's own: through a view, a product, a reduction)."""
        if not isinstance(a, Var) or a in self.static:
            return set()
        if a not in self.virtual:
            return set() if skewed else {self.names.get(a, "")}
        d = self.defs[a]
        out: set[str] = set()
        shifts = isinstance(d, Assign) and d.prim.name not in ELEMENT - VIEWS
        for x in d.args if isinstance(d, Assign) else ():
            out |= self.reads(x, False) if (shifts and skewed) else self.reads(x, skewed)
        return out

    def reads_target(self, s: Assign, name: str) -> bool:
        """Whether ``s`` reads storage ``name`` other than element by element."""
        if s.prim.name in ELEMENT and s.prim.name not in VIEWS and s.prim.name != "np.outer":
            return any(name in self.reads(a, skewed=True) for a in s.args)
        return any(name in self.reads(a) for a in s.args)


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
