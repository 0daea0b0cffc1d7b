"""Rows for reductions and scans: sums, means, extrema, orderings and cumulative operations.

Their static parameters (``axis``, ``keepdims``, ``dtype``) follow NumPy's own order, so
positional arguments bind as NumPy binds them (see ``ir.binding``).
"""

from __future__ import annotations

import numpy as np

from ..nodes import Form, Primitive
from .build import AXES, REDUCE, REQUIRED, call, register

# ----------------------------------------------------------------------------- numpy: reductions
np_sum = call("np.sum", np.sum, defaults=REDUCE, linear=True)
np_mean = call("np.mean", np.mean, defaults=REDUCE, linear=True)
np_average = call("np.average", np.average, defaults=AXES, linear=True)
# np.average(a, axis, weights): all three are arrays here, so that positions stay NumPy's
np_average_weighted = register(
    Primitive(
        "np.average:weighted",
        Form.CALL,
        "np.average",
        np.average,
        nargs=3,
        defaults=(("keepdims", False),),
    )
)
np_prod = call("np.prod", np.prod, defaults=REDUCE)
np_var = call("np.var", np.var, defaults=REDUCE + (("ddof", 0),))
np_std = call("np.std", np.std, defaults=REDUCE + (("ddof", 0),))
np_max = call("np.max", np.max, np.amax, defaults=AXES)
np_min = call("np.min", np.min, np.amin, defaults=AXES)
np_ptp = call("np.ptp", np.ptp, defaults=AXES)
np_median = call("np.median", np.median, defaults=AXES)
np_cumsum = call("np.cumsum", np.cumsum, defaults=(("axis", None), ("dtype", None)), linear=True)
np_cumprod = call("np.cumprod", np.cumprod, defaults=(("axis", None), ("dtype", None)))
np_diff = call("np.diff", np.diff, defaults=(("n", 1), ("axis", -1)), linear=True)
np_sort = call("np.sort", np.sort, defaults=(("axis", -1), ("kind", None)))
np_partition = call("np.partition", np.partition, defaults=(("kth", REQUIRED), ("axis", -1)))
np_argmax = call("np.argmax", np.argmax, defaults=(("axis", None),), differentiable=False)
np_argmin = call("np.argmin", np.argmin, defaults=(("axis", None),), differentiable=False)
np_argsort = call("np.argsort", np.argsort, differentiable=False)
np_nonzero = call("np.nonzero", np.nonzero, differentiable=False)
np_flatnonzero = call("np.flatnonzero", np.flatnonzero, differentiable=False)
np_count_nonzero = call("np.count_nonzero", np.count_nonzero, differentiable=False)
np_searchsorted = call("np.searchsorted", np.searchsorted, nargs=2, differentiable=False)
np_all = call("np.all", np.all, differentiable=False)
np_any = call("np.any", np.any, differentiable=False)
