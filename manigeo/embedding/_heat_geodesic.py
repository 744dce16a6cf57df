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
from scipy.spatial.distance import cdist
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..heat import HeatGeodesicDistance
from ._mds import _triangulate, classical_mds
from ._smacof import smacof

_PLACE_ITER = 30
#: a point's Guttman iterations stop once it moves less than this fraction of
#: the landmark embedding's extent (measured on 2-D placements: the result then
#: differs from the converged one by as much as after 30 iterations, ~2e-3 of
#: the scale, at about half the iterations)
_PLACE_TOL = 1e-4


def _cell_sizes(D, landmarks):
    """Samples each landmark stands for: itself and the samples nearest to it.

    ``D`` is the (n, m) matrix of distances from every sample to every landmark.
    """
    m = D.shape[1]
    rest = np.ones(D.shape[0], dtype=bool)
    rest[landmarks] = False
    # argmin over the whole block, then drop the landmarks' rows: no (n, m) copy
    return 1.0 + np.bincount(np.argmin(D, axis=1)[rest], minlength=m)


def _place(D, Y_lm, masses, rows=None, chunk_size=512):
    """Out-of-sample points: argmin of ``sum_a c_a (|y - y_a| - d_a)^2``.

    Each landmark ``a`` stands for the ``c_a`` samples of its cell, so this is
    the point's own term of the full-mode stress (all pairs, unit weights) with
    the other samples represented by their landmarks.  Started from
    triangulation in the landmark frame, then Guttman iterations (cost
    ``O(n m)`` each), each point until it moves less than ``_PLACE_TOL`` of
    the scale, at most ``_PLACE_ITER``.  ``rows``: the rows of ``D`` to place
    (all by default), read chunk by chunk (no copy of ``D``).
    """
    rows = np.arange(D.shape[0]) if rows is None else np.asarray(rows)
    out = np.empty((rows.size, Y_lm.shape[1]))
    # scale of the fitted landmarks only (never of the block of rows passed
    # in), so a blockwise transform equals the whole one
    scale = max(float(np.ptp(Y_lm, axis=0).max()), 1e-300) if Y_lm.size else 1.0
    tol = _PLACE_TOL * scale
    c = np.asarray(masses, dtype=np.float64)
    cY = c @ Y_lm
    total = c.sum()
    for s in range(0, rows.size, chunk_size):
        d = D[rows[s : s + chunk_size]]
        cd = d * c
        y = _triangulate(d, Y_lm)
        live = np.arange(y.shape[0])  # rows still moving (each row on its own,
        for _ in range(_PLACE_ITER):  # so the result does not depend on chunks)
            if live.size == 0:
                break
            yl = y[live]
            r = cdist(yl, Y_lm)
            np.maximum(r, 1e-12 * scale, out=r)
            B = np.divide(cd[live], r, out=r)
            # Guttman: y <- (sum_a c_a y_a + sum_a B_a (y - y_a)) / sum_a c_a
            y_new = (cY + B.sum(axis=1)[:, None] * yl - B @ Y_lm) / total
            moved = np.abs(y_new - yl).max(axis=1)
            y[live] = y_new
            live = live[moved >= tol]
        out[s : s + chunk_size] = y
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
        Threads for blocks of heat-kernel columns; results do not depend on it.
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
        dist = HeatGeodesicDistance(**self._distance_params())
        D_train = dist.fit_transform(X)
        D = dist.heat_distances_
        m = D.shape[0]
        if self.n_components >= m:
            raise ValueError(
                f"n_components={self.n_components} must be smaller than the number "
                f"of landmarks ({m}); raise n_landmarks"
            )
        lm = dist.landmarks_
        if lm is None:
            masses = np.ones(m)
        else:
            masses = _cell_sizes(D_train, lm)
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
        if lm is None:
            self.embedding_ = Y
        else:
            emb = np.empty((X.shape[0], self.n_components))
            rest = np.setdiff1d(np.arange(X.shape[0]), lm)
            emb[lm] = Y
            emb[rest] = _place(D_train, Y, masses, rows=rest)
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
        a landmark gets the landmark's position.

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
        D = self.distance_.transform(X)
        Y = _place(D, self.landmark_embedding_, self.landmark_weights_)
        same = _same_as_landmark(D, self.heat_distances_)
        Y[same >= 0] = self.landmark_embedding_[same[same >= 0]]
        return Y

    @property
    def _n_features_out(self):
        """Number of output columns, for ``get_feature_names_out``."""
        return self.embedding_.shape[1]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags
