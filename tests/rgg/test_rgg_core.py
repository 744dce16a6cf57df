"""rgg_geodesics, the goodness-of-fit test, degenerate graphs, out-of-sample
nodes and n_jobs determinism (small seeded graphs, exact geodesics)."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.spatial import cKDTree

from manigeo.datasets import make_sphere, sample_rgg
from manigeo.geodesics import shortest_paths
from manigeo.rgg import RGGMetric, rgg_geodesics
from manigeo.rgg._dimension import estimate_dimension
from manigeo.rgg._goodness import fit_statistics, misfit_message
from manigeo.rgg._local import cosine_similarity_on_edges


def _adjacency(pairs, n):
    i, j = pairs[:, 0], pairs[:, 1]
    A = sp.csr_array((np.ones(2 * len(i)), (np.r_[i, j], np.r_[j, i])), shape=(n, n))
    A.sort_indices()
    return A


def _erdos_renyi(n, degree, seed):
    rng = np.random.default_rng(seed)
    m = int(n * degree / 2)
    i, j = rng.integers(0, n, m), rng.integers(0, n, m)
    pairs = np.unique(np.sort(np.column_stack([i, j])[i != j], axis=1), axis=0)
    return _adjacency(pairs, n)


def _block_model(n, degree, blocks, seed):
    rng = np.random.default_rng(seed)
    m = int(n * degree / 2)
    i, j = rng.integers(0, n, m), rng.integers(0, n, m)
    inside = rng.uniform(size=m) < 0.9
    j[inside] = np.minimum((j[inside] // blocks) * blocks + i[inside] % blocks, n - 1)
    pairs = np.unique(np.sort(np.column_stack([i, j])[i != j], axis=1), axis=0)
    return _adjacency(pairs, n)


def _sphere_rgg(n, d, degree, keep, seed):
    """RGG on the unit S^d built here with cKDTree (independent of manigeo)."""
    from scipy.special import gammaln

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d + 1))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    vol = 2 * np.pi ** ((d + 1) / 2) / np.exp(gammaln((d + 1) / 2))
    ball = np.exp(0.5 * d * np.log(np.pi) - gammaln(0.5 * d + 1))
    r = (degree / keep * vol / (n * ball)) ** (1 / d)
    pairs = cKDTree(X).query_pairs(2 * np.sin(r / 2), output_type="ndarray")
    pairs = pairs[rng.uniform(size=len(pairs)) < keep]
    return _adjacency(pairs, n), X, r


@pytest.fixture(scope="module")
def sphere():
    X, geo = make_sphere(1200, random_state=11)
    r = 0.42
    return X, geo, r, sample_rgg(X, r, geodesic=geo, random_state=11)


def test_function_is_the_estimator(sphere):
    _, _, r, A = sphere
    kw = {"dimension": 2, "radius": r, "n_landmarks": 12, "random_state": 0}
    res = rgg_geodesics(A, calibrate=False, **kw)
    est = RGGMetric(calibrate=False, **kw).fit(A)
    np.testing.assert_array_equal(res.geodesic_distances, est.geodesic_distances_)
    np.testing.assert_array_equal(res.landmarks, est.landmarks_)
    assert res.fit_statistics == est.fit_statistics_
    assert 0.9 < res.fit_statistics["keep_rate"] < 1.1


@pytest.mark.parametrize(
    "d, keep", [(1, 1.0), (2, 0.5), (3, 0.8), (4, 1.0), (5, 0.5), (6, 1.0), (8, 0.5)]
)
def test_rggs_pass_the_fit_test(d, keep):
    A, _, _ = _sphere_rgg(1000, d, 25, keep, seed=d)
    s, K, _ = cosine_similarity_on_edges(A)
    stats = fit_statistics(s, K, d)
    assert misfit_message(stats) is None, stats


def test_non_geometric_graphs_raise():
    er = _erdos_renyi(800, 20, seed=0)
    with pytest.raises(ValueError, match="keep_rate=0.0"):
        RGGMetric().fit(er)  # refused before the dimension simulations
    with pytest.raises(ValueError, match="keep_rate"):
        rgg_geodesics(_block_model(800, 20, 8, seed=1), dimension=2)
    dense = _erdos_renyi(400, 150, seed=2)  # overlaps all alike: no lens spread
    with pytest.raises(ValueError, match="lens_dispersion"):
        RGGMetric(dimension=3).fit(dense)
    with pytest.warns(UserWarning, match="keep_rate"):
        est = RGGMetric(
            dimension=2, n_landmarks=4, on_misfit="warn", calibrate=False
        ).fit(er)
    assert est.fit_statistics_["keep_rate"] < 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        RGGMetric(dimension=2, n_landmarks=4, on_misfit="ignore", calibrate=False).fit(
            er
        )


def test_degenerate_graphs_raise(sphere):
    X, _, _, A = sphere
    with pytest.raises(ValueError, match="complete"):
        RGGMetric().fit(np.ones((30, 30)) - np.eye(30))
    with pytest.raises(ValueError, match="complete graph"):
        RGGMetric(adjacency="knn", n_neighbors=40).fit(X[:40])
    with pytest.raises(ValueError, match="n_components=5"):
        RGGMetric(dimension=2, n_landmarks=5, n_components=5).fit(A)
    asym = sp.lil_array(A.copy())
    i, j = A.nonzero()
    asym[i[0], j[0]] = 0
    with pytest.raises(ValueError, match="not symmetric") as err:
        rgg_geodesics(sp.csr_array(asym), dimension=2)
    assert "symmetric='max'" not in str(err.value)
    assert "A.maximum(A.T)" in str(err.value)


def test_out_of_sample_matches_exact_geodesics():
    X, geo = make_sphere(1000, random_state=5)
    r = 0.45
    A = sample_rgg(X, r, geodesic=geo, random_state=5)
    train, new = np.arange(850), np.arange(850, 1000)
    kw = {"dimension": 2, "radius": r, "calibrate": False, "random_state": 0}
    est = RGGMetric(**kw).fit(A[train][:, train])
    B = A[new][:, train]
    D_new = est.transform_distances(B)
    D_true = geo(new, train)
    err_new = np.median(np.abs(D_new - D_true))
    err_in = np.median(np.abs(est.geodesic_distances_ - geo(train, train)))
    assert D_new.shape == (150, 850)
    assert err_new < 0.1 and err_new < 1.3 * err_in
    # coordinates: triangulated into embedding_'s space, consistent with the
    # training coordinates of the same node
    Y = est.transform(B)
    assert Y.shape == (150, 2)
    gap = np.linalg.norm(
        est.transform(A[train[:50]][:, train]) - est.embedding_[:50], axis=1
    )
    assert np.median(gap) < 0.1
    # landmark mode: distances to the landmarks from the stored landmark rows
    lm = RGGMetric(n_landmarks=20, **kw).fit(A[train][:, train])
    assert lm.transform(B).shape == (150, 2)
    D_lm = lm.transform_distances(B)[:, lm.landmarks_]
    err_lm = np.median(np.abs(D_lm - D_true[:, lm.landmarks_]))
    in_lm = np.median(np.abs(lm.geodesic_distances_ - geo(train[lm.landmarks_], train)))
    assert err_lm < 0.1 and err_lm < 1.3 * in_lm
    with pytest.raises(ValueError, match="no edge"):
        est.transform(sp.csr_array((1, 850)))


def test_n_jobs_gives_identical_results():
    A, _, _ = _sphere_rgg(400, 2, 30, 0.8, seed=3)
    # dimension candidates simulated in parallel, one seed each
    s, _, deg = cosine_similarity_on_edges(A)
    picks = [
        estimate_dimension(
            s,
            deg.mean(),
            max_dimension=3,
            n_sim=2000,
            rng=np.random.default_rng(0),
            n_jobs=n_jobs,
        )
        for n_jobs in (1, 2)
    ]
    assert picks[0] == picks[1] and picks[0][0] == 2
    # Dijkstra batches (400 sources), in fit and for new nodes
    kw = {"random_state": 7, "dimension": 2, "calibrate": False}
    one = RGGMetric(n_jobs=1, **kw).fit(A)
    two = RGGMetric(n_jobs=2, **kw).fit(A)
    np.testing.assert_array_equal(one.geodesic_distances_, two.geodesic_distances_)
    B = A[:70]
    np.testing.assert_array_equal(
        one.transform_distances(B), two.transform_distances(B)
    )


def _square_rgg(n, degree, seed):
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, 2))
    r = np.sqrt(degree / (n * np.pi))
    A = _adjacency(cKDTree(X).query_pairs(r, output_type="ndarray"), n)
    return A, lambda rows: np.linalg.norm(X[rows][:, None] - X[None], axis=2), r


def _vmf_mixture_rgg(n, degree, kappa, seed):
    """Half uniform on S^2, half a von Mises-Fisher cap (~9x density range)."""
    rng = np.random.default_rng(seed)
    m = n // 2
    U = rng.normal(size=(n - m, 3))
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    u = rng.uniform(size=m)
    w = 1.0 + np.log(u + (1.0 - u) * np.exp(-2.0 * kappa)) / kappa
    phi = rng.uniform(0, 2 * np.pi, size=m)
    rho = np.sqrt(np.maximum(1.0 - w * w, 0.0))
    X = np.vstack([U, np.column_stack([rho * np.cos(phi), rho * np.sin(phi), w])])
    r = np.sqrt(degree * 4 / n)  # the uniform sphere's radius for this degree
    pairs = cKDTree(X).query_pairs(2 * np.sin(r / 2), output_type="ndarray")
    geo = lambda rows: np.arccos(np.clip(X[rows] @ X.T, -1, 1))  # noqa: E731
    return _adjacency(pairs, n), geo, r


@pytest.mark.parametrize("family", ["square", "density", "S3"])
def test_off_model_families_against_exact_geodesics(family):
    if family == "square":  # boundary
        A, geo, r = _square_rgg(1500, 25, seed=1)
        d = 2
    elif family == "density":  # 9x density variation
        A, geo, r = _vmf_mixture_rgg(2000, 30, 4.0, seed=1)
        d = 2
    else:  # curvature
        A, X, r = _sphere_rgg(1500, 3, 30, 1.0, seed=1)
        geo = lambda rows: np.arccos(np.clip(X[rows] @ X.T, -1, 1))  # noqa: E731
        d = 3
    est = RGGMetric(dimension=d, radius=r, n_landmarks=16, random_state=0).fit(A)
    D, Dh = geo(est.landmarks_), est.geodesic_distances_
    hop = shortest_paths(A, est.landmarks_, unweighted=True) * r
    ok = D > 0
    err = np.median(np.abs(Dh - D)[ok])
    assert err < np.median(np.abs(hop - D)[ok]) / 6
    far = D > 2 * r
    assert abs(np.mean((Dh[far] - D[far]) / D[far])) < 0.05
    assert (est.calibration_info_.get("density") is not None) == (family == "density")
    if family == "square":  # flat: no curvature found, the torus calibrates
        assert est.calibration_info_["space"] == "T^2"


def test_curvature_estimate_from_triangles():
    from manigeo.rgg._curvature import estimate_curvature

    rng = np.random.default_rng(0)
    # unit S^3 in units of r = 0.3: curvature 0.09 / r^2
    X = rng.normal(size=(3000, 4))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    rows = rng.choice(3000, 96, replace=False)
    D = np.arccos(np.clip(X[rows] @ X.T, -1, 1)) / 0.3
    D += rng.normal(scale=0.1, size=D.shape) * (D > 0)
    k, se, n_tri = estimate_curvature(D, rows, rng=1)
    assert n_tri > 300 and abs(k - 0.09) < 0.25 * 0.09 and k > 3 * se
    # a flat square (a convex domain: straight geodesics) in units of r = 0.05
    Y = rng.uniform(size=(3000, 2))
    D = np.linalg.norm(Y[rows][:, None] - Y[None], axis=2) / 0.05
    D += rng.normal(scale=0.1, size=D.shape) * (D > 0)
    k, se, _ = estimate_curvature(D, rows, rng=1)
    assert abs(k) < 3 * se + 1e-3


def test_calibration_not_worse_than_uncalibrated_in_3d():
    """S^3 (curved, 3-D): the calibrated distances beat calibrate=False."""
    A, X, r = _sphere_rgg(3000, 3, 30, 1.0, seed=1)
    errs = []
    for calibrate in (True, False):
        est = RGGMetric(
            dimension=3, radius=r, n_landmarks=24, calibrate=calibrate, random_state=0
        ).fit(A)
        D = np.arccos(np.clip(X[est.landmarks_] @ X.T, -1, 1))
        far = D > 0.5 * D.max()
        errs.append(np.median(np.abs(est.geodesic_distances_ - D)[far]))
    assert errs[0] < 0.85 * errs[1]
