"""Heat-geodesic distances: closed forms, density invariance, t, landmarks."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.linalg import expm
from scipy.stats import spearmanr

from manigeo.datasets import make_sphere
from manigeo.graphs import laplacian
from manigeo.heat import (
    HeatGeodesicDistance,
    farthest_points,
    heat_affinity,
    heat_columns,
    heat_geodesic_distances,
    varadhan_distance,
)


def _circle_heat(theta, t, terms=200):
    k = np.arange(1, terms)
    return (
        1 + 2 * (np.exp(-(k**2) * t)[None, :] * np.cos(np.outer(theta, k))).sum(1)
    ) / (2 * np.pi)


def _sphere_heat(theta, t, terms=300):
    from scipy.special import eval_legendre

    ell = np.arange(terms)
    c = (2 * ell + 1) / (4 * np.pi) * np.exp(-ell * (ell + 1) * t)
    return (c[None, :] * eval_legendre(ell[None, :], np.cos(theta)[:, None])).sum(1)


def _closed_form_distance(h, t):
    return varadhan_distance(h[None, :], h[:1], np.full(len(h), h[0]), t, 1.0)[0]


def test_volume_term_exact_for_euclidean_heat_kernel():
    """sigma=1 removes the (4 pi t)^(-1/2) factor: d_t = |x - y| exactly on R."""
    t = 0.7
    x = np.linspace(-3, 3, 13)
    K = np.exp(-((x[:, None] - x[None, :]) ** 2) / (4 * t)) / np.sqrt(4 * np.pi * t)
    diag = np.diag(K)
    D = varadhan_distance(K, diag, diag, t, sigma=1.0)
    np.testing.assert_allclose(D, np.abs(x[:, None] - x[None, :]), atol=1e-7)
    D0 = varadhan_distance(K, diag, diag, t, sigma=0.0)
    expect = np.sqrt(
        np.maximum((x[:, None] - x[None, :]) ** 2 + 2 * t * np.log(4 * np.pi * t), 0)
    )
    np.testing.assert_allclose(D0, expect, atol=1e-7)


def test_varadhan_on_circle_closed_form():
    theta = np.linspace(0.0, 2.0, 21)
    errs = [
        np.abs(_closed_form_distance(_circle_heat(theta, t), t) - theta).max()
        for t in (0.5, 0.2, 0.1)
    ]
    assert errs[0] < 1e-3 and errs[1] < 1e-7 and errs[2] < 1e-10


@pytest.mark.parametrize("t", [0.2, 0.1, 0.05])
def test_varadhan_on_sphere_closed_form(t):
    """Sphere S^2 (Legendre series): d_t -> theta with an O(t) curvature error."""
    theta = np.linspace(0.0, 2.0, 21)
    err = np.abs(_closed_form_distance(_sphere_heat(theta, t), t) - theta).max()
    assert 0.2 * t < err < 0.5 * t


def _circle(n, ratio, seed):
    """n angles on the circle, density `ratio` times higher on the upper half."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(0, 2 * np.pi, size=8 * n)
    keep = rng.uniform(size=a.size) < np.where(a < np.pi, 1.0, 1.0 / ratio)
    return np.sort(a[keep][:n])


@pytest.mark.parametrize("density, ok", [("normalize", True), ("keep", False)])
def test_graph_heat_matches_closed_form_on_nonuniform_circle(density, ok):
    """Graph heat distances vs the closed-form circle kernel, 5x non-uniform sample.

    With the Gaussian kernel exp(-(d / eps)^2) cut at d = r eps, the walk's
    generator is (eps^2 m2 / (2 m0)) Delta after the alpha = 1 normalisation
    (m0, m2: zeroth and second moments of the cut kernel on the line), so graph
    time t is manifold time t eps^2 m2 / (2 m0) and graph distances are in units
    of eps sqrt(m2 / (2 m0)) (eps / 2 for the uncut Gaussian).
    """
    from scipy.integrate import quad

    from manigeo.heat._geodesic import _RADIUS

    m0 = quad(lambda u: np.exp(-(u**2)), -_RADIUS, _RADIUS)[0]
    m2 = quad(lambda u: u**2 * np.exp(-(u**2)), -_RADIUS, _RADIUS)[0]
    unit = np.sqrt(m2 / (2 * m0))
    ang = _circle(700, 5.0, 0)
    X = np.column_stack([np.cos(ang), np.sin(ang)])
    est = HeatGeodesicDistance(
        n_landmarks=None, t=200.0, density=density, n_neighbors=60
    ).fit(X)
    eps = est.geometry_.affinity_.eps_
    src = [int(np.argmin(np.abs(ang - a))) for a in (np.pi / 2, 3 * np.pi / 2)]
    errs = []
    for i in src:
        arc = np.abs(ang - ang[i])
        arc = np.minimum(arc, 2 * np.pi - arc)
        sel = (arc > 0.3) & (arc < 2.0)
        tm = est.t_ * (eps * unit) ** 2
        ref = _closed_form_distance(_circle_heat(np.r_[0.0, arc[sel]], tm), tm)[1:]
        got = est.heat_distances_[i, sel] * eps * unit
        errs.append(np.median(np.abs(got - ref) / ref))
    # the dense side is within 3 %; the sparse side 6.6 % with the
    # normalisation and the floored bandwidth (10.6 % with one fixed bandwidth:
    # there the kNN edges reach past the kernel's radius) and ~45 % without it
    if ok:
        assert errs[0] < 0.05 and errs[1] < 0.085
    else:
        assert max(errs) > 0.3


@pytest.fixture(scope="module")
def sphere():
    return make_sphere(500, random_state=0)


def test_sources_rows_equal_full(sphere):
    X, _ = sphere
    D, t = heat_geodesic_distances(X, t=8.0, return_t=True)
    assert t == 8.0
    S = np.array([3, 50, 400])
    Ds = heat_geodesic_distances(X, t=8.0, sources=S)
    np.testing.assert_allclose(Ds[:, S], D[np.ix_(S, S)], rtol=1e-9, atol=1e-9)
    # the other columns use an interpolated volume term: same ranks
    assert spearmanr(Ds[0], D[3]).statistic > 0.999


def test_landmark_mode_same_t_and_distances(sphere):
    X, geo = sphere
    full = HeatGeodesicDistance(n_landmarks=None, random_state=3).fit(X)
    lm = HeatGeodesicDistance(n_landmarks=60, random_state=3).fit(X)
    assert lm.t_ == full.t_
    assert lm.t_scores_ == pytest.approx(full.t_scores_)
    L = lm.landmarks_
    np.testing.assert_allclose(
        lm.heat_distances_, full.heat_distances_[np.ix_(L, L)], rtol=1e-8, atol=1e-8
    )
    G = geo(None, None)
    s_full = spearmanr(
        full.heat_distances_[np.ix_(L, L)].ravel(), G[np.ix_(L, L)].ravel()
    )
    s_lm = spearmanr(lm.heat_distances_.ravel(), G[np.ix_(L, L)].ravel())
    assert abs(s_full.statistic - s_lm.statistic) < 0.005
    # training rows: exact; transform of the training data gives the same rows
    Dt = lm.geometry_.train_distances()
    np.testing.assert_allclose(lm.transform(X), Dt, rtol=1e-8, atol=1e-8)
    assert spearmanr(Dt.ravel(), geo(None, L).ravel()).statistic > 0.99


def test_out_of_sample_nystrom(sphere):
    X, geo = sphere
    lm = HeatGeodesicDistance(n_landmarks=80, t=8.0, random_state=0).fit(X[:450])
    D = lm.transform(X[450:])
    G = geo(np.arange(450, 500), lm.landmarks_)
    assert spearmanr(D.ravel(), G.ravel()).statistic > 0.98


def test_auto_t_picks_the_best_time():
    """Noisy circle: t_ is within a factor 2 of the t whose distances are most
    proportional (Pearson) to the exact arcs, and ranks them as well as any t."""
    rng = np.random.default_rng(0)
    ang = np.sort(rng.uniform(0, 2 * np.pi, 400))
    X = np.column_stack([np.cos(ang), np.sin(ang)]) + 0.03 * rng.normal(size=(400, 2))
    arc = np.abs(ang[:, None] - ang[None, :])
    arc = np.minimum(arc, 2 * np.pi - arc)
    iu = np.triu_indices(400, 1)
    near = arc[iu] < 0.8 * np.pi  # the cut locus bends every heat distance
    lin, rank = {}, {}
    for t in 2.0 ** np.arange(0, 8):
        D = heat_geodesic_distances(X, t=float(t))[iu]
        lin[t] = np.corrcoef(D[near], arc[iu][near])[0, 1]
        rank[t] = spearmanr(D, arc[iu]).statistic
    best = max(lin, key=lin.get)
    est = HeatGeodesicDistance(n_landmarks=None, random_state=0).fit(X)
    assert best / 2 <= est.t_ <= best * 2
    assert lin[est.t_] > lin[best] - 0.005
    assert rank[est.t_] > max(rank.values()) - 0.01
    assert est.t_ in est.t_scores_ and len(est.t_scores_) >= 3


def test_n_jobs_identical(sphere):
    X, _ = sphere
    a = HeatGeodesicDistance(n_landmarks=40, random_state=0, n_jobs=1).fit(X)
    b = HeatGeodesicDistance(n_landmarks=40, random_state=0, n_jobs=2).fit(X)
    assert a.t_ == b.t_
    np.testing.assert_allclose(a.heat_distances_, b.heat_distances_, rtol=1e-12)


def test_heat_columns_relative_accuracy():
    """Tiny far entries of exp(-tL) are accurate in relative terms."""
    n = 20
    i = np.arange(n - 1)
    A = sp.csr_array((np.ones(n - 1), (i, i + 1)), shape=(n, n))
    L = laplacian(A + A.T, kind="symmetric")
    B = np.zeros((n, 1))
    B[0, 0] = 1.0
    ((t, H),) = list(heat_columns(L, B, [0.5], n_terms=[60]))
    assert t == 0.5
    # near entries: dense Pade; all of them: 100-digit arithmetic
    ref = expm(-0.5 * L.toarray())[:, 0]
    np.testing.assert_allclose(H[:8, 0], ref[:8], rtol=1e-10)
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workdps(60):
        exact = mpmath.expm(-0.5 * mpmath.matrix(L.toarray().tolist()))
        exact = np.array([float(exact[i, 0]) for i in range(n)])
    assert H[-1, 0] < 1e-20
    np.testing.assert_allclose(H[:, 0], exact, rtol=1e-10)


def test_farthest_points_cover():
    X = np.vstack([np.zeros((50, 2)), [[10.0, 0.0], [0.0, 10.0]]])
    idx = farthest_points(X, 3, random_state=0)
    assert {50, 51} <= set(idx.tolist())


def test_affinity_symmetric_and_normalized(sphere):
    """ "keep": the fixed-bandwidth Gaussian; "normalize": the floored kernel
    exp(-d^2 / (bw_i bw_j)), bw = max(k-th neighbour distance, eps), divided by
    q_i q_j with q = (1 + degree) (bw / eps)^(1 - d/2)."""
    from scipy.spatial.distance import cdist

    from manigeo.heat._geodesic import _Affinity

    X, _ = sphere
    W = heat_affinity(X, 10)
    assert abs(W - W.T).max() == 0
    Wk = heat_affinity(X, 10, density="keep").toarray()
    aff = _Affinity(10, "gaussian", 40.0, "normalize").fit(X)
    E = cdist(X, X)
    kth = np.sort(E, axis=1)[:, 10]
    eps = np.median(kth)
    np.testing.assert_allclose(Wk[Wk > 0], np.exp(-((E[Wk > 0] / eps) ** 2)))
    bw = np.maximum(kth, eps)
    np.testing.assert_allclose(aff.bw_, bw, rtol=1e-12)
    on = W.toarray() > 0
    K = np.where(on, np.exp(-(E**2) / np.outer(bw, bw)), 0.0)
    # every pair within 1.4 sqrt(bw_i bw_j) is an edge
    assert np.all(on[(E <= 1.3 * np.sqrt(np.outer(bw, bw))) & (E > 0)])
    q = (1.0 + K.sum(axis=1)) * (bw / eps) ** (1.0 - aff.dim_ / 2)
    np.testing.assert_allclose(W.toarray(), K / np.outer(q, q), rtol=1e-10)
    assert 1.5 < aff.dim_ < 2.5  # the sphere is 2-D


# -- bad input --------------------------------------------------------------------


@pytest.mark.parametrize("t", [0, 0.0, -1.0, np.inf, np.nan])
def test_nonpositive_t_rejected_up_front(t):
    X = np.random.default_rng(0).normal(size=(40, 3))
    with pytest.raises(ValueError, match="t"):
        heat_geodesic_distances(X, t=t)
    with pytest.raises(ValueError, match="'t' parameter"):
        HeatGeodesicDistance(t=t).fit(X)


def test_identical_points_clear_error():
    X = np.ones((50, 3))
    with pytest.raises(ValueError, match="duplicates"):
        HeatGeodesicDistance().fit(X)
    with pytest.raises(ValueError, match="duplicates"):
        heat_geodesic_distances(X)


def test_too_many_landmarks_refused_immediately():
    import time

    X = np.random.default_rng(0).normal(size=(200_000, 2))
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="fewer landmarks"):
        HeatGeodesicDistance(n_landmarks=30_000).fit(X)
    assert time.perf_counter() - t0 < 2.0
    with pytest.raises(ValueError, match="n_landmarks"):
        HeatGeodesicDistance(n_landmarks=None).fit(X[:20_000])


def test_bad_data_and_options():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        heat_geodesic_distances(X)
    with pytest.raises(ValueError, match="NaN"):
        HeatGeodesicDistance().fit(X)
    X = rng.normal(size=(30, 3))
    Xc = X.copy()
    with pytest.raises(ValueError, match="n_neighbors=10 must be smaller"):
        heat_geodesic_distances(X[:8])
    with pytest.raises(ValueError, match="density"):
        heat_geodesic_distances(X, density="flat")
    with pytest.raises(ValueError, match="kernel"):
        heat_geodesic_distances(X, kernel="knn")
    with pytest.raises(TypeError, match="sources"):
        heat_geodesic_distances(X, sources=[0.5])
    with pytest.raises(ValueError, match="sources"):
        heat_geodesic_distances(X, sources=[30])
    np.testing.assert_array_equal(X, Xc)
    est = HeatGeodesicDistance(n_neighbors=5).fit(X)
    with pytest.raises(ValueError, match="features"):
        est.transform(rng.normal(size=(5, 4)))


def test_disconnected_graph_warns():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(30, 2)), rng.normal(size=(30, 2)) + 100])
    with pytest.warns(UserWarning, match="connected components"):
        D = HeatGeodesicDistance(n_neighbors=5, n_landmarks=None, t=4.0).fit(X)
    D = D.heat_distances_
    assert np.all(np.isfinite(D))
    assert D[:30, 30:].min() > D[:30, :30].max()


def test_dask_transform_blockwise(sphere):
    da = pytest.importorskip("dask.array")
    X, _ = sphere
    est = HeatGeodesicDistance(n_landmarks=30, t=4.0, random_state=0).fit(X[:400])
    lazy = est.transform(da.from_array(X[400:], chunks=(40, 2)))
    assert lazy.shape == (100, 30)
    np.testing.assert_allclose(lazy.compute(), est.transform(X[400:]), rtol=1e-12)


def test_time_changed_generator():
    """diag(1/slow) - S^-1/2 (I - L) S^-1/2 = M^-1/2 (Deg - W) M^-1/2, M = deg slow."""
    from manigeo.graphs import laplacian
    from manigeo.heat._geodesic import _time_changed

    rng = np.random.default_rng(0)
    W = rng.uniform(size=(6, 6))
    W = np.triu(W, 1) + np.triu(W, 1).T
    slow = rng.uniform(1.0, 4.0, size=6)
    deg = W.sum(axis=1)
    m = deg * slow
    ref = (np.diag(deg) - W) / np.sqrt(np.outer(m, m))
    got = _time_changed(laplacian(W, kind="symmetric"), slow).toarray()
    np.testing.assert_allclose(got, ref, atol=1e-14)


def _vmf_sphere(n, kappa, seed):
    """Half a vMF cap (kappa) + half uniform on S^2, noiseless."""
    from scipy.stats import vonmises_fisher

    rng = np.random.default_rng(seed)
    A = vonmises_fisher([0.0, 0.0, 1.0], kappa).rvs(n // 2, random_state=rng)
    B = rng.normal(size=(n - n // 2, 3))
    return np.vstack([A, B / np.linalg.norm(B, axis=1, keepdims=True)])


def test_floored_bandwidth_fixes_the_sparse_side(monkeypatch):
    """Non-uniform sphere: with one fixed bandwidth the sparse side's walk is
    starved (few neighbours within the bandwidth) and its heat distances are
    distorted; the floored bandwidth with its time change is closer to the exact
    arc lengths there, and no worse overall (Spearman)."""
    import manigeo.heat._geodesic as geodesic

    X = _vmf_sphere(900, 8.0, 0)
    G = np.arccos(np.clip(X @ X.T, -1.0, 1.0))
    iu = np.triu_indices(len(X), 1)
    south = (X[:, 2][:, None] < -0.3) & (X[:, 2][None, :] < -0.3)
    south = south[iu] & (G[iu] > 0.3)
    out = {}
    for floor in (False, True):
        monkeypatch.setattr(geodesic, "_FLOOR", floor)
        D = heat_geodesic_distances(X, t=16.0)[iu]
        scale = np.median(G[iu] / np.maximum(D, 1e-12))
        err = np.median(np.abs(D[south] * scale - G[iu][south]) / G[iu][south])
        out[floor] = (err, spearmanr(D, G[iu]).statistic)
    assert out[True][0] < 0.85 * out[False][0]  # measured 0.077 vs 0.103
    assert out[True][1] > out[False][1]


def test_kd_tree_graph_equals_scikit_learn_graph(monkeypatch):
    """The k-d tree path (one per-row-radius search) builds the same kernel
    graph and out-of-sample weights as scikit-learn's grouped radius search."""
    from manigeo.heat import _geodesic as g

    rng = np.random.default_rng(3)
    # non-uniform 3-D cloud: floored bandwidths differ by a large factor
    X = np.vstack([rng.normal(size=(300, 3)), 4.0 * rng.normal(size=(100, 3))])
    Q = rng.normal(size=(20, 3))
    kd = g._Affinity(8, "gaussian", 40.0, "normalize").fit(X)
    assert kd.nn_.kd
    monkeypatch.setattr(g, "_KD_MAX_DIM", 0)
    ref = g._Affinity(8, "gaussian", 40.0, "normalize").fit(X)
    assert not ref.nn_.kd
    assert kd.W_.nnz == ref.W_.nnz
    assert abs(kd.W_ - ref.W_).max() < 1e-14
    assert abs(kd.weights(Q) - ref.weights(Q)).max() < 1e-14


def _brute_force_graph(X, k, density):
    """The kernel graph from its definition on all pairs (cdist): the k-NN
    pairs and the pairs within 1.4 sqrt(bw_i bw_j), exp(-d^2 / (bw_i bw_j))."""
    from scipy.spatial.distance import cdist

    n = X.shape[0]
    E = cdist(X, X)
    np.fill_diagonal(E, np.inf)
    order = np.argsort(E, axis=1, kind="stable")[:, :k]
    kth = E[np.arange(n), order[:, -1]]
    eps = np.median(kth)
    bw = np.maximum(kth, eps) if density == "normalize" else np.full(n, eps)
    on = E <= 1.4 * np.sqrt(np.outer(bw, bw))
    knn = np.zeros((n, n), dtype=bool)
    knn[np.repeat(np.arange(n), k), order.ravel()] = True
    on |= knn | knn.T
    np.fill_diagonal(on, False)
    K = np.where(on, np.exp(-(np.where(on, E, 0.0) ** 2) / np.outer(bw, bw)), 0.0)
    on &= K > 0  # a weight that underflows is no edge
    return on, K, np.where(on, E, 0.0)


@pytest.mark.parametrize("ratio", [1.1, 1e6, None])
@pytest.mark.parametrize("density", ["normalize", "keep"])
def test_kd_tree_graph_equals_brute_force(monkeypatch, ratio, density):
    """Every pair of the definition is an edge, none other, with its weight and
    length; whether the bandwidth groups are many (ratio 1.1: ~25 groups,
    hundreds of searches across groups), two (the floor and the rest) or the
    default."""
    from manigeo.heat import _geodesic as g

    if ratio is not None:
        monkeypatch.setattr(g, "_GROUP_RATIO", ratio)
        monkeypatch.setattr(g, "_GROUP_MIN", 0.0)
    monkeypatch.setattr(g, "_THREADED_MIN", 0)  # the threaded searches too
    rng = np.random.default_rng(7)
    # dense blob, sparse halo and a far sparse clump: bandwidths 1x to ~10x eps,
    # k-NN pairs that fail the radius cut
    X = np.vstack(
        [
            0.3 * rng.normal(size=(250, 3)),
            3.0 * rng.normal(size=(60, 3)),
            [8.0, 0.0, 0.0] + rng.normal(size=(15, 3)),
        ]
    )
    aff = g._Affinity(7, "gaussian", 40.0, density).fit(X)
    assert aff.nn_.kd
    n_groups = len(g._bandwidth_groups(aff.bw_))
    assert (
        n_groups == 1 if density == "keep" else n_groups >= (10 if ratio == 1.1 else 2)
    )
    on, K, E = _brute_force_graph(X, 7, density)
    W = aff.W_.toarray()
    np.testing.assert_array_equal(W > 0, on)
    q = 1.0 + K.sum(axis=1)
    if density == "normalize":
        q *= (aff.bw_ / aff.eps_) ** (1.0 - aff.dim_ / 2)
        K = K / np.outer(q, q)
    np.testing.assert_allclose(W, K, rtol=1e-12, atol=0)
    np.testing.assert_allclose(aff.q_, q, rtol=1e-12)
    np.testing.assert_allclose(aff.lengths_.toarray(), E, rtol=1e-12, atol=0)
    assert aff.W_.has_canonical_format and abs(aff.W_ - aff.W_.T).max() == 0


def test_farthest_points_equals_greedy_reference():
    """Same choices as the plain greedy sweep on Euclidean distances."""
    from scipy.spatial.distance import cdist

    rng = np.random.default_rng(2)
    for X in (rng.normal(size=(400, 3)), rng.normal(size=(300, 20))):
        got = farthest_points(X, 40, random_state=5)
        first = np.random.RandomState(5).randint(len(X))
        chosen, d = [first], cdist(X, X[[first]])[:, 0]
        for _ in range(39):
            chosen.append(int(np.argmax(d)))
            d = np.minimum(d, cdist(X, X[[chosen[-1]]])[:, 0])
        np.testing.assert_array_equal(got, np.sort(chosen))


def test_single_precision_landmark_columns(monkeypatch):
    """From _SINGLE_MIN samples on the landmark columns are float32 Horner
    sums on the banded Laplacian: the same distances to 1e-5, the same t."""
    import manigeo.heat._geodesic as geodesic

    X, _ = make_sphere(300, random_state=0)
    S = np.arange(0, 300, 7)
    D, t = heat_geodesic_distances(X, sources=S, random_state=0, return_t=True)
    monkeypatch.setattr(geodesic, "_SINGLE_MIN", 0)
    D32, t32 = heat_geodesic_distances(X, sources=S, random_state=0, return_t=True)
    assert t32 == t
    np.testing.assert_allclose(D32, D, rtol=1e-5, atol=1e-6 * D.max())
    assert not np.array_equal(D32, D)


def test_select_t_half_time_pair_kernel():
    """The t-scan scores the probes' pair kernel ``C^T C`` of half-time
    columns: the scores of the exact kernel (dense expm) at every time."""
    import manigeo.heat._geodesic as geodesic

    X, _ = make_sphere(300, random_state=0)
    aff = geodesic._Affinity(10, "gaussian", 40.0, "normalize").fit(X)
    diff = geodesic._Diffusion(aff.W_, 1, aff.slow_)
    probes = np.sort(np.random.default_rng(0).choice(300, 48, replace=False))
    t, scores = geodesic._select_t(X, aff.W_, diff, 1.0, probes)
    G = geodesic._reference_paths(X, aff.W_, probes)[:, probes]
    L = diff.L.toarray()
    items = (
        (s, diff.density(expm(-s * L)[np.ix_(probes, probes)], probes, probes), None)
        for s in geodesic.T_GRID
    )
    t_ref, ref, _ = geodesic._scan_times(items, G, 1.0)
    assert t == t_ref and list(scores) == list(ref)
    np.testing.assert_allclose(list(scores.values()), list(ref.values()), rtol=1e-9)


def test_landmark_columns_far_entries_at_moderate_t():
    """The landmark columns' series runs the hop diameter plus t + 2 sqrt(t)
    terms: the far entries of a cycle's kernel (lattice Bessel form, down to
    1e-26) to 1e-3 at t = 16, where the hop diameter + 8 terms lose most of
    them."""
    from scipy.special import ive

    import manigeo.heat._geodesic as geodesic

    n, t = 100, 16.0
    i = np.arange(n)
    W = sp.csr_array((np.ones(n), (i, (i + 1) % n)), shape=(n, n))
    diff = geodesic._Diffusion(sp.csr_array(W + W.T))
    exact = sum(ive(np.abs(i + m * n), t) for m in range(-3, 4))
    assert exact.min() < 1e-25
    for far, ok in ((True, True), (False, False)):
        (_, K), *_ = diff.columns(np.array([0, 30]), [t], far=far)
        H = K / n  # density = vol H / deg = n H on the cycle
        good = np.allclose(H[:, 0], exact, rtol=1e-3, atol=0) and np.allclose(
            H[:, 1], np.roll(exact, 30), rtol=1e-3, atol=0
        )
        assert good == ok
