"""IR statements as fresh ``ast`` statements, and those as text with their comments.

``Printer`` turns the blocks of a ``Plan`` into ``ast`` statements: every piece of code is
an ``ast`` node and all text comes from ``ast.unparse``. ``ast`` has no comments, so the
comment quoting a source line is attached to the statement it belongs to (by the node's
identity) and ``render`` writes it above that statement; compound statements are rendered
header by header so that comments inside their bodies keep their place.

One thing ``ast.unparse`` writes differently from what people write, and ``render`` adjusts:
a tuple after ``return`` or on the right of a parallel assignment is written bare
(``return d_W, d_b``), as it is in the source the user wrote.
"""

from __future__ import annotations

import ast
import copy
from typing import Any

from ..ad.program import GradProgram
from ..errors import BackendError, Loc
from ..ir import primitives as P
from ..ir.nodes import (  # fmt: skip
    Assign,
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
    used_by,
)
from ..naming import NameGen
from .comments import Quotes, loc_key, statements
from .exprs import Exprs
from .facts import copier, is_update
from .module_names import Globals
from .plan import Plan, walk

_INDENT = "    "


class Printer:
    """The statements of one generated function, with the comments attached to them."""

    def __init__(self, plan: Plan, g: Globals):
        self.plan = plan
        self.depth = 0  # how many loops the statement being printed is inside
        self.facts = plan.facts
        self.names = plan.names
        self.g = g
        self.x = Exprs(plan.names, g)
        self.prog: GradProgram = plan.prog
        self.comments: dict[int, list[str]] = {}  # id of an ast statement -> lines above it
        self.bare: set[int] = set()  # statements whose tuple value is written without parens
        self.locs: dict[int, Loc | None] = {}  # id of an ast statement -> the Loc it is from
        self.quotes = Quotes(
            self.prog.name, (plan.forward, plan.backward), plan.facts.defs, plan.fold
        )

    # ------------------------------------------------------------ comments
    def attach(self, stmts: list[ast.stmt], lines: list[str]) -> list[ast.stmt]:
        """Put comment ``lines`` above the first of ``stmts`` (before any it already has)."""
        if stmts and lines:
            key = id(stmts[0])
            self.comments[key] = lines + self.comments.get(key, [])
        return stmts

    def _noted(self, stmts: list[ast.stmt], loc: Loc | None, lines: list[str]) -> list[ast.stmt]:
        """``stmts`` under comment ``lines``, each recorded as coming from ``loc``."""
        for st in stmts:
            self.locs[id(st)] = loc
        return self.attach(stmts, lines)

    def locations(self, body: list[ast.stmt]) -> tuple[Loc | None, ...]:
        """The Loc of every statement of ``body`` in source order (see ``line_locations``)."""
        return tuple(self.locs.get(id(st)) for st in statements(body))

    # ------------------------------------------------------------ statements
    def block(self, block: Block, comment_all: bool, state: dict) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for s in block:
            if isinstance(s, Assign):
                out += self.assign(s, comment_all, state)
            elif isinstance(s, Push):
                vals = [self.x.atom(a) for a in s.values]
                item = vals[0] if len(vals) == 1 else ast.Tuple(vals)
                out.append(ast.Expr(_call(_method(self.names[s.tape], "append"), item)))
            elif isinstance(s, Pop):
                targets = _targets([self.names[t] for t in s.targets])
                out.append(_assign(targets, _call(_method(self.names[s.tape], "pop"))))
            elif isinstance(s, If):
                out += self.if_(s, comment_all)
            else:
                out += self.loop(s, comment_all, state)
        return out

    def assign(self, s: Assign, comment_all: bool, state: dict) -> list[ast.stmt]:
        try:
            return self._assign(s, comment_all, state)
        except BackendError as exc:  # a spelling the backend refused: at the user's line
            if exc.loc is not None or s.loc is None:
                raise
            raise exc.relocated(s.loc) from None

    def _assign(self, s: Assign, comment_all: bool, state: dict) -> list[ast.stmt]:
        if s.prim.effect is Effect.OUTPUT:
            loc = self.quotes.source(s, state.get("last"))
            lines = self.quotes.comment(loc, comment_all, state)
            return self._noted([self.output(s)], loc, lines)
        if is_update(s.prim):
            loc = self.quotes.source(s, state.get("last"))
            lines = self.quotes.comment(loc, comment_all, state)
            return self._noted(self.update(s), loc, lines)
        expr = self.x.expr(s)
        if s.target in self.plan.fold:
            self.x.folded[s.target] = expr
            return []
        loc = self.quotes.source(s, state.get("last"))
        lines = self.quotes.comment(loc, comment_all, state)
        name = self.names[s.target]
        old = s.args[0] if s.args else None
        if (
            s.prim is P.add
            and isinstance(old, Var)
            and self.names.get(old) == name
            and self.facts.count(old) == 1
            and self.facts.owned(old)
            and isinstance(expr, ast.BinOp)
        ):
            # an accumulator nothing else reads: add into it instead of allocating anew
            return self._noted([ast.AugAssign(_store(name), expr.op, expr.right)], loc, lines)
        return self._noted([_assign(_store(name), expr)], loc, lines)

    def output(self, s: Assign) -> ast.stmt:
        """``print(...)`` or ``assert test, message``: a statement of its own, no name bound."""
        if s.prim.form is Form.ASSERT:
            test, *message = (self.x.atom(a) for a in s.args)
            return ast.Assert(test, message[0] if message else None)
        return ast.Expr(self.x.expr(s))

    def update(self, s: Assign) -> list[ast.stmt]:
        """``y[i] = v`` or ``xs.append(v)``: in place when the old value is never read again,
        else on a copy."""
        old, value, *idx = (self.x.atom(a) for a in s.args)
        target = self.names[s.target]
        out: list[ast.stmt] = []
        if self.g.backend.functional and s.prim.form is not Form.APPEND:
            # immutable arrays: y = x.at[i].set(v) (or .add(v)) makes the updated copy
            method = "add" if s.prim is P.index_add else "set"
            place = ast.Subscript(ast.Attribute(old, "at"), self.x.index(s.param("index"), idx))
            return [_assign(_store(target), _call(ast.Attribute(place, method), value))]
        if s.target not in self.plan.inplace:
            out.append(_assign(_store(target), _call(self.g.dotted(copier(s.prim)), old)))
        if s.prim.form is Form.APPEND:
            out.append(ast.Expr(_call(_method(target, "append"), value)))
            return out
        if s.prim is P.index_add and self.basic_index(s):
            # a basic index names every element once: += adds as np.add.at does, faster
            index = self.x.index(s.param("index"), idx)
            sub = ast.Subscript(ast.Name(target), index, ast.Store())
            out.append(ast.AugAssign(sub, ast.Add(), value))
            return out
        if s.prim is P.index_add:
            at = self.g.dotted("np.add.at")
            where = ast.Subscript(self.g.dotted("np.s_"), self.x.index(s.param("index"), idx))
            out.append(ast.Expr(_call(at, ast.Name(target), where, value)))
            return out
        index = self.x.index(s.param("index"), idx)
        out.append(_assign(ast.Subscript(ast.Name(target), index, ast.Store()), value))
        return out

    def basic_index(self, s: Assign) -> bool:
        """Whether ``s``'s index is a basic one (slices, ``None``, ``...`` and integers: a
        constant or a loop's index, as the loop made it or as its tape gives it back), which
        cannot name an element twice; an array of indices may, and needs ``np.add.at``."""
        idx = s.args[2:]
        for item in s.param("index"):
            if item[0] != "at":
                continue
            a = idx[item[1]]
            if isinstance(a, Const):
                if type(a.value) is not int:
                    return False
                continue
            a = self.plan.restored.get(a, a)
            made = self.facts.defs.get(a)
            if not (isinstance(made, Loop) and made.index == a):
                return False
        return True

    def if_(self, s: If, comment_all: bool) -> list[ast.stmt]:
        cond = self.x.atom(s.cond)
        branches = []
        for blk, side in ((s.then, "then"), (s.orelse, "orelse")):
            stmts = self.block(blk, comment_all, {})
            for p in s.phis:
                src = getattr(p, side)
                name = self.names[p.target]
                if not (isinstance(src, Var) and self.names.get(src) == name):
                    stmts.append(_assign(_store(name), self.x.atom(src)))
            branches.append(stmts)
        then, orelse = branches
        node = ast.If(cond, then or [ast.Pass()], orelse)
        self.locs[id(node)] = s.loc
        return [node]

    def loop(self, s: Loop, comment_all: bool, state: dict) -> list[ast.stmt]:
        """The statements setting the loop's state up, then the loop, its header quoted
        directly above it."""
        lines = self.quotes.comment(s.loc, comment_all, state)
        out: list[ast.stmt] = []
        for c in s.carries:
            name = self.names[c.var]
            if c.var in self.plan.copy_init:
                copy_fn = self.g.dotted(self.facts.copy_fn(c.var))
                out.append(_assign(_store(name), _call(copy_fn, self.x.atom(c.init))))
            elif not (isinstance(c.init, Var) and self.names.get(c.init) == name):
                out.append(_assign(_store(name), self.x.atom(c.init)))
        body: list[ast.stmt] = []
        head: ast.stmt
        if s.kind is LoopKind.WHILE:
            cond_stmts = self.block(s.cond_block, comment_all, {})
            assert s.cond is not None, "a while loop without its condition"
            cond = self.x.atom(s.cond)
            if cond_stmts:
                body += cond_stmts + [ast.If(ast.UnaryOp(ast.Not(), cond), [ast.Break()], [])]
                cond = ast.Constant(True)
            head = ast.While(cond, body, [])
        stmts = s.body
        walked = self.tape_walk(s)
        if walked is not None:
            # the backward loop walks its tape: no pop() call per iteration
            pop, stmts = walked, s.body[1:]
            tape = _call(self.g.dotted("reversed"), ast.Name(self.names[pop.tape]))
            targets = _targets([self.names[t] for t in pop.targets])
            head = ast.For(targets, tape, body, [])
        elif s.kind is not LoopKind.WHILE:
            head = ast.For(_store(self._index_name(s)), self._range(s), body, [])
        # the header's comment covers the body's statements on its line (a comprehension's)
        self.depth += 1
        body += self.block(stmts, comment_all, {"last": loc_key(s.loc)})
        self.depth -= 1
        copies = [
            (self.names[c.var], self.x.atom(c.next))
            for c in s.carries
            if not (isinstance(c.next, Var) and self.names.get(c.next) == self.names[c.var])
        ]
        if len(copies) == 1:
            body.append(_assign(_store(copies[0][0]), copies[0][1]))
        elif copies:
            parallel = _assign(_targets([t for t, _ in copies]), ast.Tuple([v for _, v in copies]))
            self.bare.add(id(parallel))
            body.append(parallel)
        if s.exit is not None:
            body.append(ast.If(self.x.atom(s.exit), [ast.Break()], []))
        if not body:
            body.append(ast.Pass())
        for st in (*out, head):  # the set-up belongs to the loop too, for line_locations
            self.locs[id(st)] = s.loc
        return out + self.attach([head], lines)

    def tape_walk(self, s: Loop) -> Pop | None:
        """The pop a backward ``reversed`` loop starts with, when the loop can iterate over
        its tape instead: a loop not inside another one (an inner loop's tape holds the entries of
        every outer iteration), whose index nothing reads, and whose tape nothing else in the
        body pops (a branch's pops share the loop's tape)."""
        if self.depth or s.kind is not LoopKind.REVERSED or not s.body or s.exit is not None:
            return None  # a counted loop (range(steps)) would leave its counter unread
        first = s.body[0]
        if not isinstance(first, Pop):
            return None
        if s.index is not None and any(s.index in used_by(st) for st in walk(s.body)):
            return None  # (the forward loop may read the same index variable)
        for st in walk(s.body[1:]):
            if isinstance(st, (Pop, Push)) and st.tape == first.tape:
                return None
        return first

    def _index_name(self, s: Loop) -> str:
        # "_" only when no variable of the user's is called that (it would be overwritten)
        if s.index is not None and (
            self.facts.count(s.index) > 0 or self.names.get(s.index) == "_"
        ):
            return self.names[s.index]  # the user's own `for _ in ...` stays as written
        return NameGen(set(self.names.values())).fresh("_")

    def _range(self, s: Loop) -> ast.expr:
        bounds = [self.x.atom(a) for a in s.header]
        if len(bounds) == 2 and _is_zero(bounds[0]):
            bounds = bounds[1:]
        # builtins through the module's names: a parameter may be called reversed
        rng = _call(self.g.dotted("range"), *bounds)
        backwards = _call(self.g.dotted("reversed"), rng)
        return rng if s.kind is LoopKind.RANGE else backwards

    # ------------------------------------------------------------ text
    def render(self, stmts: list[ast.stmt], depth: int) -> list[str]:
        """Lines of ``stmts`` at indentation ``depth``, each under its comments."""
        pad = _INDENT * depth
        out: list[str] = []
        for s in stmts:
            out += [pad + line for line in self.comments.get(id(s), ())]
            if isinstance(s, (ast.If, ast.For, ast.While)):
                out.append(pad + _header(s))
                out += self.render(s.body, depth + 1)
                if s.orelse:
                    out.append(pad + "else:")
                    out += self.render(s.orelse, depth + 1)
            else:
                out.append(pad + self._simple(s))
        return out

    def returns(self, value: ast.expr) -> ast.stmt:
        """``return a, b``: a tuple written bare, as people write it."""
        stmt = ast.Return(value)
        self.bare.add(id(stmt))
        return stmt

    def _simple(self, s: ast.stmt) -> str:
        text = _unparse(s)
        value = getattr(s, "value", None)
        if id(s) in self.bare and isinstance(value, ast.Tuple) and value.elts:
            # ast.unparse puts every tuple after = or return in parentheses
            inner = ast.unparse(value)
            text = text[: len(text) - len(inner)] + inner[1:-1]
        return text


def _header(s: ast.stmt) -> str:
    """The first line of a compound statement: ``for i in range(n):``, ``if c:``."""
    head: Any = copy.copy(s)
    head.body, head.orelse = [ast.Pass()], []
    return _unparse(head).split("\n", 1)[0]


def _unparse(node: ast.AST) -> str:
    # the unparser reads line numbers of some statements; fresh nodes have none
    return ast.unparse(ast.fix_missing_locations(node))


def _is_zero(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is int and node.value == 0


def _store(name: str) -> ast.Name:
    return ast.Name(name, ast.Store())


def _targets(names: list[str]) -> ast.expr:
    if len(names) == 1:
        return _store(names[0])
    return ast.Tuple([_store(n) for n in names], ast.Store())


def _assign(target: ast.expr, value: ast.expr) -> ast.Assign:
    return ast.Assign([target], value)


def _method(name: str, method: str) -> ast.expr:
    return ast.Attribute(ast.Name(name), method)


def _call(func: ast.expr, *args: ast.expr) -> ast.Call:
    return ast.Call(func, list(args), [])
