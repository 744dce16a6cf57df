"""Graphs from point clouds, kernels, Laplacians, neighbour statistics and input
conversion.

:func:`common_neighbors` computes ``A @ A.T`` only on a sparsity pattern (the
edges, by default) with a GraphBLAS, SciPy or torch (CPU/CUDA) engine;
:func:`neighbor_similarity` normalizes it (cosine with the pair removed,
Jaccard, Adamic-Adar) on the same pattern.

Every function accepts scipy.sparse matrices (any format), dense arrays,
networkx graphs and torch tensors where a graph is expected, and returns
``scipy.sparse.csr_array``.
"""

from .._validation import as_sparse_matrix, check_adjacency, component_report
from ._cn import (
    BACKENDS,
    SIMILARITIES,
    EdgeBlocks,
    common_neighbors,
    edge_blocks,
    neighbor_similarity,
)
from ._kernels import alpha_decay_kernel, gaussian_kernel
from ._laplacian import laplacian
from ._neighbors import knn_graph, knn_recall, radius_graph


def to_adjacency(G, *, binary=False, symmetric="raise", self_loops="remove"):
    """Convert and validate a graph (scipy.sparse, dense, networkx, torch).

    See :func:`manigeo._validation.check_adjacency` for the parameters; this is
    its public name.
    """
    return check_adjacency(G, binary=binary, symmetric=symmetric, self_loops=self_loops)


def connected_components(G):
    """Connected-component report of a graph.

    Returns
    -------
    n_components : int
    labels : ndarray of shape (n,)
        Component index of each node.
    sizes : ndarray of shape (n_components,)
        Number of nodes in each component.
    """
    return component_report(to_adjacency(G, symmetric="ignore"))


__all__ = [
    "BACKENDS",
    "SIMILARITIES",
    "alpha_decay_kernel",
    "common_neighbors",
    "as_sparse_matrix",
    "connected_components",
    "EdgeBlocks",
    "edge_blocks",
    "gaussian_kernel",
    "knn_graph",
    "knn_recall",
    "laplacian",
    "neighbor_similarity",
    "radius_graph",
    "to_adjacency",
]
