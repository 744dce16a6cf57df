"""Embeddings: classical / landmark MDS and the heat-geodesic embedding."""

import importlib

from ._mds import classical_mds, landmark_mds

# estimators and solvers defined in modules that import more, loaded lazily
_LAZY = {
    "HeatGeodesicEmbedding": "manigeo.embedding._heat_geodesic",
    "HeatGeodesicDistance": "manigeo.embedding._heat_geodesic",
    "smacof": "manigeo.embedding._smacof",
}

__all__ = ["classical_mds", "landmark_mds", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'manigeo.embedding' has no attribute {name!r}")
