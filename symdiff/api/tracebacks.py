"""Short tracebacks for symdiff's own errors in IPython and Jupyter.

A ``SymdiffError`` already says where (file, line and a caret under the construct) and what
to write instead (the hint). IPython prints every frame above it, and the frames inside
symdiff (the transformation, the blame rule, the cache) push that message off the screen
without helping anyone but symdiff's developers. So, when symdiff is imported inside an
interactive IPython shell, it registers a display for ``SymdiffError`` with the shell's
``set_custom_exc``: the user's own frames (their cell, their modules), then the message.

Nothing is lost: the exception is kept as ``sys.last_value`` (as IPython's own display keeps
it), so ``%tb`` prints the whole traceback and ``%debug`` opens it. Nothing changes outside
an IPython shell: a script, the command line and plain Python show the usual traceback,
and importing symdiff never imports IPython. ``concise_errors(False)`` turns it off.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import traceback
from types import TracebackType
from typing import Any, Callable

from ..errors import SymdiffError

# frames from files under this folder, or from generated code, are symdiff's own
PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
GENERATED_PREFIX = "<symdiff"


def is_symdiff_frame(filename: str) -> bool:
    return filename.startswith(PACKAGE_DIR) or filename.startswith(GENERATED_PREFIX)


def concise_traceback(
    etype: type[BaseException],
    value: BaseException,
    tb: TracebackType | None,
    place: Callable[[str], str | None] = lambda filename: None,
    skip: int = 0,
) -> list[str]:
    """The lines shown for a ``SymdiffError``: the frames outside symdiff, then the error
    (whose message holds the file, line, caret and hint). ``place`` names a frame's file
    as the shell does (``Cell In[3]``), or returns None for the usual ``File "..."``;
    the first ``skip`` frames are the shell's own (the one running the cell)."""
    frames = traceback.extract_tb(tb)[skip:]
    frames = [f for f in frames if not is_symdiff_frame(f.filename)]
    lines = []
    if frames:
        lines.append("Traceback (symdiff's own frames are hidden; %tb shows them):")
    for f in frames:
        where = place(f.filename) or f'File "{f.filename}"'
        code = f"\n    {f.line.strip()}" if f.line else ""
        lines.append(f"  {where}, line {f.lineno}, in {f.name}{code}")
    lines.append(f"{etype.__name__}: {located(value, place)}")
    return lines


def located(value: BaseException, place: Callable[[str], str | None]) -> str:
    """The error's message, its place named as the shell names it: a function defined in a
    cell is at ``Cell In[3]:2:19``, not in the file the shell compiled the cell into."""
    loc = getattr(value, "loc", None)
    if isinstance(value, SymdiffError) and loc is not None:
        # the place's file is shown relative to the working directory when inside it
        cell = place(loc.file) or place(os.path.abspath(loc.file))
        if cell:
            return str(value.relocated(dataclasses.replace(loc, file=cell)))
    return str(value)


def cell_names(shell: Any) -> Callable[[str], str | None]:
    """How the shell names the file of a cell (IPython 8 and later: ``Cell In[3]``)."""
    name = getattr(getattr(shell, "compile", None), "format_code_name", None)

    def place(filename: str) -> str | None:
        try:
            found = name(filename) if name is not None else None
        except Exception:  # an older or different shell: the plain file name will do
            return None
        return " ".join(found) if isinstance(found, tuple) else None

    return place


def show_concise(
    shell: Any,
    etype: type[BaseException],
    value: BaseException,
    tb: TracebackType | None,
    tb_offset: int | None = None,
) -> list[str]:
    """The handler IPython calls for a ``SymdiffError`` (the signature ``set_custom_exc``
    asks for). It shows the lines itself, through the shell, so that a Jupyter kernel sends
    them as the cell's error; it keeps the exception where ``%tb`` and ``%debug`` look."""
    sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb
    if sys.version_info >= (3, 12):
        sys.last_exc = value
    if tb_offset is None:  # as IPython's own display: its frame running the cell is not shown
        tb_offset = getattr(getattr(shell, "InteractiveTB", None), "tb_offset", 0) or 0
    lines = concise_traceback(etype, value, tb, cell_names(shell), tb_offset)
    show = getattr(shell, "_showtraceback", None)  # IPython's hook for where errors go
    if show is not None:
        show(etype, value, lines)
    else:
        print("\n".join(lines), file=sys.stderr)
    return lines


def _shell(shell: Any) -> Any:
    """The running IPython shell, if IPython is already imported and one runs; else None."""
    if shell is not None:
        return shell
    ipython = sys.modules.get("IPython")  # never imported here: without it, nothing to do
    get = getattr(ipython, "get_ipython", None)
    return get() if get is not None else None


def _ours(shell: Any) -> bool:
    """The shell's custom exception display is this one (also from a reloaded symdiff)."""
    registered = tuple(getattr(shell, "custom_exceptions", ()) or ())
    return bool(registered) and all(
        getattr(c, "__module__", "") == SymdiffError.__module__
        and c.__qualname__ == SymdiffError.__qualname__
        for c in registered
    )


def concise_errors(enabled: bool = True, shell: Any = None) -> bool:
    """Show ``SymdiffError`` in IPython as its message and the user's frames (``enabled``),
    or with IPython's full traceback again (``enabled=False``). ``shell`` is the IPython
    shell; by default the running one. Returns whether the short display is now in effect.

    A custom exception display someone else registered on the shell is left alone."""
    shell = _shell(shell)
    if shell is None:
        return False
    registered = tuple(getattr(shell, "custom_exceptions", ()) or ())
    if registered and not _ours(shell):
        return False
    if enabled:
        shell.set_custom_exc((SymdiffError,), show_concise)
    elif registered:
        shell.set_custom_exc((), None)
    return enabled
