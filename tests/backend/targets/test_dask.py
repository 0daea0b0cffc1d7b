"""The Dask backend: lazy gradients, computed only when asked for."""

from __future__ import annotations

import numpy as np
import pytest

from .cases import NAMES, compare

da = pytest.importorskip("dask.array", reason="Dask is not installed")
callbacks = pytest.importorskip("dask.callbacks", reason="Dask is not installed")


class Computes(callbacks.Callback):
    """Counts the graphs dask computes while it is active."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def _start(self, dsk: object) -> None:
        self.count += 1


@pytest.mark.parametrize("typed", [True, False], ids=["typed", "generic"])
@pytest.mark.parametrize("name", NAMES)
def test_matches_numpy_with_no_compute_during_the_call(name: str, typed: bool) -> None:
    counter = Computes()

    def lazily(g):  # the call itself, counted; the comparison computes afterwards
        def call(*args):
            with counter:
                return g(*args)

        return call

    compare(
        name,
        "dask",
        lambda a: da.from_array(a, chunks=3),
        da.Array,
        lambda a: np.asarray(a.compute()),
        typed,
        call=lazily,
    )
    assert counter.count == 0
