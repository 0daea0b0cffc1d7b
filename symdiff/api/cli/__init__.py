"""The ``symdiff`` command: show, emit, check and draw gradients of functions in files.

Functions are named ``FILE.py:FUNC``. A file can declare, by three module-level names, what
the commands need beyond the function itself (see docs/cli.md):

- ``example_<FUNC>()`` returns a tuple of arguments to call ``FUNC`` with (``check``, ``demo``);
  a bare ``FILE.py`` means every function that has one;
- ``WRT = {"FUNC": ("W", "b")}`` gives the default ``wrt`` of each function (else argument 0);
- ``<FUNC>_hand_grad`` is a hand-written gradient, returning what ``grad(FUNC, wrt=...)``
  returns, which ``demo`` compares and times against the generated one.

Exit status: 0 success, 1 a gradient check failed (or ``regenerate --check`` found drift),
2 an error in the input (printed as symdiff's located message), 3 a bug in symdiff.
"""

from .commands import output_path, run_check
from .parser import build_parser, main
from .regenerate import REFRESH, regenerate
from .targets import CommandError, Target, example_files, parse_wrt, resolve

__all__ = [
    "REFRESH",
    "CommandError",
    "Target",
    "build_parser",
    "example_files",
    "main",
    "output_path",
    "parse_wrt",
    "regenerate",
    "resolve",
    "run_check",
]
