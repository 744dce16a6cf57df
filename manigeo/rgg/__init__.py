"""Riemannian metric reconstruction from random geometric graphs.

:class:`RGGMetric` recovers latent geodesic distances and an embedding from the
adjacency matrix of a random geometric graph alone: local distances from
common-neighbour counts (lens inversion), global geodesics by shortest paths,
an embedding by (landmark) MDS.  :func:`rgg_geodesics` is the functional
core; :class:`RGGMetric` wraps it and adds the embedding and out-of-sample
nodes.  The lens-volume helpers are public because
they are the model the estimator inverts.
"""

from ._core import rgg_geodesics
from ._dask import rgg_fit_dask
from ._lens import ball_volume, edge_moments, invert_lens, lens_fraction
from ._rgg_metric import RGGMetric

__all__ = [
    "RGGMetric",
    "ball_volume",
    "edge_moments",
    "invert_lens",
    "lens_fraction",
    "rgg_fit_dask",
    "rgg_geodesics",
]
