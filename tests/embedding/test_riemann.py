import numpy as np
import pytest

from manigeo.datasets import make_sphere, make_torus, sample_rgg
from manigeo.embedding import rgg_laplacian, riemann_metric
from manigeo.graphs import laplacian


@pytest.fixture(scope="module")
def sphere():
    X, geo = make_sphere(5000, random_state=0)
    r = 0.35
    A = sample_rgg(X, r, geodesic=geo, random_state=0)
    return X, rgg_laplacian(A, r, 2)


def test_isometric_sphere_embedding_gives_tangent_projection(sphere):
    X, L = sphere
    G, H = riemann_metric(L, X, n_dim=2, return_dual=True)
    P = np.eye(3)[None] - X[:, :, None] * X[:, None, :]
    err = np.linalg.norm(H - P, axis=(1, 2))
    assert np.median(err) < 0.2  # ||P|| = sqrt(2): pointwise within ~14 %
    assert np.linalg.norm((H - P).mean(0)) < 0.03  # no systematic bias
    assert np.median(np.linalg.norm(G - P, axis=(1, 2))) < 0.2
    # the metric of a 2x scaled embedding is 4x smaller
    G2 = riemann_metric(L, 2 * X, n_dim=2)
    np.testing.assert_allclose(G2, G / 4, rtol=1e-8, atol=1e-10)


def test_stereographic_coordinates_conformal_factor(sphere):
    X, L = sphere
    Y = X[:, :2] / (1 - X[:, 2:3])  # projection from the north pole
    G = riemann_metric(L, Y)
    south = X[:, 2] < -0.3
    factor = 4 / (1 + (Y[south] ** 2).sum(1)) ** 2  # g = 4 / (1 + |y|^2)^2 I
    assert np.median(np.abs(G[south, 0, 0] / factor - 1)) < 0.08
    assert np.median(np.abs(G[south, 1, 1] / factor - 1)) < 0.08
    assert np.median(np.abs(G[south, 0, 1] / factor)) < 0.08
    assert abs(np.mean(G[south, 0, 0] / factor) - 1) < 0.03


def test_flat_torus_clifford_embedding():
    X, geo = make_torus(5000, kind="flat", random_state=0)
    r = 0.06
    A = sample_rgg(X, r, geodesic=geo, random_state=0)
    H = riemann_metric(rgg_laplacian(A, r, 2), X, n_dim=2, return_dual=True)[1]
    a = 2 * np.pi * geo.coordinates
    P = np.zeros((len(X), 4, 4))
    for k in range(2):  # unit tangent vectors of the Clifford torus
        v = np.zeros((len(X), 4))
        v[:, 2 * k], v[:, 2 * k + 1] = -np.sin(a[:, k]), np.cos(a[:, k])
        P += v[:, :, None] * v[:, None, :]
    assert np.linalg.norm((H - P).mean(0)) < 0.03
    assert np.median(np.linalg.norm(H - P, axis=(1, 2))) < 0.3


def test_exact_on_a_discretized_circle():
    n = 400
    A = np.roll(np.eye(n), 1, 1) + np.roll(np.eye(n), -1, 1)
    L = -laplacian(A) * n**2  # second difference, unit circumference
    t = np.arange(n) / n
    Y = np.column_stack([np.cos(2 * np.pi * t), np.sin(2 * np.pi * t)]) / (2 * np.pi)
    G, H = riemann_metric(L, Y, n_dim=1, return_dual=True)
    tangent = np.column_stack([-np.sin(2 * np.pi * t), np.cos(2 * np.pi * t)])
    P = tangent[:, :, None] * tangent[:, None, :]
    np.testing.assert_allclose(H, P, atol=1e-3)
    np.testing.assert_allclose(G, P, atol=1e-3)


def test_bad_inputs():
    with pytest.raises(ValueError, match="square"):
        riemann_metric(np.zeros((3, 4)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="rows but Y"):
        riemann_metric(np.zeros((3, 3)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="n_dim"):
        riemann_metric(np.zeros((3, 3)), np.zeros((3, 2)), n_dim=3)
    with pytest.raises(ValueError, match="isolated"):
        rgg_laplacian(np.zeros((3, 3)), 1.0, 2)
