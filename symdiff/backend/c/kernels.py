"""The loops that compute one stored value: elementwise, reductions, products, scatters.

Each kernel writes a value into its storage with plain ``for`` loops over constant sizes.
Its operands are read through ``Elements``, so a view or a fused elementwise temporary costs
nothing extra. A kernel that reads its own target's storage other than element by element
(``h = W @ h`` under one name) computes into a staging buffer first, since C, unlike NumPy,
writes the result where it reads.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable

import numpy as np

from ...ir.nodes import Assign, Atom, Var
from .catalogue import UPDATES, VIEWS
from .elements import Elements
from .expressions import ELEMENTWISE, Ex, literal
from .storage import Storage
from .text import Index, Lines, lvalue, unravel
from .values import HINT, CBackendError, CType

_INIT = {"np.max": "-INFINITY", "np.min": "INFINITY"}


@dataclasses.dataclass
class Contraction:
    """``out[L, R] = sum over p < size of a(L, p) * b(p, R)``: every product the kernels
    write, with the free axes of each side and the element readers of the operands."""

    left: tuple[int, ...]
    right: tuple[int, ...]
    size: int
    a: Callable[[Index, Ex], Ex]
    b: Callable[[Ex, Index], Ex]


class Kernels:
    """The kernels of one function: ``st`` says where values live, ``out`` takes the lines."""

    def __init__(self, st: Storage, out: Lines, el: Elements):
        self.st = st
        self.out = out
        self.el = el

    def copy(self, name: str, t: CType, a: Atom) -> None:
        """Storage ``name`` set to ``a`` (broadcast to ``t``'s shape), element by element."""
        idx = self.out.loops(t.shape)
        self.out.emit(f"{lvalue(name, t, idx)} = {self.el.broadcast(a, idx).text};")
        self.out.end_loops(t.shape)

    def assign(self, s: Assign) -> None:
        w, out = self.st, self.out
        t = w.types.get(s.target)
        if t is None:
            raise CBackendError(f"`{s.prim.spelling}` gives a value C cannot hold", s.loc, HINT)
        kind = w.kind(s)
        name = w.name(s.target)
        if kind == "update":
            self.update(s, name, t)
            return
        # C writes where it reads: a kernel whose operands read its own storage other than
        # element by element (h = W @ h under one name) computes into a staging buffer
        rereads = kind != "element" or s.prim.name in VIEWS or s.prim.name == "np.outer"
        if (rereads or not t.scalar) and w.reads_target(s, name):
            tmp = w.plan.gen.fresh(name + "_next")
            w.extra[tmp] = t
            self.write(s, kind, tmp, t)
            idx = out.loops(t.shape)
            out.emit(f"{lvalue(name, t, idx)} = {lvalue(tmp, t, idx)};")
            out.end_loops(t.shape)
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
        out = self.out
        idx = out.loops(t.shape)
        lv = lvalue(name, t, idx)
        if s.prim.name == "add" and self.el.broadcast(s.args[0], idx).text == lv:
            # an accumulator: add into it
            out.emit(f"{lv} += {self.el.broadcast(s.args[1], idx).text};")
        else:
            out.emit(f"{lv} = {self.el.rule(s, idx).text};")
        out.end_loops(t.shape)

    # ------------------------------------------------------------ reductions
    def reduce(self, s: Assign, name: str, t: CType) -> None:
        out = self.out
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
                    literal(0) if k in axes else i
                    for k, i in enumerate(idx)
                    if keep or k not in axes
                )

        init = _INIT.get(op, "0.0")
        oi = out.loops(t.shape)
        out.emit(f"{lvalue(name, t, oi)} = {init};")
        out.end_loops(t.shape)
        idx = out.loops(xs)
        acc = lvalue(name, t, out_of(idx))
        e = self.el.at(x, idx)
        if op in _INIT:
            out.open(f"if ({e.text} {'>' if op == 'np.max' else '<'} {acc})")
            out.emit(f"{acc} = {e.text};")
            out.close()
        else:
            out.emit(f"{acc} += {e.text};")
        out.end_loops(xs)
        if op == "np.mean":
            count = max(1, math.prod(xs) // max(1, t.size))
            oi = out.loops(t.shape)
            out.emit(f"{lvalue(name, t, oi)} /= {literal(float(count)).text};")
            out.end_loops(t.shape)

    # ------------------------------------------------------------ products
    def contraction(self, s: Assign) -> Contraction:
        at = self.el.at
        name = s.prim.name
        a, b = s.args
        sa, sb = self.el.shape(a), self.el.shape(b)
        if name == "np.vdot":  # both flattened
            return Contraction((), (), math.prod(sa), lambda L, p: at(a, unravel(p, sa)),
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
        out = self.out
        c = self.contraction(s)
        L = out.loops(c.left)
        R = out.loops(c.right)
        acc = lvalue(name, t, L + R)
        out.emit(f"{acc} = 0.0;")
        (p,) = out.loops((c.size,))
        out.emit(f"{acc} += {ELEMENTWISE['mul'](c.a(L, p), c.b(p, R)).text};")
        out.end_loops((c.size,))
        out.end_loops(c.right)
        out.end_loops(c.left)

    def update(self, s: Assign, name: str, t: CType) -> None:
        """``y[i] = v`` or ``np.add.at(y, i, v)``: on ``y``'s storage when the plan updates
        it in place (nothing reads the old array again), else on a copy of it."""
        w, out = self.st, self.out
        old, value = s.args[0], s.args[1]
        in_place = isinstance(old, Var) and w.names.get(old) == name
        if not (s.target in w.plan.inplace and in_place):
            self.copy(name, t, old)
        view = dataclasses.replace(s, args=(old, *s.args[2:]))
        vs = self.el.shape(s.args[0])
        shape = _indexed_shape(self.el, view, vs)
        idx = out.loops(shape)
        at = self.el.gather(view, idx)
        out.emit(
            f"{lvalue(name, t, at)} {UPDATES[s.prim.name]} {self.el.broadcast(value, idx).text};"
        )
        out.end_loops(shape)

    # ------------------------------------------------------------ scatter
    def scatter(self, s: Assign, name: str, t: CType) -> None:
        """``index_grad(g, x, ...)``: zeros shaped like ``x``, ``g`` added where ``x[...]``
        reads (a static basic index never repeats a position)."""
        out = self.out
        g = s.args[0]
        gs = self.el.shape(g)
        oi = out.loops(t.shape)
        out.emit(f"{lvalue(name, t, oi)} = 0.0;")
        out.end_loops(t.shape)
        view = dataclasses.replace(s, args=s.args[1:])
        idx = out.loops(gs)
        at = self.el.gather(view, idx)
        out.emit(f"{lvalue(name, t, at)} += {self.el.at(g, idx).text};")
        out.end_loops(gs)


def _indexed_shape(el: Any, view: Assign, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape ``x[...]`` has for a static layout (what an update writes)."""
    probe = np.zeros(shape)
    index: list[Any] = []
    for item in view.param("index"):
        tag = item[0]
        if tag == "at":
            index.append(0)
        elif tag == "slice":
            index.append(
                slice(
                    *(
                        None if k is None else el.static_int(view.args[1 + k], view)
                        for k in item[1:]
                    )
                )
            )
        elif tag == "newaxis":
            index.append(None)
        elif tag == "ellipsis":
            index.append(Ellipsis)
    return tuple(probe[tuple(index)].shape)
