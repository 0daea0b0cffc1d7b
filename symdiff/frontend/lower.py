"""Lowering: a Python syntax tree into symdiff's IR.

Each source expression becomes single-assignment statements, one primitive each. The
outermost operation of ``z = W @ x + b`` is named ``z``; inner ones get internal temporary
names the emitter later folds back or names ``t1, t2, ...``. Names are resolved to the
Python objects they denote (``np.exp`` is looked up, not pattern-matched), calls to the
user's own functions are inlined, and module-level values become named constants.
"""

from __future__ import annotations

import ast
import copy
import types
from dataclasses import dataclass
from typing import Any, Union

import numpy as np

from ..errors import UndefinedNameError, UnsupportedFunctionError, UnsupportedSyntaxError
from ..ir import primitives as P
from ..ir.nodes import Assign, Atom, Carry, Const, Function, If, Loop, Phi, Primitive, Stmt, Var
from ..naming import NameGen
from .fence import fence
from .source import Source, get_source

CUSTOM_RULE_HINT = (
    "declare its derivative with symdiff.defrule (docs/numpy.md, 'Custom rules'), "
    "or write it with the supported NumPy/math functions listed there"
)


@dataclass(frozen=True)
class TupleV:
    """A tuple of values known item by item (``a, b = b, a``; a helper's tuple return)."""

    items: tuple["Value", ...]


@dataclass(frozen=True)
class ListV:
    items: tuple["Value", ...]


@dataclass(frozen=True)
class Obj:
    """A Python object the function refers to: a module, a function, a class."""

    value: Any
    path: str


Value = Union[Var, Const, TupleV, ListV, Obj]

_BINOPS = {
    ast.Add: P.add, ast.Sub: P.sub, ast.Mult: P.mul, ast.Div: P.div, ast.Pow: P.pow,
    ast.MatMult: P.matmul, ast.FloorDiv: P.floordiv, ast.Mod: P.mod, ast.BitAnd: P.and_,
    ast.BitOr: P.or_,
}  # fmt: skip
_UNARY = {ast.USub: P.neg, ast.UAdd: P.pos, ast.Not: P.not_, ast.Invert: P.invert}
_COMPARE = {
    ast.Lt: P.lt,
    ast.LtE: P.le,
    ast.Gt: P.gt,
    ast.GtE: P.ge,
    ast.Eq: P.eq,
    ast.NotEq: P.ne,
}
_CONSTANT_TYPES = (int, float, bool, complex, str, type(None), np.ndarray, np.generic)
_MAX_INLINE_DEPTH = 50
# operations whose result may be a view of their first argument (shares its memory)
_VIEWS = frozenset(
    {"getitem", "np.reshape", "np.ravel", "np.transpose", "T", "np.swapaxes", "np.moveaxis",
     "np.expand_dims", "np.squeeze", "np.broadcast_to", "np.asarray", "np.atleast_1d",
     "np.atleast_2d", "np.flip", "np.fliplr", "np.flipud", "np.diagonal", "list_append",
     # for real arrays these return their argument itself, or a view of it
     "np.real", "real", "np.real_if_close", "np.conj", "np.float64", "np.atleast_3d",
     "np.rot90", "np.rollaxis", "np.diag", "np.split", "np.array_split", "np.hsplit",
     "np.vsplit", "np.dsplit", "tuple_item"}
)  # fmt: skip
# operations whose result, used as an index, makes indexing advanced (a copy, never a view)
_INDEX_ARRAYS = frozenset(
    {"np.array", "np.arange", "np.argsort", "lt", "le", "gt", "ge", "eq", "ne", "np.logical_and",
     "np.logical_or", "np.logical_not"}
)  # fmt: skip
_LIST_OPS = frozenset({P.list_append, P.np_stack_list, P.np_array_list, P.sum_list, P.b_len})


class Frame:
    """One path through a function body being lowered (the main one or an inlined helper).

    A path is ``done`` once it has returned, broken out of or continued its loop; ``exit``
    is the atom saying whether it broke out (None: it did not).
    """

    def __init__(
        self, src: Source, env: dict[str, Value], result_name: str | None = None, loop: bool = False
    ):
        self.src = src
        self.env = env
        self.result: Value | None = None
        self.result_name = result_name  # what the caller will call the returned value
        self.loop = loop  # inside a loop body: return is refused, break/continue allowed
        self.done = False
        self.exit: Atom | None = None

    def fork(self) -> "Frame":
        f = Frame(self.src, dict(self.env), self.result_name, self.loop)
        return f


class Lowering:
    def __init__(self, src: Source, reserved: set[str]):
        self.root = src
        self.names = NameGen(reserved)
        self.temps = 0
        self.block: list[Stmt] = []
        self.stack: list[Source] = []
        self.helpers: list[Source] = []  # every user function inlined, for emit and caching
        self.params: set[Var] = set()
        self.lists: set[Var] = set()  # runtime Python lists (built by append in a loop)
        self._list_prim: Primitive | None = None
        self.scalar_params: set[Var] = set()  # annotated float/int: certainly scalars
        # which earlier values a value may share memory with: views, loop state, phis
        self.alias_src: dict[Var, tuple[Atom, ...]] = {}
        self.index_arrays: set[Var] = set()  # arrays and masks: as an index, they copy
        self.renamed: dict[Var, Var] = {}  # temporary -> its new name (see rename_temp)
        self.callers: list[Frame] = []  # the frames of the calls being inlined

    # ---------------------------------------------------------------- entry
    def function(self) -> Function:
        src = self.root
        args = src.tree.args
        if args.vararg or args.kwarg:
            star = args.vararg or args.kwarg
            raise UnsupportedSyntaxError(
                "functions with *args or **kwargs cannot be differentiated",
                src.loc(star),
                "give every argument a name",
            )
        params = []
        env: dict[str, Value] = {}
        for a in args.posonlyargs + args.args + args.kwonlyargs:
            v = Var(self.names.take(a.arg))
            params.append(v)
            env[a.arg] = v
            if isinstance(a.annotation, ast.Name) and a.annotation.id in ("float", "int"):
                self.scalar_params.add(v)
        signature = [a.arg for a in args.posonlyargs] + (["/"] if args.posonlyargs else [])
        signature += [a.arg for a in args.args]
        signature += (["*"] if args.kwonlyargs else []) + [a.arg for a in args.kwonlyargs]
        f = src.func
        positional = [a.arg for a in args.posonlyargs + args.args]
        defaults = list(
            zip(
                positional[len(positional) - len(f.__defaults__ or ()) :],
                f.__defaults__ or (),
            )
        )
        defaults += sorted((f.__kwdefaults__ or {}).items())
        self.params = set(params)
        frame = Frame(src, env, src.name)
        self.stack.append(src)
        self.body(frame, src.tree.body)
        self.stack.pop()
        if frame.result is None:
            raise UnsupportedSyntaxError(
                f"{src.name} has no return statement, so there is nothing to differentiate",
                src.loc(src.tree),
                "return the scalar value to differentiate",
            )
        result = self.atom(frame.result, src.tree)
        return Function(
            src.name,
            tuple(params),
            tuple(self.block),
            result,
            src.loc(src.tree),
            tuple(signature),
            tuple(defaults),
            tuple(p for p in params if p in self.scalar_params),
        )

    # ---------------------------------------------------------------- statements
    def body(self, frame: Frame, stmts: list[ast.stmt]) -> None:
        for i, stmt in enumerate(stmts):
            if frame.done:
                return  # code after return/break/continue never runs
            if isinstance(stmt, ast.If):
                self.lower_if(frame, stmt, stmts[i + 1 :])
                return
            self.statement(frame, stmt)

    def statement(self, frame: Frame, node: ast.stmt) -> None:
        src = frame.src
        if isinstance(node, ast.Assign):
            value = self.expr(frame, node.value, _hint(node.targets))
            for target in node.targets:
                self.assign(frame, target, value, node)
        elif isinstance(node, ast.AnnAssign):
            if node.value is not None:
                value = self.expr(frame, node.value, _hint([node.target]))
                self.assign(frame, node.target, value, node)
        elif isinstance(node, ast.AugAssign):
            self.augassign(frame, node)
        elif isinstance(node, ast.Return):
            if node.value is None:
                raise UnsupportedSyntaxError(
                    "a bare return gives no value to differentiate", src.loc(node)
                )
            if frame.loop:
                raise UnsupportedSyntaxError(
                    "return inside a loop is not supported",
                    src.loc(node),
                    "break out of the loop and return after it",
                )
            frame.result = self.expr(frame, node.value, self._result_hint(frame))
            frame.done = True
        elif isinstance(node, (ast.Break, ast.Continue)):
            if isinstance(node, ast.Break):
                frame.exit = Const(True)
            frame.done = True
        elif isinstance(node, ast.For):
            self.lower_for(frame, node)
        elif isinstance(node, ast.While):
            self.lower_while(frame, node)
        elif isinstance(node, ast.Expr) and _is_append(node.value):
            self.append(frame, node.value)
        elif isinstance(node, (ast.Pass, ast.Expr)):
            pass  # docstrings (the fence refuses other expression statements)
        else:
            raise UnsupportedSyntaxError(
                f"{type(node).__name__.lower()} statements are not supported", src.loc(node)
            )

    # ---------------------------------------------------------------- control flow
    def nested(self, frame: Frame, block: list[Stmt], stmts: list[ast.stmt]) -> list[Stmt]:
        """Lower ``stmts`` on the path ``frame`` into ``block`` (appending to it)."""
        outer, self.block = self.block, block
        try:
            self.body(frame, stmts)
        finally:
            self.block = outer
        return block

    def lower_if(self, frame: Frame, node: ast.If, rest: list[ast.stmt]) -> None:
        """An ``if``; when one branch ends the path (return/break/continue), the statements
        after the ``if`` run only on the other, so they are lowered into that branch."""
        cond = self.condition(frame, node.test)
        then_f, else_f = frame.fork(), frame.fork()
        then_b = self.nested(then_f, [], node.body)
        else_b = self.nested(else_f, [], node.orelse)
        if rest and then_f.done != else_f.done:
            open_f, open_b = (else_f, else_b) if then_f.done else (then_f, then_b)
            self.nested(open_f, open_b, rest)
            open_f.done = True  # this path now reaches the end of the enclosing body
            rest = []
        phis = self.merge(frame, then_f, else_f, node)
        self.block.append(If(cond, tuple(then_b), tuple(else_b), tuple(phis), frame.src.loc(node)))
        frame.done = then_f.done and else_f.done
        if not frame.done and rest:
            self.body(frame, rest)

    def merge(self, frame: Frame, a: Frame, b: Frame, node: ast.AST) -> list[Phi]:
        """Join two paths: a phi for every name (and result, and exit flag) that differs."""
        phis: list[Phi] = []
        loc = frame.src.loc(node)

        def join(x: Value, y: Value, name: str | None) -> Value:
            if x == y:
                return x
            if (
                isinstance(x, (TupleV, ListV))
                and type(x) is type(y)
                and len(x.items) == len(y.items)
            ):
                return type(x)(tuple(join(i, j, name) for i, j in zip(x.items, y.items)))
            if isinstance(x, Obj) or isinstance(y, Obj):
                raise UnsupportedSyntaxError(
                    f"`{name}` names different kinds of object on the two branches", loc
                )
            xa, ya = self.atom(x, node, frame), self.atom(y, node, frame)
            target = Var(self.names.fresh(name)) if name else self.temp()
            phis.append(Phi(target, xa, ya))
            self.alias_src[target] = (xa, ya)
            if xa in self.lists or ya in self.lists:
                self.lists.add(target)
            return target

        for name in a.env:
            if name in b.env:
                frame.env[name] = join(a.env[name], b.env[name], name)
            else:
                frame.env.pop(name, None)  # bound on one path only: unusable after the join
        for name in list(frame.env):
            if name not in a.env or name not in b.env:
                frame.env.pop(name, None)
        if a.result is not None or b.result is not None:
            if a.result is None or b.result is None:
                raise UnsupportedSyntaxError(
                    "not every path through this `if` returns a value", loc,
                    "return on every path, or assign a variable and return it after the if",
                )  # fmt: skip
            frame.result = join(a.result, b.result, frame.result_name)
        if a.exit is not None or b.exit is not None:
            frame.exit = join(a.exit or Const(False), b.exit or Const(False), None)
        return phis

    def condition(self, frame: Frame, test: ast.expr) -> Atom:
        return self.atom(self.expr(frame, test), test, frame)

    def loop_state(self, frame: Frame, body: list[ast.stmt], targets: set[str]) -> list[str]:
        """Names that flow around a loop: assigned in its body and bound before it."""
        assigned = _assigned_names(body) - targets
        return sorted(n for n in assigned if n in frame.env)

    def lower_for(self, frame: Frame, node: ast.For) -> None:
        src = frame.src
        loc = src.loc(node)
        header, reads = self.iteration(frame, node)
        targets = _assigned_names([ast.Assign(targets=[node.target], value=ast.Constant(0))])
        carried = self.loop_state(frame, node.body, targets)
        body_f = frame.fork()
        body_f.loop = True
        carries = self.enter_loop(frame, body_f, carried, node)
        counter = _index_name(node.target) if header[1:] and reads(None) is None else "i"
        index = Var(self.names.fresh(counter))
        block: list[Stmt] = []
        outer, self.block = self.block, block
        try:
            element = self.rename_temp(reads(index), _index_name(node.target))
            if isinstance(node.target, ast.Tuple) and isinstance(element, TupleV):
                element = TupleV(
                    tuple(
                        self.rename_temp(e, t.id) if isinstance(t, ast.Name) else e
                        for e, t in zip(element.items, node.target.elts)
                    )
                )
            self.assign(body_f, node.target, element, node)
        finally:
            self.block = outer
        self.nested(body_f, block, node.body)
        final = self.leave_loop(frame, body_f, carries, node.body + [node.target], node)
        self.block.append(
            Loop("range", header, index, final, tuple(block), exit=body_f.exit, loc=loc)
        )

    def lower_while(self, frame: Frame, node: ast.While) -> None:
        loc = frame.src.loc(node)
        carried = self.loop_state(frame, node.body, set())
        body_f = frame.fork()
        body_f.loop = True
        carries = self.enter_loop(frame, body_f, carried, node)
        cond_block: list[Stmt] = []
        outer, self.block = self.block, cond_block
        try:
            cond = self.condition(body_f, node.test)
        finally:
            self.block = outer
        block = self.nested(body_f, [], node.body)
        final = self.leave_loop(frame, body_f, carries, node.body, node)
        self.block.append(
            Loop("while", (), None, final, tuple(block), tuple(cond_block), cond, body_f.exit, loc)
        )

    def enter_loop(self, frame: Frame, body_f: Frame, carried: list[str], node: ast.AST) -> dict:
        carries = {}
        for name in carried:
            value = frame.env[name]
            if isinstance(value, ListV):  # a list the loop appends to: a runtime list
                items = tuple(self.atom(v, node, frame) for v in value.items)
                value = self.apply(P.make_list, items, (), name, frame, node)
            init = self.atom(value, node, frame)
            var = Var(self.names.fresh(name))
            self.alias_src[var] = (init,)
            if init in self.lists:
                self.lists.add(var)
            carries[name] = (var, init)
            body_f.env[name] = var
        return carries

    def leave_loop(
        self, frame: Frame, body_f: Frame, carries: dict, body: list, node: ast.AST
    ) -> tuple[Carry, ...]:
        """The loop's carries; after it, the carried names hold the loop's results. Names
        bound only inside the loop are not visible after it (Python would leave the last
        iteration's value, which does not exist when the loop runs zero times)."""
        out = []
        for name, (var, init) in carries.items():
            nxt = self.atom(body_f.env[name], node, body_f)
            after = Var(self.names.fresh(name))
            if var in self.lists:
                self.lists.add(after)
            out.append(Carry(var, init, nxt, after))
            frame.env[name] = after
        for name in _assigned_names(body):
            if name not in carries:
                frame.env.pop(name, None)
        return tuple(out)

    def iteration(self, frame: Frame, node: ast.For):
        """The range a ``for`` loop walks and how each element is read at an index."""
        it = node.iter
        loc = frame.src.loc(it)
        call = it if isinstance(it, ast.Call) else None
        fname = self.callee_object(frame, call.func) if call is not None else None
        if fname is range:
            bounds = [self.atom(self.expr(frame, a), a, frame) for a in call.args]
            if not 1 <= len(bounds) <= 3 or call.keywords:
                raise UnsupportedSyntaxError("range() takes 1 to 3 positional arguments", loc)
            if len(bounds) == 1:
                bounds = [Const(0), bounds[0]]
            return tuple(bounds), lambda i: i if i is not None else None
        if fname is enumerate:
            if len(call.args) != 1 or call.keywords:
                raise UnsupportedSyntaxError("enumerate() with a start is not supported", loc)
            inner = ast.For(target=ast.Name("_"), iter=call.args[0], body=[], orelse=[])
            ast.copy_location(inner, node)
            header, reads = self.iteration(frame, inner)
            return header, lambda i: TupleV((i, reads(i))) if i is not None else 0
        if fname is zip:
            seqs = [self.atom(self.expr(frame, a), a, frame) for a in call.args]
            lens = [self.apply(P.b_len, (s,), (), None, frame, it) for s in seqs]
            n = lens[0]
            for other in lens[1:]:
                n = self.apply(P.b_min, (n, other), (), None, frame, it)
            return (Const(0), n), lambda i: (
                TupleV(tuple(self.item(s, i, frame, it) for s in seqs)) if i is not None else 0
            )
        seq = self.expr(frame, it)
        if isinstance(seq, (TupleV, ListV)):
            seq = self.atom(seq, it, frame)
        if not isinstance(seq, (Var, Const)):
            raise UnsupportedSyntaxError(
                "for loops walk range(...), an array, enumerate(...) or zip(...)", loc
            )
        n = self.apply(P.b_len, (seq,), (), None, frame, it)
        return (Const(0), n), lambda i: self.item(seq, i, frame, it) if i is not None else 0

    def item(self, seq: Atom, i: Atom, frame: Frame, node: ast.AST) -> Var:
        return self.apply(P.getitem, (seq, i), (("index", (("at", 0),)),), None, frame, node)

    def callee_object(self, frame: Frame, func: ast.expr) -> Any:
        if isinstance(func, ast.Name) and func.id not in frame.env:
            found, obj = frame.src.lookup(func.id)
            return obj if found else None
        return None

    def _result_hint(self, frame: Frame) -> str | None:
        return frame.result_name

    def assign(self, frame: Frame, target: ast.expr, value: Value, node: ast.AST) -> None:
        if isinstance(target, ast.Name):
            frame.env[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = self.unpack(frame, value, len(target.elts), target)
            for t, v in zip(target.elts, items):
                self.assign(frame, t, v, node)
        elif isinstance(target, ast.Subscript):
            self.setitem(frame, target, value, node)
        else:
            raise UnsupportedSyntaxError(
                f"assignment to {type(target).__name__.lower()} targets is not supported",
                frame.src.loc(target),
            )

    def setitem(self, frame: Frame, target: ast.Subscript, value: Value, node: ast.AST) -> None:
        """``y[i] = v`` as a new array: ``y_1 = setitem(y, v, i)`` (the old ``y`` is unchanged).

        Single assignment makes the overwritten values' gradients come out right: the old
        array's adjoint is zero where it was overwritten.
        """
        if not isinstance(target.value, ast.Name):
            raise UnsupportedSyntaxError(
                "only assignment into a named array is supported (y[i] = ...)",
                frame.src.loc(target),
            )
        name = target.value.id
        base = self.lookup(frame, name, target.value)
        if not isinstance(base, Var):
            raise UnsupportedSyntaxError(
                f"`{name}` is not an array created in this function", frame.src.loc(target),
                f"make a local copy first: {name} = np.copy({name})",
            )  # fmt: skip
        others = self.sharing(frame, name, base)
        if others or base in self.params:
            what = f"`{others[0]}` also names it" if others else "it is an argument"
            raise UnsupportedSyntaxError(
                f"assigning into `{name}` would change an array that {what} (an in-place update)",
                frame.src.loc(target),
                f"make a copy first: {name} = np.copy({name})",
            )
        v = self.atom(value, node, frame)
        layout, idx = self.index_layout(frame, target.slice)
        frame.env[name] = self.apply(
            P.setitem, (base, v, *idx), (("index", layout),), name, frame, target
        )

    def unpack(self, frame: Frame, value: Value, n: int, node: ast.AST) -> tuple[Value, ...]:
        if isinstance(value, (TupleV, ListV)):
            if len(value.items) != n:
                raise UnsupportedSyntaxError(
                    f"cannot unpack {len(value.items)} values into {n} names",
                    frame.src.loc(node),
                )
            return value.items
        if isinstance(value, Const) and isinstance(value.value, tuple) and len(value.value) == n:
            return tuple(Const(v) for v in value.value)
        atom = self.atom(value, node, frame)
        return tuple(
            self.apply(
                P.getitem,
                (atom, Const(i)),
                (("index", (("at", 0),)),),
                None,
                frame,
                node,
            )
            for i in range(n)
        )

    def augassign(self, frame: Frame, node: ast.AugAssign) -> None:
        """``y += v`` is ``y = y + v`` (a new value; an alias of ``y`` is refused, since
        Python would update the shared array in place and the alias would see it)."""
        target = node.target
        if isinstance(target, ast.Name):
            current = self.lookup(frame, target.id, target)
            others = self.sharing(frame, target.id, current)
            if others and current not in self.scalar_params:
                op = _op_text(node.op)
                raise UnsupportedSyntaxError(
                    f"`{target.id} {op}=` would change the array that `{others[0]}` also names "
                    "(an in-place update through an alias)",
                    frame.src.loc(node),
                    f"write `{target.id} = {target.id} {op} ...` to make a new array",
                )
        elif not isinstance(target, ast.Subscript):
            raise UnsupportedSyntaxError(
                "augmented assignment to this target is not supported", frame.src.loc(node)
            )
        prim = _BINOPS.get(type(node.op))
        if prim is None:
            raise UnsupportedSyntaxError(
                "this augmented assignment is not supported", frame.src.loc(node)
            )
        load = _as_load(target)
        current = self.expr(frame, load)
        right = self.expr(frame, node.value)
        hint = target.id if isinstance(target, ast.Name) else None
        args = (self.atom(current, node, frame), self.atom(right, node, frame))
        self.assign(frame, target, self.apply(prim, args, (), hint, frame, node), node)

    def append(self, frame: Frame, call: ast.Call) -> None:
        """``xs.append(v)``: a longer literal list, or in a loop a runtime list."""
        base = call.func.value
        loc = frame.src.loc(call)
        current = frame.env.get(base.id) if isinstance(base, ast.Name) else None
        if not isinstance(current, ListV) and current not in self.lists:
            raise UnsupportedSyntaxError(
                "append is supported on lists created in this function (xs = [] ...)", loc
            )
        if len(call.args) != 1 or call.keywords:
            raise UnsupportedSyntaxError("append takes one argument", loc)
        item = self.expr(frame, call.args[0])
        if isinstance(current, ListV):
            frame.env[base.id] = ListV(current.items + (item,))
            return
        others = [k for k, v in frame.env.items() if v == current and k != base.id]
        if others:
            raise UnsupportedSyntaxError(
                f"appending to `{base.id}` would change the list `{others[0]}` also names", loc
            )
        v = self.atom(item, call, frame)
        frame.env[base.id] = self.apply(P.list_append, (current, v), (), base.id, frame, call)

    # ---------------------------------------------------------------- expressions
    def expr(self, frame: Frame, node: ast.expr, hint: str | None = None) -> Value:
        src = frame.src
        if isinstance(node, ast.Constant):
            return Const(node.value)
        if isinstance(node, ast.Name):
            return self.lookup(frame, node.id, node)
        if isinstance(node, ast.BinOp):
            prim = _BINOPS.get(type(node.op))
            if prim is None:
                raise UnsupportedSyntaxError(
                    f"the operator {_op_text(node.op)} is not supported", src.loc(node)
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
            prim = _UNARY[type(node.op)]
            return self.apply(prim, (self.atom(x, node.operand, frame),), (), hint, frame, node)
        if isinstance(node, ast.Compare):
            if len(node.ops) != 1:
                raise UnsupportedSyntaxError(
                    "chained comparisons are not supported",
                    src.loc(node),
                    "write `(a < b) & (b < c)` for arrays, or `a < b and b < c` in a condition",
                )
            prim = _COMPARE.get(type(node.ops[0]))
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
        raise UnsupportedSyntaxError(
            f"{type(node).__name__} expressions are not supported yet", src.loc(node)
        )

    def ifexp(self, frame: Frame, node: ast.IfExp, hint: str | None) -> Value:
        """``a if c else b``: a branch, so that only the chosen side is evaluated."""
        cond = self.condition(frame, node.test)
        values = []
        blocks = []
        for side in (node.body, node.orelse):
            f = frame.fork()
            block: list[Stmt] = []
            outer, self.block = self.block, block
            try:
                values.append(self.atom(self.expr(f, side), side, f))
            finally:
                self.block = outer
            blocks.append(tuple(block))
        target = Var(self.names.fresh(hint)) if hint else self.temp()
        phi = Phi(target, values[0], values[1])
        self.block.append(If(cond, blocks[0], blocks[1], (phi,), frame.src.loc(node)))
        return target

    def boolop(self, frame: Frame, node: ast.BoolOp, hint: str | None) -> Value:
        """``a and b`` / ``a or b`` with Python's short circuit (``b`` may not be evaluable)."""
        value = self.atom(self.expr(frame, node.values[0]), node.values[0], frame)
        for operand in node.values[1:]:
            block: list[Stmt] = []
            outer, self.block = self.block, block
            try:
                right = self.atom(self.expr(frame.fork(), operand), operand, frame)
            finally:
                self.block = outer
            target = self.temp()
            if isinstance(node.op, ast.And):
                stmt = If(
                    value, tuple(block), (), (Phi(target, right, value),), frame.src.loc(node)
                )
            else:
                stmt = If(
                    value, (), tuple(block), (Phi(target, value, right),), frame.src.loc(node)
                )
            self.block.append(stmt)
            value = target
        return value

    def lookup(self, frame: Frame, name: str, node: ast.AST) -> Value:
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
        if isinstance(obj, _CONSTANT_TYPES) or (
            isinstance(obj, tuple) and all(isinstance(v, _CONSTANT_TYPES) for v in obj)
        ):
            if isinstance(obj, np.ndarray) and obj.dtype == object:
                raise UnsupportedSyntaxError(
                    f"`{path}` is an object array, which cannot be differentiated",
                    frame.src.loc(node),
                )
            return Const(obj, path)
        return Obj(obj, path)

    def attribute(self, frame: Frame, node: ast.Attribute, hint: str | None) -> Value:
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
        if prim is None and isinstance(node.value, ast.Name) and base in self.params:
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
        """An index expression as a static layout plus the atoms it reads (see prims._index)."""
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

    # ---------------------------------------------------------------- calls
    def call(self, frame: Frame, node: ast.Call, hint: str | None) -> Value:
        src = frame.src
        func = node.func
        if isinstance(func, ast.Attribute):
            base = self.expr(frame, func.value)
            if not isinstance(base, Obj):
                return self.method(frame, node, base, func.attr, hint)
            callee = self.attribute(frame, func, None)
        else:
            callee = self.expr(frame, func)
        name = ast.unparse(func)
        obj = callee.value if isinstance(callee, (Obj, Const)) else None
        args = [self.expr(frame, a) for a in node.args]
        kwargs = {k.arg: self.expr(frame, k.value) for k in node.keywords}
        prim = P.resolve(obj) if obj is not None else None
        if obj is sum and len(args) == 1 and not kwargs:
            return self.builtin_sum(frame, args[0], hint, node)
        if obj is np.array and args:  # a list of values, or a copy of one array
            self._list_prim = None
            literal = isinstance(args[0], (ListV, TupleV)) or args[0] in self.lists
            prim = P.np_array if literal else P.np_array_of
            atoms, params = self.bind(frame, prim, args, kwargs, node, name)
            return self.apply(self._list_prim or prim, atoms, params, hint, frame, node)
        if prim is not None and prim not in P.INTERNAL_ONLY:
            self._list_prim = None
            prim, args, kwargs = P.normalize(prim, args, kwargs)
            atoms, params = self.bind(frame, prim, args, kwargs, node, name)
            value = self.apply(self._list_prim or prim, atoms, params, hint, frame, node)
            return self.results(frame, prim, value, params, node, name)
        if isinstance(obj, types.FunctionType) and _from_library(obj):
            raise UnsupportedFunctionError(
                f"symdiff has no derivative rule for `{name}` ({obj.__module__}.{obj.__qualname__})",
                src.loc(node),
                CUSTOM_RULE_HINT,
            )
        if isinstance(obj, types.FunctionType) and not hasattr(obj, "__symdiff_grad__"):
            return self.inline(frame, obj, args, kwargs, node, hint)
        if isinstance(obj, (types.FunctionType, types.MethodType)) or callable(obj):
            target = getattr(obj, "__qualname__", name)
            raise UnsupportedFunctionError(
                f"symdiff has no derivative rule for `{name}` ({target})",
                src.loc(node),
                CUSTOM_RULE_HINT,
            )
        raise UnsupportedSyntaxError(f"`{name}` is not callable", src.loc(node))

    def results(
        self, frame: Frame, prim: Primitive, value: Var, params: tuple, node: ast.AST, name: str
    ) -> Value:
        """A call with several results (``w, v = np.linalg.eigh(a)``) gives a tuple of items."""
        count = P.MULTI_OUTPUT.get(prim)
        if count is None:
            return value
        n = count(dict(params))
        if n == 0:
            return value
        if n is None:
            raise UnsupportedSyntaxError(
                f"the number of results of `{name}` must be known when the gradient is built",
                frame.src.loc(node),
                "pass a constant number of sections or a literal list of split points",
            )
        layout = (("index", (("at", 0),)),)
        return TupleV(
            tuple(
                self.apply(P.tuple_item, (value, Const(i)), layout, None, frame, node)
                for i in range(n)
            )
        )

    def builtin_sum(self, frame: Frame, seq: Value, hint: str | None, node: ast.AST) -> Value:
        """``sum(xs)``: Python's ``0 + xs[0] + xs[1] + ...``."""
        if isinstance(seq, (ListV, TupleV)):
            total: Value = Const(0)
            for i, item in enumerate(seq.items):
                name = hint if i == len(seq.items) - 1 else None
                args = (self.atom(total, node, frame), self.atom(item, node, frame))
                total = self.apply(P.add, args, (), name, frame, node)
            return total
        if seq in self.lists:
            return self.apply(P.sum_list, (seq,), (), hint, frame, node)
        raise UnsupportedFunctionError(
            "sum() is supported over lists; for arrays use np.sum", frame.src.loc(node)
        )

    def method(
        self, frame: Frame, node: ast.Call, base: Value, attr: str, hint: str | None
    ) -> Value:
        if attr == "append":
            raise UnsupportedSyntaxError("list.append is not supported yet", frame.src.loc(node))
        prim = P.METHODS.get(attr)
        owner = node.func.value if isinstance(node.func, ast.Attribute) else None
        if prim is None and isinstance(owner, ast.Name) and base in self.params:
            what = f"{owner.id}.{attr}"  # self.helper(x) in a method
            raise UnsupportedFunctionError(
                f"calling `{what}()` is not supported: arguments are arrays and numbers to "
                "symdiff, not objects with methods",
                frame.src.loc(node),
                "make it a module-level function taking arrays, and call that",
            )
        if prim is None:
            raise UnsupportedFunctionError(
                f"the array method `.{attr}()` is not supported",
                frame.src.loc(node),
                "supported methods: " + ", ".join(sorted(P.METHODS)) + "; or " + CUSTOM_RULE_HINT,
            )
        args = [base] + [self.expr(frame, a) for a in node.args]
        kwargs = {k.arg: self.expr(frame, k.value) for k in node.keywords}
        if attr in ("reshape", "transpose") and len(args) > 2:
            args = [
                base,
                TupleV(tuple(args[1:])),
            ]  # x.reshape(n, m) is x.reshape((n, m))
        prim, args, kwargs = P.normalize(prim, args, kwargs)
        atoms, params = self.bind(frame, prim, args, kwargs, node, f".{attr}")
        return self.apply(prim, atoms, params, hint, frame, node)

    def bind(
        self, frame: Frame, prim: Primitive, args: list[Value], kwargs: dict[str, Value],
        node: ast.Call, name: str,
    ) -> tuple[tuple[Atom, ...], tuple[tuple[str, Any], ...]]:  # fmt: skip
        """Split a call's arguments into array inputs (atoms) and static parameters."""
        loc = frame.src.loc(node)
        if prim in P.LIST_CONSUMERS and args and args[0] in self.lists:
            prim = P.LIST_CONSUMERS[prim]
            self._list_prim = prim
        if prim.form == "listcall":
            if not args or not isinstance(args[0], (ListV, TupleV)):
                raise UnsupportedSyntaxError(
                    f"`{name}` needs a literal list or tuple of arrays here", loc,
                    "write the list out, e.g. np.stack([a, b])",
                )  # fmt: skip
            atoms = [self.atom(v, node, frame) for v in args[0].items]
            rest = args[1:]
        elif prim.nargs == -1:
            atoms, rest = [self.atom(v, node, frame) for v in args], []
        else:
            atoms = [self.atom(v, node, frame) for v in args[: prim.nargs]]
            rest = args[prim.nargs :]
            if len(atoms) < prim.nargs:
                raise UnsupportedSyntaxError(
                    f"`{name}` takes {prim.nargs} array argument(s) here, got {len(atoms)}",
                    loc,
                )
        names = [k for k, _ in prim.defaults]
        if len(rest) > len(names):
            raise UnsupportedSyntaxError(f"too many arguments to `{name}`", loc)
        given = dict(zip(names, rest))
        for k, v in kwargs.items():
            if k not in names and prim.differentiable:
                raise UnsupportedSyntaxError(
                    f"the argument `{k}=` of `{name}` is not supported",
                    loc,
                    f"supported: {', '.join(names) or 'none'}",
                )
            given[k] = v
        params = []
        for k, v in given.items():
            v = _static(v)
            if not isinstance(v, Const):
                raise UnsupportedSyntaxError(
                    f"the argument `{k}` of `{name}` must be a constant when the gradient is built",
                    loc,
                )
            params.append((k, v.value))
        defaults = dict(prim.defaults)
        kept = tuple(sorted((k, v) for k, v in params if k not in defaults or defaults[k] != v))
        return tuple(atoms), kept

    def inline(
        self, frame: Frame, fn: types.FunctionType, args: list[Value], kwargs: dict[str, Value],
        node: ast.Call, hint: str | None,
    ) -> Value:  # fmt: skip
        """Lower a call to the user's own function in place, with its own names."""
        loc = frame.src.loc(node)
        if any(s.func is fn for s in self.stack) or len(self.stack) > _MAX_INLINE_DEPTH:
            raise UnsupportedSyntaxError(
                f"recursive call to `{fn.__name__}`",
                loc,
                "write the recursion as a loop",
            )
        src = get_source(fn)
        fence(src)
        import inspect

        sig = inspect.signature(fn)
        try:
            bound = sig.bind(*args, **kwargs)
        except TypeError as exc:
            raise UnsupportedSyntaxError(f"bad call to `{fn.__name__}`: {exc}", loc) from None
        env: dict[str, Value] = {}
        for pname, param in sig.parameters.items():
            if pname in bound.arguments:
                value = bound.arguments[pname]
                if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                    raise UnsupportedSyntaxError(
                        f"`{fn.__name__}` takes *args/**kwargs, which cannot be inlined",
                        loc,
                    )
            else:
                value = self.global_value(frame, param.default, repr(param.default), node)
                if isinstance(value, Const):
                    value = Const(value.value)
            env[pname] = self.rename_temp(value, pname)
        if src not in self.helpers:
            self.helpers.append(src)
        inner = Frame(src, env, hint)
        self.stack.append(src)
        self.callers.append(frame)  # an argument updated in place changes the caller's array
        try:
            self.body(inner, src.tree.body)
        finally:
            self.callers.pop()
        self.stack.pop()
        if inner.result is None:
            raise UnsupportedSyntaxError(f"`{fn.__name__}` returns no value", loc)
        return inner.result

    def may_alias(self, v: Value) -> set[Var]:
        """The values ``v`` may share memory with (itself included)."""
        out: set[Var] = set()
        todo = [v]
        while todo:
            a = todo.pop()
            if isinstance(a, Var) and a not in out:
                out.add(a)
                todo.extend(self.alias_src.get(a, ()))
        return out

    def sharing(self, frame: Frame, name: str, value: Value) -> list[str]:
        """Other names bound to memory that ``value`` may share: updating it in place would
        change what they see, as it does in Python."""
        mine = self.may_alias(value)
        if not mine:
            return []
        return sorted(
            {
                k
                for f in (frame, *self.callers)
                for k, v in f.env.items()
                if (k != name or f is not frame) and isinstance(v, Var) and self.may_alias(v) & mine
            }
        )

    def rename_temp(self, value: Value, name: str) -> Value:
        """Give a just-computed temporary the name of the parameter it is bound to.

        ``sigmoid(W @ x + b)`` then reads ``z = W @ x + b`` in the generated code.
        """
        if not (isinstance(value, Var) and value.name.startswith("%t")):
            return value
        for i in range(len(self.block) - 1, -1, -1):
            stmt = self.block[i]
            if isinstance(stmt, Assign) and stmt.target == value:
                later = self.block[i + 1 :]
                if any(not isinstance(s, Assign) or value in s.args for s in later):
                    return value  # already read under this name: keep it
                named = Var(self.names.fresh(name))
                self.block[i] = Assign(named, stmt.prim, stmt.args, stmt.params, stmt.loc)
                # names bound earlier may still hold the temporary: atom() and apply() read
                # it as its new name, and the new name shares its memory
                self.renamed[value] = named
                self.alias_src[named] = (value,)
                if value in self.lists:
                    self.lists.add(named)
                return named
        return value

    # ---------------------------------------------------------------- building
    def atom(self, value: Value, node: ast.AST, frame: Frame | None = None) -> Atom:
        """A value as a single IR atom (a tuple of arrays becomes one packed value)."""
        if isinstance(value, Var):
            return self.renamed.get(value, value)
        if isinstance(value, Const):
            return value
        frame = frame or Frame(self.root, {})
        if isinstance(value, (TupleV, ListV)):
            atoms = tuple(self.atom(v, node, frame) for v in value.items)
            if all(isinstance(a, Const) and a.name is None for a in atoms):
                return Const(tuple(a.value for a in atoms))
            prim = P.make_tuple if isinstance(value, TupleV) else P.np_array
            return self.apply(prim, atoms, (), None, frame, node)
        raise UnsupportedSyntaxError(
            f"`{value.path}` cannot be used as a value here", frame.src.loc(node)
        )

    def temp(self) -> Var:
        self.temps += 1
        return Var(f"%t{self.temps}")

    def apply(
        self, prim: Primitive, args: tuple[Atom, ...], params: tuple, hint: str | None,
        frame: Frame, node: ast.AST,
    ) -> Var:  # fmt: skip
        args = tuple(self.renamed.get(a, a) if isinstance(a, Var) else a for a in args)
        used = [a for a in args if a in self.lists]
        if used and prim not in _LIST_OPS:
            raise UnsupportedSyntaxError(
                f"`{used[0]}` is a list built in a loop; such lists can be passed to np.stack, "
                "np.array, sum() and len()",
                frame.src.loc(node),
                "stack it first: xs = np.stack(xs)",
            )
        if hint is None:
            self.temps += 1
            target = Var(f"%t{self.temps}")
        else:
            target = Var(self.names.fresh(hint))
        if prim in P.LIST_MAKERS:
            self.lists.add(target)
        if prim.name in _INDEX_ARRAYS:
            self.index_arrays.add(target)
        if prim.name in _VIEWS and args:
            advanced = prim is P.getitem and any(a in self.index_arrays for a in args[1:])
            if not advanced:  # x[[0, 0]], x[mask]: advanced indexing always copies
                self.alias_src[target] = (args[0],)
        self.block.append(Assign(target, prim, args, params, frame.src.loc(node)))
        return target


def _assigned_names(stmts: list) -> set[str]:
    """Every plain name a block binds: assignment targets, loop targets, appended lists."""
    names: set[str] = set()
    for stmt in stmts:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store):
                if isinstance(node.value, ast.Name):
                    names.add(node.value.id)
            elif isinstance(node, ast.Call) and _is_append(node):
                if isinstance(node.func.value, ast.Name):
                    names.add(node.func.value.id)
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                names.add(node.target.id)
    return names


def _index_name(target: ast.expr) -> str:
    """The loop counter's name: the user's for ``for i in range(n)``, else ``i``."""
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Tuple) and target.elts and isinstance(target.elts[0], ast.Name):
        return target.elts[0].id
    return "i"


def _is_append(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "append"
    )


def _as_load(node: ast.expr) -> ast.expr:
    node = copy.deepcopy(node)
    for sub in ast.walk(node):
        if hasattr(sub, "ctx"):
            sub.ctx = ast.Load()
    return node


def _static(v: Value) -> Value:
    """A static argument as a constant: nested literal lists and tuples become tuples, and a
    type given as a dtype (``float``, ``np.float32``) becomes its dtype name."""
    if isinstance(v, (TupleV, ListV)):
        items = [_static(i) for i in v.items]
        if all(isinstance(i, Const) for i in items):
            return Const(tuple(i.value for i in items))
    if isinstance(v, Obj) and P.dtype_name(v.value) is not None:
        return Const(P.dtype_name(v.value))
    if isinstance(v, Const) and isinstance(v.value, np.ndarray) and v.value.size <= 64:
        return Const(_tuples(v.value.tolist()))  # static parameters are hashable
    return v


def _tuples(value: Any) -> Any:
    return tuple(map(_tuples, value)) if isinstance(value, list) else value


_LIBRARIES = frozenset({"numpy", "scipy", "math", "builtins"})


def _from_library(fn: types.FunctionType) -> bool:
    """A Python function of NumPy or SciPy: symdiff does not look inside libraries."""
    return (getattr(fn, "__module__", None) or "").split(".")[0] in _LIBRARIES


def _hint(targets: list[ast.expr]) -> str | None:
    """Name the value after the variable it is assigned to, when there is exactly one."""
    if len(targets) == 1 and isinstance(targets[0], ast.Name):
        return targets[0].id
    return None


def _op_text(op: ast.operator) -> str:
    return {
        ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
        ast.MatMult: "@", ast.FloorDiv: "//", ast.Mod: "%", ast.BitAnd: "&", ast.BitOr: "|",
        ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>",
    }.get(type(op), type(op).__name__)  # fmt: skip


def lower(src: Source, reserved: set[str]) -> tuple[Function, list[Source]]:
    """Fence and lower ``src``; returns the IR and the helper sources that were inlined."""
    fence(src)
    lowering = Lowering(src, reserved)
    fn = lowering.function()
    return fn, lowering.helpers
