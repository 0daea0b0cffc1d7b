"""Abstract evaluation of elementwise operations: operators, ``math``, builtins and ufuncs.

For a NumPy ufunc the answer is exact without running anything: the shape is the broadcast of
the inputs', the dtype is what the ufunc's own type resolution picks (``resolve_dtypes``, with
Python int and float as weak types, NEP 50), and a 0-d result is a NumPy scalar. Python
operators on Python scalars follow Python's rules instead, which differ (``True + True`` is
the int 2, ``7 / 2`` a float), so they get their own table.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

import numpy as np

from ..ir import primitives as P
from ..ir.nodes import Primitive
from .call import Call, Rule, all_python, dtype_arg, float_type, numeric, numeric_args, result_type
from .values import (
    BOOL,
    FLOAT,
    INT,
    UNKNOWN,
    AbstractValue,
    Kind,
    array,
    broadcast_shapes,
    join,
    tuple_of,
)

# ----------------------------------------------------------------------------- ufuncs


def ufunc_value(uf: np.ufunc, call: Call, args: tuple[AbstractValue, ...]) -> AbstractValue:
    """A ufunc applied to ``args``: broadcast shape, the dtype NumPy picks, scalar if 0-d."""
    if not all(a.is_numeric for a in args):
        return UNKNOWN
    shape = broadcast_shapes((a.shape for a in args), call.expr, call.loc)
    types = tuple(dtype_arg(a) for a in args)
    dtype: np.dtype | None = None
    if all(t is not None for t in types):  # (not `in`: a dtype equals None)
        dtype = ufunc_dtype(uf, types)
        if dtype is None:  # no loop for these dtypes: NumPy raises at run time
            return UNKNOWN
    return numeric(dtype, shape, scalar=True)


@functools.lru_cache(maxsize=None)
def ufunc_dtype(uf: np.ufunc, types: tuple) -> np.dtype | None:
    """The output dtype of ``uf`` for inputs of ``types``, from NumPy's own dispatch on
    one-element witnesses: Python ``int``/``float`` stay Python numbers so that they are
    weak exactly as in the user's call (NEP 50), dtypes become 0-d arrays (never weak)."""
    witnesses = [t(1) if t is int or t is float else np.ones((), t) for t in types]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            out = uf(*witnesses)
        except (TypeError, ValueError):
            return None
    return np.asarray(out[0] if uf.nout > 1 else out).dtype


def ufunc_rule(uf: np.ufunc) -> Rule:
    return lambda call: ufunc_value(uf, call, call.args)


# ----------------------------------------------------------------------------- operators

_OPERATOR_UFUNC: dict[Primitive, np.ufunc] = {
    P.add: np.add, P.sub: np.subtract, P.mul: np.multiply, P.div: np.true_divide,
    P.pow: np.power, P.floordiv: np.floor_divide, P.mod: np.remainder,
    P.lt: np.less, P.le: np.less_equal, P.gt: np.greater, P.ge: np.greater_equal,
    P.eq: np.equal, P.ne: np.not_equal, P.and_: np.bitwise_and, P.or_: np.bitwise_or,
    P.neg: np.negative, P.pos: np.positive, P.invert: np.invert,
}  # fmt: skip
_COMPARISONS = {P.lt, P.le, P.gt, P.ge, P.eq, P.ne}


def _python_pow(call: Call) -> AbstractValue:
    """``a ** b`` on Python numbers: the result's type depends on the values (``2 ** -1`` is
    a float, ``(-8.0) ** (1 / 3)`` complex), so it is known only from constant operands."""
    base, exp = call.const(0), call.const(1)
    ints = all(a.kind in (Kind.INT, Kind.BOOL) for a in call.args)
    if ints:
        return INT if isinstance(exp, int) and exp >= 0 else UNKNOWN
    if isinstance(exp, (int, float)) and float(exp).is_integer():
        return FLOAT  # a real base to an integral power stays real
    if isinstance(base, (int, float)) and base >= 0:
        return FLOAT
    return UNKNOWN


def python_operator(call: Call) -> AbstractValue:
    """An operator on Python scalars only, by Python's rules."""
    prim, kinds = call.prim, {a.kind for a in call.args}
    if prim in _COMPARISONS:
        return BOOL
    if prim is P.pow:
        return _python_pow(call)
    if prim is P.div:
        return FLOAT
    if prim in (P.and_, P.or_, P.invert):
        if Kind.FLOAT in kinds:
            return UNKNOWN  # TypeError at run time
        return BOOL if kinds == {Kind.BOOL} and prim is not P.invert else INT
    return FLOAT if Kind.FLOAT in kinds else INT


def _sequence_operator(call: Call) -> AbstractValue:
    """``+`` on tuples or lists (shapes: ``x.shape + (1,)``); other mixes are not described."""
    a, b = call.args
    if call.prim is P.add and a.kind is b.kind is Kind.TUPLE:
        if a.items is None or b.items is None:
            return tuple_of(None)
        return tuple_of(a.items + b.items)
    if call.prim is P.add and a.kind is b.kind is Kind.LIST:
        return join(a, b) if a.item and b.item else AbstractValue(Kind.LIST, item=a.item or b.item)
    return UNKNOWN


def _array_pow(call: Call) -> AbstractValue:
    """``a ** b`` with an array ``a``: ndarray's ``**`` takes a shortcut for the Python int
    2 (``np.square``), which differs from ``np.power`` for boolean arrays (int8, not int64)."""
    base, exp = call.args
    power = ufunc_value(np.power, call, call.args)
    if not (base.kind is Kind.ARRAY and base.dtype == np.bool_ and exp.kind is Kind.INT):
        return power
    if base.rank == 0:
        return power
    square = ufunc_value(np.square, call, (base,))
    if call.is_const(1):
        return square if call.const(1) == 2 else power
    return join(square, power)


def operator_rule(call: Call) -> AbstractValue:
    if all_python(call.args):
        return python_operator(call)
    if not numeric_args(call):
        return _sequence_operator(call) if len(call.args) == 2 else UNKNOWN
    if call.prim is P.pow:
        return _array_pow(call)
    return ufunc_value(_OPERATOR_UFUNC[call.prim], call, call.args)


def not_rule(call: Call) -> AbstractValue:
    """``not x`` is a Python bool whenever it does not raise (an array of several values)."""
    return BOOL


# ----------------------------------------------------------------------------- math, builtins


def math_rule(result: AbstractValue) -> Rule:
    """``math.*`` converts its arguments to Python floats: the result type never varies."""
    return lambda call: result if all(a.is_numeric for a in call.args) else UNKNOWN


def abs_rule(call: Call) -> AbstractValue:
    (x,) = call.args
    if x.kind in (Kind.INT, Kind.BOOL):
        return INT
    if x.kind is Kind.FLOAT:
        return FLOAT
    return ufunc_value(np.absolute, call, call.args)


def pick_rule(call: Call) -> AbstractValue:
    """``max(a, b)`` returns one of its arguments unchanged: the join of the two."""
    a, b = call.args
    return join(a, b)


def round_rule(call: Call) -> AbstractValue:
    """``round(x)`` with one argument: an int for Python and NumPy scalars."""
    x = call.args[0]
    if len(call.args) == 1 and x.is_scalar:
        return INT
    return UNKNOWN


def len_rule(call: Call) -> AbstractValue:
    return INT


def builtin_pow_rule(call: Call) -> AbstractValue:
    if all_python(call.args):
        return _python_pow(call)
    return _array_pow(call)


# ----------------------------------------------------------------------------- NumPy non-ufuncs


def where_rule(call: Call) -> AbstractValue:
    """``np.where`` always returns an ndarray, 0-d included."""
    if not numeric_args(call):
        return UNKNOWN
    shape = broadcast_shapes((a.shape for a in call.args), call.expr, call.loc)
    return array(result_type(call.args[1], call.args[2]), shape)


def clip_rule(call: Call) -> AbstractValue:
    """``np.clip(x, lo, hi)``: broadcast of the present bounds; ``x`` goes through
    ``np.asarray`` (a Python float becomes float64), the bounds stay weak."""
    x, *bounds = call.args
    present = tuple(b for b in bounds if b.kind is not Kind.NONE)
    if not all(a.is_numeric for a in (x, *present)):
        return UNKNOWN
    shape = broadcast_shapes((a.shape for a in (x, *present)), call.expr, call.loc)
    strong = array(result_type(x), ())
    return numeric(result_type(strong, *present), shape, scalar=True)


def round_array_rule(call: Call) -> AbstractValue:
    """``np.round`` keeps the dtype, except that booleans round to float16."""
    x = call.args[0]
    if not x.is_numeric:
        return UNKNOWN
    dt = result_type(x)
    if dt is not None and dt.kind == "b":
        dt = np.dtype(np.float16)
    return numeric(dt, x.shape, scalar=True)


def same_dtype_rule(scalar: bool) -> Rule:
    """Functions that keep their input's dtype (Python numbers become int64/float64)."""

    def rule(call: Call) -> AbstractValue:
        x = call.args[0]
        if not x.is_numeric:
            return UNKNOWN
        return numeric(result_type(x), x.shape, scalar=scalar)

    return rule


def real_rule(call: Call) -> AbstractValue:
    """``np.real``/``np.imag`` read the attribute: a Python number stays a Python number."""
    x = call.args[0]
    if x.kind is Kind.FLOAT:
        return FLOAT
    if x.kind in (Kind.INT, Kind.BOOL):
        return INT
    if not x.is_numeric or x.dtype is None:
        return UNKNOWN if not x.is_numeric else AbstractValue(x.kind, None, x.shape)
    dtype = np.empty(0, x.dtype).real.dtype
    return AbstractValue(x.kind, dtype, x.shape)


def float_rule(scalar: bool) -> Rule:
    """Functions that compute in floating point (``np.sinc``): ints become float64."""

    def rule(call: Call) -> AbstractValue:
        x = call.args[0]
        if not x.is_numeric:
            return UNKNOWN
        return numeric(float_type(x), x.shape, scalar=scalar)

    return rule


def angle_rule(call: Call) -> AbstractValue:
    """``np.angle`` of a real input is ``arctan2(0, x)``."""
    x = call.args[0]
    if not x.is_numeric:
        return UNKNOWN
    return ufunc_value(np.arctan2, call, (INT, array(result_type(x), x.shape)))


def bool_rule(scalar: bool) -> Rule:
    """Elementwise predicates written in Python (``np.isposinf``, ``np.isclose``)."""

    def rule(call: Call) -> AbstractValue:
        if not numeric_args(call):
            return UNKNOWN
        shape = broadcast_shapes((a.shape for a in call.args), call.expr, call.loc)
        return numeric(np.dtype(bool), shape, scalar=scalar)

    return rule


def python_bool_rule(call: Call) -> AbstractValue:
    return BOOL


def identity_rule(call: Call) -> AbstractValue:
    """``stop_gradient(x)`` is ``x`` itself."""
    return call.args[0]


def _rules() -> dict[Primitive, Rule]:
    rules: dict[Primitive, Rule] = {p: operator_rule for p in _OPERATOR_UFUNC}
    rules[P.not_] = not_rule
    for prim in P.ALL.values():
        if prim.name.startswith("math."):
            rules[prim] = math_rule(FLOAT)
        elif isinstance(prim.impl, np.ufunc) and prim.form == "call":
            rules[prim] = ufunc_rule(prim.impl)
    for prim in (P.m_floor, P.m_ceil, P.m_trunc):
        rules[prim] = math_rule(INT)
    for prim in (P.m_isnan, P.m_isinf, P.m_isfinite):
        rules[prim] = math_rule(BOOL)
    extra: dict[Primitive, Any] = {
        P.b_abs: abs_rule, P.b_max: pick_rule, P.b_min: pick_rule,
        P.b_float: math_rule(FLOAT), P.b_int: math_rule(INT), P.b_len: len_rule,
        P.b_round: round_rule, P.b_pow: builtin_pow_rule,
        P.np_where: where_rule, P.np_clip: clip_rule,
        P.np_round: round_array_rule, P.np_nan_to_num: same_dtype_rule(scalar=True),
        P.np_real_if_close: same_dtype_rule(scalar=False),
        P.np_real: real_rule, P.np_imag: real_rule, P.real_attr: real_rule,
        P.imag_attr: real_rule, P.np_sinc: float_rule(scalar=True), P.np_angle: angle_rule,
        P.np_fix: ufunc_rule(np.floor), P.np_isposinf: bool_rule(scalar=True),
        P.np_isneginf: bool_rule(scalar=True), P.np_isclose: bool_rule(scalar=True),
        P.np_allclose: python_bool_rule, P.np_array_equal: python_bool_rule,
        P.stop_gradient: identity_rule,
    }  # fmt: skip
    rules.update(extra)
    return rules


RULES = _rules()
