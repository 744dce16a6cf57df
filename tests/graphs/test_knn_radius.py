import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.spatial import cKDTree
from sklearn.neighbors import NearestNeighbors

from manigeo.graphs import knn_graph, radius_graph


@pytest.fixture
def points(rng):
    return rng.normal(size=(200, 3))


def _sklearn_knn(X, k):
    ind = NearestNeighbors(n_neighbors=k).fit(X).kneighbors(return_distance=False)
    G = np.zeros((len(X), len(X)), dtype=bool)
    G[np.repeat(np.arange(len(X)), k), ind.ravel()] = True
    return G


@pytest.mark.parametrize("k", [1, 5, 12])
def test_knn_directed_matches_sklearn(points, k):
    G = knn_graph(points, k, symmetrize="none")
    np.testing.assert_array_equal(G.toarray().astype(bool), _sklearn_knn(points, k))
    assert np.all(np.diff(G.indptr) == k)


def test_knn_union_and_mutual(points):
    D = _sklearn_knn(points, 6)
    union = knn_graph(points, 6, symmetrize="union").toarray().astype(bool)
    mutual = knn_graph(points, 6, symmetrize="mutual").toarray().astype(bool)
    np.testing.assert_array_equal(union, D | D.T)
    np.testing.assert_array_equal(mutual, D & D.T)


def test_knn_distance_mode(points):
    G = knn_graph(points, 4, mode="distance")
    r, c = G.nonzero()
    np.testing.assert_allclose(G[r, c], np.linalg.norm(points[r] - points[c], axis=1))
    assert (G != G.T).nnz == 0


def test_knn_duplicate_points_keep_edges():
    X = np.array([[0.0, 0], [0, 0], [1, 0], [2, 0]])
    G = knn_graph(X, 1, mode="distance", symmetrize="none")
    assert G.nnz == 4 and G.diagonal().sum() == 0
    assert G[0, 1] > 0  # zero distance stored as a tiny positive length


def test_radius_matches_kdtree(points):
    G = radius_graph(points, 0.8)
    pairs = cKDTree(points).query_pairs(0.8)
    assert G.nnz == 2 * len(pairs)
    for i, j in list(pairs)[:50]:
        assert G[i, j] == 1 and G[j, i] == 1


def test_radius_periodic(rng):
    X = rng.uniform(size=(300, 2))
    G = radius_graph(X, 0.1, mode="distance", boxsize=1.0)
    r, c = G.nonzero()
    d = np.abs(X[r] - X[c])
    np.testing.assert_allclose(G[r, c], np.linalg.norm(np.minimum(d, 1 - d), axis=1))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_neighbors": 0}, "n_neighbors must be >= 1"),
        ({"n_neighbors": 200}, "smaller than the number of points"),
        ({"n_neighbors": 2.5}, "must be an integer"),
        ({"n_neighbors": 3, "mode": "bogus"}, "mode must be"),
        ({"n_neighbors": 3, "symmetrize": "bogus"}, "symmetrize must be"),
    ],
)
def test_knn_bad_parameters(points, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        knn_graph(points, **kwargs)


def test_bad_points():
    X = np.ones((10, 2))
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        knn_graph(X, 2)
    with pytest.raises(TypeError, match="sparse"):
        knn_graph(sp.csr_array(np.eye(5)), 2)
    with pytest.raises(ValueError, match="radius must be"):
        radius_graph(np.ones((5, 2)), -1.0)


def test_networkx_roundtrip(points):
    from manigeo.graphs import to_adjacency

    G = knn_graph(points, 5)
    H = nx.from_scipy_sparse_array(G)
    np.testing.assert_array_equal(to_adjacency(H).toarray(), G.toarray())
