"""Heat-geodesic distances and embedding."""

import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform
from scipy.stats import spearmanr

from manigeo.datasets import make_swiss_roll, make_tree
from manigeo.embedding import HeatGeodesicEmbedding
from manigeo.heat import HeatGeodesicDistance
from manigeo.metrics import geodesic_correlation


@pytest.fixture(scope="module")
def roll():
    return make_swiss_roll(700, random_state=1)  # k=6: no short-circuit at this density


def test_embedding_preserves_geodesics(roll):
    X, geo = roll
    est = HeatGeodesicEmbedding(n_neighbors=6, n_landmarks=None, random_state=0)
    Y = est.fit_transform(X)
    assert Y.shape == (700, 2)
    assert est.embedding_ is Y
    assert est.t_ in est.t_scores_
    assert est.heat_distances_.shape == (700, 700)
    assert geodesic_correlation(geo(None, None), squareform(pdist(Y))) > 0.98
    assert est.stress_ < 0.1


def test_reproducible(roll):
    X, _ = roll
    kw = {"n_neighbors": 6, "n_landmarks": 200, "random_state": 7}
    a = HeatGeodesicEmbedding(**kw).fit_transform(X)
    b = HeatGeodesicEmbedding(**kw).fit_transform(X)
    np.testing.assert_array_equal(a, b)
    c = HeatGeodesicDistance(n_neighbors=6, n_landmarks=200, t=8.0, random_state=8).fit(
        X
    )
    d = HeatGeodesicDistance(n_neighbors=6, n_landmarks=200, t=8.0, random_state=7).fit(
        X
    )
    assert not np.array_equal(c.landmarks_, d.landmarks_)


def test_landmark_mode_agrees_with_full(roll):
    X, geo = roll
    full = HeatGeodesicEmbedding(
        n_neighbors=6, n_landmarks=None, t=64.0, random_state=0
    ).fit(X)
    lm = HeatGeodesicEmbedding(
        n_neighbors=6, n_landmarks=250, t=64.0, random_state=0
    ).fit(X)
    assert lm.heat_distances_.shape == (250, 250)
    assert lm.landmarks_.shape == (250,)
    assert lm.landmark_weights_.sum() == 700 and lm.landmark_weights_.min() >= 1
    np.testing.assert_array_equal(full.landmark_weights_, np.ones(700))
    Ef, El = pdist(full.embedding_), pdist(lm.embedding_)
    # cell-weighted landmark SMACOF + placement: 0.999 (unweighted SMACOF and
    # d^-2 placement weights: 0.996)
    assert spearmanr(Ef, El).statistic > 0.998
    assert geodesic_correlation(geo(None, None), squareform(El)) > 0.98
    # landmark rows of the transformer vs the exact distances of the full graph
    hd = HeatGeodesicDistance(
        n_neighbors=6, n_landmarks=250, t=64.0, random_state=0
    ).fit(X)
    Dl = hd.transform(X)
    assert Dl.shape == (700, 250)
    np.testing.assert_allclose(Dl[hd.landmarks_], hd.heat_distances_, atol=1e-8)
    G = geo(None, hd.landmarks_)
    assert geodesic_correlation(G, Dl) > 0.97
    # the other rows need K_t(i, i), estimated from the heat-nearest landmarks:
    # median relative error 0.002 (from the largest K_t(i, l): 0.006)
    rest = np.setdiff1d(np.arange(700), hd.landmarks_)
    Df = full.heat_distances_[np.ix_(rest, hd.landmarks_)]
    rel = np.abs(Dl[rest] - Df) / np.maximum(Df, 1e-12)
    assert np.median(rel) < 0.003


def test_landmark_embedding_agrees_with_full_on_a_tree():
    # a branching tree: farthest-point landmarks cover the thin, sparse
    # branches as densely as the crowded ones; without cell weights the
    # landmark embedding drifts from the full one (agreement 0.988-0.997)
    X, geo = make_tree(500, n_branches=6, dim=20, noise=0.02, random_state=1)
    kw = {"n_neighbors": 8, "t": 32.0, "random_state": 0}
    full = HeatGeodesicEmbedding(n_landmarks=None, **kw).fit(X)
    lm = HeatGeodesicEmbedding(n_landmarks=120, **kw).fit(X)
    Ef, El = pdist(full.embedding_), pdist(lm.embedding_)
    assert spearmanr(Ef, El).statistic > 0.998
    G = squareform(geo(None, None), checks=False)
    assert spearmanr(G, El).statistic > spearmanr(G, Ef).statistic - 0.003
    # transform of the training samples: landmarks on their SMACOF positions,
    # the others placed as in fit
    np.testing.assert_allclose(lm.transform(X), lm.embedding_, atol=1e-8)


def test_transform_out_of_sample(roll):
    X, _ = roll
    est = HeatGeodesicEmbedding(n_neighbors=6, n_landmarks=None, t=64.0).fit(X[:600])
    np.testing.assert_allclose(est.transform(X[:600]), est.embedding_, atol=1e-6)
    Ynew = est.transform(X[600:])
    # a new point lands near its nearest training neighbours
    from sklearn.neighbors import NearestNeighbors

    nn = NearestNeighbors(n_neighbors=5).fit(X[:600])
    _, ind = nn.kneighbors(X[600:])
    spread = np.median(pdist(est.embedding_))
    gap = np.linalg.norm(Ynew - est.embedding_[ind].mean(axis=1), axis=1)
    assert np.median(gap) < 0.05 * spread


def test_auto_switch_to_landmarks(monkeypatch, capsys):
    import manigeo.heat._estimator as mod

    monkeypatch.setattr(mod, "AUTO_FULL_MAX", 100)
    monkeypatch.setattr(mod, "AUTO_LANDMARKS", 60)
    X, _ = make_swiss_roll(150, random_state=0)
    est = HeatGeodesicEmbedding(random_state=0, verbose=True).fit(X)
    assert est.landmarks_.shape == (60,)
    assert est.embedding_.shape == (150, 2)
    assert "farthest-point landmarks" in capsys.readouterr().out


def test_classical_mds_option(roll):
    X, geo = roll
    est = HeatGeodesicEmbedding(
        n_neighbors=6, n_landmarks=None, t=64.0, mds="classical"
    ).fit(X)
    assert np.isnan(est.stress_)
    assert (
        geodesic_correlation(geo(None, None), squareform(pdist(est.embedding_))) > 0.95
    )


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_neighbors": 0}, "n_neighbors"),
        ({"t": -1.0}, "'t' parameter"),
        ({"t": "best"}, "'t' parameter"),
        ({"sigma": -0.5}, "sigma"),
        ({"mds": "sgd"}, "mds"),
        ({"n_landmarks": 1}, "n_landmarks"),
        ({"kernel": "knn"}, "kernel"),
        ({"density": "flat"}, "density"),
        ({"t": 0}, "'t' parameter"),
    ],
)
def test_bad_parameters(params, match):
    X = np.random.default_rng(0).normal(size=(40, 3))
    with pytest.raises(ValueError, match=match):
        HeatGeodesicEmbedding(**params).fit(X)


def test_bad_data():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="n_neighbors=10 must be smaller"):
        HeatGeodesicEmbedding().fit(rng.normal(size=(8, 3)))
    X = rng.normal(size=(30, 3))
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        HeatGeodesicEmbedding(n_neighbors=5).fit(X)
    with pytest.raises(ValueError, match="n_components"):
        HeatGeodesicEmbedding(n_components=40, n_neighbors=5).fit(
            rng.normal(size=(30, 3))
        )
    est = HeatGeodesicEmbedding(n_neighbors=5).fit(rng.normal(size=(30, 3)))
    with pytest.raises(ValueError, match="features"):
        est.transform(rng.normal(size=(5, 4)))
    with pytest.raises(ValueError, match="duplicates"):
        HeatGeodesicEmbedding().fit(np.ones((40, 3)))
    with pytest.raises(ValueError, match="n_landmarks"):
        HeatGeodesicEmbedding(n_landmarks=None).fit(rng.normal(size=(20000, 2)))


def test_two_landmarks():
    X, _ = make_swiss_roll(100, random_state=0)
    with pytest.raises(ValueError, match="raise n_landmarks"):
        HeatGeodesicEmbedding(n_landmarks=2).fit(X)
    Y = HeatGeodesicEmbedding(n_components=1, n_landmarks=2, t=4.0).fit_transform(X)
    assert Y.shape == (100, 1) and np.all(np.isfinite(Y))


def test_dask_transform_blockwise(roll):
    da = pytest.importorskip("dask.array")
    X, _ = roll
    est = HeatGeodesicEmbedding(n_neighbors=6, n_landmarks=100, t=16.0).fit(X[:600])
    lazy = est.transform(da.from_array(X[600:], chunks=(25, 3)))
    np.testing.assert_allclose(
        lazy.compute(), est.transform(X[600:]), rtol=1e-8, atol=1e-8
    )


@pytest.mark.parametrize("warp, tol", [(0.0, 2e-5), (0.3, 1e-4)])
def test_near_landmark_placement_matches_full_stress_minimum(warp, tol):
    # the placement keeps exact terms for the 8 nearest landmarks only and a
    # second-order model of the others; its result must be the minimum of the
    # full weighted stress sum_a c_a (|y - y_a| - d_a)^2 that a generic
    # optimizer finds from the same start (warp: distances 1-1.3x too long,
    # so that far terms are non-convex and the model's safeguard is used:
    # clipped curvature, linear convergence, looser agreement)
    from scipy.optimize import minimize

    # (also from the start moved by the landmarks' offsets from their own
    # triangulation, as fit and transform place: the same minimum)
    from manigeo.embedding._heat_geodesic import _place, _start_offsets
    from manigeo.embedding._mds import _triangulate

    rng = np.random.default_rng(0)
    Y_lm = rng.uniform(-5, 5, size=(120, 2))
    c = rng.integers(1, 20, size=120).astype(float)
    P = rng.uniform(-4, 4, size=(40, 2))
    D = np.linalg.norm(P[:, None] - Y_lm[None], axis=2)
    D *= 1.0 + warp * rng.uniform(size=D.shape)
    D_lm = np.linalg.norm(Y_lm[:, None] - Y_lm[None], axis=2)
    D_lm *= 1.0 + warp * rng.uniform(size=D_lm.shape)
    off = _start_offsets(0.5 * (D_lm + D_lm.T), Y_lm)
    if warp == 0.0:  # Euclidean distances: triangulation is exact
        assert np.abs(off).max() < 1e-9
    else:
        assert np.abs(off).max() > 1e-2
    D0 = D.copy()
    got = _place(D, Y_lm, c, near=8)
    np.testing.assert_array_equal(D, D0)  # input untouched
    got_off = _place(D, Y_lm, c, near=8, offsets=off)
    start = _triangulate(D, Y_lm)
    # the offset start: the triangulation moved by the offsets of the 8
    # landmarks nearest to the landmark nearest to it, weights 1 / d^2
    near = np.argmin(np.linalg.norm(start[:, None] - Y_lm[None], axis=2), axis=1)
    lm_nb = np.argsort(np.linalg.norm(Y_lm[:, None] - Y_lm[None], axis=2), axis=1)
    nb = lm_nb[near, :8]
    w = np.take_along_axis(D, nb, axis=1) ** -2.0
    start_off = start + np.einsum("bk,bkp->bp", w / w.sum(1, keepdims=True), off[nb])

    def f(y, d):
        r = np.linalg.norm(y - Y_lm, axis=1)
        u = (y - Y_lm) / np.maximum(r, 1e-12)[:, None]
        return (c * (r - d) ** 2).sum(), 2 * ((c * (r - d))[:, None] * u).sum(axis=0)

    def bfgs(starts):
        return np.array(
            [
                minimize(f, y0, args=(d,), jac=True, method="BFGS", tol=1e-12).x
                for y0, d in zip(starts, D, strict=True)
            ]
        )

    # (slack of the stress: the passes stop at a move of 1e-3 of the extent,
    # 1e-7 of sum c d^2 from the plain start; 2e-7 from the offset start,
    # whose random offsets here reach 20 % of the extent: measured 9.7e-8 and
    # 1.2e-7 above the BFGS minima, relative gradients 3.5e-4 and 4.4e-4)
    runs = ((got, bfgs(start), 1e-7), (got_off, bfgs(start_off), 2e-7))
    for placed, ref, slack in runs:
        err = np.abs(placed - ref).max(axis=1) / np.ptp(Y_lm, axis=0).max()
        assert np.median(err) < tol  # passes stop at a move of 1e-3 of the extent
        # the stress is not convex: allow a rare different (not worse) minimum
        worse = [
            f(g, d)[0] > f(q, d)[0] + slack * (c * d**2).sum()
            for g, q, d in zip(placed, ref, D, strict=True)
        ]
        assert np.mean(err < 10 * tol) >= 0.95 and not any(worse)
    # blockwise: chunks of 7 rows give the same result
    np.testing.assert_allclose(
        _place(D, Y_lm, c, near=8, chunk_size=7), got, atol=1e-12
    )


def test_fit_places_distance_blocks_as_the_whole_matrix(roll):
    # fit never holds the (n, m) distances: cell sizes from the kernel's
    # argmax and placement block by block must equal those of the matrix
    from manigeo.embedding._heat_geodesic import _place, _start_offsets

    X, _ = roll
    est = HeatGeodesicEmbedding(n_neighbors=6, n_landmarks=100, t=16.0).fit(X[:600])
    D = est.distance_.geometry_.train_distances()
    lm = est.landmarks_
    rest = np.setdiff1d(np.arange(600), lm)
    sizes = 1.0 + np.bincount(np.argmin(D[rest], axis=1), minlength=lm.size)
    np.testing.assert_array_equal(est.landmark_weights_, sizes)
    off = _start_offsets(est.heat_distances_, est.landmark_embedding_)
    Y = _place(D, est.landmark_embedding_, sizes, rows=rest, offsets=off)
    np.testing.assert_allclose(est.embedding_[rest], Y, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(est.embedding_[lm], est.landmark_embedding_)


def test_threaded_placement_equals_serial(roll, monkeypatch):
    # the placement runs whole blocks on the BLAS thread count's threads: the
    # same blocks as on one thread, so the same embedding bit for bit
    from threadpoolctl import threadpool_limits

    import manigeo.embedding._heat_geodesic as heg

    monkeypatch.setattr(heg, "_PLACE_BLOCK", 16)
    monkeypatch.setattr(heg, "_PLACE_MIN_BLOCKS", 1)
    calls = []
    run = heg.run_chunks
    monkeypatch.setattr(
        heg, "run_chunks", lambda w, n, k: calls.append(k) or run(w, n, k)
    )
    monkeypatch.setattr(heg, "blas_threads", lambda: 3)
    X, _ = roll
    est = HeatGeodesicEmbedding(n_neighbors=6, n_landmarks=100, t=16.0, random_state=0)
    threaded = est.fit(X[:600]).embedding_.copy()
    monkeypatch.setattr(heg, "blas_threads", lambda: 1)
    with threadpool_limits(1):
        serial = est.fit(X[:600]).embedding_
    assert calls == [3, 1]
    np.testing.assert_array_equal(threaded, serial)


def test_transform_by_blocks_on_threads_equals_whole_matrix(roll, monkeypatch):
    # transform places blocks of rows on the BLAS thread count's threads,
    # never holding the (n, m) distances: the result of placing the whole
    # distance matrix (round-off of the block products), a training sample
    # identical to a landmark at the landmark's position
    import manigeo.embedding._heat_geodesic as heg

    X, _ = roll
    est = HeatGeodesicEmbedding(n_neighbors=6, n_landmarks=100, t=16.0).fit(X[:600])
    new = np.vstack([X[600:700], X[est.landmarks_[:3]]])
    D = est.distance_.transform(new)
    ref = heg._place(
        D, est.landmark_embedding_, est.landmark_weights_, offsets=est._offsets
    )
    ref[-3:] = est.landmark_embedding_[:3]
    calls = []
    run = heg.run_chunks
    monkeypatch.setattr(
        heg, "run_chunks", lambda w, n, k: calls.append((n, k)) or run(w, n, k)
    )
    monkeypatch.setattr(heg, "blas_threads", lambda: 3)
    monkeypatch.setattr(heg, "_TRANSFORM_BLOCK", 16)
    got = est.transform(new)
    assert calls == [(7, 3)]
    scale = np.ptp(est.landmark_embedding_, axis=0).max()
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-9 * scale)
