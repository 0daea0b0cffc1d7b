"""Compiling generated C in tests: the strict warning flags, a skip when there is no
compiler, the comparison with symdiff's NumPy gradient, and a C driver program for runs
outside Python (AddressSanitizer, the embedding example)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

import symdiff
from symdiff.api.c import CCode

CC = shutil.which("cc")
needs_cc = pytest.mark.skipif(CC is None, reason="no C compiler (cc) on this machine")
STRICT = ("-Wall", "-Wextra", "-Werror")
TOL = 1e-12


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Compiled libraries go to a folder of the test session, not the user's cache."""
    monkeypatch.setenv("SYMDIFF_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "c-cache"))


def as_tuple(g: Any, wrt: Any) -> tuple:
    return tuple(g) if isinstance(wrt, (tuple, list)) else (g,)


def agree(got: tuple, ref: tuple) -> bool:
    """Every gradient equal to the NumPy one to 1e-12 (relative, or absolute near 0)."""
    for a, b in zip(got, ref, strict=True):
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        if a.shape != b.shape or not np.allclose(a, b, rtol=TOL, atol=TOL, equal_nan=True):
            return False
    return True


def compare(f: Callable[..., Any], *args: Any, wrt: Any = 0) -> tuple[tuple, tuple]:
    """The C gradient (compiled with the strict flags) and the NumPy one, as tuples."""
    got = symdiff.c_grad(f, *args, wrt=wrt, cflags=STRICT)(*args)
    ref = symdiff.grad(f, wrt=wrt)(*args)
    return as_tuple(got, wrt), as_tuple(ref, wrt)


def driver(code: CCode, args: tuple) -> str:
    """A C program calling ``<name>_value_and_grad`` on ``args`` (written as literals) and
    printing the value and every gradient element, one per line, with 17 digits."""
    fn = code.emitted.value_and_grad
    lines = ["#include <stdio.h>", f'#include "{code.name}.h"', "", "int main(void)", "{"]
    call = []
    inputs = iter(args)
    for p in fn.params:
        if p.role == "in":
            a = next(inputs)
            if p.ctype.scalar:
                call.append(repr(int(a)) if p.ctype.base == "long" else repr(float(a)))
            else:
                values = ", ".join(repr(float(v)) for v in np.ravel(a))
                lines.append(f"    static const double {p.name}[{p.ctype.size}] = {{{values}}};")
                call.append(p.name)
        else:
            lines.append(f"    double {p.name}[{max(p.ctype.size, 1)}];")
            call.append(p.name)
    lines.append(f"    int status = {fn.name}({', '.join(call)});")
    lines.append("    if (status != 0) {\n        return status;\n    }")
    for p in fn.params:
        if p.role == "out":
            n = max(p.ctype.size, 1)
            lines.append(
                f'    for (int i = 0; i < {n}; i++) {{\n        printf("%.17g\\n", {p.name}[i]);\n    }}'
            )
    lines += ["    return 0;", "}", ""]
    return "\n".join(lines)


def build_and_run(
    code: CCode, args: tuple, folder: Path, flags: tuple[str, ...] = ()
) -> list[float]:
    """Compile the generated code with a driver (``driver``) and run it: value, gradients."""
    assert CC is not None
    code.write(folder)
    (folder / "main.c").write_text(driver(code, args))
    exe = folder / "main"
    cmd = [CC, "-std=c99", "-O2", *STRICT, *flags, "-o", str(exe), str(folder / "main.c"),
           str(folder / f"{code.name}.c"), "-lm"]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return [float(x) for x in run.stdout.split()]
