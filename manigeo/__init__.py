"""manigeo: geometry and manifold learning.

Recover and use the geometry of data that lives on a curved space: metric
reconstruction from random geometric graphs, heat-geodesic embeddings, SPD and
Lie-group normalization, sheaf and connection Laplacians.

The estimators are exported lazily (PEP 562) so that ``import manigeo`` stays
light: torch and geomstats are imported only by the parts that need them.
"""

import importlib

__version__ = "0.1.0.dev0"

# public name -> submodule that defines it.  Estimators land here as each part
# is built; the lazy import keeps ``import manigeo`` free of torch/geomstats.
_LAZY_EXPORTS = {
    "RGGMetric": "manigeo.rgg",
    "HeatGeodesicEmbedding": "manigeo.embedding",
    "HeatGeodesicDistance": "manigeo.heat",
    "SPDStandardScaler": "manigeo.spd",
    "SPDRecenter": "manigeo.spd",
    "LieGroupStandardScaler": "manigeo.lie",
    "ConnectionLaplacian": "manigeo.sheaf",
}

_SUBMODULES = (
    "datasets",
    "embedding",
    "geodesics",
    "graphs",
    "heat",
    "lie",
    "metrics",
    "nn",
    "rgg",
    "sheaf",
    "spd",
)

__all__ = sorted([*_LAZY_EXPORTS, *_SUBMODULES, "__version__"])


def __getattr__(name):
    if name in _LAZY_EXPORTS:
        module = importlib.import_module(_LAZY_EXPORTS[name])
        value = getattr(module, name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        module = importlib.import_module(f"manigeo.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'manigeo' has no attribute {name!r}")


def __dir__():
    return __all__
