"""Shortest-path selection bias, measured on a matched flat torus (rgg.md §2 step 7).

Dijkstra prefers edges whose estimated length happens to be too short, so
graph geodesics built from noisy local distances underestimate (with the
default uncertainty penalty on the weights the raw paths are instead too
long).  The bias depends on the dimension, the mean degree, the keep rate and
the local rule, not on the global shape of the manifold, so it is measured on
a flat torus ``T^d`` (exact geodesics known) with those four matched, by
running the same pipeline.

The correction is a calibration curve ``g``, the inverse of the mean
estimated distance given the true one, ``E[D_hat | D]``, tabulated in bins of
the true distance ``D`` (in radii) on the torus.  Beyond the simulated range
it is *not* extended by a straight line but by the first-passage-percolation
form of the relative excess of a shortest path,

.. math:: \\frac{\\hat D}{D} - 1 = a + c\\,\\hat D^{-2/3},

(a constant excess per unit length plus the KPZ fluctuation term, whose
mean grows like ``D^{1/3}``), fitted by weighted least squares on the bins
beyond 1.5 radii; the relative excess therefore levels off at ``a`` instead
of drifting with a noisy slope.  The torus is sized so that its inscribed
radius covers the data's longest estimated distance, within a budget of
simulated edges (``max_edges``, a few times the data graph); a torus whose
radius cannot stay below a third of its side within the budget is not
simulated at all and the calibration is skipped (``info["skipped"]``).

On a positively curved manifold the same measurement is made on the whole
round sphere ``S^d`` of the estimated curvature (``curvature=``), where more
near-shortest paths compete for long pairs than on the torus.  Several
uncertainty penalties can be run on one simulated graph; the one whose
calibrated distances are most accurate on held-out sources is kept
(:func:`select_score`).
"""

import numpy as np

from .._validation import largest_component
from ..geodesics import shortest_paths
from ._lens import ball_volume
from ._local import cosine_similarity_on_edges, estimate_keep_rate, local_lengths
from ._simulate import (
    flat_torus_rgg,
    sphere_distances,
    sphere_rgg,
    sphere_size,
    torus_distances,
)

_CACHE = {}
_CACHE_MAX = 32
#: the torus side is at least this many radii (lenses of points closer than
#: r never see a periodic image when the side exceeds 3 r)
MIN_SIDE_RADII = 3.3
#: smallest matched-sphere radius (radii): smaller spheres are nearly complete
MIN_SPHERE_RADII = 1.5
#: the excess exponent of the extrapolation model (KPZ: 1 - chi, chi = 1/3)
EXCESS_EXPONENT = 2.0 / 3.0


class CalibrationCurve:
    """Monotone map from estimated to calibrated distance (both in radii).

    Parameters
    ----------
    x, y : ndarray
        Knots: bin means of the estimated and of the true distance.
    a, c : float
        Relative excess model ``x / y - 1 = a + c x^(-2/3)`` used beyond the
        last knot (joined continuously to it).
    """

    def __init__(self, x, y, a, c):
        self.x, self.y = np.asarray(x, float), np.asarray(y, float)
        self.a, self.c = float(a), float(c)
        x_last = self.x[-1]
        self._offset = (x_last / self.y[-1] - 1.0) - self._excess(x_last)

    def _excess(self, D):
        return self.a + self.c * np.power(np.maximum(D, 1e-12), -EXCESS_EXPONENT)

    def __call__(self, D):
        D = np.asarray(D, dtype=np.float64)
        out = np.interp(D, self.x, self.y)
        hi = D > self.x[-1]
        if np.any(hi):
            Dh = D[hi]
            decay = np.power(self.x[-1] / Dh, EXCESS_EXPONENT)
            rel = self._excess(Dh) + self._offset * decay
            out[hi] = Dh / np.maximum(1.0 + rel, 1e-3)
        lo = D < self.x[0]
        if np.any(lo):  # proportional below the first knot (g(0) = 0)
            out[lo] = D[lo] * (self.y[0] / max(self.x[0], 1e-300))
        return out

    def relative_bias(self, D):
        """``D / g(D) - 1``: relative error of the uncalibrated distance."""
        D = np.asarray(D, dtype=np.float64)
        return D / np.maximum(self(D), 1e-300) - 1.0


def torus_size(d, mean_degree, q, reach, max_edges):
    """Torus points for an inscribed radius of ``reach`` radii, and the floor.

    Returns ``(n_sim, n_floor)``: ``n_floor`` keeps the side above
    :data:`MIN_SIDE_RADII` radii (and at least 2000 points); ``n_sim`` is
    ``n_floor`` or more, up to ``max_edges / mean_degree``.
    """
    unit = mean_degree / (q * ball_volume(d))  # points per (side / r)^d
    n_floor = int(max(2000, np.ceil(unit * MIN_SIDE_RADII**d)))
    want = unit * (2.0 * max(reach, MIN_SIDE_RADII / 2)) ** d
    cap = max(n_floor, int(max_edges / max(mean_degree, 1.0)))
    return int(min(max(want, n_floor), cap)), n_floor


def calibration_skipped(d, mean_degree, q, max_edges):
    """Why no calibration torus fits the edge budget, or None when one does."""
    q = float(min(max(q, 1e-6), 1.0))
    _, n_floor = torus_size(d, mean_degree, q, 0.0, max_edges)
    if n_floor * mean_degree <= max_edges:
        return None
    return (
        f"a flat torus T^{d} with side {MIN_SIDE_RADII} r needs {n_floor} points "
        f"({n_floor * mean_degree:.3g} edges), above the budget of "
        f"{max_edges:.3g} edges; the paths are unpenalized and uncorrected"
    )


def sphere_fits(d, mean_degree, q, curvature, max_edges):
    """Whether the matched sphere of ``curvature`` (units ``1 / r^2``) can be
    simulated: radius at least :data:`MIN_SPHERE_RADII` radii and at most
    ``max_edges`` simulated edges."""
    if not curvature > 0:
        return False
    R = curvature**-0.5
    if R < MIN_SPHERE_RADII:
        return False
    q = float(min(max(q, 1e-6), 1.0))
    return sphere_size(d, mean_degree, q, R) * mean_degree <= max_edges


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
    max_edges=4e6,
    seed=None,
    n_jobs=None,
    cache=True,
    curvature=0.0,
):
    """Calibration curve of the pipeline's graph geodesics on a matched space.

    The space is the flat torus ``T^d`` sized by ``reach`` and ``max_edges``,
    or, when ``curvature > 0``, the whole round sphere ``S^d`` of radius
    ``curvature ** -0.5`` radii (see :func:`sphere_fits`).

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
    penalty : float or tuple of float, default=0.0
        Uncertainty penalty of the Dijkstra weights (see ``local_lengths``).
        A tuple lists candidates: each is run on the same simulated graph
        and the one whose calibrated distances are most accurate on
        held-out sources is kept (:func:`select_score`).
    reach : float, default=10.0
        Longest estimated distance to cover (radii).
    n_sim : int or None
        Torus size (overrides ``reach`` and the budget).
    n_sources : int, default=32
        Dijkstra sources on the torus.
    max_edges : float, default=4e6
        Budget of simulated stored edges (``n_sim * mean_degree``).
    seed : int or None
        Seed of the simulation; results are cached when it is an int.
    n_jobs : int or None
        Parallel Dijkstra batches (results do not depend on it).
    curvature : float, default=0.0
        Sectional curvature in units of ``1 / r^2``; positive: simulate the
        matched sphere (``reach``, ``n_sim`` and ``max_edges`` are ignored).

    Returns
    -------
    curve : CalibrationCurve or None
        None when the calibration was skipped.
    info : dict
        ``n_sim``, ``radius``, ``n_pairs``, ``keep_rate`` (re-estimated on the
        torus), ``bias`` (mean signed relative error of the uncalibrated
        distances over pairs farther than 2.5 radii, or over all pairs beyond
        1 radius on a small torus), ``reach`` (radii covered), ``excess``
        (the fitted ``a, c``), ``penalty`` (the one used) and
        ``penalty_scores`` (held-out error of each candidate, with a tuple),
        or ``skipped`` (why no simulation was run).
    """
    q = float(min(max(q, 1e-6), 1.0))
    curvature = float(curvature)
    if curvature > 0:
        R = curvature**-0.5
        n_sim = sphere_size(d, mean_degree, q, R)
    elif n_sim is None:
        skipped = calibration_skipped(d, mean_degree, q, max_edges)
        if skipped is not None:
            return None, {"skipped": skipped, "bias": 0.0, "n_sim": 0}
        n_sim, _ = torus_size(d, mean_degree, q, float(reach), max_edges)
    n_sim = int(n_sim)
    key = (
        int(d),
        round(float(mean_degree), 2),
        round(q, 4),
        rule,
        tuple(float(p) for p in np.atleast_1d(penalty)),
        n_sim,
        int(n_sources),
        seed,
        round(curvature, 6),
    )
    if cache and seed is not None and key in _CACHE:
        return _CACHE[key]
    rng = np.random.default_rng(seed)
    if curvature > 0:
        A, T = sphere_rgg(n_sim, d, R, q, rng)
        r, reach = 1.0, np.pi * R
    else:
        A, T, r = flat_torus_rgg(n_sim, d, mean_degree, q, rng)
        reach = 0.5 / r  # the torus' inscribed radius, in radii
    keep, n_comp = largest_component(A)
    if n_comp > 1:  # sparse graphs may shed a few isolated nodes
        A = A[keep][:, keep]
        T = T[keep]
    s, K, _ = cosine_similarity_on_edges(A)
    q_sim = min(estimate_keep_rate(s, d), 1.0)
    src = rng.choice(A.shape[0], size=min(n_sources, A.shape[0]), replace=False)
    if curvature > 0:
        D = sphere_distances(T, R, src)
    else:
        D = torus_distances(T, src) / r
    candidates = [float(p) for p in np.atleast_1d(penalty)]
    runs = []
    for pen in candidates:
        _, w = local_lengths(s, K, d, q_sim, rule, pen)
        W = A.copy()
        W.data = np.maximum(w, 1e-12)
        runs.append(
            shortest_paths(W, src, on_disconnected="inf", chunk_size=8, n_jobs=n_jobs)
        )
    scores = [select_score(D_hat, D, reach) for D_hat in runs]
    best = int(np.argmin(scores)) if len(runs) > 1 else 0
    D_hat, D = runs[best].ravel(), D.ravel()
    inside = (D > 0) & (D <= reach) & np.isfinite(D_hat)
    D, D_hat = D[inside], D_hat[inside]
    far = D > min(2.5, 0.5 * reach)
    bias = float(np.mean((D_hat[far] - D[far]) / D[far])) if far.any() else 0.0
    curve, excess = _fit_curve(D_hat, D)
    info = {
        "n_sim": int(A.shape[0]),
        "radius": float(r),
        "n_pairs": int(D.size),
        "keep_rate": q_sim,
        "bias": bias,
        "reach": float(reach),
        "space": f"S^{d}" if curvature > 0 else f"T^{d}",
        "curvature": curvature,
        "rule": rule,
        "excess": excess,
        "penalty": candidates[best],
    }
    if len(runs) > 1:
        info["penalty_scores"] = dict(zip(candidates, scores, strict=True))
    out = (curve, info)
    if cache and seed is not None:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = out
    return out


def select_score(D_hat, D, reach):
    """Held-out error of a calibration: two-fold over the sources.

    The curve is fitted on the pairs of half of the sources and applied to
    the other half's estimated distances; the score is the median absolute
    error (radii) over the held-out pairs beyond half the covered range
    (``reach``), the pairs whose error dominates long-range accuracy.
    """
    half = D.shape[0] // 2
    if half < 1:
        return float("inf")
    errors = []
    for fit, test in (
        (slice(None, half), slice(half, None)),
        (slice(half, None), slice(None, half)),
    ):
        Df, Hf = D[fit].ravel(), D_hat[fit].ravel()
        ok = (Df > 0) & (Df <= reach) & np.isfinite(Hf)
        Dt, Ht = D[test].ravel(), D_hat[test].ravel()
        far = (Dt > 0.5 * min(reach, Dt.max())) & (Dt <= reach) & np.isfinite(Ht)
        if ok.sum() < 100 or not far.any():
            return float("inf")
        curve, _ = _fit_curve(Hf[ok], Df[ok])
        errors.append(np.abs(curve(Ht[far]) - Dt[far]))
    return float(np.median(np.concatenate(errors)))


def _fit_curve(D_hat, D):
    """Binned calibration knots and the excess model beyond 1.5 radii.

    Pairs are binned by their *true* distance and each bin gives the knot
    ``(mean D_hat, mean D)``: the curve is the inverse of ``E[D_hat | D]``.
    Binning by ``D_hat`` instead would be biased at the top of the range,
    where the pairs beyond the torus' inscribed radius (excluded, their
    geodesic wraps around) are missing from the bins.
    """
    top = D.max()
    edges = np.unique(
        np.concatenate(
            [
                np.arange(0.0, min(3.0, top), 0.125),
                np.arange(3.0, top + 0.5, 0.5),
                [top + 1e-9],
            ]
        )
    )
    idx = np.digitize(D, edges) - 1
    counts = np.bincount(idx, minlength=len(edges))
    ok = counts >= 20
    n_bin = counts[ok].astype(float)
    x = np.bincount(idx, weights=D_hat, minlength=len(edges))[ok] / n_bin
    y = np.bincount(idx, weights=D, minlength=len(edges))[ok] / n_bin
    x = np.maximum.accumulate(x)
    keep = np.concatenate([[True], np.diff(x) > 0])
    x, y, n_bin = x[keep], y[keep], n_bin[keep]
    rel = x / np.maximum(y, 1e-12) - 1.0
    tail = x >= 1.5
    if tail.sum() >= 3:
        X = np.column_stack([np.ones(tail.sum()), x[tail] ** -EXCESS_EXPONENT])
        sw = np.sqrt(n_bin[tail])
        (a, c), *_ = np.linalg.lstsq(X * sw[:, None], rel[tail] * sw, rcond=None)
    else:  # short range: constant relative excess of the last bins
        a, c = float(np.average(rel[-3:], weights=n_bin[-3:])), 0.0
    return CalibrationCurve(x, y, a, c), (float(a), float(c))
