"""Singer-Wu orientability test from the reflections of orthogonal transports."""

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import eigsh

from .._validation import check_random_state, largest_component
from ._edges import check_edge_index

#: below this many nodes the eigenproblems are solved densely
_DENSE_MAX = 1500


class Orientability(NamedTuple):
    """Result of :func:`orientability`.

    Attributes
    ----------
    score : float
        :math:`\\lambda_{\\min}(I - D^{-1/2} Z D^{-1/2})` divided by the first
        non-zero eigenvalue of the graph's normalized Laplacian
        :math:`I - D^{-1/2} W D^{-1/2}` (largest connected component).  About 0
        (round-off) on an orientable manifold, of order 0.1-1 on a
        non-orientable one.
    is_orientable : bool
        ``score < threshold``.
    signs : ndarray of shape (n_nodes,)
        Orientation :math:`\\hat z_i = \\mathrm{sign}\\, v_1(i)` from the signed
        Laplacian's lowest eigenvector: flipping one column of frame ``i``
        where ``signs[i] < 0`` makes (almost) every transport a rotation.  +1
        outside the largest component.
    """

    score: float
    is_orientable: bool
    signs: np.ndarray


def _det(T):
    d = T.shape[1]
    if d == 1:
        return T[:, 0, 0]
    if d == 2:
        return T[:, 0, 0] * T[:, 1, 1] - T[:, 0, 1] * T[:, 1, 0]
    return np.linalg.det(T)


def _smallest(L, k, rng):
    """k smallest eigenpairs of a sparse symmetric PSD matrix."""
    n = L.shape[0]
    if n <= _DENSE_MAX:
        w, V = np.linalg.eigh(L.toarray())
        return w[:k], V[:, :k]
    # Lanczos on the spectrally flipped matrix c I - L (c = Gershgorin bound):
    # its largest eigenpairs are L's smallest.  Shift-invert needs a sparse LU
    # whose fill-in explodes on graphs of 3- and higher-dimensional manifolds
    # (a 40k x 40k connection Laplacian of T^4 did not factor in 15 minutes);
    # this needs matrix-vector products only (4 s there, 0.5 s for S^2 at
    # n = 4000 against 1.3 s with shift-invert).
    L = sp.csr_matrix(L)
    c = float(abs(L).sum(axis=1).max())
    v0 = rng.uniform(-1, 1, size=n)
    M = c * sp.identity(n, format="csr") - L
    mu, V = eigsh(M, k=k, which="LA", v0=v0, tol=1e-12)
    w = c - mu
    order = np.argsort(w)
    return w[order], V[:, order]


def orientability(
    edge_index,
    transports,
    n_nodes,
    *,
    edge_weight=None,
    threshold=0.1,
    random_state=None,
):
    """Singer-Wu orientability test of a manifold from its transports.

    Each edge gets the sign :math:`z_{ij} = \\mathrm{sign} \\det O_{ij}` (+1 when
    the transport preserves the orientation of the two local frames).  On an
    orientable manifold there is a choice of frame orientations making every
    ``z`` positive, so the 1-dimensional signed sheaf
    :math:`I - D^{-1/2} Z D^{-1/2}` has a zero eigenvalue; on a non-orientable
    one its lowest eigenvalue stays a fixed fraction of the graph's spectral gap.

    Parameters
    ----------
    edge_index : array-like of shape (2, n_edges)
        Bidirectional edge_index (see :func:`sheaf_laplacian`).
    transports : ndarray of shape (n_edges, d, d)
        Orthogonal transports aligned with ``edge_index``.
    n_nodes : int
    edge_weight : ndarray of shape (n_edges,), default=None
        Symmetric non-negative weights (1 when None).
    threshold : float, default=0.1
        Decision threshold on the score.
    random_state : int, RandomState instance or None, default=None
        Start vector of the sparse eigensolver (graphs above 1500 nodes).

    Returns
    -------
    result : Orientability
        ``(score, is_orientable, signs)``.

    References
    ----------
    .. [1] A. Singer and H.-T. Wu, "Orientability and diffusion maps",
       Appl. Comput. Harmon. Anal. 31(1), 2011.
    """
    src, dst, rev, _ = check_edge_index(edge_index, n_nodes)
    n = int(n_nodes)
    transports = np.asarray(transports, dtype=np.float64)
    if transports.ndim != 3 or transports.shape[0] != src.shape[0]:
        raise ValueError(
            "transports must have shape (n_edges, d, d) aligned with edge_index, "
            f"got {transports.shape}"
        )
    w = (
        np.ones(src.shape[0])
        if edge_weight is None
        else np.asarray(edge_weight, dtype=np.float64)
    )
    if w.shape != src.shape:
        raise ValueError(
            f"edge_weight must have shape ({src.shape[0]},), got {w.shape}"
        )
    z = np.where(_det(transports) < 0, -1.0, 1.0)
    W = sp.csr_array((w, (src, dst)), shape=(n, n))
    big, _ = largest_component(W)
    signs = np.ones(n)
    if big.size < 3:
        return Orientability(0.0, True, signs)
    keep = np.zeros(n, bool)
    keep[big] = True
    m = keep[src] & keep[dst]
    local = np.full(n, -1)
    local[big] = np.arange(big.size)
    s, t, ww, zz = local[src[m]], local[dst[m]], w[m], z[m]
    deg = np.bincount(s, weights=ww, minlength=big.size)
    inv = 1.0 / np.sqrt(deg)
    eye = sp.identity(big.size, format="csr")
    norm = ww * inv[s] * inv[t]
    L_graph = eye - sp.csr_array((norm, (s, t)), shape=(big.size,) * 2)
    L_sign = eye - sp.csr_array((norm * zz, (s, t)), shape=(big.size,) * 2)
    rng = check_random_state(random_state)
    lam_graph, _ = _smallest(L_graph, 2, rng)
    lam_sign, v = _smallest(L_sign, 1, rng)
    gap = max(lam_graph[1], 1e-300)
    score = float(max(lam_sign[0], 0.0) / gap)
    signs[big] = np.where(v[:, 0] < 0, -1.0, 1.0)
    if signs[big][0] < 0:
        signs[big] *= -1
    return Orientability(score, bool(score < threshold), signs)
