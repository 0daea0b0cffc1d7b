"""PyTorch: tensors in, tensors out, with ``torch`` spellings (``dim=``, ``keepdim=``).

Where a NumPy name exists in ``torch`` with another meaning the backend refuses it rather
than write a silent mistake: ``torch.std`` is the unbiased estimate where ``np.std`` is not,
``torch.max(x, dim)`` returns a pair, ``torch.split`` takes section sizes.
"""

from __future__ import annotations

from types import MappingProxyType

from .base import Backend
from .shared import AT, PORTABLE

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
    array_modules=("torch",),
    install="symdiff[torch]",
    notes="torch functions with dim=/keepdim=; on the device of the arguments.",
)
