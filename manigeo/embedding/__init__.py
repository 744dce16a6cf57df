"""Embeddings: classical / landmark MDS, SMACOF, the heat-geodesic embedding and
the push-forward Riemannian metric of an embedding."""

import importlib

from ._mds import classical_mds, landmark_mds
from ._riemann import rgg_laplacian, riemann_metric

# estimators and solvers defined in modules that import more, loaded lazily
_LAZY = {
    "HeatGeodesicEmbedding": "manigeo.embedding._heat_geodesic",
    "smacof": "manigeo.embedding._smacof",
}

__all__ = ["classical_mds", "landmark_mds", "rgg_laplacian", "riemann_metric", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'manigeo.embedding' has no attribute {name!r}")
