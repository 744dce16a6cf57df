"""Pushforward Riemannian metric of an embedding (Perrault-Joncas & Meila 2013).

For an embedding ``Y = (y^1, ..., y^m)`` of points on a manifold and a graph
Laplacian ``L`` approximating the Laplace-Beltrami operator ``Delta``, the
identity ``Delta(fg) = f Delta g + g Delta f + 2 <grad f, grad g>`` gives the
dual metric (cometric) at each point,

.. math:: H^{kl}(i) = \\tfrac12 \\big[L(y^k y^l) - y^k L y^l - y^l L y^k\\big]_i ,

and the pushforward metric ``G(i) = H(i)^+`` (pseudo-inverse of rank
``n_dim``).  Re-implemented after megaman's ``RiemannMetric`` (its HEAD has
bugs in the ``n_dim < m`` branch).
"""

import numpy as np
import scipy.sparse as sp

from .._validation import check_adjacency, check_int, check_points


def rgg_laplacian(A, radius=1.0, dimension=2, *, renormalize=True):
    """Laplace-Beltrami approximation from a hard-threshold (indicator) graph.

    ``L = (2 (d + 2) / r^2) (P - I)`` with ``P`` the random-walk matrix of the
    (optionally density-renormalized, ``W_ij / (k_i k_j)``) adjacency: for an
    indicator kernel of radius ``r`` the mean squared step along one axis is
    ``r^2 / (d + 2)``, hence the scaling.  Sign convention of ``Delta``
    (negative semi-definite), as megaman.

    Parameters
    ----------
    A : sparse matrix of shape (n, n)
        Symmetric 0/1 adjacency (edges within ``radius``).
    radius : float, default=1.0
        Connection radius ``r``.
    dimension : int, default=2
        Intrinsic dimension ``d``.
    renormalize : bool, default=True
        Divide ``A_ij`` by ``k_i k_j`` first (removes the density drift,
        megaman's "geometric" Laplacian).

    Returns
    -------
    L : scipy.sparse.csr_array of shape (n, n)
    """
    A = check_adjacency(A)
    radius = float(radius)
    if not radius > 0:
        raise ValueError(f"radius must be positive, got {radius}")
    d = check_int(dimension, "dimension", minimum=1)
    k = np.asarray(A.sum(axis=1)).ravel()
    if np.any(k == 0):
        raise ValueError(f"A has {int(np.sum(k == 0))} isolated nodes")
    W = A
    if renormalize:
        inv = sp.dia_array((1.0 / k, 0), shape=A.shape)
        W = sp.csr_array(inv @ A @ inv)
    rs = np.asarray(W.sum(axis=1)).ravel()
    P = sp.dia_array((1.0 / rs, 0), shape=A.shape) @ W
    L = (P - sp.eye_array(A.shape[0], format="csr")) * (2.0 * (d + 2) / radius**2)
    return sp.csr_array(L)


def riemann_metric(L, Y, n_dim=None, *, return_dual=False):
    """Pushforward Riemannian metric of an embedding, one matrix per point.

    Parameters
    ----------
    L : sparse matrix or ndarray of shape (n, n)
        Laplacian approximating the Laplace-Beltrami operator ``Delta``
        (negative semi-definite convention, ``L 1 = 0``), e.g.
        :func:`rgg_laplacian`.  Pass ``-L`` for a positive graph Laplacian.
    Y : array-like of shape (n, m)
        Embedding coordinates.
    n_dim : int or None, default=None
        Intrinsic dimension: ``G`` is the pseudo-inverse of ``H`` keeping its
        ``n_dim`` largest singular values (``None``: all ``m``).
    return_dual : bool, default=False
        Also return the dual metric ``H``.

    Returns
    -------
    G : ndarray of shape (n, m, m)
        Metric in the embedding coordinates: for a tangent vector ``v`` at
        point ``i`` in embedding units, ``v^T G[i] v`` is its squared length on
        the manifold.
    H : ndarray of shape (n, m, m), only if ``return_dual``
        Dual metric ``<grad y^k, grad y^l>``.

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo.embedding import riemann_metric
    >>> from manigeo.graphs import laplacian
    >>> t = np.linspace(0, 1, 200, endpoint=False)
    >>> A = np.roll(np.eye(200), 1, 1) + np.roll(np.eye(200), -1, 1)
    >>> L = -laplacian(A) * 200**2            # second difference on a unit circle
    >>> Y = 3.0 * t[:, None]                   # coordinate stretched 3x
    >>> G = riemann_metric(L, Y)
    >>> float(np.round(np.median(G[10:-10, 0, 0]), 3))   # squared length per unit of y
    0.111
    """
    if sp.issparse(L):
        L = sp.csr_array(L, dtype=np.float64)
    else:
        L = np.asarray(L, dtype=np.float64)
    if L.ndim != 2 or L.shape[0] != L.shape[1]:
        raise ValueError(f"L must be a square (n, n) matrix, got shape {L.shape}")
    Y = check_points(Y, name="Y")
    n, m = Y.shape
    if L.shape[0] != n:
        raise ValueError(f"L has {L.shape[0]} rows but Y has {n} points")
    if n_dim is None:
        n_dim = m
    n_dim = check_int(n_dim, "n_dim", minimum=1, maximum=m)
    LY = L @ Y
    H = np.empty((n, m, m))
    for k in range(m):
        yk = Y[:, k]
        prod = Y * yk[:, None]  # y^k y^l for all l
        H[:, k, :] = 0.5 * (L @ prod - yk[:, None] * LY - Y * LY[:, [k]])
    H = 0.5 * (H + np.swapaxes(H, 1, 2))
    # rank-n_dim pseudo-inverse by eigen-decomposition (H is symmetric)
    w, V = np.linalg.eigh(H)
    order = np.argsort(w, axis=1)[:, ::-1]
    w = np.take_along_axis(w, order, axis=1)
    V = np.take_along_axis(V, order[:, None, :], axis=2)
    w_top, V_top = w[:, :n_dim], V[:, :, :n_dim]
    tol = 1e-12 * np.maximum(np.abs(w[:, :1]), 1e-300)
    inv = np.where(w_top > tol, 1.0 / np.where(w_top > tol, w_top, 1.0), 0.0)
    G = np.einsum("nik,nk,njk->nij", V_top, inv, V_top)
    return (G, H) if return_dual else G
