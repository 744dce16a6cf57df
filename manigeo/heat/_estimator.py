"""HeatGeodesicDistance: the heat-geodesic distances as a transformer."""

import numbers

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._validation import check_dense_size
from ._geodesic import DENSITIES, KERNELS, HeatGeometry

#: up to this many samples ``n_landmarks="auto"`` uses every sample
AUTO_FULL_MAX = 2000
#: landmarks of ``n_landmarks="auto"`` above :data:`AUTO_FULL_MAX`
AUTO_LANDMARKS = 500


def _is_dask(X):
    return type(X).__module__.split(".")[0] == "dask"


def _map_rows(X, func, n_out):
    """Apply ``func`` to each block of rows of a dask array (lazily)."""
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D, got a dask array of shape {X.shape}")
    X = X.rechunk({1: -1})
    return X.map_blocks(
        lambda b: func(np.asarray(b)),
        chunks=(X.chunks[0], (n_out,)),
        dtype=np.float64,
    )


class _HeatParams(BaseEstimator):
    """Parameters and fitting shared by the heat-geodesic estimators."""

    _parameter_constraints: dict = {
        "n_neighbors": [Interval(numbers.Integral, 1, None, closed="left")],
        "t": [StrOptions({"auto"}), Interval(numbers.Real, 0, None, closed="neither")],
        "sigma": [Interval(numbers.Real, 0, None, closed="left")],
        "density": [StrOptions(set(DENSITIES))],
        "kernel": [StrOptions(set(KERNELS))],
        "decay": [Interval(numbers.Real, 0, None, closed="neither")],
        "n_landmarks": [
            StrOptions({"auto"}),
            Interval(numbers.Integral, 2, None, closed="left"),
            None,
        ],
        "n_jobs": [numbers.Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def _n_landmarks(self, n):
        """None (every sample) or the number of landmarks, checked before any work."""
        if self.n_landmarks is None:
            m = None
        elif self.n_landmarks == "auto":
            m = None if n <= AUTO_FULL_MAX else AUTO_LANDMARKS
            if m is not None and self.verbose:
                print(
                    f"[HeatGeodesic] n_samples={n} > {AUTO_FULL_MAX}: {m} "
                    "farthest-point landmarks (set n_landmarks to change)"
                )
        else:
            m = int(self.n_landmarks)
            if m >= n:
                m = None
        if m is None:
            check_dense_size(
                n,
                n,
                what="heat kernel",
                hint="pass n_landmarks=... (or 'auto') to use landmark mode",
            )
        else:
            check_dense_size(
                n,
                m,
                what="landmark heat-kernel columns",
                hint=f"use fewer landmarks (n_landmarks={m} for {n} samples)",
            )
        return m

    def _fit_geometry(self, X):
        n = X.shape[0]
        m = self._n_landmarks(n)
        rng = check_random_state(self.random_state)
        geom = HeatGeometry(
            n_neighbors=self.n_neighbors,
            kernel=self.kernel,
            decay=self.decay,
            density=self.density,
            t=self.t,
            sigma=self.sigma,
            n_jobs=self.n_jobs,
            verbose=self.verbose,
        ).fit(X, m, rng)
        self.geometry_ = geom
        self.landmarks_ = geom.landmarks_
        self.t_ = float(geom.t_)
        self.t_scores_ = dict(geom.t_scores_)
        self.heat_distances_ = geom.landmark_distances()
        return geom


class HeatGeodesicDistance(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, _HeatParams
):
    """Heat-geodesic distances to landmarks, as a transformer.

    ``fit`` builds the density-normalized kernel graph on the training samples,
    chooses the diffusion time and diffuses heat from the landmarks (all
    samples, or ``n_landmarks`` farthest-point samples) on the *full* graph;
    ``transform`` returns each sample's heat-geodesic distance to every
    landmark.  Training samples get their exact rows; new samples the Nystrom
    extension of the heat kernel (one step of the walk from the new point onto
    the training samples, then the training kernel).

    When the exact landmark columns would cost more than about 2 s of sparse
    products (``2 nnz x (landmarks + 48) x terms`` flops above ``2e10``) and
    there are more than 4000 samples, the kernel is computed on a coarse graph
    of 500 to 1000 cells (the fine walk lumped onto them, same physical ``t``) and
    extended to every sample; ``geometry_.path_`` says which (``"full"``,
    ``"exact"``, ``"coarse"``) and ``verbose=True`` prints why.  See the user
    guide, "Landmark mode".

    Parameters
    ----------
    n_neighbors : int, default=10
        Sets the kernel bandwidth (median distance to the ``n_neighbors``-th
        neighbour; with ``density="normalize"`` floored at each sample's own
        ``n_neighbors``-th neighbour distance, see the user guide).
    t : "auto" or float, default="auto"
        Diffusion time in units of the normalized Laplacian.  ``"auto"``
        tries ``t = 1, 2, 4, ..., 128`` on 48 random probe samples and keeps
        the time whose probe-pair distances agree best with graph shortest
        paths within each quartile of distance (mean within-band Spearman);
        the scores are in ``t_scores_``.  The probes are the same in full and
        landmark mode, so both choose the same t.
    sigma : float, default=1.0
        Weight of the volume (Harnack) term; 1 removes the ``(4 pi t)^(-d/2)``
        factor of the Euclidean heat kernel exactly, 0 is the plain Varadhan
        formula.
    density : {"normalize", "keep"}, default="normalize"
        ``"normalize"``: Coifman-Lafon alpha = 1 normalisation, the walk's
        generator tends to the Laplace-Beltrami operator whatever the sampling
        density; ``"keep"``: the plain kernel's walk (follows the density).
    kernel : {"gaussian", "alpha"}, default="gaussian"
        Fixed-bandwidth Gaussian kernel, or heatgeo's adaptive alpha-decay
        kernel (its variable bandwidth follows the density).
    decay : float, default=40.0
        Exponent of the alpha-decay kernel.
    n_landmarks : "auto", int or None, default="auto"
        ``None``: every sample is a landmark (dense ``n x n`` kernel).  int
        ``m``: ``m`` farthest-point landmarks.  ``"auto"``: ``None`` up to
        2000 samples, else 500 landmarks.
    n_jobs : int or None, default=None
        Threads for blocks of heat-kernel columns (the ``t="auto"`` probes
        and the landmarks); None: as many as numpy's BLAS may use
        (``threadpoolctl.threadpool_limits`` caps it).  Results do not depend
        on it.
    random_state : int, RandomState instance or None, default=None
        Probes of ``t="auto"`` and the first landmark.
    verbose : bool, default=False

    Attributes
    ----------
    heat_distances_ : ndarray of shape (m, m)
        Distances between landmarks.
    landmarks_ : ndarray of shape (m,) or None
        Indices of the landmarks (None: all samples).
    t_ : float
    t_scores_ : dict
        ``t -> score`` of the automatic choice (empty for a fixed ``t``).
    geometry_ : object
        The fitted heat geometry (kernel columns, out-of-sample weights).
    n_features_in_ : int

    Examples
    --------
    >>> from manigeo.datasets import make_sphere
    >>> from manigeo.heat import HeatGeodesicDistance
    >>> X, _ = make_sphere(200, random_state=0)
    >>> HeatGeodesicDistance(n_landmarks=50, random_state=0).fit_transform(X).shape
    (200, 50)
    """

    def __init__(
        self,
        *,
        n_neighbors=10,
        t="auto",
        sigma=1.0,
        density="normalize",
        kernel="gaussian",
        decay=40.0,
        n_landmarks="auto",
        n_jobs=None,
        random_state=None,
        verbose=False,
    ):
        self.n_neighbors = n_neighbors
        self.t = t
        self.sigma = sigma
        self.density = density
        self.kernel = kernel
        self.decay = decay
        self.n_landmarks = n_landmarks
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Build the heat geometry.

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

    def fit_transform(self, X, y=None):
        """Fit and return the distances of the training samples to the landmarks.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored

        Returns
        -------
        D : ndarray of shape (n_samples, n_landmarks)
        """
        return self.fit(X).geometry_.train_distances()

    def transform(self, X):
        """Heat-geodesic distances from each sample to every landmark.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or dask array
            A Dask array is transformed lazily, block of rows by block of rows
            (``dask.array.map_blocks``).

        Returns
        -------
        D : ndarray of shape (n_samples, n_landmarks) (a dask array for dask input)
        """
        check_is_fitted(self)
        if _is_dask(X):
            return _map_rows(X, self.transform, self.heat_distances_.shape[0])
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return self.geometry_.distances_to_landmarks(X)

    @property
    def _n_features_out(self):
        """Number of output columns (landmarks), for ``get_feature_names_out``."""
        return self.heat_distances_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags
