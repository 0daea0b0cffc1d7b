"""Gradients in C: ``emit_c`` writes them, ``c_grad`` compiles and calls them in process.

``emit_c(f, *args, wrt=...)`` runs the pipeline specialised to the arguments' abstract
types (as ``grad`` does) and hands the program to ``backend.c`` with their exact types, so
every size is a constant of the C code. ``c_grad(f, *args, wrt=...)`` compiles that code
with the system's C compiler into a shared library, cached on disk by a hash of the source
and the compiler command (``SYMDIFF_CACHE_DIR``, else the user's cache directory), and calls
it through ctypes. A call with arguments of other shapes compiles (or finds) another
library: C code is written for one set of sizes.

The hook for ``grad(f, backend="c")``: ``c_grad(f, wrt=...)`` with no arguments is the
same callable, compiling on first use, so a ``backend`` switch elsewhere only has to
return it.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..abstract.values import AbstractValue, of
from ..backend.c import DEFAULT_MAX_STEPS, TAPE_FULL, CBackendError, CEmitted, CFunction
from ..backend.c import emit_c as emit_program
from ..errors import InputError, InternalError, SymdiffError
from ..frontend.source import get_source, origin
from ..pipeline import ir_text, transform
from .wrt import Wrt

# -fno-math-errno: math.h functions need not set errno, which the generated code never reads,
# so the compiler may hoist sin(x) out of a loop that does not change x (results unchanged)
CFLAGS = ("-std=c99", "-O2", "-fno-math-errno", "-shared", "-fPIC")


@dataclass(frozen=True)
class CCode:
    """The generated C: ``header`` and ``source`` text, and ``write`` to put them in files."""

    emitted: CEmitted

    @property
    def header(self) -> str:
        return self.emitted.header

    @property
    def source(self) -> str:
        return self.emitted.source

    @property
    def name(self) -> str:
        return self.emitted.name

    def write(self, directory: str | os.PathLike[str]) -> tuple[Path, Path]:
        """Write ``<name>.h`` and ``<name>.c`` into ``directory``; returns their paths."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        h, c = out / f"{self.name}.h", out / f"{self.name}.c"
        h.write_text(self.header)
        c.write_text(f'#include "{self.name}.h"\n' + self.source)
        return h, c


def emit_c(
    f: Callable[..., Any],
    *args: Any,
    wrt: Wrt = 0,
    name: str | None = None,
    max_steps: int = DEFAULT_MAX_STEPS,
) -> CCode:
    """The C99 gradient of ``f`` for arguments shaped like ``args`` (every positional
    argument, as values or ``AbstractValue``s with exact shapes).

    ``name`` is the base of the function names (``<name>_grad``, ``<name>_value_and_grad``;
    default: ``f``'s name). ``max_steps`` bounds the iterations of a ``while`` loop (or of a
    loop with run-time bounds) whose values the gradient stores: a longer run returns
    ``SYMDIFF_TAPE_FULL``. What the C backend does not write is refused now, at its line,
    with a ``CBackendError``.
    """
    exact = tuple(a if isinstance(a, AbstractValue) else of(a) for a in args)
    t = transform(f, wrt, args=exact, stacked=False)  # C loops need no stacked products
    try:
        emitted = emit_program(t.program, exact, origin(get_source(f)), name, max_steps)
    except SymdiffError:
        raise
    except Exception as exc:  # the C backend's own fault, never the user's
        raise InternalError(
            f"{type(exc).__name__} while writing C for {t.source.name}: {exc}",
            ir=ir_text(t.function),
            source=t.grad_source,
        ) from exc
    return CCode(emitted)


# ----------------------------------------------------------------------------- compiling


def compiler() -> str:
    """The C compiler: ``$CC``, else ``cc``, ``gcc`` or ``clang`` on the PATH."""
    for cand in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if cand and shutil.which(cand):
            return cand
    raise CBackendError(
        "no C compiler found (tried $CC, cc, gcc, clang)",
        None,
        "install one (for example gcc), or set CC; symdiff.emit_c writes the C without one",
    )


def cache_dir() -> Path:
    """Where compiled gradients are kept: ``$SYMDIFF_CACHE_DIR``, else the user cache."""
    env = os.environ.get("SYMDIFF_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "symdiff" / "c"


def build(source: str, extra: tuple[str, ...] = ()) -> Path:
    """A shared library compiled from ``source``, reused when the same source was compiled
    with the same command before."""
    cc = compiler()
    command = (cc, *CFLAGS, *extra)
    key = hashlib.sha256("\0".join((*command, source)).encode()).hexdigest()[:24]
    directory = cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    lib = directory / f"symdiff_{key}.so"
    if lib.exists():
        return lib
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        src = Path(tmp) / "gradient.c"
        src.write_text(source)
        out = Path(tmp) / "gradient.so"
        done = subprocess.run(
            [*command, str(src), "-o", str(out), "-lm"], capture_output=True, text=True
        )
        if done.returncode != 0:
            raise CBackendError(f"the C compiler failed on the generated code:\n{done.stderr}")
        os.replace(out, lib)
    return lib


class _Compiled:
    """One generated C function loaded with ctypes, called with NumPy values."""

    def __init__(self, lib: ctypes.CDLL, fn: CFunction, single: bool):
        self.fn = getattr(lib, fn.name)
        self.fn.restype = ctypes.c_int
        types: list[Any] = []
        for p in fn.params:
            if p.role == "in" and p.ctype.scalar:
                types.append(ctypes.c_long if p.ctype.base == "long" else ctypes.c_double)
            else:
                types.append(ctypes.c_void_p)
        self.fn.argtypes = types
        self.inputs = [p for p in fn.params if p.role == "in"]
        self.outputs = [p for p in fn.params if p.role == "out"]
        self.single = single

    def __call__(self, *args: Any) -> tuple[Any, ...]:
        call: list[Any] = []
        keep: list[Any] = []  # the converted arrays live until the call returns
        for p, a in zip(self.inputs, args):
            if p.ctype.scalar:
                call.append(int(a) if p.ctype.base == "long" else float(a))
                continue
            x = np.ascontiguousarray(a, dtype=np.float64)
            if x.shape != p.ctype.shape:
                raise InputError(
                    f"{p.name} has shape {x.shape}; this compiled gradient takes {p.ctype.shape}"
                )
            keep.append(x)
            call.append(x.ctypes.data)
        outs: list[Any] = []
        for p in self.outputs:  # a scalar into a C double, an array into a new array
            if p.ctype.scalar:
                d = ctypes.c_double()
                outs.append(d)
                call.append(ctypes.byref(d))
            else:
                o = np.empty(p.ctype.shape)
                outs.append(o)
                call.append(o.ctypes.data)
        status = self.fn(*call)
        if status != 0:
            raise CBackendError(
                f"the compiled gradient returned {TAPE_FULL}: a loop ran more steps than its "
                "tape holds",
                None,
                "pass a larger max_steps",
            )
        return tuple(o.value if isinstance(o, ctypes.c_double) else o for o in outs)


class CGradient:
    """``c_grad``'s callable: the gradient computed by compiled C, one library per set of
    argument shapes. ``value_and_grad(*args)`` also returns the value; ``code(*args)`` is
    the ``CCode`` for those arguments."""

    def __init__(self, f: Callable[..., Any], wrt: Wrt, max_steps: int, cflags: tuple[str, ...]):
        self.f = f
        self.wrt = wrt
        self.max_steps = max_steps
        self.cflags = tuple(cflags)
        self.single = not isinstance(wrt, (tuple, list))
        self._built: dict[tuple, tuple[CCode, _Compiled, _Compiled]] = {}  # by argument types

    def _get(self, args: tuple[Any, ...]) -> tuple[CCode, _Compiled, _Compiled]:
        # the kind, shape and dtype of each argument decide the code (cheaper than of())
        key = tuple((type(a), getattr(a, "shape", None), getattr(a, "dtype", None)) for a in args)
        found = self._built.get(key)
        if found is None:
            code = emit_c(self.f, *args, wrt=self.wrt, max_steps=self.max_steps)
            lib = ctypes.CDLL(str(build(code.source, self.cflags)))
            e = code.emitted
            found = (
                code,
                _Compiled(lib, e.grad, self.single),
                _Compiled(lib, e.value_and_grad, self.single),
            )
            self._built[key] = found
        return found

    def code(self, *args: Any) -> CCode:
        return self._get(args)[0]

    def __call__(self, *args: Any) -> Any:
        grads = self._get(args)[1](*args)
        return grads[0] if self.single else grads

    def value_and_grad(self, *args: Any) -> tuple[Any, Any]:
        value, *grads = self._get(args)[2](*args)
        return value, (grads[0] if self.single else tuple(grads))


def c_grad(
    f: Callable[..., Any],
    *args: Any,
    wrt: Wrt = 0,
    max_steps: int = DEFAULT_MAX_STEPS,
    cflags: tuple[str, ...] = (),
) -> CGradient:
    """``f``'s gradient as compiled C, called from Python: ``c_grad(f, wrt=...)(*args)``
    returns what ``grad(f, wrt=...)(*args)`` returns (a float for a float, an array shaped
    like its argument, a tuple for a tuple ``wrt``). With ``args``, the code for their shapes
    is written and compiled now, so refusals and compiler errors show here. ``cflags`` are
    added to the compiler command (``-std=c99 -O2 -shared -fPIC``), e.g. ``("-march=native",)``."""
    g = CGradient(f, wrt, max_steps, cflags)
    if args:
        g.code(*args)
    return g


# ----------------------------------------------------------------------------- command line


def emit_targets(targets: list[Any], output: str | None) -> list[str]:
    """``symdiff emit FILE:FUNC --lang c [-o DIR]``: each function's C for its example
    arguments, written to ``DIR/<func>.h`` and ``.c`` (printed without ``-o``). Returns the
    lines to print."""
    lines: list[str] = []
    for t in targets:
        code = emit_c(t.func, *t.example(), wrt=t.wrt, name=t.name)
        if output is None:
            lines += [f"// ---- {code.name}.h", code.header, f"// ---- {code.name}.c", code.source]
        else:
            h, c = code.write(output)
            lines.append(f"wrote {h} and {c}")
    return lines
