"""Rows for the attributes ``x.real``/``x.imag``, and the tables of attributes and methods.

``x.sum(axis=0)`` lowers to the same primitive as ``np.sum(x, axis=0)``: ``METHODS`` says which,
``ATTRIBUTES`` does the same for ``x.T`` and its kin.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

import numpy as np

from ..nodes import Effect, Form, Primitive
from .arithmetic import np_clip, np_conj, np_round
from .build import register
from .indexing import T_attr, ndim_attr, shape_attr, size_attr
from .layout import (
    np_array_of,
    np_copy,
    np_ravel,
    np_repeat,
    np_reshape,
    np_squeeze,
    np_swapaxes,
    np_take,
    np_transpose,
)
from .linalg import np_diagonal, np_dot, np_trace
from .reductions import (
    np_all,
    np_any,
    np_argmax,
    np_argmin,
    np_argsort,
    np_cumprod,
    np_cumsum,
    np_max,
    np_mean,
    np_min,
    np_nonzero,
    np_prod,
    np_std,
    np_sum,
    np_var,
)

real_attr = register(Primitive("real", Form.ATTR, "real", np.real, linear=True, effect=Effect.VIEW))
imag_attr = register(Primitive("imag", Form.ATTR, "imag", np.imag, differentiable=False))

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
