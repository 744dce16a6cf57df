"""k-nearest-neighbour and radius graphs from point clouds."""

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree
from sklearn.neighbors import NearestNeighbors

from .._validation import check_int, check_points

_MODES = ("connectivity", "distance")
_SYMMETRIZE = ("union", "mutual", "none")


def _symmetrize(G, symmetrize):
    if symmetrize == "union":
        G = G.maximum(G.T)
    elif symmetrize == "mutual":
        G = G.minimum(G.T)
    G = sp.csr_array(G)
    G.eliminate_zeros()
    G.sort_indices()
    return G


def knn_graph(
    X,
    n_neighbors=10,
    *,
    mode="connectivity",
    symmetrize="union",
    metric="euclidean",
    n_jobs=None,
):
    """k-nearest-neighbour graph of a point cloud.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Points.
    n_neighbors : int, default=10
        Neighbours per point (the point itself is not counted).
    mode : {"connectivity", "distance"}, default="connectivity"
        Store 1 for each edge, or the distance.
    symmetrize : {"union", "mutual", "none"}, default="union"
        "union" keeps an edge if either end lists the other (``max(G, G.T)``),
        "mutual" only if both do (``min(G, G.T)``), "none" returns the directed
        kNN graph (row i lists the neighbours of i).
    metric : str, default="euclidean"
        Any metric accepted by :class:`sklearn.neighbors.NearestNeighbors`.
    n_jobs : int or None, default=None
        Parallel jobs for the neighbour search.

    Returns
    -------
    G : scipy.sparse.csr_array of shape (n_samples, n_samples)
        No self-loops.  Exact zero distances between duplicate points are
        stored as ``1e-300`` in distance mode so the edge is not lost.

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo.graphs import knn_graph
    >>> X = np.random.default_rng(0).normal(size=(50, 3))
    >>> knn_graph(X, 5).shape
    (50, 50)
    """
    X = check_points(X, min_samples=2)
    n = X.shape[0]
    n_neighbors = check_int(n_neighbors, "n_neighbors", minimum=1)
    if n_neighbors >= n:
        raise ValueError(
            f"n_neighbors={n_neighbors} must be smaller than the number of points ({n})"
        )
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    if symmetrize not in _SYMMETRIZE:
        raise ValueError(f"symmetrize must be one of {_SYMMETRIZE}, got {symmetrize!r}")
    nn = NearestNeighbors(n_neighbors=n_neighbors, metric=metric, n_jobs=n_jobs)
    nn.fit(X)
    dist, ind = nn.kneighbors(X, n_neighbors=n_neighbors + 1)
    # drop self: usually column 0, but duplicates can reorder ties
    rows = np.repeat(np.arange(n), n_neighbors + 1).reshape(n, -1)
    not_self = ind != rows
    # keep exactly n_neighbors non-self entries per row
    keep = not_self & (np.cumsum(not_self, axis=1) <= n_neighbors)
    r, c, d = rows[keep], ind[keep], dist[keep]
    if mode == "connectivity":
        w = np.ones_like(d)
    else:
        w = np.maximum(d, 1e-300)
    G = sp.csr_array((w, (r, c)), shape=(n, n))
    return _symmetrize(G, symmetrize)


def radius_graph(X, radius, *, mode="connectivity", boxsize=None):
    """Graph joining every pair of points closer than ``radius`` (Euclidean).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Points.
    radius : float
        Edge when ``||x_i - x_j|| <= radius``.
    mode : {"connectivity", "distance"}, default="connectivity"
        Store 1 for each edge, or the distance.
    boxsize : float or array-like or None, default=None
        Periodic box (flat torus ``[0, boxsize)^d``), passed to
        :class:`scipy.spatial.cKDTree`.

    Returns
    -------
    G : scipy.sparse.csr_array of shape (n_samples, n_samples)
        Symmetric, no self-loops.
    """
    X = check_points(X, min_samples=1)
    radius = float(radius)
    if not np.isfinite(radius) or radius <= 0:
        raise ValueError(f"radius must be a positive finite number, got {radius}")
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    n = X.shape[0]
    tree = cKDTree(X, boxsize=boxsize)
    pairs = tree.query_pairs(radius, output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    if mode == "connectivity":
        w = np.ones(len(i))
    else:
        diff = X[i] - X[j]
        if boxsize is not None:
            box = np.broadcast_to(np.asarray(boxsize, dtype=float), (X.shape[1],))
            diff = np.abs(diff)
            diff = np.minimum(diff, box - diff)
        w = np.maximum(np.linalg.norm(diff, axis=1), 1e-300)
    G = sp.csr_array(
        (np.concatenate([w, w]), (np.concatenate([i, j]), np.concatenate([j, i]))),
        shape=(n, n),
    )
    G.sort_indices()
    return G
