"""The derivative table: one row per primitive, read like the derivative column of a textbook.

Each rule maps the upstream adjoint ``g`` (∂L/∂y), the output ``y`` and the inputs to the
adjoint contribution of every input, in argument order (``None``: no contribution). ``F``
builds the operations, picking ``math.cos`` inside a ``math`` rule and ``np.cos`` inside a
NumPy one, so one row serves both spellings. Contributions of inputs that do not depend on
the ``wrt`` arguments are never used and are removed with the rest of the dead code;
broadcast inputs are summed back to their own shape by the reverse pass, not by the rules.

The rows of elementwise functions whose derivative is a product of partials (arithmetic,
``exp``, ``sin``, ...) are not written here but in ``partials``, shared with forward mode;
``RULES`` takes their adjoints from there. What is written here does not factor that way:
selections, reductions, linear algebra, shapes, indexing and the helpers of gradients.

Conventions at non-differentiable points (documented in the README and docs/numpy.md):
- ``abs``/``fabs`` at 0 and ReLU ``maximum(x, 0)`` at 0: gradient 0.
- ``maximum``/``minimum``/``max``/``min`` ties: split evenly when both inputs carry a
  gradient; when one side is constant (ReLU), the constant side takes it. ``fmax``/``fmin``
  alike, and a NaN loses to a number.
- ``max``/``min``/``ptp`` reductions: shared evenly between tied elements; ``median`` of an
  even count: half to each middle element; ``sort``: ties keep their order (stable).
- ``clip``: the gradient passes where ``lo <= x <= hi``. ``sinc'(0) = 0``.
- ``eigh``: eigenvalues assumed distinct; LAPACK reads one triangle of the matrix, so the
  gradient lives in that triangle (so does ``cholesky``'s, the lower one).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Callable, Mapping

import numpy as np

from ..errors import InternalError, NonDifferentiableError, UnsupportedSyntaxError
from ..ir import primitives as P
from ..ir.nodes import Const, Primitive
from ..ir.ruleset import USER_RULES, RuleSet
from .builder import Sym
from .partials import PARTIALS, same
from .zero_guard import guard, needs_guard

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


def _sum(F, g, y, x, axis=None, dtype=None, keepdims=False):
    if F.is_scalar(x) or (axis is None and not keepdims and F.is_scalar(g)):
        return (g,)  # a scalar adjoint broadcasts over x by itself
    return (F.broadcast_to(_expand(F, g, x, axis, keepdims), F.shape(x)),)


def _mean(F, g, y, x, axis=None, dtype=None, keepdims=False):
    if F.is_scalar(x):
        return (g,)
    if axis is None and not keepdims and F.is_scalar(g):
        return (g / F.size(x),)
    count = F.size(x) / F.size(y)
    return (F.broadcast_to(_expand(F, g, x, axis, keepdims) / count, F.shape(x)),)


def _extremum(F, g, y, x, axis=None, keepdims=False):
    if F.is_scalar(x):
        return (g,)
    hit = F.eq(x, _expand(F, y, x, axis, keepdims))
    share = F.sum(hit, axis=axis, keepdims=True)
    # divide the reduced (small) array, then spread it over the hits: one full-size pass
    return ((_expand(F, g, x, axis, keepdims) / share) * hit,)


def _select(F, g, a, b, larger=True):
    """Adjoints of ``max(a, b)`` (or ``min``): the winner takes ``g`` (ties: see the module doc)."""
    a_wins, b_wins = (a > b, b > a) if larger else (a < b, b < a)
    if F.active(a) and F.active(b):
        wa = a_wins + 0.5 * F.eq(a, b)
        return g * wa, g * (1.0 - wa)
    return g * a_wins, g * b_wins


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


def parts_of(F, g, n: int) -> list:
    """The adjoints of the items of a tuple-valued result, None for an unused item.

    The lowering reads such a result only through ``tuple_item``, whose rule builds the
    tuple of adjoints; anything else reaching here is a use symdiff cannot differentiate.
    """
    made = F.defining(g.atom)
    if made is None or made.prim is not P.make_tuple:
        raise NonDifferentiableError(
            "a function with several results is differentiated only through its items",
            F.loc,
            "unpack it (`a, b = f(x)`) or index it with a constant (`f(x)[1]`)",
        )
    items = [None if a == Const(None) else Sym(a, F) for a in made.args]
    return items + [None] * (n - len(items))


def _constant(F, a, what: str) -> Any:
    """The value of an argument the rule needs when the gradient is built."""
    if not isinstance(a.atom, Const):
        raise UnsupportedSyntaxError(f"{what} must be a constant when the gradient is built", F.loc)
    return a.atom.value


def _nan_select(F, g, a, b, larger=True):
    """``fmax(a, b)`` (or ``fmin``): like ``maximum``, but a NaN loses to a number."""
    a_wins, b_wins = (a > b, b > a) if larger else (a < b, b < a)
    a_nan, b_nan = F.isnan(a), F.isnan(b)
    if F.active(a) and F.active(b):
        wa = F.where(b_nan, 1.0, F.where(a_nan, 0.0, a_wins + 0.5 * F.eq(a, b)))
        return g * wa, g * (1.0 - wa)
    return g * F.where(b_nan, 1.0, a_wins), g * F.where(a_nan, 1.0, b_wins)


def _var(F, g, y, x, axis=None, dtype=None, keepdims=False, ddof=0):
    """var = sum((x - mean)^2) / (n - ddof): 2 (x - mean) / (n - ddof)."""
    n = F.size(x) / F.size(y)
    centred = x - F.mean(x, axis=axis, keepdims=True)
    return (_expand(F, g, x, axis, keepdims) * (2.0 * centred / (n - ddof)),)


def _std(F, g, y, x, axis=None, dtype=None, keepdims=False, ddof=0):
    """std = sqrt(var): (x - mean) / ((n - ddof) std); 0 where the spread is 0 (a kink, like
    abs at 0: every entry equal makes the centred values 0, and 0/1 is the subgradient 0)."""
    n = F.size(x) / F.size(y)
    centred = x - F.mean(x, axis=axis, keepdims=True)
    spread = _expand(F, y, x, axis, keepdims)
    safe = F.where(F.eq(spread, 0.0), 1.0, spread)
    return (_expand(F, g, x, axis, keepdims) * centred / ((n - ddof) * safe),)


def _ptp(F, g, y, x, axis=None, keepdims=False):
    """max - min: the extreme elements take +g and -g, shared between ties."""
    hi = F.eq(x, F.max(x, axis=axis, keepdims=True))
    lo = F.eq(x, F.min(x, axis=axis, keepdims=True))
    spread = hi / F.sum(hi, axis=axis, keepdims=True) - lo / F.sum(lo, axis=axis, keepdims=True)
    return (_expand(F, g, x, axis, keepdims) * spread,)


def _cumsum(F, g, y, x, axis=None, dtype=None):
    """The adjoint of a running sum is the running sum of g taken from the end."""
    if axis is None:
        return (F.reshape(F.flip(F.cumsum(F.flip(g))), F.shape(x)),)
    return (F.flip(F.cumsum(F.flip(g, axis=axis), axis=axis), axis=axis),)


def _weighted_average(F, g, y, a, axis, w, keepdims=False):
    axis = _constant(F, axis, "the axis of np.average")
    return (
        F.average_grad(g, a, w, axis=axis, keepdims=keepdims, part=0),
        None,
        F.average_grad(g, a, w, axis=axis, keepdims=keepdims, part=1),
    )


def _einsum(F, g, y, subscripts, *ops, optimize=False):
    spec = _constant(F, subscripts, "the subscripts of np.einsum")
    if not isinstance(spec, str):
        raise UnsupportedSyntaxError(
            "np.einsum is differentiated in its subscripts form only", F.loc,
            "write np.einsum('ij,jk->ik', a, b)",
        )  # fmt: skip
    return (None,) + tuple(F.einsum_grad(g, spec, *ops, part=i) for i in range(len(ops)))


def _parts_rule(helper_name: str, **fixed: Any) -> Rule:
    """A two-input rule whose adjoints come from one runtime helper with ``part=0`` and ``1``."""

    def rule(F, g, y, a, b, **params):
        helper = getattr(F, helper_name)
        return tuple(helper(g, a, b, part=i, **fixed, **params) for i in (0, 1))

    return rule


def _inverse_t(F, x):
    """A^-T, batched."""
    return F.swapaxes(F.apply(P.la_inv, x), -1, -2)


def _per_matrix(F, s):
    """A value per matrix of a stack, made to broadcast against the stack's matrices."""
    return s if F.is_scalar(s) else F.expand_dims(s, (-2, -1))


def _slogdet(F, g, y, x):
    """d log|det A| = A^-T."""
    _, g_logdet = parts_of(F, g, 2)  # the sign is piecewise constant
    if g_logdet is None:
        return (None,)
    return (_per_matrix(F, g_logdet) * _inverse_t(F, x),)


def _solve(F, g, y, a, b):
    """x = A^-1 b: with z = A^-T g, the adjoints are -z x^T and z."""
    z = F.solve_adjoint(g, a, b)
    return F.solve_grad_a(z, y, a, b), F.unbroadcast(z, b)


def _eigh(F, g, y, x, UPLO="L"):
    g_w, g_v = parts_of(F, g, 2)
    return (F.eigh_grad(g_w, g_v, F.item(y, 0), F.item(y, 1), UPLO=UPLO),)


def _eigvalsh(F, g, y, x, UPLO="L"):
    vectors = F.item(F.apply(P.la_eigh, x, UPLO=UPLO), 1)
    return (F.eigh_grad(g, None, y, vectors, UPLO=UPLO),)


def _pinv(F, g, y, a, rcond=None, hermitian=False):
    """P = A^+ (constant rank): -P^T g P^T + (I - A P) g^T P P^T + P^T P g^T (I - P A)."""
    pt, gt = F.swapaxes(y, -1, -2), F.swapaxes(g, -1, -2)
    left = gt @ y @ pt  # g^T P P^T, then projected off the range of A
    right = pt @ y @ gt  # P^T P g^T, then projected off the row space of A
    return (-(pt @ g @ pt) + (left - a @ (y @ left)) + (right - (right @ y) @ a),)


def _svd(F, g, y, a, full_matrices=True, compute_uv=True, hermitian=False):
    if compute_uv:
        g_u, g_s, g_vh = parts_of(F, g, 3)
        u, s, vh = (F.item(y, i) for i in range(3))
        return (F.svd_grad(g_u, g_s, g_vh, u, s, vh),)
    full = F.apply(P.la_svd, a, full_matrices=False)
    return (F.svd_grad(None, g, None, F.item(full, 0), y, F.item(full, 2)),)


def _roll(F, g, y, x, shift, axis=None):
    back = tuple(-s for s in shift) if isinstance(shift, tuple) else -shift
    return (F.roll(g, shift=back, axis=axis),)


def _pad(F, g, y, x, pad_width, mode="constant", constant_values=0):
    if mode != "constant":
        raise NonDifferentiableError(
            f"np.pad is differentiated in mode='constant' only, not mode={mode!r}", F.loc,
            "pad with constants, or concatenate the edge slices yourself",
        )  # fmt: skip
    return (F.unpad(g, x, pad_width=pad_width),)


def _split(axis: Any = "param") -> Rule:
    """``np.split`` and kin: the adjoints of the pieces, put back in place (zeros if unused)."""

    def rule(F, g, y, x, indices_or_sections, **params):
        parts_of(F, g, 1)  # a tuple of adjoints, one per piece
        where = params.get("axis", 0) if axis == "param" else axis
        return (F.unsplit(g, x, sections=indices_or_sections, axis=where),)

    return rule


def _cast(F, g, y, x, dtype=None):
    """A conversion: the identity into floats, a constant into integers or booleans."""
    kind = "f" if dtype is None else np.dtype(dtype).kind
    if kind == "f":
        return (g,)
    if kind in "iub":
        return (None,)
    raise NonDifferentiableError(f"conversion to {dtype} cannot be differentiated", F.loc)


def _tuple_item(F, g, y, t, i, index):
    """``t[i]`` of a tuple-valued result: its adjoint is g at position i of a tuple."""
    return F.apply(P.make_tuple, *([None] * i.atom.value), g), None


_EXPLICIT: dict[Primitive, Rule] = {
    P.matmul: lambda F, g, y, a, b: (
        F.matmul_grad_a(g, a, b),
        F.matmul_grad_b(g, a, b),
    ),
    P.b_float: linear(lambda F, g, x: g),
    # ---- selection ----------------------------------------------------------------
    **same(lambda F, g, y, a, b: _select(F, g, a, b), P.np_maximum, P.b_max),
    **same(lambda F, g, y, a, b: _select(F, g, a, b, larger=False), P.np_minimum, P.b_min),
    P.np_fmax: lambda F, g, y, a, b: _nan_select(F, g, a, b),
    P.np_fmin: lambda F, g, y, a, b: _nan_select(F, g, a, b, larger=False),
    P.np_where: lambda F, g, y, c, a, b: (None, F.where(c, g, 0.0), F.where(c, 0.0, g)),
    # ---- reductions and scans -----------------------------------------------------
    P.np_sum: _sum,
    **same(_mean, P.np_mean, P.np_average),
    P.np_average_weighted: _weighted_average,
    P.np_prod: lambda F, g, y, x, axis=None, dtype=None, keepdims=False: (
        F.prod_grad(g, x, axis=axis, keepdims=keepdims),
    ),
    P.np_var: _var,
    P.np_std: _std,
    **same(_extremum, P.np_max, P.np_min),
    P.np_ptp: _ptp,
    P.np_median: lambda F, g, y, x, axis=None, keepdims=False: (
        F.median_grad(g, x, axis=axis, keepdims=keepdims),
    ),
    P.la_norm: lambda F, g, y, x, ord=None, axis=None, keepdims=False: (
        F.norm_grad(g, x, y, ord=ord, axis=axis, keepdims=keepdims),
    ),
    P.np_cumsum: _cumsum,
    P.np_cumprod: lambda F, g, y, x, axis=None, dtype=None: (F.cumprod_grad(g, x, axis=axis),),
    P.np_diff: lambda F, g, y, x, n=1, axis=-1: (F.diff_grad(g, n=n, axis=axis),),
    P.np_sort: lambda F, g, y, x, axis=-1, kind=None: (F.sort_grad(g, x, axis=axis),),
    P.np_partition: lambda F, g, y, x, kth, axis=-1: (F.permutation_grad(g, x, y, axis=axis),),
    # ---- linear algebra ---------------------------------------------------------------
    P.np_matmul: lambda F, g, y, a, b: (F.matmul_grad_a(g, a, b), F.matmul_grad_b(g, a, b)),
    P.np_dot: _parts_rule("dot_grad"),
    P.np_inner: _parts_rule("inner_grad"),
    P.np_tensordot: _parts_rule("tensordot_grad"),
    P.np_kron: _parts_rule("kron_grad"),
    P.np_convolve: _parts_rule("convolve_grad"),
    P.np_vdot: lambda F, g, y, a, b: (F.reshape(g * b, F.shape(a)), F.reshape(g * a, F.shape(b))),
    P.np_outer: lambda F, g, y, a, b: (
        F.reshape(g @ F.ravel(b), F.shape(a)),
        F.reshape(F.ravel(a) @ g, F.shape(b)),
    ),
    P.np_einsum: _einsum,
    P.np_cross: lambda F, g, y, a, b, axis=None: (
        F.unbroadcast(F.cross(b, g, axis=axis), a),
        F.unbroadcast(F.cross(g, a, axis=axis), b),
    ),
    P.np_trace: lambda F, g, y, x, **p: (F.diagonal_grad(F.expand_dims(g, -1), x, **p),),
    P.np_diagonal: lambda F, g, y, x, **p: (F.diagonal_grad(g, x, **p),),
    P.np_diag: lambda F, g, y, v, k=0: (F.diag_grad(g, v, k=k),),
    P.np_triu: linear(lambda F, g, x, k=0: F.triu(g, k=k)),
    P.np_tril: linear(lambda F, g, x, k=0: F.tril(g, k=k)),
    P.la_det: unary(lambda F, g, y, x: _per_matrix(F, g * y) * _inverse_t(F, x)),  # det A A^-T
    P.la_slogdet: _slogdet,
    P.la_inv: unary(lambda F, g, y, x: -(F.swapaxes(y, -1, -2) @ g @ F.swapaxes(y, -1, -2))),
    P.la_solve: _solve,
    P.la_eigh: _eigh,
    P.la_eigvalsh: _eigvalsh,
    P.la_cholesky: unary(lambda F, g, y, x: F.cholesky_grad(g, y)),
    P.la_pinv: _pinv,
    P.la_svd: _svd,
    # ---- shape and layout ---------------------------------------------------------------
    P.np_transpose: linear(_transpose),
    P.T_attr: linear(lambda F, g, x: F.transpose(g)),
    P.np_swapaxes: lambda F, g, y, x, a1, a2: (F.swapaxes(g, a1, a2), None, None),
    P.np_moveaxis: linear(
        lambda F, g, x, source, destination: F.moveaxis(g, source=destination, destination=source)
    ),
    P.np_rollaxis: linear(lambda F, g, x, **p: F.rollaxis_grad(g, x, **p)),
    P.np_reshape: lambda F, g, y, x, *shape: (F.reshape(g, F.shape(x)),) + (None,) * len(shape),
    **same(
        linear(lambda F, g, x, **p: F.reshape(g, F.shape(x))),
        P.np_ravel,
        P.np_squeeze,
        P.np_atleast_1d,
        P.np_atleast_2d,
        P.np_atleast_3d,
    ),
    P.np_expand_dims: lambda F, g, y, x, axis: (F.reshape(g, F.shape(x)), None),
    P.np_broadcast_to: lambda F, g, y, x, shape: (F.unbroadcast(g, x), None),
    P.np_flip: linear(lambda F, g, x, axis=None: F.flip(g, axis=axis)),
    P.np_fliplr: linear(lambda F, g, x: F.fliplr(g)),
    P.np_flipud: linear(lambda F, g, x: F.flipud(g)),
    P.np_rot90: linear(lambda F, g, x, k=1, axes=(0, 1): F.rot90(g, k=-k, axes=axes)),
    P.np_roll: _roll,
    P.np_tile: linear(lambda F, g, x, reps: F.tile_grad(g, x, reps=reps)),
    P.np_repeat: linear(lambda F, g, x, **p: F.repeat_grad(g, x, **p)),
    P.np_pad: _pad,
    P.np_copy: linear(lambda F, g, x: g),
    **same(_cast, P.np_asarray, P.np_array_of),
    P.np_full_like: lambda F, g, y, x, v, dtype=None: (None, F.unbroadcast(g, v)),
    P.np_full: lambda F, g, y, shape, v, dtype=None: (None, F.unbroadcast(g, v)),
    P.np_take: lambda F, g, y, x, idx, axis=None: (F.take_grad(g, x, idx, axis=axis), None),
    P.np_append: lambda F, g, y, a, v, axis=None: tuple(
        F.unconcat(g, a, v, part=i, axis=axis) for i in (0, 1)
    ),
    P.np_linspace: lambda F, g, y, start, stop, **p: tuple(
        F.linspace_grad(g, start, stop, part=i, **p) for i in (0, 1)
    ),
    P.np_concatenate: _listed(lambda F, g, xs, i, axis=0: F.unconcat(g, *xs, part=i, axis=axis)),
    P.np_stack: _listed(lambda F, g, xs, i, axis=0: F.take(g, i, axis=axis)),
    **{
        joiner: _listed(lambda F, g, xs, i, how=how: F.unjoin(g, *xs, part=i, how=how))
        for joiner, how in (
            (P.np_vstack, "vstack"),
            (P.np_hstack, "hstack"),
            (P.np_dstack, "dstack"),
            (P.np_column_stack, "column_stack"),
        )
    },
    **same(_split(), P.np_split, P.np_array_split),
    P.np_hsplit: _split(axis=None),
    P.np_vsplit: _split(axis=0),
    P.np_dsplit: _split(axis=2),
    P.tuple_item: _tuple_item,
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

# ---- higher order: the helpers generated gradients call, differentiated again --------------
# grad(grad(f)) reverses a generated gradient; these are its helpers' adjoints. Each helper is
# linear in the adjoint it receives (g here, h the adjoint of its own result); matmul_grad_a/b
# are bilinear in g and the other operand. Their tangents are in tangents.py.
_HIGHER_ORDER: dict[Primitive, Rule] = {
    P.unbroadcast: lambda F, h, y, g, x: (F.broadcast_to(h, F.shape(g)), None),
    P.sum_to: lambda F, h, y, g, shape: (F.broadcast_to(h, F.shape(g)), None),
    # reorderings: scattering back (permutation_grad, sort_grad) and gathering forward
    # (permutation_tangent) are each other's transposes
    P.permutation_grad: lambda F, h, y, g, x, out, axis=-1: (
        F.permutation_tangent(h, x, out, axis=axis),
        None,
        None,
    ),
    P.permutation_tangent: lambda F, h, y, d, x, out, axis=-1: (
        F.permutation_grad(h, x, out, axis=axis),
        None,
        None,
    ),
    P.sort_grad: lambda F, h, y, g, x, axis=-1: (
        F.permutation_tangent(h, x, F.apply(P.np_sort, x, axis=axis), axis=axis),
        None,
    ),
    P.matmul_grad_a: lambda F, h, y, g, a, b: (h @ b, None, F.matmul_grad_b(g, h, b)),
    P.matmul_grad_b: lambda F, h, y, g, a, b: (a @ h, F.matmul_grad_a(g, a, h), None),
    P.index_grad: lambda F, h, y, g, x, *idx, index: (
        F.unbroadcast(F.getitem(h, *idx, index=index), g),
        None,
        *(None,) * len(idx),
    ),
    P.index_add: lambda F, h, y, acc, g, *idx, index: (
        h,
        F.unbroadcast(F.getitem(h, *idx, index=index), g),
        *(None,) * len(idx),
    ),
    P.scalar_checked: lambda F, h, y, x, value, name: (
        F.scalar_checked(h, value, name=name),
        None,
    ),
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
        P.sum_to,
        P.matmul_grad_a,
        P.matmul_grad_b,
        P.unconcat,
        P.index_grad,
        P.unstack,
        P.sum_list_grad,
        P.add_lists,
        P.index_add,
        *P.HELPERS,
    }
)


def _table() -> Mapping[Primitive, Rule]:
    """Every row once: the reverse rules derived from ``partials``, the explicit rows, and
    the zero guard on the elementwise ones it applies to. Built once, then read-only."""
    derived: dict[Primitive, Rule] = {prim: row.adjoints for prim, row in PARTIALS.items()}
    overlap = (derived.keys() & _EXPLICIT.keys()) | (_EXPLICIT.keys() & _HIGHER_ORDER.keys())
    if overlap:
        raise InternalError(f"two rows for {sorted(p.name for p in overlap)}")
    rows = {**derived, **_EXPLICIT, **_HIGHER_ORDER}
    return MappingProxyType(
        {prim: guard(rule, prim) if needs_guard(prim) else rule for prim, rule in rows.items()}
    )


def rule_for(prim: Primitive, declared: RuleSet = USER_RULES) -> Rule | None:
    """The adjoint rule of ``prim``: a row of the table, or the rule a user declared."""
    return RULES.get(prim) or declared.adjoint(prim)


RULES: Mapping[Primitive, Rule] = _table()
