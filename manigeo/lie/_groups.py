"""geomstats group construction and membership checks."""

import numpy as np

from manigeo._optional import import_optional

GROUPS = ("SO", "SE")


def import_geomstats_groups():
    """Import geomstats' SO(n) / SE(n) and exponential barycenter.

    geomstats 2.8.0 imports ``numpy.trapz``, which numpy 2.4 removed; the alias
    to ``numpy.trapezoid`` (same function) is added only when it is missing.
    """
    if not hasattr(np, "trapz"):  # pragma: no cover - numpy >= 2.4 only
        np.trapezoid = np.trapezoid
    geometry = "geomstats.geometry."
    SE = import_optional(geometry + "special_euclidean", "lie", purpose="manigeo.lie")
    SO = import_optional(geometry + "special_orthogonal", "lie", purpose="manigeo.lie")
    bary = import_optional(
        "geomstats.learning.exponential_barycenter", "lie", purpose="manigeo.lie"
    )
    return SO.SpecialOrthogonal, SE.SpecialEuclidean, bary.ExponentialBarycenter


def make_group(group, d):
    """geomstats group acting on (d, d) matrices: SO(d) or SE(d - 1)."""
    SO, SE, _ = import_geomstats_groups()
    if group == "SO":
        return SO(d, point_type="matrix")
    if d < 3:
        raise ValueError(
            "SE(n) elements are (n+1, n+1) homogeneous matrices with n >= 2; "
            f"got {d}x{d}"
        )
    return SE(d - 1, point_type="matrix")


def check_group_elements(X, group, atol=1e-8):
    """Raise a ValueError naming the failed property unless X are group elements."""
    d = X.shape[-1]
    R = X if group == "SO" else X[:, : d - 1, : d - 1]
    k = R.shape[-1]
    err = np.abs(R @ np.swapaxes(R, -1, -2) - np.eye(k)).max()
    if err > atol * max(1, k):
        raise ValueError(
            f"X does not hold rotation matrices: max |R R^T - I| = {err:.3g} "
            f"(group={group!r})"
        )
    det = np.linalg.det(R)
    if np.any(det < 0):
        raise ValueError(f"X holds reflections (det = -1); {group} needs det(R) = +1")
    if group == "SE":
        last = X[:, d - 1, :]
        want = np.zeros(d)
        want[-1] = 1.0
        if np.abs(last - want).max() > atol:
            raise ValueError(
                "X does not hold homogeneous SE(n) matrices: the last row must be "
                "[0, ..., 0, 1]"
            )
