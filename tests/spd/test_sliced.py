import numpy as np
import pytest

from manigeo.spd import (
    distance,
    expm,
    logm,
    sliced_wasserstein,
    sliced_wasserstein_kernel,
)
from manigeo.spd._sliced import _directions, _project

from ._spd_data import random_spd


@pytest.mark.parametrize("m", [30, 17])
def test_logeuclid_equals_pot_on_log_mapped_matrices(rng, m):
    ot = pytest.importorskip("ot")
    X = random_spd(rng, 30, 4, cond=20)
    Y = random_spd(rng, m, 4, cond=50)
    P, theta = _directions(4, 40, 3)
    A = (P * theta[:, None, :]) @ np.swapaxes(P, -1, -2)
    proj = A.reshape(40, 16).T  # unit Frobenius norm columns
    np.testing.assert_allclose(np.linalg.norm(proj, axis=0), 1.0)
    ref = ot.sliced_wasserstein_distance(
        logm(X).reshape(30, 16), logm(Y).reshape(m, 16), projections=proj, p=2
    )
    ours = sliced_wasserstein(X, Y, n_projections=40, random_state=3)
    np.testing.assert_allclose(ours, ref, rtol=1e-10)
    ref1 = ot.sliced_wasserstein_distance(
        logm(X).reshape(30, 16), logm(Y).reshape(m, 16), projections=proj, p=1
    )
    np.testing.assert_allclose(
        sliced_wasserstein(X, Y, n_projections=40, p=1, random_state=3),
        ref1,
        rtol=1e-10,
    )


@pytest.mark.parametrize("metric", ["logeuclid", "affine"])
def test_one_dimensional_gaussians_closed_form(metric):
    # 1x1 SPD matrices x = exp(l): both projections are +-l, so SW_2 is W_2
    # between the laws of l; quantile-matched N(m, s^2) samples give
    # W_2^2 = (m1 - m2)^2 + (s1 - s2)^2 * mean(z^2) exactly
    from scipy.stats import norm

    n = 400
    z = norm.ppf((np.arange(n) + 0.5) / n)
    X = np.exp(0.3 + 1.2 * z)[:, None, None]
    Y = np.exp(-0.5 + 0.4 * z)[:, None, None]
    want = np.sqrt(0.8**2 + 0.8**2 * np.mean(z**2))
    got = sliced_wasserstein(X, Y, n_projections=3, metric=metric, random_state=0)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(want, np.sqrt(2 * 0.8**2), rtol=1e-2)  # -> closed form


@pytest.mark.parametrize("metric", ["logeuclid", "affine"])
def test_symmetric_zero_on_identical_sets_and_invariances(rng, metric):
    X = random_spd(rng, 12, 3, cond=30)
    Y = random_spd(rng, 9, 3, cond=30)
    kw = {"n_projections": 25, "metric": metric, "random_state": 1}
    assert sliced_wasserstein(X, X, **kw) == 0.0
    d = sliced_wasserstein(X, Y, **kw)
    assert d > 0
    np.testing.assert_allclose(sliced_wasserstein(Y, X, **kw), d, rtol=1e-12)
    # order of the samples does not matter
    np.testing.assert_allclose(sliced_wasserstein(X[::-1], Y, **kw), d, rtol=1e-12)
    # triangle inequality (a distance for fixed directions)
    Z = random_spd(rng, 10, 3, cond=5)
    assert d <= sliced_wasserstein(X, Z, **kw) + sliced_wasserstein(Z, Y, **kw) + 1e-12


def test_busemann_coordinates(rng):
    P, theta = _directions(4, 6, 0)
    A = (P * theta[:, None, :]) @ np.swapaxes(P, -1, -2)
    # along the geodesic exp(tA): t^A(exp(tA)) = -t
    for t in (0.5, -1.3):
        M = expm(t * A)
        vals = np.array(
            [
                _project(M[k : k + 1], P[k : k + 1], theta[k : k + 1], "affine")[0, 0]
                for k in range(6)
            ]
        )
        np.testing.assert_allclose(vals, -t, rtol=1e-10)
    # constant on horospheres: congruence by P U Pᵀ with U unit upper triangular
    X = random_spd(rng, 5, 4, cond=30)
    U = np.triu(rng.normal(size=(4, 4)), 1) + np.eye(4)
    N = P[0] @ U @ P[0].T
    before = _project(X, P[:1], theta[:1], "affine")
    after = _project(N @ X @ N.T, P[:1], theta[:1], "affine")
    np.testing.assert_allclose(after, before, rtol=1e-9, atol=1e-9)
    # Busemann functions are 1-Lipschitz for the affine-invariant distance
    proj = _project(X, P, theta, "affine")
    dist = distance(X[:-1], X[1:])
    assert np.all(np.abs(proj[:, :-1] - proj[:, 1:]) <= dist[None] + 1e-10)


def test_kernel_is_a_gram_matrix_for_kernel_ridge(rng):
    from sklearn.kernel_ridge import KernelRidge

    scales = np.linspace(0.5, 2.0, 10)
    sets = [random_spd(rng, 8 + i % 3, 3, cond=4) * s for i, s in enumerate(scales)]
    K = sliced_wasserstein_kernel(sets, n_projections=30, gamma=0.5, random_state=0)
    assert K.shape == (10, 10)
    np.testing.assert_allclose(K, K.T)
    np.testing.assert_allclose(np.diag(K), 1.0)
    assert np.linalg.eigvalsh(K).min() > -1e-10  # positive semi-definite
    sw = sliced_wasserstein(sets[0], sets[4], n_projections=30, random_state=0)
    np.testing.assert_allclose(K[0, 4], np.exp(-0.5 * sw**2), rtol=1e-12)
    Kt = sliced_wasserstein_kernel(
        sets[:3], sets, n_projections=30, gamma=0.5, random_state=0
    )
    np.testing.assert_allclose(Kt, K[:3])
    model = KernelRidge(kernel="precomputed", alpha=1e-6).fit(K, scales)
    assert np.abs(model.predict(Kt) - scales[:3]).max() < 1e-3


def test_bad_input():
    X = np.stack([np.eye(2)] * 3)
    with pytest.raises(ValueError, match="metric"):
        sliced_wasserstein(X, X, metric="bures")
    with pytest.raises(ValueError, match="n_projections"):
        sliced_wasserstein(X, X, n_projections=0)
    with pytest.raises(ValueError, match="different sizes"):
        sliced_wasserstein(X, np.stack([np.eye(3)] * 2))
    with pytest.raises(ValueError, match="empty"):
        sliced_wasserstein(X, np.zeros((0, 2, 2)))
    with pytest.raises(ValueError):
        sliced_wasserstein(X, -X)
    with pytest.raises(ValueError, match="gamma"):
        sliced_wasserstein_kernel([X], gamma=0)
    before = X.copy()
    sliced_wasserstein(X, 2 * X, random_state=0)
    np.testing.assert_array_equal(X, before)
