"""Geodesic-preservation scores: correlations, errors and distortion over pairs."""

import numpy as np
from scipy import stats

from ._backend import to_numpy

_METHODS = ("spearman", "pearson")


def _pairs(D_true, D_est):
    D_true = np.asarray(to_numpy(D_true), dtype=np.float64)
    D_est = np.asarray(to_numpy(D_est), dtype=np.float64)
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


def geodesic_correlation(D_true, D_est, method="spearman"):
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
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    a, b = _pairs(D_true, D_est)
    if method == "spearman":
        return float(stats.spearmanr(a, b).statistic)
    return float(stats.pearsonr(a, b).statistic)


def fit_scale(D_true, D_est):
    """Least-squares scale ``lambda* = <D_est, D_true> / <D_est, D_est>``.

    Use it to compare distances that are known only up to a global factor.
    """
    a, b = _pairs(D_true, D_est)
    denom = float(b @ b)
    if denom == 0:
        raise ValueError("D_est is identically zero")
    return float(a @ b) / denom


def error_summary(D_true, D_est, *, min_distance=0.0):
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


def distortion(D_true, D_est):
    """Multiplicative distortion ``max(D_est/D_true) / min(D_est/D_true)`` (>= 1).

    Pairs with ``D_true == 0`` are ignored; 1 means an exact similarity.
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
