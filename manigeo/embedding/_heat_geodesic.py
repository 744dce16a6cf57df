"""Heat-geodesic embedding (Huguet et al., NeurIPS 2023): a thin estimator.

The distances come from :class:`manigeo.heat.HeatGeodesicDistance`; the
landmarks (all samples, or farthest-point landmarks) are embedded by SMACOF
from a classical-MDS start, and every other sample is placed by minimizing its
own stress against the landmarks (started from landmark-MDS triangulation).

Landmark mode approximates the full-mode stress (all pairs, unit weights): each
landmark stands for the samples of its cell (those nearest to it in heat
distance), so the landmark SMACOF weighs the pair ``(a, b)`` by ``c_a c_b`` and
each sample's placement weighs landmark ``a`` by ``c_a``.  Unweighted
landmarks (farthest points cover the data evenly, whatever the density) and
``d^-2`` placement weights cost 0.04-0.08 of embedding Spearman on the tree
and the non-uniform sphere of ``benchmarks/bench_heatgeo.py --heldout``.
"""

import numbers

import numpy as np
from scipy.spatial import cKDTree
from scipy.spatial.distance import cdist
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._backend import blas_threads, run_chunks
from ..heat import HeatGeodesicDistance
from ._mds import _triangulation_frame, classical_mds
from ._smacof import smacof

#: majorization steps of a point against its near landmarks, per pass
_PLACE_ITER = 30
#: a point's passes stop once one moves it less than this fraction of the
#: landmark embedding's extent; the passes converge quadratically (Newton on
#: the far terms), so the result is then within ~1e-5 of the extent of the
#: converged one (Swiss roll n = 1e4: median 3e-6; plain Guttman steps
#: stopped at 1e-4 were 4e-4 off)
_PLACE_TOL = 1e-3
#: landmarks of a point's exact (majorized) stress terms: the nearest to the
#: landmark nearest to its start; the others enter by their second-order
#: model about the point's position, refreshed once per pass, at most
#: ``_PLACE_OUTER`` passes
_PLACE_NEAR = 16
_PLACE_OUTER = 8
#: a point whose next step (the Newton step of its last pass's system, from
#: the exact gradient at its new position: the next pass's own first sums)
#: is below this fraction of ``_PLACE_TOL`` takes that step and stops, in
#: place of a pass that would move it by about as much (1.14x the estimate,
#: 95 % within 1.22x, after the first pass on the non-uniform sphere) and
#: then stop.  Non-uniform sphere n = 1e5: 86 % of the points needed a
#: second pass, 21 % now (placement CPU 1.8x less); results within 1.2e-3
#: of the extent (median 1.6e-5) of the passes' own
_PLACE_STOP = 0.5
#: the far model's negative tangential curvatures (distances the embedding
#: cannot fit) are clipped for a point where they exceed this fraction of the
#: far masses at its start: majorization-like steps, as Guttman iterations
#: take.  The held-out tree (seeds 0 / 1) embeds at 0.9330 / 0.9514 for any
#: threshold in 0.02-0.2, at 0.9293 / 0.9478 never clipped (Newton steps to
#: other stationary points of the placement stress)
_PLACE_CONCAVE = 0.05
#: rows placed together.  Swiss roll n = 1e5, placement wall time on two
#: threads: 256 rows 0.82-0.93 s, 1024 rows 0.60-0.65 s, 2048 rows 0.73-0.77 s
#: (the threads wait less on each other for the interpreter between the many
#: small steps of a block); on one thread 1.07 s and 1.06 s alike
_PLACE_BLOCK = 1024
#: rows per block of ``transform`` (their distances to 500 landmarks: 8 MB)
_TRANSFORM_BLOCK = 2048
#: blocks per thread of the placement, at least (2048 rows)
_PLACE_MIN_BLOCKS = 2


def _cell_sizes(geometry, m):
    """Samples each landmark stands for: itself and the samples nearest to it.

    ``geometry``: the fitted heat geometry (``HeatGeodesicDistance.geometry_``),
    whose ``nearest_landmarks`` ranks the landmarks of every other sample by
    heat distance from its kernel values (no ``(n, m)`` distances held).
    """
    rest = np.ones(geometry.n_train_, dtype=bool)
    rest[geometry.landmark_index] = False
    near = geometry.nearest_landmarks(geometry.cell_order(np.flatnonzero(rest)))
    return 1.0 + np.bincount(near, minlength=m)


def _near_solve(y0, grad, H, Cn, cYn, cdn, Yn, tol, tiny):
    """Minimize the near terms (majorized at each step, as in a Guttman
    transform) plus the far model ``grad . (y - y0) + (y - y0)^T H (y - y0) / 2``.

    Each step solves ``(2 C_n I + H) y = 2 sum_n c_a y_a + 2 sum_n B_a (y - y_a)
    - grad + H y0`` with ``B_a = c_a d_a / |y - y_a|`` at the current ``y``.
    The near landmarks' coordinates are held one ``(rows, near)`` array per
    axis (contiguous: 3x faster than the ``(rows, near, p)`` differences);
    the rows that stop moving are dropped as they stop.
    """
    p = y0.shape[1]
    _, Ainv = _eig_inv(H + 2.0 * Cn[:, None, None] * np.eye(p))
    const = 2.0 * cYn - grad + np.einsum("bij,bj->bi", H, y0)
    Yc = np.ascontiguousarray(np.moveaxis(Yn, -1, 0))  # (p, rows, near)
    y = y0.copy()
    act = np.arange(y.shape[0])
    ya, cda = y0, cdn
    for _ in range(_PLACE_ITER):
        diff = [ya[:, j, None] - Yc[j] for j in range(p)]
        rn = diff[0] * diff[0]
        for dj in diff[1:]:
            rn += dj * dj
        np.sqrt(rn, out=rn)
        np.maximum(rn, tiny, out=rn)
        w = cda / rn
        rhs = const.copy()
        for j in range(p):
            rhs[:, j] += 2.0 * np.einsum("bk,bk->b", w, diff[j])
        y_new = np.einsum("bij,bj->bi", Ainv, rhs)
        keep = np.abs(y_new - ya).max(axis=1) >= 0.1 * tol
        y[act] = y_new
        if not keep.all():
            act, ya = act[keep], y_new[keep]
            if act.size == 0:
                break
            const, Ainv, cda, Yc = const[keep], Ainv[keep], cda[keep], Yc[:, keep]
        else:
            ya = y_new
    return y


def _eig_inv(A, inverse=True):
    """Smallest eigenvalues and (``inverse``) inverses of symmetric ``(b, p,
    p)`` matrices; for ``p = 2`` in closed form (a batched LAPACK call per
    chunk cost more than the arithmetic; a singular one gets a non-finite
    inverse where LAPACK raises, and its smallest eigenvalue 0: the callers
    discard that solve)."""
    if A.shape[1] != 2:
        lo = np.linalg.eigvalsh(A)[:, 0]
        return (lo, np.linalg.inv(A)) if inverse else lo
    a, b, d = A[:, 0, 0], A[:, 1, 0], A[:, 1, 1]
    lo = 0.5 * (a + d) - np.hypot(0.5 * (a - d), b)
    if not inverse:
        return lo
    with np.errstate(divide="ignore", invalid="ignore"):
        f = 1.0 / (a * d - b * b)
    Ainv = np.empty_like(A)
    Ainv[:, 0, 0] = d * f
    Ainv[:, 1, 1] = a * f
    Ainv[:, 0, 1] = Ainv[:, 1, 0] = -b * f
    return lo, Ainv


def _first_sums(t, ctab, table, p):
    """``sum_a g_a [1, y_a]`` over every landmark (``g = c - t``, ``t = c d /
    r``): the exact gradient at the point is ``2 (S_0 y - S_{1:})``."""
    return ctab[: 1 + p] - t @ table[:, : 1 + p]


def _solve_small(A, g):
    """``A^-1 g`` for symmetric ``(b, p, p)`` ``A`` and ``(b, p)`` ``g`` (as
    :func:`_near_solve` inverts it; for ``p = 2`` a singular ``A`` gives a
    non-finite result, never taken as a small step)."""
    Ainv = _eig_inv(A)[1]
    with np.errstate(all="ignore"):
        return np.einsum("bij,bj->bi", Ainv, g)


def _far_model(t, r0, y0, ctab, table, near, S=None):
    """Gradient and Hessian at ``y0`` of the far terms' second-order model.

    ``t = c d / r`` (consumed: divided by ``r^2`` in place), ``r0`` the
    distances to every landmark; ``near = (g_n, q_n, T_n)``: the near
    landmarks' ``g``, ``c d / r^3`` and table rows, taken off the sums;
    ``S``: :func:`_first_sums` of ``t`` where already known.
    Gradient ``2 sum_a g_a (y0 - y_a)``, Hessian ``2 sum_a (g_a I + q_a (y0 -
    y_a)(y0 - y_a)^T)``, ``g_a = c_a - c_a d_a / r_a``, ``q_a = c_a d_a /
    r_a^3`` (radial curvature ``c_a`` along ``u_a``, ``g_a`` across).
    """
    p = y0.shape[1]
    g_n, q_n, T_n = near
    if S is None:
        S = _first_sums(t, ctab, table, p)
    G = S - np.matmul(g_n[:, None, :], T_n[..., : 1 + p])[:, 0]
    t /= r0
    t /= r0
    R = t @ table - np.matmul(q_n[:, None, :], T_n)[:, 0]
    grad = 2.0 * (G[:, :1] * y0 - G[:, 1:])
    H = _outer_sums(R, y0) + G[:, :1, None] * np.eye(p)
    return grad, 2.0 * H


def _outer_sums(R, y0):
    """``sum_a w_a (y0 - y_a)(y0 - y_a)^T`` per row from ``R = w @ table``."""
    p = y0.shape[1]
    Ry = R[:, 1 : 1 + p]
    return (
        R[:, :1, None] * (y0[:, :, None] * y0[:, None, :])
        - y0[:, :, None] * Ry[:, None, :]
        - Ry[:, :, None] * y0[:, None, :]
        + R[:, 1 + p :].reshape(-1, p, p)
    )


def _concave_part(neg, r0, y0, table, nb):
    """``2 sum_a min(g_a, 0) ((y0 - y_a)(y0 - y_a)^T / r_a^2 - I)`` over the far
    landmarks: the Hessian term that clips the negative tangential curvatures
    (a PSD correction).  ``neg = min(g, 0) = min(c - c d / r, 0)`` over every
    landmark (consumed), ``nb`` the near landmarks (left out)."""
    np.put_along_axis(neg, nb, 0.0, axis=1)
    negsum = neg.sum(axis=1)
    neg /= r0
    neg /= r0
    corr = _outer_sums(neg @ table, y0) - negsum[:, None, None] * np.eye(y0.shape[1])
    return 2.0 * corr


def _negative_part(c, t, out=None):
    """``min(c - t, 0)``: the negative tangential curvatures ``min(g_a, 0)``
    from ``t = c d / r`` (in ``out``, or a new array)."""
    neg = np.subtract(c, t, out=out)
    return np.minimum(neg, 0.0, out=neg)


def _clipped_solve(ix, y0, grad, H, near, far, tol, tiny):
    """:func:`_near_solve` of the rows ``ix`` with the far terms' negative
    curvatures clipped (``far = (c, cd, r0, table, nb)``, :func:`_concave_part`;
    ``near = (Cn, cYn, cdn, Yn)``)."""
    c, cd, r0, table, nb = far
    r = r0[ix]
    corr = _concave_part(_negative_part(c, cd[ix] / r), r, y0[ix], table, nb[ix])
    sub = tuple(a[ix] for a in near)
    return _near_solve(y0[ix], grad[ix], H[ix] + corr, *sub, tol, tiny)


def _start_offsets(D_lm, Y_lm):
    """Landmarks' fitted positions minus their triangulation from ``D_lm``.

    Triangulation (landmark MDS) reads the heat distances as Euclidean; the
    fitted landmark embedding departs from it by a smooth field, so a point
    triangulated near a landmark is off by about that landmark's offset.
    """
    P, tri0 = _triangulation_frame(Y_lm)
    D2 = np.asarray(D_lm, dtype=np.float64) ** 2
    return Y_lm - (tri0 + D2 @ (-0.5 * P))


def _place(
    D,
    Y_lm,
    masses,
    rows=None,
    chunk_size=_PLACE_BLOCK,
    near=_PLACE_NEAR,
    offsets=None,
):
    """Out-of-sample points: argmin of ``f(y) = sum_a c_a (|y - y_a| - d_a)^2``.

    Each landmark ``a`` stands for the ``c_a`` samples of its cell, so this is
    the point's own term of the full-mode stress (all pairs, unit weights) with
    the other samples represented by their landmarks.  Started from
    triangulation in the landmark frame.  The ``near`` landmarks nearest to
    the landmark nearest to that start (a table over the landmarks: one
    nearest-neighbour query per point) keep their exact terms, majorized as
    in a Guttman transform (``O(near)`` per step, :func:`_near_solve`);
    every other landmark enters by the second-order model of its term about
    the start of the pass
    (:func:`_far_model`: ``O(m)``, two products with a ``(m, 1 + p + p^2)``
    table, once per pass).  Where the far terms' negative tangential
    curvatures (``r_a < d_a``: distances the embedding cannot fit) weigh more
    than ``_PLACE_CONCAVE`` of the far masses at the start, or a pass's system
    is not convex or its result does not lower ``f``, they are clipped (a
    convex model, majorization-like short steps).  Passes repeat until a
    point moves less than ``_PLACE_TOL`` of the scale in one (at most
    ``_PLACE_OUTER``); at a fixed point the model's gradient is the exact
    one, so the result is a stationary point of ``f`` as with plain Guttman
    iterations (``O(m)`` each, 10-30 of them), in 2-3 passes; a point whose
    next pass would move it by less than ``_PLACE_STOP`` of that takes the
    pass's Newton step from the exact gradient and stops.  Each row on
    its own: the result does not depend on the chunks (blockwise transforms
    equal whole ones).  ``rows``: the rows of ``D`` to place (all by
    default), read chunk by chunk (no copy of ``D``).  ``D`` may also be an
    iterable of blocks ``(start, d)``: the distances of ``rows[start : start +
    len(d)]`` in order, new arrays that are consumed (``rows`` required), so
    the ``(n, m)`` distances need never be held at once.  ``offsets``
    (:func:`_start_offsets`): the start is the triangulation moved by the
    offsets of those ``near`` landmarks, weighted by ``1 / d_a^2``
    — 10-20 times nearer the result than the triangulation (S-curve, Swiss
    roll), so most points stop after one pass instead of two.
    """
    if hasattr(D, "shape"):
        rows = np.arange(D.shape[0]) if rows is None else np.asarray(rows)
        blocks = (
            (s, np.asarray(D[rows[s : s + chunk_size]], dtype=np.float64))
            for s in range(0, rows.size, chunk_size)
        )
    else:
        rows, blocks = np.asarray(rows), D
    m, p = Y_lm.shape
    out = np.empty((rows.size, p))
    # scale of the fitted landmarks only (never of the block of rows passed
    # in), so a blockwise transform equals the whole one
    scale = max(float(np.ptp(Y_lm, axis=0).max()), 1e-300) if Y_lm.size else 1.0
    tol = _PLACE_TOL * scale
    tiny = 1e-12 * scale
    c = np.asarray(masses, dtype=np.float64)
    k = min(int(near), m)
    table = np.hstack(
        [np.ones((m, 1)), Y_lm, np.einsum("ai,aj->aij", Y_lm, Y_lm).reshape(m, p * p)]
    )
    ctab = c @ table
    # each point's near landmarks: the ``k`` nearest to the landmark nearest
    # to its start (one nearest-neighbour query per point, not a k-NN query)
    if k < m:
        tree = cKDTree(Y_lm)
        lm_nb = tree.query(Y_lm, k=k)[1].reshape(m, k)
    ones = np.ones(m)
    total, cY, cYY = c.sum(), ctab[1 : 1 + p], ctab[1 + p :].reshape(p, p).trace()
    # triangulation (de Silva-Tenenbaum, as _triangulate) and sum_a c_a d_a^2
    # from one product with D^2
    P, tri0 = _triangulation_frame(Y_lm)
    tri = np.hstack([-0.5 * P, c[:, None]])

    # the (rows, m) arrays live in buffers reused by every pass and block:
    # fresh ones cost page faults (the allocator hands freed blocks back to
    # the system; 3x the faults and 0.05-0.1 s more system time per 30 000
    # rows at n = 1e5, depending on the order of the frees).  Those carried
    # from pass to pass (cd, r, t) alternate between two buffers each: the
    # next pass's rows are written while this pass's are still read.
    work = {}
    side = {"cd": 0, "r": 0, "t": 0}

    def buf(name, rows):
        a = work.get(name)
        if a is None or a.shape[0] < rows:
            a = work[name] = np.empty((max(rows, chunk_size), m))
        return a[:rows]

    def nxt(name, rows):
        side[name] ^= 1
        return buf(f"{name}{side[name]}", rows)

    # (rows of a in range: mode="clip" writes straight into the buffer, where
    # "raise" fills a temporary first)
    def take(a, ix, name):
        return np.take(a, ix, axis=0, out=nxt(name, ix.size), mode="clip")

    def take_to(a, ix, name):
        return np.take(a, ix, axis=0, out=buf(name, ix.size), mode="clip")

    def dist(y, out=None):
        r = cdist(y, Y_lm, out=out)
        return np.maximum(r, tiny, out=r)

    def stress(y, r, cd, cdd):
        # sum_a c_a (r_a - d_a)^2, the sum of c_a r_a^2 in closed form
        crr = total * (y**2).sum(axis=1) - 2.0 * y @ cY + cYY
        return crr - 2.0 * np.einsum("ij,ij->i", r, cd) + cdd

    for s, d in blocks:
        b = d.shape[0]
        cd = np.multiply(d, c, out=nxt("cd", b))
        d *= d
        Z = d @ tri
        y, cdd = tri0 + Z[:, :p], Z[:, p]
        if k < m:
            nb = lm_nb[tree.query(y, k=1)[1]]
        else:
            nb = np.broadcast_to(np.arange(m), (b, m))
        cn = c[nb]
        # flat positions of the near landmarks' entries in (rows, m) arrays
        flat = nb + m * np.arange(b)[:, None]
        cdn = cd.ravel()[flat]
        if offsets is not None:
            # weights 1 / d_a^2 of the near landmarks (d_a = cd_a / c_a; a
            # point at distance 0 from a landmark takes that one's offset)
            w = cn / np.maximum(cdn, tiny * cn)
            w *= w
            w /= w.sum(axis=1, keepdims=True)
            y = y + np.matmul(w[:, None, :], offsets[nb])[:, 0]
        Tn = table[nb]  # (b, k, 1 + p + p^2)
        Yn = Tn[..., 1 : 1 + p]
        cYn = np.einsum("bk,bkp->bp", cn, Yn)
        Cn = cn.sum(axis=1)
        r = dist(y, out=nxt("r", b))
        f = None  # the stress at y: needed only by rows that move on
        res = out[s : s + b]
        res[:] = y
        idx = np.arange(b)  # the rows still moving (their data shrink with them)
        clip = t = S = None
        for _ in range(_PLACE_OUTER):
            if idx.size == 0:
                break
            y0, r0 = y, r
            args = (Cn, cYn, cdn, Yn)
            rn = r0.ravel()[flat]
            if t is None:  # else from the previous pass's stopping test
                t = np.divide(cd, r0, out=nxt("t", b))
            if clip is None:  # far terms' concavity at the start
                # sum over the far landmarks of max(c d / r - c, 0) = -min(g, 0)
                tc = np.maximum(t, c, out=buf("neg", b))
                concave = (tc @ ones - total) - np.maximum(cdn / rn - cn, 0.0).sum(
                    axis=1
                )
                clip = concave > _PLACE_CONCAVE * (total - Cn)
            # the rows whose exact model is not convex are clipped too (their
            # negative curvatures from t before the far model consumes it)
            gn = cn - cdn / rn
            near_model = (gn, cdn / rn**3, Tn)
            clip_neg = None
            if clip.any():
                cl = np.flatnonzero(clip)
                full = cl.size == clip.size
                neg = buf("neg", cl.size) if full else take_to(t, cl, "neg")
                clip_neg = _negative_part(c, t if full else neg, out=neg)
            grad, H = _far_model(t, r0, y0, ctab, table, near_model, S)
            # one solve for all rows (each on its own)
            lo = _eig_inv(H + 2.0 * Cn[:, None, None] * np.eye(p), inverse=False)
            fix = np.flatnonzero(clip | (lo <= 0.0))
            far = (c, cd, r0, table, nb)
            Hs = H
            if fix.size:
                Hs = H.copy()
                if clip_neg is not None:
                    Hs[cl] += _concave_part(
                        clip_neg,
                        r0 if full else take_to(r0, cl, "rc"),
                        y0 if full else y0[cl],
                        table,
                        nb if full else nb[cl],
                    )
                other = np.flatnonzero(~clip & (lo <= 0.0))
                if other.size:
                    r = r0[other]
                    Hs[other] += _concave_part(
                        _negative_part(c, cd[other] / r),
                        r,
                        y0[other],
                        table,
                        nb[other],
                    )
            y1 = _near_solve(y0, grad, Hs, *args, tol, tiny)
            moved = np.abs(y1 - y0).max(axis=1)
            res[idx] = y1
            # rows that moved less than tol are done; the others need their
            # distances at y1 for the next pass, and a decrease of f
            live = np.flatnonzero(moved >= tol)
            cd_live = take(cd, live, "cd")  # the next pass's
            r1 = dist(y1[live], out=nxt("r", live.size))
            isfix = np.zeros(y0.shape[0], dtype=bool)
            isfix[fix] = True
            # f at y1 and y0 of the rows whose (unclipped) pass must lower
            # it; a clipped row stays clipped and never needs f (NaN)
            chk = np.flatnonzero(~isfix[live])
            f1 = np.full(live.size, np.nan)
            redo = chk
            if chk.size:
                lc = live[chk]
                if 2 * chk.size > live.size:  # most rows: no copies of rows
                    f1[chk] = stress(y1[live], r1, cd_live, cdd[live])[chk]
                else:
                    f1[chk] = stress(y1[lc], r1[chk], cd_live[chk], cdd[lc])
                if f is not None:
                    f0 = f[lc]
                elif 2 * lc.size > len(y0):  # most rows: no copy of r0's rows
                    f0 = stress(y0, r0, cd, cdd)[lc]
                else:
                    f0 = stress(y0[lc], r0[lc], cd_live[chk], cdd[lc])
                redo = chk[f1[chk] > f0]
            if redo.size:  # no decrease with the exact model: redo clipped
                rr = live[redo]
                y1[rr] = _clipped_solve(rr, y0, grad, H, args, far, tol, tiny)
                res[idx[rr]] = y1[rr]
                r1[redo] = dist(y1[rr])
                f1[redo] = np.nan
                isfix[rr] = True
            # the rows whose next step (the Newton step of this pass's
            # system at y1, from the exact gradient there: t and its sums
            # are the next pass's own) is below tol / 2 take it and stop:
            # the pass after it would move them by about that step, and stop
            t = np.divide(cd_live, r1, out=nxt("t", live.size))
            S = None
            if live.size:
                S = _first_sums(t, ctab, table, p)
                g = 2.0 * (S[:, :1] * y1[live] - S[:, 1:])
                A = Hs[live] + 2.0 * Cn[live, None, None] * np.eye(p)
                step = _solve_small(A, g)
                end = np.abs(step).max(axis=1) < _PLACE_STOP * tol
                end[redo] = False  # (their pass solved another system)
                if end.any():
                    res[idx[live[end]]] = y1[live[end]] - step[end]
                    go = np.flatnonzero(~end)
                    live, f1, S = live[go], f1[go], S[go]
                    r1, t = take(r1, go, "r"), take(t, go, "t")
                    cd_live = take(cd_live, go, "cd")
            y, r, f = y1[live], r1, f1
            clip = isfix[live]
            cd = cd_live
            cdd, nb, cn, Cn, cYn, cdn, Tn, Yn, idx = (
                a[live] for a in (cdd, nb, cn, Cn, cYn, cdn, Tn, Yn, idx)
            )
            flat = nb + m * np.arange(live.size)[:, None]
    return out


def _same_as_landmark(D, D_lm):
    """Landmark whose distances each row repeats, with a 0 at it (-1: none).

    The distance transformer gives a sample identical to a training sample
    that sample's row; a clipped Varadhan distance alone can also be 0.
    """
    out = np.full(D.shape[0], -1)
    zero = D == 0.0
    rows = np.flatnonzero(zero.any(axis=1))
    # first zero of each row (a landmark's own row has a single 0 unless
    # sigma > 1 clips near landmarks), then every zero of the rows left
    cols = np.argmax(zero[rows], axis=1)
    same = np.isclose(D[rows], D_lm[cols], rtol=1e-6, atol=0.0).all(axis=1)
    out[rows[same]] = cols[same]
    for r in rows[~same & (zero[rows].sum(axis=1) > 1)]:
        for c in np.flatnonzero(zero[r]):
            if np.allclose(D[r], D_lm[c], rtol=1e-6, atol=0.0):
                out[r] = c
                break
    return out


class HeatGeodesicEmbedding(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Heat-geodesic embedding (Huguet et al., NeurIPS 2023).

    A thin estimator: heat-geodesic distances from
    :class:`manigeo.heat.HeatGeodesicDistance` (density-normalized kernel
    graph, Varadhan-style distances
    ``d_t^2 = -4t log K_t(i, j) + sigma 4t log sqrt(K_t(i, i) K_t(j, j))``),
    metric MDS of the landmark distances (SMACOF started from classical MDS,
    :func:`manigeo.embedding.smacof`), and every non-landmark sample placed by
    minimizing its own stress against the landmarks.  In landmark mode each
    landmark counts for the samples of its cell (those nearest to it), in the
    landmark SMACOF (pair weights ``c_a c_b``) and in the placement (weights
    ``c_a``), so the embedding approximates the full-mode one (all pairs,
    unit weights).

    Parameters
    ----------
    n_components : int, default=2
        Embedding dimension.
    n_neighbors : int, default=10
    t : "auto" or float, default="auto"
        Diffusion time (units of the normalized Laplacian); see
        :class:`manigeo.heat.HeatGeodesicDistance`.
    sigma : float, default=1.0
        Weight of the volume (Harnack) term.
    density : {"normalize", "keep"}, default="normalize"
        Density-invariant diffusion (Coifman-Lafon alpha = 1) or not.
    kernel : {"gaussian", "alpha"}, default="gaussian"
    decay : float, default=40.0
    n_landmarks : "auto", int or None, default="auto"
        ``None``: every sample is a landmark.  int ``m``: ``m`` farthest-point
        landmarks carry SMACOF (weighted by their cell sizes), the others are
        placed against them.
        ``"auto"``: ``None`` up to 2000 samples, else 500 landmarks.
    mds : {"smacof", "classical"}, default="smacof"
        Metric MDS by stress majorization from a classical-MDS start, or
        classical MDS only.
    max_iter : int, default=300
        SMACOF iterations.
    n_jobs : int or None, default=None
        Threads for blocks of heat-kernel columns; None: as many as numpy's
        BLAS may use (``threadpoolctl.threadpool_limits`` caps it).  Results
        do not depend on it.  (The placement of the non-landmark samples runs
        on that many threads too, with the same result on any number.)
    random_state : int, RandomState instance or None, default=None
    verbose : bool, default=False

    Attributes
    ----------
    embedding_ : ndarray of shape (n_samples, n_components)
    heat_distances_ : ndarray of shape (m, m)
        Heat-geodesic distances between the landmarks (all samples or not).
    landmarks_ : ndarray of shape (m,) or None
    landmark_embedding_ : ndarray of shape (m, n_components)
    landmark_weights_ : ndarray of shape (m,)
        Samples each landmark stands for (itself and the samples nearest to
        it); all ones in full mode.
    distance_ : HeatGeodesicDistance
        The fitted distance transformer.
    t_ : float
    t_scores_ : dict
    stress_ : float
        Kruskal stress-1 of the landmark embedding, weighted by
        ``landmark_weights_`` (NaN for classical MDS).
    n_features_in_ : int

    References
    ----------
    G. Huguet et al., "A Heat Diffusion Perspective on Geodesic Preserving
    Dimensionality Reduction", NeurIPS 2023.

    Examples
    --------
    >>> from manigeo.datasets import make_swiss_roll
    >>> from manigeo import HeatGeodesicEmbedding
    >>> X, geo = make_swiss_roll(300, random_state=0)
    >>> Y = HeatGeodesicEmbedding(random_state=0).fit_transform(X)
    >>> Y.shape
    (300, 2)
    """

    _parameter_constraints: dict = {
        **HeatGeodesicDistance._parameter_constraints,
        "n_components": [Interval(numbers.Integral, 1, None, closed="left")],
        "mds": [StrOptions({"smacof", "classical"})],
        "max_iter": [Interval(numbers.Integral, 0, None, closed="left")],
    }

    def __init__(
        self,
        n_components=2,
        *,
        n_neighbors=10,
        t="auto",
        sigma=1.0,
        density="normalize",
        kernel="gaussian",
        decay=40.0,
        n_landmarks="auto",
        mds="smacof",
        max_iter=300,
        n_jobs=None,
        random_state=None,
        verbose=False,
    ):
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.t = t
        self.sigma = sigma
        self.density = density
        self.kernel = kernel
        self.decay = decay
        self.n_landmarks = n_landmarks
        self.mds = mds
        self.max_iter = max_iter
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def _distance_params(self):
        names = HeatGeodesicDistance._get_param_names()
        return {k: getattr(self, k) for k in names}

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the embedding.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored

        Returns
        -------
        self : object
        """
        X = validate_data(self, X, ensure_min_samples=2, dtype=np.float64)
        dist = HeatGeodesicDistance(**self._distance_params()).fit(X)
        geom = dist.geometry_
        D = dist.heat_distances_
        m = D.shape[0]
        if self.n_components >= m:
            raise ValueError(
                f"n_components={self.n_components} must be smaller than the number "
                f"of landmarks ({m}); raise n_landmarks"
            )
        lm = dist.landmarks_
        masses = np.ones(m) if lm is None else _cell_sizes(geom, m)
        if self.mds == "classical":
            Y = classical_mds(D, self.n_components)
            self.stress_ = float("nan")
            self.n_iter_ = 0
        else:
            Y, self.stress_, self.n_iter_ = smacof(
                D,
                self.n_components,
                weights=None if lm is None else masses,
                max_iter=self.max_iter,
                verbose=self.verbose,
                return_stress=True,
            )
        self.distance_ = dist
        self.landmarks_ = lm
        self.heat_distances_ = D
        self.t_ = dist.t_
        self.t_scores_ = dist.t_scores_
        self.landmark_embedding_ = Y
        self.landmark_weights_ = masses
        # the placement's start offsets (fit and every transform)
        self._offsets = _start_offsets(D, Y)
        if lm is None:
            self.embedding_ = Y
        else:
            emb = np.empty((X.shape[0], self.n_components))
            # in cell order on the coarse path (each row is placed on its own)
            rest = geom.cell_order(np.setdiff1d(np.arange(X.shape[0]), lm))
            emb[lm] = Y
            # the distances of the other samples block by block, each placed
            # as it comes (the (n, m) distances are never held); runs of
            # whole blocks on the BLAS thread count's threads (each row is
            # placed on its own and the blocks are the same: same result)
            off = self._offsets
            n_blocks = -(-rest.size // _PLACE_BLOCK)

            def place(lo, hi):
                r = rest[lo * _PLACE_BLOCK : hi * _PLACE_BLOCK]
                blocks = geom.distance_blocks(r, _PLACE_BLOCK)
                emb[r] = _place(blocks, Y, masses, rows=r, offsets=off)

            workers = min(blas_threads(), n_blocks // _PLACE_MIN_BLOCKS)
            run_chunks(place, n_blocks, workers)
            self.embedding_ = emb
        return self

    def fit_transform(self, X, y=None):
        """Fit and return the embedding of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored

        Returns
        -------
        Y : ndarray of shape (n_samples, n_components)
        """
        return self.fit(X).embedding_

    def transform(self, X):
        """Place new samples by their heat-geodesic distances to the landmarks.

        A sample identical to a training sample gets that sample's distances
        (the Nystrom extension of the heat kernel otherwise), then the
        position minimizing its stress against the landmark embedding (each
        landmark weighted by the samples it stands for); a sample identical to
        a landmark gets the landmark's position.  Blocks of rows are placed
        on as many threads as numpy's BLAS may use (the same result on any
        number), and their ``(rows, landmarks)`` distances are never held for
        all rows at once.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or dask array
            A Dask array is transformed lazily, block of rows by block of rows.

        Returns
        -------
        Y : ndarray of shape (n_samples, n_components) (a dask array for dask input)
        """
        check_is_fitted(self)
        if type(X).__module__.split(".")[0] == "dask":
            if X.ndim != 2:
                raise ValueError(f"X must be 2-D, got a dask array of shape {X.shape}")
            X = X.rechunk({1: -1})
            return X.map_blocks(
                lambda b: self.transform(np.asarray(b)),
                chunks=(X.chunks[0], (self.n_components,)),
                dtype=np.float64,
            )
        X = validate_data(self, X, reset=False, dtype=np.float64)
        geom = self.distance_.geometry_
        Y_lm = self.landmark_embedding_
        Y = np.empty((X.shape[0], self.n_components))

        def place(lo, hi):
            # blocks of rows: their (rows, m) distances are the only large
            # arrays, and each row is placed on its own (same result)
            for s in range(lo, hi, _TRANSFORM_BLOCK):
                e = min(hi, s + _TRANSFORM_BLOCK)
                D = geom.distances_to_landmarks(X[s:e])
                same = _same_as_landmark(D, self.heat_distances_)
                Yb = _place(D, Y_lm, self.landmark_weights_, offsets=self._offsets)
                Yb[same >= 0] = Y_lm[same[same >= 0]]
                Y[s:e] = Yb

        n_blocks = -(-X.shape[0] // _TRANSFORM_BLOCK)
        workers = min(blas_threads(), n_blocks)
        run_chunks(
            lambda a, b: place(
                a * _TRANSFORM_BLOCK, min(X.shape[0], b * _TRANSFORM_BLOCK)
            ),
            n_blocks,
            workers,
        )
        return Y

    @property
    def _n_features_out(self):
        """Number of output columns, for ``get_feature_names_out``."""
        return self.embedding_.shape[1]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags
