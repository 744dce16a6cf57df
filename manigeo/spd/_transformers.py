"""scikit-learn transformers for sets of SPD matrices: standardisation and
per-domain re-centring through the Lie-group structure of each metric."""

from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from manigeo._backend import import_torch, is_torch, to_numpy
from manigeo._validation import check_matrix_size, check_spd
from manigeo.spd._metrics import canonical_name, get_metric, logchol_coords

# metrics with a group structure whose action moves any point to the identity
GROUP_METRICS = ("affine", "logeuclid", "logcholesky")
_METRIC_OPTIONS = StrOptions(
    {"affine", "logeuclid", "logcholesky", "riemann", "lem", "lcm", "logchol"}
)


def _standardise(m, X, M, s):
    """Centre X at I by the group action of M, then stretch by s (coordinates)."""
    C = m.group_translate(m.to_group(X), m.to_group(M), inverse=True)
    return m.from_group(C if s == 1.0 else m.group_stretch(C, s))


def _check_3d(estimator, X, reset, cholesky=False):
    """Validated float64 stack and a function restoring the output type.

    A torch tensor is validated on its own device and stays there (float64
    inside, cast back to its dtype on output): a GPU pipeline never leaves
    the device.  ``cholesky``: also return the Cholesky factor of the
    validation (None when it is not float64).
    """
    if is_torch(X):
        torch = import_torch()
        # only read, as on numpy (copy=False there too)
        X, L = check_spd(X, name="X", ndim=(3,), copy=False, return_cholesky=True)
        check_matrix_size(estimator, X, reset=reset)
        dtype = X.dtype
        L = L if L.dtype == torch.float64 else None
        out = X.to(torch.float64), lambda Y: Y.to(dtype)
        return (*out, L) if cholesky else out
    X = validate_data(
        estimator,
        X,
        allow_nd=True,
        ensure_2d=False,
        reset=reset,
        dtype=np.float64,
        ensure_min_samples=1,
    )
    X, L = check_spd(X, name="X", ndim=(3,), copy=False, return_cholesky=True)
    out = check_matrix_size(estimator, X, reset=reset), lambda Y: Y
    return (*out, L) if cholesky else out


def _like(M, X):
    """A fitted array in X's backend and device (float64)."""
    if is_torch(X):
        torch = import_torch()
        return torch.as_tensor(M, dtype=torch.float64, device=X.device)
    return to_numpy(M)


def _mask(sel, X):
    """A numpy boolean mask as an index for X (a tensor on X's device)."""
    if is_torch(X):
        return import_torch().as_tensor(np.asarray(sel, bool), device=X.device)
    return sel


def _stack(arrays):
    if is_torch(arrays[0]):
        return import_torch().stack(arrays)
    return np.stack(arrays)


class _SPDTransformerBase(TransformerMixin, BaseEstimator):
    _parameter_constraints = {
        "metric": [_METRIC_OPTIONS],
        "theta": [Interval(Real, None, None, closed="neither")],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "beta": [Interval(Real, None, None, closed="neither")],
        "target_dispersion": [Interval(Real, 0, None, closed="neither")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
    }

    def _metric(self):
        if self.theta == 0:
            raise ValueError("theta must be non-zero")
        name = canonical_name(self.metric)
        if name not in GROUP_METRICS:  # pragma: no cover - constraints stop it
            raise ValueError(f"metric {self.metric!r} has no group action")
        return get_metric(name, self.theta, self.alpha, self.beta)

    def _fit_one(self, m, X, scale, group=None, cholesky=None):
        """Mean, dispersion, scale, iterations and the centred coordinates.

        ``cholesky``: the Cholesky factors of ``X`` from the validation (the
        log-Cholesky coordinates reuse them).
        """
        if m.name == "affine":
            M, info = m.mean(X, tol=self.tol, max_iter=self.max_iter, return_info=True)
            n_iter = info["n_iter"]
            Mc = m.to_group(M)
            C = m.group_translate(m.to_group(X), Mc, inverse=True)
        else:
            # closed forms: the Fréchet mean is the mean of the group
            # coordinates (log or log-Cholesky), computed once for both
            lcm = m.name == "logcholesky" and m.theta == 1.0 and cholesky is not None
            # the validation's Cholesky factors are fresh arrays: overwritten
            # with the coordinates; the coordinates (always a fresh array)
            # are centred in place (no copies)
            Cx = logchol_coords(X, cholesky, own=True) if lcm else m.to_group(X)
            Mc = m.group_mean(Cx)
            M, n_iter = m.from_group(Mc), 0
            C = m.group_translate(Cx, Mc, inverse=True, own=True)
        disp = float(m.group_sqnorm(C).mean())
        if scale:
            if not disp > m.group_noise(Mc):
                where = "X" if group is None else f"group {group!r}"
                fix = (
                    "with_std=False"
                    if isinstance(self, SPDStandardScaler)
                    else "rescale=False, or give the group more distinct matrices"
                )
                n = "1 matrix" if X.shape[0] == 1 else f"{X.shape[0]} matrices"
                raise ValueError(
                    f"the dispersion of {where} is zero up to round-off "
                    f"({disp:.3g}; {n}, all equal): it cannot be rescaled to "
                    f"target_dispersion; use {fix}"
                )
            s = float(np.sqrt(self.target_dispersion / disp))
        else:
            s = 1.0
        return M, disp, s, n_iter, C

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # two_d_array stays True so that sklearn's API checks run at all; the
        # ones that feed 2-D data are listed in tests/test_estimators.py
        tags.input_tags.three_d_array = True
        return tags


class SPDStandardScaler(_SPDTransformerBase):
    """Centre SPD matrices at the identity and rescale their dispersion.

    The Fréchet mean ``M`` under the chosen metric is moved to the identity by
    the metric's group action (left translation by ``M⁻¹``; for the affine
    metric the congruence ``M^{-θ/2} X^θ M^{-θ/2}``), then every matrix is
    stretched along the geodesic from the identity,
    ``X ↦ Exp_I(s Log_I X)``, with ``s = sqrt(target_dispersion / dispersion)``
    so that the mean squared distance to the identity equals
    ``target_dispersion``.  This is Riemannian Procrustes re-centring and
    stretching (Rodrigues et al. 2019) for one domain; see
    :class:`SPDRecenter` for several domains.

    Parameters
    ----------
    metric : {"affine", "logeuclid", "logcholesky"}, default="affine"
        Metric whose group structure is used (aliases "riemann", "lem",
        "lcm"/"logchol" accepted).  Bures–Wasserstein has no such action.
    theta : float, default=1.0
        Power deformation (non-zero).
    alpha : float, default=1.0
        O(n)-invariant weight of ``‖V‖²`` (affine, logeuclid) in the dispersion.
    beta : float, default=0.0
        O(n)-invariant weight of ``tr(V)²`` (affine, logeuclid);
        ``beta > -alpha / p``.
    with_std : bool, default=True
        Rescale the dispersion to ``target_dispersion``.
    target_dispersion : float, default=1.0
        Dispersion after the transform (when ``with_std``).
    tol : float, default=1e-10
        Tolerance of the iterative (affine) mean.
    max_iter : int, default=100
        Iteration cap of the iterative mean.

    Attributes
    ----------
    mean_ : ndarray or Tensor of shape (p, p)
        Fréchet mean of the training matrices (float64; a tensor on the
        input's device when fitted on a torch tensor).
    dispersion_ : float
        Mean squared distance of the training matrices to ``mean_``.
    scale_ : float
        Stretch exponent ``s`` (1 when ``with_std=False``).
    n_iter_ : int
        Iterations of the mean (0 for the closed forms).
    n_features_in_ : int
        Matrix size ``p``.

    See Also
    --------
    SPDRecenter : the same per group (domain, session, subject).

    References
    ----------
    .. [1] Rodrigues, Jutten, Congedo, "Riemannian Procrustes analysis: transfer
       learning for brain-computer interfaces", IEEE TBME 66(8), 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo.spd import SPDStandardScaler, mean
    >>> rng = np.random.default_rng(0)
    >>> A = rng.normal(size=(20, 3, 3))
    >>> X = A @ A.transpose(0, 2, 1) + 3 * np.eye(3)
    >>> Y = SPDStandardScaler().fit_transform(X)
    >>> bool(np.allclose(mean(Y), np.eye(3)))
    True
    """

    _parameter_constraints = {
        **_SPDTransformerBase._parameter_constraints,
        "with_std": ["boolean"],
    }

    def __init__(
        self,
        *,
        metric: str = "affine",
        theta: float = 1.0,
        alpha: float = 1.0,
        beta: float = 0.0,
        with_std: bool = True,
        target_dispersion: float = 1.0,
        tol: float = 1e-10,
        max_iter: int = 100,
    ) -> None:
        self.metric = metric
        self.theta = theta
        self.alpha = alpha
        self.beta = beta
        self.with_std = with_std
        self.target_dispersion = target_dispersion
        self.tol = tol
        self.max_iter = max_iter

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: None = None) -> "SPDStandardScaler":
        """Compute the Fréchet mean and dispersion of X.

        Parameters
        ----------
        X : array-like of shape (n_matrices, p, p)
            SPD matrices (not modified).
        y : None
            Ignored.

        Returns
        -------
        self : SPDStandardScaler
        """
        self._fit_checked(X)
        return self

    def _fit_checked(self, X):
        """Validate X once, fit, and return (metric, restore, group coordinates)."""
        X, restore, L = _check_3d(self, X, reset=True, cholesky=True)
        m = self._metric()
        self.mean_, self.dispersion_, self.scale_, self.n_iter_, C = self._fit_one(
            m, X, self.with_std, cholesky=L
        )
        return m, restore, C

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X: Any, y: None = None) -> Any:
        """Fit to X and return it standardised (validated and mapped once).

        Parameters
        ----------
        X : array-like of shape (n_matrices, p, p)
            SPD matrices (not modified).
        y : None
            Ignored.

        Returns
        -------
        Y : ndarray of shape (n_matrices, p, p)
        """
        m, restore, C = self._fit_checked(X)
        s = self.scale_
        # C: fresh coordinates of the fit, stretched and mapped back in place
        if s != 1.0:
            C = m.group_stretch(C, s, own=True)
        return restore(m.from_group(C, own=True))

    def transform(self, X: Any) -> Any:
        """Centre at the identity and rescale.

        Parameters
        ----------
        X : array-like of shape (n_matrices, p, p)
            SPD matrices (not modified).

        Returns
        -------
        Y : ndarray of shape (n_matrices, p, p)
        """
        check_is_fitted(self)
        X, restore = _check_3d(self, X, reset=False)
        M = _like(self.mean_, X)
        return restore(_standardise(self._metric(), X, M, self.scale_))

    def inverse_transform(self, X: Any) -> Any:
        """Undo :meth:`transform`.

        Parameters
        ----------
        X : array-like of shape (n_matrices, p, p)
            Standardised SPD matrices.

        Returns
        -------
        Y : ndarray of shape (n_matrices, p, p)
        """
        check_is_fitted(self)
        X, restore = _check_3d(self, X, reset=False)
        m = self._metric()
        C = m.to_group(X)
        if self.scale_ != 1.0:
            C = m.group_stretch(C, 1.0 / self.scale_)
        Mc = m.to_group(_like(self.mean_, X))
        return restore(m.from_group(m.group_translate(C, Mc)))


class SPDRecenter(_SPDTransformerBase):
    """Re-centre each group (domain, session, subject) of SPD matrices at I.

    For every group ``g`` the Fréchet mean ``M_g`` is moved to the identity by
    the metric's group action (Zanini et al. 2018 for the affine metric:
    ``M_g^{-1/2} X M_g^{-1/2}``), and optionally each group's dispersion is
    rescaled to ``target_dispersion`` (Rodrigues et al. 2019).  After the
    transform the domains share a reference point, so a classifier trained on
    some sessions transfers to others.

    Groups seen in :meth:`fit` use their fitted means; a group that appears
    only in :meth:`transform` is re-centred with the mean of its own matrices
    in that call (re-centring is unsupervised, so a new session needs no
    labels).

    Parameters
    ----------
    metric : {"affine", "logeuclid", "logcholesky"}, default="affine"
    theta : float, default=1.0
        Power deformation (non-zero).
    alpha : float, default=1.0
        Dispersion weight of ``‖V‖²`` (affine, logeuclid).
    beta : float, default=0.0
        Dispersion weight of ``tr(V)²`` (affine, logeuclid).
    rescale : bool, default=False
        Also rescale each group's dispersion to ``target_dispersion``.
    target_dispersion : float, default=1.0
    tol : float, default=1e-10
    max_iter : int, default=100

    Attributes
    ----------
    groups_ : ndarray of shape (n_groups,)
        Group labels seen in fit (a single ``None`` group when ``groups=None``).
    means_ : ndarray or Tensor of shape (n_groups, p, p)
        Fréchet mean of each group (a tensor when fitted on a tensor).
    dispersions_ : ndarray of shape (n_groups,)
    scales_ : ndarray of shape (n_groups,)
    n_features_in_ : int

    References
    ----------
    .. [1] Zanini, Congedo, Jutten, Said, Berthoumieu, "Transfer learning: a
       Riemannian geometry framework with applications to brain-computer
       interfaces", IEEE TBME 65(5), 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo.spd import SPDRecenter, mean
    >>> rng = np.random.default_rng(0)
    >>> A = rng.normal(size=(40, 3, 3))
    >>> X = A @ A.transpose(0, 2, 1) + np.eye(3)
    >>> groups = np.repeat([0, 1], 20)
    >>> Y = SPDRecenter().fit_transform(X, groups=groups)
    >>> bool(np.allclose(mean(Y[groups == 1]), np.eye(3)))
    True
    """

    _parameter_constraints = {
        **_SPDTransformerBase._parameter_constraints,
        "rescale": ["boolean"],
    }

    def __init__(
        self,
        *,
        metric: str = "affine",
        theta: float = 1.0,
        alpha: float = 1.0,
        beta: float = 0.0,
        rescale: bool = False,
        target_dispersion: float = 1.0,
        tol: float = 1e-10,
        max_iter: int = 100,
    ) -> None:
        self.metric = metric
        self.theta = theta
        self.alpha = alpha
        self.beta = beta
        self.rescale = rescale
        self.target_dispersion = target_dispersion
        self.tol = tol
        self.max_iter = max_iter

    @staticmethod
    def _groups(groups, n):
        if groups is None:
            return np.full(n, None, dtype=object)
        groups = to_numpy(groups)  # labels (a tensor of labels is copied to host)
        if groups.ndim != 1 or groups.shape[0] != n:
            raise ValueError(
                f"groups must have shape ({n},) (one label per matrix), "
                f"got {groups.shape}"
            )
        if groups.dtype.kind == "c":
            raise TypeError("groups must be labels (int or str), got complex values")
        missing = [g for g in set(groups.tolist()) if g is None or g != g]
        if missing:
            raise ValueError(
                "groups contains missing labels (NaN or None); give every matrix "
                "a group label"
            )
        return groups

    @staticmethod
    def _unique(groups):
        seen = {}
        for g in groups.tolist():
            seen.setdefault(g, None)
        return list(seen)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: None = None, groups: Any = None) -> "SPDRecenter":
        """Fit one mean (and dispersion) per group.

        Parameters
        ----------
        X : array-like of shape (n_matrices, p, p)
            SPD matrices (not modified).
        y : None
            Ignored.
        groups : array-like of shape (n_matrices,), default=None
            Group label of each matrix; None treats X as one group.

        Returns
        -------
        self : SPDRecenter
        """
        X, _ = _check_3d(self, X, reset=True)
        groups = self._groups(groups, X.shape[0])
        m = self._metric()
        labels = self._unique(groups)
        means, disps, scales = [], [], []
        for g in labels:
            M, d, s, _, _ = self._fit_one(
                m, X[_mask(groups == g, X)] if g is not None else X, self.rescale, g
            )
            means.append(M)
            disps.append(d)
            scales.append(s)
        self.groups_ = np.array(labels, dtype=object)
        self.means_ = _stack(means)
        self.dispersions_ = np.array(disps)
        self.scales_ = np.array(scales)
        return self

    def transform(self, X: Any, groups: Any = None) -> Any:
        """Re-centre (and rescale) each group.

        Parameters
        ----------
        X : array-like of shape (n_matrices, p, p)
            SPD matrices (not modified).
        groups : array-like of shape (n_matrices,), default=None
            Group labels; None is allowed when fit saw a single group.

        Returns
        -------
        Y : ndarray of shape (n_matrices, p, p)
        """
        check_is_fitted(self)
        X, restore = _check_3d(self, X, reset=False)
        m = self._metric()
        if groups is None:
            if len(self.groups_) != 1:
                raise ValueError(
                    f"fit saw {len(self.groups_)} groups; pass groups= to transform"
                )
            groups = np.full(X.shape[0], self.groups_[0], dtype=object)
        else:
            groups = self._groups(groups, X.shape[0])
        fitted = {g: i for i, g in enumerate(self.groups_.tolist())}
        out = X.clone() if is_torch(X) else np.empty_like(X)
        for g in self._unique(groups):
            sel = groups == g if g is not None else np.ones(X.shape[0], bool)
            sel = _mask(sel, X)
            if g in fitted:
                i = fitted[g]
                M, s = _like(self.means_[i], X), self.scales_[i]
            else:
                M, _, s, _, _ = self._fit_one(m, X[sel], self.rescale, g)
            out[sel] = _standardise(m, X[sel], M, s)
        return restore(out)

    def fit_transform(self, X: Any, y: None = None, groups: Any = None) -> Any:
        """Fit per-group statistics and transform X with them.

        Parameters
        ----------
        X : array-like of shape (n_matrices, p, p)
        y : None
            Ignored.
        groups : array-like of shape (n_matrices,), default=None

        Returns
        -------
        Y : ndarray of shape (n_matrices, p, p)
        """
        return self.fit(X, y, groups=groups).transform(X, groups=groups)
