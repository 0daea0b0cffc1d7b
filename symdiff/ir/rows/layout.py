"""Rows for shape and layout, joins and splits, and arrays made from a shape.

Many of these return a view of their input (``Effect.VIEW``), which the emitter must never
update in place; the joins take a list of arrays (``Form.LISTCALL``).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..nodes import Effect, Form, Primitive
from .build import REQUIRED, call, register

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
np_concatenate = register(
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
np_stack = register(
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
    return register(
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
    register(np_vstack, np.row_stack)
np_hstack = _joiner("np.hstack", np.hstack)
np_dstack = _joiner("np.dstack", np.dstack)
np_column_stack = _joiner("np.column_stack", np.column_stack)
np_array = register(
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
np_array_of = register(
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
    return register(
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
