"""Shortest paths on weighted sparse graphs: all pairs (small n), from sources
or landmarks (large n)."""

from ._paths import landmark_shortest_paths, select_landmarks, shortest_paths

__all__ = ["landmark_shortest_paths", "select_landmarks", "shortest_paths"]
