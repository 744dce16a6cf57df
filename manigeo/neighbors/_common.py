"""Common-neighbour counts ``A @ A.T`` restricted to a mask (SciPy backend)."""

import numpy as np
import scipy.sparse as sp

from .._validation import check_adjacency, check_int


def _scipy_masked(A, M, chunk_size):
    """``(A @ A.T)`` on the pattern of ``M`` in row blocks, explicit zeros kept.

    Output has exactly the pattern of ``M`` (same indptr/indices), values are
    the counts (zero where the pair shares no neighbour).
    """
    n = A.shape[0]
    AT = sp.csr_array(A.T)
    out = np.zeros(M.nnz, dtype=A.dtype)
    for start in range(0, n, chunk_size):
        stop = min(n, start + chunk_size)
        block = sp.csr_array(A[start:stop] @ AT)  # rows start:stop of A A^T
        block.sort_indices()
        lo, hi = M.indptr[start], M.indptr[stop]
        rows = np.repeat(np.arange(stop - start), np.diff(M.indptr[start:stop + 1]))
        cols = M.indices[lo:hi]
        # look up (row, col) in the block's CSR by searching each row's indices
        key_block = block.indices.astype(np.int64) + np.repeat(
            np.arange(stop - start, dtype=np.int64) * n, np.diff(block.indptr)
        )
        key_mask = cols.astype(np.int64) + rows.astype(np.int64) * n
        pos = np.searchsorted(key_block, key_mask)
        pos_c = np.minimum(pos, max(len(key_block) - 1, 0))
        hit = (pos < len(key_block)) & (key_block[pos_c] == key_mask) if len(
            key_block) else np.zeros(len(key_mask), bool)
        out[lo:hi][hit] = block.data[pos_c[hit]]
    return sp.csr_array((out, M.indices.copy(), M.indptr.copy()), shape=M.shape)


def common_neighbors(A, mask="edges", *, binary=False, chunk_size=None):
    """Common-neighbour counts ``C = A @ A.T`` on a sparsity pattern.

    Parameters
    ----------
    A : sparse matrix, array-like or networkx graph of shape (n, n)
        Symmetric adjacency matrix (weights are counted unless ``binary``).
    mask : "edges", None or sparse matrix, default="edges"
        ``"edges"``: C only on the pattern of A (never forms the full A²);
        ``None``: the full product; a sparse matrix: C on its pattern.
        Pairs without a common neighbour are explicit zeros on the mask.
    binary : bool, default=False
        Count edges as 1 whatever their weight.
    chunk_size : int or None, default=None
        Rows per block (bounds memory at about ``chunk_size * k_max^2`` entries).

    Returns
    -------
    C : scipy.sparse.csr_array of shape (n, n)
    """
    A = check_adjacency(A)
    if binary:
        A.data[:] = 1.0
    n = A.shape[0]
    if chunk_size is None:
        chunk_size = max(1, min(n, 4096))
    chunk_size = check_int(chunk_size, "chunk_size", minimum=1)
    if mask is None:
        C = sp.csr_array(A @ A.T)
        C.sort_indices()
        return C
    if isinstance(mask, str):
        if mask != "edges":
            raise ValueError(f"mask must be 'edges', None or a sparse matrix, got {mask!r}")
        M = A
    else:
        M = sp.csr_array(mask)
        if M.shape != A.shape:
            raise ValueError(f"mask has shape {M.shape}, expected {A.shape}")
        M.sum_duplicates()
        M.sort_indices()
    return _scipy_masked(A, M, chunk_size)
