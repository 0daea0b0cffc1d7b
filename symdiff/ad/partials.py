"""Partial derivatives, written once for reverse and forward mode.

For a primitive whose derivative is a product of partials (an elementwise function of one
or two inputs), the row gives, for each input ``a_i``, the partial ∂y/∂a_i multiplied by a
seed ``s``: ``lambda F, s, y, x: s / x`` is ``s · ∂(ln x)/∂x``. Multiplying by a partial is
an elementwise linear map, so it is its own transpose, and the one expression serves both
directions (as JAX transposes the linear part of a JVP):

- reverse: the adjoint of ``a_i`` is the row with ``s = g`` (``g / x``); the reverse pass
  sums it back to ``a_i``'s shape when ``a_i`` was broadcast, as for every elementwise rule;
- forward: the tangent of ``y`` is ``Σ_i`` the row with ``s = da_i`` (``dx / x``); a zero
  tangent folds its term away, so ``x ** 2`` with a constant exponent writes one term.

Writing the seed into the partial keeps the generated code reading like the maths
(``g / x``, not ``g * (1.0 / x)``). A few binary rows also carry ``fused``, the same sum
written with its common factor taken out (``(da - y db) / b`` for a quotient, one array
operation fewer than ``da / b - (db / b) y``; ``2 a da`` for ``a * a``); tests check that
it equals the sum of the row's partials, so the two cannot drift apart. The rows assume nothing about which inputs vary, so a
rule that does (``maximum`` splits ties only between two varying inputs) is not a row here:
``rules`` and ``tangents`` keep explicit rows for selections, reductions, indexing, linear
algebra and the helpers of generated code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Mapping

from ..ir import primitives as P
from ..ir.nodes import Primitive

LN2 = math.log(2.0)
LN10 = math.log(10.0)
PI = math.pi
DEG = math.pi / 180.0  # one degree in radians
TWO_BY_SQRT_PI = 2.0 / math.sqrt(math.pi)  # erf'(0)

Seeded = Callable[..., Any]  # (F, s, y, *inputs, **static) -> s · ∂y/∂a_i


@dataclass(frozen=True)
class Partials:
    """One row: ``of[i]`` is ``s · ∂y/∂a_i`` (one per input; ``math.log`` takes one or two).
    ``fused(F, y, a, b, da, db)``, when given, is ``Σ da_i · ∂y/∂a_i`` factored."""

    of: tuple[Seeded, ...]
    fused: Callable[..., Any] | None = None

    def adjoints(self, F: Any, g: Any, y: Any, *xs: Any, **params: Any) -> tuple:
        """The reverse rule: every input's adjoint, ``g · ∂y/∂a_i``."""
        return tuple(d(F, g, y, *xs, **params) for d in self.of[: len(xs)])

    def tangent(self, F: Any, y: Any, xs: tuple, dxs: tuple, **params: Any) -> Any:
        """The forward rule: ``Σ_i da_i · ∂y/∂a_i``, without the terms of zero tangents."""
        if self.fused is not None:
            return self.fused(F, y, *xs, *dxs, **params)
        return self.summed(F, y, xs, dxs, **params)

    def summed(self, F: Any, y: Any, xs: tuple, dxs: tuple, **params: Any) -> Any:
        """``Σ_i da_i · ∂y/∂a_i`` term by term (what ``fused`` must equal)."""
        total = None
        for d, dx in zip(self.of, dxs):
            if F.is_zero(dx):
                continue
            term = d(F, dx, y, *xs, **params)
            total = term if total is None else total + term
        return F.zero if total is None else total


def d(*of: Seeded, fused: Callable[..., Any] | None = None) -> Partials:
    return Partials(of, fused)


def _product(F, y, a, b, da, db):
    """d(a b) = da b + a db; a square x * x is 2 x dx."""
    if a.atom == b.atom:
        return 2.0 * a * da
    return da * b + a * db


def same(value: Any, *prims: Primitive) -> dict[Primitive, Any]:
    """One row for every spelling of a function (``math.exp``, ``np.exp``)."""
    return dict.fromkeys(prims, value)


def _log_x(F, s, y, x, *base):
    """``math.log(x)`` and ``math.log(x, b)`` = ln x / ln b."""
    return s / x if not base else s / (x * F.log(base[0]))


def _sinc(F, s, y, x):
    """sinc x = sin(pi x) / (pi x): (cos(pi x) - sinc x) / x, and 0 at x = 0."""
    at0 = F.eq(x, 0.0)
    return s * F.where(at0, 0.0, (F.cos(PI * x) - y) / F.where(at0, 1.0, x))


_IDENTITY = d(lambda F, s, y, x: s)
_ARITHMETIC = {  # ∂/∂a, ∂/∂b
    "add": d(lambda F, s, y, a, b: s, lambda F, s, y, a, b: s),
    "sub": d(lambda F, s, y, a, b: s, lambda F, s, y, a, b: -s),
    "mul": d(lambda F, s, y, a, b: s * b, lambda F, s, y, a, b: s * a, fused=_product),
    "div": d(
        lambda F, s, y, a, b: s / b,
        lambda F, s, y, a, b: -((s / b) * y),
        fused=lambda F, y, a, b, da, db: (da - y * db) / b,
    ),
    "pow": d(
        lambda F, s, y, a, b: s * b * a ** (b - 1),
        lambda F, s, y, a, b: s * y * F.log(a),
        fused=lambda F, y, a, b, da, db: da * (b * a ** (b - 1)) + db * (y * F.log(a)),
    ),
}

PARTIALS: Mapping[Primitive, Partials] = MappingProxyType(
    {
        # ---- arithmetic, as operators and as NumPy functions ---------------- ∂/∂a, ∂/∂b
        **same(_ARITHMETIC["add"], P.add, P.np_add),
        **same(_ARITHMETIC["sub"], P.sub, P.np_subtract),
        **same(_ARITHMETIC["mul"], P.mul, P.np_multiply),
        **same(_ARITHMETIC["div"], P.div, P.np_divide),
        **same(_ARITHMETIC["pow"], P.pow, P.m_pow, P.np_power, P.b_pow),
        P.np_float_power: d(
            lambda F, s, y, a, b: s * b * F.float_power(a, b - 1),
            lambda F, s, y, a, b: s * y * F.log(a),
            fused=lambda F, y, a, b, da, db: (
                da * (b * F.float_power(a, b - 1)) + db * (y * F.log(a))
            ),
        ),
        **same(
            d(lambda F, s, y, a, b: s, lambda F, s, y, a, b: -(s * F.floor(a / b))),
            P.mod,
            P.np_remainder,
        ),
        **same(
            d(lambda F, s, y, a, b: s, lambda F, s, y, a, b: -(s * F.trunc(a / b))),
            P.m_fmod,
            P.np_fmod,
        ),
        **same(
            d(
                lambda F, s, y, a, b: s * a / y,
                lambda F, s, y, a, b: s * b / y,
                fused=lambda F, y, a, b, da, db: (da * a + db * b) / y,
            ),
            P.m_hypot,
            P.np_hypot,
        ),
        **same(
            d(
                lambda F, s, y, a, b: s * b / (a**2 + b**2),
                lambda F, s, y, a, b: -(s * a / (a**2 + b**2)),
                fused=lambda F, y, a, b, da, db: (da * b - db * a) / (a**2 + b**2),
            ),
            P.m_atan2,
            P.np_arctan2,
        ),
        P.np_logaddexp: d(
            lambda F, s, y, a, b: s * F.exp(a - y), lambda F, s, y, a, b: s * F.exp(b - y)
        ),
        P.np_logaddexp2: d(
            lambda F, s, y, a, b: s * F.exp2(a - y), lambda F, s, y, a, b: s * F.exp2(b - y)
        ),
        # clip(x, lo, hi): the gradient passes where lo <= x <= hi, else to the bound hit
        P.np_clip: d(
            lambda F, s, y, x, lo, hi: s * F.eq(x, y),
            lambda F, s, y, x, lo, hi: s * (x < lo),
            lambda F, s, y, x, lo, hi: s * (x > hi),
        ),
        # ---- elementary functions: ∂/∂x, one row for every spelling ---------------------
        **same(d(lambda F, s, y, x: s * y), P.m_exp, P.np_exp),
        **same(d(lambda F, s, y, x: s * y * LN2), P.m_exp2, P.np_exp2),
        **same(d(lambda F, s, y, x: s * (y + 1.0)), P.m_expm1, P.np_expm1),
        P.m_log: d(_log_x, lambda F, s, y, x, b: -(s * y / (b * F.log(b)))),
        P.np_log: d(lambda F, s, y, x: s / x),
        **same(d(lambda F, s, y, x: s / (x * LN2)), P.m_log2, P.np_log2),
        **same(d(lambda F, s, y, x: s / (x * LN10)), P.m_log10, P.np_log10),
        **same(d(lambda F, s, y, x: s / (1.0 + x)), P.m_log1p, P.np_log1p),
        **same(d(lambda F, s, y, x: s / (2.0 * y)), P.m_sqrt, P.np_sqrt),
        **same(d(lambda F, s, y, x: s / (3.0 * y**2)), P.m_cbrt, P.np_cbrt),
        P.np_square: d(lambda F, s, y, x: s * (2.0 * x)),
        P.np_reciprocal: d(lambda F, s, y, x: -(s * y**2)),
        **same(d(lambda F, s, y, x: s * F.cos(x)), P.m_sin, P.np_sin),
        **same(d(lambda F, s, y, x: -(s * F.sin(x))), P.m_cos, P.np_cos),
        **same(d(lambda F, s, y, x: s * (1.0 + y**2)), P.m_tan, P.np_tan),
        **same(d(lambda F, s, y, x: s / F.sqrt(1.0 - x**2)), P.m_asin, P.np_arcsin),
        **same(d(lambda F, s, y, x: -(s / F.sqrt(1.0 - x**2))), P.m_acos, P.np_arccos),
        **same(d(lambda F, s, y, x: s / (1.0 + x**2)), P.m_atan, P.np_arctan),
        **same(d(lambda F, s, y, x: s * F.cosh(x)), P.m_sinh, P.np_sinh),
        **same(d(lambda F, s, y, x: s * F.sinh(x)), P.m_cosh, P.np_cosh),
        **same(d(lambda F, s, y, x: s * (1.0 - y**2)), P.m_tanh, P.np_tanh),
        **same(d(lambda F, s, y, x: s / F.sqrt(x**2 + 1.0)), P.m_asinh, P.np_arcsinh),
        **same(d(lambda F, s, y, x: s / F.sqrt(x**2 - 1.0)), P.m_acosh, P.np_arccosh),
        **same(d(lambda F, s, y, x: s / (1.0 - x**2)), P.m_atanh, P.np_arctanh),
        P.np_sinc: d(_sinc),
        P.m_erf: d(lambda F, s, y, x: s * TWO_BY_SQRT_PI * F.exp(-(x**2))),
        P.m_erfc: d(lambda F, s, y, x: -(s * TWO_BY_SQRT_PI * F.exp(-(x**2)))),
        # abs and fabs at 0: slope 0 (sign(0) = 0)
        **same(d(lambda F, s, y, x: s * F.sign(x)), P.m_fabs, P.np_abs, P.np_fabs, P.b_abs),
        **same(d(lambda F, s, y, x: s * DEG), P.m_radians, P.np_deg2rad, P.np_radians),
        **same(d(lambda F, s, y, x: s / DEG), P.m_degrees, P.np_rad2deg, P.np_degrees),
        P.np_nan_to_num: d(lambda F, s, y, x, **p: s * F.isfinite(x)),
        # for real inputs these are the identity (or its negation)
        **same(_IDENTITY, P.np_float64, P.np_positive, P.np_real, P.np_conj, P.real_attr),
        P.np_real_if_close: _IDENTITY,
        **same(d(lambda F, s, y, x: -s), P.neg, P.np_negative),
        P.pos: _IDENTITY,
    }
)
