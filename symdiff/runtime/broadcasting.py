"""Undoing broadcasting: the sums that bring an adjoint back to its operand's shape.

Nearly every adjoint of a NumPy operation that broadcasts passes through ``unbroadcast``, so
the other runtime modules import it from here; it is kept cheap for the common case where no
axis was added.
"""

import numpy as np


def unbroadcast(g, x):
    """Sum ``g`` over the axes that broadcasting added, so that it takes the shape of ``x``."""
    shape = x.shape if type(x) is np.ndarray else np.shape(x)
    if (g.shape if type(g) is np.ndarray else np.shape(g)) == shape:
        return g  # the common case, kept cheap
    return sum_to(g, shape)


def sum_to(g, shape):
    """``g`` summed over the axes that broadcasting added, down to ``shape``: unbroadcast for
    a value whose shape is known but which was never computed."""
    if np.shape(g) == shape:
        return g
    lead = np.ndim(g) - len(shape)
    if lead:
        g = np.sum(g, axis=tuple(range(lead)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and np.shape(g)[i] != 1)
    if axes:
        g = np.sum(g, axis=axes, keepdims=True)
    return g
