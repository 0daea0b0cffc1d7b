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

from .. import __version__, naming, runtime
from ..ad.analysis import prune
from ..ad.reverse import GradProgram
from ..errors import Loc
from ..ir import primitives as P
from ..ir.nodes import (
    Assign,
    Atom,
    Block,
    Const,
    Effect,
    Form,
    If,
    Loop,
    LoopKind,
    Pop,
    Push,
    Var,
    defined_by,
    used_by,
)
from ..naming import NameGen, is_internal
from ..optimize import shapes

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
# per kind of program (GradProgram.kind): the two functions' names and titles, and what d_v is
_KINDS = {
    "grad": (naming.GRAD_FN, naming.VALUE_AND_GRAD_FN, "Gradient", "Value and gradient",
             "d_v holds the derivative of the result with respect to v."),
    "grad_fwd": (naming.GRAD_FN, naming.VALUE_AND_GRAD_FN, "Gradient", "Value and gradient",
                 "Computed in forward mode (one pass, no tape): d_v holds the derivative of v "
                 "with respect to {wrt}."),
    "jvp": ("{}_tangent", "{}_jvp", "Tangent (Jacobian-vector product)", "Value and tangent",
            "d_v holds the derivative of v along the direction given for {wrt}."),
    "hvp": ("{}_hvp", "{}_grad_and_hvp", "Hessian-vector product", "Gradient and Hessian-vector product",
            "The tangent program of the gradient: d_u holds the derivative of u along v, the "
            "direction given for {wrt}, and the result is H·v."),
    "vjp": ("{}_vjp", "{}_value_and_vjp", "Vector-Jacobian product",
            "Value and vector-Jacobian product",
            "d_v holds the derivative of the result, weighted by the given cotangent, with "
            "respect to v."),
}  # fmt: skip
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
        self.locals_seen: set[str] = set()  # local names of the functions emitted so far
        self.aliases: dict[tuple[str, int], str] = {}
        self.bindings: dict[str, Any] = {}
        self.helpers: list[str] = []

    def name(self, wanted: str, obj: Any) -> str:
        # keyed by object too: two modules' ALPHA (or two unnamed arrays) are two names
        key = (wanted, id(obj))
        if key not in self.aliases:
            alias = NameGen(self.gen.taken | self.locals_seen).fresh(wanted)
            self.gen.take(alias)
            self.aliases[key] = alias
            self.bindings[alias] = obj
        return self.aliases[key]

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


def _copier(prim) -> str:
    """The copy an update (``Effect.UPDATE``: ``y[i] = v``, ``xs.append(v)``) starts from
    when it cannot work in place; results of ``Effect.FRESH`` and updates may be updated."""
    return "list" if prim.form is Form.APPEND else "np.copy"


class Variant:
    """One generated function (``_grad`` or ``_value_and_grad``): its blocks and local names.

    Naming works on groups of IR variables that can share one Python name: a value and the
    phi it flows into, a loop's state before, during and after the loop, an array and the
    copy ``y[i] = v`` makes of it when the old array is never read again (then the update is
    done in place). Temporaries read once, in the block that defines them, are folded.
    """

    def __init__(self, prog: GradProgram, g: Globals, which: str):
        self.prog = prog
        self.g = g
        self.which = which
        grads = tuple(a for a in prog.grads if a is not None)
        self.needs_value = which != "grad" or not prog.scalar_value
        live = {
            a for a in grads + ((prog.value,) if self.needs_value else ()) if isinstance(a, Var)
        }
        outputs = set(live)
        backward = prune(prog.backward, live)
        forward, backward = shapes.detach(prune(prog.forward, live), backward, outputs)
        live = set(outputs)  # what the shapes no longer read is dead now
        self.backward = prune(backward, live)
        self.forward = prune(forward, live)
        self.adjoint_of = dict(prog.adjoint_of)
        self.restored = dict(prog.restored)
        self.params = set(prog.params)
        self.defs: dict[Var, Any] = {}
        self.def_block: dict[Var, int] = {}
        self.reads: dict[Var, list[int]] = {}
        self.block_loops: dict[int, tuple] = {}
        self.reads_by: dict[Var, list[Any]] = {}
        self.order: list[Var] = list(prog.params)
        self._scan(self.forward, 0)
        self._scan(self.backward, 0)
        for a in grads + (prog.value,):
            self._read(a, 0)
        self.parent: dict[Var, Var] = {}
        self.inplace: set[Var] = set()
        self.copy_init: set[Var] = set()  # loop state copied before the loop (then owned)
        self.could_fold = {v for v in self.defs if self._could_fold(v)}
        self._coalesce(self.forward + self.backward)
        self.folded: dict[Var, ast.expr] = {}
        self.fold: set[Var] = set()
        self.names: dict[Var, str] = {p: p.name for p in prog.params}
        self.gen = NameGen(set(g.gen.taken))
        self._choose_names()
        g.locals_seen |= set(self.names.values())

    # ------------------------------------------------------------ facts
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
                self._read(s.cond, bid)
                tb, eb = id(s.then), id(s.orelse)
                self._scan(s.then, tb, loops)
                self._scan(s.orelse, eb, loops)
                for p in s.phis:
                    self._read(p.then, tb)
                    self._read(p.orelse, eb)
                    self._define(p.target, bid, s)
            elif isinstance(s, Loop):
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

    def count(self, v: Var) -> int:
        """How often ``v`` is read; a read inside a loop that ``v`` is defined outside of
        counts as many (it happens once per iteration)."""
        reads = self.reads.get(v, ())
        home = self.block_loops.get(self.def_block.get(v), ())
        if any(len(self.block_loops.get(b, ())) > len(home) for b in reads):
            return max(2, len(reads))
        return len(reads)

    def find(self, v: Var) -> Var:
        while v in self.parent:
            v = self.parent[v]
        return v

    def union(self, a: Var, b: Var) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra

    def _copy_fn(self, v: Var) -> str:
        for r in self.reads_by.get(v, ()):
            if isinstance(r, Assign) and r.prim.effect is Effect.UPDATE:
                return _copier(r.prim)
        return "np.copy"

    def _carry_of(self, v: Var):
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
            return d.prim.effect in (Effect.FRESH, Effect.UPDATE) or (
                d.prim.elementwise and not self.prog.scalar_value and False
            )
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

    def _coalesce(self, block: Block) -> None:
        for s in block:
            if isinstance(s, Assign) and s.prim.effect is Effect.UPDATE:
                old = s.args[0]
                if not (isinstance(old, Var) and self.count(old) == 1):
                    continue
                if self.owned(old):
                    self.inplace.add(s.target)
                    self.union(old, s.target)
                elif self._carry_of(old) is not None:
                    # a loop updating its state in place: copy the start value once, before
                    # the loop, instead of copying the whole array in every iteration
                    self.copy_init.add(old)
                    self.inplace.add(s.target)
                    self.union(old, s.target)
            elif isinstance(s, If):
                self._coalesce(s.then)
                self._coalesce(s.orelse)
                for p in s.phis:
                    for src, blk in ((p.then, s.then), (p.orelse, s.orelse)):
                        if (
                            isinstance(src, Var)
                            and self.count(src) == 1
                            and src in _defined_in(blk)
                            and self.find(src) == src
                            and not self.clobbers(blk, self.group(src), self.group(p.target), ())
                        ):
                            self.union(p.target, src)
            elif isinstance(s, Loop):
                self._coalesce(s.cond_block)
                self._coalesce(s.body)
                for c in s.carries:
                    self.union(c.var, c.out)
                    if (
                        isinstance(c.init, Var)
                        and self.count(c.init) == 1
                        and c.init not in self.params
                        and self.def_block.get(c.init) is not None
                        and self.find(c.init) == c.init
                    ):
                        self.union(c.var, c.init)
                    tails = [d.next for d in s.carries if d is not c] + [s.exit]
                    if (
                        isinstance(c.next, Var)
                        and self.count(c.next) == 1
                        and c.next in _defined_in(s.body)
                        and self.find(c.next) != self.find(c.var)
                        and not self.clobbers(s.body, self.group(c.next), self.group(c.var), tails)
                    ):
                        self.union(c.var, c.next)

    def _could_fold(self, v: Var) -> bool:
        d = self.defs.get(v)
        primal = self.adjoint_of.get(v)
        return (
            is_internal(v.name)
            # the adjoint of an unnamed temporary may be folded too (see _group_name): a
            # superset is safe for clobbers, which looks through these for hidden reads
            and (primal is None or is_internal(primal.name))
            and v not in self.restored
            and isinstance(d, Assign)
            and d.prim.effect is not Effect.UPDATE
            and d.prim is not P.new_tape
            and self.count(v) == 1
            and self.reads[v][0] == self.def_block[v]
        )

    def group(self, v: Var) -> set[Var]:
        r = self.find(v)
        return {m for m in self.order if self.find(m) == r}

    def eff_reads(self, s: Any, named: set[Var] = frozenset()) -> set[Var]:
        """What a statement reads where it stands, once single-use temporaries are folded
        into it (their own reads move with them). ``named`` will not be folded."""
        out: set[Var] = set()
        for a in used_by(s):
            if not isinstance(a, Var):
                continue
            if a in self.could_fold and a not in named and isinstance(self.defs.get(a), Assign):
                out |= self.eff_reads(self.defs[a], named)
            else:
                out.add(a)
        return out

    def clobbers(self, block: Block, new: set[Var], old: set[Var], tails) -> bool:
        """Whether, giving ``new`` and ``old`` one name, a write of ``new`` in ``block`` would
        come before a read of ``old`` on the same path (``tails``: read at the block's end)."""

        def scan(stmts: Block, written: bool) -> tuple[bool, bool]:
            for s in stmts:
                if isinstance(s, Assign) and s.target in self.could_fold and s.target not in new:
                    continue  # its reads happen where it is used
                if isinstance(s, If):
                    if written and s.cond in old:
                        return True, written
                    w_any = written
                    for blk, side in ((s.then, "then"), (s.orelse, "orelse")):
                        bad, w = scan(blk, written)
                        srcs = {getattr(p, side) for p in s.phis}
                        if bad or (w and srcs & old):
                            return True, w
                        w_any = w_any or w
                    written = w_any or any(p.target in new for p in s.phis)
                    continue
                if isinstance(s, Loop):
                    inner = set()
                    for x in _walk(s.cond_block + s.body):
                        inner |= self.eff_reads(x, new)
                    inner |= self.eff_reads(s, new)
                    if (written and inner & old) or (
                        inner & old and any(set(defined_by(x)) & new for x in _walk(s.body))
                    ):
                        return True, written
                    written = written or bool(set(defined_by(s)) & new)
                    continue
                if written and self.eff_reads(s, new) & old:
                    return True, written
                if set(defined_by(s)) & new:
                    written = True
            return False, written

        bad, written = scan(block, False)
        if bad or not written:
            return bad
        at_end: set[Var] = set()  # a temporary read at the end is folded there: its reads too
        for t in tails:
            if isinstance(t, Var) and t in self.could_fold and isinstance(self.defs.get(t), Assign):
                at_end |= self.eff_reads(self.defs[t], new)
            elif isinstance(t, Var):
                at_end.add(t)
        return bool(at_end & old)

    def _choose_names(self) -> None:
        groups: dict[Var, list[Var]] = {}
        for v in self.order:
            groups.setdefault(self.find(v), []).append(v)
        for v in self.order:
            r = self.find(v)
            if v in self.names or r not in groups:
                continue
            members = groups.pop(r)
            name = self._group_name(members)
            if name is None:
                self.fold.add(v)
                continue
            for m in members:
                self.names[m] = name

    def _group_name(self, members: list[Var]) -> str | None:
        for m in members:
            if m in self.params:
                return m.name
        for m in members:
            if not is_internal(m.name):
                return m.name
        for m in members:
            primal = self.adjoint_of.get(m)
            if primal is not None:
                base = self.names.get(primal) or (None if is_internal(primal.name) else primal.name)
                if base is not None:
                    return self.gen.adjoint(base)
        for m in members:
            fwd = self.restored.get(m)
            if fwd is not None and fwd in self.names:
                return self.gen.fresh(self.names[fwd])
        v = members[0]
        for hint in ("tape", "steps"):
            if any(naming.is_internal_of(m.name, hint) for m in members):
                return self.gen.fresh(hint)
        d = self.defs.get(v)
        foldable = (
            len(members) == 1
            and isinstance(d, Assign)
            and d.prim not in (P.setitem, P.new_tape)
            and self.count(v) == 1
            and self.reads[v][0] == self.def_block[v]
        )
        return None if foldable else self.gen.temp()

    # ------------------------------------------------------------ expressions
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
        if prim.form is Form.INFIX:
            if prim.spelling in _COMPARE:
                return ast.Compare(args[0], [_COMPARE[prim.spelling]()], [args[1]])
            return ast.BinOp(args[0], _INFIX[prim.spelling](), args[1])
        if prim.form is Form.PREFIX:
            return ast.UnaryOp(_PREFIX[prim.spelling](), args[0])
        if prim.form is Form.GETITEM:
            return ast.Subscript(args[0], self.index(params["index"], args[1:]))
        if prim.form is Form.ATTR:
            return ast.Attribute(args[0], prim.spelling)
        if prim.form is Form.TUPLE:
            return ast.Tuple(args)
        if prim.form in (Form.NEWLIST, Form.LIST):
            return ast.List(args)
        keywords = []
        for k, v in sorted(params.items()):
            if k == "index":  # index_grad(g, x, np.s_[...])
                args = args[:2] + [ast.Subscript(self.g.dotted("np.s_"), self.index(v, args[2:]))]
            elif v in (float, int, bool):  # dtype=float
                keywords.append(ast.keyword(k, self.g.dotted(v.__name__)))
            else:
                keywords.append(ast.keyword(k, self.g.const(Const(v))))
        func = self.g.dotted(prim.spelling)
        if prim.form is Form.LISTCALL:
            return ast.Call(func, [ast.List(args)], keywords)
        return ast.Call(func, args, keywords)

    # ------------------------------------------------------------ statements
    def block(self, block: Block, comment_all: bool, state: dict) -> list[str]:
        out: list[str] = []
        for s in block:
            if isinstance(s, Assign):
                out += self.assign(s, comment_all, state)
            elif isinstance(s, Push):
                vals = [ast.unparse(self.atom(a)) for a in s.values]
                item = vals[0] if len(vals) == 1 else "(" + ", ".join(vals) + ")"
                out.append(f"{self.names[s.tape]}.append({item})")
            elif isinstance(s, Pop):
                targets = ", ".join(self.names[t] for t in s.targets)
                out.append(f"{targets} = {self.names[s.tape]}.pop()")
            elif isinstance(s, If):
                out += self.if_(s, comment_all)
            else:
                out += self.loop(s, comment_all)
        return out

    def assign(self, s: Assign, comment_all: bool, state: dict) -> list[str]:
        out = []
        loc = s.loc
        key = (loc.file, loc.line, loc.func) if loc is not None else None
        if s.prim.effect is Effect.UPDATE:
            return self._comment(loc, key, comment_all, state) + self.update(s)
        expr = self.expr(s)
        if s.target in self.fold:
            self.folded[s.target] = expr
            return out
        out += self._comment(loc, key, comment_all, state)
        name = self.names[s.target]
        old = s.args[0] if s.args else None
        if (
            s.prim is P.add
            and isinstance(old, Var)
            and self.names.get(old) == name
            and self.count(old) == 1
            and self.owned(old)
            and isinstance(expr, ast.BinOp)
        ):
            # an accumulator nothing else reads: add into it instead of allocating anew
            out.append(f"{name} += {ast.unparse(expr.right)}")
            return out
        out.append(f"{name} = {ast.unparse(expr)}")
        return out

    def _comment(self, loc: Loc | None, key, comment_all: bool, state: dict) -> list[str]:
        if loc is None or key == state.get("last"):
            return []
        state["last"] = key
        if comment_all or loc.func != self.prog.name:
            return [self.comment(loc)]
        return []

    def update(self, s: Assign) -> list[str]:
        """``y[i] = v`` or ``xs.append(v)``: in place when the old value is never read again,
        else on a copy."""
        old, value, *idx = (self.atom(a) for a in s.args)
        target = self.names[s.target]
        lines = []
        if s.target not in self.inplace:
            copy = ast.unparse(self.g.dotted(_copier(s.prim)))
            lines.append(f"{target} = {copy}({ast.unparse(old)})")
        if s.prim.form is Form.APPEND:
            lines.append(f"{target}.append({ast.unparse(value)})")
            return lines
        if s.prim is P.index_add:
            at = ast.unparse(self.g.dotted("np.add.at"))
            where = ast.Subscript(self.g.dotted("np.s_"), self.index(dict(s.params)["index"], idx))
            lines.append(f"{at}({target}, {ast.unparse(where)}, {ast.unparse(value)})")
            return lines
        index = self.index(dict(s.params)["index"], idx)
        lines.append(
            f"{ast.unparse(ast.Subscript(ast.Name(target), index))} = {ast.unparse(value)}"
        )
        return lines

    def if_(self, s: If, comment_all: bool) -> list[str]:
        cond = ast.unparse(self.atom(s.cond))
        branches = []
        for blk, side in ((s.then, "then"), (s.orelse, "orelse")):
            lines = self.block(blk, comment_all, {})
            for p in s.phis:
                src = getattr(p, side)
                if not (isinstance(src, Var) and self.names.get(src) == self.names[p.target]):
                    lines.append(f"{self.names[p.target]} = {ast.unparse(self.atom(src))}")
            branches.append(lines)
        then, orelse = branches
        out = [f"if {cond}:", *_indent(then or ["pass"])]
        if orelse:
            out += ["else:", *_indent(orelse)]
        return out

    def loop(self, s: Loop, comment_all: bool) -> list[str]:
        out = []
        for c in s.carries:
            if c.var in self.copy_init:
                copy = ast.unparse(self.g.dotted(self._copy_fn(c.var)))
                out.append(f"{self.names[c.var]} = {copy}({ast.unparse(self.atom(c.init))})")
            elif not (isinstance(c.init, Var) and self.names.get(c.init) == self.names[c.var]):
                out.append(f"{self.names[c.var]} = {ast.unparse(self.atom(c.init))}")
        used = s.index is not None and self.count(s.index) > 0
        # "_" only when no variable of the user's is called that (it would be overwritten)
        if used or (s.index is not None and self.names.get(s.index) == "_"):
            index = self.names[s.index]  # the user's own `for _ in ...` stays as written
        else:
            index = NameGen(set(self.names.values())).fresh("_")
        body: list[str] = []
        if s.kind is LoopKind.WHILE:
            cond_lines = self.block(s.cond_block, comment_all, {})
            cond = ast.unparse(self.atom(s.cond))
            if cond_lines:
                header = "while True:"
                body += cond_lines + [f"if not {_paren(cond)}:", "    break"]
            else:
                header = f"while {cond}:"
        else:
            bounds = [ast.unparse(self.atom(a)) for a in s.header]
            if len(bounds) == 2 and bounds[0] == "0":
                bounds = bounds[1:]
            # builtins through the module's names: a parameter may be called reversed
            rng = f"{ast.unparse(self.g.dotted('range'))}({', '.join(bounds)})"
            backwards = f"{ast.unparse(self.g.dotted('reversed'))}({rng})"
            header = f"for {index} in {rng if s.kind is LoopKind.RANGE else backwards}:"
        body += self.block(s.body, comment_all, {})
        copies = [
            (self.names[c.var], ast.unparse(self.atom(c.next)))
            for c in s.carries
            if not (isinstance(c.next, Var) and self.names.get(c.next) == self.names[c.var])
        ]
        if len(copies) == 1:
            body.append(f"{copies[0][0]} = {copies[0][1]}")
        elif copies:
            body.append(", ".join(t for t, _ in copies) + " = " + ", ".join(v for _, v in copies))
        if s.exit is not None:
            body += [f"if {ast.unparse(self.atom(s.exit))}:", "    break"]
        return out + [header, *_indent(body or ["pass"])]

    def comment(self, loc: Loc) -> str:
        if loc.file.startswith("<symdiff "):  # a statement of generated code: it has no file
            where = loc.func
        elif loc.func == self.prog.name:
            where = f"line {loc.line}"
        else:
            where = f"{loc.func}, line {loc.line}"
        text = f"# {where}: {loc.text.strip()}"
        return text if len(text) <= _COMMENT_WIDTH else text[: _COMMENT_WIDTH - 3] + "..."

    def source(self, name: str, origin: str) -> str:
        prog = self.prog
        body: list[str] = []
        fwd = self.block(self.forward, prog.kind in ("jvp", "hvp", "grad_fwd"), {})
        if fwd:
            body += ["# forward pass", *fwd]
        value = ast.unparse(self.atom(prog.value)) if self.needs_value else ""
        if not prog.scalar_value:
            body.append(f"{ast.unparse(self.g.dotted('ensure_scalar'))}({value}, {prog.name!r})")
        bwd = self.block(self.backward, True, {})
        if bwd:
            body += ["# backward pass", *bwd]
        grads = []
        for p, a in zip(prog.wrt, prog.grads):
            if a is None:
                grads.append(f"{ast.unparse(self.g.dotted('np.zeros_like'))}({p.name})")
            else:
                grads.append(ast.unparse(self.atom(a)))
        grad_expr = ", ".join(grads) + ("," if len(grads) == 1 and prog.tuple_result else "")
        if self.which == "grad":
            body.append(f"return {grad_expr}")
            title = _KINDS[prog.kind][2]
        else:
            tupled = len(grads) > 1 or prog.tuple_result
            body.append(
                f"return {value}, ({grad_expr})" if tupled else f"return {value}, {grad_expr}"
            )
            title = _KINDS[prog.kind][3]
        wrt = ", ".join(v.name for v in prog.wrt)
        para = textwrap.fill(
            f"Generated by symdiff {__version__} from {origin}. "
            + _KINDS[prog.kind][4].format(wrt=wrt),
            _DOC_WIDTH,
        )
        doc = f'"""{title} of `{subject(prog)}` with respect to {wrt}.\n\n{para}\n"""'
        defaults = dict(prog.defaults)
        params = ", ".join(
            f"{n}={ast.unparse(self.g.const(Const(defaults[n])))}" if n in defaults else n
            for n in (prog.signature or [v.name for v in prog.params])
        )
        inner = "\n".join([doc, *body])
        return f"def {name}({params}):\n" + textwrap.indent(inner, "    ") + "\n"


def _indent(lines: list[str]) -> list[str]:
    return ["    " + ln for ln in lines]


def _paren(text: str) -> str:
    return text if text.isidentifier() else f"({text})"


def _defined_in(block: Block) -> set[Var]:
    out: set[Var] = set()
    for s in block:
        out.update(defined_by(s))
    return out


def _custom_impl(spelling: str) -> Any:
    prim = P.named(spelling)
    if prim is None:
        raise KeyError(f"no primitive spelled {spelling!r}")
    return prim.impl


def local_names(prog: GradProgram) -> set[str]:
    """The user's names in a program: generated names must avoid all of them."""
    names = {p.name for p in prog.params} | {prog.name}
    for s in _walk(prog.forward + prog.backward):
        for v in defined_by(s) + (() if not isinstance(s, Loop) else _loop_vars(s)):
            if not is_internal(v.name):
                names.add(v.name)
    return names


def _loop_vars(s: Loop) -> tuple[Var, ...]:
    return tuple(c.var for c in s.carries) + ((s.index,) if s.index is not None else ())


def _walk(block: Block):
    for s in block:
        yield s
        if isinstance(s, If):
            yield from _walk(s.then)
            yield from _walk(s.orelse)
        elif isinstance(s, Loop):
            yield from _walk(s.cond_block)
            yield from _walk(s.body)


def subject(prog: GradProgram) -> str:
    """The function a program is a derivative of: for a Hessian-vector product, the one whose
    generated gradient it differentiates (``loss`` for ``loss_grad``)."""
    suffix = naming.GRAD_FN.format("")
    if prog.kind == "hvp" and prog.name.endswith(suffix) and len(prog.name) > len(suffix):
        return prog.name[: -len(suffix)]
    return prog.name


def emit(prog: GradProgram, origin: str, g: Globals | None = None) -> Emitted:
    """Both generated functions of ``prog``; ``g`` shares module-level names across several."""
    g = g or Globals(set())
    g.gen.taken |= local_names(prog)
    grad_name, vg_name = (g.gen.fresh(k.format(subject(prog))) for k in _KINDS[prog.kind][:2])
    grad_src = Variant(prog, g, "grad").source(grad_name, origin)
    vg_src = Variant(prog, g, "value_and_grad").source(vg_name, origin)
    return Emitted(grad_name, vg_name, grad_src, vg_src, dict(g.bindings), list(g.helpers))
