"""Local PCA frames, polar factors and Procrustes transports against per-item
numpy SVD references."""

import numpy as np
import pytest
import scipy.sparse as sp

from manigeo.sheaf import (
    estimate_dimension,
    local_pca,
    polar_factor,
    procrustes_transports,
    transport_maps,
)


def _svd_frame(X, i, nbrs, d):
    Y = X[nbrs] - X[i]
    U, s, _ = np.linalg.svd(Y.T, full_matrices=False)
    return U[:, :d], s**2


def _same_span(A, B):
    return np.abs(A @ A.T - B @ B.T).max()


@pytest.mark.parametrize("p, k", [(3, 8), (12, 6)])  # covariance and Gram paths
def test_local_pca_matches_svd(rng, p, k):
    n, d = 60, 2
    X = rng.normal(size=(n, p))
    ind = np.array(
        [rng.choice(np.delete(np.arange(n), i), k, replace=False) for i in range(n)]
    )
    frames, var = local_pca(X, ind, n_components=d)
    assert frames.shape == (n, p, d)
    eye = np.einsum("npa,npb->nab", frames, frames)
    np.testing.assert_allclose(eye, np.broadcast_to(np.eye(d), eye.shape), atol=1e-10)
    for i in range(n):
        ref, s2 = _svd_frame(X, i, ind[i], d)
        assert _same_span(frames[i], ref) < 1e-8
        np.testing.assert_allclose(
            var[i, : min(p, k)], s2[: min(p, k)], rtol=1e-8, atol=1e-12
        )


def test_local_pca_plane_and_ragged_graph(rng):
    """Points on a 2-plane in R^5: every frame spans the plane, with
    neighbourhoods of varying size given as a sparse adjacency."""
    n = 80
    basis = np.linalg.qr(rng.normal(size=(5, 2)))[0]
    X = rng.normal(size=(n, 2)) @ basis.T + 3.0
    A = sp.random_array((n, n), density=0.08, random_state=0, format="csr")
    A = ((A + A.T) > 0).astype(float)
    A.setdiag(0)
    A.eliminate_zeros()
    A = sp.lil_array(A)
    A[0, :] = 0  # isolated node: padded with its nearest points
    A[:, 0] = 0
    A = sp.csr_array(A)
    frames, _ = local_pca(X, A, n_components=2)
    for i in range(n):
        assert _same_span(frames[i], basis) < 1e-8


def test_padding_uses_nearest_non_neighbours():
    X = np.array([[0.0, 0, 0], [1, 0, 0], [0, 2, 0], [0, 0, 5], [9, 9, 9]])
    A = sp.csr_array(
        np.array(
            [
                [0, 1, 0, 0, 0],
                [1, 0, 1, 1, 1],
                [0, 1, 0, 0, 0],
                [0, 1, 0, 0, 0],
                [0, 1, 0, 0, 0],
            ],
            float,
        )
    )
    frames, _ = local_pca(X, A, n_components=2)
    # node 0 has one neighbour (1); the nearest non-neighbour is node 2
    ref, _ = _svd_frame(X, 0, [1, 2], 2)
    assert _same_span(frames[0], ref) < 1e-12


def test_estimate_dimension():
    var = np.array([[5.0, 4.0, 0.1], [9.0, 0.5, 0.5], [3.0, 3.0, 3.0]])
    d, per_point = estimate_dimension(var, 0.9)
    assert list(per_point) == [2, 1, 3]  # 9 / 10 reaches 0.9 exactly
    assert d == 2
    with pytest.raises(ValueError, match="threshold"):
        estimate_dimension(var, 1.5)


@pytest.mark.parametrize("d", [1, 2, 3, 4])
def test_polar_factor_matches_svd(rng, d):
    M = rng.normal(size=(200, d, d))
    M[:5] = np.linalg.qr(rng.normal(size=(5, d, d)))[0] * 0.3  # scaled orthogonal
    Q = polar_factor(M)
    U, _, Vt = np.linalg.svd(M)
    np.testing.assert_allclose(Q, U @ Vt, atol=1e-12)
    dets = np.linalg.det(Q)
    np.testing.assert_allclose(np.abs(dets), 1, atol=1e-12)
    assert (dets < 0).any() and (dets > 0).any()  # reflections are kept


def test_procrustes_and_transport_maps(rng):
    n, p, d = 20, 4, 2
    frames = np.linalg.qr(rng.normal(size=(n, p, d)))[0]
    ei = np.array([[0, 1, 3, 7, 2], [1, 0, 7, 3, 9]])
    T = procrustes_transports(frames, ei)
    for e, (i, j) in enumerate(ei.T):
        U, _, Vt = np.linalg.svd(frames[i].T @ frames[j])
        np.testing.assert_allclose(T[e], U @ Vt, atol=1e-12)
    np.testing.assert_allclose(T[0], T[1].T, atol=1e-12)
    maps = transport_maps(ei, T)
    np.testing.assert_array_equal(maps[0], np.eye(2))
    np.testing.assert_allclose(maps[1].T @ maps[0], T[1], atol=1e-15)


def test_frame_errors(rng):
    X = rng.normal(size=(10, 3))
    with pytest.raises(ValueError, match="n_features=3"):
        local_pca(X, np.zeros((10, 2), int), n_components=4)
    with pytest.raises(ValueError, match="neighbors must be"):
        local_pca(X, np.zeros((9, 2), int), n_components=2)
    with pytest.raises(TypeError, match="integers"):
        local_pca(X, np.zeros((10, 2)), n_components=2)
    with pytest.raises(ValueError, match=r"\[0, 10\)"):
        local_pca(X, np.full((10, 2), 11), n_components=2)
    with pytest.raises(ValueError, match="shape"):
        polar_factor(np.zeros((3, 2, 3)))
    with pytest.raises(ValueError, match="edge_index"):
        procrustes_transports(np.zeros((3, 3, 2)), np.array([[0, 5], [5, 0]]))


def test_rank_deficient_neighbourhood_completed():
    """A neighbourhood spanning fewer than d directions gets a deterministic
    orthonormal completion of its frame, cheaply in high dimension."""
    import time

    from manigeo.sheaf import local_pca

    rng = np.random.default_rng(0)
    p = 1500
    X = rng.normal(size=(6, p))
    X[1] = X[2] = X[0] + 1.0  # node 0's neighbours 1, 2 coincide: rank 1
    nbrs = np.array([[1, 2], [0, 2], [0, 1], [4, 5], [3, 5], [3, 4]])
    t0 = time.perf_counter()
    F, _ = local_pca(X, nbrs, n_components=2)
    assert time.perf_counter() - t0 < 5.0
    G = np.einsum("npa,npb->nab", F, F)
    np.testing.assert_allclose(G, np.broadcast_to(np.eye(2), G.shape), atol=1e-12)
    # the defined direction is kept: (1, ..., 1) / sqrt(p)
    np.testing.assert_allclose(np.abs(F[0, :, 0]), np.full(p, p**-0.5), atol=1e-12)
    F2, _ = local_pca(X, nbrs, n_components=2)
    np.testing.assert_array_equal(F, F2)
