"""The portable helpers, on NumPy arrays through array-api-compat (as on any library)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("array_api_compat", reason="array-api-compat is not installed")

from symdiff.backend.targets import portable  # noqa: E402
from symdiff.runtime import products  # noqa: E402


def test_shapes_sizes_and_their_products_are_python_ints() -> None:
    x = np.ones((2, 3))
    assert portable.shape(x) == (2, 3) and portable.shape(1.5) == ()
    assert portable.size(x) == 6 and type(portable.size(x)) is int
    assert portable.array_prod((2, 3, 4)) == 24
    assert portable.broadcast_shapes((2, 1), (3,), ()) == (2, 3)
    with pytest.raises(ValueError):
        portable.broadcast_shapes((2,), (3,))


def test_unbroadcast_sums_the_stretched_axes() -> None:
    g = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_allclose(portable.unbroadcast(g, np.ones((3, 1))), g.sum(0).sum(-1)[:, None])
    np.testing.assert_allclose(portable.unbroadcast(g, 2.0), g.sum())
    assert portable.unbroadcast(g, g) is g
    np.testing.assert_allclose(portable.sum_to(g, (4,)), g.sum((0, 1)))


@pytest.mark.parametrize(
    "sa, sb", [((3, 4), (4,)), ((4,), (4, 2)), ((3, 4), (4, 2)), ((5, 3, 4), (4, 2))]
)
def test_matmul_adjoints_agree_with_the_numpy_helpers(sa, sb) -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=sa), rng.normal(size=sb)
    g = rng.normal(size=np.shape(a @ b))
    np.testing.assert_allclose(portable.matmul_grad_a(g, a, b), products.matmul_grad_a(g, a, b))
    np.testing.assert_allclose(portable.matmul_grad_b(g, a, b), products.matmul_grad_b(g, a, b))


def test_a_number_broadcast_becomes_an_array_of_the_namespace() -> None:
    out = portable.broadcast_to(2.0, (2, 2), xp=np)
    assert out.dtype == np.float64 and out.shape == (2, 2)
    assert portable.broadcast_to(2.0, (), xp=np) == 2.0


def test_counts_masks_and_index_adjoints() -> None:
    mask = np.array([[True, False], [True, True]])
    assert portable.array_sum(mask, axis=1).tolist() == [1.0, 2.0]
    np.testing.assert_allclose(portable.maximum(np.array([-1.0, 2.0]), 0), [0.0, 2.0])
    np.testing.assert_allclose(portable.transpose(np.ones((2, 3))), np.ones((3, 2)))
    out = portable.index_grad(np.array([1.0, 2.0]), np.zeros(4), np.s_[1:3])
    np.testing.assert_allclose(out, [0.0, 1.0, 2.0, 0.0])
    with pytest.raises(ValueError, match="must return a scalar"):
        portable.ensure_scalar(np.ones(2), "f")
