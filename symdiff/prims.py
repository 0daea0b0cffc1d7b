"""The catalogue of primitives: every operation symdiff can lower, and how to find it.

``prims`` answers *what an operation is* (how it is written, evaluated, whether it
broadcasts); ``rules`` answers *what its derivative is*. Lowering resolves a call to the
Python object it names (``np.exp``, ``math.exp``, a ufunc imported under another name) and
looks that object up here, so aliases such as ``from numpy import exp`` need no special case.
"""

from __future__ import annotations

import builtins
import math
import operator
from typing import Any, Callable

import numpy as np

from . import runtime
from .ir import Primitive

ALL: dict[str, Primitive] = {}
BY_OBJECT: dict[int, Primitive] = {}  # id(python object) -> primitive
_KEEP: list[Any] = []  # keeps the objects behind BY_OBJECT ids alive
METHODS: dict[str, Primitive] = {}  # x.sum(...), x.reshape(...)
ATTRIBUTES: dict[str, Primitive] = {}  # x.T, x.shape


def _add(prim: Primitive, *objects: Any) -> Primitive:
    ALL[prim.name] = prim
    for obj in objects:
        BY_OBJECT[id(obj)] = prim
        _KEEP.append(obj)
    return prim


def infix(name: str, symbol: str, impl: Callable, **kw: Any) -> Primitive:
    return _add(Primitive(name, "infix", symbol, impl, nargs=2, **kw))


def prefix(name: str, symbol: str, impl: Callable, **kw: Any) -> Primitive:
    return _add(Primitive(name, "prefix", symbol, impl, nargs=1, **kw))


def call(spelling: str, impl: Callable, *aliases: Any, **kw: Any) -> Primitive:
    """A function primitive written ``spelling(args)``; ``impl`` and aliases resolve to it."""
    return _add(Primitive(spelling, "call", spelling, impl, **kw), impl, *aliases)


def ufunc(spelling: str, impl: Callable, *aliases: Any, nargs: int = 1, **kw: Any) -> Primitive:
    return call(spelling, impl, *aliases, nargs=nargs, elementwise=True, **kw)


def mathfn(name: str, nargs: int = 1, **kw: Any) -> Primitive:
    return call(f"math.{name}", getattr(math, name), nargs=nargs, returns_scalar=True, **kw)


def helper(fn: Callable, nargs: int, **kw: Any) -> Primitive:
    """A function of ``runtime``: generated code calls it by its plain name."""
    return _add(Primitive(fn.__name__, "call", fn.__name__, fn, nargs=nargs, **kw))


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
b_pow = call("pow", builtins.pow, nargs=2, elementwise=True)

# ----------------------------------------------------------------------------- numpy: elementwise
np_exp = ufunc("np.exp", np.exp)
np_log = ufunc("np.log", np.log)
np_log1p = ufunc("np.log1p", np.log1p)
np_expm1 = ufunc("np.expm1", np.expm1)
np_sqrt = ufunc("np.sqrt", np.sqrt)
np_square = ufunc("np.square", np.square)
np_sin = ufunc("np.sin", np.sin)
np_cos = ufunc("np.cos", np.cos)
np_tan = ufunc("np.tan", np.tan)
np_tanh = ufunc("np.tanh", np.tanh)
np_sinh = ufunc("np.sinh", np.sinh)
np_cosh = ufunc("np.cosh", np.cosh)
np_arctan = ufunc("np.arctan", np.arctan)
np_arcsin = ufunc("np.arcsin", np.arcsin)
np_arccos = ufunc("np.arccos", np.arccos)
np_log2 = ufunc("np.log2", np.log2)
np_log10 = ufunc("np.log10", np.log10)
np_abs = ufunc("np.abs", np.abs)
np_negative = ufunc("np.negative", np.negative, linear=True)
np_reciprocal = ufunc("np.reciprocal", np.reciprocal)
np_power = ufunc("np.power", np.power, nargs=2)
np_add = ufunc("np.add", np.add, nargs=2, linear=True)
np_subtract = ufunc("np.subtract", np.subtract, nargs=2, linear=True)
np_multiply = ufunc("np.multiply", np.multiply, nargs=2)
np_divide = ufunc("np.divide", np.divide, nargs=2)
np_maximum = ufunc("np.maximum", np.maximum, nargs=2)
np_minimum = ufunc("np.minimum", np.minimum, nargs=2)
np_where = ufunc("np.where", np.where, nargs=3)
np_clip = ufunc("np.clip", np.clip, nargs=3)
np_sign = ufunc("np.sign", np.sign, differentiable=False)
np_floor = ufunc("np.floor", np.floor, differentiable=False)
np_ceil = ufunc("np.ceil", np.ceil, differentiable=False)
np_round = ufunc("np.round", np.round, differentiable=False)
np_isfinite = ufunc("np.isfinite", np.isfinite, differentiable=False)
np_logical_and = ufunc("np.logical_and", np.logical_and, nargs=2, differentiable=False)
np_logical_or = ufunc("np.logical_or", np.logical_or, nargs=2, differentiable=False)
np_logical_not = ufunc("np.logical_not", np.logical_not, differentiable=False)

# ----------------------------------------------------------------------------- numpy: reductions
_AXES = (("axis", None), ("keepdims", False))
np_sum = call("np.sum", np.sum, defaults=_AXES, linear=True)
np_mean = call("np.mean", np.mean, defaults=_AXES, linear=True)
np_max = call("np.max", np.max, np.amax, defaults=_AXES)
np_min = call("np.min", np.min, np.amin, defaults=_AXES)
np_argmax = call("np.argmax", np.argmax, defaults=(("axis", None),), differentiable=False)
np_argmin = call("np.argmin", np.argmin, defaults=(("axis", None),), differentiable=False)

# ----------------------------------------------------------------------------- numpy: linear algebra
np_dot = call("np.dot", np.dot, nargs=2)
np_matmul = call("np.matmul", np.matmul, nargs=2)
np_outer = call("np.outer", np.outer, nargs=2)

# ----------------------------------------------------------------------------- numpy: shape
np_transpose = call("np.transpose", np.transpose, defaults=(("axes", None),), linear=True)
np_swapaxes = call("np.swapaxes", np.swapaxes, nargs=3, linear=True)
np_reshape = call("np.reshape", np.reshape, nargs=2, linear=True)
np_ravel = call("np.ravel", np.ravel, linear=True)
np_expand_dims = call("np.expand_dims", np.expand_dims, nargs=2, linear=True)
np_broadcast_to = call("np.broadcast_to", np.broadcast_to, nargs=2, linear=True)
np_concatenate = _add(
    Primitive(
        "np.concatenate",
        "listcall",
        "np.concatenate",
        lambda *xs, axis=0: np.concatenate(xs, axis=axis),
        nargs=-1,
        defaults=(("axis", 0),),
        linear=True,
    ),
    np.concatenate,
)
np_stack = _add(
    Primitive(
        "np.stack",
        "listcall",
        "np.stack",
        lambda *xs, axis=0: np.stack(xs, axis=axis),
        nargs=-1,
        defaults=(("axis", 0),),
        linear=True,
    ),
    np.stack,
)
np_array = _add(
    Primitive(
        "np.array",
        "listcall",
        "np.array",
        lambda *xs: np.array(xs),
        nargs=-1,
        linear=True,
    ),
)
np_take = call("np.take", np.take, nargs=2, defaults=(("axis", None),), linear=True)
np_copy = call("np.copy", np.copy, linear=True)

# ----------------------------------------------------------------------------- numpy: constants
np_shape = call("np.shape", np.shape, differentiable=False)
np_broadcast_shapes = call(
    "np.broadcast_shapes", np.broadcast_shapes, nargs=-1, differentiable=False
)
np_size = call("np.size", np.size, returns_scalar=True, differentiable=False)
np_ndim = call("np.ndim", np.ndim, returns_scalar=True, differentiable=False)
np_zeros = call("np.zeros", np.zeros, differentiable=False)
np_ones = call("np.ones", np.ones, differentiable=False)
np_zeros_like = call("np.zeros_like", np.zeros_like, differentiable=False)
np_ones_like = call("np.ones_like", np.ones_like, differentiable=False)
np_full_like = call("np.full_like", np.full_like, nargs=2, differentiable=False)
np_full = call("np.full", np.full, nargs=2, differentiable=False)
np_arange = call("np.arange", np.arange, nargs=-1, differentiable=False)
np_eye = call("np.eye", np.eye, differentiable=False)


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


getitem = _add(Primitive("getitem", "getitem", "[]", _getitem, nargs=-1, defaults=(("index", ()),)))
# y[i] = v as a value: a copy of y with the indexed part replaced (see runtime.setitem)
setitem = _add(
    Primitive("setitem", "call", "setitem", _setitem, nargs=-1, defaults=(("index", ()),))
)
shape_attr = _add(Primitive("shape", "attr", "shape", np.shape, differentiable=False))
size_attr = _add(Primitive("size", "attr", "size", np.size, differentiable=False))
ndim_attr = _add(Primitive("ndim", "attr", "ndim", np.ndim, differentiable=False))
T_attr = _add(Primitive("T", "attr", "T", np.transpose, linear=True))

# ----------------------------------------------------------------------------- runtime helpers
unbroadcast = helper(runtime.unbroadcast, 2)
matmul_grad_a = helper(runtime.matmul_grad_a, 3)
matmul_grad_b = helper(runtime.matmul_grad_b, 3)
unconcat = helper(runtime.unconcat, -1, defaults=(("part", 0), ("axis", 0)))
index_grad = _add(
    Primitive(
        "index_grad",
        "call",
        "index_grad",
        _index_grad,
        nargs=-1,
        defaults=(("index", ()),),
    )
)

ATTRIBUTES.update(T=T_attr, shape=shape_attr, size=size_attr, ndim=ndim_attr)
METHODS.update(
    sum=np_sum, mean=np_mean, max=np_max, min=np_min, reshape=np_reshape, transpose=np_transpose,
    dot=np_dot, copy=np_copy, ravel=np_ravel, argmax=np_argmax, argmin=np_argmin,
)  # fmt: skip


def resolve(obj: Any) -> Primitive | None:
    """The primitive a Python object stands for, or None."""
    return BY_OBJECT.get(id(obj))


# ----------------------------------------------------------------------------- tapes
new_tape = _add(Primitive("new_tape", "newlist", "[]", list, nargs=0, differentiable=False))

# ----------------------------------------------------------------------------- lists
# Lists built in a loop (xs.append(v)) are runtime Python lists; their adjoint is a list too.
make_list = _add(Primitive("list", "list", "[]", lambda *xs: list(xs), nargs=-1))
list_append = _add(Primitive("list_append", "append", "append", lambda xs, v: [*xs, v], nargs=2))
np_stack_list = _add(
    Primitive("np.stack", "call", "np.stack", np.stack, nargs=1, defaults=(("axis", 0),))
)
np_array_list = _add(Primitive("np.array", "call", "np.array", np.array, nargs=1))
sum_list = _add(Primitive("sum", "call", "sum", builtins.sum, nargs=1))
unstack = helper(runtime.unstack, 1, defaults=(("axis", 0),))
sum_list_grad = helper(runtime.sum_list_grad, 2)
zeros_like_list = helper(runtime.zeros_like_list, 1, differentiable=False)
add_lists = helper(runtime.add_lists, 2)
LIST_MAKERS = frozenset({make_list, list_append})
LIST_CONSUMERS = {np_stack: np_stack_list, np_array: np_array_list}

# ----------------------------------------------------------------------------- packing
make_tuple = _add(Primitive("tuple", "tuple", "()", lambda *xs: tuple(xs), nargs=-1))

# helpers symdiff writes into gradients; a user calling one of them gets no special meaning
INTERNAL_ONLY = frozenset(
    {unbroadcast, matmul_grad_a, matmul_grad_b, unconcat, index_grad, unstack, sum_list_grad}
)
