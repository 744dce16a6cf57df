"""Metric reconstruction: latent geodesics of random geometric graphs
(:class:`RGGMetric`) and the pushforward Riemannian metric of an embedding
(:func:`riemann_metric`)."""

from ._lens import ball_volume, edge_moments, invert_lens, lens_fraction
from ._rgg_metric import RGGMetric
from ._riemann import rgg_laplacian, riemann_metric

__all__ = [
    "RGGMetric",
    "ball_volume",
    "edge_moments",
    "invert_lens",
    "lens_fraction",
    "rgg_laplacian",
    "riemann_metric",
]
