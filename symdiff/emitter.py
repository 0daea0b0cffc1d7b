"""Emit: the gradient IR as Python source, through fresh ``ast`` nodes and ``ast.unparse``.

Primal values keep the user's names and adjoints are named ``d_<name>`` (see ``naming``).
Single-use temporaries are folded back into the expression that reads them, so the output
is neither one operation per line nor one giant expression. Every module-level name the
code reads (``np``, ``math``, helpers, the user's constants) is chosen by the same name
generator and bound explicitly, so no user variable can shadow it. Backward statements are
grouped under a comment quoting the source line they differentiate.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import textwrap
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import __version__, naming, runtime
from .analysis import prune, use_counts
from .errors import Loc
from .ir import Assign, Atom, Block, Const, Var
from .naming import NameGen, is_internal
from .reverse import GradProgram

_INFIX = {
    "+": ast.Add, "-": ast.Sub, "*": ast.Mult, "/": ast.Div, "**": ast.Pow, "@": ast.MatMult,
    "//": ast.FloorDiv, "%": ast.Mod, "&": ast.BitAnd, "|": ast.BitOr,
}  # fmt: skip
_COMPARE = {
    "<": ast.Lt,
    "<=": ast.LtE,
    ">": ast.Gt,
    ">=": ast.GtE,
    "==": ast.Eq,
    "!=": ast.NotEq,
}
_PREFIX = {"-": ast.USub, "+": ast.UAdd, "not ": ast.Not, "~": ast.Invert}
_COMMENT_WIDTH = 80
_DOC_WIDTH = 84


@dataclass
class Emitted:
    """Source text of the generated functions and the objects their module-level names denote."""

    grad_name: str
    vg_name: str
    grad_source: str
    vg_source: str
    bindings: dict[str, Any] = field(default_factory=dict)
    helpers: list[str] = field(default_factory=list)  # names of runtime helpers used


class Globals:
    """Module-level names of generated code: chosen once, free of every local name."""

    def __init__(self, taken: set[str]):
        self.gen = NameGen(taken)
        self.aliases: dict[str, str] = {}
        self.bindings: dict[str, Any] = {}
        self.helpers: list[str] = []

    def name(self, wanted: str, obj: Any) -> str:
        if wanted not in self.aliases:
            alias = self.gen.fresh(wanted)
            self.aliases[wanted] = alias
            self.bindings[alias] = obj
        return self.aliases[wanted]

    def dotted(self, spelling: str) -> ast.expr:
        """``np.exp`` as an expression, with ``np`` bound to NumPy under a free name."""
        head, *rest = spelling.split(".")
        if head in naming.MODULES:
            obj = importlib.import_module(naming.MODULES[head])
        elif hasattr(runtime, head):
            obj = getattr(runtime, head)
            if head not in self.helpers:
                self.helpers.append(head)
        elif hasattr(builtins, head) and not rest:
            obj = getattr(builtins, head)
        else:  # a primitive declared by the user: bound to its implementation
            obj = _custom_impl(spelling)
            rest = []
            head = spelling.replace(".", "_")
        node: ast.expr = ast.Name(self.name(head, obj))
        for part in rest:
            node = ast.Attribute(node, part)
        return node

    def const(self, c: Const) -> ast.expr:
        v = c.value
        if c.name is not None:
            if c.name.split(".")[0] in naming.MODULES:
                return self.dotted(c.name)
            return ast.Name(self.name(c.name.replace(".", "_"), v))
        if isinstance(v, float) and not np.isfinite(v):
            if v != v:
                return self.dotted("math.nan")
            inf = self.dotted("math.inf")
            return inf if v > 0 else ast.UnaryOp(ast.USub(), inf)
        if isinstance(v, (bool, int, float, str, type(None))) or v is Ellipsis:
            return ast.Constant(v)
        if isinstance(v, tuple):
            return ast.Tuple([self.const(Const(i)) for i in v])
        if isinstance(v, np.generic) and v.ndim == 0 and v.dtype.kind in "fiub":
            return ast.Call(self.dotted(f"np.{v.dtype.name}"), [ast.Constant(v.item())], [])
        return ast.Name(self.name("c", v))


class Variant:
    """One generated function (``_grad`` or ``_value_and_grad``): its blocks and local names."""

    def __init__(self, prog: GradProgram, g: Globals, which: str):
        self.prog = prog
        self.g = g
        self.which = which
        grads = tuple(a for a in prog.grads if a is not None)
        self.needs_value = which != "grad" or not prog.scalar_value
        live = {
            a for a in grads + ((prog.value,) if self.needs_value else ()) if isinstance(a, Var)
        }
        self.backward = prune(prog.backward, live)
        self.forward = prune(prog.forward, live)
        self.counts = use_counts([self.forward, self.backward], grads + (prog.value,))
        self.adjoint_of = dict(prog.adjoint_of)
        self.folded: dict[Var, ast.expr] = {}
        self.fold: set[Var] = set()
        self.names: dict[Var, str] = {p: p.name for p in prog.params}
        self._choose_names()

    def _choose_names(self) -> None:
        """Temporaries used once are folded; the rest get ``tN``; adjoints get ``d_<name>``."""
        stmts = self.forward + self.backward
        for s in stmts:
            v = s.target
            if not is_internal(v.name):
                self.names[v] = v.name
        for s in stmts:
            v = s.target
            if v in self.names:
                continue
            primal = self.adjoint_of.get(v)
            if primal is not None and not (is_internal(primal.name) and primal not in self.names):
                self.names[v] = self.g.gen.adjoint(self.names.get(primal) or primal.name)
            elif self.counts[v] == 1:
                self.fold.add(v)
            else:
                self.names[v] = self.g.gen.temp()

    def atom(self, a: Atom) -> ast.expr:
        if isinstance(a, Var):
            if a in self.folded:
                return self.folded.pop(a)
            return ast.Name(self.names[a])
        return self.g.const(a)

    def index(self, layout: tuple, args: list[ast.expr]) -> ast.expr:
        items: list[ast.expr] = []
        explicit = False
        for item in layout:
            tag = item[0]
            if tag == "tuple":
                explicit = True
            elif tag == "at":
                items.append(args[item[1]])
            elif tag == "slice":
                lo, hi, st = (None if k is None else args[k] for k in item[1:])
                items.append(ast.Slice(lo, hi, st))
            elif tag == "newaxis":
                items.append(ast.Constant(None))
            else:
                items.append(ast.Constant(Ellipsis))
        return ast.Tuple(items) if explicit or len(items) != 1 else items[0]

    def expr(self, s: Assign) -> ast.expr:
        prim = s.prim
        args = [self.atom(a) for a in s.args]
        params = dict(s.params)
        if prim.form == "infix":
            if prim.spelling in _COMPARE:
                return ast.Compare(args[0], [_COMPARE[prim.spelling]()], [args[1]])
            return ast.BinOp(args[0], _INFIX[prim.spelling](), args[1])
        if prim.form == "prefix":
            return ast.UnaryOp(_PREFIX[prim.spelling](), args[0])
        if prim.form == "getitem":
            return ast.Subscript(args[0], self.index(params["index"], args[1:]))
        if prim.form == "attr":
            return ast.Attribute(args[0], prim.spelling)
        if prim.form == "tuple":
            return ast.Tuple(args)
        keywords = []
        for k, v in sorted(params.items()):
            if k == "index":  # index_grad(g, x, np.s_[...])
                args = args[:2] + [ast.Subscript(self.g.dotted("np.s_"), self.index(v, args[2:]))]
            else:
                keywords.append(ast.keyword(k, self.g.const(Const(v))))
        func = self.g.dotted(prim.spelling)
        if prim.form == "listcall":
            return ast.Call(func, [ast.List(args)], keywords)
        return ast.Call(func, args, keywords)

    def lines(self, block: Block, comment_all: bool) -> list[str]:
        out: list[str] = []
        last: tuple | None = None
        for s in block:
            expr = self.expr(s)
            if s.target in self.fold:
                self.folded[s.target] = expr
                continue
            loc = s.loc
            key = (loc.file, loc.line, loc.func) if loc is not None else None
            if loc is not None and key != last and (comment_all or loc.func != self.prog.name):
                out.append(self.comment(loc))
            last = key
            out.append(f"{self.names[s.target]} = {ast.unparse(expr)}")
        return out

    def comment(self, loc: Loc) -> str:
        where = f"line {loc.line}" if loc.func == self.prog.name else f"{loc.func}, line {loc.line}"
        text = f"# {where}: {loc.text.strip()}"
        return text if len(text) <= _COMMENT_WIDTH else text[: _COMMENT_WIDTH - 3] + "..."

    def source(self, name: str, origin: str) -> str:
        prog = self.prog
        body: list[str] = []
        fwd = self.lines(self.forward, comment_all=False)
        if fwd:
            body += ["# forward pass", *fwd]
        value = ast.unparse(self.atom(prog.value)) if self.needs_value else ""
        if not prog.scalar_value:
            body.append(f"{ast.unparse(self.g.dotted('ensure_scalar'))}({value}, {prog.name!r})")
        bwd = self.lines(self.backward, comment_all=True)
        if bwd:
            body += ["# backward pass", *bwd]
        grads = []
        for p, a in zip(prog.wrt, prog.grads):
            if a is None:
                grads.append(f"{ast.unparse(self.g.dotted('np.zeros_like'))}({p.name})")
            else:
                grads.append(ast.unparse(self.atom(a)))
        grad_expr = ", ".join(grads)
        if self.which == "grad":
            body.append(f"return {grad_expr}")
            title = "Gradient"
        else:
            body.append(
                f"return {value}, ({grad_expr}{',' if len(grads) == 1 else ''})"
                if len(grads) > 1
                else f"return {value}, {grad_expr}"
            )
            title = "Value and gradient"
        wrt = ", ".join(v.name for v in prog.wrt)
        para = textwrap.fill(
            f"Generated by symdiff {__version__} from {origin}. "
            f"d_v holds the derivative of the result with respect to v.",
            _DOC_WIDTH,
        )
        doc = f'"""{title} of `{prog.name}` with respect to {wrt}.\n\n{para}\n"""'
        defaults = dict(prog.defaults)
        params = ", ".join(
            (f"{n}={ast.unparse(self.g.const(Const(defaults[n])))}" if n in defaults else n)
            for n in (prog.signature or [v.name for v in prog.params])
        )
        inner = "\n".join([doc, *body])
        return f"def {name}({params}):\n" + textwrap.indent(inner, "    ") + "\n"


def _custom_impl(spelling: str) -> Any:
    from . import prims

    prim = prims.ALL.get(spelling)
    if prim is None:
        raise KeyError(f"no primitive spelled {spelling!r}")
    return prim.impl


def local_names(prog: GradProgram) -> set[str]:
    names = {p.name for p in prog.params} | {prog.name}
    for s in prog.forward + prog.backward:
        if not is_internal(s.target.name):
            names.add(s.target.name)
    return names


def emit(prog: GradProgram, origin: str, g: Globals | None = None) -> Emitted:
    """Both generated functions of ``prog``; ``g`` shares module-level names across several."""
    g = g or Globals(set())
    g.gen.taken |= local_names(prog)
    grad_name = g.gen.fresh(naming.GRAD_FN.format(prog.name))
    vg_name = g.gen.fresh(naming.VALUE_AND_GRAD_FN.format(prog.name))
    grad_src = Variant(prog, g, "grad").source(grad_name, origin)
    vg_src = Variant(prog, g, "value_and_grad").source(vg_name, origin)
    return Emitted(grad_name, vg_name, grad_src, vg_src, dict(g.bindings), list(g.helpers))
