"""The layout of ``symdiff.ir``: one frozen catalogue, every exported row in it, small modules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import symdiff.ir
from symdiff.errors import InternalError
from symdiff.ir import primitives as P
from symdiff.ir.nodes import Form, Primitive
from symdiff.ir.rows import build


def test_catalogue_is_frozen_after_import():
    with pytest.raises(InternalError, match="comes too late"):
        build.call("np.late_arrival", np.exp)
    with pytest.raises(InternalError, match="comes too late"):
        build.register(Primitive("late", Form.CALL, "late", np.exp))
    with pytest.raises(TypeError):
        P.ALL["late"] = P.np_exp  # type: ignore[index]
    with pytest.raises(TypeError):
        P.BY_OBJECT[np.exp] = P.np_exp  # type: ignore[index]
    assert "np.late_arrival" not in P.ALL and "late" not in P.ALL
    assert isinstance(P.HELPERS, tuple) and len(P.HELPERS) == len(build.HELPER_ROWS)


def test_every_exported_primitive_is_in_the_catalogue():
    exported = {k: v for k, v in vars(P).items() if isinstance(v, Primitive)}
    assert len(exported) > 250
    for attr, prim in exported.items():
        assert P.ALL.get(prim.name) is prim, attr


def test_ir_modules_are_small():
    root = Path(symdiff.ir.__file__).parent
    sizes = {p.relative_to(root): len(p.read_text().splitlines()) for p in root.rglob("*.py")}
    assert len(sizes) > 10
    assert {p: n for p, n in sizes.items() if n >= 450} == {}
