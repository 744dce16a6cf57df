"""Cellular sheaves on graphs.

Sheaf Laplacians with general, diagonal and orthogonal restriction maps
(:func:`sheaf_laplacian`), local PCA tangent frames and Procrustes transports
(:func:`local_pca`, :func:`procrustes_transports`), the connection Laplacian of
a point cloud or of a graph with node features (:class:`ConnectionLaplacian`)
and the Singer-Wu orientability test (:func:`orientability`).

Conventions follow PyTorch Geometric and Neural Sheaf Diffusion: a
bidirectional, coalesced ``edge_index`` of shape ``(2, E)`` and one
restriction map per directed edge, ``maps[e] = F_{src(e) <| e}``.
"""

from ._connection import ConnectionLaplacian
from ._frames import (
    estimate_dimension,
    local_pca,
    polar_factor,
    procrustes_transports,
    transport_maps,
)
from ._laplacian import SheafLaplacianBuilder, sheaf_laplacian
from ._orientability import Orientability, orientability

__all__ = [
    "ConnectionLaplacian",
    "Orientability",
    "SheafLaplacianBuilder",
    "estimate_dimension",
    "local_pca",
    "orientability",
    "polar_factor",
    "procrustes_transports",
    "sheaf_laplacian",
    "transport_maps",
]
