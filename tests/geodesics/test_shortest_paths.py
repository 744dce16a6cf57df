import networkx as nx
import numpy as np
import pytest

from manigeo import _validation
from manigeo.geodesics import landmark_shortest_paths, select_landmarks, shortest_paths
from manigeo.graphs import knn_graph


@pytest.fixture
def graph(rng):
    return knn_graph(rng.normal(size=(120, 3)), 6, mode="distance")


def test_all_pairs_matches_networkx(graph):
    D = shortest_paths(graph)
    H = nx.from_scipy_sparse_array(graph)
    ref = dict(nx.all_pairs_dijkstra_path_length(H, weight="weight"))
    for i in range(0, 120, 17):
        np.testing.assert_allclose(D[i], [ref[i][j] for j in range(120)], rtol=1e-12)
    np.testing.assert_allclose(D, D.T)


def test_sources_and_unweighted(graph):
    D = shortest_paths(graph, sources=[3, 7], unweighted=True)
    H = nx.from_scipy_sparse_array(graph)
    hops = nx.single_source_shortest_path_length(H, 7)
    np.testing.assert_array_equal(D[1], [hops[j] for j in range(120)])


def test_disconnected_graph():
    W = np.zeros((4, 4))
    W[0, 1] = W[1, 0] = 1
    W[2, 3] = W[3, 2] = 1
    with pytest.raises(ValueError, match="disconnected.*on_disconnected='inf'"):
        shortest_paths(W)
    D = shortest_paths(W, on_disconnected="inf")
    assert np.isinf(D[0, 2]) and D[0, 1] == 1


def test_dense_guard_names_landmarks(graph, monkeypatch):
    monkeypatch.setattr(_validation, "MAX_DENSE_BYTES", 1000)
    with pytest.raises(ValueError, match="landmark"):
        shortest_paths(graph)


def test_bad_sources(graph):
    with pytest.raises(ValueError, match="out-of-range"):
        shortest_paths(graph, sources=[500])
    with pytest.raises(TypeError, match="integer"):
        shortest_paths(graph, sources=[0.5])


def test_farthest_point_landmarks(graph):
    L, D = landmark_shortest_paths(graph, 10, random_state=0)
    assert len(set(L)) == 10
    np.testing.assert_allclose(D, shortest_paths(graph, L))
    # farthest-point property: each new landmark maximizes the distance to the set
    full = shortest_paths(graph)
    for k in range(1, 10):
        nearest = full[L[:k]].min(axis=0)
        assert nearest[L[k]] == pytest.approx(nearest.max())
    L2 = select_landmarks(graph, 10, random_state=0)
    np.testing.assert_array_equal(L, L2)


def test_random_landmarks_reproducible(graph):
    a = select_landmarks(graph, 5, method="random", random_state=3)
    b = select_landmarks(graph, 5, method="random", random_state=3)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="n_landmarks must be <="):
        select_landmarks(graph, 500)
    with pytest.raises(ValueError, match="method"):
        select_landmarks(graph, 5, method="bogus")


def test_explicit_zero_length_edges_kept():
    # issue 13: stored zeros of a sparse matrix are edges of length 0 (SciPy)
    import scipy.sparse as sp
    from scipy.sparse import csgraph

    W = sp.csr_array(([0.0, 0.0, 1.0, 1.0], ([0, 1, 1, 2], [1, 0, 2, 1])), shape=(3, 3))
    expected = csgraph.dijkstra(W, directed=False, indices=[0])
    np.testing.assert_array_equal(expected, [[0.0, 0.0, 1.0]])
    np.testing.assert_array_equal(shortest_paths(W, [0]), expected)
    assert W.nnz == 4  # input untouched
    # landmark distances see the same graph (node 1 is at distance 0 from 0)
    L, DL = landmark_shortest_paths(W, 2, random_state=0)
    np.testing.assert_array_equal(DL, shortest_paths(W, L))
    # an explicit zero on the diagonal is not an edge, and a dense zero never is
    D = shortest_paths(np.array([[0.0, 0.0], [0.0, 0.0]]), on_disconnected="inf")
    np.testing.assert_array_equal(D, [[0.0, np.inf], [np.inf, 0.0]])
