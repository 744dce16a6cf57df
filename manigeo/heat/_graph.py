"""Graph helpers shared by the exact and the coarse heat paths.

The graphs here are symmetric (kernel graphs and their coarse versions), so
SciPy's searches run as directed ones: the same result without the transposed
copy an undirected search builds.
"""

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from .._backend import blas_threads, run_chunks

#: multiply-adds per thread below which :class:`_RowBlocks` runs one product
#: (thread hand-off costs tens of microseconds; SciPy's products release the
#: GIL above 100 entries)
_SPLIT_WORK = 200_000


def _pair_dist(X, i, j, chunk_size=1 << 18):
    """Euclidean distances of the pairs ``(i, j)`` (symmetric to the bit)."""
    out = np.empty(i.size)
    for s in range(0, i.size, chunk_size):
        # np.take of whole rows: twice as fast as fancy indexing here
        diff = np.take(X, i[s : s + chunk_size], axis=0)
        diff -= np.take(X, j[s : s + chunk_size], axis=0)
        out[s : s + chunk_size] = np.einsum("ij,ij->i", diff, diff)
    return np.sqrt(out, out=out)


def _edge_lengths(X, W):
    """The graph of ``W`` with Euclidean edge lengths (floored at 1e-12)."""
    G = sp.csr_array(W, copy=True)
    G.eliminate_zeros()
    G.sum_duplicates()
    rows = np.repeat(np.arange(G.shape[0]), np.diff(G.indptr))
    G.data = np.maximum(_pair_dist(X, rows, G.indices), 1e-12)
    return G


def _hop_diameter(A):
    """Double-sweep BFS lower bound of the hop diameter over all components
    (exact on trees); ``A`` symmetric."""
    n_comp, labels = csgraph.connected_components(A, directed=True, connection="strong")
    first = np.unique(labels, return_index=True)[1]
    best = 0
    for s in first:
        order = csgraph.breadth_first_order(
            A, int(s), directed=True, return_predecessors=False
        )
        d = csgraph.shortest_path(
            A, unweighted=True, indices=[int(order[-1])], directed=True
        )
        fin = d[np.isfinite(d)]
        best = max(best, int(fin.max()) if fin.size else 0)
    return best


class _RowBlocks:
    """``A @ B`` for a CSR ``A`` by blocks of rows on ``threads`` threads.

    SciPy's sparse products release the GIL, so the blocks run in parallel
    (the package's pool, :func:`~manigeo._backend.run_chunks`); each row is
    the same loop over its entries as in the unsplit product, so the result
    is the same to the bit.  The blocks hold equal shares of the nonzeros and
    are views of ``A``'s arrays (built once, reused for every product).
    ``threads=None``: numpy's BLAS thread count
    (:func:`~manigeo._backend.blas_threads`; ``threadpool_limits(1)`` turns
    the split off).  ``scale`` of :meth:`matmul` multiplies the sparse
    factor's values (``(s A) @ B``, rounded as such).
    """

    def __init__(self, A, threads=None):
        self.A = sp.csr_array(A)
        self.threads = blas_threads() if threads is None else int(threads)
        self._bounds = {}

    def _blocks(self, width):
        """Row bounds of the blocks for a right-hand side of ``width`` columns."""
        A = self.A
        k = max(1, min(self.threads, A.nnz * width // _SPLIT_WORK, A.shape[0]))
        if k not in self._bounds:
            cuts = np.searchsorted(A.indptr, A.nnz * np.arange(1, k) / k)
            inner = np.minimum(cuts, A.shape[0])
            self._bounds[k] = np.unique(np.r_[0, inner, A.shape[0]])
        return self._bounds[k]

    def matmul(self, B, scale=None):
        A = self.A
        B = np.asarray(B)
        b = self._blocks(B.shape[1] if B.ndim > 1 else 1)
        if b.size <= 2:
            return (A if scale is None else A * scale) @ B
        out = np.empty((A.shape[0],) + B.shape[1:], dtype=np.result_type(A, B))

        def work(i, _):
            lo, hi = int(b[i]), int(b[i + 1])
            s, e = A.indptr[lo], A.indptr[hi]
            data = A.data[s:e] if scale is None else A.data[s:e] * scale
            part = sp.csr_array(
                (data, A.indices[s:e], A.indptr[lo : hi + 1] - s),
                shape=(hi - lo, A.shape[1]),
            )
            out[lo:hi] = part @ B

        run_chunks(work, b.size - 1, b.size - 1, blas_single=False)
        return out
