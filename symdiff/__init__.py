"""symdiff: gradients of Python functions, written out as readable Python source.

The package reads as its pipeline, one folder per stage: ``frontend`` (source → fence →
lower) → ``ir`` → ``abstract`` (types and shapes) → ``ad`` (reverse and forward rules) →
``optimize`` (algebra) → ``backend`` (emit → format → compile), with ``runtime`` holding the
few helpers generated code may call. ``pipeline`` runs the stages; ``api`` wraps them.
"""

from .api.c import CCode, CGradient, c_grad, emit_c  # noqa: E402
from .api.check import CheckReport, check_grad  # noqa: E402
from .api.custom import CustomRule, defrule, undefrule  # noqa: E402
from .api.export import emit  # noqa: E402
from .api.gradient import GradientFunction, grad, gradient_source, value_and_grad  # noqa: E402
from .api.graph import Graph, graph  # noqa: E402  (the function shadows the submodule's name)
from .api.higher import hessian, hvp, jacobian, jvp, vjp  # noqa: E402
from .api.symbolic import Symbolic, symbolic  # noqa: E402  (SymPy loads on first use)
from .api.tracebacks import concise_errors  # noqa: E402
from .backend.c import CBackendError  # noqa: E402
from .errors import (
    BackendError,
    GradientCheckError,
    InputError,
    InternalError,
    NonDifferentiableError,
    NonScalarOutputError,
    SourceUnavailableError,
    SymdiffError,
    UndefinedNameError,
    UnsupportedFunctionError,
    UnsupportedSyntaxError,
    WrtError,
)
from .frontend.source import from_source  # noqa: E402
from .pipeline import transform  # noqa: E402
from .runtime.markers import stop_gradient  # noqa: E402
from .version import __version__ as __version__

# inside an interactive IPython shell only: SymdiffError shown as its message, not symdiff's
# frames (see api.tracebacks); anywhere else this does nothing
concise_errors()

__all__ = [
    "grad",
    "value_and_grad",
    "gradient_source",
    "check_grad",
    "CheckReport",
    "defrule",
    "undefrule",
    "CustomRule",
    "from_source",
    "symbolic",
    "Symbolic",
    "transform",
    "stop_gradient",
    "emit",
    "emit_c",
    "c_grad",
    "CCode",
    "CGradient",
    "CBackendError",
    "graph",
    "Graph",
    "jvp",
    "vjp",
    "jacobian",
    "hessian",
    "hvp",
    "GradientFunction",
    "concise_errors",
    "SymdiffError",
    "SourceUnavailableError",
    "UnsupportedSyntaxError",
    "UndefinedNameError",
    "UnsupportedFunctionError",
    "NonDifferentiableError",
    "NonScalarOutputError",
    "WrtError",
    "BackendError",
    "InputError",
    "GradientCheckError",
    "InternalError",
]
