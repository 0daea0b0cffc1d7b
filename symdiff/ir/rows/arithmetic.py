"""Rows for arithmetic and elementwise functions: operators, ``math``, builtins, NumPy ufuncs.

Most of these broadcast (``elementwise``), so their adjoints are summed back to each input's
shape; comparisons and rounding are here too, marked not differentiable.
"""

from __future__ import annotations

import builtins
import operator

import numpy as np

from ..nodes import Effect
from .build import call, infix, mathfn, prefix, ufunc

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
