"""PyTorch: tensors in, tensors out, with ``torch`` spellings (``dim=``, ``keepdim=``).

Where a NumPy name exists in ``torch`` with another meaning the backend refuses it rather
than write a silent mistake: ``torch.std`` is the unbiased estimate where ``np.std`` is not,
``torch.max(x, dim)`` returns a pair, ``torch.split`` takes section sizes.
"""

from __future__ import annotations

from types import MappingProxyType

from ...ir import primitives as P
from ...ir.nodes import Assign
from ...optimize.typed import Replacement, Types
from .base import Backend
from .shared import AT, PORTABLE


def size_call(stmt: Assign, types: Types) -> Replacement:
    """``x.size`` is a method of a tensor: the number of elements is read with the
    portable ``np.size`` helper instead (kept as it is, never turned into the attribute)."""
    if stmt.prim is P.size_attr:
        return (Assign(stmt.target, P.np_size, stmt.args, (), stmt.loc),)
    return None


_DIFFERENT = "torch's function of that name means something else"

BACKEND = Backend(
    name="torch",
    library="torch",
    alias="torch",
    spellings=MappingProxyType(
        {
            "np.max": "torch.amax",
            "np.min": "torch.amin",
            "np.amax": "torch.amax",
            "np.amin": "torch.amin",
            "np.power": "torch.pow",
            "np.concatenate": "torch.cat",
            "np.expand_dims": "torch.unsqueeze",
        }
    ),
    keywords=MappingProxyType({"axis": "dim", "keepdims": "keepdim"}),
    requires=MappingProxyType({"keepdims": "axis"}),
    helpers=MappingProxyType(
        {
            **{k: v for k, v in PORTABLE.items() if k != "np.broadcast_shapes"},
            # torch.transpose swaps two given axes; torch.maximum takes tensors only
            "np.transpose": AT + "transpose",
            "np.maximum": AT + "maximum",
            "np.minimum": AT + "minimum",
        }
    ),
    refusals=MappingProxyType(
        {
            f"np.{name}": _DIFFERENT
            for name in (
                "std",
                "var",
                "dot",
                "split",
                "sort",
                "flip",
                "roll",
                "take",
                "tensordot",
                "median",
                "unique",
                "repeat",
            )
        }
    ),
    rewrites=MappingProxyType({P.size_attr: size_call, P.np_size: size_call}),
    array_modules=("torch",),
    install="symdiff[torch]",
    notes="torch functions with dim=/keepdim=; on the device of the arguments.",
)
