"""The PyTorch backend: tensors in, tensors out, torch spellings."""

from __future__ import annotations

import numpy as np
import pytest

from symdiff import pipeline
from symdiff.errors import BackendError

from .cases import NAMES, code_of, compare

torch = pytest.importorskip("torch", reason="PyTorch is not installed")
pytest.importorskip("array_api_compat", reason="array-api-compat is not installed")


@pytest.mark.parametrize("typed", [True, False], ids=["typed", "generic"])
@pytest.mark.parametrize("name", NAMES)
def test_matches_numpy(name: str, typed: bool) -> None:
    compare(name, "torch", torch.from_numpy, torch.Tensor, lambda t: t.numpy(), typed)


def test_reductions_take_dim_and_keepdim() -> None:
    t = compare(
        "softmax_cross_entropy", "torch", torch.from_numpy, torch.Tensor, lambda t: t.numpy()
    )
    code = code_of(t.grad_source)
    assert "torch.amax(Z, dim=1, keepdim=True)" in code
    assert "axis=" not in code.replace("array_sum", "")


def test_a_numpy_name_with_another_meaning_in_torch_is_refused() -> None:
    def f(x):
        return np.std(x)

    with pytest.raises(BackendError) as info:
        pipeline.transform(f, 0, args=(np.ones(3),), backend="torch")
    assert "`np.std`" in str(info.value) and "return np.std(x)" in str(info.value)


def dense_relu(W, x):
    return np.sum(np.maximum(np.transpose(W) @ x, 0.0) ** 2)


def test_transpose_and_maximum_with_a_number_go_through_helpers() -> None:
    rng = np.random.default_rng(1)
    args = (rng.normal(size=(4, 3)), rng.normal(size=4))
    reference = pipeline.transform(dense_relu, 0, args=args).grad(*args)
    t = pipeline.transform(dense_relu, 0, args=args, backend="torch")
    got = t.grad(*(torch.from_numpy(a) for a in args))
    assert isinstance(got, torch.Tensor)
    np.testing.assert_allclose(got.numpy(), reference, rtol=1e-10)


def whole_max(x):
    return np.sum(x - np.max(x, keepdims=True))


def test_keepdim_without_dim_is_written_with_dim_none() -> None:
    args = (np.array([[1.0, 3.0], [2.0, 0.5]]),)
    reference = pipeline.transform(whole_max, 0, args=args).grad(*args)
    t = pipeline.transform(whole_max, 0, args=args, backend="torch")
    assert "torch.amax(x, dim=None, keepdim=True)" in t.grad_source
    np.testing.assert_allclose(t.grad(torch.from_numpy(args[0])).numpy(), reference)
