"""The derivative table: one row per primitive, read like the derivative column of a textbook.

Each rule maps the upstream adjoint ``g`` (∂L/∂y), the output ``y`` and the inputs to the
adjoint contribution of every input, in argument order (``None``: no contribution). ``F``
builds the operations, picking ``math.cos`` inside a ``math`` rule and ``np.cos`` inside a
NumPy one, so one row serves both spellings. Contributions of inputs that do not depend on
the ``wrt`` arguments are never used and are removed with the rest of the dead code;
broadcast inputs are summed back to their own shape by the reverse pass, not by the rules.

Conventions at non-differentiable points (documented in the README):
- ``abs``/``fabs`` at 0 and ReLU ``maximum(x, 0)`` at 0: gradient 0.
- ``maximum``/``minimum``/``max``/``min`` ties: split evenly when both inputs carry a
  gradient; when one side is constant (ReLU), the constant side takes it.
- ``max``/``min`` reductions: shared evenly between tied elements.
- ``clip``: the gradient passes where ``lo <= x <= hi``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from . import prims as P
from .ir import Primitive

Rule = Callable[..., tuple]


def unary(d: Callable[..., Any]) -> Rule:
    """A rule from ``d(F, g, y, x)``: the adjoint of the single input."""
    return lambda F, g, y, x, **p: (d(F, g, y, x),)


def linear(f: Callable[..., Any]) -> Rule:
    """A linear map's rule is the same map applied to ``g`` (reshape, negate, copy)."""
    return lambda F, g, y, x, **p: (f(F, g, x, **p),)


def _expand(F, g, x, axis, keepdims):
    """Put the reduced axes back into ``g`` so that it broadcasts against ``x``."""
    if axis is not None and not keepdims:
        return F.expand_dims(g, axis)
    return g


def _sum(F, g, y, x, axis=None, keepdims=False):
    if F.is_scalar(x) or (axis is None and not keepdims):
        return (g,)  # a scalar adjoint broadcasts over x by itself
    return (F.broadcast_to(_expand(F, g, x, axis, keepdims), F.shape(x)),)


def _mean(F, g, y, x, axis=None, keepdims=False):
    if F.is_scalar(x):
        return (g,)
    if axis is None and not keepdims:
        return (g / F.size(x),)
    count = F.size(x) / F.size(y)
    return (F.broadcast_to(_expand(F, g, x, axis, keepdims) / count, F.shape(x)),)


def _extremum(F, g, y, x, axis=None, keepdims=False):
    if F.is_scalar(x):
        return (g,)
    hit = F.eq(x, _expand(F, y, x, axis, keepdims))
    share = F.sum(hit, axis=axis, keepdims=True)
    return (_expand(F, g, x, axis, keepdims) * hit / share,)


def _larger(F, g, a, b):
    """Adjoints of ``max(a, b)``: the larger input takes ``g`` (ties: see the module doc)."""
    if F.active(a) and F.active(b):
        wa = (a > b) + 0.5 * F.eq(a, b)
        return g * wa, g * (1.0 - wa)
    return g * (a > b), g * (b > a)


def _transpose(F, g, x, axes=None):
    return F.transpose(g) if axes is None else F.transpose(g, axes=tuple(np.argsort(axes).tolist()))


def _setitem(F, g, x, v, idx, index):
    """``y = x`` with ``y[index] = v``: ``v`` gets ``g[index]``; ``x`` gets ``g`` except where
    it was overwritten (zero there). ``v``'s part is read before the zeros are written."""
    dv = F.unbroadcast(F.getitem(g, *idx, index=index), v)
    dx = F.setitem(g, 0.0, *idx, index=index)
    return (dx, dv) + (None,) * len(idx)


def _append(F, g):
    """``y = xs + [v]``: ``v`` gets the last adjoint, popped off ``g``; ``xs`` gets the rest."""
    last = F.pop(g)
    return (g, last)


def _listed(part_rule):
    return lambda F, g, y, *xs, **p: tuple(part_rule(F, g, xs, i, **p) for i in range(len(xs)))


RULES: dict[Primitive, Rule] = {
    # ---- binary arithmetic ------------------------------------------------- ∂/∂a, ∂/∂b
    P.add: lambda F, g, y, a, b: (g, g),
    P.sub: lambda F, g, y, a, b: (g, -g),
    P.mul: lambda F, g, y, a, b: (g * b, g * a),
    P.div: lambda F, g, y, a, b: (g / b, -((g / b) * y)),
    P.pow: lambda F, g, y, a, b: (g * b * a ** (b - 1), g * y * F.log(a)),
    P.neg: linear(lambda F, g, x: -g),
    P.pos: linear(lambda F, g, x: g),
    P.matmul: lambda F, g, y, a, b: (
        F.matmul_grad_a(g, a, b),
        F.matmul_grad_b(g, a, b),
    ),
    # ---- elementary functions (math and NumPy share a row) ------------------ ∂/∂x
    P.m_exp: unary(lambda F, g, y, x: g * y),
    P.m_expm1: unary(lambda F, g, y, x: g * (y + 1.0)),
    P.m_log: unary(lambda F, g, y, x: g / x),
    P.m_log1p: unary(lambda F, g, y, x: g / (1.0 + x)),
    P.m_log2: unary(lambda F, g, y, x: g / (x * 0.6931471805599453)),
    P.m_log10: unary(lambda F, g, y, x: g / (x * 2.302585092994046)),
    P.m_sqrt: unary(lambda F, g, y, x: g / (2.0 * y)),
    P.m_sin: unary(lambda F, g, y, x: g * F.cos(x)),
    P.m_cos: unary(lambda F, g, y, x: -(g * F.sin(x))),
    P.m_tan: unary(lambda F, g, y, x: g * (1.0 + y**2)),
    P.m_tanh: unary(lambda F, g, y, x: g * (1.0 - y**2)),
    P.m_sinh: unary(lambda F, g, y, x: g * F.cosh(x)),
    P.m_cosh: unary(lambda F, g, y, x: g * F.sinh(x)),
    P.m_atan: unary(lambda F, g, y, x: g / (1.0 + x**2)),
    P.m_asin: unary(lambda F, g, y, x: g / F.sqrt(1.0 - x**2)),
    P.m_acos: unary(lambda F, g, y, x: -(g / F.sqrt(1.0 - x**2))),
    P.m_erf: unary(lambda F, g, y, x: g * 1.1283791670955126 * F.exp(-(x**2))),
    P.m_fabs: unary(lambda F, g, y, x: g * F.sign(x)),
    P.m_pow: lambda F, g, y, a, b: (g * b * a ** (b - 1), g * y * F.log(a)),
    P.m_hypot: lambda F, g, y, a, b: (g * a / y, g * b / y),
    P.m_atan2: lambda F, g, y, a, b: (g * b / (a**2 + b**2), -(g * a / (a**2 + b**2))),
    P.np_exp: unary(lambda F, g, y, x: g * y),
    P.np_expm1: unary(lambda F, g, y, x: g * (y + 1.0)),
    P.np_log: unary(lambda F, g, y, x: g / x),
    P.np_log1p: unary(lambda F, g, y, x: g / (1.0 + x)),
    P.np_log2: unary(lambda F, g, y, x: g / (x * 0.6931471805599453)),
    P.np_log10: unary(lambda F, g, y, x: g / (x * 2.302585092994046)),
    P.np_sqrt: unary(lambda F, g, y, x: g / (2.0 * y)),
    P.np_square: unary(lambda F, g, y, x: g * (2.0 * x)),
    P.np_reciprocal: unary(lambda F, g, y, x: -(g * y**2)),
    P.np_sin: unary(lambda F, g, y, x: g * F.cos(x)),
    P.np_cos: unary(lambda F, g, y, x: -(g * F.sin(x))),
    P.np_tan: unary(lambda F, g, y, x: g * (1.0 + y**2)),
    P.np_tanh: unary(lambda F, g, y, x: g * (1.0 - y**2)),
    P.np_sinh: unary(lambda F, g, y, x: g * F.cosh(x)),
    P.np_cosh: unary(lambda F, g, y, x: g * F.sinh(x)),
    P.np_arctan: unary(lambda F, g, y, x: g / (1.0 + x**2)),
    P.np_arcsin: unary(lambda F, g, y, x: g / F.sqrt(1.0 - x**2)),
    P.np_arccos: unary(lambda F, g, y, x: -(g / F.sqrt(1.0 - x**2))),
    P.np_abs: unary(lambda F, g, y, x: g * F.sign(x)),
    P.b_abs: unary(lambda F, g, y, x: g * F.sign(x)),
    P.b_float: linear(lambda F, g, x: g),
    P.np_negative: linear(lambda F, g, x: -g),
    P.np_add: lambda F, g, y, a, b: (g, g),
    P.np_subtract: lambda F, g, y, a, b: (g, -g),
    P.np_multiply: lambda F, g, y, a, b: (g * b, g * a),
    P.np_divide: lambda F, g, y, a, b: (g / b, -((g / b) * y)),
    P.np_power: lambda F, g, y, a, b: (g * b * a ** (b - 1), g * y * F.log(a)),
    # ---- selection ----------------------------------------------------------------
    P.np_maximum: lambda F, g, y, a, b: _larger(F, g, a, b),
    P.np_minimum: lambda F, g, y, a, b: _larger(F, g, b, a)[::-1],
    P.b_max: lambda F, g, y, a, b: _larger(F, g, a, b),
    P.b_min: lambda F, g, y, a, b: _larger(F, g, b, a)[::-1],
    P.np_where: lambda F, g, y, c, a, b: (None, F.where(c, g, 0.0), F.where(c, 0.0, g)),
    P.np_clip: lambda F, g, y, x, lo, hi: (g * F.eq(x, y), g * (x < lo), g * (x > hi)),
    # ---- reductions -----------------------------------------------------------------
    P.np_sum: _sum,
    P.np_mean: _mean,
    P.np_max: _extremum,
    P.np_min: _extremum,
    # ---- linear algebra ---------------------------------------------------------------
    P.np_matmul: lambda F, g, y, a, b: (
        F.matmul_grad_a(g, a, b),
        F.matmul_grad_b(g, a, b),
    ),
    P.np_dot: lambda F, g, y, a, b: (
        F.matmul_grad_a(g, a, b),
        F.matmul_grad_b(g, a, b),
    ),
    P.np_outer: lambda F, g, y, a, b: (
        F.reshape(g @ F.ravel(b), F.shape(a)),
        F.reshape(F.ravel(a) @ g, F.shape(b)),
    ),
    # ---- shape and layout ---------------------------------------------------------------
    P.np_transpose: linear(_transpose),
    P.T_attr: linear(lambda F, g, x: F.transpose(g)),
    P.np_swapaxes: lambda F, g, y, x, a1, a2: (F.swapaxes(g, a1, a2), None, None),
    P.np_reshape: lambda F, g, y, x, *shape: (F.reshape(g, F.shape(x)),) + (None,) * len(shape),
    P.np_ravel: linear(lambda F, g, x: F.reshape(g, F.shape(x))),
    P.np_expand_dims: lambda F, g, y, x, axis: (F.reshape(g, F.shape(x)), None),
    P.np_broadcast_to: lambda F, g, y, x, shape: (F.unbroadcast(g, x), None),
    P.np_copy: linear(lambda F, g, x: g),
    P.np_concatenate: _listed(lambda F, g, xs, i, axis=0: F.unconcat(g, *xs, part=i, axis=axis)),
    P.np_stack: _listed(lambda F, g, xs, i, axis=0: F.take(g, i, axis=axis)),
    P.np_array: _listed(lambda F, g, xs, i: F.take(g, i, axis=0)),
    P.make_tuple: _listed(lambda F, g, xs, i: F.take(g, i, axis=0)),
    # ---- indexing ---------------------------------------------------------------------
    P.getitem: lambda F, g, y, x, *idx, index: (F.index_grad(g, x, *idx, index=index),)
    + (None,) * len(idx),
    P.setitem: lambda F, g, y, x, v, *idx, index: _setitem(F, g, x, v, idx, index),
    # ---- lists built in loops: the adjoint of a list is a list, read back like a tape ------
    P.make_list: _listed(lambda F, g, xs, i: F.getitem(g, i, index=(("at", 0),))),
    P.list_append: lambda F, g, y, xs, v: _append(F, g),
    P.np_stack_list: lambda F, g, y, xs, axis=0: (F.unstack(g, axis=axis),),
    P.np_array_list: lambda F, g, y, xs: (F.unstack(g),),
    P.sum_list: lambda F, g, y, xs: (F.sum_list_grad(g, xs),),
}

# Operations whose output is treated as a constant: the derivative is zero almost everywhere
# (rounding, comparisons) or the value is not a real number to differentiate (shapes, sizes).
NON_DIFFERENTIABLE: frozenset[Primitive] = frozenset(
    p for p in P.ALL.values() if not p.differentiable
)

# Primitives that only ever appear inside generated gradients, never in user code.
INTERNAL: frozenset[Primitive] = frozenset(
    {
        P.unbroadcast,
        P.matmul_grad_a,
        P.matmul_grad_b,
        P.unconcat,
        P.index_grad,
        P.np_take,
        P.unstack,
        P.sum_list_grad,
        P.add_lists,
    }
)


def rule_for(prim: Primitive) -> Rule | None:
    return RULES.get(prim)
