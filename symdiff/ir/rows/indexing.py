"""Rows for indexing: ``x[i]``, its in-place forms, and the attributes ``shape``/``size``/``ndim``/``T``.

An index is stored as a static layout plus the atoms it reads; ``rebuild_index`` turns the
two back into the object Python indexes with, for every indexing row here and elsewhere.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nodes import Effect, Form, Primitive
from .build import register


# ----------------------------------------------------------------------------- indexing
def rebuild_index(args: tuple, layout: tuple) -> Any:
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


def getitem_value(x: Any, *idx: Any, index: tuple) -> Any:
    return x[rebuild_index(idx, index)]


def _setitem(x: Any, v: Any, *idx: Any, index: tuple) -> Any:
    out = np.array(x, dtype=np.result_type(x, v))
    out[rebuild_index(idx, index)] = v
    return out


getitem = register(
    Primitive(
        "getitem",
        Form.GETITEM,
        "[]",
        getitem_value,
        nargs=-1,
        defaults=(("index", ()),),
        effect=Effect.VIEW,
    )
)


def _index_add(acc: Any, g: Any, *idx: Any, index: tuple) -> Any:
    out = np.array(acc, dtype=np.result_type(acc, g))
    np.add.at(out, rebuild_index(idx, index), g)
    return out


# acc with g added at an index: how a loop accumulates the adjoint of x[i] (in place)
index_add = register(
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
setitem = register(
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
shape_attr = register(Primitive("shape", Form.ATTR, "shape", np.shape, differentiable=False))
size_attr = register(Primitive("size", Form.ATTR, "size", np.size, differentiable=False))
ndim_attr = register(Primitive("ndim", Form.ATTR, "ndim", np.ndim, differentiable=False))
T_attr = register(Primitive("T", Form.ATTR, "T", np.transpose, linear=True, effect=Effect.VIEW))
