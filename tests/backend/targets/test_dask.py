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


def test_the_same_gradient_runs_on_a_local_cluster_over_chunked_data() -> None:
    distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed")
    from symdiff import pipeline

    from .cases import arguments

    f, wrt, (w, X, y) = arguments()["logistic_regression"]
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(4000, 4)), (rng.random(4000) > 0.5) * 1.0
    reference = pipeline.transform(f, wrt, args=(w, X, y)).grad(w, X, y)
    t = pipeline.transform(f, wrt, args=(w, X, y), backend="dask")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        lazy = t.grad(da.from_array(w), da.from_array(X, chunks=(1000, 4)), da.from_array(y, 1000))
        assert isinstance(lazy, da.Array)
        got = client.compute(lazy).result()
    np.testing.assert_allclose(got, reference, rtol=1e-10)


@pytest.mark.parametrize("typed", [True, False], ids=["typed", "generic"])
def test_an_unknown_length_is_refused_rather_than_a_nan_gradient(typed: bool) -> None:
    """After boolean indexing dask knows no lengths (nan): the mean's 1/n would be nan."""
    import symdiff
    from symdiff import pipeline
    from symdiff.errors import BackendError

    from .cases import arguments

    f, wrt, (w, X, y) = arguments()["logistic_regression"]
    keep = da.from_array(X[:, 0], chunks=2) > -np.inf
    Xu, yu = da.from_array(X, chunks=2)[keep], da.from_array(y, chunks=2)[keep]
    if typed:
        g = pipeline.transform(f, wrt, args=(w, X, y), backend="dask").grad
    else:
        g = symdiff.grad(f, wrt=wrt, backend="dask")
    with pytest.raises(BackendError, match="not known before computing") as info:
        g(da.from_array(w), Xu, yu)
    assert "compute_chunk_sizes()" in info.value.hint
    # once the lengths are known, the same arrays give NumPy's gradient
    reference = pipeline.transform(f, wrt, args=(w, X, y)).grad(w, X, y)
    Xu.compute_chunk_sizes(), yu.compute_chunk_sizes()
    got = g(da.from_array(w), Xu, yu).compute()
    np.testing.assert_allclose(got, reference, rtol=1e-10)


def test_the_cluster_recipe_of_the_docs_runs_on_a_local_cluster(capsys, tmp_path) -> None:
    """docs/backends.md, "Past one machine": the Dask recipe as written, with the
    scheduler's address that of a LocalCluster and the sizes made small."""
    distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed")
    from tests.helpers import doc_blocks

    (recipe,) = [b for b in doc_blocks("backends.md", "Past one machine") if "dask" in b]
    address = '"tcp://scheduler.example.org:8786"'
    sizes = "n, d, rows = 50_000_000, 20, 1_000_000"
    assert recipe.count(address) == 1 and recipe.count(sizes) == 1
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        code = recipe.replace(address, repr(cluster.scheduler_address))
        code = code.replace(sizes, "n, d, rows = 3000, 4, 1000")
        path = tmp_path / "recipe.py"  # a file: symdiff reads the source of ``loss``
        path.write_text(code)
        space: dict = {}
        exec(compile(code, str(path), "exec"), space)
        X, y, w = space["X"].compute(), space["y"].compute(), space["w"]
        space["client"].close()
    # the same 20 steps with NumPy's gradient on the computed data
    grad = pipeline_grad(space["loss"], X, y)
    v = np.zeros(4)
    for _ in range(20):
        v = v - 0.5 * grad(v, X, y)
    np.testing.assert_allclose(w, v, rtol=1e-10)
    assert np.all(np.isfinite(w)) and capsys.readouterr().out.strip()


def pipeline_grad(f, X, y):
    from symdiff import pipeline

    return pipeline.transform(f, 0, args=(np.zeros(X.shape[1]), X, y)).grad
