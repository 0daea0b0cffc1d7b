"""The rows of the primitive catalogue, one module per kind of operation.

Import them through ``symdiff.ir.primitives``, which re-exports every row and freezes the
catalogue. The imports below fix the order in which the rows are registered (the order of
``ALL``, ``BY_OBJECT`` and ``HELPERS``): Python runs this file before any module of the
package, so the order is the same whichever row module is imported first.
"""

# isort: off
from . import arithmetic  # noqa: F401
from . import reductions  # noqa: F401
from . import linalg  # noqa: F401
from . import layout  # noqa: F401
from . import indexing  # noqa: F401
from . import helpers  # noqa: F401
from . import methods  # noqa: F401
from . import containers  # noqa: F401
from . import input_free  # noqa: F401
from . import effects  # noqa: F401

# isort: on
