"""One C function from a derivative program: storage, statements and control flow.

``FunctionWriter`` reuses the Python backend's ``Plan`` for what to compute and what to call
it (pruning, the user's names, ``d_x`` for adjoints, grouping a loop's state under one name,
in-place accumulators), so the C reads like the Python output. On top of the plan it decides
what is particular to C:

* the C type of every variable, from the exact argument types (``values.c_type``), and the
  values known at generation time (shapes, sizes), which are written as literals;
* which values get no storage of their own (``virtual``): views of a value that is never
  overwritten, and single-use elementwise temporaries, fused into the loop that reads them;
* the tapes: one fixed-size array of structs per tape, sized from the loops that push on it
  (a constant trip count, or the documented cap ``max_steps`` for a ``while`` loop or one
  with bounds known only at run time, checked on every push);
* the loops over elements (``kernels``), written with index names no user variable has.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator

from ...abstract.infer import Analysis
from ...ad.program import GradProgram
from ...ir.nodes import Assign, Atom, Block, Const, If, Loop, LoopKind, Pop, Push, Var
from ..comments import Quotes
from ..plan import Plan
from .elements import ELEMENT, VIEWS, Elements
from .expressions import C_FUNCTIONS, C_KEYWORDS, LONG, Ex, literal
from .kernels import CONTRACT, REDUCE, UPDATES, Kernels
from .values import HINT, CBackendError, CType, c_type, static_value

TAPE_FULL = "SYMDIFF_TAPE_FULL"  # the status a capped tape returns when a loop overruns it
RESERVED = C_KEYWORDS | C_FUNCTIONS | {TAPE_FULL}
WRITTEN = ELEMENT | REDUCE | CONTRACT | set(UPDATES) | {"index_grad", "new_tape", "tuple"}
_INDEX_NAMES = ("i", "j", "k", "l", "p", "q", "r", "s", "u", "v")


@dataclass
class Tape:
    """A tape as C storage: ``struct { fields } name[capacity]`` and its length ``name_len``."""

    name: str
    fields: list[tuple[str, CType]]
    capacity: int
    checked: bool  # the capacity is the cap, not a count: every push checks it


class FunctionWriter:
    """The text of one generated C function (``which``: "grad" or "value_and_grad")."""

    def __init__(
        self,
        prog: GradProgram,
        analysis: Analysis,
        which: str,
        taken: set[str],
        outputs: dict[Var, str],
        max_steps: int,
    ):
        self.prog = prog
        self.which = which
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
        self.extra: dict[str, CType] = {}  # staging buffers of parallel copies
        self.tapes: dict[Var, Tape] = {}
        self.lines: list[str] = []
        self.indent = 1
        self.active: list[str] = []  # index names of the loops open around the current line
        self.el = Elements(self)
        self.k = Kernels(self)
        for s in self._assigns():  # what C cannot write is named before any type is asked
            if s.prim.name not in WRITTEN:
                raise CBackendError(
                    f"the C backend has no code for `{s.prim.spelling}` ({s.prim.name})", s.loc, HINT
                )
        self._types(analysis)
        self._statics()
        self._virtuals()
        self._names()
        self._tapes()
        self.quotes = Quotes(prog.name, (self.plan.forward, self.plan.backward), self.defs, self.virtual)

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

    def type_of(self, a: Atom) -> CType | None:
        if isinstance(a, Const):
            return CType(LONG) if isinstance(a.value, (bool, int)) else CType("double")
        return self.types.get(a)

    def _statics(self) -> None:
        for s in self._assigns():
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
        if name in ("np.dot", "np.inner") and any(self.el.shape(a) == () for a in s.args):
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
        for s in self._assigns():
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
        return r.args[0] == v and r.prim.name in ("np.sum", "np.mean", "sum_to", "unbroadcast", "index_grad")

    def _names(self) -> None:
        gen = self.plan.gen
        for v in self.facts.order:
            if v not in self.names and v in self.types and v not in self.virtual and v not in self.static:
                self.names[v] = gen.temp()
        renamed: dict[str, str] = {}
        for v, n in list(self.names.items()):
            if n in RESERVED:
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
            if self.plan.find(m) == root and (m in self.facts.params or isinstance(self.defs.get(m), Pop)):
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

    def _assigns(self) -> Iterator[Assign]:
        for s in _walk(self.plan.forward + self.plan.backward):
            if isinstance(s, Assign):
                yield s

    # ------------------------------------------------------------ tapes
    def _tapes(self) -> None:
        self._find_pushes(self.plan.forward, 1, False)
        for s in _walk(self.plan.backward):
            if isinstance(s, Pop) and s.tape in self.tapes:
                tape = self.tapes[s.tape]
                for t in s.targets:
                    ty = self.types.get(t)
                    if ty is not None and not ty.scalar and self.group_size.get(self.plan.find(t)) == 1:
                        self.pointers.add(t)
                del tape  # the fields come from the pushes

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

    # ------------------------------------------------------------ text
    def emit(self, line: str) -> None:
        self.lines.append("    " * self.indent + line)

    def open(self, header: str) -> None:
        self.emit(header + " {")
        self.indent += 1

    def close(self, tail: str = "}") -> None:
        self.indent -= 1
        self.emit(tail)

    def index_name(self) -> str:
        """A loop index name no variable and no enclosing loop uses."""
        taken = set(self.names.values()) | set(self.active) | set(self.outputs.values())
        for n in _INDEX_NAMES:
            if n not in taken:
                return n
        k = 1
        while f"i{k}" in taken:
            k += 1
        return f"i{k}"

    def loops(self, shape: tuple[int, ...]) -> tuple[Ex, ...]:
        """Open one ``for`` per axis of ``shape``; ``end_loops`` closes them."""
        idx = []
        for n in shape:
            if n == 1:  # a unit axis needs no loop
                idx.append(literal(0))
                continue
            i = self.index_name()
            self.active.append(i)
            self.open(f"for (int {i} = 0; {i} < {n}; {i}++)")
            idx.append(Ex(i, ctype=LONG))
        return tuple(idx)

    def end_loops(self, shape: tuple[int, ...]) -> None:
        for _ in [n for n in shape if n != 1]:
            self.active.pop()
            self.close()

    def lvalue(self, name: str, t: CType, idx: tuple[Ex, ...]) -> str:
        from .elements import flat

        return name if t.scalar else f"{name}[{flat(idx, t.shape).text}]"

    # ------------------------------------------------------------ statements
    def block(self, block: Block, comment_all: bool, state: dict) -> None:
        for s in block:
            if isinstance(s, Assign):
                if s.target in self.static or s.target in self.virtual or self.kind(s) == "none":
                    continue
                loc = self.quotes.source(s, state.get("last"))
                for line in self.quotes.comment(loc, comment_all, state):
                    self.emit("//" + line[1:])
                self.k.assign(s)
            elif isinstance(s, Push):
                self.push(s)
            elif isinstance(s, Pop):
                self.pop(s)
            elif isinstance(s, If):
                self.if_(s, comment_all)
            else:
                self.loop(s, comment_all, state)

    def push(self, s: Push) -> None:
        tape = self.tapes[s.tape]
        n = f"{tape.name}_len"
        if tape.checked:
            self.open(f"if ({n} == {tape.capacity})")
            self.emit(f"return {TAPE_FULL};")
            self.close()
        for (field, t), a in zip(tape.fields, s.values):
            idx = self.loops(t.shape)
            self.emit(f"{self.lvalue(f'{tape.name}[{n}].{field}', t, idx)} = {self.el.at(a, idx).text};")
            self.end_loops(t.shape)
        self.emit(f"{n} += 1;")

    def pop(self, s: Pop) -> None:
        tape = self.tapes[s.tape]
        n = f"{tape.name}_len"
        self.emit(f"{n} -= 1;")
        for (field, t), v in zip(tape.fields, s.targets):
            if self.facts.count(v) == 0:
                continue
            entry = f"{tape.name}[{n}].{field}"
            if t.scalar or v in self.pointers:
                self.emit(f"{self.name(v)} = {entry};")
                continue
            idx = self.loops(t.shape)
            lv = self.lvalue(self.name(v), t, idx)
            self.emit(f"{lv} = {self.lvalue(entry, t, idx)};")
            self.end_loops(t.shape)

    def copies(self, pairs: list[tuple[Var, Atom]]) -> None:
        """Parallel assignments ``targets = sources`` (a loop's state, a branch's results):
        through staging copies when one target is read by another's source."""
        todo = [
            (t, a) for t, a in pairs
            if not (isinstance(a, Var) and a not in self.virtual and a not in self.static
                    and self.names.get(a) == self.name(t))
        ]  # fmt: skip
        if not todo:
            return
        targets = {self.name(t) for t, _ in todo}
        clash = any(self._reads(a) & (targets - ({self.name(t)} if len(todo) == 1 else set())) for t, a in todo)
        if len(todo) == 1 and not clash:
            clash = self.name(todo[0][0]) in self._reads(todo[0][1], skewed=True)
        if not clash:
            for t, a in todo:
                self.copy(self.name(t), self.types[t], a)
            return
        staged = []
        for t, a in todo:
            tmp = self.plan.gen.fresh(self.name(t) + "_next")
            self.extra[tmp] = self.types[t]
            self.copy(tmp, self.types[t], a)
            staged.append((t, tmp))
        for t, tmp in staged:
            ty = self.types[t]
            idx = self.loops(ty.shape)
            self.emit(f"{self.lvalue(self.name(t), ty, idx)} = {self.lvalue(tmp, ty, idx)};")
            self.end_loops(ty.shape)

    def copy(self, name: str, t: CType, a: Atom) -> None:
        idx = self.loops(t.shape)
        self.emit(f"{self.lvalue(name, t, idx)} = {self.el.broadcast(a, idx).text};")
        self.end_loops(t.shape)

    def _reads(self, a: Atom, skewed: bool = False) -> set[str]:
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
            out |= self._reads(x, False) if (shifts and skewed) else self._reads(x, skewed)
        return out

    def reads_target(self, s: Assign, name: str) -> bool:
        """Whether ``s`` reads storage ``name`` other than element by element."""
        if s.prim.name in ELEMENT and s.prim.name not in VIEWS and s.prim.name != "np.outer":
            return any(name in self._reads(a, skewed=True) for a in s.args)
        return any(name in self._reads(a) for a in s.args)

    def if_(self, s: If, comment_all: bool) -> None:
        self.open(f"if ({self.el.at(s.cond, ()).text})")
        self.block(s.then, comment_all, {})
        self.copies([(p.target, p.then) for p in s.phis])
        start = len(self.lines)
        self.close("} else {")
        self.indent += 1
        self.block(s.orelse, comment_all, {})
        self.copies([(p.target, p.orelse) for p in s.phis])
        if len(self.lines) == start + 1:  # nothing in the else branch
            self.lines[-1] = "    " * (self.indent - 2) + "}"
            self.indent -= 1
            return
        self.close()

    def loop(self, s: Loop, comment_all: bool, state: dict) -> None:
        for line in self.quotes.comment(s.loc, comment_all, state):
            self.emit("//" + line[1:])
        self.copies([(c.var, c.init) for c in s.carries])
        if s.kind is LoopKind.WHILE:
            assert s.cond is not None
            if s.cond_block:
                self.open("while (1)")
                self.block(s.cond_block, comment_all, {})
                self.open(f"if (!{self.el.at(s.cond, ()).at(14)})")
                self.emit("break;")
                self.close()
            else:
                self.open(f"while ({self.el.at(s.cond, ()).text})")
        else:
            self.open(self._for(s))
        self.block(s.body, comment_all, {})
        self.copies([(c.var, c.next) for c in s.carries])
        if s.exit is not None:
            self.open(f"if ({self.el.at(s.exit, ()).text})")
            self.emit("break;")
            self.close()
        if s.kind is not LoopKind.WHILE:
            self.active.pop()
        self.close()

    def _for(self, s: Loop) -> str:
        i = self.name(s.index) if s.index is not None and self.facts.count(s.index) > 0 else None
        i = i or self.index_name()
        self.active.append(i)
        header = [self.el.at(a, ()) for a in s.header]
        if len(header) == 1:
            header = [literal(0)] + header
        start, stop = header[0], header[1]
        step = 1
        if len(header) == 3:
            st = s.header[2]
            value = st.value if isinstance(st, Const) else self.static.get(st, NotImplemented)
            if isinstance(value, bool) or not isinstance(value, int) or value == 0:
                raise CBackendError("a range step that is not a constant", s.loc, HINT)
            step = value
        bounds = self.static_bounds(s)
        if s.kind is LoopKind.RANGE:
            cond = f"{i} < {stop.text}" if step > 0 else f"{i} > {stop.text}"
            inc = f"{i}++" if step == 1 else (f"{i} += {step}" if step > 0 else f"{i} -= {-step}")
            return f"for (long {i} = {start.text}; {cond}; {inc})"
        if bounds is not None:
            if not bounds:
                return f"for (long {i} = 0; {i} < 0; {i}++)"
            first, last = bounds[-1], bounds[0]
            cond = f"{i} >= {last}" if step > 0 else f"{i} <= {last}"
            dec = f"{i}--" if step == 1 else (f"{i} -= {step}" if step > 0 else f"{i} += {-step}")
            return f"for (long {i} = {first}; {cond}; {dec})"
        if step != 1:
            raise CBackendError("a reversed range with a step, bounds known only at run time", s.loc, HINT)
        return f"for (long {i} = {stop.at(12)} - 1; {i} >= {start.text}; {i}--)"

    # ------------------------------------------------------------ declarations
    def declarations(self, body: str) -> list[str]:
        """One declaration per storage name the body uses, in order of first definition."""
        out: list[str] = []
        seen: set[str] = set(self.aliased) | {self.name(p) for p in self.prog.params}
        for v in self.facts.order:
            n = self.names.get(v)
            if n is None or n in seen or v not in self.types or v in self.virtual or v in self.static:
                continue
            d = self.defs.get(v)
            if isinstance(d, Loop) and d.index == v:
                continue  # declared by its for
            if not re.search(rf"\b{re.escape(n)}\b", body):
                continue
            seen.add(n)
            t = self.types[v]
            base = "double" if t.base == "double" else "long"
            if v in self.pointers:
                out.append(f"const double *{n};")
            elif t.scalar:
                out.append(f"{base} {n};")
            else:
                out.append(f"double {n}[{t.size}];")
        for n, t in self.extra.items():
            out.append(f"double {n};" if t.scalar else f"double {n}[{t.size}];")
        for tape in self.tapes.values():
            fields = " ".join(
                f"double {f};" if t.scalar else f"double {f}[{t.size}];" for f, t in tape.fields
            )
            out.append(f"struct {{ {fields} }} {tape.name}[{max(tape.capacity, 1)}];")
            out.append(f"int {tape.name}_len = 0;")
        return out


def _walk(block: Block) -> Iterator[Any]:
    for s in block:
        yield s
        if isinstance(s, If):
            yield from _walk(s.then)
            yield from _walk(s.orelse)
        elif isinstance(s, Loop):
            yield from _walk(s.cond_block)
            yield from _walk(s.body)
