"""Goodness of fit of the random-geometric-graph model.

Two statistics of the edge similarities ``s`` (cosine of the two
neighbourhoods with the pair removed) decide whether a graph is consistent
with a ``d``-dimensional RGG whose edges are kept with probability ``q``:

``keep_rate``
    ``q = mean(s) / m_d``.  In an RGG an edge's two neighbourhoods overlap in
    a lens of at least ``phi_d(1)`` of a ball, so ``mean(s)`` is ``q m_d``
    (the normalized clustering of the graph).  Erdős–Rényi and sparse block
    models have ``mean(s)`` about ``k / n``: ``q`` far below 1.  A value far
    above 1 means more triangles than a ``d``-dimensional RGG can have (the
    dimension is too high for the graph).
``lens_dispersion``
    The variance of ``s`` across edges, less its binomial noise, divided by
    the variance the lens model predicts, ``q^2 Var(phi_d(U))``.  Edges of an
    RGG have lengths spread over ``[0, r]``, so their similarities spread as
    ``phi_d`` does (measured 0.85-0.95 on tori, spheres and squares of
    dimension 2-6); in a dense Erdős–Rényi graph every edge has the same
    expected overlap (about 0), in a block model the overlap takes a few
    values (far from 1).  Only tested when the predicted variance is at
    least a quarter of the noise variance (otherwise it is noise-dominated,
    reported but not tested).
"""

import warnings

import numpy as np

from ._lens import edge_moments

#: accepted ranges of the statistics (RGGs of dimension 1-8 with keep rate
#: 0.5-1, uniform or 9x-varying density, curved or with boundary, fall well
#: inside; see docs/user_guide/rgg.rst)
KEEP_RATE_RANGE = (0.25, 1.5)
DISPERSION_RANGE = (0.45, 1.9)
_MIN_SIGNAL_TO_NOISE = 0.25

_MEANING = {
    "keep_rate": (
        "edges share too few common neighbours for a random geometric graph "
        "(an Erdos-Renyi or block-model graph looks like this)",
        "edges share more common neighbours than a {d}-dimensional random "
        "geometric graph allows (give a smaller dimension)",
    ),
    "lens_dispersion": (
        "the edges' common-neighbour overlaps are too uniform for edge lengths "
        "spread over [0, r] (a dense Erdos-Renyi graph looks like this)",
        "the edges' common-neighbour overlaps are more spread than the lens "
        "model allows (a community / block structure looks like this)",
    ),
}


def fit_statistics(s, K, d):
    """Goodness-of-fit statistics of the RGG model (see module docstring).

    Parameters
    ----------
    s : ndarray of shape (n_edges,)
        Edge cosine similarities with the pair removed.
    K : ndarray of shape (n_edges,)
        Binomial sizes ``sqrt((k_i - 1)(k_j - 1))``.
    d : int
        Dimension of the model.

    Returns
    -------
    stats : dict
        ``keep_rate``, ``lens_dispersion`` (nan when noise-dominated),
        ``signal_to_noise``, ``mean_similarity``, ``dimension`` and the
        accepted ``ranges``.
    """
    m1, m2 = edge_moments(d), edge_moments(d, 2)
    mean_s = float(np.mean(s)) if len(s) else 0.0
    q = mean_s / m1
    noise = float(np.mean(s * (1.0 - s) / np.maximum(K, 1.0))) if len(s) else 0.0
    model = q * q * (m2 - m1 * m1)
    snr = model / noise if noise > 0 else np.inf
    dispersion = (float(np.var(s)) - noise) / model if model > 0 else 0.0
    if snr < _MIN_SIGNAL_TO_NOISE:
        dispersion = float("nan")
    return {
        "keep_rate": float(q),
        "lens_dispersion": float(dispersion),
        "signal_to_noise": float(snr),
        "mean_similarity": mean_s,
        "dimension": int(d),
        "ranges": {
            "keep_rate": KEEP_RATE_RANGE,
            "lens_dispersion": DISPERSION_RANGE,
        },
    }


def misfit_message(stats):
    """The failed statistics, described, or None when the model fits."""
    failed = []
    for name, (lo, hi) in stats["ranges"].items():
        value = stats[name]
        if not np.isfinite(value) and name == "lens_dispersion":
            continue  # noise-dominated: not tested
        if value < lo or value > hi:
            low, high = _MEANING[name]
            what = (low if value < lo else high).format(d=stats["dimension"])
            failed.append(
                f"{name}={value:.3g} is outside the range [{lo:g}, {hi:g}] of "
                f"random geometric graphs: {what}"
            )
    if not failed:
        return None
    return (
        "the graph is not consistent with a random geometric graph: "
        + "; ".join(failed)
        + ". Pass on_misfit='warn' or 'ignore' to fit it anyway"
    )


def handle_misfit(stats, on_misfit):
    """Raise, warn or do nothing according to ``on_misfit``."""
    if on_misfit == "ignore":
        return
    msg = misfit_message(stats)
    if msg is None:
        return
    if on_misfit == "raise":
        raise ValueError(msg)
    warnings.warn(msg, UserWarning, stacklevel=3)
