import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse import csgraph
from scipy.spatial.distance import cdist

from manigeo.graphs import (
    alpha_decay_kernel,
    connected_components,
    gaussian_kernel,
    knn_graph,
    laplacian,
    to_adjacency,
)


def test_alpha_decay_matches_dense_formula(rng):
    X = rng.normal(size=(150, 4))
    k, decay, thr = 5, 10.0, 1e-4
    K = alpha_decay_kernel(X, k, decay=decay, threshold=thr).toarray()
    D = cdist(X, X)
    sigma = np.sort(D, axis=1)[:, k]
    A = np.exp(-((D / sigma[:, None]) ** decay))
    np.fill_diagonal(A, 0)
    ref = (A + A.T) / 2
    ref[ref < thr] = 0
    # one-sided affinities below the threshold are dropped before symmetrizing
    # (as graphtools does), so entries may differ by at most threshold / 2
    np.testing.assert_allclose(K, ref, rtol=0, atol=thr / 2)
    both = (A >= thr) & (A.T >= thr)
    np.testing.assert_allclose(K[both], ref[both], rtol=1e-12)


def test_gaussian_kernel(rng):
    X = rng.normal(size=(80, 2))
    D = knn_graph(X, 6, mode="distance")
    W = gaussian_kernel(D, sigma=0.5)
    np.testing.assert_allclose(W.data, np.exp(-((D.data / 0.5) ** 2)))
    assert gaussian_kernel(D).nnz == D.nnz
    with pytest.raises(ValueError, match="sigma"):
        gaussian_kernel(D, sigma=-1)


@pytest.mark.parametrize(
    "kind, ref",
    [
        ("combinatorial", lambda W: csgraph.laplacian(W)),
        ("symmetric", lambda W: csgraph.laplacian(W, normed=True)),
    ],
)
def test_laplacian_matches_scipy(rng, kind, ref):
    X = rng.normal(size=(60, 3))
    W = gaussian_kernel(knn_graph(X, 5, mode="distance"))
    np.testing.assert_allclose(
        laplacian(W, kind).toarray(), ref(W.toarray()), atol=1e-13
    )


def test_random_walk_laplacian_and_isolated_node():
    W = np.zeros((4, 4))
    W[0, 1] = W[1, 0] = 2.0
    W[1, 2] = W[2, 1] = 1.0
    L = laplacian(W, "random_walk").toarray()
    np.testing.assert_allclose(L.sum(axis=1), 0, atol=1e-15)
    np.testing.assert_allclose(L[3], 0)  # isolated node: zero row
    np.testing.assert_allclose(L[1], [-2 / 3, 1, -1 / 3, 0])


def test_null_space_counts_components(rng):
    W = sp.block_diag([knn_graph(rng.normal(size=(30, 2)), 4) for _ in range(3)])
    w = np.linalg.eigvalsh(laplacian(W).toarray())
    assert np.sum(w < 1e-9) == 3
    n_comp, labels, sizes = connected_components(W)
    assert n_comp == 3 and list(sizes) == [30, 30, 30]


def test_input_conversions_agree():
    W = np.array([[0, 1, 2], [1, 0, 0], [2, 0, 0]], dtype=float)
    ref = laplacian(W).toarray()
    inputs = [sp.coo_matrix(W), sp.csc_array(W), nx.from_numpy_array(W)]
    try:
        import torch
    except ImportError:  # the [torch] extra is optional
        torch = None
    if torch is not None:
        T = torch.tensor(W)
        inputs += [T.to_sparse(), T.to_sparse_csr(), T]
    for G in inputs:
        np.testing.assert_array_equal(laplacian(G).toarray(), ref)


def test_adjacency_validation():
    A = np.array([[0, 1], [0, 0]], dtype=float)
    with pytest.raises(ValueError, match="not symmetric"):
        to_adjacency(A)
    np.testing.assert_array_equal(
        to_adjacency(A, symmetric="max").toarray(), [[0, 1], [1, 0]]
    )
    with pytest.raises(ValueError, match="square"):
        to_adjacency(np.ones((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        to_adjacency(np.array([[0, np.nan], [np.nan, 0]]))
    with pytest.raises(ValueError, match="negative"):
        to_adjacency(-np.ones((2, 2)) + np.eye(2))
    loops = np.array([[1.0, 1], [1, 0]])
    assert to_adjacency(loops).diagonal().sum() == 0
    with pytest.raises(ValueError, match="self-loops"):
        to_adjacency(loops, self_loops="raise")
    with pytest.raises(ValueError, match="binary"):
        to_adjacency(np.array([[0, 2.0], [2.0, 0]]), binary=True)
    with pytest.raises(TypeError, match="object"):
        to_adjacency(np.array([[None, 1], [1, None]]))
    with pytest.raises(ValueError, match="laplacian|kind"):
        laplacian(np.eye(2), kind="bogus")
