"""Landmark shortest paths: joblib n_jobs (also on Dask) and Dask edge lists
(local Dijkstra batches, blockwise min-plus Bellman-Ford) against SciPy."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse import csgraph

from manigeo.geodesics import (
    dask_landmark_paths,
    landmark_shortest_paths,
    select_landmarks,
    shortest_paths,
)

dd = pytest.importorskip("dask.dataframe")
pd = pytest.importorskip("pandas")


def _graph(rng, n=60, k=4, *, components=1):
    """Weighted ring-plus-chords graph (connected per component)."""
    rows, cols = [], []
    size = n // components
    for c in range(components):
        base = c * size
        for i in range(size):
            for step in range(1, k // 2 + 1):
                rows.append(base + i)
                cols.append(base + (i + step) % size)
        chords = rng.integers(0, size, size=(size // 3, 2)) + base
        rows += list(chords[:, 0])
        cols += list(chords[:, 1])
    W = sp.coo_array((rng.uniform(0.1, 1.0, len(rows)), (rows, cols)), shape=(n, n))
    W = sp.csr_array(W.maximum(W.T))
    W.setdiag(0)
    W.eliminate_zeros()
    return W


def _edges(W, rng, npartitions):
    r, c = W.nonzero()
    df = pd.DataFrame({"src": r, "dst": c, "weight": W[r, c]})
    df = df.iloc[rng.permutation(len(df))].reset_index(drop=True)
    return dd.from_pandas(df, npartitions=npartitions, sort=False)


@pytest.fixture
def sync():
    import dask

    with dask.config.set(scheduler="sync"):
        yield


def test_n_jobs_identical(rng):
    joblib = pytest.importorskip("joblib")
    with joblib.parallel_backend("threading"):  # no process start-up in tests
        _check_n_jobs(rng)


def _check_n_jobs(rng):
    W = _graph(rng, 80)
    lm = rng.choice(80, 20, replace=False)
    _, ref = landmark_shortest_paths(W, lm)
    _, got = landmark_shortest_paths(W, lm, n_jobs=2)
    np.testing.assert_array_equal(got, ref)
    a = select_landmarks(W, 12, method="random", random_state=3, return_distances=True)
    b = select_landmarks(
        W, 12, method="random", random_state=3, return_distances=True, n_jobs=2
    )
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_array_equal(
        shortest_paths(W, np.arange(30), chunk_size=4, n_jobs=2),
        csgraph.dijkstra(W, directed=False, indices=np.arange(30)),
    )


def test_n_jobs_on_dask_cluster(dask_client, rng):
    joblib = pytest.importorskip("joblib")
    W = _graph(rng, 60)
    lm = np.arange(0, 60, 4)
    with joblib.parallel_backend("dask"):
        _, got = landmark_shortest_paths(W, lm, n_jobs=-1)
    np.testing.assert_array_equal(got, csgraph.dijkstra(W, directed=False, indices=lm))


@pytest.mark.parametrize("npartitions, chunk_size", [(1, None), (3, 7), (5, 3)])
def test_blockwise_equals_dijkstra(sync, rng, npartitions, chunk_size):
    W = _graph(rng, 40)
    lm = np.array([0, 13, 39])
    got_lm, D = dask_landmark_paths(
        _edges(W, rng, npartitions), lm, strategy="blockwise", chunk_size=chunk_size
    )
    ref = csgraph.dijkstra(W, directed=False, indices=lm)
    np.testing.assert_array_equal(got_lm, lm)
    np.testing.assert_allclose(D.compute(), ref, rtol=1e-13, atol=0)


def test_blockwise_on_cluster_unweighted(dask_client, rng):
    W = _graph(rng, 50)
    lm = np.array([5, 25])
    _, D = dask_landmark_paths(
        _edges(W, rng, 3), lm, strategy="blockwise", unweighted=True, chunk_size=9
    )
    ref = csgraph.dijkstra(W, directed=False, indices=lm, unweighted=True)
    np.testing.assert_array_equal(D.compute(), ref)


@pytest.mark.parametrize("method", ["random", "farthest"])
def test_local_strategy_matches_select_landmarks(sync, rng, method):
    W = _graph(rng, 50)
    ref_lm, ref = select_landmarks(
        W, 6, method=method, random_state=7, return_distances=True
    )
    lm, D = dask_landmark_paths(
        _edges(W, rng, 3), 6, method=method, random_state=7, strategy="local"
    )
    np.testing.assert_array_equal(lm, ref_lm)
    np.testing.assert_array_equal(D.compute(), ref)
    # landmark_shortest_paths dispatches a Dask edge list here
    lm2, D2 = landmark_shortest_paths(
        _edges(W, rng, 2), 6, method="random", random_state=7
    )
    ref_lm2 = select_landmarks(W, 6, method="random", random_state=7)
    np.testing.assert_array_equal(lm2, ref_lm2)
    np.testing.assert_array_equal(
        D2.compute(), csgraph.dijkstra(W, directed=False, indices=ref_lm2)
    )


@pytest.mark.parametrize("strategy", ["local", "blockwise"])
def test_disconnected(sync, rng, strategy):
    W = _graph(rng, 40, components=2)
    edges = _edges(W, rng, 2)
    with pytest.raises(ValueError, match="disconnected"):
        dask_landmark_paths(edges, [0], strategy=strategy, chunk_size=8)[1].compute()
    _, D = dask_landmark_paths(
        edges, [0, 30], strategy=strategy, chunk_size=8, on_disconnected="inf"
    )
    ref = csgraph.dijkstra(W, directed=False, indices=[0, 30])
    np.testing.assert_allclose(D.compute(), ref, rtol=1e-13)


def test_bad_options(sync, rng):
    edges = _edges(_graph(rng, 20), rng, 2)
    with pytest.raises(ValueError, match="strategy"):
        dask_landmark_paths(edges, 3, strategy="gpu")
    with pytest.raises(ValueError, match="farthest"):
        dask_landmark_paths(edges, 3, method="farthest", strategy="blockwise")
    with pytest.raises(ValueError, match="node indices"):
        dask_landmark_paths(edges, [25])
    with pytest.raises(TypeError, match="integer"):
        dask_landmark_paths(edges, [0.5])
    neg = edges.assign(weight=edges["weight"] - 2.0)
    with pytest.raises(ValueError, match="non-negative"):
        dask_landmark_paths(neg, [0])
