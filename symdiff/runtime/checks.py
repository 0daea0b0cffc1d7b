"""The checks a generated gradient makes on its function's result and arguments.

A gradient is only defined for a scalar result; summing an array silently would hide bugs,
so generated code refuses it here. Inside symdiff the error class is replaced by symdiff's
own (see ``backend.bindings``); an emitted module raises the plain ``ValueError``.
"""

import numpy as np


def ensure_scalar(value, name, error=ValueError):
    """Refuse a non-scalar result: its gradient is not defined, and summing it would hide bugs."""
    if np.ndim(value) != 0:
        raise error(
            f"{name} must return a scalar to be differentiated, but returned an array "
            f"of shape {np.shape(value)}"
        )
    return value


def scalar_checked(x, value, name, error=ValueError):
    """``x``, once ``value`` (what ``name`` returned) is known to be a scalar.

    A gradient checks its function's value before using it; when that gradient is
    differentiated again, the check travels with the derivative through this helper.
    """
    ensure_scalar(value, name, error)
    return x


def scalar_seed(x, name, error=ValueError):
    """The tangent 1.0 of a scalar argument: then one forward pass gives its derivative."""
    if np.ndim(x) != 0:
        raise error(
            f"{name} must be a scalar here: this derivative is computed in forward "
            f"mode, one input element at a time, but {name} has shape {np.shape(x)}; "
            "use symdiff.hessian or symdiff.jacobian(..., mode='fwd') for arrays"
        )
    return 1.0
