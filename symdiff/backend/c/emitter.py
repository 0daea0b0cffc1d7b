"""Emit: a derivative program, specialised to exact argument types, as a C99 header and source.

Three functions per program: the function itself, ``<name>``, and as in the Python backend
``<name>_grad`` and ``<name>_value_and_grad``. Their calling convention, which the header repeats for its reader:

* every argument in the order of the Python function: a float as ``double``, an integer as
  ``long``, an array as ``const double *`` to its elements in row-major (C) order;
* then one output per ``wrt`` argument, ``double *d_<name>`` (one double for a scalar, the
  argument's size for an array), after ``double *value`` for ``value_and_grad``; outputs
  must not overlap the inputs;
* the result is 0, or ``SYMDIFF_TAPE_FULL`` when a ``while`` loop (or a loop whose bounds
  are known only at run time) ran more than ``max_steps`` iterations: the outputs are then
  not written.

Sizes are constants of the code: a function generated for a 3×4 ``W`` must be called with
one. Every intermediate value lives in a fixed-size local array; nothing is allocated. Only
``<math.h>`` is included.
"""

from __future__ import annotations

import dataclasses
import re
import textwrap
from dataclasses import dataclass
from typing import Any, Iterator

from ...abstract.infer import Analysis
from ...abstract.values import AbstractValue
from ...ad.program import GradProgram
from ...ir.nodes import Assign, Atom, Block, Const, If, Loop, Push, Var, iter_assigns, substitute
from ...naming import NameGen
from ...version import __version__
from ..emitter import local_names
from .analysis import c_program_types
from .catalogue import WRITTEN
from .lowering import lower_helpers
from .storage import RESERVED, TAPE_FULL
from .text import lvalue
from .values import CBackendError, CType, static_value
from .writer import FunctionWriter

DEFAULT_MAX_STEPS = 10_000
MAX_ROUNDS = 16


@dataclass(frozen=True)
class CParam:
    """One parameter of a generated C function: its name, C type and role."""

    name: str
    ctype: CType
    role: str  # "in", "out" (a gradient or the value)

    def declaration(self) -> str:
        if self.role == "out":
            return f"double *{self.name}"
        if self.ctype.scalar:
            return f"{'long' if self.ctype.base == 'long' else 'double'} {self.name}"
        return f"const double *{self.name}"


@dataclass(frozen=True)
class CFunction:
    name: str
    params: tuple[CParam, ...]
    text: str

    @property
    def prototype(self) -> str:
        return f"int {self.name}({', '.join(p.declaration() for p in self.params)})"


@dataclass(frozen=True)
class CEmitted:
    """The generated C: the header and source text and what the functions take."""

    name: str  # the base name: files <name>.h and <name>.c
    header: str
    source: str
    grad: CFunction
    value_and_grad: CFunction
    value: CFunction  # the function itself: int <name>(arguments, double *value)
    max_steps: int


def shown(t: CType) -> str:
    return "scalar" if t.scalar else "x".join(map(str, t.shape))


def emit_c(
    prog: GradProgram,
    args: tuple[AbstractValue, ...],
    origin: str,
    name: str | None = None,
    max_steps: int = DEFAULT_MAX_STEPS,
) -> CEmitted:
    """The C header and source of ``prog`` for arguments of the exact types ``args``."""
    base = name or prog.name
    if not base.isidentifier() or base in RESERVED:
        raise CBackendError(
            f"{base!r} cannot name C functions", prog.loc, "pass name= a C identifier"
        )
    prog, analysis = with_statics(prog, args)
    taken = local_names(prog) | set(RESERVED)
    gen = NameGen(set(taken))
    outputs: dict[Var, str] = {v: gen.adjoint(v.name) for v in prog.wrt}
    names = (f"{base}_grad", f"{base}_value_and_grad", base)
    reserved = RESERVED | set(names)  # no local may shadow a generated function
    functions = []
    for which, fname in zip(("grad", "value_and_grad"), names):
        w = FunctionWriter(prog, analysis, which, set(gen.taken), outputs, max_steps, reserved)
        functions.append(_function(w, prog, fname, which))
    grad, vg = functions
    value_prog = primal(prog)
    w = FunctionWriter(
        value_prog, analysis, "value_and_grad", set(gen.taken), {}, max_steps, reserved
    )
    value = _function(w, value_prog, base, "value_and_grad")
    guard = re.sub(r"\W", "_", base).upper() + "_H"
    wrt = ", ".join(v.name for v in prog.wrt)
    sizes = ", ".join(f"{p.name}: {shown(p.ctype)}" for p in grad.params if p.role == "in")
    title = (
        f"Gradient of `{prog.name}` with respect to {wrt}, written by symdiff {__version__} "
        f"from {origin} for arguments {sizes} (float64, row-major)."
    )
    first, *rest = textwrap.wrap(title, 86)
    doc = [
        f"/* {first}",
        *(f" * {line}" for line in rest),
        " *",
        " * Arguments come in the order of the Python function (arrays as pointers to their",
        " * elements), then the outputs: `value` for the function itself and _value_and_grad,",
        " * and d_<name> for each argument differentiated; outputs must not overlap the inputs.",
        f" * The result is 0, or {TAPE_FULL} when a loop ran more than {max_steps} steps",
        " * (outputs unwritten).",
        " */",
    ]
    header = "\n".join(
        [
            f"#ifndef {guard}",
            f"#define {guard}",
            "",
            *doc,
            "",
            f"#ifndef {TAPE_FULL}",
            f"#define {TAPE_FULL} 1",
            "#endif",
            "",
            f"{value.prototype};",
            f"{grad.prototype};",
            f"{vg.prototype};",
            "",
            f"#endif /* {guard} */",
            "",
        ]
    )
    source = "\n".join(
        [
            *doc,
            "#include <math.h>",
            "",
            f"#ifndef {TAPE_FULL}",
            f"#define {TAPE_FULL} 1",
            "#endif",
            "",
            value.text,
            "",
            grad.text,
            "",
            vg.text,
        ]
    )
    return CEmitted(base, header, source, grad, vg, value, max_steps)


def _drop_unread(lines: list[str], names: list[str]) -> None:
    """Remove the one-line definitions of variables nothing reads (a tape entry only a
    shape was read from, in Python): C would warn about them."""
    for n in names:
        pattern = re.compile(rf"\b{re.escape(n)}\b")
        uses = [k for k, line in enumerate(lines) if pattern.search(line.split("//")[0])]
        if len(uses) == 1 and re.match(rf"\s*(const )?\w+ \*?{re.escape(n)} = ", lines[uses[0]]):
            del lines[uses[0]]


def primal(prog: GradProgram) -> GradProgram:
    """The function itself: the forward sweep without its tapes, and no gradient."""
    return dataclasses.replace(
        prog,
        forward=_without_tapes(prog.forward),
        backward=(),
        wrt=(),
        grads=(),
        adjoint_of=(),
        restored=(),
    )


def _without_tapes(block: Block) -> Block:
    out: list[Any] = []
    for s in block:
        if isinstance(s, Push) or (isinstance(s, Assign) and s.prim.name == "new_tape"):
            continue
        if isinstance(s, If):
            s = dataclasses.replace(s, then=_without_tapes(s.then), orelse=_without_tapes(s.orelse))
        elif isinstance(s, Loop):
            s = dataclasses.replace(
                s, body=_without_tapes(s.body), cond_block=_without_tapes(s.cond_block)
            )
        out.append(s)
    return tuple(out)


def with_statics(
    prog: GradProgram, args: tuple[AbstractValue, ...]
) -> tuple[GradProgram, Analysis]:
    """``prog`` with every value known at generation time (a shape, a size, arithmetic on
    them) replaced by its constant, and the types of the result.

    The abstract types say that ``np.shape(x)`` is a tuple of two integers, not which; once
    it is a constant, what is built from it (``np.broadcast_to(1.0, (3, 4))``) has an exact
    shape too. Each round can only make more values known, so a few always suffice.
    """
    for _ in range(MAX_ROUNDS):
        analysis = c_program_types(prog, args)
        prog, lowered = lower_helpers(prog, analysis)
        if lowered:
            continue
        known = statics(prog, analysis)
        if not known:
            return prog, analysis
        mapping = {v: Const(value) for v, value in known.items()}
        prog = dataclasses.replace(
            prog,
            forward=substitute(prog.forward, mapping),
            backward=substitute(prog.backward, mapping),
            value=(
                mapping.get(prog.value, prog.value) if isinstance(prog.value, Var) else prog.value
            ),
            grads=tuple(mapping.get(g, g) if isinstance(g, Var) else g for g in prog.grads),
        )
    return prog, c_program_types(prog, args)


def statics(prog: GradProgram, analysis: Analysis) -> dict[Var, Any]:
    """The variables still read whose value is known now (see ``values.static_value``)."""
    reads = {a for s in iter_assigns(prog.forward + prog.backward) for a in s.args}
    reads |= {a for s in _every(prog.forward + prog.backward) for a in _atoms(s)}
    reads |= {prog.value, *prog.grads}
    out: dict[Var, Any] = {}
    for s in iter_assigns(prog.forward + prog.backward):
        if s.target not in reads:
            continue
        args = [a.value if isinstance(a, Const) else NotImplemented for a in s.args]
        shapes: list[tuple[int, ...] | None] = []
        for a in s.args:
            v = analysis.value(a)
            dims = [d for d in v.shape or () if isinstance(d, int)]
            exact = v.shape is not None and len(dims) == len(v.shape) and v.is_numeric
            shapes.append(tuple(dims) if exact else None)
        # an array only for what the C backend has no code for (np.arange, ...): a fill or
        # an elementwise result is cheaper written than read from a table
        value = static_value(s, args, shapes, arrays=s.prim.name not in WRITTEN)
        if value is not NotImplemented:
            out[s.target] = value
    return out


def _every(block: Block) -> Iterator[Any]:
    for s in block:
        yield s
        if isinstance(s, If):
            yield from _every(s.then)
            yield from _every(s.orelse)
        elif isinstance(s, Loop):
            yield from _every(s.cond_block)
            yield from _every(s.body)


def _atoms(s: Any) -> tuple[Atom, ...]:
    if isinstance(s, If):
        return (s.cond, *(a for p in s.phis for a in (p.then, p.orelse)))
    if isinstance(s, Loop):
        tails = tuple(a for a in (s.cond, s.exit) if a is not None)
        return (*s.header, *(a for c in s.carries for a in (c.init, c.next)), *tails)
    if isinstance(s, Push):
        return s.values
    return ()


def _function(w: FunctionWriter, prog: GradProgram, fname: str, which: str) -> CFunction:
    st, out = w.st, w.out
    params = [CParam(st.name(p), st.types[p], "in") for p in prog.params]
    if which == "value_and_grad":
        params.append(CParam(st.value_name, CType("double"), "out"))
    params += [CParam(st.outputs[v], st.types[v], "out") for v in prog.wrt]
    for title, block, comment_all in (
        ("// forward pass", st.plan.forward, False),
        ("// backward pass", st.plan.backward, True),
    ):
        if prog.wrt:  # the function itself (no wrt) is all forward pass: no titles
            out.emit(title)
        mark = len(out.lines)
        w.block(block, comment_all, {})
        if prog.wrt and len(out.lines) == mark:
            out.lines.pop()
    if which == "value_and_grad":
        out.emit(f"*{st.value_name} = {w.el.at(prog.value, ()).text};")
    for v, g in zip(prog.wrt, prog.grads):
        name = st.outputs[v]
        t = st.types[v]
        if name in st.aliased:
            continue
        idx = out.loops(t.shape)
        target = f"*{name}" if t.scalar else lvalue(name, t, idx)
        value = "0.0" if g is None else w.el.broadcast(g, idx).text
        out.emit(f"{target} = {value};")
        out.end_loops(t.shape)
    out.emit("return 0;")
    _drop_unread(out.lines, [st.name(v) for v in w.here])
    body = "\n".join(out.lines)
    code = "\n".join(line for line in out.lines if not line.lstrip().startswith("//"))
    decls = ["    " + d for d in w.declarations(code)]
    unused = [
        f"    (void){p.name};"
        for p in params
        if p.role == "in" and not re.search(rf"\b{re.escape(p.name)}\b", code)
    ]
    proto = CFunction(fname, tuple(params), "").prototype
    text = "\n".join([proto, "{", *unused, *decls, body, "}", ""])
    return CFunction(fname, tuple(params), text)
