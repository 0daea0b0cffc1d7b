"""Lowering expressions: operators, names, attributes and indexing.

Names are resolved to what they denote: a local value, or a module-level object (``np.exp``
is looked up, not pattern-matched); module-level data becomes a named constant.
"""

from __future__ import annotations

import ast
from typing import Any

import numpy as np

from ..errors import UndefinedNameError, UnsupportedSyntaxError
from ..ir import primitives as P
from ..ir.nodes import Atom, Const
from .lower_base import LoweringBase
from .values import Frame, ListV, Obj, TupleV, Value, constant_data, op_text

BINOPS = {
    ast.Add: P.add, ast.Sub: P.sub, ast.Mult: P.mul, ast.Div: P.div, ast.Pow: P.pow,
    ast.MatMult: P.matmul, ast.FloorDiv: P.floordiv, ast.Mod: P.mod, ast.BitAnd: P.and_,
    ast.BitOr: P.or_,
}  # fmt: skip
UNARY = {ast.USub: P.neg, ast.UAdd: P.pos, ast.Not: P.not_, ast.Invert: P.invert}
COMPARE = {
    ast.Lt: P.lt,
    ast.LtE: P.le,
    ast.Gt: P.gt,
    ast.GtE: P.ge,
    ast.Eq: P.eq,
    ast.NotEq: P.ne,
}


class ExpressionLowering(LoweringBase):
    """Expressions, to values."""

    def expr(self, frame: Frame, node: ast.expr, hint: str | None = None) -> Value:
        """An expression as a value; the outermost operation is named ``hint`` when one is
        given."""
        src = frame.src
        if isinstance(node, ast.Constant):
            return Const(node.value)
        if isinstance(node, ast.Name):
            return self.lookup(frame, node.id, node)
        if isinstance(node, ast.BinOp):
            prim = BINOPS.get(type(node.op))
            if prim is None:
                raise UnsupportedSyntaxError(
                    f"the operator {op_text(node.op)} is not supported", src.loc(node)
                )
            a = self.atom(self.expr(frame, node.left), node.left, frame)
            b = self.atom(self.expr(frame, node.right), node.right, frame)
            return self.apply(prim, (a, b), (), hint, frame, node)
        if isinstance(node, ast.UnaryOp):
            x = self.expr(frame, node.operand)
            # -3 and -np.inf are constants (a static argument such as ord= may need them)
            if (
                isinstance(node.op, ast.USub)
                and isinstance(x, Const)
                and (x.name is None or x.name.split(".")[0] in ("np", "math"))
            ):
                try:
                    return Const(-x.value)
                except TypeError:
                    pass
            prim = UNARY[type(node.op)]
            return self.apply(prim, (self.atom(x, node.operand, frame),), (), hint, frame, node)
        if isinstance(node, ast.Compare):
            if len(node.ops) != 1:
                raise UnsupportedSyntaxError(
                    "chained comparisons are not supported",
                    src.loc(node),
                    "write `(a < b) & (b < c)` for arrays, or `a < b and b < c` in a condition",
                )
            prim = COMPARE.get(type(node.ops[0]))
            if prim is None:
                raise UnsupportedSyntaxError(
                    "only <, <=, >, >=, == and != comparisons are supported",
                    src.loc(node),
                )
            a = self.atom(self.expr(frame, node.left), node.left, frame)
            b = self.atom(self.expr(frame, node.comparators[0]), node.comparators[0], frame)
            return self.apply(prim, (a, b), (), hint, frame, node)
        if isinstance(node, ast.Attribute):
            return self.attribute(frame, node, hint)
        if isinstance(node, ast.Call):
            return self.call(frame, node, hint)
        if isinstance(node, ast.Subscript):
            return self.subscript(frame, node, hint)
        if isinstance(node, ast.IfExp):
            return self.ifexp(frame, node, hint)
        if isinstance(node, ast.BoolOp):
            return self.boolop(frame, node, hint)
        if isinstance(node, ast.Tuple):
            return TupleV(tuple(self.expr(frame, e) for e in node.elts))
        if isinstance(node, ast.List):
            return ListV(tuple(self.expr(frame, e) for e in node.elts))
        if isinstance(node, ast.ListComp):
            return self.comprehension(frame, node, hint)
        if isinstance(node, ast.JoinedStr):
            return self.fstring(frame, node, hint)
        if isinstance(node, ast.GeneratorExp):
            raise UnsupportedSyntaxError(
                "a generator expression is supported only as the argument of sum()",
                src.loc(node),
                "write a list comprehension, [...]: NumPy functions do not iterate generators "
                "(np.array makes an object array of one, np.stack and np.sum refuse it)",
            )
        raise UnsupportedSyntaxError(
            f"{type(node).__name__} expressions are not supported yet", src.loc(node)
        )

    def fstring(self, frame: Frame, node: ast.JoinedStr, hint: str | None) -> Value:
        """``f"loss {x:.3f}"``: a string (no derivative), kept as an f-string; its format
        specs must be written out (``{x:{width}}`` is refused)."""
        parts: list[tuple] = []
        values: list[Atom] = []
        for piece in node.values:
            if isinstance(piece, ast.Constant):
                parts.append(("text", piece.value))
                continue
            assert isinstance(piece, ast.FormattedValue)
            spec = piece.format_spec
            texts = [] if spec is None else getattr(spec, "values", [spec])
            if not all(isinstance(t, ast.Constant) for t in texts):
                raise UnsupportedSyntaxError(
                    "a format spec computed in the f-string is not supported",
                    frame.src.loc(piece),
                    "write the spec out, e.g. {x:.3f}",
                )
            values.append(self.atom(self.expr(frame, piece.value), piece.value, frame))
            parts.append(("value", piece.conversion, "".join(t.value for t in texts)))
        return self.apply(P.fstring, tuple(values), (("parts", tuple(parts)),), hint, frame, node)

    def lookup(self, frame: Frame, name: str, node: ast.AST) -> Value:
        """A local binding on this path, else what the name means to the function (closure,
        module, builtins)."""
        if name in frame.env:
            return frame.env[name]
        found, obj = frame.src.lookup(name)
        if not found:
            raise UndefinedNameError(
                f"the name `{name}` is not defined", frame.src.loc(node),
                "define it before the function is first called",
            )  # fmt: skip
        return self.global_value(frame, obj, name, node)

    def global_value(self, frame: Frame, obj: Any, path: str, node: ast.AST) -> Value:
        """A module-level object: modules and functions stay objects, numbers become constants."""
        if constant_data(obj):
            if isinstance(obj, np.ndarray) and obj.dtype == object:
                raise UnsupportedSyntaxError(
                    f"`{path}` is an object array, which cannot be differentiated",
                    frame.src.loc(node),
                )
            return Const(obj, path)
        return Obj(obj, path)

    def refuse_dunder(self, frame: Frame, node: ast.Attribute) -> None:
        """``f.__globals__``, ``x.__class__``: the interpreter's internals, never a value."""
        if node.attr.startswith("__") and node.attr.endswith("__"):
            raise UnsupportedSyntaxError(
                f"reading `{ast.unparse(node)}` is not supported: symdiff reads names, not "
                "the interpreter's internals",
                frame.src.loc(node),
                "refer to the module-level name itself, or pass the value as an argument",
            )

    def attribute(self, frame: Frame, node: ast.Attribute, hint: str | None) -> Value:
        """``mod.name`` as the object it denotes, or an array attribute (``x.T``, ``x.shape``)."""
        self.refuse_dunder(frame, node)
        base = self.expr(frame, node.value)
        if isinstance(base, Obj):
            try:
                obj = getattr(base.value, node.attr)
            except AttributeError:
                raise UnsupportedSyntaxError(
                    f"`{base.path}` has no attribute `{node.attr}`", frame.src.loc(node)
                ) from None
            return self.global_value(frame, obj, f"{base.path}.{node.attr}", node)
        prim = P.ATTRIBUTES.get(node.attr)
        if prim is None and isinstance(node.value, ast.Name) and base in self.memory.params:
            what = f"{node.value.id}.{node.attr}"  # self.k in a method: an object's attribute
            raise UnsupportedSyntaxError(
                f"reading `{what}` is not supported: arguments are arrays and numbers to "
                "symdiff, not objects with attributes",
                frame.src.loc(node),
                f"pass `{what}` as an argument, or make it a module-level constant",
            )
        if prim is None:
            raise UnsupportedSyntaxError(
                f"the attribute `.{node.attr}` is not supported",
                frame.src.loc(node),
                "supported array attributes: " + ", ".join(sorted(P.ATTRIBUTES)),
            )
        return self.apply(prim, (self.atom(base, node.value, frame),), (), hint, frame, node)

    def subscript(self, frame: Frame, node: ast.Subscript, hint: str | None) -> Value:
        """``a[i]``: an item of a tuple or literal list known now, else ``getitem``."""
        base = self.expr(frame, node.value)
        if isinstance(base, (TupleV, ListV)):
            idx = self.expr(frame, node.slice)
            if isinstance(idx, Const) and isinstance(idx.value, int):
                return base.items[idx.value]
            base = self.atom(base, node.value, frame)
        x = self.atom(base, node.value, frame)
        layout, idx_atoms = self.index_layout(frame, node.slice)
        return self.apply(P.getitem, (x, *idx_atoms), (("index", layout),), hint, frame, node)

    def index_layout(self, frame: Frame, index: ast.expr) -> tuple[tuple, list[Atom]]:
        """An index expression as a static layout plus the atoms it reads (see ir.rows.indexing.rebuild_index)."""
        parts = index.elts if isinstance(index, ast.Tuple) else [index]
        layout: list[tuple] = [("tuple",)] if isinstance(index, ast.Tuple) else []
        idx_atoms: list[Atom] = []

        def ref(e: ast.expr | None) -> int | None:
            if e is None:
                return None
            value = self.expr(frame, e)
            if isinstance(value, ListV):  # x[[0, 2]] indexes with an array, not a tuple
                items = tuple(self.atom(v, e, frame) for v in value.items)
                value = self.apply(P.np_array, items, (), None, frame, e)
            idx_atoms.append(self.atom(value, e, frame))
            return len(idx_atoms) - 1

        for part in parts:
            if isinstance(part, ast.Slice):
                layout.append(("slice", ref(part.lower), ref(part.upper), ref(part.step)))
            elif isinstance(part, ast.Constant) and part.value is None:
                layout.append(("newaxis",))
            elif isinstance(part, ast.Constant) and part.value is Ellipsis:
                layout.append(("ellipsis",))
            else:
                layout.append(("at", ref(part)))
        return tuple(layout), idx_atoms
