"""The array-API backend on array-api-strict (nothing outside the standard) and on NumPy."""

from __future__ import annotations

import numpy as np
import pytest

from symdiff import pipeline
from symdiff.errors import BackendError

from .cases import NAMES, code_of, compare

xps = pytest.importorskip("array_api_strict", reason="array-api-strict is not installed")
pytest.importorskip("array_api_compat", reason="array-api-compat is not installed")
ARRAY = type(xps.asarray(0.0))


@pytest.mark.parametrize("typed", [True, False], ids=["typed", "generic"])
@pytest.mark.parametrize("name", NAMES)
def test_matches_numpy_on_array_api_strict(name: str, typed: bool) -> None:
    if not typed and name in ("rnn", "softmax_cross_entropy"):
        pytest.skip("the standard needs xs[t, ...] and masks as where(): types decide both")
    compare(name, "array-api", xps.asarray, ARRAY, lambda a: np.asarray(a), typed)


def test_the_namespace_is_taken_from_the_arguments() -> None:
    t = compare("mlp", "array-api", xps.asarray, ARRAY)
    assert "xp = array_namespace(W1, b1, W2, b2, X, y)" in t.grad_source
    assert "np." not in code_of(t.grad_source)
    # the same generated function on NumPy arrays gives NumPy arrays
    from .cases import arguments

    f, wrt, args = arguments()["mlp"]
    out = t.grad(*args)
    assert all(type(g) is np.ndarray for g in out)


def test_a_user_variable_called_xp_keeps_its_name() -> None:
    def f(xp):
        return np.sum(np.exp(xp))

    t = pipeline.transform(f, 0, args=(np.ones(3),), backend="array-api")
    assert "xp_1 = array_namespace(xp)" in t.grad_source
    np.testing.assert_allclose(np.asarray(t.grad(xps.asarray(np.ones(3)))), np.exp(np.ones(3)))


def test_a_name_outside_the_standard_is_refused_at_its_line() -> None:
    def f(x):
        return np.sum(np.sinc(x))

    with pytest.raises(BackendError) as info:
        pipeline.transform(f, 0, args=(np.ones(3),), backend="array-api")
    assert "'array-api' backend cannot express `np.sinc`" in str(info.value)
    assert "np.sum(np.sinc(x))" in str(info.value)
