"""knn_graph(method="hnsw"), knn_recall, and kNN graphs of Dask arrays."""

import numpy as np
import pytest
import scipy.sparse as sp

from manigeo.graphs import knn_graph, knn_recall

hnswlib = pytest.importorskip("hnswlib")


def _edges_to_csr(df, n, weight=None):
    w = np.ones(len(df)) if weight is None else df[weight].to_numpy()
    G = sp.csr_array((w, (df["src"].to_numpy(), df["dst"].to_numpy())), shape=(n, n))
    G.sort_indices()
    return G


def test_hnsw_matches_exact_on_easy_data(rng):
    X = rng.normal(size=(300, 8))
    exact = knn_graph(X, 6)
    G, recall = knn_graph(X, 6, method="hnsw", random_state=0, return_recall=True)
    assert recall >= 0.99
    # nearly the same edge set; same no-self-loop, symmetric structure
    agree = (G.astype(bool).multiply(exact.astype(bool))).nnz / exact.nnz
    assert agree >= 0.98
    assert (G != G.T).nnz == 0 and G.diagonal().sum() == 0


def test_hnsw_distance_mode_and_repeatable(rng):
    X = rng.normal(size=(200, 5))
    G1 = knn_graph(X, 5, mode="distance", method="hnsw", random_state=3)
    G2 = knn_graph(X, 5, mode="distance", method="hnsw", random_state=3)
    assert (G1 != G2).nnz == 0
    r, c = G1.nonzero()
    np.testing.assert_allclose(
        np.asarray(G1[r, c]).ravel(), np.linalg.norm(X[r] - X[c], axis=1), rtol=1e-12
    )
    Gc = knn_graph(X, 5, method="hnsw", metric="cosine", random_state=3)
    assert Gc.shape == (200, 200)


def test_low_ef_lowers_recall_and_recall_is_measured(rng):
    X = rng.normal(size=(1500, 30))
    _, low = knn_graph(
        X,
        10,
        method="hnsw",
        M=2,
        ef=10,
        ef_construction=10,
        random_state=0,
        return_recall=True,
        recall_queries=200,
    )
    _, high = knn_graph(
        X,
        10,
        method="hnsw",
        M=16,
        ef=200,
        random_state=0,
        return_recall=True,
        recall_queries=200,
    )
    assert low < high and high >= 0.95


def test_knn_recall_oracle():
    X = np.array([0.0, 1.0, 3.0, 7.0, 15.0])[:, None]  # no ties
    exact = np.array([[1], [0], [1], [2], [3]])
    assert knn_recall(X, exact) == 1.0
    one_wrong = exact.copy()
    one_wrong[4] = 0
    assert knn_recall(X, one_wrong) == pytest.approx(0.8)
    assert knn_recall(X, np.array([[4], [4], [4], [4], [0]])) == 0.0
    with pytest.raises(ValueError, match="shape"):
        knn_recall(X, exact[:3])
    with pytest.raises(TypeError, match="integer"):
        knn_recall(X, exact.astype(float))


def test_bad_options(rng):
    X = rng.normal(size=(30, 3))
    with pytest.raises(ValueError, match="method"):
        knn_graph(X, 3, method="annoy")
    with pytest.raises(ValueError, match="metric"):
        knn_graph(X, 3, method="hnsw", metric="manhattan")
    with pytest.raises(ValueError, match="M must be"):
        knn_graph(X, 3, method="hnsw", M=1)


@pytest.mark.parametrize("symmetrize", ["union", "mutual", "none"])
def test_dask_array_exact_equals_local(dask_client, rng, symmetrize):
    da = pytest.importorskip("dask.array")
    X = rng.normal(size=(120, 4))
    Xd = da.from_array(X, chunks=(35, 4))
    edges = knn_graph(Xd, 5, mode="distance", symmetrize=symmetrize)
    df = edges.compute()
    ref = knn_graph(X, 5, mode="distance", symmetrize=symmetrize)
    G = _edges_to_csr(df, 120, "weight")
    assert len(df) == ref.nnz
    np.testing.assert_array_equal(G.indptr, ref.indptr)
    np.testing.assert_array_equal(G.indices, ref.indices)
    np.testing.assert_allclose(G.data, ref.data, rtol=1e-12)
    assert edges.npartitions == 4


def test_dask_array_hnsw_recall(dask_client, rng):
    da = pytest.importorskip("dask.array")
    X = rng.normal(size=(400, 6))
    df = knn_graph(
        da.from_array(X, chunks=(100, 6)),
        8,
        method="hnsw",
        symmetrize="none",
        random_state=0,
    ).compute()
    ind = df["dst"].to_numpy().reshape(400, 8)
    assert np.array_equal(df["src"].to_numpy(), np.repeat(np.arange(400), 8))
    assert knn_recall(X, ind, n_queries=400) >= 0.98


def test_dask_knn_edges_feed_common_neighbors(rng):
    da = pytest.importorskip("dask.array")
    import dask

    from manigeo.graphs import common_neighbors

    X = rng.normal(size=(90, 3))
    with dask.config.set(scheduler="sync"):
        edges = knn_graph(da.from_array(X, chunks=(25, 3)), 4)
        got = common_neighbors(edges).compute()
    C = common_neighbors(knn_graph(X, 4))
    np.testing.assert_array_equal(
        got["count"].to_numpy(),
        np.asarray(C[got["src"].to_numpy(), got["dst"].to_numpy()]).ravel(),
    )
    assert len(got) == C.nnz
