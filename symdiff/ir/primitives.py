"""The catalogue of primitives: every operation symdiff can lower, and how to find it.

``prims`` answers *what an operation is* (how it is written, evaluated, whether it
broadcasts); ``rules`` answers *what its derivative is*. Lowering resolves a call to the
Python object it names (``np.exp``, ``math.exp``, a ufunc imported under another name) and
looks that object up here, so aliases such as ``from numpy import exp`` need no special case.

The rows themselves live in ``ir.rows`` (one module per kind of operation) and call binding in
``ir.binding``; this module is the one callers import (``P.np_exp``, ``P.normalize``). It
re-exports every row, adds the tables that span several kinds of row, and freezes the
catalogue: it is built once, here, and read-only afterwards.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Callable, Mapping

import numpy as np

from .. import runtime
from .binding import dtype_name, normalize  # noqa: F401  (re-exported)
from .catalogue import lookup
from .nodes import Primitive
from .rows import containers, helpers, input_free, layout, linalg
from .rows.arithmetic import *  # noqa: F403
from .rows.build import CATALOGUE, HELPER_ROWS, REQUIRED  # noqa: F401  (REQUIRED re-exported)
from .rows.containers import *  # noqa: F403
from .rows.effects import *  # noqa: F403
from .rows.helpers import *  # noqa: F403
from .rows.indexing import *  # noqa: F403
from .rows.input_free import *  # noqa: F403
from .rows.layout import *  # noqa: F403
from .rows.linalg import *  # noqa: F403
from .rows.methods import *  # noqa: F403
from .rows.reductions import *  # noqa: F403
from .ruleset import USER_RULES


def _pieces(params: dict) -> int | None:
    sections = params.get("indices_or_sections")
    if isinstance(sections, (int, np.integer)) and not isinstance(sections, bool):
        return int(sections)
    if isinstance(sections, (tuple, list, np.ndarray)):
        return len(sections) + 1
    return None


# ----------------------------------------------------------------------------- several results
# primitive -> the number of its results, from its static parameters (None: not known,
# 0: this call returns a single array)
MULTI_OUTPUT: dict[Primitive, Callable[[dict], int | None]] = {
    linalg.la_slogdet: lambda params: 2,
    linalg.la_eigh: lambda params: 2,
    linalg.la_svd: lambda params: 3 if params.get("compute_uv", True) else 0,  # 0: one array
    **dict.fromkeys(
        (layout.np_split, layout.np_array_split, layout.np_hsplit, layout.np_vsplit,
         layout.np_dsplit),
        _pieces,
    ),
    input_free.np_triu_indices: lambda params: 2,
    input_free.np_tril_indices: lambda params: 2,
    input_free.np_triu_indices_from: lambda params: 2,
    input_free.np_tril_indices_from: lambda params: 2,
    input_free.np_diag_indices: lambda params: params.get("ndim", 2),
}  # fmt: skip

# helpers symdiff writes into gradients; a user calling one of them gets no special meaning
INTERNAL_ONLY = frozenset(
    {
        helpers.unbroadcast,
        helpers.sum_to,
        helpers.matmul_grad_a,
        helpers.matmul_grad_b,
        helpers.unconcat,
        helpers.index_grad,
        containers.unstack,
        containers.sum_list_grad,
    }
)

# ----------------------------------------------------------------------------- the frozen catalogue
ALL, BY_OBJECT = CATALOGUE.freeze()  # name -> primitive, Python object -> primitive
HELPERS: tuple[Primitive, ...] = tuple(HELPER_ROWS)
_BY_IMPL: Mapping[Any, Primitive] = MappingProxyType(
    {**{p.impl: p for p in HELPERS}, runtime.index_grad: helpers.index_grad}
)


def resolve(obj: Any) -> Primitive | None:
    """The primitive a Python object stands for (built in, or declared by the user), or None."""
    return lookup(BY_OBJECT, obj) or USER_RULES.primitive_for(obj)


def named(name: str) -> Primitive | None:
    """The primitive of a name (``np.exp``, or a declared function's spelling), or None."""
    return ALL.get(name) or USER_RULES.named(name)


def helper_for(impl: Any) -> Primitive | None:
    """The helper primitive whose implementation is ``impl`` (a generated gradient read back)."""
    return lookup(_BY_IMPL, impl)
