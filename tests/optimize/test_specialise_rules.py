"""optimize.specialise: a derivative program rewritten for its arguments' abstract values
computes, for every call with that signature, what the shape-generic program computes.

Every row of the rule table (``tests/ad/test_rules.py``, itself checked against finite
differences) is run specialised and generic, as a gradient and value-and-gradient and in one
of the other modes (``jvp``, ``vjp``, ``hvp``, in turn), and once more on a variant of its
inputs: all axes of length 1, a leading axis of length 1 or 0, NumPy scalars or 0-d arrays
for Python floats. A row whose derivative program the analysis cannot fully describe still
agrees: the statements it cannot describe keep their generic form (``FALLBACK`` says which
primitives, and why).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
import zlib
from typing import Any, Callable

import numpy as np
import pytest

import symdiff
from symdiff.abstract.table import UNDESCRIBED
from symdiff.abstract.values import Kind, signature
from symdiff.ir.nodes import iter_assigns
from symdiff.optimize.specialise import program_types

from ..ad import test_rules as rule_table
from ..ad.test_rules import ROWS, Arg, Row, build
from ..specialised import compare

OTHER_MODES = ("jvp", "vjp", "hvp")

# primitives whose result the analysis leaves unknown on some row although their arguments
# are known: from there on the program keeps its generic bookkeeping
FALLBACK: dict[str, str] = {
    **{p.name: reason for p, reason in UNDESCRIBED.items()},
    "np.cross": "the result depends on the exact length of the vector axis (2 or 3), and a "
    "signature keeps only whether an axis is 1",
    "pow": "math.pow / ** of two floats: the result's kind depends on the base's sign",
    "sum": "sum of a list built at run time: 0 when the list is empty",
}


def _wrt(r: Row) -> Any:
    return tuple(r.args) if len(r.args) > 1 else next(iter(r.args))


@pytest.mark.parametrize("k", range(len(ROWS)), ids=[r.id for r in ROWS])
def test_every_rule_row_specialised_agrees_with_generic(k: int) -> None:
    r = ROWS[k]
    f, inputs = build(r)
    found = compare(f, inputs, _wrt(r), ("grad", OTHER_MODES[k % 3]), seed=k)
    assert found.ok, f"{r.id}\n" + "\n".join(found.problems)
    assert "grad" in found.compared, f"{r.id}: nothing compared ({found.refused})"
    generic, _ = found.transformed["grad"]
    unknown = _first_unknown(generic.program, inputs)
    assert unknown <= set(FALLBACK), f"{r.id}: undescribed {sorted(unknown - set(FALLBACK))}"


def _first_unknown(prog: Any, inputs: list) -> set[str]:
    """Primitives of ``prog`` whose result is unknown though their arguments are known."""
    types = program_types(prog, signature(inputs))
    out = set()
    for s in iter_assigns(prog.forward + prog.backward):
        known = all(types.value(a).kind is not Kind.UNKNOWN for a in s.args)
        if known and types.value(s.target).kind is Kind.UNKNOWN:
            out.add(s.prim.name)
    return out


# ----------------------------------------------------------------------------- variants


def _shaped(arg: Arg, shape: tuple[int, ...]) -> Arg:
    return dataclasses.replace(arg, shape=shape)


def _variants(r: Row) -> list[tuple[str, dict[str, Arg], Callable[[Any], Any]]]:
    """Other inputs for the row: (name, how to draw each input, a conversion of each draw)."""
    same = lambda v: v
    args = r.args
    out = []
    if any(a.shape for a in args.values()):
        out.append(
            ("all axes 1", {k: _shaped(a, (1,) * len(a.shape)) for k, a in args.items()}, same)
        )
        out.append(("leading axis 1", {k: _shaped(a, a.shape and (1,) + a.shape[1:]) for k, a in args.items()}, same))  # fmt: skip
        out.append(("leading axis 0", {k: _shaped(a, a.shape and (0,) + a.shape[1:]) for k, a in args.items()}, same))  # fmt: skip
    if any(not a.shape for a in args.values()):
        scalar = lambda conv: lambda v: conv(v) if isinstance(v, float) else v
        out.append(("NumPy scalars", dict(args), scalar(np.float64)))
        out.append(("0-d arrays", dict(args), scalar(np.array)))
        out.append(("float32 scalars", dict(args), scalar(np.float32)))
    return out


def _build_for(r: Row, inputs: list) -> Callable[..., Any] | None:
    """The row's function with weights ``W`` shaped for these inputs (None: f fails on them)."""
    names = ", ".join(r.args)
    body = "".join(f"    {line}\n" for line in r.body.splitlines())
    ns: dict[str, Any] = dict(np=np, math=math, ZERO=0.0)
    ns.update({k: getattr(rule_table, k) for k in ("IDX", "MASK", "WEIGHTS", "COND", "REPS")})
    ns.update(r.consts)
    src = f"def value({names}):\n{body}    return {r.expr}\n"
    try:
        value = symdiff.from_source(src, namespace=ns)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            shape = np.shape(value(*inputs))
    except Exception:
        return None
    rng = np.random.default_rng(len(inputs))
    ns["W"] = rng.standard_normal(shape) if shape else 1.0 + rng.random()
    return symdiff.from_source(
        f"def f({names}):\n{body}    return np.sum(W * ({r.expr}))\n", namespace=ns
    )


def _variant_call(k: int) -> tuple[str, Callable[..., Any], list] | None:
    """Row ``k``'s variant (they take turns; one that the row's function fails on gives way to
    the next), or None when none applies."""
    r = ROWS[k]
    choices = _variants(r)
    rng = np.random.default_rng(zlib.crc32(r.id.encode()) + 1)
    for j in range(len(choices)):
        name, args, convert = choices[(k + j) % len(choices)]
        try:
            inputs = [convert(a.draw(rng)) for a in args.values()]
        except Exception:  # a matrix kind that needs its axes (an SPD of 0 rows)
            continue
        f = _build_for(r, inputs)
        if f is not None:
            return name, f, inputs
    return None


@pytest.mark.parametrize("k", range(len(ROWS)), ids=[r.id for r in ROWS])
def test_every_rule_row_specialised_agrees_on_unit_zero_and_scalar_variants(k: int) -> None:
    found_call = _variant_call(k)
    if found_call is None:
        pytest.skip("no variant of the inputs that the row's function runs on")
    name, f, inputs = found_call
    found = compare(f, inputs, _wrt(ROWS[k]), ("grad",), seed=k)
    assert found.ok, f"{ROWS[k].id} ({name})\n" + "\n".join(found.problems)


def test_the_variants_cover_unit_zero_length_and_scalar_kinds() -> None:
    """The variants are not all skipped: every kind of input is reached by some row."""
    names = {call[0] for k in range(len(ROWS)) if (call := _variant_call(k)) is not None}
    assert names >= {
        "all axes 1",
        "leading axis 1",
        "leading axis 0",
        "NumPy scalars",
        "0-d arrays",
        "float32 scalars",
    }, names
