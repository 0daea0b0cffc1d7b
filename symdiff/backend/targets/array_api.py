"""The array API standard: one gradient for every library array-api-compat knows.

The namespace is not chosen when the code is written: each generated function starts with
``xp = array_namespace(...)`` over its arguments, so the same function runs on NumPy,
CuPy, PyTorch, Dask and JAX arrays (and array-api-strict, which tests that nothing outside
the standard is used). Only names the standard defines are written; NumPy names the
standard renamed are translated.
"""

from __future__ import annotations

from types import MappingProxyType

from ...abstract.values import Kind
from ...ir import primitives as P
from ...ir.nodes import Assign, Const
from ...optimize.typed import Replacement, Types
from .base import Backend
from .shared import AT, PORTABLE

# functions of the standard (2023.12) that NumPy spells the same way
STANDARD = frozenset(
    """abs acos acosh add all any arange argmax argmin argsort asarray asin asinh astype
    atan atan2 atanh broadcast_arrays broadcast_to ceil clip concat conj copysign cos cosh
    cumulative_sum divide empty empty_like equal exp expand_dims expm1 eye flip floor
    floor_divide full full_like greater greater_equal hypot imag isfinite isinf isnan
    less less_equal linspace log log10 log1p log2 logaddexp logical_and logical_not
    logical_or logical_xor matmul max maximum mean min minimum moveaxis multiply negative
    nonzero not_equal ones ones_like permute_dims positive pow prod real remainder repeat
    reshape roll round sign signbit sin sinh sort sqrt square squeeze stack std subtract
    sum take tan tanh tensordot tile trunc unique_values var vecdot where zeros
    zeros_like e inf nan pi newaxis""".split()
)


def explicit_ellipsis(stmt: Assign, types: Types) -> Replacement:
    """``xs[t]`` of a matrix as ``xs[t, ...]``: the standard indexes every axis explicitly
    (NumPy's implicit trailing slices are not in it)."""
    x = types.of(stmt.args[0])
    if x.kind is not Kind.ARRAY or x.shape is None:
        return None
    layout = stmt.param("index")
    if any(item[0] in ("ellipsis", "newaxis") for item in layout):
        return None
    used = sum(1 for item in layout if item[0] in ("at", "slice"))
    if used >= len(x.shape):
        return None
    index = (*layout, ("ellipsis",))
    params = tuple((k, index if k == "index" else v) for k, v in stmt.params)
    return (Assign(stmt.target, stmt.prim, stmt.args, params, stmt.loc),)


def masked_product(stmt: Assign, types: Types) -> Replacement:
    """``a * mask`` with a boolean array ``mask`` as ``np.where(mask, a, 0.0)``: the standard
    does no arithmetic on booleans (the adjoint of a maximum spreads over its ties so)."""
    a, b = stmt.args
    for mask, other in ((b, a), (a, b)):
        m, o = types.of(mask), types.of(other).dtype
        if m.kind is Kind.ARRAY and m.dtype is not None and m.dtype.kind == "b":
            if o is not None and o.kind == "b":
                return None
            where = (mask, other, Const(0.0))
            return (Assign(stmt.target, P.np_where, where, (), stmt.loc),)
    return None


BACKEND = Backend(
    name="array-api",
    library="",
    alias="xp",
    names=STANDARD,
    spellings=MappingProxyType(
        {
            "np.arccos": "xp.acos",
            "np.arcsin": "xp.asin",
            "np.arctan": "xp.atan",
            "np.arctan2": "xp.atan2",
            "np.arccosh": "xp.acosh",
            "np.arcsinh": "xp.asinh",
            "np.arctanh": "xp.atanh",
            "np.power": "xp.pow",
            "np.absolute": "xp.abs",
            "np.concatenate": "xp.concat",
            "np.amax": "xp.max",
            "np.amin": "xp.min",
        }
    ),
    helpers=MappingProxyType(
        {
            **PORTABLE,
            "np.outer": AT + "outer",
            "np.sum": AT + "array_sum",
            "np.transpose": AT + "transpose",
            "np.maximum": AT + "maximum",
            "np.minimum": AT + "minimum",
        }
    ),
    rewrites=MappingProxyType({P.getitem: explicit_ellipsis, P.mul: masked_product}),
    refusals=MappingProxyType(
        {
            "np.dot": "the standard has no dot; write @ (matmul) or np.tensordot",
        }
    ),
    array_modules=("array_api_strict",),
    install="symdiff[array-api]",
    notes="The namespace of the arguments, found at call time by array-api-compat.",
)
