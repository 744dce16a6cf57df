"""RGG metric reconstruction on a Dask edge list (graphs larger than a machine).

Only public functions are used: :func:`manigeo.graphs.neighbor_similarity`
(Dask engine), the lens helpers of :mod:`manigeo.rgg`,
:func:`manigeo.geodesics.dask_landmark_paths` and
:func:`manigeo.embedding.landmark_mds` (applied per node block).
"""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.utils import Bunch


def _local_lengths(df, q, d):
    """Clip-inversion ``u = phi_d^{-1}(min(s / q, 1))`` of one partition."""
    from . import invert_lens

    u = invert_lens(np.minimum(df["similarity"].to_numpy() / q, 1.0), d)
    return np.maximum(u, 1e-12)


def _with_weight(df, q, d):
    out = df[["src", "dst"]].copy()
    out["weight"] = _local_lengths(df, q, d)
    return out


def _with_distance(df, q, d, scale):
    out = df[["src", "dst"]].copy()
    out["distance"] = _local_lengths(df, q, d) * scale
    return out


def _mds_block(DT_J, D_L, k):
    """Landmark-MDS coordinates of one node block (rows of ``DT_J``, n_J x m)."""
    from ..embedding import landmark_mds

    m = D_L.shape[0]
    Y = landmark_mds(np.hstack([D_L, DT_J.T]), np.arange(m), k)
    return Y[m:]


def rgg_fit_dask(
    edges,
    *,
    dimension,
    n_landmarks=256,
    radius=None,
    volume=None,
    n_components=2,
    landmark_method="random",
    strategy="auto",
    chunk_size=None,
    random_state=None,
):
    """RGG local distances, landmark geodesics and landmark MDS of a Dask edge list.

    The distributed form of :class:`manigeo.RGGMetric` (clip-inversion rule,
    no calibration): for a random geometric graph given as an edge list,

    1. ``s_ij`` = cosine similarity of the two neighbourhoods with the pair
       removed, ``C_ij / sqrt((k_i - 1)(k_j - 1))``, by the Dask engine of
       :func:`manigeo.graphs.neighbor_similarity` (weights are ignored);
    2. edge keep rate ``q = mean(s) / m_d`` (:func:`manigeo.rgg.edge_moments`);
    3. local lengths ``u = phi_d^{-1}(min(s / q, 1))``
       (:func:`manigeo.rgg.invert_lens`), in units of the radius;
    4. landmark geodesics on the lengths ``max(u, 1e-12)`` by
       :func:`manigeo.geodesics.dask_landmark_paths` (Dijkstra batches on one
       worker, or blockwise min-plus Bellman-Ford when the graph is larger);
    5. landmark MDS (:func:`manigeo.embedding.landmark_mds`) per node block.

    Parameters
    ----------
    edges : dask.dataframe.DataFrame
        Integer columns ``src``, ``dst``, every edge in both directions, of a
        connected graph.
    dimension : int or float
        Intrinsic dimension ``d`` of the latent manifold (required here).
    n_landmarks : int or array-like of int, default=256
        Number of landmarks (drawn uniformly with ``random_state``) or the
        landmark nodes.
    radius : float or None, default=None
        Connection radius ``r``: distances are returned in its units times
        ``r``.  ``None``: from ``volume`` if given, else ``r = 1``.
    volume : float or None, default=None
        Volume of the manifold; then ``r = (k q^-1 V / ((n - 1) V_d))^(1/d)``
        with ``k`` the mean degree (:func:`manigeo.rgg.ball_volume`).
    n_components : int, default=2
        Embedding dimension.
    landmark_method : {"random", "farthest"}, default="random"
        See :func:`manigeo.geodesics.dask_landmark_paths`.
    strategy : {"auto", "local", "blockwise"}, default="auto"
        Shortest-path strategy, see :func:`manigeo.geodesics.dask_landmark_paths`.
    chunk_size : int or None, default=None
        Nodes per block for every Dask step.
    random_state : int, RandomState or None, default=None
        Seeds the landmark draw.

    Returns
    -------
    result : sklearn.utils.Bunch
        - ``local_distances``: Dask DataFrame ``src, dst, distance`` (the rows
          of ``edges``, distances in the units of ``radius``);
        - ``dimension``, ``keep_rate`` (``min(q, 1)``; the same key as
          :func:`rgg_geodesics`, the old ``edge_keep_rate`` still works with a
          DeprecationWarning), ``radius``
          (the scale used), ``mean_degree``, ``n_nodes``;
        - ``landmarks``: ndarray of shape (n_landmarks,);
        - ``geodesic_distances``: Dask array of shape (n_landmarks, n_nodes),
          landmark-to-node geodesics (uncalibrated);
        - ``embedding``: Dask array of shape (n_nodes, n_components).

    Examples
    --------
    >>> import numpy as np, pandas as pd, dask.dataframe as dd
    >>> from manigeo.datasets import sample_rgg
    >>> from manigeo.rgg import rgg_fit_dask
    >>> X = np.random.default_rng(0).uniform(size=(300, 2))
    >>> A = sample_rgg(X, 0.2, boxsize=1.0)  # flat torus, mean degree ~ 38
    >>> r, c = A.nonzero()
    >>> edges = dd.from_pandas(pd.DataFrame({"src": r, "dst": c}), npartitions=3)
    >>> res = rgg_fit_dask(edges, dimension=2, n_landmarks=20, radius=0.2,
    ...                    random_state=0)
    >>> res.geodesic_distances.shape, res.embedding.shape
    ((20, 300), (300, 2))
    """
    from .._backend import is_dask_dataframe

    if not is_dask_dataframe(edges):
        raise TypeError(
            "rgg_fit_dask takes a dask.dataframe.DataFrame edge list (columns "
            f"'src', 'dst'), got {type(edges).__name__}; for an in-memory graph "
            "use rgg_geodesics or RGGMetric"
        )
    import dask

    from ..embedding import landmark_mds  # noqa: F401  (fail early if missing)
    from ..geodesics import dask_landmark_paths
    from ..graphs import neighbor_similarity
    from . import ball_volume, edge_moments

    if isinstance(dimension, bool) or not isinstance(dimension, Real):
        raise TypeError(f"dimension must be a number, got {type(dimension).__name__}")
    d = float(dimension)
    if not d > 0:
        raise ValueError(f"dimension must be positive, got {dimension}")
    for name, val in (("radius", radius), ("volume", volume)):
        if val is not None and not (isinstance(val, Real) and val > 0):
            raise ValueError(f"{name} must be a positive number or None, got {val!r}")
    if isinstance(n_components, bool) or not isinstance(n_components, Integral):
        raise TypeError("n_components must be an integer")

    S = neighbor_similarity(edges, "cosine", binary=True, chunk_size=chunk_size)
    S = S.persist()
    total, count, n_nodes = dask.compute(
        S["similarity"].sum(), S["similarity"].count(), S["src"].max()
    )
    n = int(n_nodes) + 1
    if count == 0:
        raise ValueError("the edge list is empty")
    q = float(total / count) / edge_moments(d)
    if not q > 0:
        raise ValueError(
            "the graph is too sparse to invert: no edge has a common neighbour"
        )
    q = min(q, 1.0)
    mean_degree = count / n
    if radius is not None:
        scale = float(radius)
    elif volume is not None:
        scale = (mean_degree * volume / (q * (n - 1) * ball_volume(d))) ** (1 / d)
    else:
        scale = 1.0

    meta_w = edges._meta[["src", "dst"]].assign(weight=np.zeros(0))
    W = S.map_partitions(_with_weight, q, d, meta=meta_w)
    landmarks, D = dask_landmark_paths(
        W,
        n_landmarks,
        method=landmark_method,
        random_state=random_state,
        strategy=strategy,
        chunk_size=chunk_size,
    )
    D = (D * scale).persist()
    m = len(landmarks)
    k = min(int(n_components), m)
    D_L = D[:, landmarks].compute()
    DT = D.T.rechunk((D.chunks[1], (m,)))
    Y = DT.map_blocks(_mds_block, D_L, k, chunks=(DT.chunks[0], (k,)), dtype=float)
    meta_d = edges._meta[["src", "dst"]].assign(distance=np.zeros(0))
    local = S.map_partitions(_with_distance, q, d, scale, meta=meta_d)
    return _RenamedKeys(
        local_distances=local,
        dimension=d,
        keep_rate=q,
        radius=scale,
        mean_degree=float(mean_degree),
        n_nodes=n,
        landmarks=np.asarray(landmarks),
        geodesic_distances=D,
        embedding=Y,
    )


class _RenamedKeys(Bunch):
    """A Bunch whose renamed keys still read, with a DeprecationWarning."""

    _renamed = {"edge_keep_rate": "keep_rate"}

    def __getitem__(self, key):
        if key in self._renamed:
            warnings.warn(
                f"the result key {key!r} is renamed {self._renamed[key]!r} (as in "
                "rgg_geodesics); the old name will be removed in the next release",
                DeprecationWarning,
                stacklevel=3,
            )
            key = self._renamed[key]
        return super().__getitem__(key)
