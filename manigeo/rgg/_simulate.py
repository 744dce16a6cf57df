"""Matched flat-torus and round-sphere random geometric graphs for self-calibration."""

import numpy as np
from scipy.special import gammaln

from ..datasets import sample_rgg
from ._lens import ball_volume


def torus_radius(n, d, mean_degree, q):
    """Radius giving ``mean_degree`` on ``n`` uniform points of the unit flat
    torus ``[0, 1)^d`` when each edge is kept with probability ``q``."""
    return (mean_degree / (q * (n - 1) * ball_volume(d))) ** (1.0 / d)


def min_torus_size(d, mean_degree, q, max_radius=0.2):
    """Smallest ``n`` for which :func:`torus_radius` stays below ``max_radius``
    (the balls must be small against the unit torus)."""
    return int(np.ceil(mean_degree / (q * ball_volume(d) * max_radius**d))) + 1


def flat_torus_rgg(n, d, mean_degree, q, rng):
    """Hard-threshold RGG on ``n`` uniform points of ``[0, 1)^d``, edges kept
    with probability ``q``.

    Returns
    -------
    A : scipy.sparse.csr_array of shape (n, n)
    T : ndarray of shape (n, d)
        Points (torus coordinates).
    r : float
        Connection radius.
    """
    r = torus_radius(n, d, mean_degree, q)
    T = rng.uniform(size=(n, d))
    # the periodic Euclidean distance on [0, 1)^d is the flat-torus geodesic
    A = sample_rgg(
        T,
        r,
        keep=q,
        boxsize=1.0,
        random_state=np.random.RandomState(rng.integers(2**31)),
    )
    return A, T, r


def torus_distances(T, rows):
    """Exact flat-torus distances from the points ``rows`` to every point."""
    D = np.abs(T[rows][:, None, :] - T[None, :, :])
    D = np.minimum(D, 1.0 - D)
    return np.sqrt((D * D).sum(axis=2))


def sphere_volume(d, R):
    """Volume of the round sphere ``S^d`` of radius ``R``."""
    return float(2.0 * np.pi ** (0.5 * (d + 1)) / np.exp(gammaln(0.5 * (d + 1))) * R**d)


def sphere_size(d, mean_degree, q, R):
    """Points of a uniform RGG of radius 1 and ``mean_degree`` on the sphere
    ``S^d`` of radius ``R`` (edges kept with probability ``q``)."""
    return int(np.ceil(mean_degree / (q * ball_volume(d)) * sphere_volume(d, R))) + 1


def sphere_rgg(n, d, R, q, rng):
    """Hard-threshold RGG of geodesic radius 1 on ``n`` uniform points of the
    round sphere ``S^d`` of radius ``R``, edges kept with probability ``q``.

    Returns
    -------
    A : scipy.sparse.csr_array of shape (n, n)
    X : ndarray of shape (n, d + 1)
        Unit vectors (geodesic distance ``R * arccos(x . y)``).
    """
    X = rng.normal(size=(n, d + 1))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    # geodesic distance <= 1 on the radius-R sphere <=> chord <= 2 R sin(1 / 2R)
    chord = 2.0 * np.sin(0.5 / R)
    A = sample_rgg(
        X, chord, keep=q, random_state=np.random.RandomState(rng.integers(2**31))
    )
    return A, X


def sphere_distances(X, R, rows):
    """Exact geodesic distances on the radius-``R`` sphere from ``rows``."""
    return R * np.arccos(np.clip(X[rows] @ X.T, -1.0, 1.0))
