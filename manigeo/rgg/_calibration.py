"""Shortest-path selection bias, measured on a matched flat torus (rgg.md §2 step 7).

Dijkstra prefers edges whose estimated length happens to be too short, so
graph geodesics built from noisy local distances underestimate, by a relative
amount that grows with the number of hops towards a first-passage-percolation
limit (e.g. -3.6 % at 2 radii to -5.4 % at 9 radii on S^2 with mean degree 100;
-15 % to -21 % with half the edges missing; with the default uncertainty
penalty on the weights the raw paths are instead too long).  The bias depends on the
dimension, the mean degree, the keep rate and the local rule, not on the
global shape of the manifold, so it is measured on a flat torus ``T^d`` (exact
geodesics known) with those four matched, by running the same pipeline.

The correction is a calibration curve ``g``: the mean true distance given the
estimated one, ``g(D_hat) = E[D | D_hat]``, tabulated in bins of ``D_hat``
(in radii) on the torus and extended linearly (least squares over the upper
half of the simulated range) to longer distances.  The torus is made large
enough to cover the estimated diameter of the data graph when that costs less
than ``max_edges`` simulated edges.
"""

import numpy as np
from scipy.sparse import csgraph

from .._validation import largest_component
from ._lens import ball_volume
from ._local import cosine_similarity_on_edges, estimate_keep_rate, local_lengths
from ._simulate import flat_torus_rgg, min_torus_size, torus_distances

_CACHE = {}
_CACHE_MAX = 32


class CalibrationCurve:
    """Monotone map from estimated to calibrated distance (both in radii).

    Parameters
    ----------
    x, y : ndarray
        Knots: bin means of the estimated and of the true distance.
    slope, intercept : float
        Linear extension ``y = slope * x + intercept`` beyond the last knot.
    """

    def __init__(self, x, y, slope, intercept):
        self.x, self.y = np.asarray(x, float), np.asarray(y, float)
        self.slope, self.intercept = float(slope), float(intercept)

    def __call__(self, D):
        D = np.asarray(D, dtype=np.float64)
        out = np.interp(D, self.x, self.y)
        hi = D > self.x[-1]
        if np.any(hi):
            # continuous at the last knot, slope of the long-range fit
            out[hi] = self.y[-1] + self.slope * (D[hi] - self.x[-1])
        lo = D < self.x[0]
        if np.any(lo):  # proportional below the first knot (g(0) = 0)
            out[lo] = D[lo] * (self.y[0] / max(self.x[0], 1e-300))
        return out

    def relative_bias(self, D):
        """``D / g(D) - 1``: relative error of the uncalibrated distance."""
        D = np.asarray(D, dtype=np.float64)
        return D / np.maximum(self(D), 1e-300) - 1.0


def _torus_size(d, mean_degree, q, reach, max_edges):
    """Points so that the torus' inscribed radius is ``reach`` radii, capped."""
    want = mean_degree * (2.0 * reach) ** d / (q * ball_volume(d))
    lo = max(
        {1: 3000, 2: 6000, 3: 12000}.get(d, 16000),
        min_torus_size(d, mean_degree, q, max_radius=0.15),
    )
    hi = max(lo, int(max_edges / max(mean_degree, 1.0)))
    return int(np.clip(want, lo, hi))


def calibrate(
    d,
    mean_degree,
    q,
    rule,
    *,
    penalty=0.0,
    reach=10.0,
    n_sim=None,
    n_sources=32,
    max_edges=6e6,
    max_points=None,
    seed=None,
    cache=True,
):
    """Calibration curve of the pipeline's graph geodesics on a matched flat torus.

    Parameters
    ----------
    d : int
        Dimension.
    mean_degree : float
        Observed mean degree (with missing edges).
    q : float
        Estimated keep rate.
    rule : {"clip", "posterior"}
        Local rule.
    penalty : float, default=0.0
        Uncertainty penalty of the Dijkstra weights (see ``local_lengths``).
    reach : float, default=10.0
        Longest estimated distance to cover (radii): the torus gets an
        inscribed radius of ``reach`` radii when ``max_edges`` allows.
    n_sim : int or None
        Torus size (overrides ``reach``).
    n_sources : int, default=32
        Dijkstra sources on the torus.
    max_edges : float, default=6e6
        Cap on the simulated graph's stored edges (``n_sim * mean_degree``).
    max_points : int or None, default=None
        Further cap on the torus size (the estimator passes twice the data
        size: a longer reach is extrapolated rather than simulated).
    seed : int or None
        Seed of the simulation; results are cached when it is an int.

    Returns
    -------
    curve : CalibrationCurve
    info : dict
        ``n_sim``, ``radius``, ``n_pairs``, ``keep_rate`` (re-estimated on the
        torus), ``bias`` (mean signed relative error of the uncalibrated
        distances over pairs farther than 2.5 radii) and ``reach``.
    """
    q = float(min(max(q, 1e-6), 1.0))
    if n_sim is None:
        n_sim = _torus_size(d, mean_degree, q, max(float(reach), 3.0), max_edges)
        if max_points is not None:
            floor = _torus_size(d, mean_degree, q, 3.0, max_edges)
            n_sim = max(min(n_sim, int(max_points)), floor)
    n_sim = int(n_sim)
    key = (
        int(d),
        round(float(mean_degree), 2),
        round(q, 4),
        rule,
        float(penalty),
        n_sim,
        int(n_sources),
        seed,
    )
    if cache and seed is not None and key in _CACHE:
        return _CACHE[key]
    rng = np.random.default_rng(seed)
    A, T, r = flat_torus_rgg(n_sim, d, mean_degree, q, rng)
    keep, n_comp = largest_component(A)
    if n_comp > 1:  # sparse graphs may shed a few isolated nodes
        A = A[keep][:, keep]
        T = T[keep]
    s, K, _ = cosine_similarity_on_edges(A)
    q_sim = min(estimate_keep_rate(s, d), 1.0)
    _, w = local_lengths(s, K, d, q_sim, rule, penalty)
    W = A.copy()
    W.data = np.maximum(w, 1e-12)
    src = rng.choice(A.shape[0], size=min(n_sources, A.shape[0]), replace=False)
    D_hat = csgraph.dijkstra(W, directed=False, indices=src).ravel()
    D = torus_distances(T, src).ravel() / r
    inside = (D > 0) & (D <= 0.5 / r) & np.isfinite(D_hat)
    D, D_hat = D[inside], D_hat[inside]
    far = D > 2.5
    bias = float(np.mean((D_hat[far] - D[far]) / D[far])) if far.any() else 0.0
    # bins of the estimated distance: fine near the radius, coarser beyond
    top = D_hat.max()
    edges = np.unique(
        np.concatenate(
            [
                np.arange(0.0, min(3.0, top), 0.125),
                np.arange(3.0, top + 0.5, 0.5),
                [top + 1e-9],
            ]
        )
    )
    idx = np.digitize(D_hat, edges) - 1
    counts = np.bincount(idx, minlength=len(edges))
    ok = counts >= 20
    x = np.bincount(idx, weights=D_hat, minlength=len(edges))[ok] / counts[ok]
    y = np.bincount(idx, weights=D, minlength=len(edges))[ok] / counts[ok]
    y = np.maximum.accumulate(y)
    upper = D_hat >= 0.5 * top
    if upper.sum() >= 10:
        slope, intercept = np.polyfit(D_hat[upper], D[upper], 1)
    else:  # pragma: no cover - tiny simulations
        slope, intercept = (y[-1] / x[-1]), 0.0
    curve = CalibrationCurve(x, y, slope, intercept)
    info = {
        "n_sim": int(A.shape[0]),
        "radius": float(r),
        "n_pairs": int(D.size),
        "keep_rate": q_sim,
        "bias": bias,
        "reach": float(0.5 / r),
        "rule": rule,
    }
    out = (curve, info)
    if cache and seed is not None:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = out
    return out
