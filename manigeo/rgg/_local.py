"""Steps 1-5 of the common-neighbour estimator: degrees, masked A A^T, cosine
similarity with the pair removed, edge keep rate, local distances."""

import inspect

import numpy as np
import scipy.sparse as sp

from ..graphs import common_neighbors
from ._lens import PosteriorMeanRule, edge_moments, invert_lens

_RULES = ("posterior", "clip")


def _common_neighbors(A, backend, device, chunk_size):
    """Call common_neighbors, passing backend/device when the installed version
    supports them (the SciPy path needs neither)."""
    params = inspect.signature(common_neighbors).parameters
    kwargs = {"mask": "edges", "chunk_size": chunk_size}
    if "backend" in params:
        kwargs["backend"] = backend
    elif backend not in ("auto", "scipy"):
        raise ValueError(
            f"backend={backend!r} is not available in this version of "
            "manigeo.graphs.common_neighbors (only the SciPy path)"
        )
    if "device" in params:
        kwargs["device"] = device
    elif device not in (None, "cpu"):
        raise ValueError(
            f"device={device!r} is not available in this version of "
            "manigeo.graphs.common_neighbors"
        )
    C = common_neighbors(A, **kwargs)
    if not sp.issparse(C):  # a torch result: bring it back
        from .._validation import as_sparse_matrix

        C = as_sparse_matrix(C)
    C = sp.csr_array(C)
    C.sort_indices()
    if C.nnz != A.nnz or not np.array_equal(C.indices, A.indices):
        # align with A's pattern (explicit zeros may have been dropped)
        aligned = np.zeros(A.nnz)
        rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
        key_a = rows.astype(np.int64) * A.shape[0] + A.indices
        rc = np.repeat(np.arange(C.shape[0]), np.diff(C.indptr))
        key_c = rc.astype(np.int64) * C.shape[0] + C.indices
        pos = np.minimum(np.searchsorted(key_a, key_c), max(A.nnz - 1, 0))
        hit = key_a[pos] == key_c if A.nnz else np.zeros(len(key_c), bool)
        aligned[pos[hit]] = C.data[hit]
        return aligned
    return np.asarray(C.data, dtype=np.float64)


def cosine_similarity_on_edges(A, *, backend="auto", device=None, chunk_size=None):
    """Cosine similarity of the two neighbourhoods of every edge, pair removed.

    ``s_ij = C_ij / sqrt((k_i - 1)(k_j - 1))`` with ``C = A A^T`` on the edges
    and ``k`` the degrees.  Returned aligned with ``A.data`` (CSR order).

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
    C = _common_neighbors(A, backend, device, chunk_size)
    km1 = np.maximum(deg - 1.0, 0.0)
    K = np.repeat(km1, np.diff(A.indptr))
    K *= km1[A.indices]
    np.sqrt(K, out=K)
    s = np.divide(C, K, out=C, where=K > 0)
    s[K <= 0] = 0.0
    return s, K, deg


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
