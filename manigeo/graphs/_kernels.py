"""Affinity kernels on sparse distance graphs."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike
from sklearn.neighbors import NearestNeighbors

from .._validation import check_adjacency, check_int, check_points


def gaussian_kernel(
    D: Any, sigma: float | str = "median", *, symmetric: str = "raise"
) -> sp.csr_array:
    """Gaussian affinities ``exp(-d_ij^2 / sigma^2)`` on the edges of a distance graph.

    Parameters
    ----------
    D : sparse matrix of shape (n, n)
        Edge lengths (e.g. from :func:`knn_graph` with ``mode="distance"``).
    sigma : float or "median", default="median"
        Bandwidth; "median" uses the median edge length.
    symmetric : str, default="raise"
        Passed to :func:`manigeo._validation.check_adjacency`.

    Returns
    -------
    W : scipy.sparse.csr_array of shape (n, n)

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo.graphs import gaussian_kernel
    >>> D = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 2.0], [0.0, 2.0, 0.0]])
    >>> gaussian_kernel(D, sigma=1.0).toarray().round(4)
    array([[0.    , 0.3679, 0.    ],
           [0.3679, 0.    , 0.0183],
           [0.    , 0.0183, 0.    ]])
    """
    D = check_adjacency(D, name="D", symmetric=symmetric)
    if D.nnz == 0:
        raise ValueError("D has no edges")
    if isinstance(sigma, str):
        if sigma != "median":
            raise ValueError(
                f"sigma must be a positive float or 'median', got {sigma!r}"
            )
        sigma = float(np.median(D.data))
    sigma = float(sigma)
    if not np.isfinite(sigma) or sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    W = D.copy()
    W.data = np.exp(-((D.data / sigma) ** 2))
    return W


def alpha_decay_kernel(
    X: ArrayLike,
    n_neighbors: int = 10,
    *,
    decay: float = 40.0,
    threshold: float = 1e-4,
    max_neighbors: int | None = None,
    n_jobs: int | None = None,
) -> sp.csr_array:
    """PHATE/graphtools-style alpha-decay kernel with adaptive bandwidth.

    ``K(x, y) = exp(-(||x - y|| / sigma_k(x))^decay)`` where ``sigma_k(x)`` is the
    distance from ``x`` to its k-th nearest neighbour; the kernel is symmetrized
    as ``(K + K^T) / 2`` and entries below ``threshold`` are dropped.  As in
    graphtools, one-sided affinities below ``threshold`` are dropped before the
    symmetrization, so each entry is within ``threshold / 2`` of the exact
    symmetrized kernel.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    n_neighbors : int, default=10
        k in ``sigma_k``.
    decay : float, default=40.0
        Exponent alpha; larger is closer to a hard kNN graph.
    threshold : float, default=1e-4
        Affinities below this are not stored.
    max_neighbors : int or None, default=None
        How many neighbours are searched for each point; ``None`` uses the
        smallest count that provably contains every affinity above
        ``threshold`` up to ``n_samples - 1``: the search radius is
        ``sigma_k * (-log threshold)^(1/decay)``.
    n_jobs : int or None

    Returns
    -------
    K : scipy.sparse.csr_array of shape (n_samples, n_samples)
        Symmetric, zero diagonal.

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo.graphs import alpha_decay_kernel
    >>> X = np.random.default_rng(0).normal(size=(50, 3))
    >>> K = alpha_decay_kernel(X, 5)
    >>> K.shape, bool((K != K.T).nnz == 0), bool(K.diagonal().max() == 0)
    ((50, 50), True, True)
    """
    X = check_points(X, min_samples=2)
    n = X.shape[0]
    k = check_int(n_neighbors, "n_neighbors", minimum=1, maximum=n - 1)
    decay = float(decay)
    if not decay > 0:
        raise ValueError(f"decay must be positive, got {decay}")
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    nn = NearestNeighbors(n_jobs=n_jobs).fit(X)
    if max_neighbors is not None:
        m = check_int(max_neighbors, "max_neighbors", minimum=k, maximum=n - 1)
    else:
        m = min(n - 1, max(3 * k, k + 1))
    dist, ind = nn.kneighbors(X, n_neighbors=m + 1)
    sigma = np.maximum(dist[:, k], 1e-12)
    reach = sigma * (-np.log(threshold)) ** (1.0 / decay)
    rows_r, rows_c, rows_d = [], [], []
    todo = np.arange(n)
    while True:
        # rows whose m-th neighbour is still within reach need a wider search
        short = (dist[:, -1] < reach[todo]) & (m < n - 1) & (max_neighbors is None)
        done = todo[~short]
        rows_r.append(np.repeat(done, dist.shape[1]))
        rows_c.append(ind[~short].ravel())
        rows_d.append(dist[~short].ravel())
        if not short.any():
            break
        todo = todo[short]
        m = min(n - 1, 2 * m)
        dist, ind = nn.kneighbors(X[todo], n_neighbors=m + 1)
    r, c, d = (np.concatenate(a) for a in (rows_r, rows_c, rows_d))
    keep = (r != c) & (d <= reach[r])
    r, c, d = r[keep], c[keep], d[keep]
    w = np.exp(-((d / sigma[r]) ** decay))
    K = sp.csr_array((w, (r, c)), shape=(n, n))
    K = (K + K.T) * 0.5
    K = sp.csr_array(K)
    K.data[K.data < threshold] = 0
    K.eliminate_zeros()
    K.sort_indices()
    return K
