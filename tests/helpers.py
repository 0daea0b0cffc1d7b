"""Shared test tools: compare symdiff's gradient (and value) with the function itself."""

import numpy as np

from symdiff import check_grad, value_and_grad


def agrees(f, *args, wrt=0, **kw):
    """symdiff's value equals f's and its gradient passes the finite-difference check."""
    value, _ = value_and_grad(f, wrt=wrt)(*args)
    expected = f(*args)
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-12)
    return check_grad(f, *args, wrt=wrt, **kw)
