"""Steps 1-5 of the common-neighbour estimator: degrees, cosine similarity with
the pair removed on every edge, edge keep rate, local distances."""

import numpy as np
import scipy.sparse as sp

from .._validation import as_sparse_matrix
from ..graphs import neighbor_similarity
from ._lens import PosteriorMeanRule, edge_moments, invert_lens

_RULES = ("posterior", "clip")


def cosine_similarity_on_edges(A, *, backend="auto", device=None, chunk_size=None):
    """Cosine similarity of the two neighbourhoods of every edge, pair removed.

    ``s_ij = C_ij / sqrt((k_i - 1)(k_j - 1))`` with ``C = A A^T`` on the edges
    and ``k`` the degrees, computed by :func:`manigeo.graphs.neighbor_similarity`.
    ``A`` must be a canonical 0/1 CSR adjacency (sorted indices, no explicit
    zeros); the result is aligned with ``A.data``.

    Returns
    -------
    s : ndarray of shape (nnz,)
    K : ndarray of shape (nnz,)
        ``sqrt((k_i - 1)(k_j - 1))`` (the binomial size of ``C``).
    degrees : ndarray of shape (n,)
    """
    n = A.shape[0]
    deg = np.diff(A.indptr).astype(np.float64)
    if chunk_size is None:
        kmax = max(deg.max() if n else 1.0, 1.0)
        # bound a block's product at about 2e7 stored entries
        chunk_size = int(np.clip(2e7 / (kmax * kmax), 16, 4096))
    S = neighbor_similarity(
        A, "cosine", backend=backend, device=device, chunk_size=chunk_size
    )
    if not sp.issparse(S):  # a torch result: bring it back
        S = as_sparse_matrix(S)
    S = sp.csr_array(S)
    S.sort_indices()
    if not (
        np.array_equal(S.indptr, A.indptr) and np.array_equal(S.indices, A.indices)
    ):
        raise RuntimeError(  # pragma: no cover - neighbor_similarity keeps the mask
            "neighbor_similarity did not return the edge pattern of the adjacency"
        )
    km1 = np.maximum(deg - 1.0, 0.0)
    K = np.repeat(km1, np.diff(A.indptr))
    K *= km1[A.indices]
    np.sqrt(K, out=K)
    return np.asarray(S.data, dtype=np.float64), K, deg


def estimate_keep_rate(s, d):
    """Edge keep rate ``q = mean(s) / m_d`` (rgg.md §2 step 4)."""
    return float(np.mean(s) / edge_moments(d)) if len(s) else 1.0


def local_lengths(s, K, d, q, rule, penalty=0.0):
    """Local distances in units of the radius, one per edge (step 5).

    Returns
    -------
    u : ndarray
        Estimated normalized lengths (clip-inversion or posterior mean).
    w : ndarray
        Path weights for Dijkstra: ``u + penalty * sd`` with ``sd`` the
        posterior standard deviation (``u`` itself for clip-inversion).
    """
    if rule not in _RULES:
        raise ValueError(f"local_rule must be one of {_RULES}, got {rule!r}")
    u = np.empty(len(s))
    step = 1 << 21  # bounded temporaries on graphs with 1e8 edges
    if rule == "clip":
        for a in range(0, len(s), step):
            u[a : a + step] = invert_lens(np.minimum(s[a : a + step] / q, 1.0), d)
        return u, u
    post = PosteriorMeanRule(d, min(q, 1.0), K.max() if len(K) else 2.0)
    w = u.copy() if penalty else u
    for a in range(0, len(s), step):
        u[a : a + step] = post(s[a : a + step], K[a : a + step])
        if penalty:
            w[a : a + step] = u[a : a + step] + penalty * post(
                s[a : a + step], K[a : a + step], table=post.sd_table
            )
    return u, w
