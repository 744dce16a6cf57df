"""Heat-geodesic distances and embeddings (Huguet et al., NeurIPS 2023).

The pipeline, for the ``m`` anchor points (all samples, or a random subsample
in landmark mode):

1. affinity graph ``W`` (alpha-decay or Gaussian kNN kernel) and its
   symmetric normalized Laplacian ``L = I - D^{-1/2} W D^{-1/2}``;
2. heat kernel ``H_t = exp(-t L)``, as the density of the random walk heat
   kernel with respect to its stationary measure,
   ``K_t(i, j) = vol * H_t(i, j) / sqrt(deg_i deg_j)``;
3. Varadhan-style distance
   ``d_t(i, j)^2 = max(0, -4t log K_t(i, j) + sigma 4t log V(i, j))`` with the
   volume term ``V(i, j) = sqrt(K_t(i, i) K_t(j, j))``;
4. metric MDS (SMACOF from classical MDS) of ``d_t``.

Points that are not anchors (and new points in ``transform``) are attached
to their nearest anchors by the same kernel, ``w_x``; the heat kernel extends
bilinearly (the walk that starts from the distribution ``w_x``),
``K_t(x, b) = sum_a w_xa K_t(a, b)``, and the embedding by the same weights.
"""

import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._validation import check_dense_size
from ..graphs import alpha_decay_kernel, gaussian_kernel, knn_graph, laplacian
from ..heat._chebyshev import _chebyshev_apply, chebyshev_order, spectrum_bound
from ..heat._squaring import heat_doubling
from ._mds import classical_mds
from ._smacof import smacof

#: below this many samples ``n_landmarks="auto"`` embeds every point exactly
AUTO_FULL_MAX = 2000
#: anchors used by ``n_landmarks="auto"`` above :data:`AUTO_FULL_MAX`
AUTO_LANDMARKS = 1000
_TINY = 1e-300
_N_PROBES = 48
_MAX_LEVELS = 16


def _heat_distance_block(Krows, Kdiag_rows, Kdiag_cols, t, sigma):
    """d_t for a block of kernel-density values (rows x cols)."""
    V = np.sqrt(np.outer(Kdiag_rows, Kdiag_cols))
    with np.errstate(divide="ignore"):
        D2 = (
            -4.0
            * t
            * (np.log(np.maximum(Krows, _TINY)) - sigma * np.log(np.maximum(V, _TINY)))
        )
    np.maximum(D2, 0.0, out=D2)
    return np.sqrt(D2, out=D2)


def _hop_diameter(A):
    """Double-sweep BFS lower bound of the hop diameter (exact on trees)."""
    d = csgraph.breadth_first_order(A, 0, directed=False, return_predecessors=False)
    far = d[-1]
    dist = csgraph.shortest_path(A, unweighted=True, indices=[int(far)], directed=False)
    finite = dist[np.isfinite(dist)]
    return int(finite.max()) if finite.size else 0


def _attachment(geom, X, A):
    """Row-stochastic (n, m): own cell plus the cells of each sample's kernel edges."""
    Wf = geom._fine_W
    n = X.shape[0]
    T = (Wf + sp.identity(n, format="csr")) @ A
    anchors = geom.anchors_
    keep = np.ones(n)
    keep[anchors] = 0.0
    # a landmark is attached to itself only
    own = sp.csr_array(
        (np.ones(len(anchors)), (anchors, np.arange(len(anchors)))), shape=T.shape
    )
    T = sp.csr_array(sp.diags_array(keep) @ T + own)
    rs = np.asarray(T.sum(axis=1)).ravel()
    return sp.csr_array(sp.diags_array(1.0 / rs) @ T)


class _HeatGeometry:
    """Heat kernel density and heat-geodesic distances on a set of anchor points."""

    def __init__(
        self,
        *,
        n_neighbors,
        kernel,
        decay,
        t,
        sigma,
        solver,
        order,
        random_state,
        verbose,
    ):
        self.n_neighbors = n_neighbors
        self.kernel = kernel
        self.decay = decay
        self.t = t
        self.sigma = sigma
        self.solver = solver
        self.order = order
        self.random_state = random_state
        self.verbose = verbose

    # -- graph -------------------------------------------------------------------------
    def _graph(self, X):
        m = X.shape[0]
        k = self.n_neighbors
        if k >= m:
            raise ValueError(
                f"n_neighbors={k} must be smaller than the number of points the graph "
                f"is built on ({m})"
            )
        if self.kernel == "alpha":
            W = alpha_decay_kernel(X, k, decay=self.decay)
        else:
            W = gaussian_kernel(knn_graph(X, k, mode="distance"), sigma="median")
        n_comp, labels = csgraph.connected_components(W, directed=False)
        if n_comp > 1:
            warnings.warn(
                f"the {self.kernel} kNN graph (n_neighbors={k}) has {n_comp} connected "
                "components; heat-geodesic distances between components are saturated "
                "at the largest representable value. Increase n_neighbors.",
                UserWarning,
                stacklevel=4,
            )
        return W, n_comp

    def fit(self, X, anchors=None):
        """Heat geometry of X; with ``anchors``, of the graph coarse-grained onto them.

        Landmark mode: the kNN kernel graph is built on all samples, every
        sample joins the cell of its nearest landmark (hops on that graph), and
        the landmark graph is ``A^T W A`` (A: the cell indicator matrix), so
        landmark edges follow the fine graph and never jump across a gap that
        the fine graph does not cross.
        """
        n = X.shape[0]
        rng = check_random_state(self.random_state)
        W, self.n_graph_components_ = self._graph(X)
        self._fine_W = W
        if anchors is None:
            m = n
            A = sp.identity(n, format="csr")
            Xa = X
        else:
            m = len(anchors)
            _, _, src = csgraph.dijkstra(
                W,
                directed=False,
                indices=anchors,
                unweighted=True,
                min_only=True,
                return_predecessors=True,
            )
            pos = np.full(n, -1)
            pos[anchors] = np.arange(m)
            cell = pos[src]
            # nodes no landmark reaches (another component): nearest in space
            lost = np.flatnonzero(cell < 0)
            if lost.size:
                nn_a = NearestNeighbors(n_neighbors=1).fit(X[anchors])
                cell[lost] = nn_a.kneighbors(X[lost], return_distance=False)[:, 0]
            A = sp.csr_array((np.ones(n), (np.arange(n), cell)), shape=(n, m))
            W = sp.csr_array(A.T @ W @ A)
            W.setdiag(0)
            W.eliminate_zeros()
            Xa = X[anchors]
        check_dense_size(
            m, m, what="heat kernel", hint="pass n_landmarks=... (landmark mode)"
        )
        L, deg = laplacian(W, kind="symmetric", return_degree=True)
        deg = np.maximum(deg, _TINY)
        self.X_ = X
        self.anchors_ = anchors
        # training attachment: own cell plus the cells of the kernel neighbours
        T = (
            _attachment(self, X, A)
            if anchors is not None
            else sp.identity(n, format="csr")
        )
        self.attach_ = sp.csr_array(T)
        self._fine_W = None
        self.deg_ = deg
        self.vol_ = float(deg.sum())
        self._nn = NearestNeighbors().fit(X)
        fixed_t = None if isinstance(self.t, str) else float(self.t)
        # probes for the choice of t: graph shortest paths (Euclidean edge lengths)
        if fixed_t is None:
            p = min(m, _N_PROBES)
            probes = np.sort(rng.choice(m, p, replace=False))
            if anchors is None:
                G = knn_graph(X, self.n_neighbors, mode="distance")
            else:  # landmark graph edges, Euclidean lengths between landmarks
                G = sp.csr_array(W, copy=True)
                r, c = G.nonzero()
                G.data = np.maximum(np.linalg.norm(Xa[r] - Xa[c], axis=1), _TINY)
            Gp = csgraph.dijkstra(G, directed=False, indices=probes)
        self.t_scores_ = {}
        if self.solver == "squaring":
            if fixed_t is not None:
                t, H = next(heat_doubling(L, max(fixed_t, 1e-12), 1))
                t = fixed_t
                if fixed_t == 0:
                    H = np.eye(m)
                best = (t, H)
            else:
                best = self._auto_t(heat_doubling(L, 1.0, _MAX_LEVELS), probes, Gp)
            self.order_ = None
        else:
            lmax = spectrum_bound(L, method="normalized")
            ts = (
                np.array([fixed_t])
                if fixed_t is not None
                else 2.0 ** np.arange(_MAX_LEVELS)
            )
            if isinstance(self.order, str):
                hop = _hop_diameter(W)
                order = max(
                    chebyshev_order(ts.max(), lmax, tol=1e-14), int(1.2 * hop) + 2
                )
            else:
                order = int(self.order)
            self.order_ = order
            if fixed_t is not None:
                H = _chebyshev_apply(L, np.eye(m), ts, order, lmax)[0]
                best = (fixed_t, 0.5 * (H + H.T))
            else:
                # score every time on the probe columns, then one full sweep
                block = np.zeros((m, len(probes)))
                block[probes, np.arange(len(probes))] = 1.0
                Hp = _chebyshev_apply(L, block, ts, order, lmax)
                scores = []
                for t, Hpt in zip(ts, Hp, strict=False):
                    Kp = self._density(Hpt[probes].T, probes, probes)
                    D = _heat_distance_block(
                        Kp, np.diag(Kp), np.diag(Kp), t, self.sigma
                    )
                    scores.append(self._score(D, Gp[:, probes]))
                    self.t_scores_[float(t)] = scores[-1]
                t = float(ts[int(np.nanargmax(scores))])
                H = _chebyshev_apply(L, np.eye(m), np.array([t]), order, lmax)[0]
                best = (t, 0.5 * (H + H.T))
        self.t_, H = best
        K = self._density(H, None, None)
        self.K_ = K
        self.Kdiag_ = np.diag(K).copy()
        D = _heat_distance_block(K, self.Kdiag_, self.Kdiag_, self.t_, self.sigma)
        D = 0.5 * (D + D.T)
        np.fill_diagonal(D, 0.0)
        self.distances_ = D
        return self

    def _density(self, H, rows, cols):
        dr = self.deg_ if rows is None else self.deg_[rows]
        dc = self.deg_ if cols is None else self.deg_[cols]
        return H * (self.vol_ / np.sqrt(np.outer(dr, dc)))

    @staticmethod
    def _score(D, G):
        ok = np.isfinite(G) & (G > 0)
        a, b = D[ok], G[ok]
        if a.size < 3 or a.std() == 0 or b.std() == 0:
            return -np.inf
        return float(np.corrcoef(a, b)[0, 1])

    def _auto_t(self, levels, probes, Gp):
        best, best_score, worse = None, -np.inf, 0
        for t, H in levels:
            Kp = self._density(H[probes], probes, None)
            Kd = np.diag(H) * (self.vol_ / self.deg_)
            D = _heat_distance_block(Kp, Kd[probes], Kd, t, self.sigma)
            score = self._score(D, Gp)
            self.t_scores_[float(t)] = score
            if self.verbose:
                print(f"[HeatGeodesic] t={t:g}: linearity score {score:.4f}")
            if score > best_score:
                best, best_score, worse = (t, H), score, 0
            else:
                worse += 1
                if worse >= 2:
                    break
        return best

    # -- out of sample -----------------------------------------------------------------
    def weights(self, X):
        """Sparse (n, m) row-stochastic attachment of points to the graph nodes.

        A point identical to a training sample gets that sample's attachment
        (a landmark: itself); any other point the kernel-weighted mean of the
        attachments of its ``n_neighbors`` nearest training samples.
        """
        n_train = self.X_.shape[0]
        k = min(self.n_neighbors, n_train)
        dist, ind = self._nn.kneighbors(X, n_neighbors=k)
        sig = np.maximum(dist[:, -1:], _TINY)
        if self.kernel == "alpha":
            w = np.exp(-((dist / sig) ** self.decay))
        else:
            w = np.exp(-((dist / sig) ** 2))
        scale = max(float(np.median(dist[:, -1])), _TINY)
        exact = dist[:, 0] <= 1e-12 * scale
        w[exact] = 0.0
        w[exact, 0] = 1.0
        w /= w.sum(axis=1, keepdims=True)
        n = X.shape[0]
        Wn = sp.csr_array(
            (w.ravel(), ind.ravel(), np.arange(0, n * k + 1, k)), shape=(n, n_train)
        )
        return sp.csr_array(Wn @ self.attach_)

    def distances_to_anchors(self, X, chunk_size=4096):
        """Heat-geodesic distances from new points to every anchor, (n, m)."""
        n, m = X.shape[0], self.K_.shape[0]
        check_dense_size(n, m, what="distance-to-landmarks block")
        out = np.empty((n, m))
        for s in range(0, n, chunk_size):
            Wx = self.weights(X[s : s + chunk_size])
            Kx = np.asarray(Wx @ self.K_)
            Kxx = np.asarray((Wx.multiply(Wx @ self.K_.T)).sum(axis=1)).ravel()
            out[s : s + chunk_size] = _heat_distance_block(
                Kx, Kxx, self.Kdiag_, self.t_, self.sigma
            )
        return out


class _HeatBase(BaseEstimator):
    _parameter_constraints: dict = {
        "n_neighbors": [Interval(numbers.Integral, 1, None, closed="left")],
        "t": [StrOptions({"auto"}), Interval(numbers.Real, 0, None, closed="left")],
        "order": [
            StrOptions({"auto"}),
            Interval(numbers.Integral, 1, None, closed="left"),
        ],
        "sigma": [Interval(numbers.Real, 0, None, closed="left")],
        "kernel": [StrOptions({"alpha", "gaussian"})],
        "decay": [Interval(numbers.Real, 0, None, closed="neither")],
        "solver": [StrOptions({"squaring", "chebyshev"})],
        "n_landmarks": [
            StrOptions({"auto"}),
            Interval(numbers.Integral, 2, None, closed="left"),
            None,
        ],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def _anchors(self, n, rng):
        if self.n_landmarks is None:
            return None
        if self.n_landmarks == "auto":
            if n <= AUTO_FULL_MAX:
                return None
            m = AUTO_LANDMARKS
            if self.verbose:
                print(
                    f"[HeatGeodesic] n_samples={n} > {AUTO_FULL_MAX}: landmark mode, "
                    f"{m} random landmarks (set n_landmarks to change)"
                )
        else:
            m = int(self.n_landmarks)
            if m >= n:
                return None
        return np.sort(rng.choice(n, m, replace=False))

    def _fit_geometry(self, X):
        rng = check_random_state(self.random_state)
        n = X.shape[0]
        anchors = self._anchors(n, rng)
        if anchors is None:
            check_dense_size(
                n,
                n,
                what="heat kernel",
                hint="pass n_landmarks=... (or 'auto') to use landmark mode",
            )
        geom = _HeatGeometry(
            n_neighbors=self.n_neighbors,
            kernel=self.kernel,
            decay=self.decay,
            t=self.t,
            sigma=self.sigma,
            solver=self.solver,
            order=self.order,
            random_state=rng,
            verbose=self.verbose,
        ).fit(X, anchors)
        self.geometry_ = geom
        self.landmarks_ = anchors
        self.t_ = float(geom.t_)
        self.t_scores_ = dict(geom.t_scores_)
        self.heat_distances_ = geom.distances_
        return geom, anchors


class HeatGeodesicEmbedding(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, _HeatBase
):
    """Heat-geodesic embedding (Huguet et al., NeurIPS 2023).

    Builds a kNN affinity graph, diffuses heat on it, turns the heat kernel
    into Varadhan-style distances
    ``d_t^2 = -4t log K_t(i, j) + sigma 4t log sqrt(K_t(i, i) K_t(j, j))``
    and embeds them by metric MDS (SMACOF started from classical MDS).  See
    the user guide for the choices of ``t="auto"`` and ``sigma``.

    Parameters
    ----------
    n_components : int, default=2
        Embedding dimension.
    n_neighbors : int, default=10
        k of the kNN kernel.
    t : "auto" or float, default="auto"
        Diffusion time (in units of the normalized Laplacian).  ``"auto"``
        tries ``t = 1, 2, 4, ...`` and keeps the time whose distances are
        most linearly related (Pearson) to kNN-graph shortest-path lengths
        from 48 random probe points; the scores are in ``t_scores_``.
    order : "auto" or int, default="auto"
        Chebyshev order for ``solver="chebyshev"``; ``"auto"`` takes the
        larger of the order whose truncation bound is below 1e-14 and 1.2 x
        the hop diameter of the graph (a polynomial of degree ``k`` only
        reaches ``k`` hops).  Ignored by ``solver="squaring"``.
    sigma : float, default=1.0
        Weight of the volume (Harnack) term; 1 removes the ``(4 pi t)^{-d/2}``
        factor of the Euclidean heat kernel exactly, 0 is the plain Varadhan
        formula.
    n_landmarks : "auto", int or None, default="auto"
        ``None``: every sample is a node of the heat graph (dense
        ``n x n`` kernel).  int ``m``: a random subsample of ``m`` landmarks
        carries the graph, the heat kernel and SMACOF; the other samples are
        attached to their nearest landmarks.  ``"auto"``: ``None`` up to
        2000 samples, else 1000 landmarks.
    mds : {"smacof", "classical"}, default="smacof"
        Metric MDS by stress majorization from a classical-MDS start, or
        classical MDS only.
    kernel : {"alpha", "gaussian"}, default="alpha"
        Alpha-decay kernel with adaptive bandwidth (PHATE / heatgeo) or a
        Gaussian kernel on the kNN distances (median bandwidth).
    decay : float, default=40.0
        Exponent of the alpha-decay kernel.
    solver : {"squaring", "chebyshev"}, default="squaring"
        How the dense heat kernel of the landmark graph is computed:
        uniformization + repeated squaring (entrywise relative accuracy,
        ``O(m^3 log t)``) or the Chebyshev filter of
        :func:`manigeo.heat.heat_kernel` (``O(order nnz m)``).
    max_iter : int, default=300
        SMACOF iterations.
    random_state : int, RandomState instance or None, default=None
        Landmark subsample and probe points for ``t="auto"``.
    verbose : bool, default=False

    Attributes
    ----------
    embedding_ : ndarray of shape (n_samples, n_components)
    heat_distances_ : ndarray of shape (m, m)
        Heat-geodesic distances between the graph nodes (all samples, or the
        landmarks).
    landmarks_ : ndarray of shape (m,) or None
        Indices of the landmarks in the training data (None: all samples).
    t_ : float
        Diffusion time used.
    t_scores_ : dict
        ``t -> score`` of the automatic choice (empty for a fixed ``t``).
    stress_ : float
        Kruskal stress-1 of the landmark embedding (NaN for classical MDS).
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
        **_HeatBase._parameter_constraints,
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
        order="auto",
        sigma=1.0,
        n_landmarks="auto",
        mds="smacof",
        kernel="alpha",
        decay=40.0,
        solver="squaring",
        max_iter=300,
        random_state=None,
        verbose=False,
    ):
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.t = t
        self.order = order
        self.sigma = sigma
        self.n_landmarks = n_landmarks
        self.mds = mds
        self.kernel = kernel
        self.decay = decay
        self.solver = solver
        self.max_iter = max_iter
        self.random_state = random_state
        self.verbose = verbose

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
        n = X.shape[0]
        geom, anchors = self._fit_geometry(X)
        D = geom.distances_
        m = D.shape[0]
        if self.n_components > m:
            raise ValueError(
                f"n_components={self.n_components} must be at most the number of "
                f"graph nodes ({m})"
            )
        if self.mds == "classical":
            Y = classical_mds(D, self.n_components)
            self.stress_ = float("nan")
        else:
            Y, self.stress_, self.n_iter_ = smacof(
                D,
                self.n_components,
                max_iter=self.max_iter,
                verbose=self.verbose,
                return_stress=True,
            )
        self.landmark_embedding_ = Y
        self.embedding_ = Y if anchors is None else np.asarray(geom.attach_ @ Y)
        self.n_samples_fit_ = n
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
        """Place new points by the kernel weights of their nearest training samples.

        A point identical to a training sample gets that sample's
        coordinates; others the kernel-weighted mean of the coordinates of
        their ``n_neighbors`` nearest training samples (through their
        landmark cells in landmark mode), the Nyström / landmark-PHATE
        extension.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        Y : ndarray of shape (n_samples, n_components)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return np.asarray(self.geometry_.weights(X) @ self.landmark_embedding_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags

    @property
    def _n_features_out(self):
        """Number of output columns, for ``get_feature_names_out``."""
        return self.embedding_.shape[1]


class HeatGeodesicDistance(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, _HeatBase
):
    """Heat-geodesic distances to landmarks, as a transformer.

    ``fit`` builds the heat graph on the training samples (or a random
    subsample of ``n_landmarks`` of them); ``transform`` returns, for each
    sample, its heat-geodesic distance to every graph node (landmark), the
    same quantity :class:`HeatGeodesicEmbedding` embeds.  New samples are
    attached to their nearest landmarks by the affinity kernel, and the heat
    kernel is extended bilinearly.

    Parameters
    ----------
    n_neighbors : int, default=10
    t : "auto" or float, default="auto"
    order : "auto" or int, default="auto"
    sigma : float, default=1.0
    n_landmarks : "auto", int or None, default="auto"
        As in :class:`HeatGeodesicEmbedding`; the number of output columns.
    kernel : {"alpha", "gaussian"}, default="alpha"
    decay : float, default=40.0
    solver : {"squaring", "chebyshev"}, default="squaring"
    random_state : int, RandomState instance or None, default=None
    verbose : bool, default=False

    Attributes
    ----------
    heat_distances_ : ndarray of shape (m, m)
    landmarks_ : ndarray of shape (m,) or None
    t_ : float
    n_features_in_ : int

    Examples
    --------
    >>> from manigeo.datasets import make_sphere
    >>> from manigeo import HeatGeodesicDistance
    >>> X, _ = make_sphere(200, random_state=0)
    >>> HeatGeodesicDistance(n_landmarks=50, random_state=0).fit_transform(X).shape
    (200, 50)
    """

    def __init__(
        self,
        *,
        n_neighbors=10,
        t="auto",
        order="auto",
        sigma=1.0,
        n_landmarks="auto",
        kernel="alpha",
        decay=40.0,
        solver="squaring",
        random_state=None,
        verbose=False,
    ):
        self.n_neighbors = n_neighbors
        self.t = t
        self.order = order
        self.sigma = sigma
        self.n_landmarks = n_landmarks
        self.kernel = kernel
        self.decay = decay
        self.solver = solver
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Build the heat graph.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored

        Returns
        -------
        self : object
        """
        X = validate_data(self, X, ensure_min_samples=2, dtype=np.float64)
        self._fit_geometry(X)
        return self

    def transform(self, X):
        """Heat-geodesic distances from each sample to every landmark.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        D : ndarray of shape (n_samples, n_landmarks)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return self.geometry_.distances_to_anchors(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags

    @property
    def _n_features_out(self):
        """Number of output columns (landmarks), for ``get_feature_names_out``."""
        return self.heat_distances_.shape[0]
