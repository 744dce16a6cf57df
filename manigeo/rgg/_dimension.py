"""Intrinsic dimension of a random geometric graph from its common neighbours.

The cosine similarity ``s`` of an edge's two neighbourhoods is about
``q * phi_d(U)`` with ``U`` the edge's normalized length (density ``d u^(d-1)``)
plus binomial noise.  Its first moment mixes ``q`` and ``d``
(``E[s] = q m_d``), but the scale-free second moment

.. math:: R = E[s^2] / E[s]^2

does not depend on ``q`` and grows with ``d`` (``E[phi_d^2] / m_d^2`` =
1.037, 1.059, 1.075, 1.087 for d = 1..4), the binomial noise adding about
``1 / (q m_d K)``.  Rather than model that noise, each candidate ``d`` is
scored by a matched simulation: a flat torus ``T^d`` with the observed mean
degree and the keep rate ``q_d = E[s] / m_d`` implied by that ``d``.  The
estimate is the candidate whose simulated ``R`` is closest to the observed
one; a candidate whose implied ``q_d`` exceeds 1 (by more than 5 %) is
impossible and skipped.  Each candidate has its own seed, so the candidates
can be simulated in parallel with the same result.
"""

import numpy as np
from joblib import Parallel, delayed

from ._lens import edge_moments
from ._local import cosine_similarity_on_edges
from ._simulate import flat_torus_rgg, min_torus_size


def _ratio(s):
    m = float(np.mean(s))
    return float(np.mean(s * s) / (m * m)) if m > 0 else np.inf


def _simulated_ratio(n, d, mean_degree, q, seed):
    A, _, _ = flat_torus_rgg(n, d, mean_degree, q, np.random.default_rng(seed))
    s_sim, _, _ = cosine_similarity_on_edges(A)
    return _ratio(s_sim)


def estimate_dimension(
    s, mean_degree, *, max_dimension=6, n_sim=None, rng, n_jobs=None
):
    """Estimate the intrinsic dimension from edge cosine similarities.

    Parameters
    ----------
    s : ndarray of shape (n_edges,)
        Cosine similarities with the pair removed (one per stored edge).
    mean_degree : float
        Mean degree of the graph.
    max_dimension : int, default=6
        Largest candidate dimension.
    n_sim : int or None
        Points per simulated torus (default: enough for about 2e5 edges).
    rng : numpy.random.Generator
        Draws one seed per candidate.
    n_jobs : int or None
        Candidates simulated in parallel.

    Returns
    -------
    d : int
    scores : dict
        ``{"ratio": observed R, "candidates": {d: (q_d, simulated R)}}``.
    """
    ratio = _ratio(s)
    mean_s = float(np.mean(s))
    seeds = rng.integers(0, 2**31 - 1, size=int(max_dimension))
    jobs = []
    for d in range(1, int(max_dimension) + 1):
        q = mean_s / edge_moments(d)
        if q > 1.05 or q <= 0:
            continue
        q = min(q, 1.0)
        n = n_sim or int(np.clip(4e5 / max(mean_degree, 1.0), 2000, 20000))
        # balls of radius < 0.4 do not wrap around the unit torus
        n = max(n, min_torus_size(d, mean_degree, q, max_radius=0.4))
        jobs.append((d, q, n, int(seeds[d - 1])))
    sims = Parallel(n_jobs=n_jobs)(
        delayed(_simulated_ratio)(n, d, mean_degree, q, seed) for d, q, n, seed in jobs
    )
    candidates = {d: (q, r_sim) for (d, q, _, _), r_sim in zip(jobs, sims, strict=True)}
    best, best_err = 1, np.inf
    for d, (_, r_sim) in candidates.items():
        if abs(r_sim - ratio) < best_err:
            best, best_err = d, abs(r_sim - ratio)
    return best, {"ratio": ratio, "candidates": candidates}
