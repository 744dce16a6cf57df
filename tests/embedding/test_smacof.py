"""SMACOF stress majorization."""

import numpy as np
import pytest
from scipy.linalg import orthogonal_procrustes
from scipy.spatial.distance import cdist
from sklearn.manifold import smacof as sk_smacof

from manigeo.embedding import classical_mds, smacof


def _raw_stress(D, Y):
    iu = np.triu_indices(len(D), 1)
    return ((cdist(Y, Y)[iu] - D[iu]) ** 2).sum()


def test_recovers_euclidean_configuration(rng):
    X = rng.normal(size=(60, 2))
    D = cdist(X, X)
    Y, stress, _ = smacof(D, return_stress=True)
    assert stress < 1e-6
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    R, _ = orthogonal_procrustes(Yc, Xc)
    np.testing.assert_allclose(Yc @ R, Xc, atol=1e-4)


def test_stress_decreases_and_matches_sklearn(rng):
    X = rng.normal(size=(80, 5))
    D = cdist(X, X)
    init = classical_mds(D, 2)
    stresses = [
        _raw_stress(D, smacof(D, init=init, max_iter=it, tol=0)) for it in (0, 1, 5, 30)
    ]
    assert all(b <= a + 1e-9 for a, b in zip(stresses, stresses[1:], strict=False))
    assert stresses[-1] < 0.9 * stresses[0]
    Y = smacof(D, init=init, max_iter=1000, tol=1e-9)
    Ysk, _ = sk_smacof(
        D,
        n_components=2,
        init=init.copy(),
        n_init=1,
        max_iter=1000,
        eps=1e-12,
        metric=True,
        normalized_stress=False,
    )
    assert _raw_stress(D, Y) == pytest.approx(_raw_stress(D, Ysk), rel=2e-3)


def test_classical_mds_lanczos_matches_dense(rng):
    """The Lanczos path of classical_mds (n > 200) equals the dense eigh."""
    from scipy.linalg import eigh

    X = rng.normal(size=(300, 4))
    D = cdist(X, X)
    D2 = D**2
    row = D2.mean(axis=0)
    B = -0.5 * (D2 - row[:, None] - row[None, :] + row.mean())
    w, V = eigh(B)
    ref = V[:, ::-1][:, :2] * np.sqrt(w[::-1][:2])
    np.testing.assert_allclose(np.abs(classical_mds(D, 2)), np.abs(ref), atol=1e-6)


def test_unit_weights_equal_unweighted(rng):
    X = rng.normal(size=(40, 3))
    D = cdist(X, X)
    Y1 = smacof(D, max_iter=20, tol=0)
    Y2 = smacof(D, weights=np.ones_like(D), max_iter=20, tol=0)
    np.testing.assert_allclose(Y1, Y2, atol=1e-8)
    # zero weight on one pair: that pair is free to move
    W = np.ones_like(D)
    W[0, 1] = W[1, 0] = 0
    D2 = D.copy()
    D2[0, 1] = D2[1, 0] = 100.0
    Y3 = smacof(D2, weights=W, max_iter=300)
    assert np.linalg.norm(Y3[0] - Y3[1]) < 10


def test_point_masses_equal_product_weight_matrix(rng):
    # the O(n^2) point-mass path against the pseudo-inverse path on c c^T
    X = rng.normal(size=(40, 3))
    D = cdist(X, X) * (1 + 0.3 * rng.random((40, 40)))
    D = 0.5 * (D + D.T)
    np.fill_diagonal(D, 0)
    c = rng.integers(1, 9, size=40).astype(float)
    Y1, s1, n1 = smacof(D, weights=c, max_iter=50, tol=0, return_stress=True)
    Y2, s2, n2 = smacof(
        D, weights=np.outer(c, c), max_iter=50, tol=0, return_stress=True
    )
    np.testing.assert_allclose(Y1, Y2, atol=1e-8)
    assert s1 == pytest.approx(s2) and n1 == n2
    np.testing.assert_allclose(Y1.mean(axis=0), 0, atol=1e-12)
    # and the masses matter: heavy points keep their distances better
    Yu = smacof(D, max_iter=50, tol=0)
    heavy = c >= 6
    err = lambda Y: np.abs(cdist(Y[heavy], Y[heavy]) - D[np.ix_(heavy, heavy)]).sum()  # noqa: E731
    assert err(Y1) < err(Yu)


def test_random_init_reproducible(rng):
    X = rng.normal(size=(30, 3))
    D = cdist(X, X)
    a = smacof(D, init="random", random_state=3, max_iter=10)
    b = smacof(D, init="random", random_state=3, max_iter=10)
    c = smacof(D, init="random", random_state=4, max_iter=10)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


@pytest.mark.parametrize(
    "D, kwargs, match",
    [
        (np.array([[0, 1], [2, 0.0]]), {}, "symmetric"),
        (np.array([[0, -1], [-1, 0.0]]), {}, "negative"),
        (np.array([[0, np.nan], [np.nan, 0.0]]), {}, "NaN"),
        (np.zeros((3, 2)), {}, "square"),
        (np.zeros((1, 1)), {}, "at least 2"),
        (
            np.ones((3, 3)) - np.eye(3),
            {"init": np.zeros((2, 2))},
            "init must have shape",
        ),
        (np.ones((3, 3)) - np.eye(3), {"init": "pca"}, "init must be"),
        (
            np.ones((3, 3)) - np.eye(3),
            {"weights": np.ones((2, 2))},
            "weights must have shape",
        ),
        (np.ones((3, 3)) - np.eye(3), {"weights": -np.ones((3, 3))}, "non-negative"),
        (np.ones((3, 3)) - np.eye(3), {"weights": np.array([1.0, 0, 1])}, "positive"),
        (np.ones((3, 3)) - np.eye(3), {"n_components": 5}, "n_components"),
        (np.ones((3, 3)) - np.eye(3), {"tol": -1.0}, "tol"),
    ],
)
def test_bad_inputs(D, kwargs, match):
    with pytest.raises(ValueError, match=match):
        smacof(D, **kwargs)
