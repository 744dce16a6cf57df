"""Shortest paths on weighted sparse graphs: all pairs (small n), from sources
or landmarks (large n), and landmark paths on Dask edge lists (Dijkstra batches
on one worker, or blockwise min-plus Bellman-Ford)."""

from ._dask import dask_landmark_paths
from ._paths import landmark_shortest_paths, select_landmarks, shortest_paths

__all__ = [
    "dask_landmark_paths",
    "landmark_shortest_paths",
    "select_landmarks",
    "shortest_paths",
]
