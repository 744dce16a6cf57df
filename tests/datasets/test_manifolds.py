import numpy as np
import pytest
from scipy.spatial.distance import cdist

from manigeo.datasets import (
    make_sphere,
    make_swiss_roll,
    make_torus,
    make_tree,
    sample_rgg,
)
from manigeo.geodesics import shortest_paths
from manigeo.graphs import knn_graph, radius_graph


def test_sphere_great_circle():
    X, geo = make_sphere(300, radius=2.0, random_state=0)
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 2.0)
    U = X / 2.0
    ref = 2.0 * np.arccos(np.clip(U @ U.T, -1, 1))
    np.testing.assert_allclose(geo(), ref, atol=1e-6)
    np.testing.assert_allclose(geo.paired([0, 1], [0, 2]), [0, ref[1, 2]], atol=1e-12)


def test_sphere_high_dim_and_noise():
    X, geo = make_sphere(50, dim=4, noise=0.1, random_state=1)
    assert X.shape == (50, 5)
    assert not np.allclose(np.linalg.norm(X, axis=1), 1)  # noisy points
    assert geo().max() <= np.pi + 1e-12  # geodesics of the clean sphere


def test_flat_torus_exact():
    X, geo = make_torus(200, kind="flat", dim=3, random_state=0)
    T = geo.coordinates
    d = np.abs(T[:, None] - T[None])
    ref = np.linalg.norm(np.minimum(d, 1 - d), axis=-1)
    np.testing.assert_allclose(geo(), ref)
    # each circle has circumference 1: isometric embedding, chords <= geodesics
    assert np.all(cdist(X, X) <= ref + 1e-12)
    np.testing.assert_allclose(np.linalg.norm(X[:, :2], axis=1), 1 / (2 * np.pi))


def test_ring_torus_meridian_exact():
    # points on one meridian circle: the geodesic is the tube arc r * dphi
    X, geo = make_torus(400, kind="ring", R=3.0, r=1.0, random_state=0)
    assert not geo.exact
    np.testing.assert_allclose(
        np.hypot(np.hypot(X[:, 0], X[:, 1]) - 3.0, X[:, 2]), 1.0, atol=1e-12
    )
    # graph geodesics on a dense sample agree with the grid geodesics (~1-2 %)
    Xd, geod = make_torus(4000, kind="ring", R=3.0, r=1.0, random_state=1)
    D = shortest_paths(knn_graph(Xd, 15, mode="distance"), np.arange(10))
    E = geod(np.arange(10))
    far = E > 1.0
    assert np.median(np.abs(D[far] / E[far] - 1)) < 0.03


def test_swiss_roll_unrolled_geodesic_convergence():
    errs = []
    # the graph must densify (k grows with n) for graph geodesics to converge
    for n, k in ((500, 8), (4000, 25)):
        X, geo = make_swiss_roll(n, random_state=0)
        D = shortest_paths(knn_graph(X, k, mode="distance"), np.arange(20))
        E = geo(np.arange(20))
        far = E > 5
        errs.append(np.median(np.abs(D[far] / E[far] - 1)))
    assert errs[1] < errs[0] / 4 and errs[1] < 0.01
    # uniform in area: unrolled coordinates fill the rectangle uniformly
    s = geo.coordinates[:, 0]
    hist = np.histogram(s, bins=5)[0]
    assert hist.min() > 0.8 * hist.mean()
    # the arc-length inversion is exact
    t = geo.t
    arc = 0.5 * (t * np.sqrt(1 + t * t) + np.arcsinh(t))
    t0 = 1.5 * np.pi
    arc0 = 0.5 * (t0 * np.sqrt(1 + t0 * t0) + np.arcsinh(t0))
    np.testing.assert_allclose(s, arc - arc0, atol=1e-9)


def test_tree_path_distances_match_dense_graph():
    X, geo = make_tree(3000, n_branches=5, dim=6, random_state=3)
    r = 0.03  # about 18 mean point spacings along a branch
    G = radius_graph(X, r, mode="distance")
    D = shortest_paths(G, np.arange(0, 3000, 300))
    E = geo(np.arange(0, 3000, 300))
    assert np.median(np.abs(D - E)) < 0.02
    # the graph may cut each junction's corner by < 2r (at most 4 junctions on a
    # path between 5 branches) and overshoots by less than one edge length
    assert np.all(D >= E - 8 * r) and np.all(D <= E + r)
    # symmetry and the triangle inequality of the exact metric
    idx = np.arange(0, 3000, 100)
    F = geo(idx, idx)
    np.testing.assert_allclose(F, F.T)
    assert np.all(F[:, :, None] <= F[:, None, :] + F.T[None, :, :] + 1e-12)


def test_sample_rgg_geodesic_threshold_and_keep():
    X, geo = make_sphere(1500, random_state=0)
    A = sample_rgg(X, 0.25, geodesic=geo, random_state=0)
    D = geo()
    ref = (D <= 0.25) & ~np.eye(1500, dtype=bool)
    np.testing.assert_array_equal(A.toarray().astype(bool), ref)
    B = sample_rgg(X, 0.25, geodesic=geo, keep=0.6, random_state=0)
    assert (B - B.T).nnz == 0
    assert abs(B.nnz / A.nnz - 0.6) < 0.02
    assert (B.multiply(A) != B).nnz == 0  # a subset of the true edges


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: make_sphere(10, radius=-1), "radius"),
        (lambda: make_torus(10, kind="klein"), "kind"),
        (lambda: make_torus(10, kind="ring", R=1, r=2), "R > r"),
        (lambda: make_swiss_roll(10, noise=-1), "noise"),
        (lambda: make_tree(10, n_branches=0), "n_branches"),
        (lambda: make_sphere(0), "n_samples"),
        (lambda: sample_rgg(np.zeros((5, 2)), 0.1, keep=0), "keep"),
    ],
)
def test_bad_parameters(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_geodesic_index_checks():
    _, geo = make_sphere(10, random_state=0)
    with pytest.raises(ValueError, match="outside"):
        geo([11])
    with pytest.raises(TypeError, match="integer"):
        geo([0.5])
    with pytest.raises(ValueError, match="same length"):
        geo.paired([0, 1], [2])
