import pickle

import numpy as np
import pytest
from scipy.linalg import expm, logm
from scipy.spatial.transform import Rotation

from manigeo.lie import LieGroupStandardScaler


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """scipy's logm on 3x3 matrices is 20x slower with BLAS threads on a
    loaded machine; the reference computations below use one thread."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _rotations(rng, n=12, spread=0.4, seed=1):
    base = Rotation.random(random_state=seed)
    return (base * Rotation.from_rotvec(spread * rng.normal(size=(n, 3)))).as_matrix()


def _rigid(rng, n=12):
    T = np.zeros((n, 4, 4))
    T[:, :3, :3] = _rotations(rng, n)
    T[:, :3, 3] = rng.normal(size=(n, 3)) + [3.0, -1.0, 0.5]
    T[:, 3, 3] = 1.0
    return T


def _barycenter_residual(X, m):
    """sum_i log(m^-1 X_i) with scipy (independent of geomstats)."""
    mi = np.linalg.inv(m)
    return np.mean([np.real(logm(mi @ x)) for x in X], axis=0)


@pytest.mark.parametrize("group", ["SO", "SE"])
def test_mean_identity_dispersion_one_and_inverse(rng, group):
    X = _rotations(rng) if group == "SO" else _rigid(rng)
    X0 = X.copy()
    sc = LieGroupStandardScaler(group=group, target_dispersion=0.5).fit(X)
    # the fitted mean is the exponential barycenter (scipy check)
    assert np.abs(_barycenter_residual(X, sc.mean_)).max() < 1e-9
    Y = sc.transform(X)
    np.testing.assert_array_equal(X, X0)
    d = X.shape[-1]
    # after the transform: barycenter at I, dispersion = target
    assert np.abs(_barycenter_residual(Y, np.eye(d))).max() < 1e-9
    logs = np.array([np.real(logm(y)) for y in Y])
    np.testing.assert_allclose(np.mean(np.sum(logs**2, axis=(1, 2))), 0.5, rtol=1e-9)
    np.testing.assert_allclose(sc.inverse_transform(Y), X, atol=1e-10)
    # the outputs are group elements
    R = Y if group == "SO" else Y[:, :3, :3]
    np.testing.assert_allclose(
        R @ np.swapaxes(R, 1, 2), np.broadcast_to(np.eye(3), R.shape), atol=1e-12
    )


def test_so3_mean_is_geomstats_frechet_mean(rng):
    """For SO(n) with the bi-invariant metric the group mean is the Fréchet mean."""
    from manigeo.lie._groups import import_geomstats_groups, make_group

    import_geomstats_groups()
    from geomstats.learning.frechet_mean import FrechetMean

    X = _rotations(rng, n=15)
    sc = LieGroupStandardScaler(group="SO").fit(X)
    fm = FrechetMean(make_group("SO", 3)).set(max_iter=200, epsilon=1e-16).fit(X)
    np.testing.assert_allclose(sc.mean_, fm.estimate_, atol=1e-6)


def test_left_translation_commutes(rng):
    """Left-translating the data by g moves the mean to g·m and leaves the
    standardised output unchanged (left invariance)."""
    X = _rotations(rng)
    g = Rotation.random(random_state=7).as_matrix()
    a = LieGroupStandardScaler().fit(X)
    b = LieGroupStandardScaler().fit(g @ X)
    np.testing.assert_allclose(b.mean_, g @ a.mean_, atol=1e-9)
    np.testing.assert_allclose(b.transform(g @ X), a.transform(X), atol=1e-9)


def test_without_std_and_pickle(rng):
    X = _rotations(rng)
    sc = LieGroupStandardScaler(with_std=False).fit(X)
    Y = sc.transform(X)
    assert sc.scale_ == 1.0
    np.testing.assert_allclose(Y, np.linalg.inv(sc.mean_) @ X, atol=1e-10)
    np.testing.assert_allclose(pickle.loads(pickle.dumps(sc)).transform(X), Y)
    # algebra scaling: exp(s log(m^-1 x))
    s2 = LieGroupStandardScaler().fit(X)
    want = np.array(
        [expm(s2.scale_ * np.real(logm(np.linalg.inv(s2.mean_) @ x))) for x in X]
    )
    np.testing.assert_allclose(s2.transform(X), want, atol=1e-9)


def test_named_errors(rng):
    X = _rotations(rng, n=5)
    with pytest.raises(ValueError, match="rotation matrices"):
        LieGroupStandardScaler().fit(X * 1.1)
    refl = X.copy()
    refl[:, :, 0] *= -1
    with pytest.raises(ValueError, match="reflections"):
        LieGroupStandardScaler().fit(refl)
    T = _rigid(rng, 5)
    T[0, 3, 0] = 0.3
    with pytest.raises(ValueError, match="last row"):
        LieGroupStandardScaler(group="SE").fit(T)
    with pytest.raises(ValueError, match="shape"):
        LieGroupStandardScaler().fit(X.reshape(5, 9))
    nan = X.copy()
    nan[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        LieGroupStandardScaler().fit(nan)
    with pytest.raises(ValueError, match="group"):
        LieGroupStandardScaler(group="GL").fit(X)
    with pytest.raises(ValueError, match="fitted on"):
        LieGroupStandardScaler().fit(X).transform(_rotations(rng, 3)[:, :2, :2])


@pytest.mark.parametrize("group,k", [("SO", 3), ("SE", 3), ("SO", 2), ("SE", 2)])
@pytest.mark.parametrize("angle", [1e-9, 1e-5, 0.7, 2.5, np.pi - 5e-3, np.pi - 1e-8])
def test_closed_form_maps_match_scipy(rng, group, k, angle):
    from manigeo.lie._maps import group_exp, group_inverse, group_log

    n = 4
    if k == 3:
        w = rng.normal(size=(n, 3))
        R = Rotation.from_rotvec(angle * w / np.linalg.norm(w, axis=1)[:, None])
        R = R.as_matrix()
    else:
        phi = angle * np.array([1.0, -1.0, 1.0, -1.0])
        c, s = np.cos(phi), np.sin(phi)
        R = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)
    if group == "SO":
        X = R
    else:
        X = np.zeros((n, k + 1, k + 1))
        X[:, :k, :k] = R
        X[:, :k, k] = rng.normal(size=(n, k))
        X[:, k, k] = 1.0
    L = group_log(X, group)
    ref = np.array([np.real(logm(x)) for x in X])
    # scipy's logm itself loses digits next to pi
    atol = 1e-12 if angle < 3 else 1e-7
    np.testing.assert_allclose(L, ref, atol=atol)
    np.testing.assert_allclose(group_exp(L, group), X, atol=1e-12)
    np.testing.assert_allclose(
        group_exp(ref, group), np.array([expm(r) for r in ref]), atol=1e-12
    )
    d = X.shape[-1]
    np.testing.assert_allclose(
        group_inverse(X, group) @ X, np.broadcast_to(np.eye(d), X.shape), atol=1e-12
    )


def test_groups_n_jobs_identical_and_per_group_standardised(rng):
    X = np.concatenate([_rotations(rng, 10, seed=1), _rotations(rng, 8, seed=2)])
    groups = np.array(["a"] * 10 + ["b"] * 8)
    a = LieGroupStandardScaler().fit(X, groups=groups)
    b = LieGroupStandardScaler(n_jobs=2).fit(X, groups=groups)
    np.testing.assert_array_equal(a.means_, b.means_)
    np.testing.assert_array_equal(a.scales_, b.scales_)
    assert list(a.groups_) == ["a", "b"]
    Y = a.transform(X, groups=groups)
    for g in ("a", "b"):
        single = LieGroupStandardScaler().fit(X[groups == g])
        np.testing.assert_allclose(a.means_[list(a.groups_).index(g)], single.mean_)
        np.testing.assert_allclose(Y[groups == g], single.transform(X[groups == g]))
        assert np.abs(_barycenter_residual(Y[groups == g], np.eye(3))).max() < 1e-9
    np.testing.assert_allclose(a.inverse_transform(Y, groups=groups), X, atol=1e-10)
    with pytest.raises(ValueError, match="pass groups"):
        a.transform(X)
    with pytest.raises(ValueError, match="not seen"):
        a.transform(X, groups=np.array(["c"] * 18))
    with pytest.raises(ValueError, match="NaN"):
        LieGroupStandardScaler().fit(X, groups=np.full(18, np.nan))


def test_verbose_progress_and_many_elements(rng, capsys):
    X = _rotations(rng, n=3000, spread=0.8)
    sc = LieGroupStandardScaler(verbose=True).fit(X)
    assert "group means" in capsys.readouterr().err
    assert np.abs(_barycenter_residual(X[:200], sc.mean_)).max() < 0.2  # sanity
    logs = np.array([np.real(logm(np.linalg.inv(sc.mean_) @ x)) for x in X[:50]])
    Y = sc.transform(X[:50])
    np.testing.assert_allclose(
        Y, np.array([expm(sc.scale_ * v) for v in logs]), atol=1e-10
    )
