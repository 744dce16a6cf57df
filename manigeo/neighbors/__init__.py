"""Neighbour statistics: common-neighbour counts on a mask."""

from ._common import common_neighbors

__all__ = ["common_neighbors"]
