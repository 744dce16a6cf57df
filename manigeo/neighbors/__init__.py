"""Neighbour statistics: common-neighbour counts and similarities on a mask.

:func:`common_neighbors` computes ``A @ A.T`` only on a sparsity pattern (the
edges, by default) with a GraphBLAS, SciPy or torch (CPU/CUDA) backend;
:func:`neighbor_similarity` normalizes it (cosine with the pair removed,
Jaccard, Adamic-Adar) on the same pattern.
"""

from ._common import BACKENDS, common_neighbors
from ._similarity import SIMILARITIES, neighbor_similarity

__all__ = ["BACKENDS", "SIMILARITIES", "common_neighbors", "neighbor_similarity"]
