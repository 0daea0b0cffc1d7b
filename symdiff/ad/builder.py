"""A small expression builder over IR values, so that derivative rules read like the maths.

``g * F.cos(x)`` in a rule appends ``t1 = np.cos(x)`` and ``t2 = g * t1`` to the block
being built. Local algebra keeps the output free of ``0 * g``, ``x * 1`` and double
negations, and pushes a negation outwards so that a chain of sign changes cancels instead
of costing an array operation each. Identical expressions in one block are built once.
"""

from __future__ import annotations

from contextlib import contextmanager
from numbers import Number
from typing import Any, Callable

from ..errors import InternalError, Loc
from ..ir import primitives as P
from ..ir.nodes import Assign, Atom, Const, Form, Pop, Primitive, Var


class Builder:
    """Appends statements to ``stmts``; ``family`` picks ``math.cos`` or ``np.cos`` for ``F.cos``."""

    def __init__(
        self,
        fresh: Callable[[], Var],
        scalar: Callable[[Atom], bool],
        active: Callable[[Atom], bool],
    ):
        self.stmts: list[Assign | Pop] = []
        self.fresh = fresh
        self._scalar = scalar
        self._active = active
        self.family = "np"
        self.loc: Loc | None = None
        self._memo: dict[tuple, Var] = {}
        self._defs: dict[Var, Assign] = {}
        self.shape_memo: dict[Atom, Atom] = {}  # same_shape's answers (definitions never change)

    @contextmanager
    def nested(self):
        """Build into a fresh block (a branch or loop body). Expressions built outside stay
        reusable inside, since they dominate it; those built inside do not leak out."""
        stmts, memo = self.stmts, self._memo
        self.stmts, self._memo = [], dict(memo)
        try:
            yield self.stmts
        finally:
            self.stmts, self._memo = stmts, memo

    def remember(self, stmts) -> None:
        """Make forward values reusable: ``g / b`` in a rule is the forward ``y = 1.0 / b``
        when ``g`` is 1.0. Only values of the block being reversed (and the blocks around it)
        are remembered, since only they are in scope there."""
        for s in stmts:
            if s.prim.form in (Form.NEWLIST, Form.LIST, Form.APPEND):
                continue
            self._defs.setdefault(s.target, s)  # what each value is, for shapes and scalars
            if s.prim.differentiable:  # two draws of np.random.normal() are not one value
                self._memo.setdefault((s.prim, s.args, s.params), s.target)

    def append(self, stmt) -> None:
        self.stmts.append(stmt)
        if isinstance(stmt, Assign):
            self._defs[stmt.target] = stmt

    def pop(self, lst: Sym) -> Sym:
        """The last item of a list adjoint, removed from it (the list is consumed linearly)."""
        target, tape = self.fresh(), _atom(lst)
        assert isinstance(tape, Var), "a list adjoint is a variable"
        self.stmts.append(Pop(tape, (target,), self.loc))
        return Sym(target, self)

    # -- queries rules may ask
    def is_scalar(self, x: Sym | Atom) -> bool:
        return self._scalar(_atom(x))

    def active(self, x: Sym | Atom) -> bool:
        return self._active(_atom(x))

    def defining(self, x: Atom) -> Assign | None:
        return self._defs.get(x) if isinstance(x, Var) else None

    # -- building
    def apply(self, prim: Primitive, *args: Any, **params: Any) -> Sym:
        atoms = tuple(_atom(a) for a in args)
        defaults = dict(prim.defaults)
        kept = tuple(sorted((k, v) for k, v in params.items() if defaults.get(k, _MISSING) != v))
        folded = _fold(self, prim, atoms)
        if folded is not None:
            return Sym(folded, self)
        key = (prim, atoms, kept)
        if key in self._memo:
            return Sym(self._memo[key], self)
        target = self.fresh()
        stmt = Assign(target, prim, atoms, kept, self.loc)
        self.stmts.append(stmt)
        self._memo[key] = target
        self._defs[target] = stmt
        return Sym(target, self)

    def eq(self, a: Any, b: Any) -> Sym:
        return self.apply(P.eq, a, b)

    def item(self, t: Any, i: int) -> Sym:
        """Item ``i`` of a tuple-valued result (``w, v = np.linalg.eigh(a)``)."""
        return self.apply(P.tuple_item, t, i, index=(("at", 0),))

    def __getattr__(self, name: str) -> Callable[..., Sym]:
        prim = P.named(f"{self.family}.{name}") or P.named(f"np.{name}") or P.named(name)
        if prim is None:
            raise AttributeError(name)
        return lambda *args, **params: self.apply(prim, *args, **params)


_MISSING = object()


class Sym:
    """An IR atom with arithmetic operators that build statements."""

    __slots__ = ("atom", "b")
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, atom: Atom, b: Builder):
        self.atom = atom
        self.b = b

    @property
    def var(self) -> Var:
        """The atom as the variable an ``apply`` assigned (a constant here is a bug)."""
        if not isinstance(self.atom, Var):
            raise InternalError(f"expected a computed variable, got {self.atom}")
        return self.atom

    def _op(self, prim: Primitive, other: Any, swap: bool = False) -> Sym:
        return self.b.apply(prim, other, self) if swap else self.b.apply(prim, self, other)

    def __add__(self, o: Any) -> Sym:
        return self._op(P.add, o)

    def __radd__(self, o: Any) -> Sym:
        return self._op(P.add, o, True)

    def __sub__(self, o: Any) -> Sym:
        return self._op(P.sub, o)

    def __rsub__(self, o: Any) -> Sym:
        return self._op(P.sub, o, True)

    def __mul__(self, o: Any) -> Sym:
        return self._op(P.mul, o)

    def __rmul__(self, o: Any) -> Sym:
        return self._op(P.mul, o, True)

    def __truediv__(self, o: Any) -> Sym:
        return self._op(P.div, o)

    def __rtruediv__(self, o: Any) -> Sym:
        return self._op(P.div, o, True)

    def __pow__(self, o: Any) -> Sym:
        return self._op(P.pow, o)

    def __matmul__(self, o: Any) -> Sym:
        return self._op(P.matmul, o)

    def __rmatmul__(self, o: Any) -> Sym:
        return self._op(P.matmul, o, True)

    def __neg__(self) -> Sym:
        return self.b.apply(P.neg, self)

    def __gt__(self, o: Any) -> Sym:
        return self._op(P.gt, o)

    def __lt__(self, o: Any) -> Sym:
        return self._op(P.lt, o)

    def __ge__(self, o: Any) -> Sym:
        return self._op(P.ge, o)

    def __le__(self, o: Any) -> Sym:
        return self._op(P.le, o)

    @property
    def T(self) -> Sym:
        return self.b.apply(P.np_transpose, self)


def _atom(x: Any) -> Atom:
    if isinstance(x, Sym):
        return x.atom
    if isinstance(x, (Var, Const)):
        return x
    return Const(x)


def _num(a: Atom) -> Any:
    """The value of a numeric constant, or None."""
    if isinstance(a, Const) and isinstance(a.value, Number) and not isinstance(a.value, bool):
        return a.value
    return None


_BOOLEAN = frozenset(
    {P.lt, P.le, P.gt, P.ge, P.eq, P.ne, P.and_, P.or_, P.not_, P.invert, P.np_isfinite}
    | {P.np_logical_and, P.np_logical_or, P.np_logical_not}
)


def _is_float(b: Builder, a: Atom) -> bool:
    """False for values made by comparisons or logic (booleans), True otherwise."""
    d = b.defining(a)
    return d is None or d.prim not in _BOOLEAN


def _negated(b: Builder, a: Atom) -> Atom | None:
    """``x`` when ``a`` was built as ``-x``."""
    d = b.defining(a)
    return d.args[0] if d is not None and d.prim is P.neg else None


def _add_tuples(b: Builder, x: Atom, y: Atom) -> Atom | None:
    """The adjoints of a tuple-valued result add item by item (None: no contribution)."""
    dx, dy = b.defining(x), b.defining(y)
    if dx is None or dy is None or dx.prim is not P.make_tuple or dy.prim is not P.make_tuple:
        return None
    none = Const(None)
    items = []
    for i in range(max(len(dx.args), len(dy.args))):
        u = dx.args[i] if i < len(dx.args) else none
        v = dy.args[i] if i < len(dy.args) else none
        items.append(v if u == none else u if v == none else b.apply(P.add, u, v).atom)
    return b.apply(P.make_tuple, *items).atom


def same_shape(b: Builder, a: Atom) -> Atom:
    """An earlier value with the shape of ``a``: the array operand of an elementwise operation
    whose other operands are scalars. Asking it for its shape needs no new computation."""
    memo = b.shape_memo
    if a not in memo:
        memo[a] = a  # a placeholder: the definitions form a DAG, never a cycle
        memo[a] = _same_shape(b, a)
    return memo[a]


def _same_shape(b: Builder, a: Atom) -> Atom:
    d = b.defining(a)
    while d is not None and (d.prim.elementwise or d.prim.form.operator):
        arrays = [x for x in d.args if not b.is_scalar(x)]  # a module-level array is not scalar
        if not arrays or d.prim is P.matmul:
            break
        if len(arrays) > 1:  # several arrays of one shape make that shape again
            reps = {same_shape(b, x) for x in arrays}
            if len(reps) != 1:
                break
            return reps.pop()
        a = arrays[0]
        d = b.defining(a)
    return a


def _as_float(b: Builder, a: Atom) -> Atom:
    return a if _is_float(b, a) else b.apply(P.as_float, a, dtype=float).atom


def _fold(b: Builder, prim: Primitive, args: tuple[Atom, ...]) -> Atom | None:
    """Local algebra that never changes a value: x*1, x+0, --x, constant arithmetic."""
    if prim is P.np_shape or prim is P.np_size:
        same = same_shape(b, args[0])
        return b.apply(prim, same).atom if same != args[0] else None
    if prim is P.unbroadcast and _negated(b, args[0]) is not None:
        # the sum of -g is minus the sum of g: negate the (smaller) summed array
        return b.apply(P.neg, b.apply(P.unbroadcast, _negated(b, args[0]), args[1])).atom
    if not prim.form.operator:
        return None
    nums = [_num(a) for a in args]
    if prim is P.neg:
        (x,) = args
        if nums[0] is not None:
            return Const(-nums[0])
        return _negated(b, x)
    x, y = args
    nx, ny = nums
    if nx is not None and ny is not None and prim in (P.add, P.sub, P.mul, P.div, P.pow):
        return Const(prim.impl(nx, ny))
    if prim is P.add:
        merged = _add_tuples(b, x, y)
        if merged is not None:
            return merged
        if nx == 0:
            return y
        if ny == 0:
            return x
        if _negated(b, y) is not None:  # a + -b is a - b
            return b.apply(P.sub, x, _negated(b, y)).atom
        if _negated(b, x) is not None:
            return b.apply(P.sub, y, _negated(b, x)).atom
    elif prim is P.sub:
        if ny == 0:
            return x
        if _negated(b, y) is not None:  # a - -b is a + b
            return b.apply(P.add, x, _negated(b, y)).atom
        if nx == 0:
            return b.apply(P.neg, _as_float(b, y)).atom
    elif prim is P.mul:
        # x * 1.0 is x only when x is already a float: a mask times 1.0 is the float mask
        if nx == 1:
            return y if _is_float(b, y) else b.apply(P.as_float, y, dtype=float).atom
        if ny == 1:
            return x if _is_float(b, x) else b.apply(P.as_float, x, dtype=float).atom
        if nx == -1:  # NumPy refuses -mask: negate the float mask
            return b.apply(P.neg, _as_float(b, y)).atom
        if ny == -1:
            return b.apply(P.neg, _as_float(b, x)).atom
    elif prim is P.div:
        if ny == 1:
            return x
    elif prim is P.pow:
        if ny == 1:
            return x
    if prim in (P.mul, P.div):
        # keep a sign change outermost, where a later negation can cancel it
        nxa, nya = _negated(b, x), _negated(b, y)
        if nxa is not None and nya is not None:
            return b.apply(prim, nxa, nya).atom
        if nxa is not None:
            return b.apply(P.neg, b.apply(prim, nxa, y)).atom
        if nya is not None:
            return b.apply(P.neg, b.apply(prim, x, nya)).atom
    return None
