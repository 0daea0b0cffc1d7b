"""Rows whose results are constants with respect to the inputs: index functions, type tests, draws.

Their derivative is zero, so they need no rule; what the lowering must still check is named
here (``UNIQUE_NEEDS_CONSTANT``, ``RANDOM``).
"""

from __future__ import annotations

import builtins

import numpy as np

from ..nodes import Primitive
from .build import call

# ----------------------------------------------------------------------------- constants wrt inputs
# Results that cannot change when the inputs change a little: integer indices, type tests and
# random draws. Their derivative is zero, so no rule is needed; the lowering checks that what
# they read is itself constant where that matters (``UNIQUE_NEEDS_CONSTANT``, ``RANDOM``).
b_isinstance = call(
    "isinstance", builtins.isinstance, nargs=2, returns_scalar=True, differentiable=False
)
np_triu_indices = call(
    "np.triu_indices", np.triu_indices, defaults=(("k", 0), ("m", None)), differentiable=False
)
np_tril_indices = call(
    "np.tril_indices", np.tril_indices, defaults=(("k", 0), ("m", None)), differentiable=False
)
np_triu_indices_from = call(
    "np.triu_indices_from", np.triu_indices_from, defaults=(("k", 0),), differentiable=False
)
np_tril_indices_from = call(
    "np.tril_indices_from", np.tril_indices_from, defaults=(("k", 0),), differentiable=False
)
np_diag_indices = call(
    "np.diag_indices", np.diag_indices, defaults=(("ndim", 2),), differentiable=False
)
# np.unique of computed values would be a selection of them (with a gradient); symdiff takes
# it only on values that do not depend on the inputs (index lists), where it is a constant
np_unique = call("np.unique", np.unique, differentiable=False)
UNIQUE_NEEDS_CONSTANT = frozenset({np_unique})


def _random(name: str) -> Primitive:
    """A draw from NumPy's global generator: every positional argument is an array input
    (the lowering checks that none depends on the function's inputs), keywords are static."""
    return call(f"np.random.{name}", getattr(np.random, name), nargs=-1, differentiable=False)


# drawn at run time, once per call, as the function itself draws them (docs/numpy.md)
RANDOM = frozenset(
    _random(name)
    for name in (
        "normal", "standard_normal", "uniform", "rand", "randn", "randint", "random",
        "random_sample", "exponential", "standard_exponential", "poisson", "binomial",
        "gamma", "standard_gamma", "beta", "laplace", "logistic", "lognormal", "choice",
        "permutation",
    )
)  # fmt: skip
