import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

from manigeo import spd
from manigeo.spd import dispersion, distance, exp, geodesic, get_metric, log, mean

from ._spd_data import connectomes, pyriemann_geometry, random_spd

METRICS = ["affine", "logeuclid", "logcholesky", "bures-wasserstein"]
THETAS = [1.0, 0.5, -0.7, 1.5]


@pytest.fixture(scope="module")
def conn():
    return connectomes()[0]


def _geomstats_space(n, metric, theta=1.0):
    from manigeo.lie._groups import import_geomstats_groups

    import_geomstats_groups()
    from geomstats.geometry.scalar_product_metric import ScalarProductMetric
    from geomstats.geometry.spd_matrices import (
        SPDAffineMetric,
        SPDBuresWassersteinMetric,
        SPDLogEuclideanMetric,
        SPDMatrices,
        SPDPowerMetric,
    )

    cls = {
        "affine": SPDAffineMetric,
        "logeuclid": SPDLogEuclideanMetric,
        "bures-wasserstein": SPDBuresWassersteinMetric,
    }[metric]
    if theta == 1.0:
        return SPDMatrices(n, equip=False).equip_with_metric(cls)
    image = SPDMatrices(n, equip=False).equip_with_metric(cls)
    image.metric = ScalarProductMetric(image, 1.0 / theta**2)
    space = SPDMatrices(n, equip=False)
    space.equip_with_metric(SPDPowerMetric, image_space=image)
    return space


# ------------------------------------------------------------ means vs peers
def test_affine_mean_matches_pyriemann(conn, rng):
    pm, _, _ = pyriemann_geometry()
    for X in (conn, random_spd(rng, 40, 20, cond=50)):
        ref = pm.mean_riemann(X)
        M = mean(X, "affine")
        assert np.abs(M - ref).max() / np.abs(ref).max() < 1e-8
        # tighter peer tolerance -> tighter agreement
        ref_tight = pm.mean_riemann(X, tol=1e-12, maxiter=100)
        assert distance(M, ref_tight) < 1e-10


def test_closed_form_means_match_pyriemann(conn):
    pm, _, _ = pyriemann_geometry()
    np.testing.assert_allclose(
        mean(conn, "logeuclid"), pm.mean_logeuclid(conn), rtol=1e-12, atol=1e-12
    )
    np.testing.assert_allclose(
        mean(conn, "logcholesky"), pm.mean_logchol(conn), rtol=1e-12, atol=1e-12
    )


def test_bures_wasserstein_mean_matches_pyriemann(conn):
    pm, _, _ = pyriemann_geometry()
    ref = pm.mean_wasserstein(conn, tol=1e-10, maxiter=100)
    M = mean(conn, "bures-wasserstein")
    assert np.abs(M - ref).max() / np.abs(ref).max() < 1e-8


@pytest.mark.parametrize("metric", METRICS)
def test_mean_is_a_critical_point_and_weighted(rng, metric):
    X = random_spd(rng, 12, 4, cond=20)
    for theta in (1.0, 0.5):
        w = rng.uniform(0.1, 1.0, size=12)
        M = mean(X, metric, weights=w, theta=theta)
        # Riemannian gradient: weighted sum of logs at M vanishes
        V = np.tensordot(w / w.sum(), log(M, X, metric, theta=theta), axes=1)
        assert np.abs(V).max() < 1e-8 * max(1.0, np.abs(M).max())
    # integer weights == repetition
    w = np.array([3, 1] + [1] * 10)
    Xrep = np.concatenate([X[:1], X[:1], X])
    np.testing.assert_allclose(
        mean(X, metric, weights=w), mean(Xrep, metric), rtol=1e-8, atol=1e-10
    )


def test_theta_mean_is_mapped_mean(rng):
    X = random_spd(rng, 10, 4)
    for metric in ("affine", "logcholesky", "bures-wasserstein"):
        M = mean(X, metric, theta=0.5)
        np.testing.assert_allclose(
            M, spd.powm(mean(spd.powm(X, 0.5), metric), 2.0), rtol=1e-9
        )


def test_karcher_iterates_to_tolerance_not_one_step(conn):
    M, info = get_metric("affine").mean(conn, tol=1e-12, return_info=True)
    assert info["n_iter"] > 1 and info["grad_norm"] <= 1e-12
    with pytest.warns(ConvergenceWarning, match="did not reach"):
        mean(conn, "affine", max_iter=1, tol=1e-15, init=np.eye(28))


# ----------------------------------------------------- distances vs geomstats
@pytest.mark.parametrize("metric", ["affine", "logeuclid", "bures-wasserstein"])
def test_distances_match_geomstats(rng, metric):
    X = random_spd(rng, 6, 4, cond=30)
    space = _geomstats_space(4, metric)
    ref = space.metric.dist(X[:3], X[3:])
    np.testing.assert_allclose(distance(X[:3], X[3:], metric), ref, rtol=1e-10)


# geomstats SPDPowerMetric encodes the power as 1/sqrt(scale): positive powers only
@pytest.mark.parametrize("theta", [0.5, 1.5])
@pytest.mark.parametrize("metric", ["affine", "bures-wasserstein"])
def test_power_distances_match_geomstats_power_metric(rng, metric, theta):
    X = random_spd(rng, 4, 3, cond=30)
    space = _geomstats_space(3, metric, theta)
    ref = space.metric.dist(X[:2], X[2:])
    np.testing.assert_allclose(
        distance(X[:2], X[2:], metric, theta=theta), ref, rtol=1e-8
    )


def test_distances_match_pyriemann(conn):
    _, pd, _ = pyriemann_geometry()
    A, Bm = conn[:5], conn[5:10]
    for ours, ref in [
        ("affine", pd.distance_riemann),
        ("logeuclid", pd.distance_logeuclid),
        ("logcholesky", pd.distance_logchol),
        ("bures-wasserstein", pd.distance_wasserstein),
    ]:
        want = np.array([ref(a, b) for a, b in zip(A, Bm, strict=False)])
        np.testing.assert_allclose(distance(A, Bm, ours), want, rtol=1e-9)


def test_alpha_beta_distance_closed_form(rng):
    A, Bm = random_spd(rng, 2, 4)
    for metric in ("affine", "logeuclid"):
        if metric == "affine":
            Lg = spd.logm(spd.invsqrtm(A) @ Bm @ spd.invsqrtm(A))
        else:
            Lg = spd.logm(A) - spd.logm(Bm)
        want = 2.0 * np.sum(Lg**2) + 0.3 * np.trace(Lg) ** 2
        got = distance(A, Bm, metric, alpha=2.0, beta=0.3, squared=True)
        np.testing.assert_allclose(got, want, rtol=1e-10)
    # theta-AIM distance is d(A^θ, B^θ) / |θ|
    np.testing.assert_allclose(
        distance(A, Bm, theta=-0.5),
        distance(spd.powm(A, -0.5), spd.powm(Bm, -0.5)) / 0.5,
    )
    with pytest.raises(ValueError, match="beta must be > -alpha"):
        distance(A, Bm, "affine", beta=-0.5)
    with pytest.raises(ValueError, match="no \\(alpha, beta\\) family"):
        distance(A, Bm, "logcholesky", alpha=2.0)
    with pytest.raises(ValueError, match="theta"):
        distance(A, Bm, theta=0.0)


# ------------------------------------------------------- exp / log / geodesic
@pytest.mark.parametrize("theta", THETAS)
@pytest.mark.parametrize("metric", METRICS)
def test_exp_log_round_trip_and_geodesic(rng, metric, theta):
    P, Q = random_spd(rng, 2, 4, cond=20)
    V = log(P, Q, metric, theta=theta)
    np.testing.assert_allclose(V, V.T, atol=1e-12)
    np.testing.assert_allclose(exp(P, V, metric, theta=theta), Q, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(geodesic(P, Q, 0.0, metric, theta=theta), P, atol=1e-10)
    np.testing.assert_allclose(geodesic(P, Q, 1.0, metric, theta=theta), Q, atol=1e-9)
    G = geodesic(P, Q, 0.3, metric, theta=theta)
    np.testing.assert_allclose(
        G, exp(P, 0.3 * V, metric, theta=theta), rtol=1e-9, atol=1e-10
    )
    d = distance(P, Q, metric, theta=theta)
    np.testing.assert_allclose(distance(P, G, metric, theta=theta), 0.3 * d, rtol=1e-8)


def test_log_maps_match_pyriemann(conn):
    _, _, pt = pyriemann_geometry()
    P, Q = conn[0], conn[1]
    np.testing.assert_allclose(
        log(P, Q, "logcholesky"), pt.log_map_logchol(Q, P), atol=1e-12
    )
    np.testing.assert_allclose(
        exp(P, log(P, Q, "logcholesky"), "logcholesky"), Q, atol=1e-11
    )
    np.testing.assert_allclose(
        log(P, Q, "bures-wasserstein"), pt.log_map_wasserstein(Q, P), atol=1e-10
    )
    # pyriemann's Riemann log map is whitened: P^{-1/2} Log_P(Q) P^{-1/2}
    S = spd.invsqrtm(P)
    np.testing.assert_allclose(S @ log(P, Q) @ S, pt.log_map_riemann(Q, P), atol=1e-10)


def test_group_actions_are_isometries(rng):
    X = random_spd(rng, 2, 4)
    G = rng.normal(size=(4, 4))
    # congruence by GL(n) preserves the affine distance (also with theta = 1 only)
    np.testing.assert_allclose(
        distance(G @ X[0] @ G.T, G @ X[1] @ G.T), distance(X[0], X[1]), rtol=1e-9
    )
    # orthogonal conjugation preserves the O(n)-invariant metrics (not LCM)
    Q, _ = np.linalg.qr(G)
    for metric in ("affine", "logeuclid", "bures-wasserstein"):
        np.testing.assert_allclose(
            distance(Q @ X[0] @ Q.T, Q @ X[1] @ Q.T, metric),
            distance(X[0], X[1], metric),
            rtol=1e-9,
        )


def test_dispersion(rng):
    X = random_spd(rng, 10, 3)
    M = mean(X)
    want = np.mean([distance(x, M) ** 2 for x in X])
    np.testing.assert_allclose(dispersion(X), want, rtol=1e-10)
    np.testing.assert_allclose(dispersion(X, M), want, rtol=1e-10)


# ---------------------------------------------------------------- torch path
@pytest.mark.parametrize("metric", METRICS)
def test_torch_inputs_give_torch_outputs(rng, metric, device):
    X = random_spd(rng, 8, 3)
    Xt = torch.tensor(X, device=device)
    Mt = mean(Xt, metric)
    assert isinstance(Mt, torch.Tensor) and Mt.device.type == device
    np.testing.assert_allclose(Mt.cpu().numpy(), mean(X, metric), rtol=1e-9)
    A = Xt[0].clone().requires_grad_(True)
    d = distance(A, Xt[1], metric)
    d.backward()
    assert torch.isfinite(A.grad).all()
    np.testing.assert_allclose(d.item(), distance(X[0], X[1], metric), rtol=1e-10)


# ---------------------------------------------------------------- validation
def test_named_errors():
    good = np.eye(3)
    with pytest.raises(ValueError, match="not symmetric"):
        distance(np.array([[1.0, 0.5, 0], [0, 1, 0], [0, 0, 1]]), good)
    with pytest.raises(ValueError, match="not positive definite"):
        mean(np.stack([np.diag([1.0, -1.0, 1.0]), good]))
    with pytest.raises(ValueError, match="NaN"):
        distance(np.full((3, 3), np.nan), good)
    with pytest.raises(ValueError, match="unknown metric"):
        mean(np.stack([good, good]), "euclid-ish")
    with pytest.raises(ValueError, match="different matrix sizes"):
        distance(good, np.eye(2))
    with pytest.raises(ValueError, match="weights"):
        mean(np.stack([good, good]), weights=[1.0])
    with pytest.raises(ValueError, match="non-negative"):
        mean(np.stack([good, good]), weights=[1.0, -1.0])
    with pytest.raises(ValueError, match="not symmetric"):
        exp(good, np.triu(np.ones((3, 3))))
    with pytest.raises(ValueError, match="ndim"):
        mean(good)


def test_aliases_and_caller_array_untouched(rng):
    X = random_spd(rng, 5, 3)
    X0 = X.copy()
    np.testing.assert_allclose(mean(X, "riemann"), mean(X, "affine"))
    np.testing.assert_allclose(mean(X, "wasserstein"), mean(X, "bures-wasserstein"))
    np.testing.assert_array_equal(X, X0)


# ------------------------------------------------- convergence on hard sets
def _hard_set(rng, n, p, max_cond=1e8):
    """Condition numbers log-uniform up to 1e8 (the issue's hard sets)."""
    Q, _ = np.linalg.qr(rng.normal(size=(n, p, p)))
    cond = np.exp(rng.uniform(0, np.log(max_cond), size=(n, 1)))
    w = np.exp(rng.uniform(0, 1, size=(n, p)) * np.log(cond))
    return (Q * w[:, None, :]) @ np.swapaxes(Q, -1, -2)


def _aim_gradient(M, X, w=None):
    w = np.full(len(X), 1 / len(X)) if w is None else w / w.sum()
    Si = spd.invsqrtm(M)
    return np.linalg.norm(np.tensordot(w, spd.logm(Si @ X @ Si), axes=1))


def test_affine_newton_converges_on_hard_set_without_warning(rng):
    import warnings

    X = _hard_set(rng, 40, 12)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        M, info = get_metric("affine").mean(X, return_info=True)
    # quadratic convergence: a handful of Newton steps from the LE mean
    assert info["n_iter"] <= 8
    g = _aim_gradient(M, X)
    assert g <= max(1e-10, info["rounding_floor"])
    np.testing.assert_allclose(g, info["grad_norm"], rtol=0.5, atol=1e-11)
    # pyRiemann at a tight tolerance lands on the same matrix
    pm, _, _ = pyriemann_geometry()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pm.mean_riemann(X, tol=1e-11, maxiter=300)
    assert distance(M, ref) < 1e-8


def test_power_and_weighted_affine_means_on_hard_set(rng):
    X = _hard_set(rng, 25, 8, max_cond=1e6)
    w = rng.uniform(0.1, 1.0, size=25)
    M = mean(X, "affine", weights=w)
    assert _aim_gradient(M, X, w) <= 1e-10
    # theta-deformed mean: AIM mean of X^θ mapped back
    M5 = mean(X, "affine", theta=0.5)
    assert _aim_gradient(spd.powm(M5, 0.5), spd.powm(X, 0.5)) <= 1e-10


def test_bures_wasserstein_fixed_point_converges_on_hard_set(rng):
    import warnings

    X = _hard_set(rng, 30, 8, max_cond=1e6)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        M, info = get_metric("bures-wasserstein").mean(X, return_info=True)
    assert info["residual"] <= 1e-10
    # barycenter equation M = sum_i w_i (M^1/2 X_i M^1/2)^1/2
    S = spd.sqrtm(M)
    rhs = spd.sqrtm(S @ X @ S).mean(0)
    assert np.abs(rhs - M).max() <= 1e-8 * np.abs(M).max()
    # the Riemannian gradient pyRiemann reports (at the last evaluated
    # iterate; the returned M is one fixed-point step further), independently
    V = log(M, X, "bures-wasserstein").mean(0)
    assert np.linalg.norm(V) <= 1.5 * info["grad_norm"] + 1e-9
    assert np.linalg.norm(V) <= 1e-8 * np.abs(M).max()


@pytest.mark.parametrize("metric", ["affine", "bures-wasserstein"])
def test_iterative_means_torch_equals_numpy_and_float32_is_float64_inside(rng, metric):
    X = _hard_set(rng, 15, 6, max_cond=1e6)
    M = mean(X, metric)
    Mt = mean(torch.tensor(X), metric)
    assert isinstance(Mt, torch.Tensor) and Mt.dtype == torch.float64
    np.testing.assert_allclose(Mt.numpy(), M, rtol=1e-9, atol=1e-12 * np.abs(M).max())
    X32 = torch.tensor(X, dtype=torch.float32)
    M32 = mean(X32, metric)
    assert M32.dtype == torch.float32
    # computed in float64 from the rounded data: only the output is rounded
    ref = mean(X32.double().numpy(), metric)
    np.testing.assert_allclose(M32.double().numpy(), ref, rtol=1e-6)


def test_fixed_step_contract_keeps_the_karcher_flow(rng):
    # tol=0 runs exactly max_iter Karcher steps (the LieBN layer's contract)
    from manigeo.spd._metrics import karcher_affine

    X = random_spd(rng, 10, 4, cond=20)
    w = np.full(10, 0.1)
    M1 = get_metric("affine").mean(X, tol=0.0, max_iter=1, init=X.mean(0))
    ref, _ = karcher_affine(X, w, tol=0.0, max_iter=1, init=X.mean(0))
    np.testing.assert_allclose(M1, ref, rtol=1e-14)
    assert distance(M1, mean(X)) > 1e-6  # one step is not converged
