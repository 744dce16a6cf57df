import pickle

import numpy as np
import pytest
from sklearn.base import clone

from manigeo.spd import SPDRecenter, SPDStandardScaler, dispersion, distance, mean

from ._spd_data import connectomes, random_spd

GROUP_METRICS = [
    ("affine", 1.0),
    ("affine", 0.5),
    ("affine", -0.5),
    ("logeuclid", 1.0),
    ("logcholesky", 1.0),
    ("logcholesky", 1.5),
]


@pytest.fixture(scope="module")
def conn():
    return connectomes()[0]


@pytest.mark.parametrize("metric,theta", GROUP_METRICS)
def test_standard_scaler_mean_identity_dispersion_target(conn, metric, theta):
    X = conn.copy()
    for target in (1.0, 2.5):
        sc = SPDStandardScaler(metric=metric, theta=theta, target_dispersion=target)
        Y = sc.fit_transform(X)
        np.testing.assert_array_equal(X, conn)  # caller's array untouched
        M = mean(Y, metric, theta=theta, tol=1e-13)
        assert np.abs(M - np.eye(28)).max() < 1e-8
        assert (
            abs(dispersion(Y, np.eye(28), metric, theta=theta) - target) < 1e-8 * target
        )
        assert (
            abs(sc.dispersion_ - dispersion(X, sc.mean_, metric, theta=theta)) < 1e-10
        )
        np.testing.assert_allclose(sc.inverse_transform(Y), X, rtol=1e-9, atol=1e-10)


def test_standard_scaler_alpha_beta_dispersion(rng):
    X = random_spd(rng, 30, 4, cond=20)
    sc = SPDStandardScaler(alpha=2.0, beta=0.2).fit(X)
    Y = sc.transform(X)
    np.testing.assert_allclose(
        dispersion(Y, np.eye(4), alpha=2.0, beta=0.2), 1.0, rtol=1e-9
    )


def test_without_std_only_centres(conn):
    sc = SPDStandardScaler(with_std=False).fit(conn)
    Y = sc.transform(conn)
    assert sc.scale_ == 1.0
    # centring is an isometry: pairwise distances preserved
    np.testing.assert_allclose(
        distance(Y[:10], Y[10:20]), distance(conn[:10], conn[10:20]), rtol=1e-9
    )
    np.testing.assert_allclose(dispersion(Y, np.eye(28)), sc.dispersion_, rtol=1e-9)


def test_affine_scaler_matches_pyriemann_tlcenter_tlscale(conn):
    """Parity with pyRiemann's TLCenter + TLScale (single domain)."""
    from pyriemann.transfer import TLCenter, TLScale, encode_domains

    y = np.zeros(len(conn), dtype=int)
    Xd, yd = encode_domains(conn.copy(), y, np.array(["d"] * len(conn)))
    Xc = TLCenter(target_domain="d").fit_transform(Xd.copy(), yd)
    Xs = TLScale(
        target_domain="d", final_dispersion=1.0, centered_data=True
    ).fit_transform(Xc.copy(), yd)
    Y = SPDStandardScaler().fit_transform(conn)
    np.testing.assert_allclose(Y, Xs, atol=1e-7)


def test_pyriemann_tlscale_writes_into_caller_array_ours_does_not(conn):
    from pyriemann.transfer import TLScale, encode_domains

    X = conn[:20].copy()
    Xd, yd = encode_domains(X, np.zeros(20, int), np.array(["d"] * 20))
    before = Xd.copy()
    TLScale(target_domain="d").fit_transform(Xd, yd)
    pyriemann_mutates = not np.array_equal(Xd, before)
    X2 = conn[:20].copy()
    SPDStandardScaler().fit_transform(X2)
    SPDRecenter(rescale=True).fit_transform(X2, groups=np.repeat([0, 1], 10))
    np.testing.assert_array_equal(X2, conn[:20])
    assert pyriemann_mutates  # documents the peer quirk (spd.md §3)


@pytest.mark.parametrize("metric", ["affine", "logeuclid", "logcholesky"])
def test_recenter_groups(rng, metric):
    A = random_spd(rng, 60, 4, cond=10)
    shift = [np.eye(4), np.diag([5.0, 1, 1, 0.2]), random_spd(rng, 1, 4, cond=50)[0]]
    groups = np.repeat(["s1", "s2", "s3"], 20)
    X = np.concatenate(
        [
            (np.linalg.cholesky(S) @ A[i * 20 : (i + 1) * 20] @ np.linalg.cholesky(S).T)
            for i, S in enumerate(shift)
        ]
    )
    rc = SPDRecenter(metric=metric, rescale=True, target_dispersion=0.5)
    Y = rc.fit_transform(X, groups=groups)
    assert list(rc.groups_) == ["s1", "s2", "s3"]
    for g in ("s1", "s2", "s3"):
        Yg = Y[groups == g]
        np.testing.assert_allclose(mean(Yg, metric), np.eye(4), atol=1e-8)
        np.testing.assert_allclose(dispersion(Yg, np.eye(4), metric), 0.5, rtol=1e-8)
    # per-group results equal a standard scaler fitted on that group alone
    sc = SPDStandardScaler(metric=metric, target_dispersion=0.5)
    np.testing.assert_allclose(
        Y[groups == "s2"], sc.fit_transform(X[groups == "s2"]), atol=1e-10
    )
    # transform with the fitted statistics == fit_transform
    np.testing.assert_allclose(rc.transform(X, groups=groups), Y, atol=1e-12)
    # an unseen group is re-centred with its own mean
    Z = rc.transform(X[groups == "s3"], groups=np.array(["new"] * 20))
    np.testing.assert_allclose(mean(Z, metric), np.eye(4), atol=1e-8)


def test_recenter_affine_matches_pyriemann_tlcenter(conn):
    from pyriemann.transfer import TLCenter, encode_domains

    domains = np.repeat(["a", "b"], 43)
    X = conn.copy()
    X[43:] = 2.0 * X[43:] + np.eye(28)
    Xd, yd = encode_domains(X.copy(), np.zeros(86, int), domains)
    ref = TLCenter(target_domain="b").fit_transform(Xd, yd)
    Y = SPDRecenter().fit_transform(X, groups=domains)
    np.testing.assert_allclose(Y, ref, atol=1e-7)


def test_recenter_errors(rng):
    X = random_spd(rng, 10, 3)
    rc = SPDRecenter().fit(X, groups=np.repeat([0, 1], 5))
    with pytest.raises(ValueError, match="pass groups="):
        rc.transform(X)
    with pytest.raises(ValueError, match="groups must have shape"):
        SPDRecenter().fit(X, groups=[0, 1])
    # single group: groups may be omitted at transform time
    rc1 = SPDRecenter().fit(X)
    np.testing.assert_allclose(mean(rc1.transform(X)), np.eye(3), atol=1e-8)


@pytest.mark.parametrize("Est", [SPDStandardScaler, SPDRecenter])
def test_input_validation_named_errors(rng, Est):
    X = random_spd(rng, 5, 3)
    bad = X.copy()
    bad[0, 0, 1] += 1.0
    with pytest.raises(ValueError, match="not symmetric"):
        Est().fit(bad)
    neg = X.copy()
    neg[1] = -neg[1]
    with pytest.raises(ValueError, match="not positive definite"):
        Est().fit(neg)
    nan = X.copy()
    nan[2, 1, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        Est().fit(nan)
    with pytest.raises(ValueError, match="ndim"):
        Est().fit(X[0])
    with pytest.raises(ValueError, match="metric"):
        Est(metric="bures-wasserstein").fit(X)
    with pytest.raises(ValueError, match="features"):
        Est().fit(X).transform(random_spd(rng, 5, 4))
    with pytest.raises(ValueError, match="theta"):
        Est(theta=0.0).fit(X)


@pytest.mark.parametrize("Est", [SPDStandardScaler, SPDRecenter])
def test_sklearn_properties_on_3d_input(rng, Est):
    """The sklearn-check properties that need 3-D data, checked here."""
    X = random_spd(rng, 12, 3)
    X_ro = X.copy()
    X_ro.setflags(write=False)
    est = Est().fit(X_ro)  # read-only input accepted
    Y = est.transform(X)
    assert est.n_features_in_ == 3
    # idempotent fit, clone, pickle
    np.testing.assert_allclose(clone(est).fit(X).transform(X), Y, atol=1e-12)
    np.testing.assert_allclose(
        pickle.loads(pickle.dumps(est)).transform(X), Y, atol=1e-12
    )
    # sample order and subset invariance of transform
    perm = rng.permutation(12)
    np.testing.assert_allclose(est.transform(X[perm]), Y[perm], atol=1e-12)
    np.testing.assert_allclose(est.transform(X[:4]), Y[:4], atol=1e-12)
    # lists and float32 accepted (float64 out)
    assert est.transform(X.astype(np.float32)).dtype == np.float64
    np.testing.assert_allclose(est.transform(X.tolist()), Y, atol=1e-12)


@pytest.mark.parametrize(
    "metric,theta",
    [("affine", 1.0), ("affine", -0.5), ("logeuclid", 1.0), ("logcholesky", 0.5)],
)
def test_scaler_is_the_metric_group_actions(rng, metric, theta):
    """One implementation of the group actions: the metric methods."""
    from manigeo.spd import get_metric

    X = random_spd(rng, 12, 4, cond=20)
    sc = SPDStandardScaler(metric=metric, theta=theta).fit(X)
    g = get_metric(metric, theta)
    C = g.transport_to_identity(X, sc.mean_)
    np.testing.assert_allclose(sc.transform(X), g.stretch(C, sc.scale_), atol=1e-10)
    # the actions are isometries / scale distances to I by |s|
    np.testing.assert_allclose(
        g.distance(C[:6], C[6:]), g.distance(X[:6], X[6:]), rtol=1e-8
    )
    eye = np.eye(4)
    np.testing.assert_allclose(
        g.distance(g.stretch(C, 1.7), eye), 1.7 * g.distance(C, eye), rtol=1e-8
    )
    np.testing.assert_allclose(g.bias(C, sc.mean_), X, rtol=1e-9, atol=1e-10)
    with pytest.raises(ValueError, match="no Lie-group structure"):
        get_metric("bures-wasserstein").transport_to_identity(X, sc.mean_)


@pytest.mark.parametrize("Est", [SPDStandardScaler, SPDRecenter])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_torch_end_to_end_without_host_copy(rng, monkeypatch, Est, dtype, device):
    torch = pytest.importorskip("torch")
    X = random_spd(rng, 12, 3, cond=20)
    groups = np.repeat([0, 1], 6)
    kw = {"groups": groups} if Est is SPDRecenter else {}
    ref = Est().fit(X, **kw).transform(X, **kw)
    Xt = torch.tensor(X, dtype=getattr(torch, dtype), device=device)

    def boom(self, *a, **k):
        raise AssertionError("host copy of a tensor")

    monkeypatch.setattr(torch.Tensor, "numpy", boom)
    est = Est().fit(Xt, **kw)
    Y = est.transform(Xt, **kw)
    Z = est.inverse_transform(Y) if Est is SPDStandardScaler else None
    monkeypatch.undo()
    assert isinstance(Y, torch.Tensor) and Y.dtype == Xt.dtype
    assert Y.device.type == device
    tol = 1e-9 if dtype == "float64" else 1e-4
    np.testing.assert_allclose(Y.cpu().numpy(), ref, rtol=tol, atol=tol)
    if Z is not None:
        np.testing.assert_allclose(Z.cpu().numpy(), X, rtol=tol, atol=tol)
    # a torch-fitted estimator transforms numpy input too (and vice versa)
    np.testing.assert_allclose(est.transform(X, **kw), ref, rtol=tol, atol=tol)
