"""The loops that compute one stored value: elementwise, reductions, products, scatters.

Each kernel writes a value into its storage with plain ``for`` loops over constant sizes.
Its operands are read through ``Elements``, so a view or a fused elementwise temporary costs
nothing extra. A kernel that reads its own target's storage other than element by element
(``h = W @ h`` under one name) computes into a staging buffer first, since C, unlike NumPy,
writes the result where it reads.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from ...ir.nodes import Assign
from .elements import Index, unravel
from .expressions import ELEMENTWISE, Ex, literal
from .values import HINT, CBackendError, CType

if TYPE_CHECKING:
    from .writer import FunctionWriter

REDUCE = frozenset({"np.sum", "np.mean", "np.max", "np.min", "sum_to", "unbroadcast"})
CONTRACT = frozenset({"matmul", "np.matmul", "np.dot", "np.inner", "np.vdot"})
UPDATES = {"setitem": "=", "index_add": "+="}  # y[i] = v, np.add.at(y, i, v)
_INIT = {"np.max": "-INFINITY", "np.min": "INFINITY"}

# A contraction: out[L, R] = sum over p < size of a(L, p) * b(p, R)
Reader = Callable[[Index, Ex], Ex]


@dataclasses.dataclass
class Contraction:
    left: tuple[int, ...]
    right: tuple[int, ...]
    size: int
    a: Callable[[Index, Ex], Ex]
    b: Callable[[Ex, Index], Ex]


class Kernels:
    def __init__(self, w: FunctionWriter):
        self.w = w
        self.el = w.el

    def assign(self, s: Assign) -> None:
        w = self.w
        t = w.types.get(s.target)
        if t is None:
            raise CBackendError(f"`{s.prim.spelling}` gives a value C cannot hold", s.loc, HINT)
        kind = w.kind(s)
        name = w.name(s.target)
        if kind == "update":
            self.update(s, name, t)
            return
        staged = kind != "element" or s.prim.name in ("np.outer",) or s.prim.name in _SKEWED
        if (staged or not t.scalar) and w.reads_target(s, name):
            tmp = w.plan.gen.fresh(name + "_next")
            w.extra[tmp] = t
            self.write(s, kind, tmp, t)
            idx = w.loops(t.shape)
            w.emit(f"{w.lvalue(name, t, idx)} = {w.lvalue(tmp, t, idx)};")
            w.end_loops(t.shape)
            return
        self.write(s, kind, name, t)

    def write(self, s: Assign, kind: str, name: str, t: CType) -> None:
        if kind == "element":
            self.element(s, name, t)
        elif kind == "reduce":
            self.reduce(s, name, t)
        elif kind == "contract":
            self.contract(s, name, t)
        else:
            self.scatter(s, name, t)

    def element(self, s: Assign, name: str, t: CType) -> None:
        w = self.w
        idx = w.loops(t.shape)
        lv = w.lvalue(name, t, idx)
        if s.prim.name == "add" and self.el.broadcast(s.args[0], idx).text == lv:
            # an accumulator: add into it
            w.emit(f"{lv} += {self.el.broadcast(s.args[1], idx).text};")
        else:
            w.emit(f"{lv} = {self.el.rule(s, idx).text};")
        w.end_loops(t.shape)

    # ------------------------------------------------------------ reductions
    def reduce(self, s: Assign, name: str, t: CType) -> None:
        w = self.w
        x = s.args[0]
        xs = self.el.shape(x)
        op = s.prim.name
        if op in ("sum_to", "unbroadcast"):
            lead = len(xs) - len(t.shape)

            def out_of(idx: Index) -> Index:
                return tuple(literal(0) if n == 1 else idx[lead + k] for k, n in enumerate(t.shape))

            op = "np.sum"
        else:
            axis = s.param("axis")
            keep = bool(s.param("keepdims", False))
            rank = len(xs)
            if axis is None:
                axes = set(range(rank))
            else:
                axes = {a % rank for a in (axis if isinstance(axis, tuple) else (axis,))}

            def out_of(idx: Index) -> Index:
                return tuple(
                    literal(0) if k in axes else i for k, i in enumerate(idx) if keep or k not in axes
                )

        init = _INIT.get(op, "0.0")
        oi = w.loops(t.shape)
        w.emit(f"{w.lvalue(name, t, oi)} = {init};")
        w.end_loops(t.shape)
        idx = w.loops(xs)
        acc = w.lvalue(name, t, out_of(idx))
        e = self.el.at(x, idx)
        if op in _INIT:
            w.open(f"if ({e.text} {'>' if op == 'np.max' else '<'} {acc})")
            w.emit(f"{acc} = {e.text};")
            w.close()
        else:
            w.emit(f"{acc} += {e.text};")
        w.end_loops(xs)
        if op == "np.mean":
            count = max(1, t_size(xs) // max(1, t.size))
            oi = w.loops(t.shape)
            w.emit(f"{w.lvalue(name, t, oi)} /= {literal(float(count)).text};")
            w.end_loops(t.shape)

    # ------------------------------------------------------------ products
    def contraction(self, s: Assign) -> Contraction:
        at = self.el.at
        name = s.prim.name
        a, b = s.args
        sa, sb = self.el.shape(a), self.el.shape(b)
        if name == "np.vdot":  # both flattened
            return Contraction((), (), t_size(sa), lambda L, p: at(a, unravel(p, sa)),
                               lambda p, R: at(b, unravel(p, sb)))  # fmt: skip
        if len(sa) > 2 or len(sb) > 2 or (name == "np.inner" and len(sa) + len(sb) > 2):
            raise CBackendError(
                f"`{s.prim.spelling}` of ranks {len(sa)} and {len(sb)} in C", s.loc, HINT
            )
        left = sa[:-1]
        right = sb[1:] if len(sb) == 2 else ()
        return Contraction(
            left,
            right,
            sa[-1],
            lambda L, p: at(a, (*L, p)),
            lambda p, R: at(b, (p, *R)),
        )

    def contract(self, s: Assign, name: str, t: CType) -> None:
        w = self.w
        c = self.contraction(s)
        L = w.loops(c.left)
        R = w.loops(c.right)
        acc = w.lvalue(name, t, L + R)
        w.emit(f"{acc} = 0.0;")
        (p,) = w.loops((c.size,))
        w.emit(f"{acc} += {ELEMENTWISE['mul'](c.a(L, p), c.b(p, R)).text};")
        w.end_loops((c.size,))
        w.end_loops(c.right)
        w.end_loops(c.left)

    def update(self, s: Assign, name: str, t: CType) -> None:
        """``y[i] = v`` or ``np.add.at(y, i, v)``: on ``y``'s storage when the plan updates
        it in place (nothing reads the old array again), else on a copy of it."""
        w = self.w
        old, value = s.args[0], s.args[1]
        if not (s.target in w.plan.inplace and w.names.get(old) == name):
            w.copy(name, t, old)
        view = dataclasses.replace(s, args=(old, *s.args[2:]))
        vs = self.el.shape(s.args[0])
        shape = _indexed_shape(self.el, view, vs)
        idx = w.loops(shape)
        at = self.el.gather(view, idx)
        w.emit(f"{w.lvalue(name, t, at)} {UPDATES[s.prim.name]} {self.el.broadcast(value, idx).text};")
        w.end_loops(shape)

    # ------------------------------------------------------------ scatter
    def scatter(self, s: Assign, name: str, t: CType) -> None:
        """``index_grad(g, x, ...)``: zeros shaped like ``x``, ``g`` added where ``x[...]``
        reads (a static basic index never repeats a position)."""
        w = self.w
        g = s.args[0]
        gs = self.el.shape(g)
        oi = w.loops(t.shape)
        w.emit(f"{w.lvalue(name, t, oi)} = 0.0;")
        w.end_loops(t.shape)
        view = dataclasses.replace(s, args=s.args[1:])
        idx = w.loops(gs)
        at = self.el.gather(view, idx)
        w.emit(f"{w.lvalue(name, t, at)} += {self.el.at(g, idx).text};")
        w.end_loops(gs)


_SKEWED = frozenset({"T", "np.transpose", "np.broadcast_to", "getitem", "np.reshape"})


def t_size(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n



def _indexed_shape(el: Any, view: Assign, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape ``x[...]`` has for a static layout (what an update writes)."""
    probe = np.zeros(shape)
    index: list[Any] = []
    for item in view.param("index"):
        tag = item[0]
        if tag == "at":
            index.append(0)
        elif tag == "slice":
            index.append(slice(*(None if k is None else el.static_int(view.args[1 + k], view) for k in item[1:])))
        elif tag == "newaxis":
            index.append(None)
        elif tag == "ellipsis":
            index.append(Ellipsis)
    return tuple(probe[tuple(index)].shape)
