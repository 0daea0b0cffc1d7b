"""The CuPy backend (a GPU is needed: skipped where CuPy or a device is absent)."""

from __future__ import annotations

import numpy as np
import pytest

from .cases import NAMES, compare

cupy = pytest.importorskip("cupy", reason="CuPy is not installed (it needs a CUDA GPU)")


@pytest.mark.parametrize("name", NAMES)
def test_matches_numpy(name: str) -> None:
    if cupy.cuda.runtime.getDeviceCount() == 0:
        pytest.skip("no CUDA device")
    compare(name, "cupy", cupy.asarray, cupy.ndarray, lambda a: np.asarray(a.get()))
