"""Datasets with exact ground-truth geodesics, and random geometric graphs."""

from ._geodesic import Geodesic
from ._manifolds import make_sphere, make_swiss_roll, make_torus, make_tree
from ._rgg import sample_rgg

__all__ = [
    "Geodesic",
    "make_sphere",
    "make_swiss_roll",
    "make_torus",
    "make_tree",
    "sample_rgg",
]
