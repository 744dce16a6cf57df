"""Point clouds on manifolds whose geodesic distances are known exactly."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from .._validation import check_int, check_random_state
from ._geodesic import Geodesic


def _check_n(n):
    return check_int(n, "n_samples", minimum=1)


def _check_noise(noise):
    noise = float(noise)
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a non-negative float, got {noise}")
    return noise


def _add_noise(X, noise, rng):
    return X + noise * rng.normal(size=X.shape) if noise > 0 else X


def make_sphere(
    n_samples: int,
    dim: int = 2,
    *,
    radius: float = 1.0,
    noise: float = 0.0,
    random_state: Any = None,
) -> tuple[np.ndarray, Geodesic]:
    """Uniform points on the sphere ``S^dim`` of the given radius in ``R^(dim+1)``.

    Parameters
    ----------
    n_samples : int
    dim : int, default=2
        Intrinsic dimension.
    radius : float, default=1.0
    noise : float, default=0.0
        Standard deviation of isotropic ambient Gaussian noise added to the
        returned points; the geodesics stay those of the clean points.
    random_state : int, RandomState or None

    Returns
    -------
    X : ndarray of shape (n_samples, dim + 1)
    geodesic : Geodesic
        Great-circle distances ``radius * angle(x_i, x_j)``.

    Examples
    --------
    >>> from manigeo.datasets import make_sphere
    >>> X, geo = make_sphere(100, random_state=0)
    >>> X.shape, geo([0, 1], [0, 1]).shape
    ((100, 3), (2, 2))
    >>> bool(geo([0], [1])[0, 0] <= 3.141593)   # at most half a great circle
    True
    """
    n = _check_n(n_samples)
    dim = check_int(dim, "dim", minimum=1)
    radius = float(radius)
    if not radius > 0:
        raise ValueError(f"radius must be positive, got {radius}")
    rng = check_random_state(random_state)
    U = rng.normal(size=(n, dim + 1))
    U /= np.linalg.norm(U, axis=1, keepdims=True)

    def paired(i, j):
        a, b = U[i], U[j]
        # 2 atan2(|a-b|, |a+b|) is accurate at tiny and near-antipodal angles
        return (
            radius
            * 2.0
            * np.arctan2(np.linalg.norm(a - b, axis=1), np.linalg.norm(a + b, axis=1))
        )

    X = _add_noise(radius * U, _check_noise(noise), rng)
    return X, Geodesic(paired, n, f"sphere S^{dim}, radius {radius:g}")


def _ring_torus_geodesic(theta, phi, R, r, resolution):
    """Geodesics on the torus of revolution by Dijkstra on a fine parameter grid.

    Grid (nu x nv) with the 16-neighbour stencil (moves (1,0), (1,1), (2,1) and
    symmetric), edge lengths from the exact metric
    ``ds^2 = (R + r cos phi)^2 dtheta^2 + r^2 dphi^2`` at the midpoint.  Points
    are snapped to the nearest grid node.
    """
    nv = int(resolution)
    nu = int(round(nv * (R + r) / r))
    du, dv = 2 * np.pi / nu, 2 * np.pi / nv
    iu, iv = np.meshgrid(np.arange(nu), np.arange(nv), indexing="ij")
    iu, iv = iu.ravel(), iv.ravel()
    rows, cols, w = [], [], []
    moves = [(1, 0), (0, 1), (1, 1), (1, -1), (2, 1), (2, -1), (1, 2), (1, -2)]
    for a, b in moves:
        ju, jv = (iu + a) % nu, (iv + b) % nv
        vm = (iv + 0.5 * b) * dv
        length = np.sqrt(((R + r * np.cos(vm)) * a * du) ** 2 + (r * b * dv) ** 2)
        rows.append(iu * nv + iv)
        cols.append(ju * nv + jv)
        w.append(length)
    G = sp.csr_array(
        (np.concatenate(w), (np.concatenate(rows), np.concatenate(cols))),
        shape=(nu * nv, nu * nv),
    )
    G = G + G.T
    node = (np.round(theta / du).astype(int) % nu) * nv + (
        np.round(phi / dv).astype(int) % nv
    )

    def paired(i, j):
        out = np.empty(len(i))
        src = node[i]
        for s in np.unique(src):
            sel = src == s
            d = csgraph.dijkstra(G, indices=int(s))
            out[sel] = d[node[j[sel]]]
        return out

    return paired


def make_torus(
    n_samples: int,
    *,
    kind: str = "flat",
    dim: int = 2,
    R: float = 2.0,
    r: float = 1.0,
    noise: float = 0.0,
    resolution: int = 200,
    random_state: Any = None,
) -> tuple[np.ndarray, Geodesic]:
    """Uniform points on a torus with exact (or numerically resolved) geodesics.

    Parameters
    ----------
    n_samples : int
    kind : {"flat", "ring"}, default="flat"
        ``"flat"``: the flat torus ``[0, 1)^dim`` embedded isometrically in
        ``R^(2 dim)`` as a product of circles of circumference 1 (Clifford
        torus); geodesics are exact, ``||min(|dt|, 1 - |dt|)||``.
        ``"ring"``: the torus of revolution in ``R^3`` with radii ``R > r``,
        sampled uniformly for its area; it has no closed-form geodesics, so
        they are computed by Dijkstra on a fine parameter grid (see
        ``resolution``) and ``geodesic.exact`` is False.  Accuracy about 1 %
        relative at the default resolution.
    dim : int, default=2
        Intrinsic dimension of the flat torus (ignored for ``"ring"``).
    R, r : float
        Radii of the ring torus.
    noise : float, default=0.0
        Ambient Gaussian noise on the returned points.
    resolution : int, default=200
        Grid nodes around the tube for the ring torus geodesics.
    random_state : int, RandomState or None

    Returns
    -------
    X : ndarray of shape (n_samples, 2 * dim) or (n_samples, 3)
    geodesic : Geodesic
        With ``geodesic.coordinates``: the intrinsic coordinates
        (``[0, 1)^dim`` for flat, angles ``(theta, phi)`` for ring).

    Examples
    --------
    >>> from manigeo.datasets import make_torus
    >>> X, geo = make_torus(100, random_state=0)   # flat torus in R^4
    >>> X.shape, geo.exact
    ((100, 4), True)
    >>> float(geo([0], [0])[0, 0])
    0.0
    """
    n = _check_n(n_samples)
    rng = check_random_state(random_state)
    noise = _check_noise(noise)
    if kind == "flat":
        dim = check_int(dim, "dim", minimum=1)
        T = rng.uniform(size=(n, dim))
        ang = 2 * np.pi * T
        X = np.empty((n, 2 * dim))
        X[:, 0::2] = np.cos(ang) / (2 * np.pi)
        X[:, 1::2] = np.sin(ang) / (2 * np.pi)

        def paired(i, j):
            d = np.abs(T[i] - T[j])
            return np.linalg.norm(np.minimum(d, 1.0 - d), axis=1)

        geo = Geodesic(paired, n, f"flat torus T^{dim}")
        geo.coordinates = T
        return _add_noise(X, noise, rng), geo
    if kind == "ring":
        R, r = float(R), float(r)
        if not R > r > 0:
            raise ValueError(f"need R > r > 0 for a ring torus, got R={R}, r={r}")
        theta = rng.uniform(0, 2 * np.pi, size=n)
        # area element (R + r cos phi): rejection sampling of phi
        phi = np.empty(0)
        while len(phi) < n:
            cand = rng.uniform(0, 2 * np.pi, size=2 * n)
            acc = rng.uniform(size=2 * n) < (R + r * np.cos(cand)) / (R + r)
            phi = np.concatenate([phi, cand[acc]])
        phi = phi[:n]
        X = np.column_stack(
            [
                (R + r * np.cos(phi)) * np.cos(theta),
                (R + r * np.cos(phi)) * np.sin(theta),
                r * np.sin(phi),
            ]
        )
        paired = _ring_torus_geodesic(
            theta, phi, R, r, check_int(resolution, "resolution", minimum=8)
        )
        geo = Geodesic(paired, n, f"ring torus R={R:g}, r={r:g}", exact=False)
        geo.coordinates = np.column_stack([theta, phi])
        return _add_noise(X, noise, rng), geo
    raise ValueError(f"kind must be 'flat' or 'ring', got {kind!r}")


def _arc_length(t):
    return 0.5 * (t * np.sqrt(1 + t * t) + np.arcsinh(t))


def make_swiss_roll(
    n_samples: int,
    *,
    noise: float = 0.0,
    t_range: tuple[float, float] = (1.5 * np.pi, 4.5 * np.pi),
    height: float = 21.0,
    random_state: Any = None,
) -> tuple[np.ndarray, Geodesic]:
    """Swiss roll ``x = (t cos t, h, t sin t)``, uniform for its area.

    The roll is isometric to the rectangle of unrolled coordinates
    ``(s(t), h)`` with arc length ``s(t) = (t sqrt(1 + t^2) + asinh t) / 2``, so
    geodesics are Euclidean distances there.  Same axes as
    :func:`sklearn.datasets.make_swiss_roll`, but uniform in area (sklearn is
    uniform in t, denser at the centre).

    Parameters
    ----------
    n_samples : int
    noise : float, default=0.0
        Standard deviation of ambient Gaussian noise (geodesics stay exact for
        the clean points).
    t_range : (float, float), default=(1.5 pi, 4.5 pi)
        Range of the roll parameter ``t``, ``0 <= t0 < t1``.
    height : float, default=21.0
        Width of the roll along the second axis.
    random_state : int, RandomState or None

    Returns
    -------
    X : ndarray of shape (n_samples, 3)
    geodesic : Geodesic
        With ``geodesic.coordinates`` the unrolled ``(s, h)`` and
        ``geodesic.t`` the roll parameter.

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo.datasets import make_swiss_roll
    >>> X, geo = make_swiss_roll(200, random_state=0)
    >>> U = geo.coordinates                      # the unrolled rectangle
    >>> d = geo([0], [1])[0, 0]
    >>> bool(np.isclose(d, np.linalg.norm(U[0] - U[1])))
    True
    """
    n = _check_n(n_samples)
    rng = check_random_state(random_state)
    noise = _check_noise(noise)
    t0, t1 = map(float, t_range)
    if not 0 <= t0 < t1:
        raise ValueError(f"t_range must satisfy 0 <= t0 < t1, got {t_range}")
    grid = np.linspace(t0, t1, 20001)
    sgrid = _arc_length(grid)
    s = rng.uniform(sgrid[0], sgrid[-1], size=n)
    t = np.interp(s, sgrid, grid)
    for _ in range(3):  # Newton polish of the inversion: ds/dt = sqrt(1 + t^2)
        t -= (_arc_length(t) - s) / np.sqrt(1 + t * t)
    h = rng.uniform(0, float(height), size=n)
    X = np.column_stack([t * np.cos(t), h, t * np.sin(t)])
    U = np.column_stack([s - sgrid[0], h])

    def paired(i, j):
        return np.linalg.norm(U[i] - U[j], axis=1)

    geo = Geodesic(paired, n, "swiss roll")
    geo.coordinates = U
    geo.t = t
    return _add_noise(X, noise, rng), geo


def make_tree(
    n_samples: int,
    *,
    n_branches: int = 10,
    dim: int = 10,
    branch_length: float = 1.0,
    noise: float = 0.0,
    random_state: Any = None,
) -> tuple[np.ndarray, Geodesic]:
    """PHATE-style branching tree: straight branches in ``R^dim`` with path distances.

    Branch 0 starts at the origin; each later branch starts at a uniformly
    random point of a uniformly random earlier branch and runs
    ``branch_length`` in a uniformly random direction.  Points are spread
    uniformly along the branches (``n_samples // n_branches`` each, the rest on
    the first ones).  The geodesic distance is the length of the path through
    the tree (the intrinsic metric of the union of segments).

    Parameters
    ----------
    n_samples : int
    n_branches : int, default=10
    dim : int, default=10
        Ambient dimension.
    branch_length : float, default=1.0
    noise : float, default=0.0
        Standard deviation of ambient Gaussian noise.
    random_state : int, RandomState or None

    Returns
    -------
    X : ndarray of shape (n_samples, dim)
    geodesic : Geodesic
        With ``geodesic.coordinates`` = ``(branch, arclength)`` per point and
        ``geodesic.labels`` the branch of each point.

    Examples
    --------
    >>> from manigeo.datasets import make_tree
    >>> X, geo = make_tree(100, n_branches=4, dim=5, random_state=0)
    >>> X.shape, sorted(set(geo.labels.tolist()))
    ((100, 5), [0, 1, 2, 3])
    """
    n = _check_n(n_samples)
    nb = check_int(n_branches, "n_branches", minimum=1)
    dim = check_int(dim, "dim", minimum=1)
    L = float(branch_length)
    if not L > 0:
        raise ValueError(f"branch_length must be positive, got {L}")
    rng = check_random_state(random_state)
    noise = _check_noise(noise)
    parent = np.full(nb, -1)
    attach = np.zeros(nb)  # arclength on the parent where the branch starts
    start = np.zeros((nb, dim))
    direction = rng.normal(size=(nb, dim))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    for b in range(1, nb):
        parent[b] = rng.randint(b)
        attach[b] = rng.uniform(0, L)
        start[b] = start[parent[b]] + attach[b] * direction[parent[b]]
    # ancestors: up[a][c] = (cost from the start of a up to c's entry, entry pos on c)
    entry = np.full((nb, nb), np.nan)  # entry[a, c]: position on c of a's lineage
    up = np.full((nb, nb), np.nan)  # up[a, c]: path length from start of a to it
    for a in range(nb):
        entry[a, a], up[a, a] = 0.0, 0.0
        cost, b = 0.0, a
        while parent[b] >= 0:
            p = parent[b]
            entry[a, p] = attach[b]
            up[a, p] = cost
            cost += attach[b]  # walk back along p from attach[b] to p's start
            b = p
    depth = np.array([np.sum(~np.isnan(entry[a])) for a in range(nb)])
    # lowest common ancestor branch of every pair
    lca = np.empty((nb, nb), dtype=int)
    for a in range(nb):
        for b in range(nb):
            common = np.flatnonzero(~np.isnan(entry[a]) & ~np.isnan(entry[b]))
            lca[a, b] = common[np.argmax(depth[common])]
    counts = np.full(nb, n // nb)
    counts[: n % nb] += 1
    branch = np.repeat(np.arange(nb), counts)
    pos = rng.uniform(0, L, size=n)
    X = start[branch] + pos[:, None] * direction[branch]

    def paired(i, j):
        a, b = branch[i], branch[j]
        c = lca[a, b]
        # from point (a, s) up to branch c: s + up[a, c] if a != c, else 0
        ua = np.where(a == c, 0.0, pos[i] + np.nan_to_num(up[a, c]))
        ub = np.where(b == c, 0.0, pos[j] + np.nan_to_num(up[b, c]))
        pa = np.where(a == c, pos[i], entry[a, c])
        pb = np.where(b == c, pos[j], entry[b, c])
        return ua + ub + np.abs(pa - pb)

    geo = Geodesic(paired, n, f"tree with {nb} branches")
    geo.coordinates = np.column_stack([branch, pos])
    geo.labels = branch
    return _add_noise(X, noise, rng), geo
