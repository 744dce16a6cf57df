"""RGGMetric: latent geodesic distances of a random geometric graph from its
adjacency matrix alone (a thin estimator over :func:`rgg_geodesics`)."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.neighbors import NearestNeighbors
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._backend import is_dask_dataframe
from .._validation import (
    as_sparse_matrix,
    check_adjacency,
    check_node_indices,
    component_report,
    largest_component,
)
from ..embedding import classical_mds, landmark_mds
from ..geodesics import shortest_paths
from ..graphs import knn_graph, radius_graph
from ._core import ALL_PAIRS_MAX, DEFAULT_LANDMARKS, rgg_geodesics
from ._dask import rgg_fit_dask
from ._local import local_lengths


class RGGMetric(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Latent geodesic distances and an embedding from a random geometric graph.

    The graph is assumed to be a random geometric graph on an unknown
    ``d``-dimensional manifold: an edge joins two latent points closer than a
    radius ``r``, and each such edge may be missing independently with an
    unknown probability ``1 - q``.  From the adjacency matrix alone the
    estimator (a thin shell over :func:`manigeo.rgg.rgg_geodesics`)

    1. computes, on every edge, the cosine similarity of the two
       neighbourhoods with the pair removed,
       ``s_ij = C_ij / sqrt((k_i - 1)(k_j - 1))`` (``C = A A^T`` on the edges,
       ``k`` the degrees);
    2. estimates the dimension (``dimension="auto"``) and the keep rate
       ``q = mean(s) / m_d``;
    3. tests that the graph is consistent with a random geometric graph
       (``fit_statistics_``; ``on_misfit``);
    4. turns each ``s_ij`` into a local distance through the lens volume
       ``phi_d``: the posterior mean under a binomial likelihood (default) or
       clip-inversion;
    5. runs Dijkstra on those lengths (all pairs, or from landmarks);
    6. divides out the shortest-path selection bias, measured on a matched
       flat-torus simulation, or on a matched round sphere when triangle
       comparison of the distances finds a significantly positive curvature;
    7. embeds the distances by classical (or landmark) MDS.

    New nodes, given by their edges to the training nodes, are placed by
    :meth:`transform` (landmark-MDS triangulation) and
    :meth:`transform_distances` (their geodesic distances).

    Distances are in units of ``r`` unless ``radius`` (or the manifold
    ``volume``) is given.  See the user guide (``docs/user_guide/rgg.rst``).

    Parameters
    ----------
    dimension : "auto" or int, default="auto"
        Intrinsic dimension ``d``; ``"auto"`` estimates it from the second
        moment of the edge similarities (see ``dimension_scores_``).
    radius : float or None, default=None
        Connection radius ``r``: distances are returned in its units.  Required
        with ``adjacency="radius"``.  ``None``: units of ``r`` (or of the
        ``volume``).
    volume : float or None, default=None
        Volume of the latent manifold; with uniform points it fixes the scale
        ``r = (k * volume / (q (n - 1) V_d))^(1/d)``.  Ignored if ``radius``
        is given.
    n_landmarks : int or None, default=None
        Compute geodesics only from this many farthest-point landmarks.
        ``None``: all pairs up to 5000 nodes, else 256 landmarks.
    n_components : int, default=2
        Dimension of ``embedding_``; below the number of nodes (all pairs) or
        of landmarks.
    adjacency : {"precomputed", "radius", "knn"}, default="precomputed"
        ``"precomputed"``: ``X`` is the symmetric 0/1 adjacency matrix (sparse,
        dense, networkx or torch).  ``"radius"`` / ``"knn"``: ``X`` holds points
        and the graph is built with ``radius`` / ``n_neighbors``.
    n_neighbors : int, default=10
        Neighbours of the kNN graph (``adjacency="knn"``, union-symmetrized;
        below ``n - 1``, else the graph is complete and fit raises).
    local_rule : {"posterior", "clip"}, default="posterior"
        Local distance rule: the posterior mean of the edge length under the
        binomial likelihood of its common-neighbour count (robust to missing
        edges and sparse graphs), or clip-inversion of the lens volume.
    uncertainty_penalty : "auto" or float, default="auto"
        Dijkstra weights are ``posterior mean + uncertainty_penalty *
        posterior sd`` (``"posterior"`` rule only): paths through edges whose
        length is uncertain are avoided; the resulting (positive) bias is
        removed by the calibration, so the penalty is ignored when the
        calibration is off or skipped.  ``"auto"`` runs penalties 0 and 2 on
        the same calibration torus and keeps the one whose calibrated
        distances are more accurate on held-out sources
        (``calibration_info_["penalty_scores"]``): 0 wins on fully observed
        graphs (a penalty of 2 was 5-40 % worse on every measured family),
        2 where many edges are missing (keep rate about 0.5).
    calibrate : bool, default=True
        Correct the shortest-path selection bias by a matched flat-torus
        simulation (one extra pipeline run, within a budget of a few times
        the data's edges; skipped, and noted in ``calibration_info_``, when
        no torus fits the budget), replaced by a matched round sphere when
        the estimated curvature is positive by more than 4 standard errors
        (``calibration_info_["curvature_estimate"]``).
    on_misfit : {"raise", "warn", "ignore"}, default="raise"
        What to do when the graph fails the goodness-of-fit test of the RGG
        model (``fit_statistics_``): raise a ValueError naming the failed
        statistic, warn, or fit anyway.
    on_disconnected : {"raise", "largest"}, default="raise"
        Disconnected graphs raise a ValueError naming the components, or are
        restricted to their largest component (``component_`` lists its nodes;
        every fitted array then refers to those nodes only).
    min_mean_degree : float, default=8.0
        Graphs with a smaller mean degree are too sparse to invert and raise.
    max_dimension : int, default=6
        Largest candidate for ``dimension="auto"``.
    backend : str, default="auto"
        Backend of :func:`manigeo.graphs.neighbor_similarity`.
    device : str or None, default=None
        Torch device for the common-neighbour product, likewise.
    n_jobs : int or None, default=None
        Parallel work items through joblib (dimension candidates, Dijkstra
        batches); results are identical to ``n_jobs=1``.
    random_state : int, RandomState or None, default=None
        Seeds the simulations and the landmark choice.
    verbose : bool, default=False
        Progress bars for the landmark Dijkstra.

    Attributes
    ----------
    dimension_ : int
        Dimension used.
    dimension_scores_ : dict or None
        Observed and simulated moment ratios (``dimension="auto"`` only).
    edge_keep_rate_ : float
        Estimated keep rate ``q`` (clipped to at most 1).
    fit_statistics_ : dict
        Goodness-of-fit statistics (``keep_rate``, ``lens_dispersion``, ...)
        and their accepted ``ranges``.
    radius_ : float
        Scale of the output (1.0 when in units of ``r``).
    calibration_bias_ : float
        Relative bias divided out (0.0 without calibration).
    calibration_info_ : dict or None
        Size and reach of the calibration torus, or why it was skipped.
    local_distances_ : scipy.sparse.csr_array of shape (n, n)
        Estimated latent distance on every edge (posterior mean or
        clip-inversion, in output units).
    geodesic_distances_ : ndarray of shape (n, n) or (n_landmarks, n)
        All pairs, or the landmark rows.
    landmarks_ : ndarray of shape (n_landmarks,) or None
        Landmark nodes (rows of ``geodesic_distances_``), None for all pairs.
    embedding_ : ndarray of shape (n, n_components)
        Classical / landmark MDS coordinates.
    component_ : ndarray or None
        Nodes kept with ``on_disconnected="largest"`` (None if all).
    mean_degree_ : float
    n_features_in_ : int

    Examples
    --------
    >>> from manigeo.datasets import make_sphere, sample_rgg
    >>> from manigeo import RGGMetric
    >>> X, geo = make_sphere(800, random_state=0)
    >>> A = sample_rgg(X, 0.5, geodesic=geo, random_state=0)
    >>> est = RGGMetric(radius=0.5, n_landmarks=20, random_state=0).fit(A)
    >>> est.dimension_, est.geodesic_distances_.shape, est.embedding_.shape
    (2, (20, 800), (800, 2))
    >>> est.transform(A[:3]).shape  # out of sample: edges to the 800 nodes
    (3, 2)
    """

    _parameter_constraints = {
        "dimension": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "radius": [Interval(Real, 0, None, closed="neither"), None],
        "volume": [Interval(Real, 0, None, closed="neither"), None],
        "n_landmarks": [Interval(Integral, 1, None, closed="left"), None],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "adjacency": [StrOptions({"precomputed", "radius", "knn"})],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "local_rule": [StrOptions({"clip", "posterior"})],
        "uncertainty_penalty": [
            StrOptions({"auto"}),
            Interval(Real, 0, None, closed="left"),
        ],
        "calibrate": ["boolean"],
        "on_misfit": [StrOptions({"raise", "warn", "ignore"})],
        "on_disconnected": [StrOptions({"raise", "largest"})],
        "min_mean_degree": [Interval(Real, 0, None, closed="left")],
        "max_dimension": [Interval(Integral, 1, None, closed="left")],
        "backend": [str],
        "device": "no_validation",
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        dimension: str | int = "auto",
        radius: float | None = None,
        volume: float | None = None,
        n_landmarks: int | None = None,
        n_components: int = 2,
        adjacency: str = "precomputed",
        n_neighbors: int = 10,
        local_rule: str = "posterior",
        uncertainty_penalty: str | float = "auto",
        calibrate: bool = True,
        on_misfit: str = "raise",
        on_disconnected: str = "raise",
        min_mean_degree: float = 8.0,
        max_dimension: int = 6,
        backend: str = "auto",
        device=None,
        n_jobs: int | None = None,
        random_state=None,
        verbose: bool = False,
    ) -> None:
        self.dimension = dimension
        self.radius = radius
        self.volume = volume
        self.n_landmarks = n_landmarks
        self.n_components = n_components
        self.adjacency = adjacency
        self.n_neighbors = n_neighbors
        self.local_rule = local_rule
        self.uncertainty_penalty = uncertainty_penalty
        self.calibrate = calibrate
        self.on_misfit = on_misfit
        self.on_disconnected = on_disconnected
        self.min_mean_degree = min_mean_degree
        self.max_dimension = max_dimension
        self.backend = backend
        self.device = device
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = self.adjacency == "precomputed"
        tags.input_tags.pairwise = self.adjacency == "precomputed"
        return tags

    # ------------------------------------------------------------------ input
    def _graph(self, X):
        """Validated 0/1 symmetric adjacency and, for point input, the points.

        The single place where fit converts its input.
        """
        if self.adjacency == "precomputed":
            X = self._as_matrix(X, reset=True)
            if X.shape[0] != X.shape[1]:
                raise ValueError(
                    "adjacency='precomputed' expects a square n x n adjacency "
                    f"matrix, got shape {X.shape}; pass adjacency='knn' or "
                    "'radius' for points"
                )
            A = check_adjacency(X, binary=True, symmetric="ignore", self_loops="remove")
            return A, None
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=2)
        if self.adjacency == "radius":
            if self.radius is None:
                raise ValueError("adjacency='radius' needs radius=<connection radius>")
            A = radius_graph(X, self.radius)
        else:
            if self.n_neighbors >= X.shape[0] - 1:
                raise ValueError(
                    f"n_neighbors={self.n_neighbors} with {X.shape[0]} points gives "
                    "a complete graph, which carries no distance information; "
                    f"use n_neighbors < {X.shape[0] - 1}"
                )
            A = knn_graph(X, self.n_neighbors, symmetrize="union")
        A.data[:] = 1.0
        return A, X

    def _as_matrix(self, X, *, reset):
        if (
            not sp.issparse(X)
            and not isinstance(X, np.ndarray)
            and (hasattr(X, "adj") or hasattr(X, "layout"))
        ):
            X = as_sparse_matrix(X)  # networkx / torch
        return validate_data(
            self,
            X,
            accept_sparse=("csr", "csc", "coo"),
            dtype=np.float64,
            ensure_min_samples=1 if not reset else 2,
            reset=reset,
        )

    def _components(self, A):
        n_comp, labels, sizes = component_report(A)
        if n_comp == 1:
            return A, None
        if self.on_disconnected == "raise":
            order = np.argsort(sizes)[::-1]
            shown = ", ".join(
                f"#{c}: {sizes[c]} nodes (e.g. node {np.flatnonzero(labels == c)[0]})"
                for c in order[:5]
            )
            raise ValueError(
                f"the graph is disconnected: {n_comp} connected components "
                f"[{shown}{', ...' if n_comp > 5 else ''}]; geodesics between "
                "components are undefined. Pass on_disconnected='largest' to use "
                "the largest component"
            )
        keep, _ = largest_component(A)
        A = sp.csr_array(A[keep][:, keep])
        A.sort_indices()
        return A, keep

    # -------------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None) -> RGGMetric:
        """Estimate local and geodesic distances and the embedding.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n, n) or (n, n_features)
            Adjacency matrix (``adjacency="precomputed"``) or points.
        y : Ignored

        Returns
        -------
        self : RGGMetric
        """
        if is_dask_dataframe(X):
            return self._fit_dask(X)
        self._dask = False
        A, points = self._graph(X)
        A, keep = self._components(A)
        self.component_ = keep
        if keep is not None and points is not None:
            points = points[keep]
        n = A.shape[0]
        if self.n_landmarks is not None:
            n_anchor = min(self.n_landmarks, n)
        else:
            n_anchor = n if n <= ALL_PAIRS_MAX else min(DEFAULT_LANDMARKS, n)
        if self.n_components >= n_anchor:
            what = "nodes" if self.n_landmarks is None else "landmarks"
            raise ValueError(
                f"n_components={self.n_components} needs more than "
                f"{self.n_components} {what}, got {n_anchor}: MDS of m points has "
                "at most m - 1 coordinates"
            )
        res = rgg_geodesics(
            A,
            dimension=self.dimension,
            radius=self.radius if self.adjacency != "knn" else None,
            volume=self.volume if self.adjacency != "knn" else None,
            n_landmarks=self.n_landmarks,
            local_rule=self.local_rule,
            uncertainty_penalty=self.uncertainty_penalty,
            calibrate=self.calibrate,
            on_misfit=self.on_misfit,
            min_mean_degree=self.min_mean_degree,
            max_dimension=self.max_dimension,
            backend=self.backend,
            device=self.device,
            n_jobs=self.n_jobs,
            random_state=self.random_state,
            verbose=self.verbose,
        )
        scale = res.radius
        if self.adjacency == "knn":  # express distances in ambient units
            scale = self._knn_scale(A, res.local_distances.data, points)
            res.local_distances.data *= scale
            res.geodesic_distances *= scale
        self.mean_degree_ = res.mean_degree
        self.dimension_ = res.dimension
        self.dimension_scores_ = res.dimension_scores
        self.edge_keep_rate_ = res.keep_rate
        self.fit_statistics_ = res.fit_statistics
        self.radius_ = float(scale)
        self.calibration_ = res.calibration
        self.calibration_info_ = res.calibration_info
        self.calibration_bias_ = res.calibration_bias
        self.local_distances_ = res.local_distances
        self.geodesic_distances_ = res.geodesic_distances
        self.landmarks_ = res.landmarks
        # what transform needs: the graph, its path weights, the local rule
        self._adjacency = A
        self._graph_r = res.weights
        self._penalty = res.penalty
        self._raw_landmarks = res.raw_landmark_distances
        self._points = points
        self._embed()
        return self

    def _fit_dask(self, edges):
        """Fit on a Dask edge list (``src``, ``dst``) with :func:`rgg_fit_dask`."""
        if not isinstance(self.dimension, Integral):
            raise ValueError(
                "a Dask edge list needs an integer dimension (dimension='auto' "
                "estimates it from simulations that need the whole graph in "
                f"memory), got dimension={self.dimension!r}"
            )
        if self.adjacency != "precomputed":
            raise ValueError(
                "a Dask edge list is an adjacency: use adjacency='precomputed', "
                f"got {self.adjacency!r}"
            )
        res = rgg_fit_dask(
            edges,
            dimension=int(self.dimension),
            n_landmarks=DEFAULT_LANDMARKS
            if self.n_landmarks is None
            else self.n_landmarks,
            radius=self.radius,
            volume=self.volume,
            n_components=self.n_components,
            random_state=self.random_state,
        )
        self._dask = True
        self.component_ = None
        self.mean_degree_ = res.mean_degree
        self.dimension_ = res.dimension
        self.edge_keep_rate_ = res.keep_rate
        self.radius_ = res.radius
        self.local_distances_ = res.local_distances
        self.landmarks_ = res.landmarks
        self.geodesic_distances_ = res.geodesic_distances
        self.embedding_ = res.embedding
        self.n_features_in_ = int(res.n_nodes)
        return self

    @staticmethod
    def _knn_scale(A, u, points):
        rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
        ell = np.linalg.norm(points[rows] - points[A.indices], axis=1)
        return float(np.dot(ell, u) / max(np.dot(u, u), 1e-300))

    def _embed(self):
        """MDS embedding and its triangulation basis for out-of-sample nodes."""
        G = self.geodesic_distances_
        k = self.n_components
        if self.landmarks_ is None:
            Y, w = classical_mds(G, k, return_eigenvalues=True)
            block = G
        else:
            Y = landmark_mds(G, self.landmarks_, k)
            block = G[:, self.landmarks_]
            _, w = classical_mds(block, k, return_eigenvalues=True)
            Y_l = Y[self.landmarks_]
        D2 = block**2
        D2 = 0.5 * (D2 + D2.T)
        self._mds_mean = D2.mean(axis=1)
        base = Y if self.landmarks_ is None else Y_l
        self._mds_pinv = np.where(w > 1e-12 * max(w[0], 1e-300), base / w, 0.0)
        self.embedding_ = Y

    def fit_transform(self, X, y=None) -> np.ndarray:
        """Fit and return the coordinates of every input node.

        Parameters
        ----------
        X : {array-like, sparse matrix}
            As in :meth:`fit`.
        y : Ignored

        Returns
        -------
        embedding : ndarray of shape (n, n_components)
            ``embedding_``.  With ``on_disconnected="largest"`` and a
            disconnected graph, the rows of the kept nodes are ``embedding_``;
            the other points are placed by :meth:`transform` (point input) or
            are NaN (an adjacency matrix: no edge reaches them).
        """
        self.fit(X)
        if self.component_ is None:
            return self.embedding_
        if self.adjacency == "precomputed":
            n, Xa = self.n_features_in_, None
        else:
            Xa = validate_data(self, X, dtype=np.float64, reset=False)
            n = Xa.shape[0]
        Y = np.full((n, self.embedding_.shape[1]), np.nan)
        Y[self.component_] = self.embedding_
        if Xa is not None:
            others = np.setdiff1d(np.arange(n), self.component_)
            Y[others] = self.transform(Xa[others])
        return Y

    # ---------------------------------------------------------- out of sample
    def _new_edges(self, X):
        """(n_new, n_fit) 0/1 edges of new nodes, and their duplicates (or -1)."""
        if self.adjacency == "precomputed":
            B = self._as_matrix(X, reset=False)
            B = sp.csr_array(B, dtype=np.float64)
            B.sum_duplicates()
            B.eliminate_zeros()
            if B.nnz and not np.all(B.data == 1.0):
                raise ValueError(
                    "X must be a binary 0/1 adjacency of new nodes to the "
                    f"training nodes, found weight {B.data[B.data != 1.0][0]!r}"
                )
            if self.component_ is not None:
                B = sp.csr_array(B[:, self.component_])
            return B, np.full(B.shape[0], -1)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        nn = NearestNeighbors().fit(self._points)
        if self.adjacency == "radius":
            B = nn.radius_neighbors_graph(X, radius=self.radius, mode="distance")
        else:
            B = nn.kneighbors_graph(X, n_neighbors=self.n_neighbors, mode="distance")
        dist, idx = nn.kneighbors(X, n_neighbors=1)
        dup = np.where(dist[:, 0] == 0.0, idx[:, 0], -1)
        B = sp.csr_array(B)
        B.data[:] = 1.0
        return B, dup

    def _new_weights(self, B):
        """Dijkstra weights (units of r) of the new nodes' edges, CSR like B."""
        A = self._adjacency
        B = sp.csr_array(B)
        B.sort_indices()
        deg_new = np.diff(B.indptr).astype(np.float64)
        empty = np.flatnonzero(deg_new == 0)
        if empty.size:
            raise ValueError(
                f"{empty.size} new node(s) (e.g. row {empty[0]}) have no edge to "
                "the training nodes: their geodesic distances are undefined"
            )
        rows = np.repeat(np.arange(B.shape[0]), np.diff(B.indptr))
        C = np.empty(B.nnz)
        step = max(1, int(2e7 // max(1, B.nnz // max(B.shape[0], 1)) ** 2))
        for a in range(0, B.shape[0], step):
            lo, hi = B.indptr[a], B.indptr[min(a + step, B.shape[0])]
            P = sp.csr_array(B[a : a + step] @ A)
            C[lo:hi] = P[rows[lo:hi] - a, B.indices[lo:hi]]
        deg = np.diff(A.indptr).astype(np.float64)
        K = np.sqrt(np.maximum(deg_new[rows] - 1.0, 0.0) * deg[B.indices])
        s = np.divide(C, K, out=np.zeros_like(C), where=K > 0)
        q = self.edge_keep_rate_
        _, w = local_lengths(s, K, self.dimension_, q, self.local_rule, self._penalty)
        Wb = sp.csr_array((np.maximum(w, 1e-12), B.indices, B.indptr), shape=B.shape)
        return Wb

    def _new_raw_distances(self, Wb):
        """Uncalibrated distances (units of r) from new nodes to the anchors."""
        if self.landmarks_ is not None:
            D = np.empty((Wb.shape[0], len(self.landmarks_)))
            for i in range(Wb.shape[0]):
                sl = slice(Wb.indptr[i], Wb.indptr[i + 1])
                cols, w = Wb.indices[sl], Wb.data[sl]
                D[i] = (self._raw_landmarks[:, cols] + w).min(axis=1)
            return D
        return self._new_paths(Wb)

    def _new_paths(self, Wb):
        n, m = self._adjacency.shape[0], Wb.shape[0]
        # new nodes only send edges: they never shortcut the training graph
        aug = sp.hstack(
            [sp.vstack([self._graph_r, Wb]), sp.csr_array((n + m, m))], format="csr"
        )
        sources = np.arange(n, n + m)
        if self.n_jobs in (None, 1) or m < 64:
            D = shortest_paths(aug, sources, directed=True, on_disconnected="inf")
        else:
            batches = np.array_split(sources, min(m // 32, 64))
            D = np.vstack(
                Parallel(n_jobs=self.n_jobs)(
                    delayed(shortest_paths)(
                        aug, b, directed=True, on_disconnected="inf"
                    )
                    for b in batches
                )
            )
        return D[:, :n]

    def _calibrated(self, D):
        D = np.asarray(D, dtype=np.float64)
        if self.calibration_ is not None:
            D = self.calibration_(D)
        return D * self.radius_

    def transform(self, X) -> np.ndarray:
        """Coordinates of new nodes in the space of ``embedding_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_new, n) or (n_new, n_features)
            With ``adjacency="precomputed"``: the 0/1 adjacency of the new
            nodes to the ``n`` training nodes (columns in the order of the
            matrix given to :meth:`fit`).  With point input: new points, joined
            to the training points as in :meth:`fit`.

        Returns
        -------
        Y : ndarray of shape (n_new, n_components)
            Landmark-MDS triangulation from the new nodes' estimated geodesic
            distances to the landmarks (all training nodes without landmarks).
            A new point equal to a training point gets that point's row.
        """
        check_is_fitted(self, "embedding_")
        B, dup = self._new_edges(X)
        Y = np.empty((B.shape[0], self.embedding_.shape[1]))
        new = dup < 0
        if np.any(new):
            Bn = sp.csr_array(B[np.flatnonzero(new)])
            D = self._calibrated(self._new_raw_distances(self._new_weights(Bn)))
            Y[new] = -0.5 * (D**2 - self._mds_mean) @ self._mds_pinv
        Y[~new] = self.embedding_[dup[~new]]
        return Y

    def transform_distances(self, X) -> np.ndarray:
        """Estimated geodesic distances from new nodes to every training node.

        Parameters
        ----------
        X : {array-like, sparse matrix}
            As in :meth:`transform`.

        Returns
        -------
        D : ndarray of shape (n_new, n_fit)
            Dijkstra from each new node through its edges into the training
            graph, calibrated like ``geodesic_distances_`` (``n_fit`` counts
            the nodes kept by ``on_disconnected``).
        """
        check_is_fitted(self, "embedding_")
        B, dup = self._new_edges(X)
        D = self._calibrated(self._new_paths(self._new_weights(B)))
        for i in np.flatnonzero(dup >= 0):
            D[i] = self.geodesic_distances(dup[i : i + 1])[0]
        return D

    def geodesic_distances(self, sources=None) -> np.ndarray:
        """Estimated geodesic distances from ``sources`` to every node.

        Parameters
        ----------
        sources : array-like of int or None, default=None
            Node indices (of the fitted graph); ``None`` means all nodes
            (size-guarded).

        Returns
        -------
        D : ndarray of shape (n_sources, n)
        """
        check_is_fitted(self, "local_distances_")
        if getattr(self, "_dask", False):
            # rows of the landmark-by-node Dask array; other rows would need
            # a new distributed shortest-path run
            if sources is None:
                return self.geodesic_distances_
            sources = check_node_indices(sources, self.n_features_in_)
            where = {int(v): i for i, v in enumerate(self.landmarks_)}
            missing = [int(v) for v in sources if int(v) not in where]
            if missing:
                raise ValueError(
                    "after a fit on a Dask edge list, geodesic distances are "
                    f"available from the landmarks only; {missing[:5]} are not "
                    "landmarks (see landmarks_)"
                )
            return self.geodesic_distances_[[where[int(v)] for v in sources]]
        n = self._adjacency.shape[0]
        if self.landmarks_ is None:
            if sources is None:
                return self.geodesic_distances_.copy()
            sources = check_node_indices(sources, n)
            return self.geodesic_distances_[sources].copy()
        sources = np.arange(n) if sources is None else check_node_indices(sources, n)
        D = shortest_paths(self._graph_r, sources, verbose=self.verbose)
        return self._calibrated(D)

    @property
    def _n_features_out(self):
        """Number of output columns, for ``get_feature_names_out``."""
        return self.embedding_.shape[1]
