"""The coarse-grained path of the heat-geodesic distances (large graphs)."""

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.stats import spearmanr

import manigeo.heat._geodesic as geodesic
from manigeo.datasets import make_sphere, make_tree
from manigeo.heat import HeatGeodesicDistance, heat_geodesic_distances


def _force(monkeypatch, cells, coarse=True):
    monkeypatch.setattr(geodesic, "_COARSE_CELLS", cells)
    monkeypatch.setattr(geodesic, "_SAMPLES_PER_CELL", 1)
    monkeypatch.setattr(geodesic, "_EXACT_BUDGET", 0.0 if coarse else np.inf)


@pytest.fixture(scope="module")
def sphere():
    return make_sphere(1200, random_state=1)


def _fit(X, **kw):
    kw = {"n_landmarks": 80, "random_state": 0, **kw}
    return HeatGeodesicDistance(**kw).fit(X)


def test_coarse_agrees_with_exact(sphere, monkeypatch):
    """Same landmarks, same physical t: the coarse distances rank the pairs like
    the exact ones, on the same scale (within 15%), and as well against the
    true geodesics (within 0.01 Spearman)."""
    X, geo = sphere
    _force(monkeypatch, 250, coarse=False)
    ex = _fit(X, t=16.0)
    _force(monkeypatch, 250)
    co = _fit(X, t=16.0)
    assert ex.geometry_.path_ == "exact" and co.geometry_.path_ == "coarse"
    assert co.geometry_.n_cells_ == 250
    L = co.landmarks_
    np.testing.assert_array_equal(L, ex.landmarks_)
    iu = np.triu_indices(len(L), 1)
    a, b = ex.heat_distances_[iu], co.heat_distances_[iu]
    assert spearmanr(a, b).statistic > 0.995
    assert 0.85 < np.median(b / a) < 1.15
    g = geo(L, L)[iu]
    assert spearmanr(b, g).statistic > spearmanr(a, g).statistic - 0.01
    # every training sample, not only the landmarks (Nystrom-type extension)
    Dt, Dx = co.geometry_.train_distances(), ex.geometry_.train_distances()
    assert spearmanr(Dt.ravel(), Dx.ravel()).statistic > 0.99
    assert spearmanr(Dt.ravel(), geo(None, L).ravel()).statistic > 0.985
    # training samples transform to their own rows; landmarks at distance 0
    np.testing.assert_allclose(co.transform(X[:50]), Dt[:50], rtol=1e-8, atol=1e-6)
    assert np.all(Dt[L, np.arange(len(L))] == 0)


def test_auto_t_same_in_both_paths(monkeypatch):
    """A tree whose band score peaks inside the grid (t = 64): both paths score
    the same physical times and choose the same t."""
    X, _ = make_tree(1500, n_branches=10, dim=10, noise=0.02, random_state=0)
    _force(monkeypatch, 300, coarse=False)
    ex = _fit(X)
    _force(monkeypatch, 300)
    co = _fit(X)
    assert co.geometry_.path_ == "coarse"
    best = max(ex.t_scores_, key=ex.t_scores_.get)
    assert best < max(ex.t_scores_)  # a peak inside the grid, not its edge
    assert co.t_ == ex.t_ == best
    assert set(ex.t_scores_) <= set(co.t_scores_)  # the coarse grid goes on


def test_cost_model_picks_the_path(sphere, monkeypatch, capsys):
    assert geodesic._n_cells(6000) == 600 and geodesic._n_cells(10**4) == 1000
    X, _ = sphere
    monkeypatch.setattr(geodesic, "_COARSE_CELLS", 250)
    monkeypatch.setattr(geodesic, "_SAMPLES_PER_CELL", 1)
    small = _fit(X, t=4.0)
    assert small.geometry_.path_ == "exact"  # 1200 samples: far below the budget
    monkeypatch.setattr(geodesic, "_EXACT_BUDGET", 1e6)
    capsys.readouterr()
    assert _fit(X, t=4.0, verbose=True).geometry_.path_ == "coarse"
    out = capsys.readouterr().out
    assert "coarse path" in out and "> budget 1e+06" in out and "250 cells" in out
    # too few samples to coarse-grain: exact whatever the cost
    monkeypatch.setattr(geodesic, "_COARSE_CELLS", 700)
    assert _fit(X, t=4.0).geometry_.path_ == "exact"
    assert _fit(X, t=4.0, n_landmarks=None).geometry_.path_ == "full"


def test_coarse_path_memory_bounded(monkeypatch):
    """Above the budget nothing of size n x n is allocated and the fitted state
    is O(n + cells x landmarks): a sparse spread of each sample over a few
    cells and the coarse kernel's landmark columns (no n x m kernel)."""
    rng = np.random.default_rng(0)
    n, m, cells = 6000, 40, 300
    X = rng.uniform(size=(n, 2))
    _force(monkeypatch, cells)
    tracemalloc.start()
    est = HeatGeodesicDistance(n_landmarks=m, t=8.0, random_state=0).fit(X)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    geom = est.geometry_
    assert geom.path_ == "coarse"
    assert peak < 0.25 * n * n * 8  # a dense n x n kernel: 288 MB
    assert geom.columns_ is None
    assert geom.coarse_columns_.shape == (cells, m)
    assert geom.spread_.shape == (n, cells) and geom.spread_.nnz < 20 * n
    assert est.transform(X[:5]).shape == (5, m)


def test_sources_through_coarse_path(sphere, monkeypatch):
    X, geo = sphere
    S = np.array([5, 500, 900])
    _force(monkeypatch, 250)
    D, t = heat_geodesic_distances(X, sources=S, t=16.0, return_t=True)
    assert t == 16.0 and D.shape == (3, X.shape[0])
    np.testing.assert_array_equal(D[np.arange(3), S], 0.0)
    assert spearmanr(D.ravel(), geo(S, None).ravel()).statistic > 0.98


def test_coarse_disconnected_components(monkeypatch):
    rng = np.random.default_rng(0)
    X = np.vstack([rng.uniform(size=(400, 2)), rng.uniform(size=(400, 2)) + 50])
    _force(monkeypatch, 60)
    with pytest.warns(UserWarning, match="connected components"):
        est = HeatGeodesicDistance(n_landmarks=20, t=4.0, random_state=0).fit(X)
    assert est.geometry_.path_ == "coarse"
    D = est.geometry_.train_distances()
    left = est.landmarks_ < 400
    assert np.all(np.isfinite(D))
    assert D[:400][:, ~left].min() > D[:400][:, left].max()


def test_heat_at_relative_accuracy_far_entries():
    """The shifted doubling H(2 tau + r) = H(tau)^2 H(r) keeps far entries of
    a path graph (1e-133 to 1e-179) to a small relative error."""
    import scipy.sparse as sp

    from manigeo.graphs import laplacian
    from manigeo.heat._coarse import _heat_at
    from manigeo.heat._squaring import _doubling

    n = 120
    i = np.arange(n - 1)
    A = sp.csr_array((np.ones(n - 1), (i, i + 1)), shape=(n, n))
    L = sp.csr_array(laplacian(A + A.T, kind="symmetric"))
    taus = [0.7, 2.9, 7.3]  # from scratch, then 2 tau + 1.5, 2 tau + 1.7
    for tau, H in zip(taus, _heat_at(L, taus, n + 8), strict=True):
        ref = next(_doubling(L, tau, 1, reach=n + 8))[1]
        assert ref[0, -1] < 1e-130
        np.testing.assert_allclose(H, ref, rtol=1e-5, atol=0)


def test_train_distances_equal_varadhan_distance(sphere, monkeypatch):
    """The in-place distances of training rows are varadhan_distance's."""
    from manigeo.heat import varadhan_distance

    X, _ = sphere
    for coarse in (False, True):
        _force(monkeypatch, 250, coarse=coarse)
        geom = _fit(X, t=8.0).geometry_
        L = geom.landmarks_
        rows = np.arange(0, X.shape[0], 7)
        K = geom._rows(rows)
        ref = varadhan_distance(K, geom.diag_[rows], geom.diag_[L], 8.0, 1.0)
        ref[np.isin(rows, L), np.searchsorted(L, rows[np.isin(rows, L)])] = 0.0
        # equal to round-off: the log of the scaled kernel and the difference
        # of logs round apart by ~1e-16 of log K, relatively more as d -> 0
        got = geom.train_distances(rows)
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-14 * ref.max())


def test_msd_curve_matches_brute_force():
    """E_pi |z_2j - z_0|^2 from the reversible identity equals the direct sum."""
    from manigeo.heat._coarse import _msd_curve

    rng = np.random.default_rng(0)
    X = rng.uniform(size=(60, 2))
    W = np.exp(-(((X[:, None] - X[None]) ** 2).sum(-1)) / 0.05)
    np.fill_diagonal(W, 0.0)
    deg = W.sum(1)
    P = W / deg[:, None]
    D2 = ((X[:, None] - X[None]) ** 2).sum(-1)
    gen = _msd_curve(W, X, deg)
    for j in (1, 2, 3):
        Pk = np.linalg.matrix_power(P, 2 * j)
        direct = (deg / deg.sum()) @ (Pk * D2).sum(1)
        assert next(gen) == pytest.approx(direct, rel=1e-10)


def test_coarse_graph_from_affinity_lengths_equals_recomputed(sphere):
    """The affinity's edge lengths and components give the cells, coarse graph
    and spread of the ones recomputed from X; the lumped graph is A^T W A."""
    import scipy.sparse as sp

    from manigeo.heat._coarse import _CoarseDiffusion, _lump
    from manigeo.heat._graph import _edge_lengths

    X, _ = sphere
    aff = geodesic._Affinity(10, "gaussian", 40.0, "normalize").fit(X)
    G = _edge_lengths(X, aff.W_)
    np.testing.assert_array_equal(aff.lengths_.indptr, G.indptr)
    np.testing.assert_array_equal(aff.lengths_.indices, G.indices)
    np.testing.assert_allclose(aff.lengths_.data, G.data, rtol=1e-14)
    args = (X, aff.W_, 100, None, geodesic.farthest_points, aff.slow_)
    a = _CoarseDiffusion(*args[:3], np.random.RandomState(0), *args[4:])
    b = _CoarseDiffusion(
        *args[:3],
        np.random.RandomState(0),
        *args[4:],
        lengths=aff.lengths_,
        components=aff.components(),
    )
    np.testing.assert_array_equal(a.cell, b.cell)
    assert abs(a.spread - b.spread).max() < 1e-14
    assert abs(a.L - b.L).max() < 1e-14
    m = a.n_cells
    A = sp.csr_array((np.ones(len(X)), (np.arange(len(X)), a.cell)), shape=(len(X), m))
    ref = (A.T @ aff.W_ @ A).toarray()
    np.testing.assert_allclose(_lump(aff.W_, a.cell, m).toarray(), ref, rtol=1e-12)


@pytest.fixture(scope="module")
def small_coarse(sphere):
    """A coarse diffusion of 80 cells (dense references are cheap)."""
    from sklearn.utils import check_random_state

    from manigeo.heat import farthest_points, heat_affinity
    from manigeo.heat._coarse import _CoarseDiffusion

    X, _ = sphere
    W = heat_affinity(X, 10)
    coarse = _CoarseDiffusion(X, W, 80, check_random_state(0), farthest_points)
    probes = np.sort(np.random.default_rng(0).choice(X.shape[0], 20, replace=False))
    return coarse, probes


def _pair_kernel(coarse, Kc, rows):
    """``K(i, j) = s_i^T K_c s_j`` for the samples ``rows`` (dense reference)."""
    S = coarse.spread[rows].toarray()
    return S @ Kc @ S.T


def test_probe_kernels_match_dense_kernels(small_coarse):
    """t="auto"'s probe pair kernels equal S_p K_c S_p^T of the dense cell
    kernel at every grid time: against scipy's expm (near pairs) and, entry by
    entry to a relative 1e-9, against the dense positive-series kernel."""
    from scipy.linalg import expm

    coarse, probes = small_coarse
    times = 2.0 ** np.arange(0, 9)
    L = coarse.L.toarray()
    fac = coarse.vol / np.sqrt(coarse.deg)
    got = list(coarse.probe_kernels(probes, times))
    assert [t for t, _ in got] == list(times)
    for (t, Kp), tau in zip(got, coarse.coarse_times(times), strict=True):
        _, Kc = next(coarse.kernels([t]))
        np.testing.assert_allclose(Kp, _pair_kernel(coarse, Kc, probes), 1e-9)
        ref = _pair_kernel(coarse, expm(-tau * L) * np.outer(fac, fac), probes)
        np.testing.assert_allclose(Kp, ref, rtol=1e-6, atol=1e-9 * ref.max())
        assert Kp.min() > 0 and np.array_equal(Kp, Kp.T)


def test_auto_kernel_is_the_fixed_t_kernel(small_coarse):
    """The scan returns the dense cell kernel of the t it chose, the same
    array a fixed t computes, and scores every time it visits."""
    coarse, probes = small_coarse
    t, scores, Kc = geodesic._select_t_coarse(coarse, 1.0, probes)
    assert t in scores and scores[t] == max(scores.values())
    np.testing.assert_array_equal(Kc, next(coarse.kernels([t]))[1])


def test_quadratic_rows_brute_force():
    """s_i^T K s_i for rows with shared, distinct, unsorted and empty supports."""
    from manigeo.heat._coarse import _quadratic_rows

    rng = np.random.default_rng(0)
    m = 30
    K = rng.random((m, m))
    K = K + K.T
    rows = []
    for i in range(200):
        if i % 17 == 0:
            rows.append(np.zeros(m))  # empty row
            continue
        r = np.zeros(m)
        base = (i % 5) * 5  # 5 shared supports ...
        sup = np.arange(base, base + 1 + i % 4)
        if i % 7 == 0:  # ... and a few of their own
            sup = rng.choice(m, 6, replace=False)
        r[sup] = rng.random(sup.size)
        rows.append(r)
    D = np.array(rows)
    S = sp.csr_array(D)
    S.indices[S.indptr[3] : S.indptr[4]] = S.indices[S.indptr[3] : S.indptr[4]][::-1]
    S.data[S.indptr[3] : S.indptr[4]] = S.data[S.indptr[3] : S.indptr[4]][::-1]
    before = S.copy()
    np.testing.assert_allclose(
        _quadratic_rows(S, K, chunk_size=64), np.einsum("ij,jk,ik->i", D, K, D), 1e-13
    )
    assert (S != before).nnz == 0  # input untouched
    assert _quadratic_rows(sp.csr_array((3, m)), K).tolist() == [0.0, 0.0, 0.0]


def test_quadratic_rows_wide_supports_by_product(monkeypatch):
    """Wide, distinct supports (spread rows over most cells, as in 10-D) take
    the sparse-dense product, in chunks, with the same values."""
    from manigeo.heat import _coarse

    rng = np.random.default_rng(1)
    m = 40
    K = rng.random((m, m))
    K = K + K.T
    D = rng.random((300, m)) * (rng.random((300, m)) < 0.8)
    D[5] = 0.0  # an empty row
    S = sp.csr_array(D)
    calls = []
    product = _coarse._quadratic_rows_product
    monkeypatch.setattr(
        _coarse,
        "_quadratic_rows_product",
        lambda *a: calls.append(1) or product(*a, max_entries=7 * m),
    )
    got = _coarse._quadratic_rows(S, K)
    assert calls == [1]
    np.testing.assert_allclose(got, np.einsum("ij,jk,ik->i", D, K, D), 1e-13)


@pytest.mark.parametrize("coarse", [False, True])
def test_blocks_and_nearest_landmarks_match_train_distances(
    sphere, monkeypatch, coarse
):
    """distance_blocks (any block size) and nearest_landmarks are the rows and
    row-wise argmin of train_distances, also where sigma = 0 clips distances
    to 0 (several zeros in a row: the first one, as argmin) and where a kernel
    value under _TINY takes the log-domain fallback."""
    X, _ = sphere
    _force(monkeypatch, 250, coarse=coarse)
    for sigma in (1.0, 0.0):
        geom = _fit(X, t=8.0, sigma=sigma).geometry_
        rows = np.arange(3, X.shape[0], 5)
        D = geom.train_distances(rows)
        blocks = list(geom.distance_blocks(rows, chunk_size=37))
        assert [s for s, _ in blocks] == list(range(0, rows.size, 37))
        np.testing.assert_array_equal(np.vstack([b for _, b in blocks]), D)
        near = geom.nearest_landmarks(rows, chunk_size=37)
        np.testing.assert_array_equal(near, np.argmin(D, axis=1))
        if sigma == 0.0:  # clipped zeros besides the landmarks' own
            assert ((D == 0).sum(axis=1) > 1).any()
    # kernel values under _TINY (clipped): the log-domain fallback blocks give
    # varadhan_distance's clipped values, the others the scaled ones
    from manigeo.heat import varadhan_distance

    K = geom._rows(rows)
    monkeypatch.setattr(geodesic, "_TINY", float(np.quantile(K, 2e-4)))
    scaled = [f for *_, f in geom._scaled_blocks(rows, 37)]
    assert any(scaled) and not all(scaled)  # both kinds of block
    L = geom.landmarks_
    ref = varadhan_distance(K, geom.diag_[rows], geom.diag_[L], 8.0, 0.0)
    ref[np.isin(rows, L), np.searchsorted(L, rows[np.isin(rows, L)])] = 0.0
    got = geom.train_distances(rows, chunk_size=37)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-14 * ref.max())
    near = geom.nearest_landmarks(rows, chunk_size=37)
    np.testing.assert_array_equal(near, np.argmin(got, axis=1))


def test_spread_product_per_cell_equals_sparse_product(sphere, monkeypatch):
    """The coarse kernel rows by one dense product per cell equal the sparse
    product ``diag(a) S[r] @ C`` (rows in cell order, shuffled, with repeats,
    scaled or not, spread entries dropped by underflow), and train_distances
    in cell order equals the sparse path's."""
    X, _ = sphere
    _force(monkeypatch, 60)
    geom = _fit(X, t=8.0).geometry_
    assert geom.path_ == "coarse"
    rng = np.random.default_rng(0)
    n = X.shape[0]
    C = geom.coarse_columns_
    a = rng.random(n) + 0.5
    # a spread row with an entry removed (as eliminate_zeros does on underflow)
    S = geom.spread_.copy()
    i = int(np.flatnonzero(np.diff(S.indptr) > 2)[0])
    S.data[S.indptr[i]] = 0.0
    S.eliminate_zeros()
    S = sp.csr_array(S.multiply(1.0 / S.sum(axis=1)[:, None]))
    geom.spread_, geom._cell_weights = S, None
    ordered = geom.cell_order(np.arange(n))
    assert np.all(np.diff(geom.cell_[ordered]) >= 0)
    monkeypatch.setattr(geodesic, "_CELL_ROWS", 1)
    for r in (ordered, rng.permutation(n)[:300], np.r_[ordered[:50], ordered[:50]]):
        for scale in (None, a):
            ref = (S[r] @ C) if scale is None else (scale[r, None] * (S[r] @ C))
            got = geom._spread_product(r, C, scale)
            np.testing.assert_allclose(got, ref, rtol=1e-13, atol=1e-15 * ref.max())
    dense = geom.train_distances()
    monkeypatch.setattr(geodesic, "_CELL_ROWS", 10**9)  # always the sparse product
    sparse = geom.train_distances()
    np.testing.assert_allclose(dense, sparse, rtol=1e-11, atol=1e-12 * sparse.max())


def test_coarse_components_from_cells():
    """Without the components given, the cells give them: the same cells and
    component count as from connected_components, whether the sampled centres
    hit every component (4 cells) or miss one (2 cells: a third is added)."""
    from sklearn.utils import check_random_state

    from manigeo.heat._coarse import _CoarseDiffusion

    rng = np.random.default_rng(0)
    X = np.vstack(
        [
            rng.uniform(size=(600, 2)),
            rng.uniform(size=(300, 2)) + 50,
            0.01 * rng.normal(size=(12, 2)) + 200,
        ]
    )
    aff = geodesic._Affinity(10, "gaussian", 40.0, "normalize").fit(X)
    assert aff.components()[0] == 3
    for cells, got in ((2, 3), (4, 4)):
        args = (X, aff.W_, cells, None, geodesic.farthest_points, aff.slow_)
        a = _CoarseDiffusion(
            *args[:3], check_random_state(0), *args[4:], lengths=aff.lengths_
        )
        b = _CoarseDiffusion(
            *args[:3],
            check_random_state(0),
            *args[4:],
            lengths=aff.lengths_,
            components=aff.components(),
        )
        assert a.n_cells == b.n_cells == got
        assert a.n_components == b.n_components == 3
        np.testing.assert_array_equal(a.cell, b.cell)
        assert abs(a.L - b.L).max() == 0


def test_threaded_fit_same_outputs(sphere, monkeypatch):
    """The fit's parts run side by side (all-pairs search, landmarks, the fine
    walk's curve ahead) give the sequential fit's outputs, bit for bit."""
    import manigeo.heat._coarse as coarse

    X, _ = sphere
    _force(monkeypatch, 250)
    monkeypatch.setattr(geodesic, "_THREADED_MIN", 0)
    monkeypatch.setattr(coarse, "_AHEAD_MIN", 0)
    outs = []
    for threads in (1, 2):
        monkeypatch.setattr(geodesic, "blas_threads", lambda k=threads: k)
        monkeypatch.setattr(coarse, "blas_threads", lambda k=threads: k)
        est = _fit(X)
        assert est.geometry_.path_ == "coarse"
        outs.append((est.t_, est.t_scores_, est.transform(X[:100])))
    assert outs[0][0] == outs[1][0] and outs[0][1] == outs[1][1]
    np.testing.assert_array_equal(outs[0][2], outs[1][2])


def test_ahead_values_past_its_limit_and_errors():
    """The look-ahead thread stops at its limit; values past it come on
    demand (no wait for a thread that has stopped), an error is re-raised."""
    import time

    from manigeo.heat._coarse import _Ahead

    for threaded in (True, False):
        a = _Ahead(iter(range(100)), 3, threaded=threaded)
        time.sleep(0.05)
        assert a.first(2) == [0, 1]
        assert a.first(6) == [0, 1, 2, 3, 4, 5]

        def failing():
            yield 1
            raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            _Ahead(failing(), 5, threaded=threaded).first(2)
