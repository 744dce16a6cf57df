"""Graph helpers shared by the exact and the coarse heat paths."""

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph


def _edge_lengths(X, W):
    """The graph of ``W`` with Euclidean edge lengths (floored at 1e-12)."""
    G = sp.csr_array(W, copy=True)
    r, c = G.nonzero()
    return sp.csr_array(
        (np.maximum(np.linalg.norm(X[r] - X[c], axis=1), 1e-12), (r, c)),
        shape=G.shape,
    )


def _hop_diameter(A):
    """Double-sweep BFS lower bound of the hop diameter over all components
    (exact on trees)."""
    n_comp, labels = csgraph.connected_components(A, directed=False)
    first = np.unique(labels, return_index=True)[1]
    best = 0
    for s in first:
        order = csgraph.breadth_first_order(
            A, int(s), directed=False, return_predecessors=False
        )
        d = csgraph.shortest_path(
            A, unweighted=True, indices=[int(order[-1])], directed=False
        )
        fin = d[np.isfinite(d)]
        best = max(best, int(fin.max()) if fin.size else 0)
    return best
