"""Common-neighbour engines (private): GraphBLAS, SciPy and torch backends.

The public entry points are :func:`manigeo.graphs.common_neighbors` and
:func:`manigeo.graphs.neighbor_similarity`.
"""

from ._common import BACKENDS, common_neighbors
from ._dask import EdgeBlocks, edge_blocks
from ._similarity import SIMILARITIES, neighbor_similarity

__all__ = [
    "BACKENDS",
    "SIMILARITIES",
    "EdgeBlocks",
    "common_neighbors",
    "edge_blocks",
    "neighbor_similarity",
]
