"""Graph helpers shared by the exact and the coarse heat paths.

The graphs here are symmetric (kernel graphs and their coarse versions), so
SciPy's searches run as directed ones: the same result without the transposed
copy an undirected search builds.
"""

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph


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


def _length_graph(X, W, lengths=None):
    """:func:`_edge_lengths` of ``W``, or ``lengths`` where that is the same
    graph (built with the kernel graph from the same pair distances: the
    same pattern, and no explicit zero in ``W`` that ``_edge_lengths`` would
    drop)."""
    if lengths is not None and lengths.nnz == W.nnz and np.all(W.data != 0):
        return lengths
    return _edge_lengths(X, W)


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
