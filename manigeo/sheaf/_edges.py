"""Validation of PyG-style ``edge_index`` arrays and pairing of reversed edges."""

import numpy as np
import scipy.sparse as sp

from .._backend import is_torch
from .._validation import check_int


def check_edge_index(edge_index, n_nodes):
    """Validate a bidirectional ``edge_index`` and pair each edge with its reverse.

    Parameters
    ----------
    edge_index : array-like or torch.Tensor of shape (2, n_edges)
        Directed edges ``(src, dst)``; every edge must appear in both
        directions, without duplicates or self-loops (PyG's
        ``to_undirected`` + ``coalesce`` + ``remove_self_loops``).
    n_nodes : int
        Number of nodes; every index must lie in ``[0, n_nodes)``.

    Returns
    -------
    src, dst : ndarray of shape (n_edges,), int64
    rev : ndarray of shape (n_edges,), int64
        ``(src[rev[e]], dst[rev[e]]) == (dst[e], src[e])``.
    order : ndarray of shape (n_edges,) or None
        Permutation sorting the edges by ``(src, dst)``; None when they are
        already sorted (coalesced).
    """
    n_nodes = check_int(n_nodes, "n_nodes", minimum=1)
    if is_torch(edge_index):
        edge_index = edge_index.detach().cpu().numpy()
    edge_index = np.asarray(edge_index)
    if edge_index.ndim != 2 or edge_index.shape[0] != 2:
        raise ValueError(
            f"edge_index must have shape (2, n_edges), got {edge_index.shape}"
        )
    if edge_index.size and not np.issubdtype(edge_index.dtype, np.integer):
        if not np.all(np.mod(edge_index, 1) == 0):
            raise TypeError(
                "edge_index must hold integer node indices, got dtype "
                f"{edge_index.dtype}"
            )
    src = edge_index[0].astype(np.int64)
    dst = edge_index[1].astype(np.int64)
    if src.size:
        lo, hi = min(src.min(), dst.min()), max(src.max(), dst.max())
        if lo < 0 or hi >= n_nodes:
            raise ValueError(
                f"edge_index holds node indices in [{lo}, {hi}], outside "
                f"[0, n_nodes={n_nodes})"
            )
    if np.any(src == dst):
        raise ValueError(
            f"edge_index has {int(np.count_nonzero(src == dst))} self-loops; "
            "remove them (a sheaf Laplacian has no self-loop blocks)"
        )
    key = src * n_nodes + dst
    if key.size > 1 and np.all(key[1:] > key[:-1]):
        order = None
        skey = key
    else:
        order = np.argsort(key, kind="stable")
        skey = key[order]
        if skey.size > 1 and np.any(skey[1:] == skey[:-1]):
            dup = int(np.count_nonzero(skey[1:] == skey[:-1]))
            raise ValueError(f"edge_index has {dup} duplicate edges; coalesce it first")
    rkey = dst * n_nodes + src
    pos = np.searchsorted(skey, rkey)
    pos = np.minimum(pos, max(len(skey) - 1, 0))
    missing = skey[pos] != rkey if skey.size else np.zeros(0, bool)
    if np.any(missing):
        e = int(np.flatnonzero(missing)[0])
        raise ValueError(
            f"edge_index is not symmetric: {int(missing.sum())} edges have no "
            f"reverse, e.g. ({src[e]}, {dst[e]}) without ({dst[e]}, {src[e]}); "
            "use both directions of every edge (torch_geometric.utils.to_undirected)"
        )
    rev = pos if order is None else order[pos]
    return src, dst, rev.astype(np.int64), order


def adjacency_to_edge_index(A):
    """``(2, n_edges)`` int64 edge_index of a CSR matrix (sorted by source, then
    target)."""
    A.sort_indices()
    n = A.shape[0]
    src = np.repeat(np.arange(n, dtype=np.int64), np.diff(A.indptr))
    return np.vstack([src, A.indices.astype(np.int64)])


def reverse_edges_csr(A):
    """For a CSR matrix with a symmetric pattern and sorted indices, the
    position of entry ``(j, i)`` for each stored entry ``(i, j)`` (O(nnz))."""
    pos = sp.csr_array(
        (np.arange(A.nnz, dtype=np.int64), A.indices, A.indptr), shape=A.shape
    )
    T = sp.csr_array(pos.T)
    T.sort_indices()
    return T.data
