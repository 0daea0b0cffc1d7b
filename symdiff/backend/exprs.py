"""IR atoms and operations as fresh ``ast`` expressions.

A folded temporary is held here as the expression that computes it until its one reader
asks for it, and is then written inside that reader. Every ``ast`` node is built new for
the place it appears in: the unparser records precedence per node, so a node shared
between two places could get the parentheses of the other.
"""

from __future__ import annotations

import ast

from ..ir.nodes import Assign, Atom, Const, Form, Var
from .module_names import Globals

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


class Exprs:
    """Expressions over the names a ``Plan`` chose, the module names of ``g``."""

    def __init__(self, names: dict[Var, str], g: Globals):
        self.names = names
        self.g = g
        self.folded: dict[Var, ast.expr] = {}  # temporaries waiting for their reader

    def atom(self, a: Atom) -> ast.expr:
        if isinstance(a, Var):
            if a in self.folded:
                return self.folded.pop(a)
            return ast.Name(self.names[a])
        return self.g.const(a)

    def index(self, layout: tuple, args: list[ast.expr]) -> ast.expr:
        """The subscript an index layout describes (``i, 1:, None, ...``) over ``args``."""
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
        """The right-hand side of ``s`` as the primitive's form writes it."""
        prim = s.prim
        form = prim.form
        args = [self.atom(a) for a in s.args]
        params = dict(s.params)
        if form is Form.INFIX:
            if prim.spelling in _COMPARE:
                return ast.Compare(args[0], [_COMPARE[prim.spelling]()], [args[1]])
            return ast.BinOp(args[0], _INFIX[prim.spelling](), args[1])
        if form is Form.PREFIX:
            return ast.UnaryOp(_PREFIX[prim.spelling](), args[0])
        if form is Form.GETITEM:
            return ast.Subscript(args[0], self.index(params["index"], args[1:]))
        if form is Form.ATTR:
            return ast.Attribute(args[0], prim.spelling)
        if form is Form.TUPLE:
            return ast.Tuple(args)
        if form in (Form.NEWLIST, Form.LIST):
            return ast.List(args)
        if form is Form.FSTRING:
            return _joined(params["parts"], args)
        keywords = []
        # keywords as the library spells them (dim=); a portable helper takes NumPy's
        keyword = self.g.backend.keyword if self.g.backend.renames(prim.spelling) else str
        for k, v in sorted(params.items()):
            if k == "index":  # index_grad(g, x, np.s_[...])
                args = args[:2] + [ast.Subscript(self.g.dotted("np.s_"), self.index(v, args[2:]))]
            elif v in (float, int, bool):  # dtype=float
                keywords.append(ast.keyword(keyword(k), self.g.dotted(v.__name__)))
            else:
                keywords.append(ast.keyword(keyword(k), self.g.const(Const(v))))
        if keyword is not str:
            for k, needed in self.g.backend.requires.items():
                if k in params and needed not in params:  # torch.sum(x, dim=None, keepdim=True)
                    keywords.insert(0, ast.keyword(keyword(needed), ast.Constant(None)))
        func = self.g.dotted(prim.spelling)
        if self.g.backend.takes_namespace(prim.spelling):
            keywords.append(ast.keyword("xp", self.g.namespace()))
        if form is Form.LISTCALL:
            return ast.Call(func, [ast.List(args)], keywords)
        return ast.Call(func, args, keywords)


def _joined(parts: tuple, values: list[ast.expr]) -> ast.JoinedStr:
    """``f"text {a!r:.3f}"`` from the parts of an ``fstring`` row and its values."""
    pieces: list[ast.expr] = []
    rest = iter(values)
    for part in parts:
        if part[0] == "text":
            pieces.append(ast.Constant(part[1]))
        else:
            _, conversion, spec = part
            spec_node = ast.JoinedStr([ast.Constant(spec)]) if spec else None
            pieces.append(ast.FormattedValue(next(rest), conversion, spec_node))
    return ast.JoinedStr(pieces)
