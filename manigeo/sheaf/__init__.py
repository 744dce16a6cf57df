"""Cellular sheaves on graphs: sheaf Laplacians, connection Laplacians from
point clouds (local PCA frames + Procrustes transports), orientability."""

from ._laplacian import sheaf_laplacian

__all__ = ["sheaf_laplacian"]
