"""The catalogue of primitives: every operation symdiff can lower, and how to find it.

``prims`` answers *what an operation is* (how it is written, evaluated, whether it
broadcasts); ``rules`` answers *what its derivative is*. Lowering resolves a call to the
Python object it names (``np.exp``, ``math.exp``, a ufunc imported under another name) and
looks that object up here, so aliases such as ``from numpy import exp`` need no special case.
"""

from __future__ import annotations

import builtins
import inspect
import math
import operator
from types import MappingProxyType
from typing import Any, Callable, Mapping

import numpy as np

from .. import runtime
from .catalogue import Catalogue, lookup
from .nodes import Const, Effect, Form, Primitive
from .ruleset import USER_RULES

_CATALOGUE = Catalogue()  # filled below, frozen into ALL and BY_OBJECT at the end


class _Required:
    """The "default" of a static parameter NumPy requires: never equal to a given value, so
    a value the user passes is always written out."""

    def __repr__(self) -> str:
        return "<required>"

    def __eq__(self, other: object) -> bool:
        return other is self

    def __ne__(self, other: object) -> bool:
        return other is not self

    def __hash__(self) -> int:
        return id(self)


REQUIRED = _Required()


def _add(prim: Primitive, *objects: Any) -> Primitive:
    return _CATALOGUE.add(prim, *objects)


def infix(name: str, symbol: str, impl: Callable, **kw: Any) -> Primitive:
    return _add(Primitive(name, Form.INFIX, symbol, impl, nargs=2, **kw))


def prefix(name: str, symbol: str, impl: Callable, **kw: Any) -> Primitive:
    return _add(Primitive(name, Form.PREFIX, symbol, impl, nargs=1, **kw))


def call(
    spelling: str, impl: Callable, *aliases: Any, name: str | None = None, **kw: Any
) -> Primitive:
    """A function primitive written ``spelling(args)``; ``impl`` and aliases resolve to it.
    ``name`` (default: the spelling) tells apart two primitives written the same way."""
    return _add(Primitive(name or spelling, Form.CALL, spelling, impl, **kw), impl, *aliases)


def ufunc(spelling: str, impl: Callable, *aliases: Any, nargs: int = 1, **kw: Any) -> Primitive:
    return call(spelling, impl, *aliases, nargs=nargs, elementwise=True, **kw)


def mathfn(name: str, nargs: int = 1, **kw: Any) -> Primitive:
    return call(f"math.{name}", getattr(math, name), nargs=nargs, returns_scalar=True, **kw)


def helper(fn: Callable, nargs: int, **kw: Any) -> Primitive:
    """A function of ``runtime``: generated code calls it by its plain name."""
    prim = _add(Primitive(fn.__name__, Form.CALL, fn.__name__, fn, nargs=nargs, **kw))
    _HELPERS.append(prim)
    return prim


_HELPERS: list[Primitive] = []  # every runtime helper primitive: only gradients call them


# ----------------------------------------------------------------------------- operators
add = infix("add", "+", operator.add, elementwise=True, linear=True)
sub = infix("sub", "-", operator.sub, elementwise=True, linear=True)
mul = infix("mul", "*", operator.mul, elementwise=True)
div = infix("div", "/", operator.truediv, elementwise=True)
pow = infix("pow", "**", operator.pow, elementwise=True)
matmul = infix("matmul", "@", operator.matmul)
neg = prefix("neg", "-", operator.neg, linear=True)
pos = prefix("pos", "+", operator.pos, linear=True)

lt = infix("lt", "<", operator.lt, elementwise=True, differentiable=False)
le = infix("le", "<=", operator.le, elementwise=True, differentiable=False)
gt = infix("gt", ">", operator.gt, elementwise=True, differentiable=False)
ge = infix("ge", ">=", operator.ge, elementwise=True, differentiable=False)
eq = infix("eq", "==", operator.eq, elementwise=True, differentiable=False)
ne = infix("ne", "!=", operator.ne, elementwise=True, differentiable=False)
floordiv = infix("floordiv", "//", operator.floordiv, elementwise=True, differentiable=False)
mod = infix("mod", "%", operator.mod, elementwise=True)
invert = prefix("invert", "~", operator.invert, differentiable=False)
not_ = prefix("not", "not ", operator.not_, differentiable=False)
and_ = infix("bitand", "&", operator.and_, elementwise=True, differentiable=False)
or_ = infix("bitor", "|", operator.or_, elementwise=True, differentiable=False)

# ----------------------------------------------------------------------------- math module
m_exp = mathfn("exp")
m_log = mathfn("log", nargs=-1)  # math.log(x) or math.log(x, base)
m_log1p = mathfn("log1p")
m_expm1 = mathfn("expm1")
m_sqrt = mathfn("sqrt")
m_sin = mathfn("sin")
m_cos = mathfn("cos")
m_tan = mathfn("tan")
m_tanh = mathfn("tanh")
m_sinh = mathfn("sinh")
m_cosh = mathfn("cosh")
m_atan = mathfn("atan")
m_asin = mathfn("asin")
m_acos = mathfn("acos")
m_log2 = mathfn("log2")
m_log10 = mathfn("log10")
m_erf = mathfn("erf")
m_pow = mathfn("pow", nargs=2)
m_fabs = mathfn("fabs")
m_hypot = mathfn("hypot", nargs=2)
m_atan2 = mathfn("atan2", nargs=2)
m_floor = mathfn("floor", differentiable=False)
m_ceil = mathfn("ceil", differentiable=False)
m_trunc = mathfn("trunc", differentiable=False)
m_exp2 = mathfn("exp2")
m_cbrt = mathfn("cbrt")
m_asinh = mathfn("asinh")
m_acosh = mathfn("acosh")
m_atanh = mathfn("atanh")
m_erfc = mathfn("erfc")
m_degrees = mathfn("degrees")
m_radians = mathfn("radians")
m_fmod = mathfn("fmod", nargs=2)
m_isnan = mathfn("isnan", differentiable=False)
m_isinf = mathfn("isinf", differentiable=False)
m_isfinite = mathfn("isfinite", differentiable=False)

# ----------------------------------------------------------------------------- builtins
b_abs = call("abs", builtins.abs, elementwise=True)
b_max = call("max", builtins.max, nargs=2, elementwise=True)
b_min = call("min", builtins.min, nargs=2, elementwise=True)
b_float = call("float", builtins.float, returns_scalar=True, linear=True)
b_int = call("int", builtins.int, returns_scalar=True, differentiable=False)
b_len = call("len", builtins.len, returns_scalar=True, differentiable=False)
b_round = call("round", builtins.round, differentiable=False)
b_pow = call("pow", builtins.pow, name="pow:builtin", nargs=2, elementwise=True)

# ----------------------------------------------------------------------------- numpy: elementwise
np_exp = ufunc("np.exp", np.exp)
np_exp2 = ufunc("np.exp2", np.exp2)
np_expm1 = ufunc("np.expm1", np.expm1)
np_log = ufunc("np.log", np.log)
np_log2 = ufunc("np.log2", np.log2)
np_log10 = ufunc("np.log10", np.log10)
np_log1p = ufunc("np.log1p", np.log1p)
np_sqrt = ufunc("np.sqrt", np.sqrt)
np_cbrt = ufunc("np.cbrt", np.cbrt)
np_square = ufunc("np.square", np.square)
np_reciprocal = ufunc("np.reciprocal", np.reciprocal)
np_negative = ufunc("np.negative", np.negative, linear=True)
np_positive = ufunc("np.positive", np.positive, linear=True)
np_abs = ufunc("np.abs", np.abs)  # np.absolute is the same object
np_fabs = ufunc("np.fabs", np.fabs)
np_sin = ufunc("np.sin", np.sin)
np_cos = ufunc("np.cos", np.cos)
np_tan = ufunc("np.tan", np.tan)
np_arcsin = ufunc("np.arcsin", np.arcsin)
np_arccos = ufunc("np.arccos", np.arccos)
np_arctan = ufunc("np.arctan", np.arctan)
np_sinh = ufunc("np.sinh", np.sinh)
np_cosh = ufunc("np.cosh", np.cosh)
np_tanh = ufunc("np.tanh", np.tanh)
np_arcsinh = ufunc("np.arcsinh", np.arcsinh)
np_arccosh = ufunc("np.arccosh", np.arccosh)
np_arctanh = ufunc("np.arctanh", np.arctanh)
np_sinc = ufunc("np.sinc", np.sinc)
np_deg2rad = ufunc("np.deg2rad", np.deg2rad, linear=True)
np_radians = ufunc("np.radians", np.radians, linear=True)
np_rad2deg = ufunc("np.rad2deg", np.rad2deg, linear=True)
np_degrees = ufunc("np.degrees", np.degrees, linear=True)
np_real = ufunc(
    "np.real", np.real, linear=True, effect=Effect.VIEW
)  # real inputs only: the identity
np_real_if_close = ufunc("np.real_if_close", np.real_if_close, linear=True, effect=Effect.VIEW)
np_conj = ufunc("np.conj", np.conj, linear=True, effect=Effect.VIEW)
np_imag = ufunc("np.imag", np.imag, differentiable=False)  # real inputs: 0
np_angle = ufunc("np.angle", np.angle, differentiable=False)  # real inputs: 0 or pi
np_nan_to_num = ufunc(
    "np.nan_to_num",
    np.nan_to_num,
    defaults=(("copy", True), ("nan", 0.0), ("posinf", None), ("neginf", None)),
)
np_add = ufunc("np.add", np.add, nargs=2, linear=True)
np_subtract = ufunc("np.subtract", np.subtract, nargs=2, linear=True)
np_multiply = ufunc("np.multiply", np.multiply, nargs=2)
np_divide = ufunc("np.divide", np.divide, nargs=2)  # np.true_divide is the same object
np_power = ufunc("np.power", np.power, nargs=2)
np_float_power = ufunc("np.float_power", np.float_power, nargs=2)
np_remainder = ufunc("np.remainder", np.remainder, nargs=2)  # also np.mod
np_fmod = ufunc("np.fmod", np.fmod, nargs=2)
np_hypot = ufunc("np.hypot", np.hypot, nargs=2)
np_arctan2 = ufunc("np.arctan2", np.arctan2, nargs=2)
np_logaddexp = ufunc("np.logaddexp", np.logaddexp, nargs=2)
np_logaddexp2 = ufunc("np.logaddexp2", np.logaddexp2, nargs=2)
np_maximum = ufunc("np.maximum", np.maximum, nargs=2)
np_minimum = ufunc("np.minimum", np.minimum, nargs=2)
np_fmax = ufunc("np.fmax", np.fmax, nargs=2)
np_fmin = ufunc("np.fmin", np.fmin, nargs=2)
np_where = ufunc("np.where", np.where, nargs=3)
np_clip = ufunc("np.clip", np.clip, nargs=3)
np_sign = ufunc("np.sign", np.sign, differentiable=False)
np_floor = ufunc("np.floor", np.floor, differentiable=False)
np_ceil = ufunc("np.ceil", np.ceil, differentiable=False)
np_round = ufunc("np.round", np.round, np.around, defaults=(("decimals", 0),), differentiable=False)
np_rint = ufunc("np.rint", np.rint, differentiable=False)
np_trunc = ufunc("np.trunc", np.trunc, differentiable=False)
np_fix = ufunc("np.fix", np.fix, differentiable=False)
np_floor_divide = ufunc("np.floor_divide", np.floor_divide, nargs=2, differentiable=False)
np_heaviside = ufunc("np.heaviside", np.heaviside, nargs=2, differentiable=False)
np_isfinite = ufunc("np.isfinite", np.isfinite, differentiable=False)
np_isnan = ufunc("np.isnan", np.isnan, differentiable=False)
np_isinf = ufunc("np.isinf", np.isinf, differentiable=False)
np_isposinf = ufunc("np.isposinf", np.isposinf, differentiable=False)
np_isneginf = ufunc("np.isneginf", np.isneginf, differentiable=False)
np_signbit = ufunc("np.signbit", np.signbit, differentiable=False)
np_logical_and = ufunc("np.logical_and", np.logical_and, nargs=2, differentiable=False)
np_logical_or = ufunc("np.logical_or", np.logical_or, nargs=2, differentiable=False)
np_logical_xor = ufunc("np.logical_xor", np.logical_xor, nargs=2, differentiable=False)
np_logical_not = ufunc("np.logical_not", np.logical_not, differentiable=False)
np_equal = ufunc("np.equal", np.equal, nargs=2, differentiable=False)
np_not_equal = ufunc("np.not_equal", np.not_equal, nargs=2, differentiable=False)
np_less = ufunc("np.less", np.less, nargs=2, differentiable=False)
np_less_equal = ufunc("np.less_equal", np.less_equal, nargs=2, differentiable=False)
np_greater = ufunc("np.greater", np.greater, nargs=2, differentiable=False)
np_greater_equal = ufunc("np.greater_equal", np.greater_equal, nargs=2, differentiable=False)
np_isclose = call("np.isclose", np.isclose, nargs=2, differentiable=False)
np_allclose = call("np.allclose", np.allclose, nargs=2, differentiable=False)
np_array_equal = call("np.array_equal", np.array_equal, nargs=2, differentiable=False)

# ----------------------------------------------------------------------------- numpy: reductions
# Static parameters follow NumPy's own order, so that positional arguments bind as in NumPy.
_AXES = (("axis", None), ("keepdims", False))
_REDUCE = (("axis", None), ("dtype", None), ("keepdims", False))
np_sum = call("np.sum", np.sum, defaults=_REDUCE, linear=True)
np_mean = call("np.mean", np.mean, defaults=_REDUCE, linear=True)
np_average = call("np.average", np.average, defaults=_AXES, linear=True)
# np.average(a, axis, weights): all three are arrays here, so that positions stay NumPy's
np_average_weighted = _add(
    Primitive(
        "np.average:weighted",
        Form.CALL,
        "np.average",
        np.average,
        nargs=3,
        defaults=(("keepdims", False),),
    )
)
np_prod = call("np.prod", np.prod, defaults=_REDUCE)
np_var = call("np.var", np.var, defaults=_REDUCE + (("ddof", 0),))
np_std = call("np.std", np.std, defaults=_REDUCE + (("ddof", 0),))
np_max = call("np.max", np.max, np.amax, defaults=_AXES)
np_min = call("np.min", np.min, np.amin, defaults=_AXES)
np_ptp = call("np.ptp", np.ptp, defaults=_AXES)
np_median = call("np.median", np.median, defaults=_AXES)
np_cumsum = call("np.cumsum", np.cumsum, defaults=(("axis", None), ("dtype", None)), linear=True)
np_cumprod = call("np.cumprod", np.cumprod, defaults=(("axis", None), ("dtype", None)))
np_diff = call("np.diff", np.diff, defaults=(("n", 1), ("axis", -1)), linear=True)
np_sort = call("np.sort", np.sort, defaults=(("axis", -1), ("kind", None)))
np_partition = call("np.partition", np.partition, defaults=(("kth", REQUIRED), ("axis", -1)))
np_argmax = call("np.argmax", np.argmax, defaults=(("axis", None),), differentiable=False)
np_argmin = call("np.argmin", np.argmin, defaults=(("axis", None),), differentiable=False)
np_argsort = call("np.argsort", np.argsort, differentiable=False)
np_nonzero = call("np.nonzero", np.nonzero, differentiable=False)
np_flatnonzero = call("np.flatnonzero", np.flatnonzero, differentiable=False)
np_count_nonzero = call("np.count_nonzero", np.count_nonzero, differentiable=False)
np_searchsorted = call("np.searchsorted", np.searchsorted, nargs=2, differentiable=False)
np_all = call("np.all", np.all, differentiable=False)
np_any = call("np.any", np.any, differentiable=False)

# ----------------------------------------------------------------------------- numpy: linear algebra
np_dot = call("np.dot", np.dot, nargs=2)
np_vdot = call("np.vdot", np.vdot, nargs=2)
np_inner = call("np.inner", np.inner, nargs=2)
np_matmul = call("np.matmul", np.matmul, nargs=2)
np_outer = call("np.outer", np.outer, nargs=2)
np_einsum = call("np.einsum", np.einsum, nargs=-1, defaults=(("optimize", False),))
np_tensordot = call("np.tensordot", np.tensordot, nargs=2, defaults=(("axes", 2),))
np_kron = call("np.kron", np.kron, nargs=2)
np_cross = call("np.cross", np.cross, nargs=2, defaults=(("axis", None),))
np_trace = call("np.trace", np.trace, defaults=(("offset", 0), ("axis1", 0), ("axis2", 1)))
np_diag = call("np.diag", np.diag, defaults=(("k", 0),), linear=True, effect=Effect.VIEW)
np_diagonal = call(
    "np.diagonal",
    np.diagonal,
    defaults=(("offset", 0), ("axis1", 0), ("axis2", 1)),
    linear=True,
    effect=Effect.VIEW,
)
np_triu = call("np.triu", np.triu, defaults=(("k", 0),), linear=True)
np_tril = call("np.tril", np.tril, defaults=(("k", 0),), linear=True)
np_convolve = call("np.convolve", np.convolve, nargs=2, defaults=(("mode", "full"),))
la_det = call("np.linalg.det", np.linalg.det)
la_slogdet = call("np.linalg.slogdet", np.linalg.slogdet)  # (sign, logabsdet)
la_inv = call("np.linalg.inv", np.linalg.inv)
la_solve = call("np.linalg.solve", np.linalg.solve, nargs=2)
la_norm = call(
    "np.linalg.norm", np.linalg.norm, defaults=(("ord", None), ("axis", None), ("keepdims", False))
)
la_eigh = call("np.linalg.eigh", np.linalg.eigh, defaults=(("UPLO", "L"),))  # (w, v)
la_eigvalsh = call("np.linalg.eigvalsh", np.linalg.eigvalsh, defaults=(("UPLO", "L"),))
la_cholesky = call("np.linalg.cholesky", np.linalg.cholesky)
la_pinv = call("np.linalg.pinv", np.linalg.pinv, defaults=(("rcond", None), ("hermitian", False)))
la_svd = call(  # (u, s, vh), or s alone with compute_uv=False
    "np.linalg.svd",
    np.linalg.svd,
    defaults=(("full_matrices", True), ("compute_uv", True), ("hermitian", False)),
)

# ----------------------------------------------------------------------------- numpy: shape
np_transpose = call(
    "np.transpose",
    np.transpose,
    np.permute_dims,
    defaults=(("axes", None),),
    linear=True,
    effect=Effect.VIEW,
)
np_swapaxes = call("np.swapaxes", np.swapaxes, nargs=3, linear=True, effect=Effect.VIEW)
np_moveaxis = call(
    "np.moveaxis",
    np.moveaxis,
    defaults=(("source", REQUIRED), ("destination", REQUIRED)),
    linear=True,
    effect=Effect.VIEW,
)
np_rollaxis = call(
    "np.rollaxis",
    np.rollaxis,
    defaults=(("axis", REQUIRED), ("start", 0)),
    linear=True,
    effect=Effect.VIEW,
)
np_reshape = call("np.reshape", np.reshape, nargs=2, linear=True, effect=Effect.VIEW)
np_ravel = call("np.ravel", np.ravel, linear=True, effect=Effect.VIEW)
np_squeeze = call(
    "np.squeeze", np.squeeze, defaults=(("axis", None),), linear=True, effect=Effect.VIEW
)
np_expand_dims = call("np.expand_dims", np.expand_dims, nargs=2, linear=True, effect=Effect.VIEW)
np_broadcast_to = call("np.broadcast_to", np.broadcast_to, nargs=2, linear=True, effect=Effect.VIEW)
np_atleast_1d = call("np.atleast_1d", np.atleast_1d, linear=True, effect=Effect.VIEW)
np_atleast_2d = call("np.atleast_2d", np.atleast_2d, linear=True, effect=Effect.VIEW)
np_atleast_3d = call("np.atleast_3d", np.atleast_3d, linear=True, effect=Effect.VIEW)
np_flip = call("np.flip", np.flip, defaults=(("axis", None),), linear=True, effect=Effect.VIEW)
np_fliplr = call("np.fliplr", np.fliplr, linear=True, effect=Effect.VIEW)
np_flipud = call("np.flipud", np.flipud, linear=True, effect=Effect.VIEW)
np_rot90 = call(
    "np.rot90", np.rot90, defaults=(("k", 1), ("axes", (0, 1))), linear=True, effect=Effect.VIEW
)
np_roll = call("np.roll", np.roll, defaults=(("shift", REQUIRED), ("axis", None)), linear=True)
np_tile = call("np.tile", np.tile, defaults=(("reps", REQUIRED),), linear=True)
np_repeat = call(
    "np.repeat", np.repeat, defaults=(("repeats", REQUIRED), ("axis", None)), linear=True
)
np_pad = call(
    "np.pad",
    np.pad,
    defaults=(("pad_width", REQUIRED), ("mode", "constant"), ("constant_values", 0)),
    linear=True,
)
np_concatenate = _add(
    Primitive(
        "np.concatenate",
        Form.LISTCALL,
        "np.concatenate",
        lambda *xs, axis=0: np.concatenate(xs, axis=axis),
        nargs=-1,
        defaults=(("axis", 0),),
        linear=True,
        effect=Effect.FRESH,
    ),
    np.concatenate,
    np.concat,
)
np_stack = _add(
    Primitive(
        "np.stack",
        Form.LISTCALL,
        "np.stack",
        lambda *xs, axis=0: np.stack(xs, axis=axis),
        nargs=-1,
        defaults=(("axis", 0),),
        linear=True,
        effect=Effect.FRESH,
    ),
    np.stack,
)


def _joiner(name: str, fn: Callable) -> Primitive:
    """``np.vstack([a, b])`` and its kin: a list of arrays in, one array out."""
    return _add(
        Primitive(
            name,
            Form.LISTCALL,
            name,
            lambda *xs: fn(xs),
            nargs=-1,
            linear=True,
        ),
        fn,
    )


np_vstack = _joiner("np.vstack", np.vstack)
if hasattr(np, "row_stack"):  # an old name of vstack
    _add(np_vstack, np.row_stack)
np_hstack = _joiner("np.hstack", np.hstack)
np_dstack = _joiner("np.dstack", np.dstack)
np_column_stack = _joiner("np.column_stack", np.column_stack)
np_array = _add(
    Primitive(
        "np.array",
        Form.LISTCALL,
        "np.array",
        lambda *xs: np.array(xs),
        nargs=-1,
        linear=True,
        effect=Effect.FRESH,
    ),
)
# np.array(x) of one array (not a list of them): a copy, possibly converted
# (x.astype(t) and np.astype(x, t) copy too: never a view, so never an alias of x)
np_array_of = _add(
    Primitive("np.array:copy", Form.CALL, "np.array", np.array, defaults=(("dtype", None),)),
    np.array,
    *([np.astype] if hasattr(np, "astype") else []),
)
np_asarray = call("np.asarray", np.asarray, defaults=(("dtype", None),), effect=Effect.VIEW)
np_append = call("np.append", np.append, nargs=2, defaults=(("axis", None),), linear=True)
np_linspace = call("np.linspace", np.linspace, nargs=2, defaults=(("num", 50), ("endpoint", True)))
np_float64 = call("np.float64", np.float64, linear=True, effect=Effect.VIEW)
np_take = call("np.take", np.take, nargs=2, defaults=(("axis", None),), linear=True)
np_copy = call("np.copy", np.copy, linear=True, effect=Effect.FRESH)


def _splitter(name: str, fn: Callable, takes_axis: bool) -> Primitive:
    """``np.split`` and its kin return a tuple of pieces (unpacked by the lowering)."""
    defaults: tuple = (("indices_or_sections", REQUIRED),)
    if takes_axis:
        defaults += (("axis", 0),)
    return _add(
        Primitive(name, Form.CALL, name, fn, defaults=defaults, linear=True, effect=Effect.VIEW), fn
    )


np_split = _splitter("np.split", np.split, True)
np_array_split = _splitter("np.array_split", np.array_split, True)
np_hsplit = _splitter("np.hsplit", np.hsplit, False)
np_vsplit = _splitter("np.vsplit", np.vsplit, False)
np_dsplit = _splitter("np.dsplit", np.dsplit, False)

# ----------------------------------------------------------------------------- numpy: constants
np_shape = call("np.shape", np.shape, differentiable=False)
np_broadcast_shapes = call(
    "np.broadcast_shapes", np.broadcast_shapes, nargs=-1, differentiable=False
)
np_size = call("np.size", np.size, returns_scalar=True, differentiable=False)
np_ndim = call("np.ndim", np.ndim, returns_scalar=True, differentiable=False)
np_zeros = call("np.zeros", np.zeros, differentiable=False, effect=Effect.FRESH)
np_ones = call("np.ones", np.ones, differentiable=False, effect=Effect.FRESH)
np_empty = call("np.empty", np.empty, differentiable=False)
np_zeros_like = call("np.zeros_like", np.zeros_like, differentiable=False, effect=Effect.FRESH)
np_ones_like = call("np.ones_like", np.ones_like, differentiable=False, effect=Effect.FRESH)
np_empty_like = call("np.empty_like", np.empty_like, differentiable=False)
# the fill value may depend on the inputs: its adjoint is the sum of g
np_full_like = call(
    "np.full_like", np.full_like, nargs=2, defaults=(("dtype", None),), effect=Effect.FRESH
)
np_full = call("np.full", np.full, nargs=2, defaults=(("dtype", None),), effect=Effect.FRESH)
np_arange = call("np.arange", np.arange, nargs=-1, differentiable=False, effect=Effect.FRESH)
np_eye = call("np.eye", np.eye, differentiable=False, effect=Effect.FRESH)
np_identity = call("np.identity", np.identity, differentiable=False)
np_tri = call("np.tri", np.tri, differentiable=False)


# ----------------------------------------------------------------------------- indexing
def _index(args: tuple, layout: tuple) -> Any:
    """Rebuild an index from its layout.

    Items: ("at", k) an argument, ("slice", k|None, k|None, k|None), ("newaxis",),
    ("ellipsis",); a leading ("tuple",) marks ``x[i,]``-style explicit tuples.
    """
    items: list[Any] = []
    explicit = False
    for item in layout:
        tag = item[0]
        if tag == "tuple":
            explicit = True
        elif tag == "at":
            items.append(args[item[1]])
        elif tag == "slice":
            items.append(slice(*(None if k is None else args[k] for k in item[1:])))
        elif tag == "newaxis":
            items.append(None)
        else:
            items.append(Ellipsis)
    return tuple(items) if explicit or len(items) != 1 else items[0]


def _getitem(x: Any, *idx: Any, index: tuple) -> Any:
    return x[_index(idx, index)]


def _index_grad(g: Any, x: Any, *idx: Any, index: tuple) -> Any:
    return runtime.index_grad(g, x, _index(idx, index))


def _setitem(x: Any, v: Any, *idx: Any, index: tuple) -> Any:
    out = np.array(x, dtype=np.result_type(x, v))
    out[_index(idx, index)] = v
    return out


getitem = _add(
    Primitive(
        "getitem",
        Form.GETITEM,
        "[]",
        _getitem,
        nargs=-1,
        defaults=(("index", ()),),
        effect=Effect.VIEW,
    )
)


def _index_add(acc: Any, g: Any, *idx: Any, index: tuple) -> Any:
    out = np.array(acc, dtype=np.result_type(acc, g))
    np.add.at(out, _index(idx, index), g)
    return out


# acc with g added at an index: how a loop accumulates the adjoint of x[i] (in place)
index_add = _add(
    Primitive(
        "index_add",
        Form.CALL,
        "index_add",
        _index_add,
        nargs=-1,
        defaults=(("index", ()),),
        effect=Effect.UPDATE,
    )
)
# y[i] = v as a value: a copy of y with the indexed part replaced (see runtime.setitem)
setitem = _add(
    Primitive(
        "setitem",
        Form.CALL,
        "setitem",
        _setitem,
        nargs=-1,
        defaults=(("index", ()),),
        effect=Effect.UPDATE,
    )
)
shape_attr = _add(Primitive("shape", Form.ATTR, "shape", np.shape, differentiable=False))
size_attr = _add(Primitive("size", Form.ATTR, "size", np.size, differentiable=False))
ndim_attr = _add(Primitive("ndim", Form.ATTR, "ndim", np.ndim, differentiable=False))
T_attr = _add(Primitive("T", Form.ATTR, "T", np.transpose, linear=True, effect=Effect.VIEW))

# ----------------------------------------------------------------------------- runtime helpers
unbroadcast = helper(runtime.unbroadcast, 2)
sum_to = helper(runtime.sum_to, 2)
matmul_grad_a = helper(runtime.matmul_grad_a, 3)
matmul_grad_b = helper(runtime.matmul_grad_b, 3)
unconcat = helper(runtime.unconcat, -1, defaults=(("part", REQUIRED), ("axis", 0)))
index_grad = _add(
    Primitive(
        "index_grad",
        Form.CALL,
        "index_grad",
        _index_grad,
        nargs=-1,
        defaults=(("index", ()),),
        effect=Effect.FRESH,
    )
)

# helpers the NumPy rules write (plain NumPy, see runtime)
prod_grad = helper(runtime.prod_grad, 2, defaults=_AXES)
median_grad = helper(runtime.median_grad, 2, defaults=_AXES)
sort_grad = helper(runtime.sort_grad, 2, defaults=(("axis", -1),))
cumprod_grad = helper(runtime.cumprod_grad, 2, defaults=(("axis", None),))
diff_grad = helper(runtime.diff_grad, 1, defaults=(("n", 1), ("axis", -1)))
norm_grad = helper(runtime.norm_grad, 3, defaults=(("ord", None),) + _AXES)
average_grad = helper(runtime.average_grad, 3, defaults=_AXES + (("part", 0),))
take_grad = helper(runtime.take_grad, 3, defaults=(("axis", None),))
diagonal_grad = helper(
    runtime.diagonal_grad, 2, defaults=(("offset", 0), ("axis1", 0), ("axis2", 1))
)
diag_grad = helper(runtime.diag_grad, 2, defaults=(("k", 0),))
tile_grad = helper(runtime.tile_grad, 2, defaults=(("reps", REQUIRED),))
repeat_grad = helper(runtime.repeat_grad, 2, defaults=(("repeats", REQUIRED), ("axis", None)))
unpad = helper(runtime.unpad, 2, defaults=(("pad_width", REQUIRED),))
rollaxis_grad = helper(runtime.rollaxis_grad, 2, defaults=(("axis", REQUIRED), ("start", 0)))
unjoin = helper(runtime.unjoin, -1, defaults=(("part", REQUIRED), ("how", REQUIRED)))
unsplit = helper(runtime.unsplit, 2, defaults=(("sections", REQUIRED), ("axis", 0)))
einsum_grad = helper(runtime.einsum_grad, -1, defaults=(("part", REQUIRED),))
tensordot_grad = helper(runtime.tensordot_grad, 3, defaults=(("axes", 2), ("part", 0)))
dot_grad = helper(runtime.dot_grad, 3, defaults=(("part", 0),))
inner_grad = helper(runtime.inner_grad, 3, defaults=(("part", 0),))
kron_grad = helper(runtime.kron_grad, 3, defaults=(("part", 0),))
convolve_grad = helper(runtime.convolve_grad, 3, defaults=(("mode", "full"), ("part", 0)))
solve_adjoint = helper(runtime.solve_adjoint, 3)
solve_grad_a = helper(runtime.solve_grad_a, 4)
eigh_grad = helper(runtime.eigh_grad, 4, defaults=(("UPLO", "L"),))
cholesky_grad = helper(runtime.cholesky_grad, 2)
svd_grad = helper(runtime.svd_grad, 6)
permutation_grad = helper(runtime.permutation_grad, 3, defaults=(("axis", -1),))
permutation_tangent = helper(runtime.permutation_tangent, 3, defaults=(("axis", -1),))
cholesky_tangent = helper(runtime.cholesky_tangent, 2)
eigvalsh_tangent = helper(runtime.eigvalsh_tangent, 2, defaults=(("UPLO", "L"),))
eigh_vectors_tangent = helper(runtime.eigh_vectors_tangent, 3, defaults=(("UPLO", "L"),))
linspace_grad = helper(
    runtime.linspace_grad, 3, defaults=(("num", 50), ("endpoint", True), ("part", 0))
)

# helpers that appear when a generated gradient is differentiated again (symdiff.higher)
scalar_checked = helper(runtime.scalar_checked, 2, defaults=(("name", REQUIRED),))
scalar_seed = helper(runtime.scalar_seed, 1, defaults=(("name", REQUIRED),), differentiable=False)

real_attr = _add(Primitive("real", Form.ATTR, "real", np.real, linear=True, effect=Effect.VIEW))
imag_attr = _add(Primitive("imag", Form.ATTR, "imag", np.imag, differentiable=False))

# x.T, x.shape
ATTRIBUTES: Mapping[str, Primitive] = MappingProxyType(
    dict(T=T_attr, shape=shape_attr, size=size_attr, ndim=ndim_attr, real=real_attr, imag=imag_attr)
)
# x.sum(...), x.reshape(...)
METHODS: Mapping[str, Primitive] = MappingProxyType(dict(
    sum=np_sum, mean=np_mean, max=np_max, min=np_min, reshape=np_reshape, transpose=np_transpose,
    dot=np_dot, copy=np_copy, ravel=np_ravel, argmax=np_argmax, argmin=np_argmin,
    prod=np_prod, var=np_var, std=np_std, cumsum=np_cumsum, cumprod=np_cumprod, clip=np_clip,
    repeat=np_repeat, squeeze=np_squeeze, swapaxes=np_swapaxes, flatten=np_ravel,
    astype=np_array_of, trace=np_trace, diagonal=np_diagonal, take=np_take, conj=np_conj,
    conjugate=np_conj, round=np_round, all=np_all, any=np_any, argsort=np_argsort,
    nonzero=np_nonzero,
))  # fmt: skip

# ----------------------------------------------------------------------------- several results
# A function with several results (w, v = np.linalg.eigh(a)) is one primitive whose value is
# a tuple; the lowering reads its items at once with ``tuple_item`` (``t[0]``, ``t[1]``). The
# adjoint of the tuple is a tuple built from the items' adjoints (None for an unused item).
tuple_item = _add(
    Primitive(
        "tuple_item",
        Form.GETITEM,
        "[]",
        _getitem,
        nargs=-1,
        defaults=(("index", ()),),
        effect=Effect.VIEW,
    )
)


def _pieces(params: dict) -> int | None:
    sections = params.get("indices_or_sections")
    if isinstance(sections, (int, np.integer)) and not isinstance(sections, bool):
        return int(sections)
    if isinstance(sections, (tuple, list, np.ndarray)):
        return len(sections) + 1
    return None


# primitive -> the number of its results, from its static parameters (None: not known,
# 0: this call returns a single array)
MULTI_OUTPUT: dict[Primitive, Callable[[dict], int | None]] = {
    la_slogdet: lambda params: 2,
    la_eigh: lambda params: 2,
    la_svd: lambda params: 3 if params.get("compute_uv", True) else 0,  # 0: one array
    **dict.fromkeys((np_split, np_array_split, np_hsplit, np_vsplit, np_dsplit), _pieces),
}


# ----------------------------------------------------------------------------- binding calls
_ARRAY_DEFAULTS: dict[Primitive, dict[str, Any]] = {
    np_clip: {"a_min": None, "a_max": None},
    np_average_weighted: {"axis": None},
}
_KEYWORD_ALIASES: dict[Primitive, dict[str, str]] = {np_clip: {"min": "a_min", "max": "a_max"}}
_ARRAY_NAMES: dict[Primitive, tuple[str, ...]] = {np_average_weighted: ("a", "axis", "weights")}


def _signature(prim: Primitive) -> tuple[list[str], dict[str, Any]] | None:
    """The names NumPy gives the positional parameters of ``prim``'s function, and the
    default values of all its parameters, if known."""
    try:
        sig = inspect.signature(prim.impl)
    except (TypeError, ValueError):
        return None
    names = []
    for p in sig.parameters.values():
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            break
        names.append(p.name)
    defaults = {p.name: p.default for p in sig.parameters.values() if p.default is not p.empty}
    return names, defaults


def _is_default(value: Any, default: Any) -> bool:
    """``out=None`` written out: the argument NumPy would have used anyway."""
    if not isinstance(value, Const) or not isinstance(value.value, (type(None), bool, int, str)):
        return False
    return type(value.value) is type(default) and value.value == default


def _is_sequence(value: Any) -> bool:
    """A list or tuple written in the source (the lowering's ListV/TupleV)."""
    return isinstance(getattr(value, "items", None), tuple)


def normalize(prim: Primitive, args: list, kwargs: dict) -> tuple[Primitive, list, dict]:
    """Bind a call's arguments the way NumPy does: array inputs by position, in the order
    the primitive takes them, and every static parameter by its NumPy name.

    Binding by NumPy's own signature means ``np.var(x, 0, None, None, 1)`` sets ``ddof``,
    not whatever comes next in ``defaults``. Two calls change primitive here: ``np.array``
    of one array (a copy) and ``np.average`` with weights (which are then an input).
    """
    if prim is np_array and args and not _is_sequence(args[0]):
        prim = np_array_of
    signature = _signature(prim)
    if signature is None or prim.form is Form.LISTCALL or prim.nargs == -1:
        return prim, list(args), dict(kwargs)
    names, numpy_defaults = signature
    if len(args) > len(names):
        return prim, list(args), dict(kwargs)
    aliases = _KEYWORD_ALIASES.get(prim, {})
    named = dict(zip(names, args))
    named.update((aliases.get(k, k), v) for k, v in kwargs.items())
    if prim is np_average and "weights" in named:
        weights = named["weights"]
        if isinstance(weights, Const) and weights.value is None:
            del named["weights"]
        else:
            prim = np_average_weighted
    arrays = _ARRAY_NAMES.get(prim) or tuple(names[: prim.nargs])
    fill = _ARRAY_DEFAULTS.get(prim, {})
    inputs = []
    for name in arrays:
        if name in named:
            inputs.append(named.pop(name))
        elif name in fill:
            inputs.append(Const(fill[name]))
        else:
            break  # missing: the binding reports it
    supported = {k for k, _ in prim.defaults}
    for k in [k for k in named if k not in supported and k in numpy_defaults]:
        if _is_default(named[k], numpy_defaults[k]):
            del named[k]
    return prim, inputs, named


def dtype_name(obj: Any) -> str | None:
    """``float`` or ``np.float32`` written as a dtype argument, as the name NumPy gives it."""
    if isinstance(obj, type) or isinstance(obj, np.dtype):
        try:
            return np.dtype(obj).name
        except TypeError:
            return None
    return None


def resolve(obj: Any) -> Primitive | None:
    """The primitive a Python object stands for (built in, or declared by the user), or None."""
    return lookup(BY_OBJECT, obj) or USER_RULES.primitive_for(obj)


def named(name: str) -> Primitive | None:
    """The primitive of a name (``np.exp``, or a declared function's spelling), or None."""
    return ALL.get(name) or USER_RULES.named(name)


def helper_for(impl: Any) -> Primitive | None:
    """The helper primitive whose implementation is ``impl`` (a generated gradient read back)."""
    return lookup(_BY_IMPL, impl)


# a comparison's mask as numbers (fast, and fine for Python bools too)
as_float = _add(
    Primitive(
        "as_float", Form.CALL, "np.asarray", lambda m, dtype=float: np.asarray(m, dtype=dtype),
        defaults=(("dtype", None),), differentiable=False,
    )
)  # fmt: skip

# ----------------------------------------------------------------------------- tapes
new_tape = _add(Primitive("new_tape", Form.NEWLIST, "[]", list, nargs=0, differentiable=False))

# ----------------------------------------------------------------------------- lists
# Lists built in a loop (xs.append(v)) are runtime Python lists; their adjoint is a list too.
make_list = _add(
    Primitive("list", Form.LIST, "[]", lambda *xs: list(xs), nargs=-1, effect=Effect.FRESH)
)
list_append = _add(
    Primitive(
        "list_append", Form.APPEND, "append", lambda xs, v: [*xs, v], nargs=2, effect=Effect.UPDATE
    )
)
np_stack_list = _add(
    Primitive(
        "np.stack:list",
        Form.CALL,
        "np.stack",
        np.stack,
        nargs=1,
        defaults=(("axis", 0),),
        effect=Effect.FRESH,
    )
)
np_array_list = _add(
    Primitive("np.array:list", Form.CALL, "np.array", np.array, nargs=1, effect=Effect.FRESH)
)
sum_list = _add(Primitive("sum", Form.CALL, "sum", builtins.sum, nargs=1))
unstack = helper(runtime.unstack, 1, defaults=(("axis", 0),), effect=Effect.FRESH)
sum_list_grad = helper(runtime.sum_list_grad, 2, effect=Effect.FRESH)
zeros_like_list = helper(runtime.zeros_like_list, 1, differentiable=False, effect=Effect.FRESH)
add_lists = helper(runtime.add_lists, 2)
LIST_MAKERS = frozenset({make_list, list_append})
LIST_CONSUMERS = {np_stack: np_stack_list, np_array: np_array_list}

# ----------------------------------------------------------------------------- packing
make_tuple = _add(Primitive("tuple", Form.TUPLE, "()", lambda *xs: tuple(xs), nargs=-1))

# helpers symdiff writes into gradients; a user calling one of them gets no special meaning
INTERNAL_ONLY = frozenset(
    {
        unbroadcast,
        sum_to,
        matmul_grad_a,
        matmul_grad_b,
        unconcat,
        index_grad,
        unstack,
        sum_list_grad,
    }
)

# ----------------------------------------------------------------------------- constants wrt inputs
# Results that cannot change when the inputs change a little: integer indices, type tests and
# random draws. Their derivative is zero, so no rule is needed; the lowering checks that what
# they read is itself constant where that matters (``UNIQUE_NEEDS_CONSTANT``, ``RANDOM``).
b_isinstance = call(
    "isinstance", builtins.isinstance, nargs=2, returns_scalar=True, differentiable=False
)
np_triu_indices = call(
    "np.triu_indices", np.triu_indices, defaults=(("k", 0), ("m", None)), differentiable=False
)
np_tril_indices = call(
    "np.tril_indices", np.tril_indices, defaults=(("k", 0), ("m", None)), differentiable=False
)
np_triu_indices_from = call(
    "np.triu_indices_from", np.triu_indices_from, defaults=(("k", 0),), differentiable=False
)
np_tril_indices_from = call(
    "np.tril_indices_from", np.tril_indices_from, defaults=(("k", 0),), differentiable=False
)
np_diag_indices = call(
    "np.diag_indices", np.diag_indices, defaults=(("ndim", 2),), differentiable=False
)
# np.unique of computed values would be a selection of them (with a gradient); symdiff takes
# it only on values that do not depend on the inputs (index lists), where it is a constant
np_unique = call("np.unique", np.unique, differentiable=False)
UNIQUE_NEEDS_CONSTANT = frozenset({np_unique})
MULTI_OUTPUT.update(
    {
        np_triu_indices: lambda params: 2,
        np_tril_indices: lambda params: 2,
        np_triu_indices_from: lambda params: 2,
        np_tril_indices_from: lambda params: 2,
        np_diag_indices: lambda params: params.get("ndim", 2),
    }
)


def _random(name: str) -> Primitive:
    """A draw from NumPy's global generator: every positional argument is an array input
    (the lowering checks that none depends on the function's inputs), keywords are static."""
    return call(f"np.random.{name}", getattr(np.random, name), nargs=-1, differentiable=False)


# drawn at run time, once per call, as the function itself draws them (docs/numpy.md)
RANDOM = frozenset(
    _random(name)
    for name in (
        "normal", "standard_normal", "uniform", "rand", "randn", "randint", "random",
        "random_sample", "exponential", "standard_exponential", "poisson", "binomial",
        "gamma", "standard_gamma", "beta", "laplace", "logistic", "lognormal", "choice",
        "permutation",
    )
)  # fmt: skip


# ----------------------------------------------------------------------------- the frozen catalogue
ALL, BY_OBJECT = _CATALOGUE.freeze()  # name -> primitive, Python object -> primitive
HELPERS: tuple[Primitive, ...] = tuple(_HELPERS)
_BY_IMPL: Mapping[Any, Primitive] = MappingProxyType(
    {**{p.impl: p for p in HELPERS}, runtime.index_grad: index_grad}
)
