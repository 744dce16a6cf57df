"""RGGMetric: latent geodesic distances of a random geometric graph from its
adjacency matrix alone."""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._validation import (
    as_sparse_matrix,
    check_adjacency,
    check_random_state,
    component_report,
    largest_component,
)
from ..embedding import classical_mds, landmark_mds
from ..geodesics import select_landmarks, shortest_paths
from ..graphs import knn_graph, radius_graph
from ._calibration import calibrate as _calibrate
from ._dimension import estimate_dimension
from ._lens import ball_volume
from ._local import (
    cosine_similarity_on_edges,
    estimate_keep_rate,
    local_lengths,
)

#: all-pairs Dijkstra is used up to this many nodes when n_landmarks is None
ALL_PAIRS_MAX = 5000
#: landmarks used above ALL_PAIRS_MAX when n_landmarks is None
DEFAULT_LANDMARKS = 256


class RGGMetric(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Latent geodesic distances and an embedding from a random geometric graph.

    The graph is assumed to be a random geometric graph on an unknown
    ``d``-dimensional manifold: an edge joins two latent points closer than a
    radius ``r``, and each such edge may be missing independently with an
    unknown probability ``1 - q``.  From the adjacency matrix alone the
    estimator

    1. computes, on every edge, the cosine similarity of the two
       neighbourhoods with the pair removed,
       ``s_ij = C_ij / sqrt((k_i - 1)(k_j - 1))`` (``C = A A^T`` on the edges,
       ``k`` the degrees);
    2. estimates the dimension (``dimension="auto"``) and the keep rate
       ``q = mean(s) / m_d``;
    3. turns each ``s_ij`` into a local distance through the lens volume
       ``phi_d``: the posterior mean under a binomial likelihood (default) or
       clip-inversion;
    4. runs Dijkstra on those lengths plus an uncertainty penalty (all pairs,
       or from landmarks);
    5. divides out the shortest-path selection bias, measured on a matched
       flat-torus simulation;
    6. embeds the distances by classical (or landmark) MDS.

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
        Dimension of ``embedding_``.
    adjacency : {"precomputed", "radius", "knn"}, default="precomputed"
        ``"precomputed"``: ``X`` is the symmetric 0/1 adjacency matrix (sparse,
        dense, networkx or torch).  ``"radius"`` / ``"knn"``: ``X`` holds points
        and the graph is built with ``radius`` / ``n_neighbors``.
    n_neighbors : int, default=10
        Neighbours of the kNN graph (``adjacency="knn"``, union-symmetrized;
        at most ``n - 1``).
    local_rule : {"posterior", "clip"}, default="posterior"
        Local distance rule: the posterior mean of the edge length under the
        binomial likelihood of its common-neighbour count (robust to missing
        edges and sparse graphs), or clip-inversion of the lens volume.
    uncertainty_penalty : float, default=2.0
        Dijkstra weights are ``posterior mean + uncertainty_penalty *
        posterior sd`` (``"posterior"`` rule only): paths through edges whose
        length is uncertain are avoided, which lowers the variance of the
        path lengths; the resulting (positive) bias is removed by the
        calibration, so the penalty is ignored when ``calibrate=False``.
    calibrate : bool, default=True
        Correct the shortest-path selection bias by a matched flat-torus
        simulation (one extra pipeline run on 3000-16000 points).
    on_disconnected : {"raise", "largest"}, default="raise"
        Disconnected graphs raise a ValueError naming the components, or are
        restricted to their largest component (``component_`` lists its nodes;
        every fitted array then refers to those nodes only).
    min_mean_degree : float, default=8.0
        Graphs with a smaller mean degree are too sparse to invert and raise.
    max_dimension : int, default=6
        Largest candidate for ``dimension="auto"``.
    backend : str, default="auto"
        Passed to :func:`manigeo.graphs.common_neighbors` when it supports
        backends.
    device : str or None, default=None
        Torch device for the common-neighbour product, likewise.
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
    radius_ : float
        Scale of the output (1.0 when in units of ``r``).
    calibration_bias_ : float
        Relative bias divided out (0.0 without calibration).
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
        "uncertainty_penalty": [Interval(Real, 0, None, closed="left")],
        "calibrate": ["boolean"],
        "on_disconnected": [StrOptions({"raise", "largest"})],
        "min_mean_degree": [Interval(Real, 0, None, closed="left")],
        "max_dimension": [Interval(Integral, 1, None, closed="left")],
        "backend": [str],
        "device": "no_validation",
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        dimension="auto",
        radius=None,
        volume=None,
        n_landmarks=None,
        n_components=2,
        adjacency="precomputed",
        n_neighbors=10,
        local_rule="posterior",
        uncertainty_penalty=2.0,
        calibrate=True,
        on_disconnected="raise",
        min_mean_degree=8.0,
        max_dimension=6,
        backend="auto",
        device=None,
        random_state=None,
        verbose=False,
    ):
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
        self.on_disconnected = on_disconnected
        self.min_mean_degree = min_mean_degree
        self.max_dimension = max_dimension
        self.backend = backend
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = self.adjacency == "precomputed"
        tags.input_tags.pairwise = self.adjacency == "precomputed"
        return tags

    # ------------------------------------------------------------------ input
    def _graph(self, X):
        """Validated 0/1 symmetric adjacency and, for point input, the points."""
        if self.adjacency == "precomputed":
            if (
                not sp.issparse(X)
                and not isinstance(X, np.ndarray)
                and (hasattr(X, "adj") or hasattr(X, "layout"))
            ):
                X = as_sparse_matrix(X)  # networkx / torch
            X = validate_data(
                self,
                X,
                accept_sparse=("csr", "csc", "coo"),
                dtype=np.float64,
                ensure_min_samples=2,
            )
            if X.shape[0] != X.shape[1]:
                raise ValueError(
                    "adjacency='precomputed' expects a square n x n adjacency matrix, "
                    f"got shape {X.shape}; pass adjacency='knn' or 'radius' for points"
                )
            A = check_adjacency(X, binary=True, symmetric="raise", self_loops="remove")
            return A, None
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=2)
        if self.adjacency == "radius":
            if self.radius is None:
                raise ValueError("adjacency='radius' needs radius=<connection radius>")
            A = radius_graph(X, self.radius)
        else:
            A = knn_graph(X, min(self.n_neighbors, X.shape[0] - 1), symmetrize="union")
        A.data[:] = 1.0
        return A, X

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
    def fit(self, X, y=None):
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
        A, points = self._graph(X)
        A, keep = self._components(A)
        self.component_ = keep
        if keep is not None and points is not None:
            points = points[keep]
        n = A.shape[0]
        mean_degree = A.nnz / n
        if n < 3 or mean_degree < self.min_mean_degree:
            raise ValueError(
                f"the graph is too sparse to invert: mean degree {mean_degree:.2f} "
                f"on {n} nodes is below min_mean_degree={self.min_mean_degree:g} "
                "(common-neighbour counts carry no distance information)"
            )
        self.mean_degree_ = float(mean_degree)
        rng = check_random_state(self.random_state)
        seed_dim, seed_cal, seed_lm = (
            int(v) for v in rng.randint(0, 2**31 - 1, size=3)
        )

        s, K, _ = cosine_similarity_on_edges(
            A, backend=self.backend, device=self.device
        )
        if self.dimension == "auto":
            d, scores = estimate_dimension(
                s,
                mean_degree,
                max_dimension=self.max_dimension,
                rng=np.random.default_rng(seed_dim),
            )
            self.dimension_scores_ = scores
        else:
            d, self.dimension_scores_ = int(self.dimension), None
        self.dimension_ = d
        q = estimate_keep_rate(s, d)
        if not q > 0:
            raise ValueError(
                "the graph is too sparse to invert: no edge has a common neighbour"
            )
        self.edge_keep_rate_ = min(q, 1.0)
        # the penalty's bias is removed by the calibration only
        penalty = (
            self.uncertainty_penalty
            if self.local_rule == "posterior" and self.calibrate
            else 0.0
        )
        u, w = local_lengths(s, K, d, self.edge_keep_rate_, self.local_rule, penalty)
        del s, K
        W = A.copy()
        W.data = np.maximum(w, 1e-12)
        self._graph_r = W  # Dijkstra weights in units of r

        if self.n_landmarks is None and n <= ALL_PAIRS_MAX:
            self.landmarks_ = None
            D = shortest_paths(W, verbose=self.verbose)
        else:
            m = min(self.n_landmarks or DEFAULT_LANDMARKS, n)
            self.landmarks_, D = select_landmarks(
                W,
                m,
                method="farthest",
                random_state=seed_lm,
                return_distances=True,
                verbose=self.verbose,
            )

        if self.calibrate:
            self.calibration_, self.calibration_info_ = _calibrate(
                d,
                mean_degree,
                self.edge_keep_rate_,
                self.local_rule,
                penalty=penalty,
                # unpenalized raw paths are up to ~25 % short: aim past them
                reach=1.3 * float(D.max()),
                max_points=2 * n,
                seed=seed_cal,
            )
            self.calibration_bias_ = float(self.calibration_info_["bias"])
        else:
            self.calibration_, self.calibration_info_ = None, None
            self.calibration_bias_ = 0.0

        scale = self._scale(A, u, points, d, mean_degree)
        self.radius_ = float(scale)
        L = A.copy()
        L.data = np.maximum(u, 1e-12) * scale  # locally unbiased: not recalibrated
        self.local_distances_ = L
        self.geodesic_distances_ = self._apply_calibration(D) * scale
        if self.landmarks_ is None:
            self.embedding_ = classical_mds(
                self.geodesic_distances_, min(self.n_components, n)
            )
        else:
            self.embedding_ = landmark_mds(
                self.geodesic_distances_,
                self.landmarks_,
                min(self.n_components, len(self.landmarks_)),
            )
        return self

    def _apply_calibration(self, D):
        if self.calibration_ is None:
            return np.asarray(D, dtype=np.float64)
        return self.calibration_(D)

    def _scale(self, A, u, points, d, mean_degree):
        if self.radius is not None:
            return float(self.radius)
        if self.volume is not None:
            n = A.shape[0]
            return float(
                (
                    mean_degree
                    * self.volume
                    / (self.edge_keep_rate_ * (n - 1) * ball_volume(d))
                )
                ** (1 / d)
            )
        if points is not None:  # knn graph: express distances in ambient units
            rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
            ell = np.linalg.norm(points[rows] - points[A.indices], axis=1)
            return float(np.dot(ell, u) / max(np.dot(u, u), 1e-300))
        return 1.0

    def fit_transform(self, X, y=None):
        """Fit and return ``embedding_``.

        Parameters
        ----------
        X : {array-like, sparse matrix}
            As in :meth:`fit`.
        y : Ignored

        Returns
        -------
        embedding : ndarray of shape (n, n_components)
        """
        return self.fit(X).embedding_

    def geodesic_distances(self, sources=None):
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
        if self.landmarks_ is None:
            if sources is None:
                return self.geodesic_distances_.copy()
            n = self.geodesic_distances_.shape[0]
            sources = np.atleast_1d(np.asarray(sources))
            if sources.ndim != 1 or not np.issubdtype(sources.dtype, np.integer):
                raise TypeError("sources must be a 1-D array of integer node indices")
            if sources.size and (sources.min() < -n or sources.max() >= n):
                raise ValueError(f"sources must be node indices in [0, {n})")
            return self.geodesic_distances_[sources].copy()
        D = shortest_paths(self._graph_r, sources, verbose=self.verbose)
        return self._apply_calibration(D) * self.radius_

    @property
    def _n_features_out(self):
        """Number of output columns, for ``get_feature_names_out``."""
        return self.embedding_.shape[1]
