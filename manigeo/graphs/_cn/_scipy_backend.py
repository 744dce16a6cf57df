"""SciPy backend: ``L @ R.T`` on a mask, one row block at a time.

Each block ``L[start:stop] @ R.T`` is a SciPy SpGEMM (rows of the full product,
so the memory is bounded by the block), then the values on the mask's entries of
those rows are looked up by binary search in the block's sorted CSR keys.
"""

import numpy as np
import scipy.sparse as sp


def _row_keys(indptr, indices, start, stop, n_cols):
    """int64 keys ``(row - start) * n_cols + col`` of rows start:stop (CSR order)."""
    counts = np.diff(indptr[start : stop + 1])
    rows = np.repeat(np.arange(stop - start, dtype=np.int64), counts)
    lo, hi = indptr[start], indptr[stop]
    return rows * n_cols + indices[lo:hi].astype(np.int64)


def masked_values(L, RT, M, blocks):
    """Values of ``L @ RT`` at the entries of ``M`` (aligned with ``M.data``).

    ``L``, ``RT`` and ``M`` are canonical CSR arrays; ``blocks`` is a list of
    ``(start, stop)`` row ranges.  Entries of ``M`` whose pair has no wedge get 0.
    """
    n_cols = M.shape[1]
    out = np.zeros(M.nnz, dtype=np.float64)
    for start, stop in blocks:
        lo, hi = M.indptr[start], M.indptr[stop]
        if hi == lo:
            continue
        block = sp.csr_array(L[start:stop] @ RT)
        if block.nnz == 0:
            continue
        block.sort_indices()
        key_block = _row_keys(block.indptr, block.indices, 0, stop - start, n_cols)
        key_mask = _row_keys(M.indptr, M.indices, start, stop, n_cols)
        pos = np.searchsorted(key_block, key_mask)
        np.minimum(pos, len(key_block) - 1, out=pos)
        hit = key_block[pos] == key_mask
        out[lo:hi][hit] = block.data[pos[hit]]
    return out


def full_product(L, RT, blocks):
    """The whole ``L @ RT`` as a canonical CSR array (computed by row blocks)."""
    parts = [sp.csr_array(L[start:stop] @ RT) for start, stop in blocks]
    if not parts:
        return sp.csr_array((L.shape[0], RT.shape[1]), dtype=np.float64)
    C = sp.csr_array(sp.vstack(parts, format="csr"), dtype=np.float64)
    C.sort_indices()
    return C
