"""The lowering's state and the interface its parts use of one another.

Lowering is split by job: statements (``lower_stmts``), branches (``lower_branches``), loops
(``lower_loops``), expressions (``lower_exprs``), calls and inlining (``lower_calls``),
comprehensions (``lower_comprehensions``). Each
part is a class over ``LoweringBase``, and ``lowering.Lowering`` combines them. The state is
three objects rather than one bag of fields: the ``Builder`` (statements and names), the
``Memory`` (aliasing and kinds of values) and the ``Inlining`` stack.

The abstract methods declared here are what one part calls in another; ``atom`` and
``apply`` build IR for all of them.
"""

from __future__ import annotations

import ast
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Sequence

from ..errors import UnsupportedSyntaxError
from ..ir import primitives as P
from ..ir.nodes import Assign, Atom, Carry, Const, Effect, Phi, Primitive, Var
from .aliasing import LIST_OPS, Memory, Refusal
from .building import Builder
from .liveness import read_later
from .source import Source
from .values import Frame, ListV, TupleV, Value


@dataclass
class Inlining:
    """The user functions being inlined: the call stack, and every helper read so far."""

    stack: list[Source] = field(default_factory=list)
    helpers: list[Source] = field(default_factory=list)  # for emit and caching
    callers: list[Frame] = field(default_factory=list)  # the frames of the calls inlined


class LoweringBase(ABC):
    def __init__(self, src: Source, reserved: set[str], scalars: frozenset[str] = frozenset()):
        self.root = src
        self.declared_scalars = scalars  # parameters the caller says are scalars
        self.build = Builder(reserved)
        self.memory = Memory()
        self.inlining = Inlining()

    @property
    def helpers(self) -> list[Source]:
        """Every user function inlined (the caller emits and caches them with the result)."""
        return self.inlining.helpers

    # ------------------------------------------------------------------ hooks
    @abstractmethod
    def body(self, frame: Frame, stmts: list[ast.stmt], tail: Sequence[ast.stmt] = ()) -> None:
        """Lower statements on the path ``frame`` (``lower_stmts``)."""

    @abstractmethod
    def statement(self, frame: Frame, node: ast.stmt) -> None:
        """Lower one statement other than ``if`` (``lower_stmts``)."""

    @abstractmethod
    def assign(self, frame: Frame, target: ast.expr, value: Value, node: ast.AST) -> None:
        """Bind ``value`` to an assignment target (``lower_stmts``)."""

    @abstractmethod
    def append(self, frame: Frame, call: ast.Call) -> None:
        """``xs.append(v)`` (``lower_stmts``)."""

    @abstractmethod
    def nested(
        self, frame: Frame, block: list, stmts: list[ast.stmt], tail: Sequence[ast.stmt] = ()
    ) -> list:
        """Lower statements into another block (``lower_branches``)."""

    @abstractmethod
    def lower_if(
        self, frame: Frame, node: ast.If, rest: list[ast.stmt], tail: Sequence[ast.stmt] = ()
    ) -> None:
        """An ``if`` and what follows it (``lower_branches``)."""

    @abstractmethod
    def merge(self, frame: Frame, a: Frame, b: Frame, node: ast.AST) -> list[Phi]:
        """Join two paths (``lower_branches``)."""

    @abstractmethod
    def condition(self, frame: Frame, test: ast.expr) -> Atom:
        """A test as one atom (``lower_branches``)."""

    @abstractmethod
    def ifexp(self, frame: Frame, node: ast.IfExp, hint: str | None) -> Value:
        """``a if c else b`` (``lower_branches``)."""

    @abstractmethod
    def boolop(self, frame: Frame, node: ast.BoolOp, hint: str | None) -> Value:
        """``a and b``, ``a or b`` (``lower_branches``)."""

    @abstractmethod
    def lower_for(self, frame: Frame, node: ast.For) -> None:
        """A ``for`` loop (``lower_loops``)."""

    @abstractmethod
    def lower_while(self, frame: Frame, node: ast.While) -> None:
        """A ``while`` loop (``lower_loops``)."""

    @abstractmethod
    def loop_state(self, frame: Frame, body: list[ast.stmt], targets: set[str]) -> list[str]:
        """The names a loop carries (``lower_loops``)."""

    @abstractmethod
    def leave_loop(
        self, frame: Frame, body_f: Frame, carries: dict, body: list, node: ast.AST,
        runs: bool = False,
    ) -> tuple[Carry, ...]:  # fmt: skip
        """The carries of a loop, bound after it (``lower_loops``)."""

    @abstractmethod
    def callee_object(self, frame: Frame, func: ast.expr) -> Any:
        """The module-level object a called name denotes, or None (``lower_loops``)."""

    @abstractmethod
    def expr(self, frame: Frame, node: ast.expr, hint: str | None = None) -> Value:
        """Lower an expression (``lower_exprs``)."""

    @abstractmethod
    def lookup(self, frame: Frame, name: str, node: ast.AST) -> Value:
        """What a name means on this path (``lower_exprs``)."""

    @abstractmethod
    def global_value(self, frame: Frame, obj: Any, path: str, node: ast.AST) -> Value:
        """A module-level object as a value (``lower_exprs``)."""

    @abstractmethod
    def attribute(self, frame: Frame, node: ast.Attribute, hint: str | None) -> Value:
        """``a.b`` (``lower_exprs``)."""

    @abstractmethod
    def subscript(self, frame: Frame, node: ast.Subscript, hint: str | None) -> Value:
        """``a[i]`` (``lower_exprs``)."""

    @abstractmethod
    def index_layout(self, frame: Frame, index: ast.expr) -> tuple[tuple, list[Atom]]:
        """An index as a static layout and the atoms it reads (``lower_exprs``)."""

    @abstractmethod
    def refuse_dunder(self, frame: Frame, node: ast.Attribute) -> None:
        """Refuse ``x.__class__`` and the like (``lower_exprs``)."""

    @abstractmethod
    def call(
        self, frame: Frame, node: ast.Call, hint: str | None, statement: bool = False
    ) -> Value:
        """A call; ``statement``: on a line of its own, where ``print`` may be
        (``lower_calls``)."""

    @abstractmethod
    def comprehension(
        self, frame: Frame, node: ast.ListComp | ast.GeneratorExp, hint: str | None
    ) -> Value:
        """The list a comprehension builds (``lower_comprehensions``)."""

    @abstractmethod
    def builtin_sum(self, frame: Frame, seq: Value, hint: str | None, node: ast.AST) -> Value:
        """``sum(xs)`` (``lower_comprehensions``)."""

    @abstractmethod
    def lists_as_arrays(
        self, frame: Frame, prim: Primitive, args: list[Value], node: ast.AST
    ) -> list[Value]:
        """Lists built at run time, given to a NumPy function, as arrays
        (``lower_comprehensions``)."""

    # ------------------------------------------------------------------ building
    def atom(self, value: Value, node: ast.AST, frame: Frame | None = None) -> Atom:
        """A value as a single IR atom (a tuple of arrays becomes one packed value)."""
        if isinstance(value, Var):
            return self.build.renamed.get(value, value)
        if isinstance(value, Const):
            return value
        frame = frame or Frame(self.root, {})
        if isinstance(value, (TupleV, ListV)):
            atoms = tuple(self.atom(v, node, frame) for v in value.items)
            plain = [a for a in atoms if isinstance(a, Const) and a.name is None]
            if len(plain) == len(atoms):
                return Const(tuple(a.value for a in plain))
            prim = P.make_tuple if isinstance(value, TupleV) else P.np_array
            return self.apply(prim, atoms, (), None, frame, node)
        kind = type(value.value).__name__
        raise UnsupportedSyntaxError(
            f"`{value.path}` cannot be used as a value here (it is a {kind})",
            frame.src.loc(node),
            "values are numbers, arrays, and lists or tuples of them: pass the data in as an "
            "argument, or hold it in a module-level constant of those types",
        )

    def apply(
        self, prim: Primitive, args: tuple[Atom, ...], params: tuple, hint: str | None,
        frame: Frame, node: ast.AST,
    ) -> Var:  # fmt: skip
        """Append ``target = prim(*args, **params)`` to the current block."""
        args = tuple(self.build.resolve(a) for a in args)
        used = [a for a in args if a in self.memory.lists]
        if used and prim not in LIST_OPS and prim.effect is not Effect.OUTPUT:  # print(xs)
            raise UnsupportedSyntaxError(
                "this reads a list built at run time (by append in a loop, or by a list "
                "comprehension); such lists can be passed to np.stack, np.array, sum(), len() "
                "and NumPy functions",
                frame.src.loc(node),
                "stack it first: xs = np.stack(xs)",
            )
        target = self.build.target(hint)
        self.memory.record(prim, target, args, params)
        self.build.block.append(Assign(target, prim, args, params, frame.src.loc(node)))
        return target

    def as_list(self, frame: Frame, value: ListV, node: ast.AST) -> Var:
        """A literal list as a Python list (``atom`` makes an array of one)."""
        items = tuple(self.atom(v, node, frame) for v in value.items)
        return self.apply(P.make_list, items, (), None, frame, node)

    def allowed(self, frame: Frame, name: str, value: Atom, refuse: Refusal, stmt: ast.AST) -> None:
        """Refuse an in-place update of ``value`` by ``stmt`` that another name, here or in
        a caller, would see, as it does in Python (generated code never aliases, so it
        would not); a name of this function never read after ``stmt`` sees nothing."""
        tree = frame.src.tree
        self.memory.allowed(
            (frame, *self.inlining.callers),
            name,
            value,
            refuse,
            lambda k: not read_later(tree, stmt, k),
        )

    def rename_temp(self, value: Value, name: str) -> Value:
        """Give a just-computed temporary the name of the parameter it is bound to."""
        return self.build.rename_temp(value, name, self.memory)

    def is_inert(self, a: Atom) -> bool:
        """Whether ``a`` is certainly the same whatever the inputs are."""
        return self.memory.is_inert(self.build.resolve(a))
