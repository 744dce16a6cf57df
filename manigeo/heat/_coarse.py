"""Coarse-grained heat kernel for large graphs (the memory- and time-bounded path).

Exact landmark columns cost ``nnz x landmarks x terms`` with ``terms`` at least
the hop diameter (entries far apart need it for relative accuracy), which is
out of reach at ``n = 1e5``.  Above a cost budget the heat kernel is computed
on a coarse graph instead:

1. cells: ``n_cells`` centres (farthest points of a random subsample, so they
   cover the data evenly whatever the density), every sample joins the cell of
   its nearest centre along the kernel graph (multi-source Dijkstra, Euclidean
   edge lengths: cells never cross a gap the graph does not cross);
2. coarse graph ``W_c = A^T W A`` (``A`` the cell indicator matrix, self-loops
   kept) of the *density-normalized* fine weights: the coarse walk is the fine
   walk lumped onto cells, its stationary measure is the cell masses (sums of
   the fine stationary measure), so the alpha = 1 normalisation carries over;
3. physical time: a lumped walk moves farther per unit time than the fine
   walk, so the time is rescaled by the ratio of the two walks' mean squared
   displacement per unit time (``E_pi sum_j P_ij |x_i - x_j|^2``, fine over
   coarse, cell centroids for the coarse walk), ``t_coarse = t * s_fine /
   s_coarse``: ``t`` keeps its meaning (units of the fine normalized
   Laplacian), and ``t="auto"`` scores the same grid of physical times;
4. dense ``n_cells x n_cells`` heat kernel of the coarse graph by the
   non-negative uniformized series and repeated squaring (relative accuracy for
   far entries), at the one time used; ``t="auto"`` scores its grid on the
   probes' pair kernel alone (their spread vectors diffused by the same
   non-negative series, all times from one pass);
5. Nystrom-type extension to every sample: each sample is spread over its own
   cell and the coarse neighbours of that cell with Gaussian weights of its
   distance to their centroids (bandwidth: half the median coarse edge), and
   ``K_t(i, j) = s_i^T K_c s_j``.
"""

import threading

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph
from sklearn.neighbors import NearestNeighbors

from .._backend import blas_threads
from ._graph import _hop_diameter, _length_graph
from ._squaring import _columns, _doubling, _square_sym

_TINY = 1e-300
#: samples drawn before the farthest-point choice of the cell centres
_SUBSAMPLE = 4
#: above this many features the mean squared displacements are measured in as
#: many random directions (the mean of squared distances is kept)
_DIRECTIONS = 16
#: steps between which the mean-squared-displacement slope is measured
_MSD_STEPS = (2, 10)
#: at most this many fine steps for the fine walk's displacement
_MAX_LAG = 50
#: from this many samples on the fine walk's curve is computed on a second
#: thread (numpy's BLAS threads > 1) while the coarse graph is built
#: (Swiss roll n = 1e5, 2 cores near idle: the coarse stage 1.10x faster)
_AHEAD_MIN = 50000


def _spread_centres(X, n_cells, rng, farthest):
    """Farthest points of a random subsample (sorted)."""
    n = X.shape[0]
    sub = np.sort(rng.choice(n, min(n, _SUBSAMPLE * n_cells), replace=False))
    return np.sort(sub[farthest(X[sub], min(n_cells, sub.size), random_state=rng)])


def _add_missing(centres, components):
    """``centres`` and the first sample of every component without one."""
    n_comp, labels = components
    if n_comp > 1:
        missing = np.setdiff1d(np.arange(n_comp), labels[centres])
        first = np.unique(labels, return_index=True)[1]
        centres = np.union1d(centres, first[missing])
    return np.sort(centres)


class _CoarseDiffusion:
    """Heat kernel of the fine walk, lumped onto cells, extended to all samples.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    W : sparse (n, n)
        Density-normalized fine affinity (no self-loops).
    n_cells : int
    rng : RandomState
    farthest : callable
        ``farthest(X, m, random_state=rng)`` -> sorted indices.
    slow : ndarray of shape (n,) or None
        Time change of the fine walk (its measure is ``deg * slow``); the
        lumped walk's measure is the cells' sums of it.
    lengths : sparse (n, n) or None
        The graph of ``W`` with Euclidean edge lengths (same pattern), if the
        affinity built it; None: computed here.
    components : tuple or None
        ``(n_components, labels)`` of ``W`` if known; None: computed here.
    """

    def __init__(
        self, X, W, n_cells, rng, farthest, slow=None, lengths=None, components=None
    ):
        n = X.shape[0]
        W = sp.csr_array(W)
        G = _length_graph(X, W, lengths)
        same = lengths is not None and G is lengths  # (W's pattern)
        centres = _spread_centres(X, n_cells, rng, farthest)
        deg = np.asarray(W.sum(axis=1)).ravel()
        # diffusion speed of each walk: slope of its mean squared displacement
        # (a constant offset such as the noise off the manifold cancels), in a
        # the coordinates (random directions above _DIRECTIONS features)
        Z = X - X.mean(axis=0)
        if X.shape[1] > _DIRECTIONS:
            R = rng.normal(size=(X.shape[1], _DIRECTIONS)) / np.sqrt(_DIRECTIONS)
            Z = Z @ R
        # the fine walk's curve, computed ahead on a second thread while this
        # one builds the cells, the coarse graph and the spread (the values do
        # not depend on them; started once the centres have drawn from rng,
        # which the directions draw from next); at most _MAX_LAG steps
        curve = _Ahead(_msd_curve(W, Z, deg), _MAX_LAG // 2, threaded=n >= _AHEAD_MIN)
        # G is symmetric (lengths equal both ways): the directed search finds
        # the same paths without SciPy's transposed copy, in half the time
        src = None
        if components is None and same:
            # G has the pattern of W: every sample is reached iff every
            # component holds a centre, and then the components are those of
            # the cell graph (each cell is connected: a shortest-path tree),
            # found below without a search over the fine graph
            src = _nearest_source(G, centres)
            if np.any(src < 0):
                src = None
        if src is None:
            if components is None:
                components = csgraph.connected_components(
                    W, directed=True, connection="strong"
                )
            centres = _add_missing(centres, components)
            src = _nearest_source(G, centres)
        m = centres.size
        pos = np.full(n, -1)
        pos[centres] = np.arange(m)
        cell = np.where(src >= 0, pos[np.maximum(src, 0)], -1)
        lost = np.flatnonzero(cell < 0)  # unreachable: cannot happen (see centres)
        if lost.size:
            nn = NearestNeighbors(n_neighbors=1).fit(X[centres])
            cell[lost] = nn.kneighbors(X[lost], return_distance=False)[:, 0]
        A = sp.csr_array((np.ones(n), (np.arange(n), cell)), shape=(n, m))
        Wc = _lump(W, cell, m)
        dc = np.maximum(np.asarray(Wc.sum(axis=1)).ravel(), _TINY)
        Y = np.asarray(A.T @ (deg[:, None] * X)) / dc[:, None]
        Cc = sp.coo_array(Wc)
        off = Cc.row != Cc.col
        r, c = Cc.row[off], Cc.col[off]
        lens2 = ((Y[r] - Y[c]) ** 2).sum(axis=1)
        # the fine walk is measured over the time the coarse walk's steps take
        # (a fine walk's displacement is not linear in time at first: noise
        # thickness and kernel shape), found by one fixed-point step
        Zc = np.asarray(A.T @ (deg[:, None] * Z)) / dc[:, None]
        s_coarse = _msd_slope(Wc, Zc, dc)[0]
        k1, k2 = _MSD_STEPS
        scale = (
            _slope(curve.first(k2 // 2), k1, k2)[0] / s_coarse if s_coarse > 0 else 1.0
        )
        lag = min(max(1.0 / max(scale, 1e-12), 1.0), _MAX_LAG / k2)
        k1, k2 = 2 * int(round(k1 * lag / 2)), 2 * int(round(k2 * lag / 2))
        curve.stop_after(k2 // 2)
        # symmetric normalized Laplacian of the lumped walk (self-loops kept)
        # measure of the lumped walk: M = deg (* slow, the fine time change)
        mc = dc if slow is None else np.maximum(A.T @ (deg * slow), _TINY)
        isq = 1.0 / np.sqrt(mc)
        S = sp.csr_array(sp.diags_array(isq) @ Wc @ sp.diags_array(isq))
        Lc = sp.csr_array(sp.diags_array(dc / mc) - S)
        Lc.sum_duplicates()
        self.L = Lc
        self.deg = mc
        self.vol = float(mc.sum())
        adj = sp.csr_array((np.ones(r.size), (r, c)), shape=(m, m))
        self.hops = _hop_diameter(adj)
        #: connected components of W (those of the cell graph: every cell
        #: lies in one)
        self.n_components = (
            components[0]
            if components is not None
            else csgraph.connected_components(adj, directed=True, connection="strong")[
                0
            ]
        )
        self.centres = centres
        self.cell = cell
        self.centroids = Y
        self.n_cells = m
        # coarse graph with centroid edge lengths (reference paths of t="auto")
        self.lengths = sp.csr_array(
            (np.maximum(np.sqrt(lens2), 1e-12), (r, c)), shape=(m, m)
        )
        h = 0.5 * float(np.median(np.sqrt(lens2))) if lens2.size else 1.0
        self.spread = _spread(X, cell, Y, adj, max(h, 1e-12))
        # K(i, j) = s_i^T K_c s_j is the fine kernel blurred by the cells (their
        # spread about the centroid, once per side) and by the extension (the
        # second moment of s_i about x_i, once per side): that much time is
        # taken off the coarse time (at most half of it)
        w = deg / max(float(deg.sum()), _TINY)
        # (all in the coordinates Z of the displacement, so that a projection's
        # factor cancels)
        var_cell = float(w @ ((Z - Zc[cell]) ** 2).sum(axis=1))
        Sz = np.asarray(self.spread @ Zc)
        second = (
            np.asarray(self.spread @ (Zc**2).sum(axis=1)).ravel()
            - 2.0 * (Z * Sz).sum(axis=1)
            + (Z**2).sum(axis=1)
        )
        var_spread = float(w @ second)
        s_fine, offset = _slope(curve.first(k2 // 2), k1, k2)
        self.time_scale = s_fine / s_coarse if s_coarse > 0 else 1.0
        # the offset of the fine displacement (twice the variance off the
        # manifold, noise) is no blur along it
        noise = 0.5 * offset
        v_cell = max(var_cell - noise, 0.0)
        v_spread = max(var_spread - noise, 0.0)
        self.time_shift = 2.0 * (v_cell + v_spread) / s_fine if s_fine > 0 else 0.0

    def coarse_times(self, times):
        """Coarse-graph times of the fine times ``times`` (blur taken off)."""
        t = np.asarray(times, dtype=np.float64)
        return np.maximum(t - self.time_shift, 0.5 * t) * self.time_scale

    def kernels(self, times):
        """Yield ``(t, K_c)``: dense cell heat densities at increasing fine times."""
        fac = self.vol / np.sqrt(self.deg)
        for t, H in zip(
            times,
            _heat_at(self.L, self.coarse_times(times), self.hops + 8),
            strict=True,
        ):
            yield float(t), H * fac[:, None] * fac[None, :]

    def probe_kernels(self, probes, times):
        """Yield ``(t, S_p K_c S_p^T)`` for the probes ``p`` at increasing fine times.

        The scores of ``t="auto"`` need only the probes' pair kernel: the
        probes' spread vectors (times the density factors) are diffused by the
        positive uniformized series (:func:`~manigeo.heat._squaring._columns`:
        relative accuracy for far pairs, all times from the same products),
        ``n_probes`` columns instead of the dense ``n_cells x n_cells`` kernel
        per time.  The series runs to ``2 hops + 30`` terms at least (entries
        ``hops`` apart need terms well past ``hops`` when ``tau c`` is not
        small: ``hops + 8`` left 6e-7 in the band score of the Swiss roll at
        ``n = 1e5``, ``2 hops + 30`` below 1e-14) and to the Poisson mean plus
        8 standard deviations plus 30 (tail below round-off).
        """
        fac = self.vol / np.sqrt(self.deg)
        B = np.asarray(sp.csr_array(self.spread[probes]).T.toarray()) * fac[:, None]
        taus = self.coarse_times(times)
        c = float(max(self.L.diagonal().max(), _TINY))
        x = taus * c
        terms = np.maximum(
            np.ceil(x + 8.0 * np.sqrt(x) + 30.0), 2 * self.hops + 30
        ).astype(np.int64)
        for t, (_, HB) in zip(
            times, _columns(self.L, B, taus, n_terms=terms, c=c), strict=False
        ):
            Kp = B.T @ HB
            yield float(t), 0.5 * (Kp + Kp.T)

    def reference_paths(self, probes):
        """Shortest paths between the probes' cells (centroid edge lengths)."""
        cp = self.cell[probes]
        uc, inv = np.unique(cp, return_inverse=True)
        D = csgraph.dijkstra(self.lengths, directed=False, indices=uc)
        return D[np.ix_(inv, uc[inv])]

    def columns(self, Kc, landmarks, chunk_size=8192):
        """``K_c s_l`` for the landmarks, (n_cells, m), and the (n,) diagonal.

        The kernel columns of the training samples are ``spread @ K_c s_l``
        (computed by the caller on demand, never stored).
        """
        S = self.spread
        M = np.asarray(S[landmarks] @ Kc).T  # K_c symmetric
        return np.ascontiguousarray(M), _quadratic_rows(S, Kc, chunk_size)


def _quadratic_rows(S, K, chunk_size=16384):
    """``s_i^T K s_i`` for every row of the sparse ``S``.

    Rows with the same support (the spread of one cell: its samples share
    their cell's neighbourhood) share the block ``K[J, J]``: the blocks are
    gathered once per support, and each row costs a small dense quadratic
    form (one gather of ``nnz^2`` values per *support*, not per row).
    """
    S = sp.csr_array(S)
    n = S.shape[0]
    cnt = np.diff(S.indptr)
    m = int(cnt.max()) if n and S.nnz else 0
    if m == 0:
        return np.zeros(n)
    # padded supports (index 0, weight 0) and weights, one row per sample
    flat = np.arange(S.nnz) + np.repeat(m * np.arange(n) - S.indptr[:-1], cnt)
    idx = np.zeros(n * m, dtype=np.int64)
    idx[flat] = S.indices
    idx = idx.reshape(n, m)
    w = np.zeros(n * m)
    w[flat] = S.data
    w = w.reshape(n, m)
    supports, which = _distinct_rows(idx)
    # where the supports are wide (many features: a 10-D blob's spread rows
    # reach hundreds of cells), the gathered blocks (a random gather costs
    # ~10 flops) and the per-row forms cost more than the rows' product with
    # K: then q_i = sum_j S_ij (S K)_ij (5000 samples in 10-D: 12-20 s ->
    # 0.2 s; the Swiss roll at n = 1e5 keeps the blocks)
    if 2.0 * S.nnz * K.shape[0] < (10.0 * len(supports) + n) * float(m) * m:
        return _quadratic_rows_product(S, K)
    blocks = K[supports[:, :, None], supports[:, None, :]]
    out = np.empty(n)
    for s in range(0, n, chunk_size):
        ws = w[s : s + chunk_size]
        kw = np.matmul(blocks[which[s : s + chunk_size]], ws[:, :, None])
        out[s : s + chunk_size] = np.einsum("ij,ij->i", kw[:, :, 0], ws)
    return out


def _quadratic_rows_product(S, K, max_entries=1 << 22):
    """:func:`_quadratic_rows` as ``sum_j S_ij (S K)_ij``, chunks of rows of
    ``S K`` of at most ``max_entries`` values."""
    n = S.shape[0]
    out = np.empty(n)
    step = max(1, max_entries // max(K.shape[1], 1))
    for s in range(0, n, step):
        Ss = S[s : s + step]
        T = np.asarray(Ss @ K)
        rows = np.repeat(np.arange(Ss.shape[0]), np.diff(Ss.indptr))
        out[s : s + step] = np.bincount(
            rows, weights=Ss.data * T[rows, Ss.indices], minlength=Ss.shape[0]
        )
    return out


def _nearest_source(G, sources):
    """Per node, the source nearest along ``G`` (symmetric; -1: unreached)."""
    return csgraph.dijkstra(
        G, directed=True, indices=sources, min_only=True, return_predecessors=True
    )[2]


def _distinct_rows(idx):
    """The distinct rows of the integer array ``idx`` and each row's number
    among them.

    Grouped by a hash of the row (one sort of ``n`` keys, not a lexicographic
    sort of ``n x width``), checked against each group's first row; a
    collision (never seen) falls back to the lexicographic sort.
    """
    mult = np.random.default_rng(0).integers(1, 2**62, size=idx.shape[1]) | 1
    with np.errstate(over="ignore"):
        key = idx @ mult  # wraps around modulo 2^64: a hash
    _, first, which = np.unique(key, return_index=True, return_inverse=True)
    supports = idx[first]
    if np.array_equal(supports[which], idx):
        return supports, which.ravel()
    order = np.lexsort(idx.T[::-1])
    ranked = idx[order]
    new = np.r_[True, np.any(ranked[1:] != ranked[:-1], axis=1)]
    which = np.empty(idx.shape[0], dtype=np.int64)
    which[order] = np.cumsum(new) - 1
    return ranked[new], which


def _heat_at(L, taus, reach):
    """Yield dense ``exp(-tau L)`` for increasing ``taus``, each from the last.

    ``H(tau') = H(tau)^2 H(tau' - 2 tau)`` when ``tau' >= 2 tau`` (one symmetric
    square and one product, all entries non-negative: relative accuracy is
    kept); otherwise from scratch.  The small-time factors are cached.
    """
    cache = {}

    def base(tau):
        # far entries of the product split their hops between the factors in
        # proportion to time: the short factor's series must reach far too
        key = round(float(tau), 12)
        if key not in cache:
            cache[key] = next(_doubling(L, float(tau), 1, reach=reach))[1]
        return cache[key]

    H, prev = None, None
    for tau in taus:
        tau = float(tau)
        if H is not None and tau >= 2.0 * prev * (1 - 1e-12):
            H = _square_sym(H)
            rest = tau - 2.0 * prev
            if rest > 1e-12 * tau:
                H = H @ base(rest)
                H = 0.5 * (H + H.T)
        else:
            H = next(_doubling(L, tau, 1, reach=reach))[1]
        prev = tau
        yield H


class _Ahead:
    """The values of the generator ``gen``, computed ahead of their use on a
    second thread (at most ``limit`` of them) where ``threaded`` and numpy's
    BLAS runs more than one; on demand otherwise.  The same values either
    way."""

    def __init__(self, gen, limit, threaded=True):
        self._gen = gen
        self._limit = limit
        self._values = []
        self._error = None
        self._done = False
        self._cond = threading.Condition()
        self._thread = None
        if threaded and blas_threads() > 1:
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()

    def _run(self):
        try:
            while True:
                with self._cond:
                    if len(self._values) >= self._limit:
                        return
                value = next(self._gen)
                with self._cond:
                    self._values.append(value)
                    self._cond.notify_all()
        except BaseException as exc:  # re-raised in the caller's thread
            with self._cond:
                self._error = exc
        finally:
            with self._cond:
                self._done = True
                self._cond.notify_all()

    def stop_after(self, k):
        """No value past the first ``k`` is needed."""
        with self._cond:
            self._limit = min(self._limit, k)

    def first(self, k):
        """The first ``k`` values (a list)."""
        if self._thread is None:
            while len(self._values) < k:
                self._values.append(next(self._gen))
            return self._values[:k]
        with self._cond:
            self._cond.wait_for(lambda: len(self._values) >= k or self._done)
            if len(self._values) >= k:
                return self._values[:k]
            if self._error is not None:
                raise self._error
        # the thread stopped at its limit: the rest on demand (it is done
        # with the generator)
        while len(self._values) < k:
            self._values.append(next(self._gen))
        return self._values[:k]


def _msd_curve(W, Z, deg):
    """Yield ``E_pi |z_k - z_0|^2`` for ``k = 2, 4, 6, ...`` of the walk ``D^-1 W``.

    The walk is reversible (``P`` self-adjoint in ``L^2(pi)``), so
    ``E_pi |z_2j - z_0|^2 = 2 (|Z|_pi^2 - |P^j Z|_pi^2)``: ``j`` products for
    step ``2j``.  (Renumbering the samples in cell order made each product
    1.4x faster in a warm loop, but building the renumbered graph cost as
    much in a fit: not kept.)
    """
    W = sp.csr_array(W)
    ideg = (1.0 / np.maximum(deg, _TINY))[:, None]
    w = deg / deg.sum()
    V = np.ascontiguousarray(Z - w @ Z)
    sq = V * V
    norm0 = float(np.sum(w @ sq))
    while True:
        # P V = D^-1 (W V): no scaled copy of W; pi-norms by one gemv
        V = W @ V
        V *= ideg
        np.multiply(V, V, out=sq)
        yield 2.0 * (norm0 - float(np.sum(w @ sq)))


def _slope(curve, k1, k2):
    """Slope and offset of the displacement between even steps k1 < k2."""
    slope = max(curve[k2 // 2 - 1] - curve[k1 // 2 - 1], 0.0) / (k2 - k1)
    return slope, max(curve[k1 // 2 - 1] - k1 * slope, 0.0)


def _msd_slope(W, Z, deg, steps=_MSD_STEPS):
    """Displacement slope and offset of the walk ``D^-1 W`` at stationarity."""
    gen = _msd_curve(W, Z, deg)
    curve = [next(gen) for _ in range(steps[1] // 2)]
    return _slope(curve, *steps)


def _lump(W, cell, m):
    """``A^T W A`` (``A`` the (n, m) indicator of ``cell``): the cell graph,
    self-loops kept; one weighted count over cell pairs (dense ``m x m``)."""
    if m * m > 16 * 10**6:
        A = sp.csr_array(
            (np.ones(cell.size), (np.arange(cell.size), cell)), shape=(cell.size, m)
        )
        return sp.csr_array(A.T @ W @ A)
    W = sp.csr_array(W)
    key = np.repeat(cell * m, np.diff(W.indptr))
    key += cell[W.indices]
    dense = np.bincount(key, weights=W.data, minlength=m * m).reshape(m, m)
    return sp.csr_array(dense)


def _spread(X, cell, Y, adj, h, chunk_size=65536):
    """Row-stochastic (n, n_cells): own cell and its coarse neighbours, Gaussian."""
    n, m = X.shape[0], Y.shape[0]
    nb = sp.csr_array(adj + sp.eye_array(m, format="csr"))
    counts = np.diff(nb.indptr)[cell]
    # row i holds the sorted neighbours of its cell: the CSR directly
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    first = indptr[:-1]
    rows = np.repeat(np.arange(n), counts)
    cols = nb.indices[np.arange(rows.size) + np.repeat(nb.indptr[cell] - first, counts)]
    d2 = np.empty(rows.size)  # squared distances to the candidate centroids
    for s in range(0, rows.size, chunk_size):
        sl = slice(s, s + chunk_size)
        diff = np.take(X, rows[sl], axis=0)
        diff -= np.take(Y, cols[sl], axis=0)
        d2[sl] = (diff**2).sum(axis=1)
    # relative to each sample's nearest candidate: never all zero after exp
    w = np.exp(-(d2 - np.repeat(np.minimum.reduceat(d2, first), counts)) / h**2)
    S = sp.csr_array((w, cols, indptr), shape=(n, m))
    rs = np.asarray(S.sum(axis=1)).ravel()
    S.data *= (1.0 / rs)[rows]
    S.eliminate_zeros()  # far candidates whose weight underflows
    return S
