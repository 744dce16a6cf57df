"""Datasets with exact ground-truth geodesics, random geometric graphs, and the
Geom-GCN heterophily benchmark graphs."""

from ._geodesic import Geodesic
from ._geom_gcn import GeomGCNBunch, fetch_geom_gcn, get_data_home, to_pyg
from ._manifolds import make_sphere, make_swiss_roll, make_torus, make_tree
from ._rgg import sample_rgg

__all__ = [
    "Geodesic",
    "GeomGCNBunch",
    "fetch_geom_gcn",
    "get_data_home",
    "make_sphere",
    "make_swiss_roll",
    "make_torus",
    "make_tree",
    "sample_rgg",
    "to_pyg",
]
