"""Geodesic-preservation scores: correlations, errors and distortion over pairs."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike
from scipy import stats

from ._backend import to_numpy
from ._validation import check_numeric_dtype

_METHODS = ("spearman", "pearson")


def _as_distances(D, name):
    if sp.issparse(D):
        raise TypeError(f"{name} must be a dense array of distances, got sparse")
    try:
        D = to_numpy(D)
    except ValueError as exc:  # ragged nested lists
        raise ValueError(f"{name} must be a rectangular array: {exc}") from None
    check_numeric_dtype(D, name=name)
    D = np.asarray(D, dtype=np.float64)
    if D.ndim > 2:
        raise ValueError(
            f"{name} must be 1-D or 2-D (condensed, block or square distances), "
            f"got shape {D.shape}"
        )
    return D


def _pairs(D_true, D_est):
    D_true = _as_distances(D_true, "D_true")
    D_est = _as_distances(D_est, "D_est")
    if D_true.shape != D_est.shape:
        raise ValueError(
            f"D_true and D_est must have the same shape, got {D_true.shape} and "
            f"{D_est.shape}"
        )
    if (
        D_true.ndim == 2
        and D_true.shape[0] == D_true.shape[1]
        and np.allclose(np.diag(D_true), 0)
    ):
        # square distance matrix: use each unordered pair once
        iu = np.triu_indices(D_true.shape[0], k=1)
        D_true, D_est = D_true[iu], D_est[iu]
    else:
        D_true, D_est = D_true.ravel(), D_est.ravel()
    if D_true.size == 0:
        raise ValueError("no pairs to compare")
    if not (np.all(np.isfinite(D_true)) and np.all(np.isfinite(D_est))):
        raise ValueError("distances contain NaN or infinite values")
    return D_true, D_est


def geodesic_correlation(
    D_true: ArrayLike, D_est: ArrayLike, method: str = "spearman"
) -> float:
    """Correlation between true and estimated distances over pairs.

    Parameters
    ----------
    D_true, D_est : array-like of the same shape
        A square distance matrix (each unordered pair counted once), a block
        of distances (sources x targets) or condensed vectors.
    method : {"spearman", "pearson"}, default="spearman"

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo.metrics import geodesic_correlation
    >>> D = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 1.5], [2.0, 1.5, 0.0]])
    >>> geodesic_correlation(D, 3 * D)   # any increasing map gives 1
    1.0
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    a, b = _pairs(D_true, D_est)
    if method == "spearman":
        return float(stats.spearmanr(a, b).statistic)
    return float(stats.pearsonr(a, b).statistic)


def fit_scale(D_true: ArrayLike, D_est: ArrayLike) -> float:
    """Least-squares scale ``lambda* = <D_est, D_true> / <D_est, D_est>``.

    Use it to compare distances that are known only up to a global factor.

    Parameters
    ----------
    D_true, D_est : array-like of the same shape
        Distances over the same pairs (see :func:`geodesic_correlation`).

    Returns
    -------
    float
        The factor that brings ``D_est`` closest to ``D_true``.

    Examples
    --------
    >>> from manigeo.metrics import fit_scale
    >>> fit_scale([2.0, 4.0, 6.0], [1.0, 2.0, 3.0])
    2.0
    """
    a, b = _pairs(D_true, D_est)
    denom = float(b @ b)
    if denom == 0:
        raise ValueError("D_est is identically zero")
    return float(a @ b) / denom


def error_summary(
    D_true: ArrayLike, D_est: ArrayLike, *, min_distance: float = 0.0
) -> dict[str, float]:
    """Absolute and relative error statistics over pairs.

    Parameters
    ----------
    D_true, D_est : array-like of the same shape
    min_distance : float, default=0.0
        Relative errors and the signed bias use only pairs with
        ``D_true > min_distance`` (avoids dividing by ~0).

    Returns
    -------
    dict
        ``median_abs``, ``mean_abs``, ``p95_abs``, ``max_abs``,
        ``median_rel``, ``mean_rel``, ``mean_signed_rel`` (bias) and ``n_pairs``.

    Examples
    --------
    >>> from manigeo.metrics import error_summary
    >>> s = error_summary([1.0, 2.0, 4.0], [1.1, 2.0, 3.6])
    >>> round(s["max_abs"], 3), round(s["mean_signed_rel"], 3), s["n_pairs"]
    (0.4, 0.0, 3)
    """
    a, b = _pairs(D_true, D_est)
    err = np.abs(b - a)
    far = a > max(min_distance, 0.0)
    rel = (b[far] - a[far]) / a[far]
    return {
        "median_abs": float(np.median(err)),
        "mean_abs": float(np.mean(err)),
        "p95_abs": float(np.percentile(err, 95)),
        "max_abs": float(np.max(err)),
        "median_rel": float(np.median(np.abs(rel))) if rel.size else np.nan,
        "mean_rel": float(np.mean(np.abs(rel))) if rel.size else np.nan,
        "mean_signed_rel": float(np.mean(rel)) if rel.size else np.nan,
        "n_pairs": int(a.size),
    }


def distortion(D_true: ArrayLike, D_est: ArrayLike) -> float:
    """Multiplicative distortion ``max(D_est/D_true) / min(D_est/D_true)`` (>= 1).

    Pairs with ``D_true == 0`` are ignored; 1 means an exact similarity.

    Parameters
    ----------
    D_true, D_est : array-like of the same shape
        Distances over the same pairs (see :func:`geodesic_correlation`).

    Returns
    -------
    float
        ``inf`` when some estimated distance is 0 for a positive true one.

    Examples
    --------
    >>> from manigeo.metrics import distortion
    >>> distortion([1.0, 2.0, 4.0], [2.0, 4.0, 8.0])   # a similarity
    1.0
    >>> distortion([1.0, 2.0], [1.0, 1.0])
    2.0
    """
    a, b = _pairs(D_true, D_est)
    pos = a > 0
    if not pos.any():
        raise ValueError("no pair with positive true distance")
    ratio = b[pos] / a[pos]
    if ratio.min() <= 0:
        return float("inf")
    return float(ratio.max() / ratio.min())


__all__ = ["distortion", "error_summary", "fit_scale", "geodesic_correlation"]
