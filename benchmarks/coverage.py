"""How much of NumPy has derivative rules: symdiff against autograd, on the same list.

The list is every public function of ``numpy`` and ``numpy.linalg`` (ufuncs and functions;
classes, constants and submodules left out), one entry per name, so aliases such as
``np.amax`` and ``np.max`` count once each for both tools. A name counts as differentiable

- for symdiff, when it resolves to a primitive with a rule in ``symdiff.ad.rules.RULES``;
- for autograd, when ``autograd.numpy`` wraps it as a primitive with a registered VJP
  (``autograd.core.primitive_vjps``), or defines it in Python on top of such primitives
  (``np.stack``, ``np.hstack``...), counted separately as "composite".

Functions both tools treat as constants (``floor``, comparisons, ``argmax``...) are counted
on their own line: they are supported, but have no derivative to get right.

Run: ``python benchmarks/coverage.py`` (``--list`` prints the names each tool lacks).
"""

from __future__ import annotations

import argparse
import inspect
import sys
import types
from dataclasses import dataclass

import numpy as np

import symdiff  # noqa: F401  (registers every primitive)
from symdiff.ad import rules
from symdiff.ir import primitives as P


@dataclass(frozen=True)
class Entry:
    name: str  # as written: "exp", "linalg.det"
    obj: object


def numpy_functions() -> list[Entry]:
    """Every public function of numpy and numpy.linalg, by name."""
    out = []
    for prefix, module in (("", np), ("linalg.", np.linalg)):
        for name in sorted(dir(module)):
            if name.startswith("_"):
                continue
            obj = getattr(module, name)
            if isinstance(obj, (type, types.ModuleType)) or not callable(obj):
                continue
            out.append(Entry(prefix + name, obj))
    return out


def symdiff_status(e: Entry) -> str:
    """'rule', 'constant' or 'missing'."""
    prim = P.resolve(e.obj)
    if prim is None:
        return "missing"
    if prim in rules.RULES:
        return "rule"
    return "constant" if not prim.differentiable else "missing"


def autograd_status(e: Entry) -> str:
    """'rule', 'composite', 'constant' or 'missing' for autograd's version of the name."""
    import autograd.numpy as anp
    from autograd.core import primitive_vjps
    from autograd.tracer import notrace_primitives

    module = anp.linalg if e.name.startswith("linalg.") else anp
    wrapped = getattr(module, e.name.removeprefix("linalg."), None)
    if wrapped is None:
        return "missing"
    if wrapped in primitive_vjps:
        return "rule"
    if any(wrapped in registered for registered in notrace_primitives.values()):
        return "constant"
    if getattr(wrapped, "_is_autograd_primitive", False):
        return "missing"  # wrapped, but no VJP: autograd raises when differentiating it
    owner = inspect.getmodule(wrapped)
    if isinstance(wrapped, types.FunctionType) and owner and owner.__name__.startswith("autograd"):
        return "composite"
    return "missing"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="print the names each tool lacks")
    args = parser.parse_args(argv)
    entries = numpy_functions()
    mine = {e.name: symdiff_status(e) for e in entries}
    try:
        theirs = {e.name: autograd_status(e) for e in entries}
    except ImportError:
        print("autograd is not installed: pip install autograd", file=sys.stderr)
        return 1

    def count(status: dict[str, str], *kinds: str) -> int:
        return sum(s in kinds for s in status.values())

    print(f"NumPy functions measured (numpy {np.__version__}): {len(entries)}")
    print(f"{'':34}{'symdiff':>10}{'autograd':>10}")
    rows = [
        ("with a derivative rule", ("rule",), ("rule",)),
        ("  + composites of rules", ("rule",), ("rule", "composite")),
        ("treated as constants", ("constant",), ("constant",)),
    ]
    for label, a, b in rows:
        print(f"{label:34}{count(mine, *a):>10}{count(theirs, *b):>10}")
    both = sum(mine[n] == "rule" and theirs[n] in ("rule", "composite") for n in mine)
    print(f"{'differentiable in both':34}{both:>10}")
    if args.list:
        only_theirs = sorted(
            n for n in mine if theirs[n] in ("rule", "composite") and mine[n] != "rule"
        )
        only_mine = sorted(
            n for n in mine if mine[n] == "rule" and theirs[n] not in ("rule", "composite")
        )
        print("\ndifferentiable in autograd only:", ", ".join(only_theirs) or "none")
        print("\ndifferentiable in symdiff only:", ", ".join(only_mine) or "none")
    return 0


if __name__ == "__main__":
    sys.exit(main())
