"""The computational graph as symdiff sees it, and the backward flow beside it, as Graphviz DOT.

Nodes are IR operations, edges are the values between them, labelled with the user's names
(``z``, ``a``) or the adjoint names of generated code (``d_z``). The left cluster is the
function's IR (inputs at the top, the output at the bottom); the right cluster is the
backward sweep of the gradient program, from the seed ``d_<output> = 1`` down to one
gradient per ``wrt`` argument. Dashed edges are forward values the backward sweep reads:
what reverse mode stores. Output is deterministic: nodes are numbered in program order.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any, Callable

from ..ad.program import GradProgram
from ..errors import SymdiffError
from ..ir import nodes as ir
from ..ir.nodes import Form, LoopKind
from ..naming import is_internal
from .cache import cached_transform
from .wrt import Wrt

_FONT = 'fontname="Helvetica"'
_WRT_FILL = "#cfe3ff"
_GRAD_FILL = "#ffe0b3"
_OUT_FILL = "#d7f5d0"


class GraphvizNotFoundError(SymdiffError):
    """Rendering needs the Graphviz ``dot`` program, which is not installed."""


@dataclass(frozen=True)
class Graph:
    """A function's graph: ``.dot`` is the text; notebooks show it as SVG when dot exists."""

    name: str
    dot: str

    def svg(self) -> str:
        return render(self.dot, "svg").decode("utf-8")

    def _repr_svg_(self) -> str | None:
        return self.svg() if have_dot() else None

    def save(self, path: str) -> None:
        """``.dot``/``.gv`` writes the text; ``.svg``, ``.png``, ``.pdf`` render it."""
        ext = os.path.splitext(path)[1].lower().lstrip(".")
        if ext in ("dot", "gv"):
            with open(path, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(self.dot)
        else:
            with open(path, "wb") as fh:
                fh.write(render(self.dot, ext))

    def __str__(self) -> str:
        return self.dot


def have_dot() -> bool:
    return shutil.which("dot") is not None


def render(dot: str, fmt: str) -> bytes:
    """Run Graphviz ``dot -T<fmt>``; ``GraphvizNotFoundError`` when it is missing."""
    if fmt not in ("svg", "png", "pdf"):
        raise SymdiffError(f"cannot render a graph as .{fmt}", hint="use .dot, .svg, .png or .pdf")
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizNotFoundError(
            f"rendering .{fmt} needs the Graphviz `dot` program, which is not on PATH",
            hint="install Graphviz (e.g. `apt install graphviz`, `brew install graphviz`), "
            "or write the DOT text with -o FILE.dot",
        )
    done = subprocess.run([exe, f"-T{fmt}"], input=dot.encode(), capture_output=True, timeout=60)
    if done.returncode != 0:
        raise SymdiffError(f"dot failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def graph(f: Callable[..., Any], *, wrt: Wrt = 0, simplify: bool = False) -> Graph:
    """The graph of ``f`` and of its gradient with respect to ``wrt``, for notebooks."""
    return graph_of(f, wrt, simplify)


def graph_of(f: Callable[..., Any], wrt: Wrt, simplify: bool) -> Graph:
    t = cached_transform(f, wrt, simplify)
    return Graph(t.program.name, to_dot(t.program))


# ----------------------------------------------------------------------------- DOT text


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _attrs(**kw: str) -> str:
    return "[" + ", ".join(f"{k}={_q(v)}" for k, v in kw.items()) + "]"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 16 else text[:13] + "..."


class _Dot:
    """Accumulates node lines and de-duplicated edges, numbering nodes in program order."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.edges: dict[tuple[str, str, str, str], None] = {}
        self.count: dict[str, int] = {}
        self.depth = 2

    def fresh(self, prefix: str) -> str:
        self.count[prefix] = self.count.get(prefix, 0) + 1
        return f"{prefix}{self.count[prefix]}"

    def raw(self, text: str) -> None:
        self.lines.append("  " * self.depth + text)

    def node(self, nid: str, **kw: str) -> None:
        self.raw(f"{nid} {_attrs(**kw)};")

    def edge(self, a: str, b: str, label: str = "", style: str = "") -> None:
        self.edges.setdefault((a, b, label, style), None)

    def const(self, c: ir.Const) -> str:
        nid = self.fresh("k")
        self.node(nid, label=c.name or _short(c.value), shape="plaintext", fontsize="9")
        return nid

    def open(self, prefix: str, label: str) -> None:
        self.raw(f"subgraph {self.fresh('cluster_' + prefix)} {{")
        self.depth += 1
        self.raw(f'label={_q(label)}; color="#bbbbbb"; style="rounded";')

    def close(self) -> None:
        self.depth -= 1
        self.raw("}")


def _label(stmt: ir.Assign) -> str:
    prim = stmt.prim
    text = {Form.GETITEM: "[ ]", Form.ATTR: f".{prim.spelling}", Form.TUPLE: "tuple"}.get(
        prim.form, prim.name if prim.form is Form.NEWLIST else prim.spelling
    )
    extra = [f"{k}={v!r}" for k, v in stmt.params if k != "index"]
    return "\n".join([text, *extra])


# edge kinds: "" a value, "stored" a forward value read by the backward sweep, "seed" the
# output seeding the backward sweep, "carry" a value carried to the next iteration (or the
# tape), "choice" the test of a branch to the merge of its results
_STYLE = {
    "stored": {"style": "dashed", "color": "#999999", "constraint": "false"},
    "seed": {"style": "dotted", "constraint": "false"},
    "carry": {"style": "bold", "color": "#555555", "constraint": "false"},
    "choice": {"style": "dotted"},
}


class _Drawing:
    """Both clusters of one gradient program; loops and branches are nested clusters."""

    def __init__(self, prog: GradProgram):
        self.prog = prog
        self.d = _Dot()
        self.made: dict[ir.Var, str] = {}  # value → the node that produces it
        self.forward: set[str] = set()  # nodes of the forward cluster
        self.prefix = "f"
        self.names = {  # adjoints and restored values are labelled as generated code names them
            adj: f"d_{primal.name}"
            for adj, primal in prog.adjoint_of
            if not is_internal(primal.name)
        }
        for popped, fwd in prog.restored:
            if not is_internal(fwd.name):
                self.names[popped] = fwd.name

    def value_name(self, a: ir.Atom) -> str:
        if not isinstance(a, ir.Var):
            return ""
        return self.names.get(a) or ("" if is_internal(a.name) else a.name)

    def new_node(self, **kw: str) -> str:
        nid = self.d.fresh(self.prefix)
        self.d.node(nid, **kw)
        if self.prefix == "f":
            self.forward.add(nid)
        return nid

    def read(self, a: ir.Atom, into: str, label: str | None = None, style: str = "") -> None:
        """An edge carrying ``a`` to node ``into``."""
        if isinstance(a, ir.Const):
            self.d.edge(self.d.const(a), into, label or "", style)
            return
        src = self.made[a]
        if not style and self.prefix == "b" and src in self.forward:
            self.d.edge(src, into, "", "stored")
        else:
            self.d.edge(src, into, self.value_name(a) if label is None else label, style)

    def block(self, block: ir.Block) -> None:
        for stmt in block:
            if isinstance(stmt, ir.Assign):
                nid = self.new_node(label=_label(stmt))
                for a in stmt.args:
                    self.read(a, nid)
                self.made[stmt.target] = nid
            elif isinstance(stmt, ir.Push):
                nid = self.new_node(label="push", shape="box")
                for a in stmt.values:
                    self.read(a, nid)
                self.d.edge(nid, self.made[stmt.tape], "tape", "carry")
            elif isinstance(stmt, ir.Pop):
                nid = self.new_node(label="pop", shape="box")
                self.read(stmt.tape, nid, "tape")
                for v in stmt.targets:
                    self.made[v] = nid
            elif isinstance(stmt, ir.If):
                self.branch(stmt)
            elif isinstance(stmt, ir.Loop):
                self.loop(stmt)
            else:  # a statement kind this drawing does not know: one box, its reads and writes
                nid = self.new_node(label=type(stmt).__name__.lower(), shape="box")
                for a in ir.used_by(stmt):
                    self.read(a, nid)
                for v in ir.defined_by(stmt):
                    self.made[v] = nid

    def branch(self, s: ir.If) -> None:
        test = self.new_node(label="if", shape="diamond")
        self.read(s.cond, test)
        for name, body in (("then", s.then), ("else", s.orelse)):
            self.d.open(self.prefix, name)
            if not body:
                self.d.node(self.d.fresh("empty"), label="(nothing)", shape="plaintext")
            self.block(body)
            self.d.close()
        if s.phis:
            merge = self.new_node(label="merge", shape="invtriangle")
            for p in s.phis:
                self.read(p.then, merge)
                self.read(p.orelse, merge)
                self.made[p.target] = merge
            self.d.edge(test, merge, "", "choice")

    def loop(self, s: ir.Loop) -> None:
        if s.kind is LoopKind.WHILE:
            title = "while loop"
        else:
            index = s.index.name if s.index is not None and not is_internal(s.index.name) else "_"
            title = (
                f"for {index} in {'reversed(range)' if s.kind is LoopKind.REVERSED else 'range'}"
            )
        self.d.open(self.prefix, title)
        carried = ", ".join(filter(None, (self.value_name(c.var) for c in s.carries)))
        head = self.new_node(label="loop" + (f"\ncarries {carried}" if carried else ""),
                             shape="box", style="rounded")  # fmt: skip
        for a in s.header:
            self.read(a, head)
        for c in s.carries:
            self.read(c.init, head)
            self.made[c.var] = head
        if s.index is not None:
            self.made[s.index] = head
        self.block(s.cond_block)
        if s.cond is not None:
            self.read(s.cond, head, "cond", "carry")
        self.block(s.body)
        for c in s.carries:
            self.read(c.next, head, self.value_name(c.var) or "next", "carry")
        if s.exit is not None:
            self.read(s.exit, head, "break", "carry")
        self.d.close()
        for c in s.carries:
            self.made[c.out] = head

    def draw(self) -> str:
        prog, d = self.prog, self.d
        wrt = set(prog.wrt)
        params = ", ".join(p.name for p in prog.params)
        d.depth = 1
        d.raw("subgraph cluster_forward {")
        d.depth = 2
        d.raw(f'label={_q(f"forward: {prog.name}({params})")}; color="#888888";')
        for p in prog.params:
            nid = d.fresh("in")
            if p in wrt:
                d.node(nid, label=f"{p.name}\n(wrt)", style="filled", fillcolor=_WRT_FILL)
            else:
                d.node(nid, label=p.name)
            self.made[p] = nid
            self.forward.add(nid)
        self.block(prog.forward)
        d.node("out", label=f"{prog.name}\n(output)", shape="doublecircle", style="filled",
               fillcolor=_OUT_FILL)  # fmt: skip
        self.read(prog.value, "out")
        d.depth = 1
        d.raw("}")

        self.prefix = "b"
        wrt_names = ", ".join(p.name for p in prog.wrt)
        d.raw("subgraph cluster_backward {")
        d.depth = 2
        d.raw(f'label={_q(f"backward: gradient with respect to {wrt_names}")}; color="#888888";')
        d.node("seed", label=f"d_{prog.name} = 1\n(seed)", shape="box", style="rounded")
        d.edge("out", "seed", "", "seed")
        self.block(prog.backward)
        for p, g in zip(prog.wrt, prog.grads):
            nid = d.fresh("grad")
            label = f"d_{p.name}" + (" = 0" if g is None else "")
            d.node(nid, label=label, shape="box", style="filled", fillcolor=_GRAD_FILL)
            if g is not None:
                self.read(g, nid, "")
        d.depth = 1
        d.raw("}")
        return self.text()

    def text(self) -> str:
        head = [
            f"digraph {_q(self.prog.name)} {{",
            f'  graph [{_FONT}, fontsize="12", labeljust="l", nodesep="0.3"];',
            f'  node [{_FONT}, fontsize="11"];',
            f'  edge [{_FONT}, fontsize="9"];',
        ]
        edges = []
        for a, b, label, style in self.d.edges:
            kw = {"label": label} if label else {}
            kw.update(_STYLE.get(style, {}))
            edges.append(f"  {a} -> {b}" + (f" {_attrs(**kw)}" if kw else "") + ";")
        return "\n".join(head + self.d.lines + edges + ["}"]) + "\n"


def to_dot(prog: GradProgram) -> str:
    """DOT text for the forward and backward sweeps of a gradient program."""
    return _Drawing(prog).draw()
