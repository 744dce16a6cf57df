import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from manigeo.datasets import make_sphere, make_torus, sample_rgg
from manigeo.geodesics import shortest_paths
from manigeo.rgg import RGGMetric
from manigeo.rgg._dimension import estimate_dimension
from manigeo.rgg._local import cosine_similarity_on_edges, estimate_keep_rate
from manigeo.rgg._simulate import flat_torus_rgg


def _median_error(est, geo, radius):
    rows = (
        est.landmarks_
        if est.landmarks_ is not None
        else np.arange(0, geo.n_samples, 25)
    )
    D = geo(rows, None)
    Dh = (
        est.geodesic_distances_
        if est.landmarks_ is not None
        else est.geodesic_distances_[rows]
    )
    return float(np.median(np.abs(Dh - D)[D > 0])), rows, D


@pytest.fixture(scope="module")
def sphere():
    n = 3000
    r = 2.5 * n**-0.25
    X, geo = make_sphere(n, random_state=3)
    return X, geo, r, sample_rgg(X, r, geodesic=geo, random_state=3)


@pytest.mark.parametrize("q", [1.0, 0.7, 0.5])
def test_keep_rate_within_2_percent(q):
    rng = np.random.default_rng(int(q * 10))
    A, _, _ = flat_torus_rgg(4000, 2, 120 * q, q, rng)
    s, _, _ = cosine_similarity_on_edges(A)
    assert abs(estimate_keep_rate(s, 2) - q) < 0.02


def test_local_distances_unbiased_on_flat_torus():
    rng = np.random.default_rng(5)
    A, T, r = flat_torus_rgg(4000, 2, 200, 1.0, rng)
    est = RGGMetric(
        dimension=2, local_rule="clip", calibrate=False, n_landmarks=4, random_state=0
    ).fit(A)
    L = est.local_distances_.tocoo()
    dt = np.abs(T[L.row] - T[L.col])
    true = np.linalg.norm(np.minimum(dt, 1 - dt), axis=1) / r
    err = L.data - true
    for lo in (0.25, 0.5, 0.75):
        sel = (true >= lo) & (true < lo + 0.25)
        assert abs(err[sel].mean()) < 0.01
    assert est.edge_keep_rate_ == pytest.approx(1.0, abs=0.02)


def test_sphere_error_bound_and_hop_baseline(sphere):
    X, geo, r, A = sphere
    est = RGGMetric(dimension=2, radius=r, n_landmarks=32, random_state=0).fit(A)
    assert est.geodesic_distances_.shape == (32, 3000)
    med, rows, D = _median_error(est, geo, r)
    hop = shortest_paths(A, rows, unweighted=True) * r
    med_hop = np.median(np.abs(hop - D)[D > 0])
    assert med < 0.03
    assert med < med_hop / 8
    # calibration removed the selection bias on far pairs
    far = D > 1.0
    rel = (est.geodesic_distances_[far] - D[far]) / D[far]
    assert abs(rel.mean()) < 0.015
    assert abs(est.calibration_bias_) > 2 * abs(rel.mean())  # calibration was needed
    # the embedding is a 2-D landmark MDS of the estimated distances
    assert est.embedding_.shape == (3000, 2)


def test_units_radius_and_volume(sphere):
    X, geo, r, A = sphere
    unit = RGGMetric(dimension=2, n_landmarks=8, random_state=1).fit(A)
    scaled = RGGMetric(dimension=2, n_landmarks=8, radius=r, random_state=1).fit(A)
    np.testing.assert_allclose(scaled.geodesic_distances_, r * unit.geodesic_distances_)
    assert unit.radius_ == 1.0
    vol = RGGMetric(dimension=2, n_landmarks=8, volume=4 * np.pi, random_state=1).fit(A)
    assert vol.radius_ == pytest.approx(r, rel=0.03)


def test_error_decreases_with_n_on_torus():
    errs = []
    for n in (1000, 3000):
        X, geo = make_torus(n, kind="flat", random_state=n)
        r = n**-0.25
        A = sample_rgg(X, r, geodesic=geo, random_state=n)
        est = RGGMetric(dimension=2, radius=r, n_landmarks=16, random_state=0).fit(A)
        errs.append(_median_error(est, geo, r)[0])
        hop = shortest_paths(A, est.landmarks_, unweighted=True) * r
        D = geo(est.landmarks_, None)
        assert errs[-1] < np.median(np.abs(hop - D)[D > 0]) / 5
    assert errs[1] < 0.8 * errs[0]


def test_missing_edges_sphere(sphere):
    X, geo, r, _ = sphere
    A = sample_rgg(X, r, geodesic=geo, keep=0.6, random_state=4)
    est = RGGMetric(dimension="auto", radius=r, n_landmarks=16, random_state=0).fit(A)
    assert est.dimension_ == 2
    assert est.edge_keep_rate_ == pytest.approx(0.6, abs=0.02)
    med, _, _ = _median_error(est, geo, r)
    assert med < 0.05
    # the uncertainty penalty on the path weights pays off with missing edges
    plain = RGGMetric(
        dimension=2, radius=r, n_landmarks=16, uncertainty_penalty=0.0, random_state=0
    ).fit(A)
    assert med < 0.9 * _median_error(plain, geo, r)[0]


@pytest.mark.parametrize("d", [1, 2, 3, 4])
def test_dimension_estimate(d):
    rng = np.random.default_rng(10 + d)
    if d == 1:
        X, geo = make_sphere(1500, dim=1, random_state=0)
        A = sample_rgg(X, 0.06, geodesic=geo, random_state=0)
    elif d == 2:
        X, geo = make_sphere(2000, random_state=0)
        A = sample_rgg(X, 0.35, geodesic=geo, random_state=0)
    else:
        A, _, _ = flat_torus_rgg(3000, d, 80, 0.8, rng)
    s, _, deg = cosine_similarity_on_edges(A)
    d_hat, scores = estimate_dimension(
        s, deg.mean(), max_dimension=6, rng=np.random.default_rng(0)
    )
    assert d_hat == d, scores


def test_landmarks_consistent_with_all_pairs():
    X, geo = make_sphere(800, random_state=7)
    A = sample_rgg(X, 0.55, geodesic=geo, random_state=7)
    full = RGGMetric(dimension=2, random_state=0)
    Y = full.fit_transform(A)
    assert Y.shape == (800, 2) and full.geodesic_distances_.shape == (800, 800)
    lm = RGGMetric(dimension=2, n_landmarks=40, random_state=0, verbose=False).fit(A)
    assert lm.geodesic_distances_.shape == (40, 800)
    assert lm.embedding_.shape == (800, 2)
    ref = full.geodesic_distances_[lm.landmarks_]
    np.testing.assert_allclose(lm.geodesic_distances_, ref, rtol=0.02, atol=0.02)
    # rows on demand agree with the stored ones
    np.testing.assert_allclose(
        lm.geodesic_distances(lm.landmarks_[:5]), lm.geodesic_distances_[:5]
    )
    np.testing.assert_allclose(
        full.geodesic_distances([3, 9]), full.geodesic_distances_[[3, 9]]
    )
    # landmarks are spread out: farthest-point sampling
    assert np.min(ref[:, lm.landmarks_] + 1e3 * np.eye(40)) > 0.5


def test_point_input_modes():
    X, geo = make_sphere(500, random_state=2)
    est = RGGMetric(
        adjacency="radius", radius=0.6, dimension=2, n_landmarks=10, random_state=0
    ).fit(X)
    assert est.geodesic_distances_.shape == (10, 500)
    knn = RGGMetric(adjacency="knn", n_neighbors=25, dimension=2, random_state=0).fit(X)
    D = geo()
    # knn scale is fitted in ambient units: distances close to geodesics
    assert np.median(np.abs(knn.geodesic_distances_ - D)) < 0.15
    with pytest.raises(ValueError, match="radius"):
        RGGMetric(adjacency="radius").fit(X)


def test_accepts_networkx_and_dense(sphere):
    X, geo, r, A = sphere
    small = sp.csr_array(A[:300][:, :300])
    G = nx.from_scipy_sparse_array(small)
    lcc = max(nx.connected_components(G), key=len)
    sub = nx.convert_node_labels_to_integers(G.subgraph(lcc))
    est = RGGMetric(dimension=2, min_mean_degree=3, random_state=0).fit(sub)
    est2 = RGGMetric(dimension=2, min_mean_degree=3, random_state=0).fit(
        nx.to_numpy_array(sub)
    )
    np.testing.assert_allclose(est.geodesic_distances_, est2.geodesic_distances_)


def test_bad_inputs(sphere):
    X, geo, r, A = sphere
    W = A.copy()
    W.data[:2] = 2.0
    with pytest.raises(ValueError, match="binary"):
        RGGMetric(dimension=2).fit(W)
    asym = sp.lil_array(A.copy())
    i, j = A.nonzero()
    asym[i[0], j[0]] = 0
    with pytest.raises(ValueError, match="not symmetric"):
        RGGMetric(dimension=2).fit(sp.csr_array(asym))
    two = sp.block_diag([A[:1500][:, :1500], A[:900][:, :900]]).tocsr()
    n_comp = sp.csgraph.connected_components(two)[0]
    with pytest.raises(
        ValueError, match=f"disconnected: {n_comp} connected components"
    ):
        RGGMetric(dimension=2).fit(two)
    est = RGGMetric(
        dimension=2, on_disconnected="largest", n_landmarks=4, random_state=0
    ).fit(two)
    assert est.component_.size == est.geodesic_distances_.shape[1] < two.shape[0]
    ring = sp.diags_array([np.ones(99), np.ones(99)], offsets=[1, -1]).tocsr()
    with pytest.raises(ValueError, match="too sparse"):
        RGGMetric(dimension=1).fit(ring)
    with pytest.raises(ValueError, match="square"):
        RGGMetric().fit(np.zeros((5, 4)))
