"""Rows for values that hold other values: tuples of several results, tapes, lists, packing.

A function with several results is one primitive whose value is a tuple (read with
``tuple_item``); lists built in a loop are runtime Python lists whose adjoint is a list too.
"""

from __future__ import annotations

import builtins

import numpy as np

from ... import runtime
from ..nodes import Effect, Form, Primitive
from .build import helper, register
from .indexing import getitem_value
from .layout import np_array, np_stack

# ----------------------------------------------------------------------------- several results
# A function with several results (w, v = np.linalg.eigh(a)) is one primitive whose value is
# a tuple; the lowering reads its items at once with ``tuple_item`` (``t[0]``, ``t[1]``). The
# adjoint of the tuple is a tuple built from the items' adjoints (None for an unused item).
tuple_item = register(
    Primitive(
        "tuple_item",
        Form.GETITEM,
        "[]",
        getitem_value,
        nargs=-1,
        defaults=(("index", ()),),
        effect=Effect.VIEW,
    )
)


# a comparison's mask as numbers (fast, and fine for Python bools too)
as_float = register(
    Primitive(
        "as_float", Form.CALL, "np.asarray", lambda m, dtype=float: np.asarray(m, dtype=dtype),
        defaults=(("dtype", None),), differentiable=False,
    )
)  # fmt: skip

# ----------------------------------------------------------------------------- tapes
new_tape = register(Primitive("new_tape", Form.NEWLIST, "[]", list, nargs=0, differentiable=False))

# ----------------------------------------------------------------------------- lists
# Lists built in a loop (xs.append(v)) are runtime Python lists; their adjoint is a list too.
make_list = register(
    Primitive("list", Form.LIST, "[]", lambda *xs: list(xs), nargs=-1, effect=Effect.FRESH)
)
list_append = register(
    Primitive(
        "list_append", Form.APPEND, "append", lambda xs, v: [*xs, v], nargs=2, effect=Effect.UPDATE
    )
)
np_stack_list = register(
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
np_array_list = register(
    Primitive("np.array:list", Form.CALL, "np.array", np.array, nargs=1, effect=Effect.FRESH)
)
sum_list = register(Primitive("sum", Form.CALL, "sum", builtins.sum, nargs=1))
unstack = helper(runtime.unstack, 1, defaults=(("axis", 0),), effect=Effect.FRESH)
sum_list_grad = helper(runtime.sum_list_grad, 2, effect=Effect.FRESH)
zeros_like_list = helper(runtime.zeros_like_list, 1, differentiable=False, effect=Effect.FRESH)
add_lists = helper(runtime.add_lists, 2)
LIST_MAKERS = frozenset({make_list, list_append})
LIST_CONSUMERS = {np_stack: np_stack_list, np_array: np_array_list}

# ----------------------------------------------------------------------------- packing
make_tuple = register(Primitive("tuple", Form.TUPLE, "()", lambda *xs: tuple(xs), nargs=-1))
