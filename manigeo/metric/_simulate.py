"""Matched flat-torus random geometric graphs for self-calibration."""

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

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
    pairs = cKDTree(T, boxsize=1.0).query_pairs(r, output_type="ndarray")
    if q < 1:
        pairs = pairs[rng.uniform(size=len(pairs)) < q]
    i, j = pairs[:, 0], pairs[:, 1]
    A = sp.csr_array(
        (np.ones(2 * len(i)), (np.concatenate([i, j]), np.concatenate([j, i]))),
        shape=(n, n),
    )
    A.sort_indices()
    return A, T, r


def torus_distances(T, rows):
    """Exact flat-torus distances from the points ``rows`` to every point."""
    D = np.abs(T[rows][:, None, :] - T[None, :, :])
    D = np.minimum(D, 1.0 - D)
    return np.sqrt((D * D).sum(axis=2))
