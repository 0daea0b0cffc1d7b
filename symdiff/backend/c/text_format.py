"""clang-format over the generated C, for who wants its layout of long lines.

The C backend writes its code consistent by construction (four spaces, a brace style, one
statement per line); what it does not do is break a line past 100 columns (a long
prototype, an expression fused from many elementwise steps). ``clang_format`` runs the
``clang-format`` on the PATH with a style spelled out here, chosen so that it changes only
that: long lines are broken, tape structs are written one field per line, the rest stays
as written. The style is explicit so the output does not depend on a ``.clang-format``
file found near the working directory.
"""

from __future__ import annotations

import shutil
import subprocess

from .values import CBackendError

STYLE = (
    "{BasedOnStyle: LLVM, IndentWidth: 4, ColumnLimit: 100, BreakBeforeBraces: Linux, "
    "AllowShortFunctionsOnASingleLine: None, AllowShortIfStatementsOnASingleLine: Never, "
    "AllowShortLoopsOnASingleLine: false, AllowShortBlocksOnASingleLine: Never, "
    "PointerAlignment: Right, SortIncludes: Never, ReflowComments: false, "
    "SpaceBeforeParens: ControlStatements, AlignTrailingComments: false, "
    "MaxEmptyLinesToKeep: 2}"
)


def clang_format(text: str) -> str:
    """``text`` formatted by clang-format in ``STYLE``; a ``CBackendError`` without one."""
    exe = shutil.which("clang-format")
    if exe is None:
        raise CBackendError(
            "clang_format=True, but no clang-format is on the PATH",
            None,
            "install clang-format (for example apt-get install clang-format), or leave "
            "clang_format off: the C is written formatted already",
        )
    done = subprocess.run(
        [exe, f"--style={STYLE}", "--assume-filename=gradient.c"],
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        raise CBackendError(f"clang-format failed on the generated code:\n{done.stderr}")
    return done.stdout
