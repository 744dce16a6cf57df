"""Sectional curvature of the latent manifold from estimated geodesic distances.

Toponogov comparison: in a geodesic triangle ``a, b, c`` with ``m`` on the
side ``ab`` (``|am| = x``, ``|mb| = y``, ``x + y = |ab|``), the distance
``|cm|`` is fixed by the three sides and the curvature ``k`` when the
curvature is constant (Stewart's theorem and its spherical / hyperbolic
forms, lengths in units of ``1 / sqrt(|k|)``):

.. math::

    \\cos|cm| \\sin|ab| = \\cos|ca| \\sin y + \\cos|cb| \\sin x \\quad (k > 0),

with ``cosh``/``sinh`` for ``k < 0`` and ``|cm|^2 = (x|cb|^2 + y|ca|^2)/|ab| -
xy`` for ``k = 0``.  ``|cm|`` grows with ``k`` (triangles are fatter on a
sphere).  The estimate is the constant ``k`` whose predicted ``|cm|`` best
fit the estimated distances (Huber loss, grid search), up to a constant
offset of ``|cm|^2`` (the chosen midpoint node lies off the side by about a
sample spacing, which lengthens ``|cm|`` at every triangle size; curvature
is what grows with the size), over random
triangles of landmark rows with the midpoint ``m`` taken among all nodes;
its standard error is a bootstrap over the triangles.  Convex flat domains
(squares, discs) and flat tori (triangles smaller than the torus'
injectivity radius) give ``k = 0``; the density of the samples plays no
role.
"""

import numpy as np

#: triangle sides, as a fraction of the largest finite distance
MAX_SIDE_FRACTION = 0.45
#: longest triangle perimeter, as a fraction of the largest finite distance
MAX_PERIMETER_FRACTION = 1.0
#: shortest triangle side, in radii (shorter sides carry no curvature signal)
MIN_SIDE = 1.0
#: triangles used at most
MAX_TRIANGLES = 4000
#: bootstrap replicates of the standard error
N_BOOTSTRAP = 200
#: Huber threshold of the distance residuals, in radii
HUBER = 0.5


def _median_length(k, p, s, x, y):
    """``|cm|`` for sides ``|ca| = p``, ``|cb| = s`` and ``m`` at ``x``, ``y``."""
    e = x + y
    out = np.empty_like(p)
    pos, neg = k > 1e-12, k < -1e-12
    flat = ~(pos | neg)
    if flat.any():
        m2 = (x * s * s + y * p * p)[flat] / e[flat] - (x * y)[flat]
        out[flat] = np.sqrt(np.maximum(m2, 0.0))
    if pos.any():
        t = np.sqrt(k[pos])
        c = (
            np.cos(t * p[pos]) * np.sin(t * y[pos])
            + np.cos(t * s[pos]) * np.sin(t * x[pos])
        ) / np.sin(t * e[pos])
        out[pos] = np.arccos(np.clip(c, -1.0, 1.0)) / t
    if neg.any():
        t = np.sqrt(-k[neg])
        c = (
            np.cosh(t * p[neg]) * np.sinh(t * y[neg])
            + np.cosh(t * s[neg]) * np.sinh(t * x[neg])
        ) / np.sinh(t * e[neg])
        out[neg] = np.arccosh(np.maximum(c, 1.0)) / t
    return out


def estimate_curvature(D, rows, *, n_rows=256, n_triangles=60000, rng=None):
    """Median sectional curvature (units of ``1 / unit(D)^2``) and its error.

    Parameters
    ----------
    D : ndarray of shape (n_rows_total, n)
        Estimated geodesic distances from the nodes ``rows`` to every node.
    rows : ndarray of shape (n_rows_total,)
        Node index of each row of ``D``.
    n_rows : int, default=256
        Rows used as triangle vertices.
    n_triangles : int, default=60000
        Random vertex triples drawn (those with a side outside
        ``[MIN_SIDE, MAX_SIDE_FRACTION * max D]`` are dropped).
    rng : numpy.random.Generator or None

    Returns
    -------
    kappa : float
        Best-fitting constant curvature (0.0 when fewer than 30 triangles
        qualify).
    se : float
        Bootstrap standard error (inf without triangles).
    n_used : int
        Triangles used.
    """
    rng = np.random.default_rng(rng)
    D = np.asarray(D, dtype=np.float64)
    rows = np.asarray(rows)
    finite = np.isfinite(D)
    if not finite.any():
        return 0.0, np.inf, 0
    diameter = float(D[finite].max())
    top = MAX_SIDE_FRACTION * diameter
    if top <= MIN_SIDE:
        return 0.0, np.inf, 0
    pick = rng.choice(len(rows), size=min(n_rows, len(rows)), replace=False)
    Dr = D[pick]
    DL = Dr[:, rows[pick]]
    DL = 0.5 * (DL + DL.T)
    L = len(pick)
    if L < 3:
        return 0.0, np.inf, 0
    tri = rng.integers(0, L, size=(n_triangles, 3))
    tri[:, :2].sort(axis=1)  # (a, b, c) and (b, a, c) are one triangle
    a, b, c = np.unique(tri, axis=0).T  # distinct: honest bootstrap errors
    ok = (a != b) & (b != c) & (a != c)
    a, b, c = a[ok], b[ok], c[ok]
    sides = np.stack([DL[a, b], DL[c, a], DL[c, b]])
    ok = np.all((sides >= MIN_SIDE) & (sides <= top), axis=0)
    # a triangle whose perimeter reaches the diameter may wrap around a
    # closed manifold (on a flat torus a loop longer than its side does)
    ok &= sides.sum(axis=0) <= MAX_PERIMETER_FRACTION * diameter
    a, b, c = a[ok], b[ok], c[ok]
    if len(a) < 30:
        return 0.0, np.inf, int(len(a))
    if len(a) > MAX_TRIANGLES:  # bounded cost (midpoints, grid, bootstrap)
        keep = rng.choice(len(a), size=MAX_TRIANGLES, replace=False)
        a, b, c = a[keep], b[keep], c[keep]
    # midpoint of each side ab: the node closest to both halves
    pairs, inv = np.unique(np.stack([a, b], axis=1), axis=0, return_inverse=True)
    inv = inv.ravel()
    mid = np.empty(len(pairs), dtype=np.intp)
    for i, (pa, pb) in enumerate(pairs):
        da, db = Dr[pa], Dr[pb]
        score = np.abs(da - db) + (da + db - DL[pa, pb])
        score[~(np.isfinite(da) & np.isfinite(db))] = np.inf
        mid[i] = int(np.argmin(score))
    m = mid[inv]
    x, y, e = Dr[a, m], Dr[b, m], DL[a, b]
    good = np.isfinite(x) & np.isfinite(y)
    a, b, c, m = a[good], b[good], c[good], m[good]
    x, y, e = x[good], y[good], e[good]
    # m projected on the side ab (flat projection; its distance off the side
    # is the offset beta below)
    x = np.clip((x * x - y * y + e * e) / (2.0 * e), 0.0, e)
    y = e - x
    p, s, obs = DL[c, a], DL[c, b], Dr[c, m]
    if len(obs) < 30:
        return 0.0, np.inf, int(len(obs))
    # least squares in distance (Huber loss) over a grid of k in [-k_max, k_max],
    # k_max keeping every side below pi / sqrt(k)
    k_max = float((0.95 * np.pi / np.max(np.maximum.reduce([p, s, x + y]))) ** 2)
    grid = np.linspace(-k_max, k_max, 201)
    # squared model distances per grid value; the offset beta (fitted for each
    # k) absorbs the midpoint node's distance off the side, which adds to
    # |cm|^2 on average whatever the triangle's size
    M2 = np.stack([_median_length(np.full(len(obs), k), p, s, x, y) ** 2 for k in grid])
    gap = obs * obs - M2

    beta = gap.mean(axis=1)
    res = np.abs(np.sqrt(np.maximum(M2 + beta[:, None], 0.0)) - obs)
    loss = np.where(res < HUBER, 0.5 * res * res, HUBER * (res - 0.5 * HUBER))
    est = float(grid[np.argmin(loss.sum(axis=1))])
    # bootstrap over the triangles (offsets held at their full-sample values)
    counts = rng.multinomial(
        len(obs), np.full(len(obs), 1.0 / len(obs)), size=N_BOOTSTRAP
    ).astype(np.float64)
    se = float(np.std(grid[np.argmin(counts @ loss.T, axis=1)]))
    n_used = int(len(obs))
    return est, se, n_used
