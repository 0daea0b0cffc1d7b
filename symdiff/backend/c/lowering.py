"""Runtime helpers of a derivative program rewritten as the primitives they stand for.

The reverse rules write a product's adjoint as ``dot_grad(g, a, b)`` (or
``matmul_grad_a``/``_b``), a helper that looks at ranks when it runs. With exact types the
ranks are known, so each call is one primitive the C backend already writes (and the
abstract evaluation already types): ``g * b`` for two vectors, ``np.outer(g, b)``,
``a.T @ g`` or ``g @ b.T``. One rewrite serves every later stage; the kernels never see the
helper. A scalar broadcast to shape ``()`` (a 0-d array, which C holds as a scalar) becomes
the scalar, so that branches giving a float on one side and a 0-d array on the other agree.
"""

from __future__ import annotations

import dataclasses
import itertools

from ...abstract.infer import Analysis
from ...ad.program import GradProgram
from ...ir import primitives as P
from ...ir.nodes import Assign, Block, Const, If, Loop, Var
from .values import HINT, CBackendError

_PRODUCT_ADJOINTS = {"dot_grad": None, "matmul_grad_a": 0, "matmul_grad_b": 1}
_fresh = itertools.count(1)


def lower_helpers(prog: GradProgram, analysis: Analysis) -> tuple[GradProgram, bool]:
    """``prog`` with the product adjoints rewritten; whether anything changed."""
    lowering = _Lowering(analysis)
    forward = lowering.block(prog.forward)
    backward = lowering.block(prog.backward)
    if not lowering.changed:
        return prog, False
    return dataclasses.replace(prog, forward=forward, backward=backward), True


class _Lowering:
    def __init__(self, analysis: Analysis):
        self.analysis = analysis
        self.changed = False

    def block(self, block: Block) -> Block:
        out: list = []
        for s in block:
            if isinstance(s, Assign) and s.prim.name in _PRODUCT_ADJOINTS:
                out.extend(self.product_adjoint(s))
            elif isinstance(s, Assign) and s.prim.name in ("np.var", "np.std"):
                out.extend(self.variance(s))
            elif isinstance(s, Assign) and self.same_shape_sum(s):
                # summing a gradient to the shape it already has: the gradient itself
                self.changed = True
                out.append(Assign(s.target, P.pos, s.args[:1], (), s.loc))
            elif isinstance(s, Assign) and self.scalar_broadcast(s):
                # a scalar "broadcast" to shape (): the scalar itself, as C holds both
                self.changed = True
                out.append(Assign(s.target, P.pos, s.args[:1], (), s.loc))
            elif isinstance(s, If):
                out.append(
                    dataclasses.replace(s, then=self.block(s.then), orelse=self.block(s.orelse))
                )
            elif isinstance(s, Loop):
                out.append(
                    dataclasses.replace(
                        s, body=self.block(s.body), cond_block=self.block(s.cond_block)
                    )
                )
            else:
                out.append(s)
        return tuple(out)

    def variance(self, s: Assign) -> list[Assign]:
        """``np.var`` as NumPy computes it: the mean of the squared deviations from the mean
        (divided by ``n - ddof``); ``np.std`` its square root."""
        self.changed = True
        (x,) = s.args[:1]
        axis, keep, ddof = s.param("axis"), bool(s.param("keepdims", False)), s.param("ddof", 0)
        shape = self.analysis.value(x).shape or ()
        axes = range(len(shape)) if axis is None else (axis if isinstance(axis, tuple) else (axis,))
        count = 1
        for a in axes:
            n = shape[a]
            if not isinstance(n, int):
                raise CBackendError(
                    f"`{s.prim.spelling}` of an axis of unknown length", s.loc, HINT
                )
            count *= n
        m, d, sq, total = (Var(f"%cV{next(_fresh)}") for _ in range(4))
        var = s.target if s.prim.name == "np.var" else Var(f"%cV{next(_fresh)}")
        out = [
            Assign(m, P.np_mean, (x,), (("axis", axis), ("keepdims", True)), s.loc),
            Assign(d, P.sub, (x, m), (), s.loc),
            Assign(sq, P.mul, (d, d), (), s.loc),
            Assign(total, P.np_sum, (sq,), (("axis", axis), ("keepdims", keep)), s.loc),
            Assign(var, P.div, (total, Const(float(count - ddof))), (), s.loc),
        ]
        if s.prim.name == "np.std":
            out.append(Assign(s.target, P.np_sqrt, (var,), (), s.loc))
        return out

    def same_shape_sum(self, s: Assign) -> bool:
        if s.prim is not P.unbroadcast:
            return False
        g, x = (self.analysis.value(a) for a in s.args[:2])
        exact = g.shape is not None and all(isinstance(d, int) for d in g.shape)
        return exact and g.shape == x.shape and g.is_numeric and x.is_numeric

    def scalar_broadcast(self, s: Assign) -> bool:
        shape = s.args[1] if len(s.args) > 1 else None
        return (
            s.prim is P.np_broadcast_to
            and isinstance(shape, Const)
            and shape.value == ()
            and self.analysis.value(s.args[0]).is_scalar
        )

    def product_adjoint(self, s: Assign) -> list[Assign]:
        g, a, b = s.args
        part = _PRODUCT_ADJOINTS[s.prim.name]
        if part is None:
            part = int(s.param("part", 0))
        ranks = tuple(self.analysis.value(x).rank for x in (a, b))
        self.changed = True

        def assign(prim, *args) -> Assign:  # type: ignore[no-untyped-def]
            return Assign(s.target, prim, args, (), s.loc)

        def transposed(x) -> tuple[Var, Assign]:  # type: ignore[no-untyped-def]
            t = Var(f"%cT{next(_fresh)}")
            return t, Assign(t, P.T_attr, (x,), (), s.loc)

        if ranks == (1, 1):
            return [assign(P.mul, g, b if part == 0 else a)]
        if ranks == (2, 1):
            if part == 0:
                return [assign(P.np_outer, g, b)]
            t, tr = transposed(a)
            return [tr, assign(P.matmul, t, g)]
        if ranks == (1, 2):
            if part == 1:
                return [assign(P.np_outer, a, g)]
            return [assign(P.matmul, b, g)]
        if ranks == (2, 2):
            if part == 0:
                t, tr = transposed(b)
                return [tr, assign(P.matmul, g, t)]
            t, tr = transposed(a)
            return [tr, assign(P.matmul, t, g)]
        raise CBackendError(
            f"the adjoint of a product of operands of ranks {ranks[0]} and {ranks[1]} in C",
            s.loc,
            HINT,
        )
