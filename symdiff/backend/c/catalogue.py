"""Which primitives the C backend writes, by how it writes them.

One table per way of computing a value, so that what the backend covers is read in one
place and a primitive outside all of them is refused by name before any code is written.
"""

from __future__ import annotations

from .expressions import ELEMENTWISE

# rearrange (or repeat) their first argument's elements: read through, never copied
LAYOUT = frozenset(
    {"np.reshape", "np.ravel", "np.expand_dims", "np.squeeze", "np.copy", "np.asarray",
     "np.array:copy", "np.atleast_1d", "np.atleast_2d", "scalar_checked"}
)  # fmt: skip
PERMUTE = frozenset({"T", "np.transpose"})
VIEWS = LAYOUT | PERMUTE | {"getitem", "np.broadcast_to", "tuple_item"}
FILLS = {"np.zeros_like": 0.0, "np.zeros": 0.0, "np.ones_like": 1.0, "np.ones": 1.0}
FILLED = {"np.full": 1, "np.full_like": 1}  # the argument holding the fill value
# each element of the result is an expression of the operands' elements
ELEMENT = (
    frozenset(ELEMENTWISE) | VIEWS | frozenset(FILLS) | frozenset(FILLED)
    | {"np.outer", "np.eye", "np.identity"}
)  # fmt: skip
REDUCE = frozenset({"np.sum", "np.mean", "np.max", "np.min", "sum_to", "unbroadcast"})
CONTRACT = frozenset({"matmul", "np.matmul", "np.dot", "np.inner", "np.vdot"})
UPDATES = {"setitem": "=", "index_add": "+="}  # y[i] = v, np.add.at(y, i, v)
WRITTEN = ELEMENT | REDUCE | CONTRACT | set(UPDATES) | {"index_grad", "new_tape", "tuple"}
