"""Adjoints of Python lists that a loop builds with ``append``: the adjoint of a list is a
list, one array per item, so these helpers make, split and add such lists.
"""

import numpy as np

from .broadcasting import unbroadcast


def unstack(g, axis=0):
    """The adjoint of a list stacked along ``axis``: one slice of ``g`` per item."""
    return list(np.moveaxis(g, axis, 0))


def sum_list_grad(g, items):
    """The adjoint of ``sum(items)``: ``g`` for every item, summed back to its shape."""
    return [unbroadcast(g, x) for x in items]


def zeros_like_list(items):
    """A zero adjoint for a list: one zero array per item."""
    return [np.zeros_like(x, dtype=float) for x in items]


def add_lists(a, b):
    """Two adjoints of the same list, added item by item."""
    return [x + y for x, y in zip(a, b)]
