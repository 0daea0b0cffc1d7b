"""The backend table: spellings, refusals, a missing library, and which library arrays are."""

from __future__ import annotations

import numpy as np
import pytest

from symdiff import pipeline
from symdiff.backend import targets
from symdiff.backend.targets.base import Backend
from symdiff.errors import BackendError


def test_numpy_spells_everything_as_it_is() -> None:
    numpy = targets.get(None)
    assert numpy is targets.get("numpy") and numpy.is_numpy
    for spelling in ("np.exp", "unbroadcast", "np.add.at", "math.sin", "range"):
        assert numpy.spell(spelling) == spelling


def test_a_library_backend_renames_refuses_and_binds_helpers() -> None:
    torch = targets.get("torch")
    assert torch.spell("np.max") == "torch.amax"
    assert torch.spell("unbroadcast") == "helper:unbroadcast"
    assert torch.keyword("axis") == "dim" and torch.keyword("keepdims") == "keepdim"
    with pytest.raises(BackendError, match="cannot express `np.std`"):
        torch.spell("np.std")
    with pytest.raises(BackendError, match="cannot express `svd_grad`: its runtime helper"):
        torch.spell("svd_grad")


def test_the_array_api_backend_knows_the_standard_without_importing_anything() -> None:
    api = targets.get("array_api")  # either spelling of the name
    assert api.from_arguments
    assert api.spell("np.exp") == "xp.exp" and api.spell("np.arctan2") == "xp.atan2"
    with pytest.raises(BackendError, match="the array API standard has no `sinc`"):
        api.spell("np.sinc")


def test_a_missing_library_says_what_to_install() -> None:
    absent = Backend(name="absent", library="no_such_library.numpy", alias="nl", install="x")

    def f(x):
        return np.sum(np.exp(x))

    with pytest.raises(BackendError, match="needs no_such_library, which is not installed"):
        pipeline.transform(f, 0, backend=absent)


def test_an_unknown_name_lists_the_backends() -> None:
    with pytest.raises(BackendError, match="'numpy', 'array-api', 'jax', 'torch', 'dask'"):
        targets.get("tensorflow")


def test_numpy_values_and_numbers_belong_to_no_other_library() -> None:
    assert targets.detect([np.ones(2), 1.0, 3, np.float64(2.0), [1.0]]) is None
