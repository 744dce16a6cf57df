"""Heat-geodesic distances and embedding."""

import warnings

import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform
from scipy.stats import spearmanr

from manigeo.datasets import make_sphere, make_swiss_roll
from manigeo.embedding import HeatGeodesicDistance, HeatGeodesicEmbedding
from manigeo.embedding._heat_geodesic import _heat_distance_block
from manigeo.metrics import geodesic_correlation


def _circle_heat(theta, t, terms=200):
    k = np.arange(1, terms)
    return (
        1 + 2 * (np.exp(-(k**2) * t)[None, :] * np.cos(np.outer(theta, k))).sum(1)
    ) / (2 * np.pi)


def test_volume_term_exact_for_euclidean_heat_kernel():
    """sigma=1 removes the (4 pi t)^(-1/2) factor: d_t = |x - y| exactly on R."""
    t = 0.7
    x = np.linspace(-3, 3, 13)
    K = np.exp(-((x[:, None] - x[None, :]) ** 2) / (4 * t)) / np.sqrt(4 * np.pi * t)
    diag = np.diag(K)
    D = _heat_distance_block(K, diag, diag, t, sigma=1.0)
    np.testing.assert_allclose(D, np.abs(x[:, None] - x[None, :]), atol=1e-7)
    # plain Varadhan (sigma=0) is off by the volume term 2 t log(4 pi t)
    D0 = _heat_distance_block(K, diag, diag, t, sigma=0.0)
    expect = np.sqrt(
        np.maximum((x[:, None] - x[None, :]) ** 2 + 2 * t * np.log(4 * np.pi * t), 0)
    )
    np.testing.assert_allclose(D0, expect, atol=1e-7)


def _sphere_heat(theta, t, terms=300):
    from scipy.special import eval_legendre

    ell = np.arange(terms)
    c = (2 * ell + 1) / (4 * np.pi) * np.exp(-ell * (ell + 1) * t)
    return (c[None, :] * eval_legendre(ell[None, :], np.cos(theta)[:, None])).sum(1)


def _closed_form_distance(h, t):
    return _heat_distance_block(h[None, :], h[:1], np.full(len(h), h[0]), t, 1.0)[0]


def test_varadhan_on_circle_closed_form():
    """Flat circle: -4t log(h_t(theta) / h_t(0)) = theta^2 up to wrap-around images."""
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


def test_graph_heat_distance_on_circle():
    """A fine circle graph: d_t is a scaled copy of the arc length."""
    n = 300
    ang = 2 * np.pi * np.arange(n) / n
    X = np.column_stack([np.cos(ang), np.sin(ang)])
    est = HeatGeodesicDistance(n_neighbors=6, n_landmarks=None, random_state=0).fit(X)
    D = est.heat_distances_
    arc = np.abs(ang[:, None] - ang[None, :])
    arc = np.minimum(arc, 2 * np.pi - arc)
    far = arc < 0.8 * np.pi  # away from the cut locus
    assert spearmanr(arc[far], D[far]).statistic > 0.999
    scale = (arc[far] @ D[far]) / (D[far] @ D[far])
    rel = (
        np.abs(scale * D[far & (arc > 0.3)] - arc[far & (arc > 0.3)])
        / arc[far & (arc > 0.3)]
    )
    assert np.median(rel) < 0.02


def test_sphere_heat_distances():
    X, geo = make_sphere(600, random_state=0)
    est = HeatGeodesicDistance(n_landmarks=None, random_state=0).fit(X)
    assert geodesic_correlation(geo(None, None), est.heat_distances_) > 0.98


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
    Ef, El = pdist(full.embedding_), pdist(lm.embedding_)
    assert spearmanr(Ef, El).statistic > 0.97
    assert geodesic_correlation(geo(None, None), squareform(El)) > 0.97
    # landmark rows of the transformer vs the exact distances of the full graph
    hd = HeatGeodesicDistance(
        n_neighbors=6, n_landmarks=250, t=64.0, random_state=0
    ).fit(X)
    Dl = hd.transform(X)
    assert Dl.shape == (700, 250)
    np.testing.assert_allclose(Dl[hd.landmarks_], hd.heat_distances_, atol=1e-8)
    G = geo(None, hd.landmarks_)
    assert geodesic_correlation(G, Dl) > 0.97


def test_transform_out_of_sample(roll):
    X, _ = roll
    est = HeatGeodesicEmbedding(n_neighbors=6, n_landmarks=None, random_state=0).fit(
        X[:600]
    )
    np.testing.assert_allclose(est.transform(X[:600]), est.embedding_)
    Ynew = est.transform(X[600:])
    # a new point lands near its nearest training neighbours
    from sklearn.neighbors import NearestNeighbors

    nn = NearestNeighbors(n_neighbors=5).fit(X[:600])
    _, ind = nn.kneighbors(X[600:])
    spread = np.median(pdist(est.embedding_))
    gap = np.linalg.norm(Ynew - est.embedding_[ind].mean(axis=1), axis=1)
    assert np.median(gap) < 0.05 * spread


def test_solvers_agree(roll):
    X, _ = roll
    X = X[:300]
    a = HeatGeodesicDistance(n_landmarks=None, t=20.0, solver="squaring").fit(X)
    b = HeatGeodesicDistance(n_landmarks=None, t=20.0, solver="chebyshev").fit(X)
    assert b.geometry_.order_ >= 20
    np.testing.assert_allclose(
        a.heat_distances_, b.heat_distances_, rtol=1e-3, atol=1e-3
    )
    c = HeatGeodesicDistance(n_landmarks=None, solver="chebyshev", random_state=0).fit(
        X
    )
    assert c.t_ in c.t_scores_


def test_auto_switch_to_landmarks(monkeypatch, capsys):
    import manigeo.embedding._heat_geodesic as mod

    monkeypatch.setattr(mod, "AUTO_FULL_MAX", 100)
    monkeypatch.setattr(mod, "AUTO_LANDMARKS", 60)
    X, _ = make_swiss_roll(150, random_state=0)
    est = HeatGeodesicEmbedding(random_state=0, verbose=True).fit(X)
    assert est.landmarks_.shape == (60,)
    assert est.embedding_.shape == (150, 2)
    assert "landmark mode" in capsys.readouterr().out


def test_classical_mds_option(roll):
    X, geo = roll
    est = HeatGeodesicEmbedding(
        n_neighbors=6, n_landmarks=None, t=64.0, mds="classical"
    ).fit(X)
    assert np.isnan(est.stress_)
    assert (
        geodesic_correlation(geo(None, None), squareform(pdist(est.embedding_))) > 0.95
    )


def test_disconnected_graph_warns():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(30, 2)), rng.normal(size=(30, 2)) + 100])
    with pytest.warns(UserWarning, match="connected components"):
        D = HeatGeodesicDistance(n_neighbors=5, n_landmarks=None).fit(X).heat_distances_
    assert np.all(np.isfinite(D))
    assert D[:30, 30:].min() > D[:30, :30].max()


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
        ({"solver": "expm"}, "solver"),
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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="dense"):
            HeatGeodesicDistance(n_landmarks=None, n_neighbors=3).fit(
                rng.normal(size=(20000, 2))
            )
