"""Lowering comprehensions: ``[e for x in xs if c]`` as the loop the user would have written.

A list comprehension is lowered as the statements it abbreviates::

    items = []
    for x in xs:
        if c:
            items.append(e)

so it is differentiated by the loop machinery (tapes, list adjoints) and reads in generated
code as that loop. The statements are built as a syntax tree carrying the comprehension's
own positions and lowered by the statement lowering, on a path of their own: the loop
variables are the comprehension's, as in Python (they do not leak, and a name of the
function with the same name is untouched), and only the first iterable is read in the
enclosing scope.

A generator expression is lowered the same way where Python and NumPy consume it as a
sequence: the one argument of ``sum``. NumPy does not iterate generators (``np.array`` of
one is an object array, ``np.stack`` and ``np.sum`` refuse it), so elsewhere it is refused
with the list comprehension to write instead.
"""

from __future__ import annotations

import ast

from ..errors import UnsupportedFunctionError, UnsupportedSyntaxError
from ..ir import primitives as P
from ..ir.nodes import Const, Form, Primitive
from .lower_base import LoweringBase
from .values import Frame, ListV, TupleV, Value

Comprehension = ast.ListComp | ast.GeneratorExp

# how the list a comprehension builds is called when it is assigned to no name
_ITEMS = "items"


class ComprehensionLowering(LoweringBase):
    """List comprehensions, generator expressions given to ``sum``, and what reads the
    lists they build: ``sum`` and NumPy functions."""

    def comprehension(self, frame: Frame, node: Comprehension, hint: str | None) -> Value:
        """The list ``node`` builds: a list built at run time, by the loop it abbreviates."""
        src = frame.src
        targets = [_stored(g.target) for g in node.generators]
        later = set().union(*targets[1:])
        first_reads = _read(node.generators[0].iter)
        if first_reads & later:
            name = sorted(first_reads & later)[0]
            raise UnsupportedSyntaxError(
                f"the first iterable reads `{name}`, which a later `for` of the same "
                "comprehension binds",
                src.loc(node.generators[0].iter),
                "rename the loop variable of the later `for`",
            )
        key = _free_name(hint or _ITEMS, node)
        inner = frame.fork()
        for name in set().union(*targets) - first_reads:
            inner.env.pop(name, None)  # the comprehension's own variables start unbound
        append = ast.Expr(
            ast.Call(ast.Attribute(ast.Name(key, ast.Load()), "append", ast.Load()), [node.elt], [])
        )
        stmt: ast.stmt = _located(append, node.elt)
        for gen in reversed(node.generators):
            for test in reversed(gen.ifs):
                stmt = _located(ast.If(test, [stmt], []), test)
            stmt = _located(ast.For(gen.target, gen.iter, [stmt], []), gen.target)
        start = _located(ast.Assign([ast.Name(key, ast.Store())], ast.List([], ast.Load())), node)
        self.body(inner, [start, stmt])
        return inner.env[key]

    def builtin_sum(self, frame: Frame, seq: Value, hint: str | None, node: ast.AST) -> Value:
        """``sum(xs)``: Python's ``0 + xs[0] + xs[1] + ...``."""
        if isinstance(seq, (ListV, TupleV)):
            total: Value = Const(0)
            for i, item in enumerate(seq.items):
                name = hint if i == len(seq.items) - 1 else None
                args = (self.atom(total, node, frame), self.atom(item, node, frame))
                total = self.apply(P.add, args, (), name, frame, node)
            return total
        if self.memory.is_list(seq):
            return self.apply(P.sum_list, (seq,), (), hint, frame, node)
        if isinstance(seq, Const) and isinstance(seq.value, (list, tuple)):
            # module-level data, summed when the gradient runs (as f reads it then)
            return self.apply(P.sum_list, (seq,), (), hint, frame, node)
        raise UnsupportedFunctionError(
            "sum() is supported over lists and tuples (written out, built in a loop, or "
            "module-level); for arrays use np.sum",
            frame.src.loc(node),
        )

    def lists_as_arrays(
        self, frame: Frame, prim: Primitive, args: list[Value], node: ast.AST
    ) -> list[Value]:
        """A NumPy function reads a list built at run time as the array ``np.array`` makes
        of it (``np.sum([...])``, ``np.mean(xs, axis=0)``), as NumPy itself does; functions
        that take a list as such (``np.stack``, ``len``) keep it."""
        if prim.family != "np" or prim.form is not Form.CALL or prim in P.LIST_CONSUMERS:
            return args
        return [
            (
                self.apply(P.np_array_list, (v,), (), None, frame, node)
                if self.memory.is_list(v)
                else v
            )
            for v in args
        ]


def _located(stmt: ast.stmt, like: ast.AST) -> ast.stmt:
    """``stmt`` and every node in it without a position at the position of ``like``."""
    for sub in ast.walk(stmt):
        if isinstance(sub, (ast.expr, ast.stmt)) and not hasattr(sub, "lineno"):
            ast.copy_location(sub, like)
    return stmt


def _stored(target: ast.expr) -> set[str]:
    return {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}


def _read(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _free_name(base: str, node: ast.AST) -> str:
    """A name for the list that nothing in the comprehension reads (it is bound on the
    comprehension's own path only): ``ys`` for ``ys = [...]`` unless it reads ``ys``."""
    used = _read(node)
    name, i = base, 0
    while name in used:
        i += 1
        name = f"{base}_{i}"
    return name
