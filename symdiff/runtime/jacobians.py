"""Jacobians and Hessians, assembled from derivative programs one unit direction at a time.

``symdiff.jacobian`` and ``symdiff.hessian`` call these drivers in process, and emitted
modules carry a copy of them, so both build the matrix in the same way and the same order.
"""

import numpy as np


def _unit(shape, dtype, k=None):
    """Zeros of ``shape`` (a NumPy scalar for ``()``), with a 1 at flat index ``k``."""
    e = np.zeros(shape, dtype=dtype)
    if k is not None:
        e.flat[k] = 1.0
    return e if e.ndim else e[()]


def _float_dtype(x):
    return x.dtype if type(x) is np.ndarray and x.dtype.kind == "f" else np.dtype(np.float64)


def zero_directions(inputs):
    """One zero direction per input, shaped and typed like it (a NumPy scalar for a scalar):
    a tangent program run along them computes the value alone."""
    return [_unit(np.shape(x), _float_dtype(x)) for x in inputs]


def _block(items, axis, full):
    if not items:
        return np.zeros(full)
    block = np.reshape(np.stack(items, axis=axis), full)
    return block if block.ndim else block[()]


def jacobian_columns(tangent, inputs, shape):
    """Forward mode: ``tangent(*directions)`` is J·directions; one call per input element
    gives one column. Returns a block of shape ``shape + x.shape`` per ``x`` in ``inputs``."""
    zeros = [_unit(np.shape(x), _float_dtype(x)) for x in inputs]
    blocks = []
    for j, x in enumerate(inputs):
        columns = []
        for k in range(np.size(x)):
            directions = list(zeros)
            directions[j] = _unit(np.shape(x), _float_dtype(x), k)
            columns.append(np.asarray(tangent(*directions), dtype=float))
        blocks.append(_block(columns, -1, tuple(shape) + np.shape(x)))
    return tuple(blocks)


def jacobian_rows(pullback, inputs, shape):
    """Reverse mode: ``pullback(cotangent)`` is cotangent·J (one array per input, or the
    array itself for one input); one call per output element gives one row."""
    rows = [[] for _ in inputs]
    for i in range(int(np.prod(shape, dtype=np.int64))):
        grads = pullback(_unit(tuple(shape), np.float64, i))
        for j, g in enumerate((grads,) if len(inputs) == 1 else grads):
            rows[j].append(np.asarray(g, dtype=float))
    return tuple(_block(r, 0, tuple(shape) + np.shape(x)) for x, r in zip(inputs, rows))
