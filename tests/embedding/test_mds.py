import numpy as np
import pytest
from scipy.spatial.distance import cdist
from sklearn.manifold import MDS  # noqa: F401  (sklearn has no classical MDS)

from manigeo.embedding import classical_mds, landmark_mds


def test_classical_mds_recovers_euclidean_configuration(rng):
    X = rng.normal(size=(100, 3)) * [4, 2, 1]
    D = cdist(X, X)
    Y, w = classical_mds(D, 3, return_eigenvalues=True)
    np.testing.assert_allclose(cdist(Y, Y), D, atol=1e-10)
    Xc = X - X.mean(0)
    np.testing.assert_allclose(
        np.sort(w), np.sort(np.linalg.eigvalsh(Xc.T @ Xc)), rtol=1e-10
    )


def test_landmark_mds_equals_classical_on_euclidean_data(rng):
    X = rng.normal(size=(400, 2)) * [3, 1]
    D = cdist(X, X)
    L = rng.choice(400, 25, replace=False)
    Y = landmark_mds(D[L], L, 2)
    np.testing.assert_allclose(cdist(Y, Y), D, atol=1e-9)


def test_landmark_mds_is_de_silva_tenenbaum_on_non_euclidean_distances(rng):
    # arc lengths on a circle are not Euclidean: landmark MDS must still be
    # de Silva & Tenenbaum's closed form, -1/2 pinv(L)^T (d^2 - mean_b delta_ab)
    theta = rng.uniform(0, 2 * np.pi, 120)
    gap = np.abs(np.subtract.outer(theta, theta))
    D = np.minimum(gap, 2 * np.pi - gap)
    L = np.sort(rng.choice(120, 15, replace=False))
    Y = landmark_mds(D[L], L, 2)
    delta = D[np.ix_(L, L)] ** 2
    mean = delta.mean(axis=1)
    J = np.eye(15) - 1.0 / 15
    w, V = np.linalg.eigh(-0.5 * J @ delta @ J)
    w, V = w[::-1][:2], V[:, ::-1][:, :2]
    ref = -0.5 * (D[L] ** 2 - mean[:, None]).T @ (V / np.sqrt(w))
    np.testing.assert_allclose(np.abs(Y), np.abs(ref), atol=1e-8)  # up to signs
    np.testing.assert_allclose(cdist(Y, Y), cdist(ref, ref), atol=1e-8)


def test_deterministic_signs(rng):
    X = rng.normal(size=(50, 2))
    D = cdist(X, X)
    np.testing.assert_array_equal(classical_mds(D, 2), classical_mds(D.copy(), 2))


def test_bad_inputs():
    with pytest.raises(ValueError, match="infinite"):
        classical_mds(np.array([[0, np.inf], [np.inf, 0]]))
    with pytest.raises(ValueError, match="square"):
        classical_mds(np.zeros((2, 3)))
    D = cdist(np.arange(5.0)[:, None], np.arange(5.0)[:, None])
    with pytest.raises(ValueError, match="positive eigenvalues"):
        landmark_mds(D[[0, 4]], np.array([0, 4]), 2)
