"""Every derivative rule, checked against central finite differences in float64.

The table ``ROWS`` has one or more rows per primitive of ``rules.RULES``: an expression over
named inputs, each with its own domain, and a tolerance. A row becomes the function

    def f(x, y):
        <body>
        return np.sum(W * (<expr>))

with ``W`` a fixed random array shaped like the expression, so that every element of the
result gets its own nontrivial adjoint. To add a row, add one line to the table; the
completeness tests say which primitives still lack one. Scalar rules (``math`` functions,
elementwise NumPy functions, operators) are also compared with ``sympy.diff``.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pytest
import sympy as sp

import symdiff
from symdiff.ad import rules
from symdiff.frontend.lower import lower
from symdiff.frontend.source import get_source
from symdiff.ir import primitives as P
from symdiff.ir.nodes import Primitive, iter_assigns

# ----------------------------------------------------------------------------- domains


@dataclass(frozen=True)
class Arg:
    """How to draw one input: uniform in [lo, hi], away from zero, or a special matrix."""

    shape: tuple[int, ...] = ()
    lo: float = -2.0
    hi: float = 2.0
    kind: str = "uniform"  # uniform | nonzero | spd | distinct

    def draw(self, rng: np.random.Generator) -> Any:
        if self.kind == "spd":  # symmetric positive definite, well conditioned
            n = self.shape[-1]
            a = rng.standard_normal(self.shape)
            return a @ np.swapaxes(a, -1, -2) / n + np.eye(n)
        if self.kind == "distinct":  # values at least 0.2 apart: no ties within a step
            values = rng.permutation(int(np.prod(self.shape, dtype=int))) * 0.2 + self.lo
            return values.reshape(self.shape).astype(float) if self.shape else float(values)
        x = rng.uniform(self.lo, self.hi, self.shape)
        if self.kind == "nonzero":
            x = np.where(rng.random(self.shape) < 0.5, -1.0, 1.0) * rng.uniform(
                0.2, 2.0, self.shape
            )
        return float(x) if self.shape == () else x


def U(*shape: int, lo: float = -2.0, hi: float = 2.0) -> Arg:
    return Arg(shape, lo, hi)


def POS(*shape: int, lo: float = 0.3, hi: float = 2.0) -> Arg:
    return Arg(shape, lo, hi)


def NZ(*shape: int) -> Arg:
    """Away from zero: for |x|, sign changes and divisions."""
    return Arg(shape, kind="nonzero")


def DIST(*shape: int) -> Arg:
    """Distinct values: for max, sort, median and other selections."""
    return Arg(shape, lo=-1.53, kind="distinct")  # off the round numbers rows compare with


def SPD(*shape: int) -> Arg:
    return Arg(shape, kind="spd")


# ----------------------------------------------------------------------------- rows


@dataclass(frozen=True)
class Row:
    expr: str
    args: dict[str, Arg]
    rtol: float = 1e-5
    atol: float = 1e-6
    body: str = ""  # statements before the return, e.g. unpacking
    consts: dict[str, Any] = field(default_factory=dict)  # inputs not differentiated

    @property
    def id(self) -> str:
        shapes = ",".join(f"{k}{list(a.shape)}" for k, a in self.args.items())
        text = (self.body.replace("\n", "; ") + "; " if self.body else "") + self.expr
        return f"{text} [{shapes}]"


def row(expr: str, *, rtol: float = 1e-5, atol: float = 1e-6, body: str = "", consts=None,
        **args: Arg) -> Row:  # fmt: skip
    return Row(expr, args, rtol, atol, body, dict(consts or {}))


IDX = np.array([2, 0, 2, 1])
MASK = np.array([[1.0, 0.0, 2.0, 1.0], [1.5, 1.0, 0.0, 1.0], [1.0, 1.0, 1.0, -1.0]])
WEIGHTS = np.array([0.5, 1.0, 2.0, 0.25])
COND = np.array([[True, False, True, False], [False, False, True, True], [True, True, False, True]])
REPS = np.array([1, 0, 3, 2])

ROWS: list[Row] = [
    # ---- operators, with broadcasting
    row("x + y", x=U(3, 4), y=U(4)),
    row("x - y", x=U(3, 1), y=U(1, 4)),
    row("x * y", x=U(3, 4), y=U()),
    row("x / y", x=U(3, 4), y=NZ(3, 1)),
    row("x ** y", x=POS(3, 4), y=U(4)),
    row("x ** 3 + 2.0 ** x", x=U(3, 4)),
    row("-x + (+y)", x=U(3), y=U(3)),
    row("x % y", x=U(3, 4, lo=-3, hi=3), y=POS(4, lo=0.7)),
    row("x @ y", x=U(3, 4), y=U(4, 2)),
    row("x @ y", x=U(2, 3, 4), y=U(4)),
    row("x @ y", x=U(4), y=U(2, 4, 3)),
    # ---- math module (scalars)
    row("math.exp(x) + math.exp2(y) + math.expm1(x * y)", x=U(), y=U()),
    row("math.log(x) + math.log(x, y) + math.log2(y) + math.log10(x)", x=POS(), y=POS(lo=1.5)),
    row("math.log1p(x) + math.sqrt(y) + math.cbrt(y)", x=U(lo=-0.5), y=POS()),
    row("math.sin(x) * math.cos(y) + math.tan(x)", x=U(lo=-1.2, hi=1.2), y=U()),
    row(
        "math.asin(x) + math.acos(y) + math.atan(x * y)", x=U(lo=-0.9, hi=0.9), y=U(lo=-0.9, hi=0.9)
    ),
    row("math.sinh(x) + math.cosh(y) + math.tanh(x * y)", x=U(), y=U()),
    row("math.asinh(x) + math.acosh(y) + math.atanh(x / 3)", x=U(), y=U(lo=1.2, hi=3)),
    row("math.erf(x) + math.erfc(y) + math.fabs(x)", x=NZ(), y=U()),
    row("math.degrees(x) + math.radians(y)", x=U(), y=U()),
    row("math.pow(x, y) + math.hypot(x, y) + math.atan2(y, x)", x=POS(), y=U()),
    row("math.fmod(x, y)", x=U(lo=-3, hi=3), y=POS(lo=0.7)),
    row("abs(x) + max(x, y) + min(x, 2 * y) + pow(y, 2) + float(x)", x=NZ(), y=U()),
    # ---- elementwise NumPy
    row("np.exp(x) + np.exp2(x) + np.expm1(x)", x=U(3, 4)),
    row("np.log(x) + np.log2(x) + np.log10(x)", x=POS(3, 4)),
    row("np.log1p(x)", x=U(3, 4, lo=-0.5)),
    row("np.sqrt(x) + np.cbrt(x) + np.reciprocal(x)", x=POS(3, 4)),
    row("np.square(x) + np.negative(x) * np.positive(x)", x=U(3, 4)),
    row("np.abs(x) + np.absolute(x) + np.fabs(x)", x=NZ(3, 4)),
    row("np.sin(x) + np.cos(x) + np.tan(x)", x=U(3, 4, lo=-1.2, hi=1.2)),
    row("np.arcsin(x) + np.arccos(x) + np.arctan(x)", x=U(3, 4, lo=-0.9, hi=0.9)),
    row("np.sinh(x) + np.cosh(x) + np.tanh(x)", x=U(3, 4)),
    row("np.arcsinh(x) + np.arctanh(x / 3)", x=U(3, 4)),
    row("np.arccosh(x)", x=U(3, 4, lo=1.2, hi=3)),
    row("np.sinc(x)", x=U(3, 4)),
    row("np.sinc(x * 0.0 + ZERO) * x", x=U(3)),
    row("np.deg2rad(x) + np.radians(x) + np.rad2deg(x) + np.degrees(x)", x=U(3, 4)),
    row("np.real(x) + np.conj(x) + np.conjugate(x) + x.real + np.real_if_close(x)", x=U(3, 4)),
    row("x * (np.imag(x) + np.angle(x) + x.imag)", x=U(3, 4)),
    row("np.nan_to_num(x / y)", x=U(3, 4), y=NZ(4)),
    row("np.float64(x) * x", x=U(3)),
    row("np.add(x, y) + np.subtract(x, y) * np.multiply(x, y)", x=U(3, 4), y=U(4)),
    row("np.divide(x, y) + np.true_divide(y, x)", x=NZ(3, 4), y=NZ(3, 1)),
    row("np.power(x, y) + np.float_power(x, y)", x=POS(3, 4), y=U(3, 1)),
    row(
        "np.remainder(x, y) + np.mod(x, 2.5) + np.fmod(x, y)",
        x=U(3, 4, lo=-3, hi=3),
        y=POS(4, lo=0.7),
    ),
    row("np.hypot(x, y) + np.arctan2(x, y)", x=U(3, 4), y=NZ(4)),
    row("np.logaddexp(x, y) + np.logaddexp2(x, y)", x=U(3, 4), y=U(3, 1)),
    row("np.maximum(x, y) + np.minimum(x, y)", x=DIST(3, 4), y=U(4, lo=-0.05, hi=0.05)),
    row("np.maximum(x, 0.0) + np.minimum(x, 0.5)", x=DIST(3, 4)),
    row("np.fmax(x, y) + np.fmin(x, y)", x=DIST(3, 4), y=U(4, lo=-0.05, hi=0.05)),
    row(
        "np.fmax(x, NANS) + np.fmin(NANS, x)",
        x=DIST(4),
        consts={"NANS": np.array([np.nan, 0.1, np.nan, -0.1])},
    ),
    row("np.where(COND, x, y)", x=U(3, 4), y=U(4)),
    row("np.where(x > 0, x, 0.1 * x)", x=NZ(3, 4)),
    row("np.clip(x, -0.5, 0.7) + np.clip(x, a_min=None, a_max=0.3)", x=DIST(3, 4)),
    row(
        "np.clip(x, lo, hi)",
        x=DIST(3, 4),
        lo=U(4, lo=-0.45, hi=-0.35),
        hi=U(3, 1, lo=0.35, hi=0.45),
    ),
    # ---- reductions and scans, with axis, keepdims and method forms
    row("np.sum(x)", x=U(3, 4)),
    row("np.sum(x, axis=0) + np.sum(x, 1, keepdims=True)", x=U(3, 4)),
    row("np.sum(x, axis=(0, 2)) + x.sum(-1).sum(0)", x=U(2, 3, 4)),
    row("np.mean(x) + np.mean(x, axis=1, keepdims=True) + x.mean(axis=0)", x=U(3, 4)),
    row("np.mean(x, axis=(0, 2), keepdims=True)", x=U(2, 3, 4)),
    row("np.average(x) + np.average(x, axis=1)", x=U(3, 4)),
    row("np.average(x, axis=1, weights=WEIGHTS)", x=U(3, 4)),
    row(
        "np.average(x, axis=1, weights=w) + np.average(x, weights=v)",
        x=U(3, 4),
        w=POS(4),
        v=POS(3, 4),
    ),
    row("np.average(x, 0, w, keepdims=True)", x=U(3, 4), w=POS(3)),
    row("np.prod(x) + np.prod(x, axis=0) + x.prod(1, keepdims=True)", x=U(3, 4, lo=0.5, hi=1.5)),
    row("np.prod(x * MASK, axis=1)", x=U(3, 4)),
    row("np.prod(x * MASK)", x=U(3, 4)),
    row("np.var(x) + np.var(x, axis=0, ddof=1) + x.var(1, keepdims=True)", x=U(3, 4)),
    row("np.std(x) + np.std(x, axis=1, ddof=1).sum() + x.std(0)", x=U(3, 4)),
    row("np.max(x) + np.amax(x, axis=0) + x.max(1, keepdims=True)", x=DIST(3, 4)),
    row("np.min(x) + np.amin(x, axis=1).sum() + x.min(axis=0)", x=DIST(3, 4)),
    row(
        "np.max(x * 0.0 + TIES, axis=0) * np.sum(x)",
        x=U(3, 4),
        consts={"TIES": np.array([[1.0, 2, 2, 0], [1, 2, 3, 0], [0, 1, 3, 0]])},
    ),
    row("np.ptp(x) + np.ptp(x, axis=1)", x=DIST(3, 4)),
    row("np.median(x) + np.median(x, axis=0) + np.median(x, axis=1, keepdims=True)", x=DIST(3, 4)),
    row("np.median(x, axis=(0, 2))", x=DIST(3, 2, 5)),
    row("np.linalg.norm(x) + np.linalg.norm(y) + np.linalg.norm(x, ord=2)", x=U(5), y=U(3, 4)),
    row(
        "np.linalg.norm(x, 1) + np.linalg.norm(x, 3) + np.linalg.norm(x, np.inf) + np.linalg.norm(x, -np.inf)",
        x=DIST(5),
    ),
    row("np.linalg.norm(x, axis=1)[:, None] + np.linalg.norm(x, axis=0, keepdims=True)", x=U(3, 4)),
    row(
        "np.linalg.norm(x, 'fro') + np.linalg.norm(x, 'nuc') + np.linalg.norm(x, 2) + np.linalg.norm(x, -2)",
        x=U(3, 4),
    ),
    row(
        "np.linalg.norm(x, 1) + np.linalg.norm(x, np.inf) + np.linalg.norm(x, -1) + np.linalg.norm(x, -np.inf)",
        x=DIST(3, 4),
    ),
    row(
        "np.linalg.norm(x, ord='fro', axis=(1, 2)).sum() + np.linalg.norm(x, 2, axis=(0, 2))",
        x=U(2, 3, 4),
    ),
    row("np.cumsum(x) + 0.0", x=U(3, 4)),
    row("np.cumsum(x, axis=1) + x.cumsum(0)", x=U(3, 4)),
    row("np.cumprod(x, axis=1) + x.cumprod(0)", x=U(3, 4, lo=0.5, hi=1.5)),
    row("np.cumprod(x * MASK)", x=U(3, 4)),
    row("np.diff(x) + 0.0", x=U(3, 4)),
    row("np.diff(x, n=2, axis=0)", x=U(4, 3)),
    row("np.partition(x, 1) + np.partition(x, (0, 2), axis=0)", x=DIST(3, 4)),
    row("np.sort(x) + np.sort(x, axis=0) + x[0, 0] * np.sort(x, axis=None)[3]", x=DIST(3, 4)),
    # ---- linear algebra
    row("np.dot(x, y)", x=U(3, 4), y=U(4, 2)),
    row("np.dot(x, y) + x.dot(y)", x=U(3, 4), y=U(4)),
    row("np.dot(x, y)", x=U(4), y=U(4)),
    row("np.dot(x, y)", x=U(2, 3, 4), y=U(5, 4, 2)),
    row("np.dot(x, y)", x=U(), y=U(3, 4)),
    row("np.vdot(x, y)", x=U(3, 4), y=U(2, 6)),
    row("np.inner(x, y)", x=U(3, 4), y=U(2, 4)),
    row("np.inner(x, y)", x=U(4), y=U(4)),
    row("np.outer(x, y)", x=U(3), y=U(2, 2)),
    row("np.matmul(x, y)", x=U(2, 3, 4), y=U(4, 5)),
    row("np.einsum('ij,jk->ik', x, y)", x=U(3, 4), y=U(4, 2)),
    row("np.einsum('ii->', x) + np.einsum('ii->i', x)", x=U(3, 3)),
    row("np.einsum('ij->', x) + np.einsum('ij,j', x, y)", x=U(3, 4), y=U(4)),
    row("np.einsum('...ij,...jk->...ik', x, y)", x=U(2, 3, 4), y=U(4, 5)),
    row("np.einsum('bij,bj->bi', x, y)", x=U(2, 3, 4), y=U(1, 4)),
    row("np.einsum('i,j,ij->', x, y, z)", x=U(3), y=U(4), z=U(3, 4)),
    row("np.tensordot(x, y) + np.tensordot(x, z, axes=1).sum()", x=U(3, 4), y=U(3, 4), z=U(4, 2)),
    row("np.tensordot(x, y, axes=([1, 0], [0, 1]))", x=U(3, 4, 2), y=U(4, 3)),
    row("np.kron(x, y)", x=U(2, 3), y=U(3, 2)),
    row("np.kron(x, y)", x=U(3), y=U(2, 2)),
    row("np.cross(x, y)", x=U(4, 3), y=U(3)),
    row("np.cross(x, y, axis=0)", x=U(3, 2), y=U(3, 2)),
    row(
        "np.trace(x) + np.trace(x, 1) + np.trace(y, axis1=1, axis2=2) + x.trace(-1)",
        x=U(3, 4),
        y=U(2, 3, 3),
    ),
    row("np.diag(x).sum() + np.diag(y, 1)", x=U(3, 3), y=U(2)),
    row("np.diag(x, -1)", x=U(3, 4)),
    row("np.diagonal(x) + x.diagonal(1) + np.diagonal(y, 0, 0, 2).sum()", x=U(3, 4), y=U(3, 2, 3)),
    row("np.triu(x) + np.tril(x, -1) * 2.0 + np.triu(y, 1).sum()", x=U(3, 4), y=U(2, 3, 3)),
    row(
        "np.convolve(x, y) + np.convolve(y, x, mode='same').sum() + np.convolve(x, y, 'valid').sum()",
        x=U(6),
        y=U(3),
    ),
    row("np.convolve(x, y, mode='same')", x=U(3), y=U(6)),
    row("np.linalg.det(x) + np.linalg.det(y).sum()", x=U(3, 3), y=SPD(2, 3, 3)),
    row("logdet + sign", x=U(3, 3), body="sign, logdet = np.linalg.slogdet(x)"),
    row("np.linalg.slogdet(x)[1]", x=SPD(2, 3, 3)),
    row("np.linalg.inv(x)", x=SPD(3, 3)),
    row("np.linalg.inv(x)", x=SPD(2, 3, 3)),
    row("np.linalg.solve(x, y)", x=SPD(3, 3), y=U(3)),
    row("np.linalg.solve(x, y)", x=SPD(2, 3, 3), y=U(3, 2)),
    row("np.linalg.solve(x, y)", x=SPD(3, 3), y=U(2, 3, 2)),
    row("w", x=SPD(4, 4), body="w, v = np.linalg.eigh(x)"),
    row("w[0] * v ** 2 + w[-1]", x=SPD(4, 4), body="w, v = np.linalg.eigh(x)"),
    row("np.linalg.eigh(x)[1] ** 2", x=SPD(2, 3, 3)),
    row("np.linalg.eigh(x, 'U')[0]", x=SPD(3, 3)),
    row("np.linalg.eigvalsh(x)", x=SPD(4, 4)),
    row("np.linalg.cholesky(x)", x=SPD(4, 4)),
    row("np.linalg.cholesky(x)", x=SPD(2, 3, 3)),
    row("np.linalg.pinv(x)", x=U(3, 5)),
    row("np.linalg.pinv(x)", x=U(2, 4, 3)),
    row(
        "s + u[:, 0] ** 2 + vh[1] ** 2 + (u * s) @ vh",
        x=U(4, 4),
        body="u, s, vh = np.linalg.svd(x)",
    ),
    row(
        "(u ** 2).sum() * s[0] + np.sum(vh[:2] ** 2 * s[:2, None])",
        x=U(3, 5),
        body="u, s, vh = np.linalg.svd(x, full_matrices=False)",
    ),
    row("np.linalg.svd(x, compute_uv=False)", x=U(2, 5, 3)),
    # ---- shape and layout
    row("np.reshape(x, (4, 3)) + x.reshape(4, 3) + x.reshape((-1, 3))", x=U(3, 4)),
    row("np.ravel(x) + x.flatten() + x.ravel()", x=U(3, 4)),
    row("np.squeeze(x) + np.squeeze(x, axis=0).sum()", x=U(1, 3, 1)),
    row("np.expand_dims(x, 1) + np.expand_dims(x, (0, 2))", x=U(3)),
    row("np.transpose(x) + x.T + x.transpose()", x=U(3, 3)),
    row("np.transpose(x, (1, 2, 0)) + x.transpose(1, 2, 0)", x=U(2, 3, 4)),
    row("np.permute_dims(x, (2, 0, 1)) + np.swapaxes(x, 0, 2).transpose(0, 2, 1)", x=U(4, 2, 3)),
    row("np.moveaxis(x, 0, -1) + np.moveaxis(x, [0, 1], [1, 2]).transpose(2, 0, 1)", x=U(4, 3, 4)),
    row("np.rollaxis(x, 2) + np.rollaxis(x, 1, 3).transpose(2, 1, 0)", x=U(4, 4, 4)),
    row("np.flip(x) + np.flip(x, axis=1) + np.fliplr(x) + np.flipud(x)", x=U(3, 4)),
    row("np.rot90(x) + np.rot90(x, 2).T + np.rot90(x, -1, axes=(1, 0))", x=U(3, 3)),
    row("np.roll(x, 2) + np.roll(x, -1, axis=1) + np.roll(x, (1, 2), axis=(0, 1))", x=U(3, 4)),
    row("np.tile(x, 2) + 0.0", x=U(3)),
    row("np.tile(x, (2, 1, 3))", x=U(3, 4)),
    row("np.repeat(x, 3) + 0.0", x=U(2, 3)),
    row("np.repeat(x, 2, axis=1) + x.repeat(REPS, axis=1).sum()", x=U(3, 4)),
    row("np.pad(x, 1) + 0.0", x=U(3, 4)),
    row("np.pad(x, ((1, 0), (2, 3)), constant_values=0.5)", x=U(3, 4)),
    row("np.concatenate([x, y]) + 0.0", x=U(2, 4), y=U(3, 4)),
    row(
        "np.concatenate((x, y.T), axis=1) + np.concatenate([x, y.T], axis=None)[3]",
        x=U(2, 3),
        y=U(4, 2),
    ),
    row("np.stack([x, y]) + np.stack((x, y), axis=1).sum()", x=U(3), y=U(3)),
    row("np.vstack([x, y, z])", x=U(4), y=U(2, 4), z=U(4)),
    row("np.hstack([x, y]) + np.hstack((z, z)).sum()", x=U(3, 2), y=U(3, 1), z=U(3)),
    row("np.dstack([x, y])", x=U(3, 2), y=U(3, 2, 2)),
    row("np.column_stack((x, y))", x=U(3), y=U(3, 2)),
    row("a + 2 * b", x=U(6, 2), body="a, b = np.split(x, 2)"),
    row("a.sum() + 3 * c.sum()", x=U(2, 7), body="a, b, c = np.split(x, [2, 5], axis=1)"),
    row("np.array_split(x, 3)[0].sum() * np.array_split(x, 3)[2].sum()", x=U(7)),
    row("a * b", x=U(3, 4), body="a, b = np.hsplit(x, 2)"),
    row("np.vsplit(x, [1])[1] + np.dsplit(y, 2)[0][..., 0]", x=U(3, 4), y=U(2, 4, 2)),
    row("np.broadcast_to(x, (2, 3, 4))", x=U(3, 1)),
    row("np.atleast_1d(x) + np.atleast_2d(y) + np.atleast_3d(y).sum()", x=U(), y=U(3)),
    row("np.copy(x) + x.copy() + np.asarray(x) + x.astype(float) + np.array(x)", x=U(3, 4)),
    row("x.astype(np.float32) + np.asarray(x, dtype=float)", x=U(3, 4), rtol=5e-2, atol=5e-2),
    row("x * x.astype(int)", x=U(3, 4, lo=0.1, hi=2.9)),
    row("np.full_like(x, y) + np.full((2, 3), y)", x=U(3), y=U()),
    row("np.full_like(x, y) * x", x=U(3, 4), y=U(4)),
    row("np.zeros_like(x) + np.ones_like(x) * x + np.sum(np.asarray((x, x * x)))", x=U(3)),
    row(
        "np.take(x, IDX) + np.take(x, IDX, axis=1).sum() + x.take([1, 1], axis=0).sum()", x=U(3, 4)
    ),
    row("np.array([x, y * x])", x=U(), y=U()),
    row("np.append(x, y) + 0.0", x=U(2, 2), y=U(3)),
    row("np.append(x, y, axis=0)", x=U(2, 3), y=U(1, 3)),
    row("np.linspace(x, y, 5) + np.linspace(x, 2.0, num=4, endpoint=False).sum()", x=U(), y=U()),
    row("np.linspace(x, y, 4)", x=U(3), y=U(2, 1)),
    row("np.vstack((x, y)) * x", x=U(3), y=U(3)),
    row("np.astype(x, np.float64) + np.array(x, dtype=float)", x=U(3, 4)),
    # ---- indexing
    row("x[1:, ::2] + x[-1, ::-1].sum() + x[::-2, 1]", x=U(3, 4)),
    row("x[None, :, 1] * x[:, None, 0]", x=U(3, 4)),
    row("x[[0, 2, 2]] + x[IDX[:3], [1, 1, 3]][:, None]", x=U(3, 4)),
    row("x[x > 0] ** 2", x=NZ(3, 4)),
    row("x[..., 1] * x.size + x.shape[0] * len(x)", x=U(3, 4)),
    row("y", x=U(3, 4), body="y = np.copy(x)\ny[1] = 2.0 * x[0]\ny[:, 2] = 3.0"),
    # ---- lists built in loops
    row(
        "np.stack(xs) + np.array(xs) + sum(xs)",
        x=U(3, 2),
        body="xs = []\nfor i in range(3):\n    xs.append(x[i] * (i + 1))",
    ),
]


# ----------------------------------------------------------------------------- running a row


def build(r: Row):
    """The row as a function of its inputs (and the same expression without the weights)."""
    names = ", ".join(r.args)
    body = "".join(f"    {line}\n" for line in r.body.splitlines())
    ns = dict(np=np, math=math, IDX=IDX, MASK=MASK, WEIGHTS=WEIGHTS, COND=COND, REPS=REPS, ZERO=0.0)
    ns.update(r.consts)
    value = symdiff.from_source(f"def value({names}):\n{body}    return {r.expr}\n", namespace=ns)
    rng = np.random.default_rng(zlib.crc32(r.id.encode()))
    inputs = [a.draw(rng) for a in r.args.values()]
    shape = np.shape(value(*inputs))
    ns["W"] = rng.standard_normal(shape) if shape else 1.0 + rng.random()
    f = symdiff.from_source(
        f"def f({names}):\n{body}    return np.sum(W * ({r.expr}))\n", namespace=ns
    )
    return f, inputs


@pytest.mark.parametrize("r", ROWS, ids=[r.id for r in ROWS])
def test_rule_matches_finite_differences(r: Row) -> None:
    f, inputs = build(r)
    wrt = tuple(r.args) if len(r.args) > 1 else next(iter(r.args))
    report = symdiff.check_grad(
        f, *inputs, wrt=wrt, rtol=r.rtol, atol=r.atol, raise_on_failure=False
    )
    assert report.ok, f"{r.id}\n{report}\n{symdiff.gradient_source(f, wrt=wrt)}"


# ----------------------------------------------------------------------------- completeness


def _all_primitives() -> set[Primitive]:
    return {v for v in vars(P).values() if isinstance(v, Primitive)} | set(P.ALL.values())


@lru_cache(maxsize=None)
def _covered() -> frozenset[Primitive]:
    """The primitives the rows' functions use."""
    seen: set[Primitive] = set()
    for r in ROWS:
        f, _ = build(r)
        fn, _ = lower(get_source(f), reserved=set())
        seen.update(s.prim for s in iter_assigns(fn.body))
    return frozenset(seen)


def test_every_primitive_has_a_rule_or_is_declared_constant() -> None:
    missing = [
        p.name
        for p in _all_primitives()
        if p not in rules.RULES and p not in rules.NON_DIFFERENTIABLE and p not in rules.INTERNAL
    ]
    assert not missing, f"primitives without a rule, not declared constant or internal: {missing}"


def test_constants_are_not_differentiable_and_have_no_rule() -> None:
    for p in rules.NON_DIFFERENTIABLE:
        assert not p.differentiable and p not in rules.RULES, p.name


def test_every_rule_has_a_finite_difference_row() -> None:
    untested = sorted(
        p.name for p in rules.RULES if p not in rules.INTERNAL and p not in _covered()
    )
    assert not untested, f"rules without a row in ROWS: {untested}"


# ----------------------------------------------------------------------------- sympy


A, B = sp.symbols("a b", real=True)

# (code using a and b, the same function in sympy, domain of a, domain of b)
SCALAR: list[tuple[str, Any, tuple[float, float], tuple[float, float]]] = [
    ("a + b", A + B, (-2, 2), (-2, 2)),
    ("a - b", A - B, (-2, 2), (-2, 2)),
    ("a * b", A * B, (-2, 2), (-2, 2)),
    ("a / b", A / B, (-2, 2), (0.5, 2)),
    ("a ** b", A**B, (0.3, 2), (-2, 2)),
    ("-a + (+b)", -A + B, (-2, 2), (-2, 2)),
    ("a % b", A - B * sp.floor(A / B), (-3, 3), (0.7, 2)),
    ("math.exp(a)", sp.exp(A), (-2, 2), (0, 1)),
    ("math.exp2(a)", 2**A, (-2, 2), (0, 1)),
    ("math.expm1(a)", sp.exp(A) - 1, (-2, 2), (0, 1)),
    ("math.log(a)", sp.log(A), (0.3, 3), (0, 1)),
    ("math.log(a, b)", sp.log(A) / sp.log(B), (0.3, 3), (1.5, 3)),
    ("math.log2(a)", sp.log(A, 2), (0.3, 3), (0, 1)),
    ("math.log10(a)", sp.log(A, 10), (0.3, 3), (0, 1)),
    ("math.log1p(a)", sp.log(1 + A), (-0.5, 2), (0, 1)),
    ("math.sqrt(a)", sp.sqrt(A), (0.3, 3), (0, 1)),
    ("math.cbrt(a)", sp.cbrt(A), (0.3, 3), (0, 1)),
    ("math.sin(a)", sp.sin(A), (-2, 2), (0, 1)),
    ("math.cos(a)", sp.cos(A), (-2, 2), (0, 1)),
    ("math.tan(a)", sp.tan(A), (-1.2, 1.2), (0, 1)),
    ("math.asin(a)", sp.asin(A), (-0.9, 0.9), (0, 1)),
    ("math.acos(a)", sp.acos(A), (-0.9, 0.9), (0, 1)),
    ("math.atan(a)", sp.atan(A), (-2, 2), (0, 1)),
    ("math.sinh(a)", sp.sinh(A), (-2, 2), (0, 1)),
    ("math.cosh(a)", sp.cosh(A), (-2, 2), (0, 1)),
    ("math.tanh(a)", sp.tanh(A), (-2, 2), (0, 1)),
    ("math.asinh(a)", sp.asinh(A), (-2, 2), (0, 1)),
    ("math.acosh(a)", sp.acosh(A), (1.2, 3), (0, 1)),
    ("math.atanh(a)", sp.atanh(A), (-0.9, 0.9), (0, 1)),
    ("math.erf(a)", sp.erf(A), (-2, 2), (0, 1)),
    ("math.erfc(a)", sp.erfc(A), (-2, 2), (0, 1)),
    ("math.fabs(a)", sp.Abs(A), (0.2, 2), (0, 1)),
    ("math.degrees(a)", A * 180 / sp.pi, (-2, 2), (0, 1)),
    ("math.radians(a)", A * sp.pi / 180, (-2, 2), (0, 1)),
    ("math.pow(a, b)", A**B, (0.3, 2), (-2, 2)),
    ("math.hypot(a, b)", sp.sqrt(A**2 + B**2), (-2, 2), (0.3, 2)),
    ("math.atan2(a, b)", sp.atan2(A, B), (-2, 2), (0.3, 2)),
    ("math.fmod(a, b)", A - B * sp.floor(A / B), (0.1, 3), (0.7, 2)),
    ("abs(a)", sp.Abs(A), (-2, -0.2), (0, 1)),
    ("max(a, b)", sp.Max(A, B), (0.5, 2), (-2, 0)),
    ("min(a, b)", sp.Min(A, B), (0.5, 2), (-2, 0)),
    ("pow(a, b)", A**B, (0.3, 2), (-2, 2)),
    ("float(a)", A, (-2, 2), (0, 1)),
    ("np.exp(a)", sp.exp(A), (-2, 2), (0, 1)),
    ("np.exp2(a)", 2**A, (-2, 2), (0, 1)),
    ("np.expm1(a)", sp.exp(A) - 1, (-2, 2), (0, 1)),
    ("np.log(a)", sp.log(A), (0.3, 3), (0, 1)),
    ("np.log2(a)", sp.log(A, 2), (0.3, 3), (0, 1)),
    ("np.log10(a)", sp.log(A, 10), (0.3, 3), (0, 1)),
    ("np.log1p(a)", sp.log(1 + A), (-0.5, 2), (0, 1)),
    ("np.sqrt(a)", sp.sqrt(A), (0.3, 3), (0, 1)),
    ("np.cbrt(a)", sp.cbrt(A), (0.3, 3), (0, 1)),
    ("np.square(a)", A**2, (-2, 2), (0, 1)),
    ("np.reciprocal(a)", 1 / A, (0.3, 3), (0, 1)),
    ("np.negative(a)", -A, (-2, 2), (0, 1)),
    ("np.positive(a)", A, (-2, 2), (0, 1)),
    ("np.abs(a)", sp.Abs(A), (0.2, 2), (0, 1)),
    ("np.fabs(a)", sp.Abs(A), (-2, -0.2), (0, 1)),
    ("np.sin(a)", sp.sin(A), (-2, 2), (0, 1)),
    ("np.cos(a)", sp.cos(A), (-2, 2), (0, 1)),
    ("np.tan(a)", sp.tan(A), (-1.2, 1.2), (0, 1)),
    ("np.arcsin(a)", sp.asin(A), (-0.9, 0.9), (0, 1)),
    ("np.arccos(a)", sp.acos(A), (-0.9, 0.9), (0, 1)),
    ("np.arctan(a)", sp.atan(A), (-2, 2), (0, 1)),
    ("np.sinh(a)", sp.sinh(A), (-2, 2), (0, 1)),
    ("np.cosh(a)", sp.cosh(A), (-2, 2), (0, 1)),
    ("np.tanh(a)", sp.tanh(A), (-2, 2), (0, 1)),
    ("np.arcsinh(a)", sp.asinh(A), (-2, 2), (0, 1)),
    ("np.arccosh(a)", sp.acosh(A), (1.2, 3), (0, 1)),
    ("np.arctanh(a)", sp.atanh(A), (-0.9, 0.9), (0, 1)),
    ("np.sinc(a)", sp.sin(sp.pi * A) / (sp.pi * A), (0.1, 2), (0, 1)),
    ("np.deg2rad(a)", A * sp.pi / 180, (-2, 2), (0, 1)),
    ("np.radians(a)", A * sp.pi / 180, (-2, 2), (0, 1)),
    ("np.rad2deg(a)", A * 180 / sp.pi, (-2, 2), (0, 1)),
    ("np.degrees(a)", A * 180 / sp.pi, (-2, 2), (0, 1)),
    ("np.real(a)", A, (-2, 2), (0, 1)),
    ("np.conj(a)", A, (-2, 2), (0, 1)),
    ("np.real_if_close(a)", A, (-2, 2), (0, 1)),
    ("np.nan_to_num(a)", A, (-2, 2), (0, 1)),
    ("np.float64(a)", A, (-2, 2), (0, 1)),
    ("np.add(a, b)", A + B, (-2, 2), (-2, 2)),
    ("np.subtract(a, b)", A - B, (-2, 2), (-2, 2)),
    ("np.multiply(a, b)", A * B, (-2, 2), (-2, 2)),
    ("np.divide(a, b)", A / B, (-2, 2), (0.5, 2)),
    ("np.power(a, b)", A**B, (0.3, 2), (-2, 2)),
    ("np.float_power(a, b)", A**B, (0.3, 2), (-2, 2)),
    ("np.remainder(a, b)", A - B * sp.floor(A / B), (-3, 3), (0.7, 2)),
    ("np.fmod(a, b)", A - B * sp.floor(A / B), (0.1, 3), (0.7, 2)),
    ("np.hypot(a, b)", sp.sqrt(A**2 + B**2), (-2, 2), (0.3, 2)),
    ("np.arctan2(a, b)", sp.atan2(A, B), (-2, 2), (0.3, 2)),
    ("np.logaddexp(a, b)", sp.log(sp.exp(A) + sp.exp(B)), (-2, 2), (-2, 2)),
    ("np.logaddexp2(a, b)", sp.log(2**A + 2**B, 2), (-2, 2), (-2, 2)),
    ("np.maximum(a, b)", sp.Max(A, B), (0.5, 2), (-2, 0)),
    ("np.minimum(a, b)", sp.Min(A, B), (0.5, 2), (-2, 0)),
    ("np.fmax(a, b)", sp.Max(A, B), (-2, 0), (0.5, 2)),
    ("np.fmin(a, b)", sp.Min(A, B), (-2, 0), (0.5, 2)),
    ("np.where(a > 0, a * b, b)", sp.Piecewise((A * B, A > 0), (B, True)), (0.2, 2), (-2, 2)),
    ("np.clip(a, -1.0, b)", sp.Min(sp.Max(A, -1), B), (-0.5, 0.5), (0.6, 2)),
    ("np.clip(a, b, 1.0)", sp.Min(sp.Max(A, B), 1), (-0.5, 0.5), (-2, -0.6)),
]


def _scalar_rule(p: Primitive) -> bool:
    """A rule of a scalar function: operators, math, builtins and elementwise NumPy."""
    if p not in rules.RULES or p in rules.INTERNAL or p is P.matmul:
        return False
    return p.elementwise or p.form in ("infix", "prefix") or p.name.startswith("math.")


def _derivative(expr: Any, s: Any) -> Any:
    """sympy's derivative; floor and trunc are steps, whose derivative is 0 almost everywhere."""
    d = sp.diff(expr, s)
    return d.replace(lambda e: isinstance(e, sp.Derivative), lambda e: sp.S.Zero)


@pytest.mark.parametrize("code, expr, da, db", SCALAR, ids=[s[0] for s in SCALAR])
def test_scalar_rule_matches_sympy(code: str, expr: Any, da: tuple, db: tuple) -> None:
    f = symdiff.from_source(f"def f(a, b):\n    return {code}\n")
    g = symdiff.grad(f, wrt=("a", "b"))
    derivs = [sp.lambdify((A, B), _derivative(expr, s), "math") for s in (A, B)]
    rng = np.random.default_rng(len(code))
    for _ in range(3):
        a, b = float(rng.uniform(*da)), float(rng.uniform(*db))
        got = g(a, b)
        for i, d in enumerate(derivs):
            want = float(d(a, b))
            assert got[i] == pytest.approx(want, rel=1e-9, abs=1e-12), (code, i, a, b)


def test_every_scalar_rule_is_checked_against_sympy() -> None:
    seen: set[Primitive] = set()
    for code, *_ in SCALAR:
        fn, _ = lower(get_source(symdiff.from_source(f"def f(a, b):\n    return {code}\n")), set())
        seen.update(s.prim for s in iter_assigns(fn.body))
    unchecked = sorted(p.name for p in rules.RULES if _scalar_rule(p) and p not in seen)
    assert not unchecked, f"scalar rules without a sympy row: {unchecked}"
