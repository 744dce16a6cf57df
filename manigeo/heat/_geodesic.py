"""Heat-geodesic distances (Huguet et al., NeurIPS 2023), density-invariant.

The pipeline:

1. affinity ``W``: a Gaussian kernel ``exp(-d_ij^2 / (bw_i bw_j))`` on the
   union of the kNN graph and the pairs closer than ``1.4 sqrt(bw_i bw_j)``,
   with ``bw_i = max(eps, r_i)``: ``eps`` the median distance to the
   ``n_neighbors``-th neighbour, ``r_i`` sample i's own (``density="keep"``:
   ``bw = eps`` everywhere; or heatgeo's adaptive alpha-decay kernel).  The
   floor keeps about ``n_neighbors`` neighbours in the sparse regions of a
   non-uniform sample, where a fixed bandwidth starves the walk;
2. ``density="normalize"``: Coifman & Lafon's anisotropic normalisation with
   alpha = 1, ``W_ij / (q_i q_j)`` with ``q`` the kernel degrees, so that the
   random walk's generator tends to the Laplace-Beltrami operator whatever the
   sampling density (without it, the generator is ``Delta + 2 grad log p .
   grad`` and the distances follow the density).  Where the bandwidth is
   floored (Berry & Harlim's variable bandwidth, ``bw ~ p^(-1/d)``) the degree
   is multiplied by ``(bw / eps)^(1 - d/2)`` (``d`` estimated from the kNN
   distances) and the walk is slowed down by ``(bw / eps)^2`` (its measure is
   ``deg (bw / eps)^2``), so the generator is still Laplace-Beltrami;
3. symmetric normalized Laplacian ``L`` and heat kernel ``H_t = exp(-t L)``,
   turned into the density of the walk's heat kernel with respect to its
   stationary measure (the Riemannian volume after step 2),
   ``K_t(i, j) = vol H_t(i, j) / sqrt(deg_i deg_j)``;
4. Varadhan-style distance
   ``d_t(i, j)^2 = max(0, -4t log K_t(i, j) + sigma 4t log V(i, j))`` with the
   volume term ``V(i, j) = sqrt(K_t(i, i) K_t(j, j))``.

Heat kernels are computed with entrywise *relative* accuracy (uniformized
Taylor series with non-negative terms, repeated squaring for the full kernel),
because ``log K_t`` of far-apart nodes needs it.  Distances from a set of
sources (landmarks, probes) are exact columns of the full kernel (the landmark
columns summed in single precision from 2001 samples: relative error below
1e-5), so landmark mode costs no accuracy and uses the same ``t`` as the full
mode.  Above a cost
budget the columns come from a coarse-grained graph instead (see
:mod:`manigeo.heat._coarse`): same physical ``t``, bounded time and memory.
"""

import itertools
import numbers
import threading
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph
from scipy.spatial import cKDTree
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_random_state

from .._backend import blas_threads, run_chunks
from .._validation import (
    check_dense_size,
    check_int,
    check_numeric_dtype,
    check_points,
)
from ..graphs import alpha_decay_kernel, laplacian
from ._coarse import _CoarseDiffusion
from ._graph import _hop_diameter, _length_graph, _pair_dist
from ._squaring import (
    _check_real,
    _columns,
    _columns_at,
    _doubling,
    poisson_terms,
)

_TINY = 1e-300
#: rows per block of the (n, m) distances: 1 MB at 500 landmarks, so the
#: kernel product, log and scaling stay in cache and the result is written once
_ROW_BLOCK = 256
#: the coarse path's kernel rows by one dense product per cell (rows of a cell
#: share their spread's support) where a block holds at least this many rows
#: per cell on average (rows in cell order, ~100 per cell at n = 1e5: 5x
#: faster than the sparse product), else by the sparse product
_CELL_ROWS = 16
#: radius of the fixed-bandwidth graph, in units of the bandwidth.  Measured
#: (distance Spearman, 600 sources): 2.0 short-circuits the noisy Swiss roll
#: (noise 0.5: 0.75-0.99), 1.0 under-smooths the noisy vMF sphere (0.96-0.97);
#: 1.4 gives 0.998-0.999 and 0.991-0.992, 1.7 gives 0.998-0.999 and 0.992-0.994
#: at n = 2000 but short-circuits the Swiss roll at n = 1000 (0.89; 1.4: 0.998).
_RADIUS = 1.4
#: density="normalize" floors the Gaussian bandwidth at each point's k-th
#: neighbour distance (with the matching time change).  Measured (full mode,
#: ``bench_heatgeo.py --heldout``, distance Spearman S x S, seed 0): vMF sphere
#: 0.9919 -> 0.9942 (Isomap 0.9940), S-curve 0.9963 -> 0.9965, tree 0.9957 ->
#: 0.9959.  False: one fixed bandwidth (the round-3 kernel), for comparisons.
_FLOOR = True
#: candidate times of ``t="auto"`` (units of the normalized Laplacian)
T_GRID = 2.0 ** np.arange(0, 8)
#: candidate times of the coarse path: the same grid, continued while the score
#: rises (each time costs one squaring there, not more series terms); at
#: n = 1e5 the Swiss roll's score still rises at 128 and its embedding Spearman
#: is 0.972 at t = 128 against 0.996 at t = 1024
T_GRID_COARSE = 2.0 ** np.arange(0, 13)
#: probe points of ``t="auto"``
N_PROBES = 48
#: landmark columns whose exact series would cost more flops than this (sparse
#: products ``2 nnz x columns x terms``, probes of ``t="auto"`` included) come
#: from the coarse-grained path; about 10 s of sparse products on one core
#: when it was set (round 2: n = 1e4 cost 4e10 exactly, 42 s, and 2 s coarse),
#: about 2 s since the landmark columns are float32 Horner sums on the banded
#: Laplacian (round 7; the same paths are taken).  Above 2000 samples and up
#: to ``4 * _COARSE_CELLS`` the columns stay exact whatever the cost (the
#: held-out cases of ``bench_heatgeo.py --heldout``, n <= 3000, among them):
#: the coarse path there lost 0.005-0.01 of distance Spearman on the
#: non-uniform sphere and chose another t (300-1500 cells).
_EXACT_BUDGET = 2e10
#: from this many samples on, independent parts of the fit (the kernel
#: graph's searches within and across bandwidth groups; the affinity and the
#: landmarks)
#: run side by side on numpy's BLAS threads.  Measured (Swiss roll, 2 cores):
#: at n = 1e5 the affinity 1.07x faster near idle; at 2e4 the overlap is a
#: few ms and a busy second core made it slower
_THREADED_MIN = 50000
#: above this many samples the landmarks are farthest points of a random pool
_LANDMARK_POOL = 20000
#: cells of the coarse path (a dense ``cells**2`` heat kernel): one per
#: ``_SAMPLES_PER_CELL`` samples, between half of ``_COARSE_CELLS`` and all of it.
#: Measured at n = 1e4 (landmark-distance Spearman, S-curve / vMF sphere; Swiss
#: roll embedding): 500 cells 0.9962 / 0.9895; 0.9913 in half the time of
#: 1000 cells' 0.9964 / 0.9909; 0.9966 (769 cells: 0.9957).
_COARSE_CELLS = 1000
_SAMPLES_PER_CELL = 10
#: from this many samples on, the landmark columns (one time) are summed in
#: single precision (:func:`~manigeo.heat._squaring._columns_at`: relative
#: error below 1e-5, ``d^2`` within ``4e-5 t``; measured 9e-7 and 4e-4 at
#: t = 128 on the Swiss roll, n = 3000 and 6000), 1.55x faster; below it
#: (every ``n_landmarks="auto"`` fit up to 2000 samples is in full mode) in
#: double precision, equal to the full mode's kernel to 1e-12
_SINGLE_MIN = 2001
KERNELS = ("gaussian", "alpha")
DENSITIES = ("normalize", "keep")


# -- parameter checks ---------------------------------------------------------------


def _check_t(t):
    if isinstance(t, str):
        if t != "auto":
            raise ValueError(f"t must be 'auto' or a positive number, got {t!r}")
        return t
    if isinstance(t, bool) or not isinstance(t, numbers.Real):
        raise TypeError(f"t must be 'auto' or a positive number, got {t!r}")
    t = float(t)
    if not (np.isfinite(t) and t > 0):
        raise ValueError(
            f"t must be a positive finite diffusion time (or 'auto'), got {t}"
        )
    return t


def _check_options(n_neighbors, kernel, decay, density, sigma):
    check_int(n_neighbors, "n_neighbors", minimum=1)
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")
    if density not in DENSITIES:
        raise ValueError(f"density must be one of {DENSITIES}, got {density!r}")
    for name, value, low in (("decay", decay, 0.0), ("sigma", sigma, None)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name} must be a real number, got {value!r}")
        if not np.isfinite(value) or (low is not None and value <= low):
            raise ValueError(f"{name} must be finite and positive, got {value}")
    if sigma < 0:
        raise ValueError(f"sigma must be non-negative, got {sigma}")


# -- affinity -----------------------------------------------------------------------

#: Up to this many features the neighbour searches use SciPy's k-d tree on all
#: cores (2-4x faster than scikit-learn's at n = 1e5 in 3-D); above it a k-d
#: tree loses to scikit-learn's brute-force/ball-tree choice.
_KD_MAX_DIM = 12


def _workers(n_queries):
    """All cores for a large batch of k-d tree queries; one for a small batch
    (starting threads costs more than it saves)."""
    return -1 if n_queries >= 4096 else 1


class _NeighborIndex:
    """Euclidean k-NN and radius searches over the training samples.

    SciPy's :class:`~scipy.spatial.cKDTree` (``workers=-1``) in low dimension,
    :class:`sklearn.neighbors.NearestNeighbors` otherwise; both give the same
    neighbours (up to the order of exact ties) and distances.
    """

    def __init__(self, X):
        self.kd = X.shape[1] <= _KD_MAX_DIM
        if self.kd:
            self.tree = cKDTree(X)
            self.X = X
        else:
            self.nn = NearestNeighbors().fit(X)

    def leaf_order(self, rows=None):
        """The training samples ``rows`` (all by default) in the k-d tree's
        leaf order: queried in this order, consecutive searches visit the
        same nodes (the kNN of the training set at n = 1e5 in 3-D: 1.6x less
        CPU), with the same results."""
        if rows is None:
            return self.tree.indices
        rank = np.empty(self.tree.n, dtype=np.int64)
        rank[self.tree.indices] = np.arange(self.tree.n)
        return rows[np.argsort(rank[rows])]

    def kneighbors(self, Q, n_neighbors, order=None):
        """``(dist, ind)`` of the ``n_neighbors`` nearest samples, nearest first.

        ``order``: a permutation of the rows of ``Q`` to search them in (k-d
        tree; the results come in the order of ``Q``).
        """
        if not self.kd:
            return self.nn.kneighbors(Q, n_neighbors=n_neighbors)
        workers = _workers(len(Q))
        if order is None:
            dist, ind = self.tree.query(Q, k=n_neighbors, workers=workers)
        else:
            d, i = self.tree.query(Q[order], k=n_neighbors, workers=workers)
            dist, ind = np.empty_like(d), np.empty_like(i)
            dist[order], ind[order] = d, i
        if n_neighbors == 1:
            dist, ind = dist[:, None], ind[:, None]
        return dist, ind.astype(np.int64, copy=False)

    def radius_pairs(self, Q, radius):
        """Flat ``(rows, cols, dist)`` of all pairs within ``radius``.

        ``radius``: a float, or one per row of ``Q`` (k-d tree only).
        """
        if self.kd:
            hits = self.tree.query_ball_point(
                Q, radius, workers=_workers(len(Q)), return_sorted=False
            )
            lens = np.fromiter(map(len, hits), dtype=np.int64, count=len(hits))
            rows = np.repeat(np.arange(len(hits)), lens)
            cols = np.fromiter(
                itertools.chain.from_iterable(hits),
                dtype=np.int64,
                count=int(lens.sum()),
            )
            diff = Q[rows] - self.X[cols]
            dist = np.sqrt(np.einsum("ij,ij->i", diff, diff))
            return rows, cols, dist
        rd, ri = self.nn.radius_neighbors(Q, radius=radius)
        lens = np.fromiter(map(len, ri), dtype=np.int64, count=len(ri))
        if not lens.sum():
            return (np.zeros(0, np.int64),) * 2 + (np.zeros(0),)
        rows = np.repeat(np.arange(len(ri)), lens)
        return rows, np.concatenate(ri).astype(np.int64), np.concatenate(rd)


class _Affinity:
    """The kernel graph of the training points and its out-of-sample extension."""

    def __init__(self, n_neighbors, kernel, decay, density):
        self.n_neighbors = n_neighbors
        self.kernel = kernel
        self.decay = decay
        self.density = density

    def fit(self, X):
        n = X.shape[0]
        k = self.n_neighbors
        if k >= n:
            raise ValueError(
                f"n_neighbors={k} must be smaller than the number of samples ({n})"
            )
        self.X_ = X  # a reference, to recognise training samples in weights()
        self.nn_ = _NeighborIndex(X)
        adaptive = _FLOOR and self.density == "normalize"
        order = self.nn_.leaf_order() if self.nn_.kd else None
        dist, ind = self.nn_.kneighbors(X, n_neighbors=k + 1, order=order)
        # drop each point itself (a duplicate may come first)
        if np.array_equal(ind[:, 0], np.arange(n)):  # the usual case: first
            dist = np.ascontiguousarray(dist[:, 1:])
            ind = np.ascontiguousarray(ind[:, 1:])
        else:
            own = ind == np.arange(n)[:, None]
            own[own.sum(axis=1) == 0, -1] = True
            dist = dist[~own].reshape(n, k)
            ind = ind[~own].reshape(n, k)
        self.kdist_ = dist[:, -1].copy()
        eps = float(np.median(self.kdist_))
        if not eps > 0:
            raise ValueError(
                f"the median distance to the {k}-th nearest neighbour is 0: more than "
                f"half of the samples have {k} or more exact duplicates (identical "
                "points carry no geometry; remove duplicates or raise n_neighbors)"
            )
        self.eps_ = eps
        self.slow_ = None
        # the graph with Euclidean edge lengths, where built with the kernel
        self.lengths_ = None
        if self.kernel == "alpha":
            W = sp.csr_array(alpha_decay_kernel(X, k, decay=self.decay))
        else:
            # density="normalize": bandwidth floored at each point's own k-th
            # neighbour distance, so the sparse regions of a non-uniform sample
            # keep ~k neighbours ("keep": one fixed bandwidth, the plain walk)
            floor = self.kdist_ if adaptive else 0.0
            self.bw_ = np.maximum(floor, np.full(n, eps))
            dim = _intrinsic_dim(dist)
            if self.nn_.kd:
                W, self.lengths_ = _kd_kernel_graph(self.nn_, X, ind, dist, self.bw_)
            else:
                rows, cols, vals = _candidate_pairs(self.nn_, X, ind, dist, self.bw_)
                W = _gaussian_weights(
                    rows, cols, vals, self.bw_, self.bw_, (n, n), drop_self=True
                )
                W = _max_sym(W)
            # ... with the matching time change: the walk leaves i at rate
            # 1 / slow_i, so it covers the same distance per unit time where
            # its steps are longer (without it the sparse regions diffuse
            # faster and their heat distances shrink)
            if adaptive:
                self.slow_ = (self.bw_ / eps) ** 2
                self.dim_ = dim
        self.q_ = 1.0 + np.asarray(W.sum(axis=1)).ravel()
        if self.slow_ is not None:
            self.q_ *= self._q_factor(self.bw_)
        if self.density == "normalize":
            # W_ij / (q_i q_j) in place on the CSR values (W is a new array;
            # one product q_i q_j keeps W symmetric to the bit)
            iq = 1.0 / self.q_
            scale = np.repeat(iq, np.diff(W.indptr))
            scale *= np.take(iq, W.indices)
            W.data *= scale
        self.W_ = W
        self._components = None
        return self

    def components(self):
        """``(n_components, labels)`` of the graph (computed once).

        ``W_`` is symmetric: its strong components are the connected ones, and
        the directed search needs no transposed copy (1.8x faster at 1e5)."""
        if getattr(self, "_components", None) is None:
            self._components = csgraph.connected_components(
                self.W_, directed=True, connection="strong"
            )
        return self._components

    def release_fit_graph(self):
        """Drop the fit-time graph facts (edge lengths: nnz floats; components),
        which are not fitted state."""
        self.lengths_ = None
        self._components = None

    def _q_factor(self, bw):
        """Factor of the degrees of the floored kernel (1 where it is not floored).

        Where the bandwidth follows the k-th neighbour distance (``bw ~ p^(-1/d)``,
        Berry & Harlim's ``beta = -1/d``) the raw degree ``~ p bw^d`` no longer
        measures the density; the generator is the Laplace-Beltrami operator
        (drift ``2 - 2 alpha + d beta + 2 beta = 0``) with ``alpha = 1/2 - 1/d``
        on the density ``p ~ deg / bw^d``, i.e. the degree times
        ``(bw / eps)^(1 - d/2)`` (1 for d = 2).
        """
        return (bw / self.eps_) ** (1.0 - 0.5 * self.dim_)

    def weights(self, X):
        """Row-stochastic (n_new, n_train) one-step transition to training samples."""
        n_train = self.q_.shape[0]
        k = min(self.n_neighbors, n_train)
        if self.kernel == "alpha":
            dist, ind = self.nn_.kneighbors(X, n_neighbors=k)
            sig = np.maximum(dist[:, -1:], _TINY)
            w = np.exp(-((dist / sig) ** self.decay))
            rows = np.repeat(np.arange(X.shape[0]), k)
            cols, w = ind.ravel(), w.ravel()
            d0 = dist[:, 0]
        else:
            dist, ind = self.nn_.kneighbors(X, n_neighbors=k)
            floor = dist[:, -1] if self.slow_ is not None else 0.0
            bw = np.maximum(floor, np.full(X.shape[0], self.eps_))
            rows, cols, d = _candidate_pairs(self.nn_, X, ind, dist, bw, self.bw_)
            P = _gaussian_weights(rows, cols, d, bw, self.bw_, (X.shape[0], n_train))
            rows, cols, w = P.row, P.col, P.data
            d0 = dist[:, 0]
        P = sp.csr_array(sp.coo_array((w, (rows, cols)), shape=(X.shape[0], n_train)))
        P = _max_sym(P, symmetric=False)
        if self.density == "normalize":
            qx = 1.0 + np.asarray(P.sum(axis=1)).ravel()
            if self.slow_ is not None:
                qx *= self._q_factor(bw)
            P = sp.csr_array(
                sp.diags_array(1.0 / qx) @ P @ sp.diags_array(1.0 / self.q_)
            )
        # a point identical to a training sample is that sample (compared
        # exactly: the kNN search's distances carry a rounding error of order
        # 1e-8 |x| in many dimensions, where 1e-12 eps missed 1 row in 5)
        near = ind[:, 0]
        exact = np.flatnonzero(
            (d0 <= 1e-6 * self.eps_) & np.all(X == self.X_[near], axis=1)
        )
        if exact.size:
            P = sp.lil_array(P)
            P[exact] = 0.0
            P[exact, ind[exact, 0]] = 1.0
            P = sp.csr_array(P)
        rs = np.asarray(P.sum(axis=1)).ravel()
        return sp.csr_array(sp.diags_array(1.0 / np.maximum(rs, _TINY)) @ P)


def _intrinsic_dim(dist):
    """Intrinsic dimension from the k-th over the (k/2)-th neighbour distance
    (``2^(1/d)`` for a uniform d-dimensional sample): median over the samples,
    clipped to ``[1, 8]``."""
    k = dist.shape[1]
    if k < 2:
        return 2.0
    r = dist[:, -1] / np.maximum(dist[:, k // 2 - 1], _TINY)
    r = r[np.isfinite(r) & (r > 1.0)]
    if not r.size:
        return 2.0
    d = np.log(k / (k // 2)) / np.log(np.median(r))
    return float(np.clip(d, 1.0, 8.0))


#: bandwidth ratio within a group of :func:`_kd_kernel_graph`'s searches.
#: Measured (n = 1e5, CPU seconds of the graph, best of 5; the all-pairs
#: search plus a ball search per wide row before: 0.83 / 0.30 / 0.62):
#: non-uniform sphere 1.2: 0.67-0.79, 1.3: 0.60, 1.4: 0.57, 1.55: 0.59,
#: 1.75: 0.62; Swiss roll 0.37-0.40, 0.32-0.35, 0.40, 0.40, 0.38; S-curve
#: (noise 0.1) 0.55, 0.53, 0.51, 0.56, 0.59.  Smaller ratios: more
#: searches across groups (1.15: 66 on the sphere), larger: more pairs found
#: per pair kept.
_GROUP_RATIO = 1.35
#: the widest groups smaller than this fraction of the samples are merged
#: (a search across two groups costs ~1 microsecond per pair for a group of
#: a few hundred rows against a large one, 0.1-0.2 for large groups)
_GROUP_MIN = 1 / 64


def _bandwidth_groups(bw):
    """The samples grouped by bandwidth, as index arrays (narrowest first):
    those at the smallest bandwidth (the floor ``eps``: half of a
    ``density="normalize"`` sample, all of a ``"keep"`` one), classes of
    ratio ``_GROUP_RATIO`` above it, and the widest classes with fewer than
    ``_GROUP_MIN`` of the samples as one."""
    lo = float(bw.min())
    key = np.zeros(bw.size, dtype=np.int64)
    up = bw > lo
    key[up] = 1 + np.floor(np.log(bw[up] / lo) / np.log(_GROUP_RATIO)).astype(np.int64)
    order = np.argsort(key, kind="stable")
    sk = key[order]
    starts = np.flatnonzero(np.r_[True, sk[1:] != sk[:-1]])
    groups = np.split(order, starts[1:])
    tail = []
    while len(groups) > 1 and sum(g.size for g in tail) < _GROUP_MIN * bw.size:
        tail.append(groups.pop())
    if tail:
        groups.append(np.concatenate(tail[::-1]))
    return groups


def _kd_kernel_graph(nn, X, ind, dist, bw):
    """Symmetric Gaussian kernel graph of the training set on the k-d tree.

    The graph of :func:`_candidate_pairs` + :func:`_gaussian_weights` +
    :func:`_max_sym`: the k-NN pairs (``ind``, each row's k nearest other
    samples) and the pairs within ``_RADIUS sqrt(bw_i bw_j)``, weight
    ``exp(-d^2 / (bw_i bw_j))``, built from each unordered pair once (no
    duplicates to collapse; ``dist``: the k-NN distances):

    * the samples are grouped by bandwidth (:func:`_bandwidth_groups`); every
      pair of groups ``(p, q)`` is searched once by a dual-tree traversal
      (``query_pairs`` within a group, ``sparse_distance_matrix`` across two;
      arrays out, the searches within groups on a second thread), to the
      radius ``_RADIUS sqrt(top_p top_q)`` of the groups' largest bandwidths
      (a hair above: the searches round on their own), and cut at each
      pair's own radius: every pair is found exactly once (no duplicates, no
      search per row);
    * the k-NN pairs that fail the cut are added.

    Every distance comes from :func:`_pair_dist` (the same value from both
    ends).  Returns ``W`` and the same graph with the Euclidean edge lengths
    (floored at 1e-12, as :func:`~manigeo.heat._graph._edge_lengths`).
    """
    n, k = ind.shape
    # int32 node numbers throughout (half the index traffic; SciPy keeps them)
    idx = np.int32 if n < 2**31 - 1 else np.int64
    groups = [g.astype(idx) for g in _bandwidth_groups(bw)]
    tops = [float(bw[g].max()) for g in groups]
    trees = [nn.tree] if len(groups) == 1 else [None] * len(groups)
    locks = [threading.Lock() for _ in groups]

    def tree(p):
        # built on first use, once (both threads may ask for it)
        with locks[p]:
            if trees[p] is None:
                trees[p] = cKDTree(X[groups[p]])
        return trees[p]

    def search(p, q):
        radius = _RADIUS * np.sqrt(tops[p] * tops[q]) * (1.0 + 1e-9)
        gp, gq = groups[p], groups[q]
        if p == q:
            pairs = tree(p).query_pairs(radius, output_type="ndarray")
            a, b = pairs[:, 0], pairs[:, 1]
        else:
            pairs = tree(p).sparse_distance_matrix(
                tree(q), radius, output_type="ndarray"
            )
            a, b = pairs["i"], pairs["j"]
        if len(groups) > 1:  # (node numbers of the group's tree -> samples)
            a, b = np.take(gp, a), np.take(gq, b)
        a, b = a.astype(idx, copy=False), b.astype(idx, copy=False)
        del pairs
        d = _pair_dist(X, a, b)
        # bw_i bw_j once per pair: the cut and the weight (same product)
        prod = np.take(bw, a)
        prod *= np.take(bw, b)
        cut = np.sqrt(prod)
        cut *= _RADIUS
        ok = d <= cut
        del cut
        return a[ok], b[ok], d[ok], prod[ok]

    def knn_pairs():
        # k-NN pairs that fail the cut (the others are found by the searches):
        # the close calls by _pair_dist (the search's distances agree to
        # round-off)
        cut = _RADIUS * np.sqrt(bw[:, None] * bw[ind])
        near = np.flatnonzero(dist.ravel() > (1.0 - 1e-9) * cut.ravel())
        r, c = near // k, ind.ravel()[near]
        lo, hi = np.minimum(r, c), np.maximum(r, c)
        dk = _pair_dist(X, lo, hi)
        pk = bw[lo] * bw[hi]
        ok = dk > _RADIUS * np.sqrt(pk)
        return _unique_pairs(lo[ok], hi[ok], dk[ok], pk[ok], n)

    # the searches within a group (query_pairs releases the GIL) and the
    # k-NN pairs on a second thread, those across groups
    # (sparse_distance_matrix holds it) on this one; the parts are disjoint,
    # so their order does not matter (the CSR below sorts each row)
    ng = len(groups)
    parts = _concurrently(
        [
            lambda: [search(p, q) for p in range(ng) for q in range(p)],
            lambda: [search(p, p) for p in range(ng)] + [knn_pairs()],
        ],
        big=n >= _THREADED_MIN,
    )
    parts = parts[1] + parts[0]
    a, b, d, w = (np.concatenate(p) for p in zip(*parts, strict=True))
    del parts
    a, b = a.astype(idx, copy=False), b.astype(idx, copy=False)
    # w = exp(-d^2 / (bw_a bw_b)), in place over the product
    np.divide(np.square(d), w, out=w)
    np.negative(w, out=w)
    np.exp(w, out=w)
    if not np.all(w > 0):  # underflow: no edge (as a sparse sum would drop it)
        a, b, d, w = (v[w > 0] for v in (a, b, d, w))
    # the symmetric CSR: both directions of the pairs (each unordered pair
    # once: no duplicates), each entry carrying its pair number; rows sorted by two
    # counting passes (COO -> CSR as given, then its transpose, which is
    # the same matrix with sorted rows), not a sort of every row
    m = a.size
    pair = np.arange(2 * m, dtype=idx if 2 * m < 2**31 - 1 else np.int64)
    pair[m:] -= m
    U = sp.coo_array(
        (pair, (np.concatenate([a, b]), np.concatenate([b, a]))), shape=(n, n)
    )
    del a, b
    U.has_canonical_format = True  # no duplicates: no sort, no sum
    U = U.tocsr().tocsc()
    pair = U.data

    def lengths():
        length = np.take(d, pair)
        return np.maximum(length, 1e-12, out=length)

    weight, length = _concurrently(
        [lambda: np.take(w, pair), lengths], big=n >= _THREADED_MIN
    )
    W = sp.csr_array((weight, U.indices, U.indptr), shape=(n, n))
    lengths = sp.csr_array((length, U.indices, U.indptr), shape=(n, n))
    return W, lengths


def _concurrently(tasks, big=True):
    """The results of the callables ``tasks``, run on numpy's BLAS threads
    (:func:`~manigeo._backend.run_chunks`; the first in this thread) where
    the work is ``big``; one after the other where it is not or where that
    is one thread."""
    if not big or min(len(tasks), blas_threads()) <= 1:
        return [task() for task in tasks]
    return run_chunks(
        lambda i, _: tasks[i](), len(tasks), len(tasks), blas_single=False
    )


def _unique_pairs(a, b, d, p, n):
    """The distinct ``(a, b, d, p)`` (same pair, same distance and product)."""
    _, first = np.unique(a.astype(np.int64) * n + b, return_index=True)
    return a[first], b[first], d[first], p[first]


def _candidate_pairs(nn, X, ind, dist, bw, bw_train=None):
    """kNN pairs and pairs within ``_RADIUS sqrt(bw_i bw_j)`` of each other.

    ``ind``, ``dist``: the k nearest training samples of the rows of ``X``;
    ``bw``: the rows' bandwidths; ``bw_train``: the training samples' (None:
    ``X`` is the training set).  Row ``i`` searches the radius ``_RADIUS
    max(bw_i, bw_j over its k neighbours)`` (k-d tree: one search with a radius
    per row; else rows grouped by that radius within a factor 1.1, one search
    per group) and the pairs are cut at the exact
    radius and at the row's own reach.  On the training set a pair missed from
    one end is found from the other (the end with the larger bandwidth
    searches far enough); there the k-d tree builds the graph with
    :func:`_kd_kernel_graph` instead (same graph).
    """
    n, k = ind.shape
    train = bw if bw_train is None else bw_train
    rows = [np.repeat(np.arange(n), k)]
    cols = [ind.ravel()]
    vals = [dist.ravel()]
    reach = np.maximum(bw, train[ind].max(axis=1))
    if nn.kd:
        # the k-d tree takes one radius per row: one search
        groups = [(np.arange(n), _RADIUS * reach)]
    else:
        lo = float(reach.min())
        key = np.floor(np.log(reach / lo) / np.log(1.1)).astype(np.int64)
        order = np.argsort(key, kind="stable")
        starts = np.flatnonzero(np.r_[True, key[order][1:] != key[order][:-1]])
        groups = [
            (members, _RADIUS * float(reach[members].max()))
            for members in np.split(order, starts[1:])
        ]
    for members, radius in groups:
        r, c, d = nn.radius_pairs(X[members], radius)
        if not r.size:
            continue
        r = members[r]
        # (cut at the row's own reach too: the result is the same whatever
        # the grouping, e.g. for blocks of rows)
        keep = (d <= _RADIUS * np.sqrt(bw[r] * train[c])) & (d <= _RADIUS * reach[r])
        rows.append(r[keep])
        cols.append(c[keep])
        vals.append(d[keep])
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)


def _gaussian_weights(rows, cols, dist, bw_rows, bw_cols, shape, drop_self=False):
    """``exp(-d^2 / (bw_i bw_j))`` as a COO array."""
    keep = rows != cols if drop_self else np.ones(rows.size, dtype=bool)
    r, c = rows[keep], cols[keep]
    w = np.exp(-(dist[keep] ** 2) / (bw_rows[r] * bw_cols[c]))
    return sp.coo_array((w, (r, c)), shape=shape)


def _max_sym(W, symmetric=True):
    """Collapse duplicate (i, j) entries by their max; symmetrize by max."""
    W = sp.coo_array(W)
    n_cols = W.shape[1]
    key = W.row.astype(np.int64) * n_cols + W.col
    order = np.argsort(key, kind="stable")
    key = key[order]
    first = np.ones(key.size, dtype=bool)
    first[1:] = key[1:] != key[:-1]
    starts = np.flatnonzero(first)
    data = np.maximum.reduceat(W.data[order], starts) if key.size else W.data
    key = key[starts]
    W = sp.csr_array((data, (key // n_cols, key % n_cols)), shape=W.shape)
    if symmetric:
        W = sp.csr_array(W.maximum(W.T))
    return W


def heat_affinity(
    X,
    n_neighbors: int = 10,
    *,
    kernel: str = "gaussian",
    decay: float = 40.0,
    density: str = "normalize",
):
    """Sparse affinity graph whose random walk carries the heat-geodesic distances.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    n_neighbors : int, default=10
        ``kernel="gaussian"``: ``W_ij = exp(-d_ij^2 / (bw_i bw_j))`` on the
        union of the kNN graph and the pairs closer than ``1.4 sqrt(bw_i
        bw_j)``; ``bw_i`` is the median distance to the ``n_neighbors``-th
        neighbour, floored at sample i's own with ``density="normalize"``.
        ``kernel="alpha"``: heatgeo's adaptive alpha-decay kernel.
    kernel : {"gaussian", "alpha"}, default="gaussian"
    decay : float, default=40.0
        Exponent of the alpha-decay kernel.
    density : {"normalize", "keep"}, default="normalize"
        ``"normalize"`` divides ``W_ij`` by ``q_i q_j`` (``q`` the kernel
        degrees, Coifman & Lafon alpha = 1; where the bandwidth is floored,
        times ``(bw / eps)^(1 - d/2)``, Berry & Harlim) so the walk's generator
        tends to the Laplace-Beltrami operator whatever the sampling density.
        The heat distances also slow the walk down by ``(bw / eps)^2`` where
        the bandwidth is floored (a time change, not part of ``W``).

    Returns
    -------
    W : scipy.sparse.csr_array of shape (n_samples, n_samples)
        Symmetric, non-negative, zero diagonal.

    Examples
    --------
    >>> from manigeo.datasets import make_sphere
    >>> from manigeo.heat import heat_affinity
    >>> X, _ = make_sphere(200, random_state=0)
    >>> W = heat_affinity(X, 10)
    >>> W.shape, bool(abs(W - W.T).max() == 0)
    ((200, 200), True)
    """
    X = check_points(X, min_samples=2)
    _check_options(n_neighbors, kernel, decay, density, 1.0)
    return _Affinity(n_neighbors, kernel, decay, density).fit(X).W_


# -- distances from heat kernels ----------------------------------------------------


def varadhan_distance(K, diag_rows, diag_cols, t, sigma=1.0):
    """Heat-geodesic distances from heat-kernel density values.

    ``d^2 = max(0, -4t (log K_ij - sigma log sqrt(K_ii K_jj)))``.

    Parameters
    ----------
    K : ndarray of shape (n_rows, n_cols)
        Heat-kernel density values ``K_t(i, j)``.
    diag_rows : ndarray of shape (n_rows,)
        ``K_t(i, i)``.
    diag_cols : ndarray of shape (n_cols,)
        ``K_t(j, j)``.
    t : float
    sigma : float, default=1.0
        Weight of the volume term (1 removes the ``(4 pi t)^(-d/2)`` factor of a
        Euclidean heat kernel exactly; 0 is the plain Varadhan formula).

    Returns
    -------
    D : ndarray of shape (n_rows, n_cols)

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo.heat import varadhan_distance
    >>> t, x = 0.5, np.linspace(-2, 2, 5)
    >>> K = np.exp(-np.subtract.outer(x, x) ** 2 / (4 * t)) / np.sqrt(4 * np.pi * t)
    >>> D = varadhan_distance(K, np.diag(K), np.diag(K), t)
    >>> bool(np.allclose(D, np.abs(np.subtract.outer(x, x))))
    True
    """
    t = _check_real(t, "t", positive=True)
    sigma = _check_real(sigma, "sigma")
    K = _check_kernel_values(K, "K", 2)
    n_rows, n_cols = K.shape
    dr = _check_kernel_values(diag_rows, "diag_rows", 1, n_rows)
    dc = _check_kernel_values(diag_cols, "diag_cols", 1, n_cols)
    lr = np.log(np.maximum(dr, _TINY))
    lc = np.log(np.maximum(dc, _TINY))
    # a new array (the input is never modified), then the one formula in place
    return _varadhan_inplace(np.maximum(K, _TINY), lr, lc, t, sigma)


def _varadhan_inplace(K, log_rows, log_cols, t, sigma):
    """:func:`varadhan_distance` of trusted values, in place in ``K`` (no copies:
    the ``n x landmarks`` distances of a large fit are its largest array).
    ``tests/heat/test_coarse.py`` checks it equals :func:`varadhan_distance`."""
    np.maximum(K, _TINY, out=K)
    np.log(K, out=K)
    K -= (0.5 * sigma) * log_rows[:, None]
    K -= (0.5 * sigma) * log_cols[None, :]
    K *= -4.0 * t
    np.maximum(K, 0.0, out=K)
    return np.sqrt(K, out=K)


def _varadhan_scaled(K, t, out=None):
    """``sqrt(-4t log min(K, 1))`` of the scaled kernel values ``K = K_t(i, j) /
    sqrt(K_t(i, i) K_t(j, j))^sigma`` (all ``>= _TINY``), in place in ``K``
    but for the square root (into ``out``): :func:`varadhan_distance` with the
    diagonal terms folded into ``K`` (four passes; ``K`` of a cache-sized
    block, ``out`` written once)."""
    np.minimum(K, 1.0, out=K)
    np.log(K, out=K)
    K *= -4.0 * t
    return np.sqrt(K, out=K if out is None else out)


def _check_kernel_values(K, name, ndim, size=None):
    """Finite real heat-kernel values of the given ndim (and length)."""
    check_numeric_dtype(K, name=name)
    K = np.asarray(K, dtype=np.float64)
    if K.ndim != ndim or (size is not None and K.shape[0] != size):
        want = "a 2-D array" if ndim == 2 else f"shape ({size},)"
        raise ValueError(f"{name} must be {want}, got shape {K.shape}")
    if not np.all(np.isfinite(K)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return K


def farthest_points(X, m, *, random_state=None):
    """Greedy farthest-point sample of ``m`` rows of ``X`` (sorted indices).

    Starts from a random row; each next point is the one farthest (Euclidean)
    from those already chosen, so the sample covers the data evenly whatever
    the sampling density.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    m : int
        Number of points, at most ``n_samples``.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    idx : ndarray of shape (m,)

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo.heat import farthest_points
    >>> X = np.array([[0.0], [0.1], [0.2], [5.0], [10.0]])
    >>> farthest_points(X, 3, random_state=0)
    array([0, 3, 4])
    """
    X = check_points(X)
    n = X.shape[0]
    m = check_int(m, "m", minimum=1, maximum=n)
    rng = check_random_state(random_state)
    chosen = np.empty(m, dtype=np.int64)
    chosen[0] = rng.randint(n)
    # squared distances (same order), one coordinate at a time into two
    # buffers: no (n, n_features) temporary per step
    cols = np.ascontiguousarray(X.T)
    d2, new, tmp = np.empty(n), np.empty(n), np.empty(n)
    _sq_dist(cols, chosen[0], d2, tmp)
    for i in range(1, m):
        j = int(np.argmax(d2))
        chosen[i] = j
        np.minimum(d2, _sq_dist(cols, j, new, tmp), out=d2)
    return np.sort(chosen)


def _sq_dist(cols, j, out, tmp):
    """Squared distances of every sample to sample ``j`` into ``out``
    (``cols``: the coordinates, ``X.T``; ``tmp``: a buffer)."""
    np.subtract(cols[0], cols[0, j], out=out)
    out *= out
    for c in cols[1:]:
        np.subtract(c, c[j], out=tmp)
        tmp *= tmp
        out += tmp
    return out


class _Diffusion:
    """Laplacian, stationary measure and heat-kernel columns of an affinity."""

    def __init__(self, W, n_jobs=None, slow=None):
        self.W = W
        self.slow = slow
        # nonzeros of L: the edges and the diagonal (for the cost model)
        self.nnz = int(W.nnz) + W.shape[0]
        self.n_jobs = n_jobs
        self._L = None
        self._hops = None
        self._banded = None

    @property
    def hops(self):
        if self._hops is None:
            self._hops = _hop_diameter(self.W)
        return self._hops

    def _laplacian(self):
        # built on first use: the coarse path never needs the fine Laplacian
        L, deg = laplacian(self.W, kind="symmetric", return_degree=True)
        if self.slow is not None:
            # time change: the walk's measure is deg * slow (rates 1 / slow),
            # L = M^-1/2 (Deg - W) M^-1/2 = diag(1 / slow) - (I - L) / slow
            # (diagonal at most 1: the series' uniformization rate is kept)
            L = _time_changed(L, self.slow)
            deg = deg * self.slow
        self._L = sp.csr_array(L)
        self._deg = np.maximum(deg, _TINY)

    @property
    def L(self):
        if self._L is None:
            self._laplacian()
        return self._L

    @property
    def deg(self):
        if self._L is None:
            self._laplacian()
        return self._deg

    @property
    def vol(self):
        return float(self.deg.sum())

    def banded(self):
        """``(L_p, pos)``: the Laplacian with its nodes in reverse Cuthill-McKee
        order (``L_p = L[p][:, p]``) and each node's position in it (``pos[p]
        = arange(n)``), computed once.  Graph neighbours get near numbers, so
        a sparse product reads the rows of the dense block it multiplies from
        cache: measured (landmark columns, t = 128, one core) 1.5x faster on
        the Swiss roll at n = 3000 and 6000 (random sample order), the same
        sums in another order."""
        if self._banded is None:
            L = self.L
            p = csgraph.reverse_cuthill_mckee(L, symmetric_mode=True)
            pos = np.empty_like(p)
            pos[p] = np.arange(p.size)
            Lp = sp.csr_array(L[p][:, p])
            Lp.sort_indices()
            self._banded = (Lp, pos)
        return self._banded

    def n_terms(self, t, far=True):
        """Terms of the series at ``t``: the Poisson bulk, and with ``far``
        (every entry of the columns to a small relative error) the hop
        diameter plus ``t + 2 sqrt(t)`` steps (a walk wanders about that much
        before it is done reaching a far node).  Measured (48 probe columns,
        n = 3000, against 420 terms): ``hops + 8`` alone left relative errors
        of 0.68 / 0.997 / 0.72 at t = 8 / 16 / 32 on the Swiss roll (hop
        diameter 48); this rule 1e-4 to 1e-2 at every t of ``T_GRID`` on the
        Swiss roll, the tree and the non-uniform sphere.  ``far=False``: the
        hop diameter + 8 (the midpoints of every pair, enough for the pair
        kernel ``C^T C`` of half-time columns, see :func:`_select_t`)."""
        reach = self.hops + 8
        if far:
            reach += int(np.ceil(t + 2.0 * np.sqrt(t)))
        return max(poisson_terms(t), reach)

    def density(self, H, rows, cols):
        dr = self.deg if rows is None else self.deg[rows]
        dc = self.deg if cols is None else self.deg[cols]
        return H * (self.vol / np.sqrt(np.outer(dr, dc)))

    def columns(
        self, sources, times, verbose=False, desc="heat columns", raw=False, far=True
    ):
        """Yield ``(t, K_t[:, sources])`` for increasing t (blocks in parallel).

        ``verbose``: a progress bar over the terms of the series.  ``raw``:
        the columns of ``exp(-t L)`` itself (not turned into densities).
        ``far``: see :meth:`n_terms`.
        """
        finish = (lambda H: H) if raw else (lambda H: self.density(H, None, sources))
        sources = np.asarray(sources)
        n = self.L.shape[0]
        n_blocks = _effective_jobs(self.n_jobs)
        n_blocks = max(1, min(n_blocks, len(sources)))
        parts = np.array_split(np.arange(len(sources)), n_blocks)
        terms = [self.n_terms(t, far) for t in times]
        bar = None
        if verbose:
            from tqdm.auto import tqdm

            bar = tqdm(total=max(terms), desc=f"{desc} ({len(sources)})")
        # the series run on the banded Laplacian (rows back in sample order)
        Lp, pos = self.banded()
        if len(times) == 1:
            # one time (the landmark columns): Horner's rule, no accumulator
            tick = None if bar is None else bar.update
            single = n >= _SINGLE_MIN

            def block(lo, hi):
                return _columns_at(
                    Lp,
                    pos[sources[lo:hi]],
                    times[0],
                    terms[0],
                    single=single,
                    progress=tick if lo == 0 else None,
                )

            H = np.hstack(run_chunks(block, len(sources), n_blocks, blas_single=False))
            if bar is not None:
                bar.close()
            yield float(times[0]), finish(H[pos])
            return
        gens = []
        for i, p in enumerate(parts):
            B = np.zeros((n, len(p)))
            B[pos[sources[p]], np.arange(len(p))] = 1.0
            tick = bar.update if (bar is not None and i == 0) else None
            gens.append(_columns(Lp, B, times, n_terms=terms, progress=tick))
        for _ in range(len(times)):
            if n_blocks == 1:
                got = [next(gens[0])]
            else:
                # the package's thread pool (a joblib Parallel per time
                # started its threads anew each time)
                got = run_chunks(
                    lambda i, _: next(gens[i]), n_blocks, n_blocks, blas_single=False
                )
            t = got[0][0]
            H = np.hstack([h for _, h in got])[pos]
            if bar is not None and t == times[-1]:
                bar.close()
            yield t, finish(H)

    def full(self, t):
        _, H = next(_doubling(self.L, t, 1, reach=self.hops + 8))
        H = 0.5 * (H + H.T)
        return self.density(H, None, None)


def _time_changed(L, slow):
    """``S^-1 - S^-1/2 (I - L) S^-1/2`` (``S = diag(slow)``) of a symmetric
    normalized Laplacian ``L``: ``M^-1/2 (Deg - W) M^-1/2``, the generator of
    the same walk with the measure ``M = deg * slow`` (symmetrized)."""
    L = sp.csr_array(L)
    A = sp.csr_array(sp.eye_array(L.shape[0], format="csr") - L)
    isl = 1.0 / np.asarray(slow, dtype=np.float64)
    h = sp.diags_array(np.sqrt(isl))
    out = sp.csr_array(sp.diags_array(isl) - h @ A @ h)
    out.sum_duplicates()
    out.sort_indices()
    return out


def _effective_jobs(n_jobs):
    """Column blocks of the heat series: ``n_jobs``, or (None) as many as
    numpy's BLAS may use (``threadpoolctl.threadpool_limits`` caps it; the
    sparse products release the GIL: 1.6x on two loaded cores at n = 3000)."""
    from joblib import effective_n_jobs

    return blas_threads() if n_jobs is None else int(effective_n_jobs(n_jobs))


# -- the choice of t ----------------------------------------------------------------


def _reference_paths(X, W, probes, lengths=None):
    """Shortest paths from the probes on the affinity graph, Euclidean edge
    lengths (``lengths``: that graph, where the kernel graph built it).  The
    graph is symmetric: searched as a directed one, without the transposed
    copy an undirected search builds (the same paths)."""
    G = _length_graph(X, W, lengths)
    return csgraph.dijkstra(G, directed=True, indices=probes)


def _band_score(D, G):
    """Linearity of D against G: Pearson correlation over the probe pairs.

    Heat distances rank pairs correctly over a wide range of t; the range where
    they are also *proportional* to geodesic distances (the diffusive, Varadhan
    regime: t above the hop scale, below mixing) is where they embed without
    distortion, so the score is linear correlation.
    """
    iu = np.triu_indices(D.shape[0], 1)
    d, g = D[iu], G[iu]
    ok = np.isfinite(g) & (g > 0)
    d, g = d[ok], g[ok]
    if g.size < 3 or np.ptp(d) == 0 or np.ptp(g) == 0:
        return -np.inf
    return float(np.corrcoef(d, g)[0, 1])


def _scan_times(items, G, sigma, verbose=False, tag=""):
    """Band score of each ``(t, probe kernel block, payload)`` in ``items``.

    Returns the t of the best score, the scores per t and that t's payload;
    stops once the score falls 0.01 below the best (past the peak: mixing).
    """
    scores = {}
    best_t, best, best_payload = float(T_GRID[0]), -np.inf, None
    for t, Kp, payload in items:
        dg = np.diag(Kp).copy()
        D = varadhan_distance(Kp, dg, dg, t, sigma)
        D = 0.5 * (D + D.T)
        s = _band_score(D, G)
        scores[float(t)] = s
        if verbose:
            print(f"[HeatGeodesic] t={t:g}: band score {s:.4f}{tag}")
        if s > best:
            best_t, best, best_payload = float(t), s, payload
        elif s < best - 0.01:
            break
    return best_t, scores, best_payload


def _select_t(X, W, diffusion, sigma, probes, verbose=False, lengths=None):
    """t = argmax over T_GRID of the band score on probe pairs; scores per t.

    The probes' pair kernel at ``t`` is ``C^T C`` with ``C = exp(-t/2 L)[:,
    probes]`` (``exp(-t L) = exp(-t/2 L)^2``, ``L`` symmetric): a sum of
    non-negative products of relatively accurate entries (the half-time series
    reach the hop diameter too), so the same kernel to round-off, from a
    series of half the Poisson terms (at t = 128: 122 terms instead of 206;
    the hop-diameter floor of small times is unchanged).
    """
    G = _reference_paths(X, W, probes, lengths)[:, probes]
    cols = diffusion.columns(
        probes, T_GRID / 2, verbose, "t='auto' probes", raw=True, far=False
    )
    items = (
        (2.0 * th, diffusion.density(C.T @ C, probes, probes), None) for th, C in cols
    )
    best_t, scores, _ = _scan_times(items, G, sigma, verbose)
    return best_t, scores


def _select_t_coarse(coarse, sigma, probes, verbose=False):
    """:func:`_select_t` on the coarse path; also returns the chosen cell kernel.

    The reference paths are shortest paths between the probes' cells on the
    coarse graph (centroid edge lengths); the times are the same physical times
    as the exact path's (see :mod:`manigeo.heat._coarse`).  Each time is scored
    on the probes' pair kernel alone (``n_probes`` diffused columns, see
    :meth:`_CoarseDiffusion.probe_kernels`); the dense cell kernel is computed
    once, at the chosen t, exactly as for that t given explicitly.  Measured
    (Swiss roll, ``n = 1e5``, 13 times): 3-4x faster than a dense kernel per
    time, same scores (to 1e-15 from t = 8 on; at t = 1, 2 the dense chain's
    truncated series lost far entries: 1.8e-5, 1.6e-8).
    """
    G = coarse.reference_paths(probes)
    items = ((t, Kp, None) for t, Kp in coarse.probe_kernels(probes, T_GRID_COARSE))
    best_t, scores, _ = _scan_times(items, G, sigma, verbose, " (coarse)")
    # the dense cell kernel only at the chosen t (the same as a fixed t's)
    _, Kc = next(coarse.kernels([best_t]))
    return best_t, scores, Kc


# -- the geometry (shared by the functional and the estimators) --------------------


class HeatGeometry:
    """Fitted heat geometry: kernel columns of the landmarks on the full graph."""

    def __init__(
        self,
        *,
        n_neighbors=10,
        kernel="gaussian",
        decay=40.0,
        density="normalize",
        t="auto",
        sigma=1.0,
        n_jobs=None,
        verbose=False,
    ):
        self.n_neighbors = n_neighbors
        self.kernel = kernel
        self.decay = decay
        self.density = density
        self.t = t
        self.sigma = sigma
        self.n_jobs = n_jobs
        self.verbose = verbose

    def fit(self, X, landmarks, rng):
        """Fit on X.

        ``landmarks``: None (every sample), an int (that many farthest points)
        or an array of sample indices.  The probes of ``t="auto"`` are drawn
        from ``rng`` first, so every mode chooses the same t.
        """
        n = X.shape[0]
        probes = np.sort(rng.choice(n, min(n, N_PROBES), replace=False))
        aff = _Affinity(self.n_neighbors, self.kernel, self.decay, self.density)
        tasks = [lambda: aff.fit(X)]
        if isinstance(landmarks, numbers.Integral):
            # the landmarks draw from rng after the probes, as before; the
            # affinity draws nothing: the two run side by side
            m = int(landmarks)
            tasks.append(lambda: _place_landmarks(X, m, rng))
        done = _concurrently(tasks, big=n >= _THREADED_MIN)
        self.affinity_ = done[0]
        if len(done) > 1:
            landmarks = done[1]
        W = aff.W_
        diff = _Diffusion(W, self.n_jobs, aff.slow_)
        auto = isinstance(self.t, str)
        self.path_, why = "full", "every sample is a landmark"
        if landmarks is not None:
            cost = _exact_cost(diff, len(landmarks), None if auto else self.t)
            coarse = cost > _EXACT_BUDGET and n > 4 * _COARSE_CELLS
            self.path_ = "coarse" if coarse else "exact"
            hops = "" if diff._hops is None else f"; hop diameter {diff._hops}"
            why = (
                f"exact landmark columns cost {cost:.2g} flops or more "
                f"({'>' if cost > _EXACT_BUDGET else '<='} budget "
                f"{_EXACT_BUDGET:.2g}{hops}; {n} samples, "
                f"{_n_cells(n)} cells)"
            )
        if self.verbose:
            print(f"[HeatGeodesic] {self.path_} path: {why}")
        self.landmarks_ = landmarks
        if self.path_ == "coarse":
            # the coarse cells give the components (no search of their own)
            coarse = self._fit_coarse(X, W, rng, probes, landmarks)
            n_comp = coarse.n_components
        else:
            n_comp = aff.components()[0]
        self.n_graph_components_ = n_comp
        if n_comp > 1:
            warnings.warn(
                f"the {self.kernel} kernel graph (n_neighbors={self.n_neighbors}) has "
                f"{n_comp} connected components; heat-geodesic distances between "
                "components are saturated at the largest representable value. "
                "Increase n_neighbors.",
                UserWarning,
                stacklevel=4,
            )
        if self.path_ != "coarse":
            # probes are drawn first, so full and landmark mode choose the same t
            if auto:
                self.t_, self.t_scores_ = _select_t(
                    X, W, diff, self.sigma, probes, self.verbose, aff.lengths_
                )
            else:
                self.t_, self.t_scores_ = float(self.t), {}
            t = self.t_
            if landmarks is None:
                K = diff.full(t)
                self.diag_ = np.diag(K).copy()
                self.columns_ = K
            else:
                _, K = next(diff.columns(landmarks, [t], self.verbose))
                self.columns_ = K
                self.diag_ = _estimate_diag(K, landmarks)
        self.affinity_.release_fit_graph()
        self.n_train_ = n
        return self

    def _fit_coarse(self, X, W, rng, probes, landmarks):
        aff = self.affinity_
        coarse = _CoarseDiffusion(
            X,
            W,
            _n_cells(len(X)),
            rng,
            farthest_points,
            aff.slow_,
            lengths=aff.lengths_,
        )
        self.n_cells_ = coarse.n_cells
        if self.verbose:
            print(
                f"[HeatGeodesic] {coarse.n_cells} cells, coarse hop diameter "
                f"{coarse.hops}, time scale {coarse.time_scale:.3g}"
            )
        if isinstance(self.t, str):
            self.t_, self.t_scores_, Kc = _select_t_coarse(
                coarse, self.sigma, probes, self.verbose
            )
        else:
            self.t_, self.t_scores_ = float(self.t), {}
            _, Kc = next(coarse.kernels([self.t_]))
        self.spread_ = coarse.spread
        self.cell_ = coarse.cell
        self._cell_weights = None
        self.coarse_columns_, self.diag_ = coarse.columns(Kc, landmarks)
        self.columns_ = None
        return coarse

    @property
    def landmark_index(self):
        n = self.n_train_
        return np.arange(n) if self.landmarks_ is None else self.landmarks_

    def _rows(self, rows):
        """Kernel values ``K_t(rows, landmarks)`` of training samples."""
        if self.columns_ is not None:
            return self.columns_[rows]
        return self._spread_product(np.asarray(rows), self.coarse_columns_)

    def cell_order(self, rows):
        """``rows`` reordered so that the samples of one coarse cell are
        consecutive (the coarse path's kernel blocks are then a few dense
        products, :meth:`_spread_product`); ``rows`` itself on the other paths.
        Each row's distances and placement do not depend on the order."""
        rows = np.asarray(rows)
        if self.columns_ is not None:
            return rows
        return rows[np.argsort(self.cell_[rows], kind="stable")]

    def _spread_weights(self):
        """Per cell, the support of its samples' spread rows (sorted cell
        indices), and per sample its dense weights over that support (one flat
        array; ``offset[i]`` where sample ``i``'s start).  Built once."""
        if self._cell_weights is None:
            S, cell = self.spread_, self.cell_
            n, m = S.shape
            nc = self.n_cells_
            # the supports: the pattern of (cell indicator) @ S, in sorted
            # (cell, column) keys; each entry's place by a binary search (a
            # sort of all entries, np.unique, cost 4x more)
            ones = sp.csr_array((np.ones(S.nnz), S.indices, S.indptr), shape=S.shape)
            member = sp.csr_array((np.ones(n), (cell, np.arange(n))), shape=(nc, n))
            P = member @ ones
            P.sort_indices()
            start = P.indptr.astype(np.int64)
            size = np.diff(start)
            ukey = np.repeat(np.arange(nc, dtype=np.int64), size) * m + P.indices
            rows = np.repeat(np.arange(n), np.diff(S.indptr))
            pos = np.searchsorted(ukey, cell[rows].astype(np.int64) * m + S.indices)
            offset = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(size[cell], out=offset[1:])
            flat = np.zeros(offset[-1])
            flat[offset[rows] + pos - start[cell[rows]]] = S.data
            self._cell_weights = (P.indices, start, size, offset, flat)
        return self._cell_weights

    def _spread_product(self, r, C, a=None):
        """``diag(a) S[r] @ C`` (``S`` the spread): one dense product per coarse
        cell among the rows ``r`` (rows of one cell share a support), where
        the rows come grouped by cell (:meth:`cell_order`); else the sparse
        product."""
        cell = self.cell_[r]
        cuts = np.flatnonzero(cell[1:] != cell[:-1]) + 1
        if (cuts.size + 1) * _CELL_ROWS > r.size:
            Sr = self.spread_[r]
            if a is not None:
                Sr.data *= np.repeat(a[r], np.diff(Sr.indptr))
            return np.asarray(Sr @ C)
        cols, start, size, offset, flat = self._spread_weights()
        K = np.empty((r.size, C.shape[1]))
        for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, r.size], strict=True):
            c, rr = cell[lo], r[lo:hi]
            s = size[c]
            Wg = flat[offset[rr][:, None] + np.arange(s)]
            if a is not None:
                Wg *= a[rr, None]
            np.matmul(Wg, C[cols[start[c] : start[c] + s]], out=K[lo:hi])
        return K

    def _extend(self, P):
        """Kernel values of the walk that starts from the weights ``P``."""
        if self.columns_ is not None:
            return np.asarray(P @ self.columns_)
        return np.asarray(sp.csr_array(P @ self.spread_) @ self.coarse_columns_)

    def train_distances(self, rows=None, chunk_size=_ROW_BLOCK):
        """(n_rows, m) distances from training samples (all) to every landmark.

        Written block by block from :meth:`distance_blocks` (cache-sized
        blocks: the result is the only large array).
        """
        rows = np.arange(self.n_train_) if rows is None else np.asarray(rows)
        out = np.empty((rows.size, len(self.landmark_index)))
        if self.columns_ is None:
            # coarse path: computed in cell order (dense products per cell),
            # written back to the rows' order
            perm = np.argsort(self.cell_[rows], kind="stable")
            for s, D in self.distance_blocks(rows[perm], chunk_size):
                out[perm[s : s + D.shape[0]]] = D
            return out
        # the blocks are views of out: consuming them fills it
        for _ in self.distance_blocks(rows, chunk_size, out=out):
            pass
        return out

    def distance_blocks(self, rows=None, chunk_size=_ROW_BLOCK, out=None):
        """Blocks ``(start, D)`` of the distances of ``rows`` (all training
        samples by default) to every landmark, in order: ``D`` holds those of
        ``rows[start : start + len(D)]``, at most ``chunk_size`` of them, a
        new array (a view of ``out``, when given, at those rows).

        The kernel values are scaled by the diagonal factors
        (:meth:`_scaled_blocks`), then :func:`_varadhan_scaled`: four passes
        over a cache-sized block, the last one writing the result.
        """
        rows = np.arange(self.n_train_) if rows is None else np.asarray(rows)
        lm = self.landmark_index
        pos = np.full(self.n_train_, -1)
        pos[lm] = np.arange(len(lm))
        for s, K, scaled in self._scaled_blocks(rows, chunk_size):
            D = K if out is None else out[s : s + K.shape[0]]
            if scaled:
                _varadhan_scaled(K, self.t_, out=D)
            elif out is not None:
                D[:] = K
            # a landmark is at distance 0 from itself
            p = pos[rows[s : s + K.shape[0]]]
            hit = np.flatnonzero(p >= 0)
            D[hit, p[hit]] = 0.0
            yield s, D

    def nearest_landmarks(self, rows=None, chunk_size=_ROW_BLOCK):
        """Index (among the landmarks) of the landmark nearest to each of
        ``rows`` (all training samples by default): the row-wise argmin of
        :meth:`train_distances`, taken as the argmax of ``min(K', 1)`` (the
        distance decreases with it) without the log and square root."""
        rows = np.arange(self.n_train_) if rows is None else np.asarray(rows)
        out = np.empty(rows.size, dtype=np.intp)
        pos = np.full(self.n_train_, -1)
        lm = self.landmark_index
        pos[lm] = np.arange(len(lm))
        for s, K, scaled in self._scaled_blocks(rows, chunk_size):
            r = rows[s : s + K.shape[0]]
            if scaled:
                # a landmark's own column is at distance 0 (K' = 1)
                p = pos[r]
                hit = np.flatnonzero(p >= 0)
                K[hit, p[hit]] = 1.0
                best = np.argmax(K, axis=1)
                # K' >= 1 is distance 0: the first such column, as argmin
                zero = np.flatnonzero(K[np.arange(K.shape[0]), best] >= 1.0)
                best[zero] = np.argmax(K[zero] >= 1.0, axis=1)
                out[s : s + K.shape[0]] = best
            else:
                p = pos[r]
                hit = np.flatnonzero(p >= 0)
                K[hit, p[hit]] = 0.0
                out[s : s + K.shape[0]] = np.argmin(K, axis=1)
        return out

    def _scaled_blocks(self, rows, chunk_size=_ROW_BLOCK):
        """Blocks ``(start, K', True)`` of ``K'_ij = K_t(i, j) / sqrt(K_t(i, i)
        K_t(j, j))^sigma`` (rows ``rows``, every landmark ``j``), new arrays of
        at most ``chunk_size`` rows: ``d_ij^2 = -4t log min(K'_ij, 1)``.

        The factors are folded into the landmark columns (once) and the rows
        (the spread weights on the coarse path).  A block with a kernel value
        under ``_TINY`` (disconnected graph: clipped) or a scaled value out of
        range comes as ``(start, D, False)``: the distances themselves, by the
        log-domain formula (:func:`_varadhan_inplace`).  Either way they are
        :func:`varadhan_distance`'s.
        """
        lm = self.landmark_index
        logdiag = np.log(np.maximum(self.diag_, _TINY))
        lr = (-0.5 * self.sigma) * logdiag
        lc = lr[lm]
        # the factors exp(lr) exp(lc) do not overflow (an underflow of K' is
        # caught below)
        safe = lr.max() + lc.max() < 600.0
        if safe:
            a, b = np.exp(lr), np.exp(lc)
            bmax = b.max()
        coarse = self.columns_ is None
        if coarse:
            C = self.coarse_columns_ * b if safe else self.coarse_columns_
        for s in range(0, rows.size, chunk_size):
            r = rows[s : s + chunk_size]
            if coarse:
                K = self._spread_product(r, C, a if safe else None)
            else:
                K = np.asarray(self.columns_[r], dtype=np.float64)
                if safe:
                    K *= a[r, None]
                    K *= b
            # K_ij >= _TINY (not clipped) and K'_ij >= _TINY for every entry
            ok = safe and bool(
                np.all(K.min(axis=1) >= _TINY * np.maximum(1.0, a[r] * bmax))
            )
            if ok:
                yield s, K, True
            else:
                K = np.asarray(self._rows(r), dtype=np.float64)
                _varadhan_inplace(K, logdiag[r], logdiag[lm], self.t_, self.sigma)
                yield s, K, False

    def landmark_distances(self):
        D = self.train_distances(self.landmark_index)
        D = 0.5 * (D + D.T)
        np.fill_diagonal(D, 0.0)
        return D

    def distances_to_landmarks(self, X, chunk_size=4096):
        """Nystrom extension: distances from new points to every landmark."""
        lm = self.landmark_index
        m = len(lm)
        check_dense_size(X.shape[0], m, what="distance-to-landmarks block")
        out = np.empty((X.shape[0], m))
        logdiag = np.log(np.maximum(self.diag_, _TINY))
        for s in range(0, X.shape[0], chunk_size):
            P = self.affinity_.weights(X[s : s + chunk_size])
            Kx = self._extend(P)
            dx = np.exp(np.asarray(P @ logdiag).ravel())
            # a training sample (one-hot row): its own diagonal, not exp(log)
            one = np.flatnonzero(np.diff(P.indptr) == 1)
            dx[one] = self.diag_[P.indices[P.indptr[one]]]
            out[s : s + chunk_size] = varadhan_distance(
                Kx, dx, self.diag_[lm], self.t_, self.sigma
            )
        return out


def _n_cells(n):
    """Cells of the coarse path for ``n`` samples."""
    return min(_COARSE_CELLS, max(_COARSE_CELLS // 2, n // _SAMPLES_PER_CELL))


def _place_landmarks(X, m, rng):
    """Farthest-point landmarks; above ``_LANDMARK_POOL`` samples, among a
    random pool of that many (the greedy sweep costs ``m x pool``, not
    ``m x n``: 1.5 s at ``n = 1e5``, ``m = 500`` on two cores, for the same
    cover up to the pool's spacing)."""
    n = X.shape[0]
    if n <= _LANDMARK_POOL or m >= _LANDMARK_POOL:
        return farthest_points(X, m, random_state=rng)
    pool = np.sort(rng.choice(n, _LANDMARK_POOL, replace=False))
    return pool[farthest_points(X[pool], m, random_state=rng)]


def _exact_cost(diffusion, n_landmarks, t):
    """Flops of the exact landmark columns (and of the probes if ``t`` is None).

    The hop diameter (a BFS sweep) is only measured when the cost without it
    is below the budget.
    """
    cols = n_landmarks + (N_PROBES if t is None else 0)
    t = float(T_GRID[-1]) if t is None else float(t)
    low = 2.0 * diffusion.nnz * cols * poisson_terms(t)
    if low > _EXACT_BUDGET:
        return low
    return 2.0 * diffusion.nnz * cols * diffusion.n_terms(t)


def _estimate_diag(K, landmarks):
    """K_t(i, i): exact on landmarks, else a heat-weighted mean over the 3 nearest.

    "Nearest" in heat-geodesic distance: row ``i`` ranks the landmarks by
    ``log K_t(i, l) - log K_t(l, l) / 2`` (the distance up to a per-row
    constant), not by ``K_t(i, l)`` alone, which favours landmarks with a large
    return probability (near a boundary) over near ones and, measured on the
    noisy S-curve at t = 128, left 6 times the error in ``log K_t(i, i)``.
    """
    n, m = K.shape
    dl = K[landmarks, np.arange(m)]
    log_dl = np.log(np.maximum(dl, _TINY))
    key = np.log(np.maximum(K, _TINY)) - 0.5 * log_dl[None, :]
    r = min(3, m)
    top = np.argpartition(-key, r - 1, axis=1)[:, :r]
    s = np.take_along_axis(key, top, axis=1)
    w = np.exp(s - s.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)
    diag = np.exp((w * log_dl[top]).sum(axis=1))
    diag[landmarks] = dl
    return diag


def heat_geodesic_distances(
    X,
    *,
    sources=None,
    n_neighbors: int = 10,
    t="auto",
    sigma: float = 1.0,
    density: str = "normalize",
    kernel: str = "gaussian",
    decay: float = 40.0,
    random_state=None,
    n_jobs=None,
    return_t: bool = False,
):
    """Heat-geodesic distances between samples (Huguet et al., NeurIPS 2023).

    See the module notes of :mod:`manigeo.heat` for the pipeline.  With
    ``sources`` the heat kernel is diffused from those samples only (exact
    columns of the full kernel, ``O(terms x nnz x len(sources))``), so the
    rows equal those of the full matrix; above a cost budget (``2e10`` flops,
    more than 4000 samples) the columns come from a coarse-grained graph of
    1000 cells with the same physical ``t`` (see :class:`HeatGeodesicDistance`).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    sources : array-like of int or None, default=None
        Rows to return; ``None``: all (a dense ``n x n`` result, below the
        dense-size guard).
    n_neighbors : int, default=10
    t : "auto" or float, default="auto"
        Diffusion time in units of the normalized Laplacian.  ``"auto"``
        tries ``t = 1, 2, 4, ..., 128`` on 48 random probe samples and keeps
        the time whose distances best agree, within each quartile of distance,
        with graph shortest paths (mean within-band Spearman).
    sigma : float, default=1.0
        Weight of the volume term.
    density : {"normalize", "keep"}, default="normalize"
        Density-invariant diffusion (Coifman-Lafon alpha = 1) or the plain
        kernel's random walk.
    kernel : {"gaussian", "alpha"}, default="gaussian"
    decay : float, default=40.0
    random_state : int, RandomState instance or None, default=None
        Probe points of ``t="auto"``.
    n_jobs : int or None, default=None
        Threads for blocks of heat-kernel columns; None: as many as numpy's
        BLAS may use (``threadpoolctl.threadpool_limits`` caps it).
    return_t : bool, default=False
        Also return the time used.

    Returns
    -------
    D : ndarray of shape (n_sources, n_samples)
    t : float, only if ``return_t``

    Examples
    --------
    >>> from manigeo.datasets import make_sphere
    >>> from manigeo.heat import heat_geodesic_distances
    >>> X, geo = make_sphere(300, random_state=0)
    >>> D = heat_geodesic_distances(X, random_state=0)
    >>> D.shape
    (300, 300)
    """
    X = check_points(X, min_samples=2)
    n = X.shape[0]
    t = _check_t(t)
    _check_options(n_neighbors, kernel, decay, density, sigma)
    if sources is None:
        check_dense_size(
            n, n, what="heat kernel", hint="pass sources=... for a few rows"
        )
        lm = None
    else:
        lm = np.atleast_1d(np.asarray(sources))
        if lm.ndim != 1 or not np.issubdtype(lm.dtype, np.integer):
            raise TypeError("sources must be a 1-D array of integer sample indices")
        if lm.size == 0 or lm.min() < -n or lm.max() >= n:
            raise ValueError(f"sources must be non-empty indices in [0, {n})")
        lm = lm % n
        check_dense_size(n, lm.size, what="heat-kernel columns")
    geom = HeatGeometry(
        n_neighbors=n_neighbors,
        kernel=kernel,
        decay=decay,
        density=density,
        t=t,
        sigma=sigma,
        n_jobs=n_jobs,
    ).fit(X, lm, check_random_state(random_state))
    if lm is None:
        D = geom.landmark_distances()
    else:
        D = geom.train_distances().T
        D[np.arange(lm.size), lm] = 0.0
    return (D, geom.t_) if return_t else D
