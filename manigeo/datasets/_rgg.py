"""Random geometric graphs with independent edge deletion."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike
from scipy.spatial import cKDTree

from .._validation import check_points, check_random_state


def sample_rgg(
    X: ArrayLike,
    radius: float,
    *,
    keep: float = 1.0,
    geodesic: Any = None,
    boxsize: Any = None,
    random_state: Any = None,
) -> sp.csr_array:
    """Hard-threshold random geometric graph, each edge kept with probability ``keep``.

    An edge joins ``i`` and ``j`` when their distance is at most ``radius``:
    the geodesic distance when ``geodesic`` is given (any :class:`Geodesic`
    from the ``make_*`` generators), else the Euclidean one (periodic when
    ``boxsize`` is given).  Each such edge is then kept independently with
    probability ``keep`` (missing edges).

    Candidates come from a KD-tree query with the Euclidean radius, which
    contains every pair within geodesic ``radius`` because chords are never
    longer than geodesics.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    radius : float
    keep : float in (0, 1], default=1.0
    geodesic : Geodesic or None
    boxsize : float or None
        Periodic box for the Euclidean case (flat torus ``[0, boxsize)^d``).
    random_state : int, RandomState or None

    Returns
    -------
    A : scipy.sparse.csr_array of shape (n_samples, n_samples)
        Symmetric 0/1 adjacency (float64), zero diagonal.

    Examples
    --------
    >>> from manigeo.datasets import make_sphere, sample_rgg
    >>> X, geo = make_sphere(500, random_state=0)
    >>> A = sample_rgg(X, 0.3, geodesic=geo, random_state=0)
    >>> bool((A != A.T).nnz == 0)
    True
    """
    X = check_points(X)
    n = X.shape[0]
    radius = float(radius)
    if not np.isfinite(radius) or radius <= 0:
        raise ValueError(f"radius must be a positive finite number, got {radius}")
    keep = float(keep)
    if not 0 < keep <= 1:
        raise ValueError(f"keep must be in (0, 1], got {keep}")
    if geodesic is not None and geodesic.n_samples != n:
        raise ValueError(
            f"geodesic describes {geodesic.n_samples} points but X has {n}"
        )
    rng = check_random_state(random_state)
    pairs = cKDTree(X, boxsize=boxsize).query_pairs(radius, output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    if geodesic is not None and len(i):
        within = geodesic.paired(i, j) <= radius
        i, j = i[within], j[within]
    if keep < 1:
        kept = rng.uniform(size=len(i)) < keep
        i, j = i[kept], j[kept]
    ones = np.ones(2 * len(i))
    A = sp.csr_array(
        (ones, (np.concatenate([i, j]), np.concatenate([j, i]))), shape=(n, n)
    )
    A.sort_indices()
    return A
