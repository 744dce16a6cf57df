"""k-nearest-neighbour and radius graphs from point clouds."""

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree
from sklearn.neighbors import NearestNeighbors

from .._validation import check_int, check_points, check_random_state

_MODES = ("connectivity", "distance")
_SYMMETRIZE = ("union", "mutual", "none")


def _symmetrize(G, symmetrize):
    if symmetrize == "union":
        G = G.maximum(G.T)
    elif symmetrize == "mutual":
        G = G.minimum(G.T)
    G = sp.csr_array(G)
    G.eliminate_zeros()
    G.sort_indices()
    return G


_METHODS = ("exact", "hnsw")
_HNSW_SPACES = {"euclidean": "l2", "l2": "l2", "cosine": "cosine"}


def _import_hnswlib():
    try:
        import hnswlib
    except ImportError as exc:
        raise ImportError(
            'method="hnsw" needs hnswlib: pip install "manigeo[hnsw]"'
        ) from exc
    return hnswlib


def _is_dask_array(X):
    return any(
        c.__name__ == "Array" and c.__module__.startswith("dask.array")
        for c in type(X).__mro__
    )


def _threads(n_jobs):
    if n_jobs is None:
        return 1
    if n_jobs < 0:
        import os

        return max((os.cpu_count() or 1) + 1 + n_jobs, 1)
    return int(n_jobs)


class _Searcher:
    """k-NN search over one set of points (``exact``: scikit-learn, ``hnsw``:
    hnswlib), queried for the ``k`` nearest stored points of new points."""

    def __init__(self, Y, *, method, metric, M, ef, ef_construction, seed, n_jobs):
        self.method, self.n = method, Y.shape[0]
        self.metric = metric
        if method == "exact":
            self.nn = NearestNeighbors(metric=metric, n_jobs=n_jobs).fit(Y)
            return
        hnswlib = _import_hnswlib()
        self.index = hnswlib.Index(space=_HNSW_SPACES[metric], dim=Y.shape[1])
        self.index.init_index(
            max_elements=max(self.n, 1),
            ef_construction=ef_construction,
            M=M,
            random_seed=seed,
        )
        self.threads = _threads(n_jobs)
        self.index.add_items(Y, np.arange(self.n), num_threads=self.threads)
        self.ef = ef

    def query(self, Q, k):
        """``(dist, ind)`` of shape (len(Q), min(k, n)), nearest first."""
        k = min(k, self.n)
        if self.method == "exact":
            return self.nn.kneighbors(Q, n_neighbors=k)
        self.index.set_ef(max(self.ef, k))
        ind, dist = self.index.knn_query(Q, k=k, num_threads=self.threads)
        dist = dist.astype(np.float64)
        if _HNSW_SPACES[self.metric] == "l2":
            dist = np.sqrt(np.maximum(dist, 0.0))
        return dist, ind.astype(np.int64)


def _drop_self(dist, ind, rows, k):
    """Keep ``k`` non-self neighbours per row (self is usually column 0, but
    duplicates can reorder ties)."""
    not_self = ind != rows[:, None]
    keep = not_self & (np.cumsum(not_self, axis=1) <= k)
    if not np.all(keep.sum(axis=1) == k):
        raise RuntimeError(  # pragma: no cover - hnswlib returned too few
            "the neighbour search returned fewer than n_neighbors results; increase ef"
        )
    return dist[keep].reshape(-1, k), ind[keep].reshape(-1, k)


def _exact_distances(X, rows, cols, metric):
    """Distances of the found pairs, recomputed in float64."""
    return _exact_distances_between(X, X, rows, cols, metric)


def _check_knn_options(n_neighbors, n, mode, symmetrize, method, metric):
    n_neighbors = check_int(n_neighbors, "n_neighbors", minimum=1)
    if n_neighbors >= n:
        raise ValueError(
            f"n_neighbors={n_neighbors} must be smaller than the number of points ({n})"
        )
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    if symmetrize not in _SYMMETRIZE:
        raise ValueError(f"symmetrize must be one of {_SYMMETRIZE}, got {symmetrize!r}")
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    if method == "hnsw" and metric not in _HNSW_SPACES:
        raise ValueError(
            f"method='hnsw' supports metric 'euclidean' or 'cosine', got {metric!r}"
        )
    return n_neighbors


def _hnsw_options(M, ef, ef_construction, n_neighbors, random_state):
    M = check_int(M, "M", minimum=2)
    ef_construction = check_int(ef_construction, "ef_construction", minimum=1)
    ef = max(2 * n_neighbors, 50) if ef is None else check_int(ef, "ef", minimum=1)
    seed = int(check_random_state(random_state).randint(0, 2**31 - 1))
    return M, max(ef, n_neighbors + 1), ef_construction, seed


def knn_graph(
    X,
    n_neighbors=10,
    *,
    mode="connectivity",
    symmetrize="union",
    metric="euclidean",
    method="exact",
    M=16,
    ef=None,
    ef_construction=200,
    random_state=None,
    return_recall=False,
    recall_queries=1000,
    n_jobs=None,
):
    """k-nearest-neighbour graph of a point cloud, exact or approximate (HNSW).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features) or dask.array.Array
        Points.  A Dask array (chunked by rows) gives a Dask edge list: one
        index per row chunk (*shard*), every chunk queried against every
        shard, the ``n_neighbors`` nearest of the shards' answers kept.
    n_neighbors : int, default=10
        Neighbours per point (the point itself is not counted).
    mode : {"connectivity", "distance"}, default="connectivity"
        Store 1 for each edge, or the distance.
    symmetrize : {"union", "mutual", "none"}, default="union"
        "union" keeps an edge if either end lists the other (``max(G, G.T)``),
        "mutual" only if both do (``min(G, G.T)``), "none" returns the directed
        kNN graph (row i lists the neighbours of i).
    metric : str, default="euclidean"
        Any metric accepted by :class:`sklearn.neighbors.NearestNeighbors`
        (method "exact"); "euclidean" or "cosine" for "hnsw".
    method : {"exact", "hnsw"}, default="exact"
        Exact search (scikit-learn), or the approximate hierarchical navigable
        small-world graph of Malkov & Yashunin (hnswlib, the ``[hnsw]`` extra).
        With "hnsw", distances of the found pairs are recomputed in float64.
    M : int, default=16
        HNSW: links per node and layer (memory ~ ``M`` ints per point; higher
        M, higher recall in high dimension).
    ef : int or None, default=None
        HNSW: size of the candidate list of a query (recall rises, speed
        falls); ``None``: ``max(2 * n_neighbors, 50)``.
    ef_construction : int, default=200
        HNSW: candidate list while building the index.
    random_state : int, RandomState or None, default=None
        Seeds the HNSW level draws; with ``n_jobs=None`` (one thread) the
        graph is then repeatable.
    return_recall : bool, default=False
        Also return the recall@k of the directed neighbour lists against exact
        search (see :func:`knn_recall`), on ``recall_queries`` random points
        (seeded by ``random_state``).  Not for Dask arrays.
    recall_queries : int, default=1000
        Points used to estimate the recall.
    n_jobs : int or None, default=None
        Threads of the search (``None`` = 1, ``-1`` = all cores).  Several
        threads make an HNSW index depend on their timing.

    Returns
    -------
    G : scipy.sparse.csr_array of shape (n_samples, n_samples)
        No self-loops.  Exact zero distances between duplicate points are
        stored as ``1e-300`` in distance mode so the edge is not lost.  For a
        Dask array: a Dask DataFrame ``src, dst`` (plus ``weight`` in distance
        mode), one partition per row chunk, rows sorted by ``(src, dst)``.
    recall : float
        Only with ``return_recall``.

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo.graphs import knn_graph
    >>> X = np.random.default_rng(0).normal(size=(50, 3))
    >>> knn_graph(X, 5).shape
    (50, 50)
    >>> G, recall = knn_graph(X, 5, method="hnsw", random_state=0,
    ...                       return_recall=True)
    >>> recall
    1.0
    """
    if _is_dask_array(X):
        if return_recall:
            raise ValueError("return_recall is not available for a Dask array")
        return _dask_knn(
            X,
            n_neighbors,
            mode=mode,
            symmetrize=symmetrize,
            metric=metric,
            method=method,
            M=M,
            ef=ef,
            ef_construction=ef_construction,
            random_state=random_state,
            n_jobs=n_jobs,
        )
    X = check_points(X, min_samples=2)
    n = X.shape[0]
    n_neighbors = _check_knn_options(n_neighbors, n, mode, symmetrize, method, metric)
    if method == "exact":
        nn = NearestNeighbors(n_neighbors=n_neighbors, metric=metric, n_jobs=n_jobs)
        nn.fit(X)
        dist, ind = nn.kneighbors(X, n_neighbors=n_neighbors + 1)
    else:
        M, ef, ef_construction, seed = _hnsw_options(
            M, ef, ef_construction, n_neighbors, random_state
        )
        searcher = _Searcher(
            X,
            method="hnsw",
            metric=metric,
            M=M,
            ef=ef,
            ef_construction=ef_construction,
            seed=seed,
            n_jobs=n_jobs,
        )
        dist, ind = searcher.query(X, n_neighbors + 1)
    dist, ind = _drop_self(dist, ind, np.arange(n), n_neighbors)
    r = np.repeat(np.arange(n), n_neighbors)
    c = ind.ravel()
    if mode == "connectivity":
        w = np.ones(len(r))
    else:
        d = dist.ravel() if method == "exact" else _exact_distances(X, r, c, metric)
        w = np.maximum(d, 1e-300)
    G = _symmetrize(sp.csr_array((w, (r, c)), shape=(n, n)), symmetrize)
    if return_recall:
        rec = knn_recall(
            X,
            ind,
            metric=metric,
            n_queries=recall_queries,
            random_state=random_state,
        )
        return G, rec
    return G


def knn_recall(X, neighbors, *, metric="euclidean", n_queries=1000, random_state=None):
    """Recall@k of approximate neighbour lists against exact search.

    For ``n_queries`` points drawn without replacement, the fraction of their
    exact ``k`` nearest neighbours (self excluded) found in ``neighbors``,
    averaged.  Exact search is brute force on the sampled queries only.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Points.
    neighbors : array-like of int of shape (n_samples, k)
        Neighbour lists to score (row i: the neighbours found for point i).
    metric : str, default="euclidean"
    n_queries : int, default=1000
        Points scored (all when there are fewer).
    random_state : int, RandomState or None, default=None

    Returns
    -------
    recall : float
        In ``[0, 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo.graphs import knn_recall
    >>> X = np.array([0.0, 1.0, 3.0, 7.0, 15.0])[:, None]
    >>> knn_recall(X, np.array([[1], [0], [1], [2], [3]]))  # all exact
    1.0
    >>> knn_recall(X, np.array([[1], [0], [1], [2], [0]]))  # 15 -> 0 is wrong
    0.8
    """
    X = check_points(X, min_samples=2)
    neighbors = np.asarray(neighbors)
    if neighbors.ndim != 2 or neighbors.shape[0] != X.shape[0]:
        raise ValueError(
            f"neighbors must have shape ({X.shape[0]}, k), got {neighbors.shape}"
        )
    if not np.issubdtype(neighbors.dtype, np.integer):
        raise TypeError("neighbors must hold integer point indices")
    n, k = neighbors.shape
    if k >= n:
        raise ValueError(f"k={k} neighbours must be fewer than the {n} points")
    m = min(check_int(n_queries, "n_queries", minimum=1), n)
    rng = check_random_state(random_state)
    q = np.sort(rng.choice(n, size=m, replace=False))
    nn = NearestNeighbors(metric=metric, algorithm="brute").fit(X)
    _, ind = nn.kneighbors(X[q], n_neighbors=k + 1)
    _, ind = _drop_self(np.zeros(ind.shape), ind, q, k)
    hits = [len(np.intersect1d(a, b)) for a, b in zip(ind, neighbors[q], strict=True)]
    return float(np.sum(hits) / (m * k))


# ------------------------------------------------------------- Dask arrays
def _build_shard(Y, lo, options):
    Y = np.asarray(Y, dtype=np.float64)
    return lo, _Searcher(Y, **options), Y


def _query_shard(Q, shard, k, metric):
    """The shard's ``k`` nearest points of each query, distances in float64."""
    lo, searcher, Y = shard
    Q = np.asarray(Q, dtype=np.float64)
    _, ind = searcher.query(Q, k)
    rows = np.repeat(np.arange(len(Q)), ind.shape[1])
    dist = _exact_distances_between(Q, Y, rows, ind.ravel(), metric)
    return dist.reshape(ind.shape), ind + lo


def _exact_distances_between(Q, Y, rows, cols, metric):
    if metric in ("euclidean", "l2"):
        return np.linalg.norm(Q[rows] - Y[cols], axis=1)
    from sklearn.metrics.pairwise import paired_distances

    return paired_distances(Q[rows], Y[cols], metric=metric)


def _merge_block(n_rows, lo_q, k, *answers):
    """Top-k over the shards' answers for one row block: directed edges."""
    dist = np.hstack([a[0] for a in answers])
    ind = np.hstack([a[1] for a in answers])
    rows = np.arange(n_rows) + lo_q
    # nearest first; ties by index, so the result does not depend on the shards
    order = np.lexsort((ind, dist), axis=1)
    dist = np.take_along_axis(dist, order, axis=1)
    ind = np.take_along_axis(ind, order, axis=1)
    dist, ind = _drop_self(dist, ind, rows, k)
    src = np.repeat(rows, k)
    dst = ind.ravel()
    return src, dst, dist.ravel()


def _reverse_piece(block, lo, hi):
    src, dst, w = block
    sel = (dst >= lo) & (dst < hi)
    return dst[sel], src[sel], w[sel]


def _edge_frame(block, reverse, symmetrize, mode):
    import pandas as pd

    src, dst, w = block
    if symmetrize != "none":
        rs = np.concatenate([r[0] for r in reverse])
        rd = np.concatenate([r[1] for r in reverse])
        rw = np.concatenate([r[2] for r in reverse])
        fwd = pd.DataFrame({"src": src, "dst": dst, "w": w})
        rev = pd.DataFrame({"src": rs, "dst": rd, "w": rw})
        both = pd.concat([fwd, rev], ignore_index=True)
        counts = both.groupby(["src", "dst"], sort=True)["w"].agg(["min", "size"])
        if symmetrize == "mutual":
            counts = counts[counts["size"] == 2]
        src = counts.index.get_level_values(0).to_numpy()
        dst = counts.index.get_level_values(1).to_numpy()
        w = counts["min"].to_numpy()
    else:
        order = np.lexsort((dst, src))
        src, dst, w = src[order], dst[order], w[order]
    out = pd.DataFrame({"src": src.astype(np.int64), "dst": dst.astype(np.int64)})
    if mode == "distance":
        out["weight"] = np.maximum(w, 1e-300)
    return out


def _dask_knn(
    X,
    n_neighbors,
    *,
    mode,
    symmetrize,
    metric,
    method,
    M,
    ef,
    ef_construction,
    random_state,
    n_jobs,
):
    """Dask array -> Dask edge list: one index per row chunk, queried by all."""
    try:
        import dask
        import dask.dataframe as dd
    except ImportError as exc:  # pragma: no cover - dask is an extra
        raise ImportError(
            'Dask arrays need dask[dataframe]: pip install "manigeo[dask]"'
        ) from exc
    import pandas as pd

    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got {X.ndim}-D")
    n = X.shape[0]
    if not np.isfinite(n):
        raise ValueError("X must have known chunk sizes (call X.compute_chunk_sizes())")
    n_neighbors = _check_knn_options(n_neighbors, n, mode, symmetrize, method, metric)
    X = X.rechunk({1: -1})
    options = {"method": method, "metric": metric, "n_jobs": n_jobs}
    if method == "hnsw":
        M, ef, ef_construction, seed = _hnsw_options(
            M, ef, ef_construction, n_neighbors, random_state
        )
        options.update(M=M, ef=ef, ef_construction=ef_construction, seed=seed)
    else:
        options.update(M=None, ef=None, ef_construction=None, seed=None)
    bounds = np.concatenate([[0], np.cumsum(X.chunks[0])]).astype(np.int64)
    chunks = X.to_delayed().ravel()
    delayed = dask.delayed
    shards = [
        delayed(_build_shard, pure=True)(c, int(bounds[s]), options)
        for s, c in enumerate(chunks)
    ]
    blocks = []
    for b, c in enumerate(chunks):
        answers = [
            delayed(_query_shard, pure=True)(c, sh, n_neighbors + 1, metric)
            for sh in shards
        ]
        blocks.append(
            delayed(_merge_block, pure=True)(
                int(bounds[b + 1] - bounds[b]), int(bounds[b]), n_neighbors, *answers
            )
        )
    parts = []
    for b in range(len(chunks)):
        lo, hi = int(bounds[b]), int(bounds[b + 1])
        reverse = (
            [delayed(_reverse_piece)(blk, lo, hi) for blk in blocks]
            if symmetrize != "none"
            else []
        )
        parts.append(delayed(_edge_frame)(blocks[b], reverse, symmetrize, mode))
    meta = pd.DataFrame({"src": np.zeros(0, np.int64), "dst": np.zeros(0, np.int64)})
    if mode == "distance":
        meta["weight"] = np.zeros(0)
    return dd.from_delayed(parts, meta=meta, verify_meta=False)


def radius_graph(X, radius, *, mode="connectivity", boxsize=None):
    """Graph joining every pair of points closer than ``radius`` (Euclidean).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Points.
    radius : float
        Edge when ``||x_i - x_j|| <= radius``.
    mode : {"connectivity", "distance"}, default="connectivity"
        Store 1 for each edge, or the distance.
    boxsize : float or array-like or None, default=None
        Periodic box (flat torus ``[0, boxsize)^d``), passed to
        :class:`scipy.spatial.cKDTree`.

    Returns
    -------
    G : scipy.sparse.csr_array of shape (n_samples, n_samples)
        Symmetric, no self-loops.
    """
    X = check_points(X, min_samples=1)
    radius = float(radius)
    if not np.isfinite(radius) or radius <= 0:
        raise ValueError(f"radius must be a positive finite number, got {radius}")
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    n = X.shape[0]
    tree = cKDTree(X, boxsize=boxsize)
    pairs = tree.query_pairs(radius, output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    if mode == "connectivity":
        w = np.ones(len(i))
    else:
        diff = X[i] - X[j]
        if boxsize is not None:
            box = np.broadcast_to(np.asarray(boxsize, dtype=float), (X.shape[1],))
            diff = np.abs(diff)
            diff = np.minimum(diff, box - diff)
        w = np.maximum(np.linalg.norm(diff, axis=1), 1e-300)
    G = sp.csr_array(
        (np.concatenate([w, w]), (np.concatenate([i, j]), np.concatenate([j, i]))),
        shape=(n, n),
    )
    G.sort_indices()
    return G
