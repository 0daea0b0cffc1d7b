"""One C function from a derivative program: its statements and control flow.

``FunctionWriter`` walks the two sweeps of the plan ``Storage`` decided and writes each
statement: an assignment through its kernel (``kernels``), a tape push or pop, an ``if``
with the copies its phis need, a loop (``for`` over a range, ``while``, a ``break``) with
the copies of its carried state; then the declarations of every storage name the body uses.
Comments quote the user's lines as the Python output does (``backend.comments``).
"""

from __future__ import annotations

import re

import numpy as np

from ...abstract.infer import Analysis
from ...ad.program import GradProgram
from ...ir.nodes import Assign, Atom, Block, Const, If, Loop, LoopKind, Pop, Push, Var
from ..comments import Quotes
from .elements import Elements
from .expressions import literal
from .kernels import Kernels
from .storage import RESERVED, TAPE_FULL, Storage
from .text import Lines, lvalue
from .values import HINT, CBackendError


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
        reserved: frozenset[str] | set[str] = RESERVED,
    ):
        self.prog = prog
        self.st = Storage(prog, analysis, which, taken, outputs, max_steps, reserved)
        st = self.st
        self.out = Lines(
            lambda: set(st.names.values()) | set(st.outputs.values()) | set(st.constants.values())
        )
        self.el = Elements(st)
        self.k = Kernels(st, self.out, self.el)
        self.quotes = Quotes(prog.name, (st.plan.forward, st.plan.backward), st.defs, st.virtual)
        self.here = self._declared_where_made()

    def _declared_where_made(self) -> set[Var]:
        """The variables declared by the statement that makes them (``double t1 = ...;``,
        ``double z[16];`` above its loop): written by that one statement and read only in
        its block or blocks inside it. The others are declared at the top of the function."""
        st = self.st
        parent: dict[int, int] = {}

        def scan(block: Block, bid: int) -> None:
            for s in block:
                inner = (s.then, s.orelse) if isinstance(s, If) else ()
                inner = (s.cond_block, s.body) if isinstance(s, Loop) else inner
                for b in inner:
                    parent[id(b)] = bid
                    scan(b, id(b))

        scan(st.plan.forward, 0)
        scan(st.plan.backward, 0)

        def inside(b: int, home: int) -> bool:
            while b != home and b in parent:
                b = parent[b]
            return b == home

        out: set[Var] = set()
        for v, d in st.defs.items():
            if (
                isinstance(d, (Assign, Pop))
                and v in st.types
                and v not in st.virtual
                and v not in st.static
                and st.names.get(v) not in st.aliased
                and st.group_size.get(st.plan.find(v)) == 1
                and all(inside(b, st.facts.def_block[v]) for b in st.facts.reads.get(v, ()))
            ):
                out.add(v)
        return out

    def declare(self, v: Var, mark: int) -> None:
        """Declare ``v`` by the first line since ``mark`` that sets it, or just above them."""
        n, t = self.st.name(v), self.st.types[v]
        kind = "const double *" if v in self.st.pointers else f"{t.base} "
        if t.scalar or v in self.st.pointers:
            for k in range(mark, len(self.out.lines)):
                line = self.out.lines[k]
                code = line.lstrip()
                if code.startswith(f"{n} = "):
                    self.out.lines[k] = line[: len(line) - len(code)] + kind + code
                    return
            self.out.lines.insert(mark, "    " * self.out.indent + f"{kind}{n};")
            return
        self.out.lines.insert(mark, "    " * self.out.indent + f"double {n}[{t.size}];")

    # ------------------------------------------------------------ statements
    def block(self, block: Block, comment_all: bool, state: dict) -> None:
        for s in block:
            if isinstance(s, Assign):
                if (
                    s.target in self.st.static
                    or s.target in self.st.virtual
                    or self.st.kind(s) == "none"
                ):
                    continue
                loc = self.quotes.source(s, state.get("last"))
                for line in self.quotes.comment(loc, comment_all, state):
                    self.out.emit("//" + line[1:])
                mark = len(self.out.lines)
                self.k.assign(s)
                if s.target in self.here:
                    self.declare(s.target, mark)
            elif isinstance(s, Push):
                self.push(s)
            elif isinstance(s, Pop):
                mark = len(self.out.lines)
                self.pop(s)
                for v in reversed(s.targets):
                    if v in self.here and self.st.facts.count(v) > 0:
                        self.declare(v, mark + 1)  # after the tape_len -= 1
            elif isinstance(s, If):
                self.if_(s, comment_all)
            else:
                self.loop(s, comment_all, state)

    def push(self, s: Push) -> None:
        tape = self.st.tapes[s.tape]
        n = f"{tape.name}_len"
        if tape.checked:
            self.out.open(f"if ({n} == {tape.capacity})")
            self.out.emit(f"return {TAPE_FULL};")
            self.out.close()
        for (field, t), a in zip(tape.fields, s.values):
            idx = self.out.loops(t.shape)
            self.out.emit(
                f"{lvalue(f'{tape.name}[{n}].{field}', t, idx)} = {self.el.at(a, idx).text};"
            )
            self.out.end_loops(t.shape)
        self.out.emit(f"{n} += 1;")

    def pop(self, s: Pop) -> None:
        tape = self.st.tapes[s.tape]
        n = f"{tape.name}_len"
        self.out.emit(f"{n} -= 1;")
        for (field, t), v in zip(tape.fields, s.targets):
            if self.st.facts.count(v) == 0:
                continue
            entry = f"{tape.name}[{n}].{field}"
            if t.scalar or v in self.st.pointers:
                self.out.emit(f"{self.st.name(v)} = {entry};")
                continue
            idx = self.out.loops(t.shape)
            lv = lvalue(self.st.name(v), t, idx)
            self.out.emit(f"{lv} = {lvalue(entry, t, idx)};")
            self.out.end_loops(t.shape)

    def copies(self, pairs: list[tuple[Var, Atom]]) -> None:
        """Parallel assignments ``targets = sources`` (a loop's state, a branch's results):
        through staging copies when one target is read by another's source."""
        todo = [
            (t, a) for t, a in pairs
            if not (isinstance(a, Var) and a not in self.st.virtual and a not in self.st.static
                    and self.st.names.get(a) == self.st.name(t))
        ]  # fmt: skip
        if not todo:
            return
        targets = {self.st.name(t) for t, _ in todo}
        clash = any(
            self.st.reads(a) & (targets - ({self.st.name(t)} if len(todo) == 1 else set()))
            for t, a in todo
        )
        if len(todo) == 1 and not clash:
            clash = self.st.name(todo[0][0]) in self.st.reads(todo[0][1], skewed=True)
        if not clash:
            for t, a in todo:
                self.k.copy(self.st.name(t), self.st.types[t], a)
            return
        staged = []
        for t, a in todo:
            tmp = self.st.plan.gen.fresh(self.st.name(t) + "_next")
            self.st.extra[tmp] = self.st.types[t]
            self.k.copy(tmp, self.st.types[t], a)
            staged.append((t, tmp))
        for t, tmp in staged:
            ty = self.st.types[t]
            idx = self.out.loops(ty.shape)
            self.out.emit(f"{lvalue(self.st.name(t), ty, idx)} = {lvalue(tmp, ty, idx)};")
            self.out.end_loops(ty.shape)

    def if_(self, s: If, comment_all: bool) -> None:
        self.out.open(f"if ({self.el.at(s.cond, ()).text})")
        self.block(s.then, comment_all, {})
        self.copies([(p.target, p.then) for p in s.phis])
        start = len(self.out.lines)
        self.out.close("} else {")
        self.out.indent += 1
        self.block(s.orelse, comment_all, {})
        self.copies([(p.target, p.orelse) for p in s.phis])
        if len(self.out.lines) == start + 1:  # nothing in the else branch
            self.out.lines[-1] = "    " * (self.out.indent - 2) + "}"
            self.out.indent -= 1
            return
        self.out.close()

    def loop(self, s: Loop, comment_all: bool, state: dict) -> None:
        for line in self.quotes.comment(s.loc, comment_all, state):
            self.out.emit("//" + line[1:])
        self.copies([(c.var, c.init) for c in s.carries])
        if s.kind is LoopKind.WHILE:
            assert s.cond is not None
            if s.cond_block:
                self.out.open("while (1)")
                self.block(s.cond_block, comment_all, {})
                self.out.open(f"if (!{self.el.at(s.cond, ()).at(14)})")
                self.out.emit("break;")
                self.out.close()
            else:
                self.out.open(f"while ({self.el.at(s.cond, ()).text})")
        else:
            self.out.open(self._for(s))
        self.block(s.body, comment_all, {})
        self.copies([(c.var, c.next) for c in s.carries])
        if s.exit is not None:
            self.out.open(f"if ({self.el.at(s.exit, ()).text})")
            self.out.emit("break;")
            self.out.close()
        if s.kind is not LoopKind.WHILE:
            self.out.active.pop()
        self.out.close()

    def _for(self, s: Loop) -> str:
        i = (
            self.st.name(s.index)
            if s.index is not None and self.st.facts.count(s.index) > 0
            else None
        )
        i = i or self.out.index_name()
        self.out.active.append(i)
        header = [self.el.at(a, ()) for a in s.header]
        if len(header) == 1:
            header = [literal(0)] + header
        start, stop = header[0], header[1]
        step = 1
        if len(header) == 3:
            st = s.header[2]
            value = st.value if isinstance(st, Const) else self.st.static.get(st, NotImplemented)
            if isinstance(value, bool) or not isinstance(value, int) or value == 0:
                raise CBackendError("a range step that is not a constant", s.loc, HINT)
            step = value
        bounds = self.st.static_bounds(s)
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
            raise CBackendError(
                "a reversed range with a step, bounds known only at run time", s.loc, HINT
            )
        return f"for (long {i} = {stop.at(12)} - 1; {i} >= {start.text}; {i}--)"

    # ------------------------------------------------------------ declarations
    def declarations(self, body: str) -> list[str]:
        """One declaration per storage name the body uses, in order of first definition."""
        out: list[str] = []
        seen: set[str] = set(self.st.aliased) | {self.st.name(p) for p in self.prog.params}
        for v in self.st.facts.order:
            n = self.st.names.get(v)
            if (
                n is None
                or n in seen
                or v not in self.st.types
                or v in self.st.virtual
                or v in self.st.static
            ):
                continue
            d = self.st.defs.get(v)
            if isinstance(d, Loop) and d.index == v or v in self.here:
                continue  # declared by its for, or where it is made
            if not re.search(rf"\b{re.escape(n)}\b", body):
                continue
            seen.add(n)
            t = self.st.types[v]
            base = "double" if t.base == "double" else "long"
            if v in self.st.pointers:
                out.append(f"const double *{n};")
            elif t.scalar:
                out.append(f"{base} {n};")
            else:
                out.append(f"double {n}[{t.size}];")
        for c, n in self.st.constants.items():
            values = ", ".join(literal(float(x)).text for x in np.ravel(c.value))
            out.append(f"static const double {n}[{c.value.size}] = {{{values}}};")
        for n, t in self.st.extra.items():
            out.append(f"double {n};" if t.scalar else f"double {n}[{t.size}];")
        for tape in self.st.tapes.values():
            fields = " ".join(
                f"double {f};" if t.scalar else f"double {f}[{t.size}];" for f, t in tape.fields
            )
            out.append(f"struct {{ {fields} }} {tape.name}[{max(tape.capacity, 1)}];")
            out.append(f"int {tape.name}_len = 0;")
        return out
