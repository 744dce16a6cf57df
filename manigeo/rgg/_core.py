"""Functional core of RGGMetric: geodesic distances of a random geometric graph
from its adjacency matrix alone."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils import Bunch

from .._validation import (
    check_adjacency,
    check_connected,
    check_int,
    check_random_state,
    exactly_symmetric,
)
from ..geodesics import select_landmarks, shortest_paths
from ._calibration import calibrate as _calibrate
from ._calibration import calibration_skipped, sphere_fits
from ._curvature import estimate_curvature
from ._dimension import estimate_dimension
from ._goodness import fit_statistics, handle_misfit
from ._lens import ball_volume
from ._local import cosine_similarity_on_edges, estimate_keep_rate, local_lengths
from ._simulate import sphere_volume

#: all-pairs Dijkstra is used up to this many nodes when n_landmarks is None
ALL_PAIRS_MAX = 5000
#: landmarks used above ALL_PAIRS_MAX when n_landmarks is None
DEFAULT_LANDMARKS = 256
#: simulated-edge budget of the calibration: this many times the data's edges,
#: and at least CALIBRATION_MIN_EDGES
CALIBRATION_EDGE_FACTOR = 2.0
CALIBRATION_MIN_EDGES = 5e5
#: local-degree spread (90th / 10th percentile) above which path weights are
#: corrected for the density, and the reach (radii) of those small tori
DENSITY_SPREAD = 1.5
DENSITY_REACH = 6.0
#: the calibration moves from the flat torus to the matched sphere when the
#: estimated curvature exceeds this many bootstrap standard errors
CURVATURE_Z = 4.0
#: the matched sphere is refused when the data's volume exceeds its own by
#: more than this factor (and enlarged to the data's volume below it)
BISHOP_SLACK = 2.0
#: rows of the distance matrix used by the curvature estimate
CURVATURE_ROWS = 384
#: uncertainty penalties tried by uncertainty_penalty="auto"
PENALTY_CANDIDATES = (0.0, 2.0)

_MISFIT = ("raise", "warn", "ignore")
_RULES = ("posterior", "clip")


def _check_options(
    dimension,
    radius,
    volume,
    n_landmarks,
    local_rule,
    uncertainty_penalty,
    on_misfit,
    min_mean_degree,
    max_dimension,
):
    if not (isinstance(dimension, str) and dimension == "auto"):
        check_int(dimension, "dimension", minimum=1)
    for name, value in (("radius", radius), ("volume", volume)):
        if value is not None and (
            not isinstance(value, Real) or not np.isfinite(value) or value <= 0
        ):
            raise ValueError(f"{name} must be a positive number or None, got {value!r}")
    if n_landmarks is not None:
        check_int(n_landmarks, "n_landmarks", minimum=1)
    if local_rule not in _RULES:
        raise ValueError(f"local_rule must be one of {_RULES}, got {local_rule!r}")
    if not (
        isinstance(uncertainty_penalty, str) and uncertainty_penalty == "auto"
    ) and (not isinstance(uncertainty_penalty, Real) or not uncertainty_penalty >= 0):
        raise ValueError(
            "uncertainty_penalty must be 'auto' or a number >= 0, got "
            f"{uncertainty_penalty!r}"
        )
    if on_misfit not in _MISFIT:
        raise ValueError(f"on_misfit must be one of {_MISFIT}, got {on_misfit!r}")
    if not isinstance(min_mean_degree, Real) or not min_mean_degree >= 0:
        raise ValueError(f"min_mean_degree must be >= 0, got {min_mean_degree!r}")
    if not isinstance(max_dimension, Integral):
        raise TypeError("max_dimension must be an integer")


def check_rgg_adjacency(adjacency, *, min_mean_degree=8.0):
    """Validate a connected, undirected, 0/1 adjacency matrix for the estimator.

    Raises a ValueError for a non-binary, asymmetric, disconnected, too sparse
    or complete graph, naming the problem.
    """
    A = check_adjacency(adjacency, binary=True, symmetric="ignore", min_nodes=1)
    if not exactly_symmetric(A):
        n_diff = int((A != A.T).nnz)
        raise ValueError(
            f"adjacency is not symmetric ({n_diff} entries differ from their "
            "transpose): a random geometric graph is undirected. Symmetrize it "
            "first, e.g. A.maximum(A.T) (union of edges) or A.minimum(A.T) "
            "(mutual edges)"
        )
    n = A.shape[0]
    if n < 3:
        raise ValueError(f"the graph has {n} nodes; at least 3 are needed")
    check_connected(
        A,
        hint="geodesics between components are undefined; restrict to one "
        "component (RGGMetric(on_disconnected='largest') keeps the largest)",
    )
    mean_degree = A.nnz / n
    if A.nnz == n * (n - 1):
        raise ValueError(
            f"the graph is complete (all {n} nodes adjacent to each other): every "
            "pair is within the connection radius and no distance can be "
            "recovered (for a kNN graph, n_neighbors must be below n - 1)"
        )
    if mean_degree < min_mean_degree:
        raise ValueError(
            f"the graph is too sparse to invert: mean degree {mean_degree:.2f} "
            f"on {n} nodes is below min_mean_degree={min_mean_degree:g} "
            "(common-neighbour counts carry no distance information)"
        )
    return A


def rgg_geodesics(
    adjacency,
    *,
    dimension: str | int = "auto",
    radius: float | None = None,
    volume: float | None = None,
    n_landmarks: int | None = None,
    local_rule: str = "posterior",
    uncertainty_penalty: str | float = "auto",
    calibrate: bool = True,
    on_misfit: str = "raise",
    min_mean_degree: float = 8.0,
    max_dimension: int = 6,
    backend: str = "auto",
    device=None,
    n_jobs: int | None = None,
    random_state=None,
    verbose: bool = False,
) -> Bunch:
    """Latent geodesic distances of a random geometric graph from its adjacency.

    The algorithm of :class:`manigeo.rgg.RGGMetric` as a function: cosine
    similarities of the edges' neighbourhoods with the pair removed, dimension
    and keep rate, a goodness-of-fit test of the RGG model, local distances
    by lens inversion, Dijkstra (all pairs or landmarks), and the
    shortest-path bias calibration on a matched flat torus, or on a matched
    round sphere when the estimated curvature is significantly positive.  See the
    estimator for the parameters.

    Parameters
    ----------
    adjacency : sparse matrix, array-like, networkx graph or torch tensor
        Symmetric 0/1 adjacency matrix of a connected graph, shape (n, n).
    dimension : "auto" or int, default="auto"
        Intrinsic dimension.
    radius : float or None, default=None
        Connection radius (output unit); ``None``: units of ``r``.
    volume : float or None, default=None
        Manifold volume, fixing the unit when ``radius`` is None.
    n_landmarks : int or None, default=None
        Landmark sources (``None``: all pairs up to 5000 nodes, else 256).
    local_rule : {"posterior", "clip"}, default="posterior"
        Local distance rule.
    uncertainty_penalty : "auto" or float, default="auto"
        Penalty on the posterior sd in the path weights (with calibration);
        ``"auto"`` picks 0 or 2 by held-out error on the calibration torus.
    calibrate : bool, default=True
        Divide out the shortest-path selection bias.
    on_misfit : {"raise", "warn", "ignore"}, default="raise"
        What to do when the goodness-of-fit test fails.
    min_mean_degree : float, default=8.0
        Sparser graphs raise.
    max_dimension : int, default=6
        Largest candidate for ``dimension="auto"``.
    backend, device :
        Passed to :func:`manigeo.graphs.neighbor_similarity`.
    n_jobs : int or None, default=None
        Parallel work items (dimension candidates, Dijkstra batches); the
        result does not depend on it.
    random_state : int, RandomState or None, default=None
        Seeds the simulations and the landmarks.
    verbose : bool, default=False
        Progress bars.

    Returns
    -------
    result : sklearn.utils.Bunch
        ``geodesic_distances`` (n, n) or (n_landmarks, n), ``landmarks``
        (or None), ``raw_landmark_distances`` (uncalibrated, in units of r;
        landmarks only), ``local_distances`` (CSR, per edge), ``weights`` (CSR,
        Dijkstra weights in units of r), ``dimension``, ``dimension_scores``,
        ``keep_rate``, ``mean_degree``, ``fit_statistics``, ``radius``,
        ``calibration`` (curve or None), ``calibration_info``,
        ``calibration_bias``, ``penalty``, ``local_rule``.

    Examples
    --------
    >>> from manigeo.datasets import make_sphere, sample_rgg
    >>> from manigeo.rgg import rgg_geodesics
    >>> X, geo = make_sphere(800, random_state=0)
    >>> A = sample_rgg(X, 0.5, geodesic=geo, random_state=0)
    >>> res = rgg_geodesics(A, radius=0.5, n_landmarks=20, random_state=0)
    >>> res.dimension, res.geodesic_distances.shape
    (2, (20, 800))
    >>> bool(res.fit_statistics["keep_rate"] > 0.9)
    True
    """
    _check_options(
        dimension,
        radius,
        volume,
        n_landmarks,
        local_rule,
        uncertainty_penalty,
        on_misfit,
        min_mean_degree,
        max_dimension,
    )
    A = check_rgg_adjacency(adjacency, min_mean_degree=min_mean_degree)
    n = A.shape[0]
    mean_degree = A.nnz / n
    rng = check_random_state(random_state)
    seed_dim, seed_cal, seed_lm = (int(v) for v in rng.randint(0, 2**31 - 1, size=3))

    s, K, _ = cosine_similarity_on_edges(A, backend=backend, device=device)
    if isinstance(dimension, str):
        # the keep rate grows with d: too low at max_dimension is too low for
        # every candidate, so refuse before simulating them
        early = fit_statistics(s, K, max_dimension)
        if early["keep_rate"] < early["ranges"]["keep_rate"][0]:
            handle_misfit(early, on_misfit)
        d, scores = estimate_dimension(
            s,
            mean_degree,
            max_dimension=max_dimension,
            rng=np.random.default_rng(seed_dim),
            n_jobs=n_jobs,
        )
    else:
        d, scores = int(dimension), None
    stats = fit_statistics(s, K, d)
    handle_misfit(stats, on_misfit)
    q = estimate_keep_rate(s, d)
    if not q > 0:
        raise ValueError(
            "the graph is too sparse to invert: no edge has a common neighbour"
        )
    q = min(q, 1.0)
    budget = max(CALIBRATION_EDGE_FACTOR * A.nnz, CALIBRATION_MIN_EDGES)
    skipped = calibration_skipped(d, mean_degree, q, budget) if calibrate else None
    do_calibrate = calibrate and skipped is None
    # the penalty's upward bias is removed by the calibration only
    if local_rule != "posterior" or not do_calibrate:
        candidates = (0.0,)
    elif isinstance(uncertainty_penalty, str):  # "auto": chosen on the torus
        candidates = PENALTY_CANDIDATES
    else:
        candidates = (float(uncertainty_penalty),)

    def paths(pen):
        u, w = local_lengths(s, K, d, q, local_rule, pen)
        density = None
        if do_calibrate:
            w, density = _density_correction(
                A, w, d, mean_degree, q, local_rule, pen, budget, seed_cal, n_jobs
            )
        W = A.copy()
        W.data = np.maximum(w, 1e-12)
        if n_landmarks is None and n <= ALL_PAIRS_MAX:
            return (
                u,
                W,
                density,
                None,
                shortest_paths(W, n_jobs=n_jobs, verbose=verbose),
            )
        m = min(n_landmarks or DEFAULT_LANDMARKS, n)
        landmarks, D = select_landmarks(
            W,
            m,
            method="farthest",
            random_state=seed_lm,
            return_distances=True,
            verbose=verbose,
        )
        return u, W, density, landmarks, D

    penalty = candidates[0]
    u, W, density, landmarks, D = paths(penalty)
    cal, cal_info = None, None
    if do_calibrate:
        cal, cal_info = _calibrate(
            d,
            mean_degree,
            q,
            local_rule,
            penalty=candidates if len(candidates) > 1 else penalty,
            # unpenalized raw paths are up to ~25 % short: aim past them
            reach=1.3 * float(np.max(D[np.isfinite(D)])),
            max_edges=budget,
            seed=seed_cal,
            n_jobs=n_jobs,
        )
        if cal is not None and cal_info["penalty"] != penalty:
            penalty = cal_info["penalty"]
            u, W, density, landmarks, D = paths(penalty)
        if cal is not None:
            cal, cal_info = _curved_calibration(
                cal,
                cal_info,
                D,
                W,
                landmarks,
                d,
                mean_degree,
                q,
                local_rule,
                penalty,
                budget,
                seed_cal,
                n_jobs,
            )
    elif calibrate:
        cal_info = {"skipped": skipped, "bias": 0.0, "n_sim": 0}
    if cal_info is not None and density is not None:
        cal_info["density"] = density
    scale = _unit(radius, volume, mean_degree, q, n, d)
    L = A.copy()
    L.data = np.maximum(u, 1e-12) * scale  # locally unbiased: not recalibrated
    D = np.asarray(D, dtype=np.float64)
    geo = (cal(D) if cal is not None else D) * scale
    return Bunch(
        geodesic_distances=geo,
        landmarks=landmarks,
        raw_landmark_distances=D if landmarks is not None else None,
        local_distances=L,
        weights=W,
        dimension=d,
        dimension_scores=scores,
        keep_rate=q,
        mean_degree=float(mean_degree),
        fit_statistics=stats,
        radius=float(scale),
        calibration=cal,
        calibration_info=cal_info,
        calibration_bias=float(cal_info["bias"]) if cal is not None else 0.0,
        penalty=penalty,
        local_rule=local_rule,
    )


def _curved_calibration(
    cal, info, D, W, landmarks, d, mean_degree, q, rule, penalty, budget, seed, n_jobs
):
    """Replace the flat-torus calibration by a matched sphere's when curved.

    The curvature is estimated by triangle comparison (``estimate_curvature``)
    on the torus-calibrated distances, which are free of the flat
    selection bias; when it is positive by more than :data:`CURVATURE_Z`
    bootstrap standard errors and the sphere of that curvature fits the
    budget, the calibration is measured on that whole sphere instead
    (its curvature capped so that it is no narrower than the data,
    Bonnet-Myers, and so that it holds the data's volume, Bishop-Gromov;
    refused when it held less than ``1 / BISHOP_SLACK`` of it):
    on a positively curved manifold near-geodesic paths fan out and reconverge,
    so the shortest of them is shorter than on the flat torus, more so the
    longer the pair.  Flat, negatively curved or weakly curved graphs keep
    the torus.
    """
    if d < 2:  # a curve has no intrinsic curvature
        return cal, info
    rng = np.random.default_rng(seed + 1)
    if landmarks is None:  # all pairs: random rows
        rows = rng.choice(D.shape[0], min(CURVATURE_ROWS, D.shape[0]), replace=False)
        D_rows = D[rows]
    else:  # farthest-point landmarks are spread out (few small triangles):
        # add random rows
        extra = rng.choice(D.shape[1], min(CURVATURE_ROWS // 2, D.shape[1]), False)
        rows = np.r_[np.asarray(landmarks), extra]
        D_rows = np.vstack([D, shortest_paths(W, extra, n_jobs=n_jobs)])
    kappa, se, n_tri = estimate_curvature(cal(D_rows), rows, n_rows=len(rows), rng=rng)
    info["curvature_estimate"] = {
        "curvature": kappa,
        "standard_error": se,
        "n_triangles": n_tri,
    }
    # Bonnet-Myers: a manifold with Ricci curvature >= (d - 1) kappa is no wider
    # than pi / sqrt(kappa), so a matched sphere is never narrower than the
    # data: kappa is capped at (pi / diameter)^2 (exact for a round sphere)
    diameter = float(np.max(cal(D[np.isfinite(D)])))
    cap = (np.pi / diameter) ** 2 if diameter > 0 else np.inf
    info["curvature_estimate"]["myers_cap"] = float(cap)
    if not kappa > CURVATURE_Z * se:
        return cal, info
    kappa = float(min(kappa, cap))
    # Bishop-Gromov: a manifold with Ricci curvature >= (d - 1) kappa holds no
    # more volume than the sphere of curvature kappa.  The data's volume (radii^d)
    # is the sum of each node's share q V_d / k_i.  A sphere that cannot hold
    # half of it is refused (a flat torus with a noisy positive estimate); one
    # that holds less than all of it is enlarged to the data's volume
    deg = np.maximum(np.diff(W.indptr), 1).astype(np.float64)
    volume = float(q * ball_volume(d) * np.sum(1.0 / deg))
    ratio = sphere_volume(d, kappa**-0.5) / volume
    info["curvature_estimate"]["volume_ratio"] = ratio
    if ratio < 1.0 / BISHOP_SLACK:
        return cal, info
    kappa *= min(ratio, 1.0) ** (2.0 / d)
    info["curvature_estimate"]["matched"] = kappa
    if not sphere_fits(d, mean_degree, q, kappa, budget):
        return cal, info
    cal_s, info_s = _calibrate(
        d,
        mean_degree,
        q,
        rule,
        penalty=penalty,
        max_edges=budget,
        seed=seed + 2,
        n_jobs=n_jobs,
        curvature=kappa,
    )
    info_s["curvature_estimate"] = info["curvature_estimate"]
    info_s["torus"] = {k: v for k, v in info.items() if k != "curvature_estimate"}
    return cal_s, info_s


def _local_degree(A):
    """Mean degree of each node's neighbours: a smooth local-density proxy."""
    deg = np.diff(A.indptr).astype(np.float64)
    return (A @ deg) / np.maximum(deg, 1.0)


def _density_correction(A, w, d, mean_degree, q, rule, penalty, budget, seed, n_jobs):
    """Rescale path weights where the local degree departs from the mean.

    The relative excess of shortest paths (selection bias, penalty) depends
    on the local mean degree ``k``.  When the smoothed degree of the edges
    spreads by more than 1.5x (10th to 90th percentile), the excess ``b(k)``
    is measured on small matched tori at a few degrees and each edge weight
    is multiplied by ``(1 + b(k_mean)) / (1 + b(k_e))``: paths then carry the
    excess of the mean degree everywhere, which the global calibration
    removes.  Uniform graphs are left untouched.
    """
    k_node = _local_degree(A)
    rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
    k_edge = np.sqrt(k_node[rows] * k_node[A.indices])
    lo, hi = np.percentile(k_edge, [10, 90])
    if not hi > DENSITY_SPREAD * lo:
        return w, None
    levels = np.unique(np.r_[np.geomspace(lo, hi, 4), mean_degree])
    rng = np.random.default_rng(seed)
    seeds = rng.integers(0, 2**31 - 1, size=len(levels))
    biases = []
    for k, sd in zip(levels, seeds, strict=True):
        _, info = _calibrate(
            d,
            float(k),
            q,
            rule,
            penalty=penalty,
            reach=DENSITY_REACH,
            max_edges=budget / 2,
            seed=int(sd),
            n_jobs=n_jobs,
        )
        biases.append(info["bias"])
    biases = np.asarray(biases)
    logk = np.log(levels)
    b_edge = np.interp(np.log(k_edge), logk, biases)
    b_mean = float(np.interp(np.log(mean_degree), logk, biases))
    factor = (1.0 + b_mean) / np.maximum(1.0 + b_edge, 1e-3)
    info = {
        "degree_levels": levels.tolist(),
        "excess": biases.tolist(),
        "factor_range": (float(factor.min()), float(factor.max())),
    }
    return w * factor, info


def _unit(radius, volume, mean_degree, q, n, d):
    if radius is not None:
        return float(radius)
    if volume is not None:
        return float(
            (mean_degree * volume / (q * (n - 1) * ball_volume(d))) ** (1.0 / d)
        )
    return 1.0
