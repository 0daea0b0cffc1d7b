"""The computational graph as symdiff sees it, and the backward flow beside it, as Graphviz DOT.

Nodes are IR operations, edges are the values between them, labelled with the user's names
(``z``, ``a``) or the adjoint names of generated code (``d_z``). The left cluster is the
function's IR (inputs at the top, the output at the bottom); the right cluster is the
backward sweep of the gradient program, from the seed ``d_<output> = 1`` down to one
gradient per ``wrt`` argument; the seed has an edge to every node where the backward
sweep starts (the first adjoints, computed from it). Dashed edges are forward values the
backward sweep reads: what reverse mode stores. Output is deterministic: nodes are numbered
in program order.

Shape bookkeeping (``np.shape``, ``np.size``, ``len``, ``np.broadcast_shapes``, what is
computed from shapes alone, and the argument ``unbroadcast`` reads only for its shape) is
hidden unless ``shapes=True``: in a broadcasting function it is most of the nodes, and none
of it carries a derivative.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any, Callable

from ..ad.program import GradProgram
from ..errors import SymdiffError
from ..ir import nodes as ir
from ..ir.nodes import Form, LoopKind
from ..naming import is_internal
from ..optimize.shapes import shape_position
from .cache import cached_transform
from .graph_values import ZEROS, adjoint_values, bookkeeping
from .wrt import Wrt

_FONT = 'fontname="Helvetica"'
_WRT_FILL = "#cfe3ff"
_GRAD_FILL = "#ffe0b3"
_OUT_FILL = "#d7f5d0"


# what to install for the `dot` program (pip's `graphviz` package is a wrapper without it)
INSTALL_HINT = (
    "install Graphviz, which provides `dot`: `apt install graphviz` (Debian, Ubuntu), "
    "`brew install graphviz` (macOS), `conda install graphviz` (conda), or "
    "https://graphviz.org/download/; pip's `graphviz` package does not include it"
)


class GraphvizNotFoundError(SymdiffError):
    """Rendering needs the Graphviz ``dot`` program, which is not installed."""


@dataclass(frozen=True, repr=False)
class Graph:
    """A function's graph: ``.dot`` is the text; notebooks show it as SVG when dot exists,
    else the DOT text under a note saying what to install."""

    name: str
    dot: str
    # the same graph without the row holding the inputs and the seed (see ``arranged``)
    unaligned: str = field(default="", compare=False)

    def arranged(self) -> str:
        """The DOT text that Graphviz lays out with the forward cluster on the left.

        ``dot`` has no way to order clusters; ``.dot`` keeps the inputs and the seed on one
        row, the seed to their right, which holds in most graphs, but in some small ones
        crossing minimisation mirrors that row, and the graph without it comes out the
        right way round (over the examples, never both). Which one works is asked of
        ``dot`` itself: this is the text the pictures are rendered from."""
        if not self.unaligned or not have_dot():
            return self.dot
        for text in (self.dot, self.unaligned):
            if forward_is_left(text):
                return text
        return self.dot

    def render(self, fmt: str) -> bytes:
        """The picture in ``fmt`` (``svg``, ``png``, ``pdf``), forward on the left."""
        return render(self.arranged(), fmt)

    def svg(self) -> str:
        return self.render("svg").decode("utf-8")

    def _repr_svg_(self) -> str | None:
        return self.svg() if have_dot() else None

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """The picture when ``dot`` exists (rendered once), else the text and what to
        install: a notebook never shows raw DOT without saying why."""
        if have_dot():
            return {"image/svg+xml": self.svg()}
        note = f"Graphviz's `dot` program is not on PATH, so this is the graph's DOT text; {INSTALL_HINT}."
        return {
            "text/html": f"<p>{html.escape(note)}</p><pre>{html.escape(self.dot)}</pre>",
            "text/plain": f"{self!r}\n{note}",
        }

    def __repr__(self) -> str:
        count = len(re.findall(r"^\s+\w+ \[label=", self.dot, re.M))
        return f"<symdiff Graph of {self.name}: {count} nodes; .dot, .svg(), .save(path)>"

    def save(self, path: str) -> None:
        """``.dot``/``.gv`` writes the text; ``.svg``, ``.png``, ``.pdf`` render it."""
        ext = os.path.splitext(path)[1].lower().lstrip(".")
        if ext in ("dot", "gv"):
            with open(path, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(self.dot)
        else:
            with open(path, "wb") as fh:
                fh.write(self.render(ext))

    def __str__(self) -> str:
        return self.dot


def have_dot() -> bool:
    return shutil.which("dot") is not None


def forward_is_left(dot: str) -> bool:
    """Whether Graphviz draws every node of the forward cluster left of every node of the
    backward one (node ids say the cluster: ``in``, ``f``, ``out`` forward; ``seed``, ``b``,
    ``grad`` backward; constants go with their reader)."""
    exe = shutil.which("dot")
    if exe is None:
        return False
    done = subprocess.run([exe, "-Tplain"], input=dot.encode(), capture_output=True, timeout=60)
    xs: dict[str, list[float]] = {"f": [], "b": []}
    for line in done.stdout.decode(errors="replace").splitlines():
        parts = line.split()
        if len(parts) < 3 or parts[0] != "node":
            continue
        side = "f" if re.fullmatch(r"in\d+|f\d+|out", parts[1]) else ""
        side = "b" if re.fullmatch(r"seed|b\d+|grad\d+", parts[1]) else side
        try:
            if side:
                xs[side].append(float(parts[2]))
        except ValueError:
            return False
    return bool(xs["f"] and xs["b"]) and max(xs["f"]) < min(xs["b"])


def render(dot: str, fmt: str) -> bytes:
    """Run Graphviz ``dot -T<fmt>``; ``GraphvizNotFoundError`` when it is missing."""
    if fmt not in ("svg", "png", "pdf"):
        raise SymdiffError(f"cannot render a graph as .{fmt}", hint="use .dot, .svg, .png or .pdf")
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizNotFoundError(
            f"rendering .{fmt} needs the Graphviz `dot` program, which is not on PATH",
            hint=f"{INSTALL_HINT}; or write the DOT text, which needs nothing: -o FILE.dot "
            "on the command line, Graph.save('FILE.dot') in Python",
        )
    done = subprocess.run([exe, f"-T{fmt}"], input=dot.encode(), capture_output=True, timeout=60)
    if done.returncode != 0:
        raise SymdiffError(f"dot failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def graph(
    f: Callable[..., Any], *, wrt: Wrt = 0, simplify: bool = False, shapes: bool = False
) -> Graph:
    """The graph of ``f`` and of its gradient with respect to ``wrt``, for notebooks.
    ``shapes=True`` also draws the shape bookkeeping, hidden by default."""
    return graph_of(f, wrt, simplify, shapes)


def graph_of(f: Callable[..., Any], wrt: Wrt, simplify: bool, shapes: bool = False) -> Graph:
    t = cached_transform(f, wrt, simplify)
    drawing = _Drawing(t.program, shapes)
    drawing.draw()
    return Graph(t.program.name, drawing.text(), drawing.text(row=False))


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

    def __init__(self, prog: GradProgram, shapes: bool = False):
        self.prog = prog
        self.shapes = shapes
        self.d = _Dot()
        self.made: dict[ir.Var, str] = {}  # value → the node that produces it
        self.forward: set[str] = set()  # nodes of the forward cluster
        self.prefix = "f"
        self.hidden = set() if shapes else bookkeeping(prog)
        # adjoints, and in the backward sweep every value computed from one: what the seed
        # reaches. A node that makes one from none of them is where the sweep starts.
        self.adjoints = adjoint_values(prog)
        self.seeded: set[ir.Var] = set()
        self.skipped = 0  # shape bookkeeping nodes not drawn
        self.row = 0  # the line aligning the inputs and the seed
        self.reads: dict[str, list[ir.Var]] = {}  # node → the values drawn into it
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
        """An edge carrying ``a`` to node ``into`` (none for hidden shape bookkeeping)."""
        if isinstance(a, ir.Const):
            self.d.edge(self.d.const(a), into, label or "", style)
            return
        if a in self.hidden:
            return
        self.reads.setdefault(into, []).append(a)
        src = self.made[a]
        if not style and self.prefix == "b" and src in self.forward:
            self.d.edge(src, into, "", "stored")
        else:
            self.d.edge(src, into, self.value_name(a) if label is None else label, style)

    def seed(self, nid: str, made: list[ir.Var], reads: list[ir.Atom], start: bool = True) -> None:
        """Track what the seed reaches; an edge from it where a backward node makes an
        adjoint from no value the seed reached (``start=False``: zeros, popped values)."""
        if self.prefix != "b":
            return
        fed = any(a in self.seeded for a in reads if isinstance(a, ir.Var))
        if fed or any(v in self.adjoints for v in made):
            self.seeded.update(made)
            if not fed and start:
                for root in self.seed_roots(nid) or [nid]:
                    self.d.edge("seed", root)

    def seed_roots(self, nid: str) -> list[str]:
        """Where the seed itself enters upstream of ``nid``, the first adjoint: the backward
        nodes it is computed from that read no forward value, only constants and shapes
        (``np.broadcast_to(2.0, shape)``: the seed, scaled, as an array). A partial such
        as ``np.sign(x)`` reads a forward value and is not one."""
        roots: list[str] = []
        seen = {nid}
        todo = [nid]
        while todo:
            node = todo.pop()
            upstream = []
            for a in self.reads.get(node, []):
                src = self.made.get(a)
                if src is not None and src not in self.forward and a not in self.seeded:
                    upstream.append(src)
            if node != nid and not upstream:
                if all(self.made.get(a) not in self.forward for a in self.reads.get(node, [])):
                    roots.append(node)
            for src in upstream:
                if src not in seen:
                    seen.add(src)
                    todo.append(src)
        return sorted(roots, key=lambda n: int(n[1:]))

    def block(self, block: ir.Block) -> None:
        for stmt in block:
            if isinstance(stmt, ir.Assign):
                if stmt.target in self.hidden:
                    self.skipped += 1
                    continue
                nid = self.new_node(label=_label(stmt))
                skip = None if self.shapes else shape_position(stmt)
                for k, a in enumerate(stmt.args):
                    if k != skip:  # unbroadcast(g, x) reads x for its shape only
                        self.read(a, nid)
                self.made[stmt.target] = nid
                self.seed(nid, [stmt.target], list(stmt.args), stmt.prim not in ZEROS)
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
                self.seed(nid, list(stmt.targets), [stmt.tape], start=False)
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
                self.seed(nid, list(ir.defined_by(stmt)), list(ir.used_by(stmt)))

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
            reads = [a for p in s.phis for a in (p.then, p.orelse)]
            self.seed(merge, [p.target for p in s.phis], reads)
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
        made = [v for c in s.carries for v in (c.var, c.out)]
        self.seed(head, made, [c.init for c in s.carries])  # an accumulator starts at zero
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

    def draw(self) -> None:
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
                if not (isinstance(g, ir.Var) and g in self.seeded):
                    d.edge("seed", nid)  # d_x = y for x * y: the seed times a forward value
        d.depth = 1
        d.raw("}")
        # the inputs on the top row, the seed beside them on their right: a flat edge keeps
        # its tail left of its head, so the forward cluster is drawn left of the backward one
        inputs = "; ".join(self.made[p] for p in prog.params)
        last = self.made[prog.params[-1]]
        self.row = len(d.lines)
        d.raw(f"{{ rank=same; {inputs}; {last} -> seed [style=invis]; }}")
        if self.skipped:
            note = (
                f"shape bookkeeping hidden ({self.skipped} node{'s' * (self.skipped > 1)}): "
                "symdiff.graph(f, ..., shapes=True) draws it"
            )
            d.raw(f'label={_q(note)}; labelloc="b"; fontsize="10";')

    def text(self, row: bool = True) -> str:
        """The DOT text (after ``draw``); ``row=False`` leaves out the row aligning the
        inputs with the seed (see ``Graph.arranged``)."""
        lines = self.d.lines if row else self.d.lines[: self.row] + self.d.lines[self.row + 1 :]
        head = [
            f"digraph {_q(self.prog.name)} {{",
            f'  graph [{_FONT}, fontsize="12", labeljust="l", nodesep="0.3", newrank="true"];',
            f'  node [{_FONT}, fontsize="11"];',
            f'  edge [{_FONT}, fontsize="9"];',
        ]
        edges = []
        for a, b, label, style in self.d.edges:
            kw = {"label": label} if label else {}
            kw.update(_STYLE.get(style, {}))
            edges.append(f"  {a} -> {b}" + (f" {_attrs(**kw)}" if kw else "") + ";")
        return "\n".join(head + lines + edges + ["}"]) + "\n"


def to_dot(prog: GradProgram, shapes: bool = False) -> str:
    """DOT text for the forward and backward sweeps of a gradient program; ``shapes`` also
    draws the shape bookkeeping."""
    drawing = _Drawing(prog, shapes)
    drawing.draw()
    return drawing.text()
