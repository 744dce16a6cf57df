"""LieGroupStandardScaler: centre and rescale group-valued data."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from manigeo._validation import check_matrix_size
from manigeo.lie._groups import (
    check_group_elements,
    import_geomstats_groups,
    make_group,
)


def _one_blas_thread():
    """geomstats maps scipy's logm over tiny (d x d) matrices one at a time;
    BLAS threads only add synchronisation there (20x slower measured on a
    loaded 2-core machine), so limit BLAS to one thread inside these calls."""
    return threadpool_limits(limits=1, user_api="blas")


class LieGroupStandardScaler(TransformerMixin, BaseEstimator):
    """Standardise rotations or rigid motions in their Lie group.

    With ``m`` the group mean of the training elements (exponential barycenter:
    ``sum_i log(m⁻¹ g_i) = 0``, computed by geomstats; for SO(n) with its
    bi-invariant metric it is the Fréchet mean), every element is left-translated
    by ``m⁻¹`` and its Lie-algebra coordinate is rescaled:

    .. math:: g \\mapsto \\exp\\big(s \\log(m^{-1} g)\\big), \\qquad
              s = \\sqrt{\\text{target} / \\text{dispersion}},

    where the dispersion is ``mean_i ‖log(m⁻¹ g_i)‖²_F``.  After the transform
    the mean is the identity and the dispersion equals ``target_dispersion``.

    Parameters
    ----------
    group : {"SO", "SE"}, default="SO"
        ``"SO"``: special orthogonal matrices of shape (n, n);
        ``"SE"``: special Euclidean homogeneous matrices of shape (n+1, n+1).
    with_std : bool, default=True
        Rescale the dispersion.
    target_dispersion : float, default=1.0
        Dispersion after the transform (when ``with_std``).
    tol : float, default=1e-10
        Stopping tolerance (norm of the mean Lie-algebra step) of the mean.
    max_iter : int, default=100
        Iteration cap of the mean.

    Attributes
    ----------
    mean_ : ndarray of shape (d, d)
        Group mean of the training elements.
    dispersion_ : float
        Mean squared Frobenius norm of ``log(mean_⁻¹ g_i)``.
    scale_ : float
        Lie-algebra scaling ``s`` (1 when ``with_std=False``).
    n_features_in_ : int
        Matrix size ``d``.

    Notes
    -----
    The inverse transform is exact while the rescaled rotation angles stay
    below π (the principal logarithm).

    References
    ----------
    .. [1] X. Pennec, V. Arsigny, "Exponential barycenters of the canonical
       Cartan connection and invariant means on Lie groups", Matrix
       Information Geometry, Springer, 2013.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.spatial.transform import Rotation
    >>> from manigeo.lie import LieGroupStandardScaler
    >>> rot = Rotation.from_rotvec(0.3 * np.random.default_rng(0).normal(size=(20, 3)))
    >>> Y = LieGroupStandardScaler(group="SO").fit_transform(rot.as_matrix())
    >>> Y.shape
    (20, 3, 3)
    """

    _parameter_constraints = {
        "group": [StrOptions({"SO", "SE"})],
        "with_std": ["boolean"],
        "target_dispersion": [Interval(Real, 0, None, closed="neither")],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        *,
        group="SO",
        with_std=True,
        target_dispersion=1.0,
        tol=1e-10,
        max_iter=100,
    ):
        self.group = group
        self.with_std = with_std
        self.target_dispersion = target_dispersion
        self.tol = tol
        self.max_iter = max_iter

    def _validate(self, X, reset):
        X = validate_data(
            self,
            X,
            allow_nd=True,
            ensure_2d=False,
            reset=reset,
            dtype=np.float64,
            copy=True,
        )
        if X.ndim != 3 or X.shape[1] != X.shape[2]:
            raise ValueError(
                f"X must have shape (n_samples, d, d) (group elements as matrices), "
                f"got {X.shape}"
            )
        check_matrix_size(self, X, reset=reset)
        check_group_elements(X, self.group)
        return X

    def _group(self, d):
        return make_group(self.group, d)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Compute the group mean and the Lie-algebra dispersion.

        Parameters
        ----------
        X : array-like of shape (n_samples, d, d)
            Group elements (SO(d) or homogeneous SE(d-1) matrices).
        y : None
            Ignored.

        Returns
        -------
        self : LieGroupStandardScaler
        """
        X = self._validate(X, reset=True)
        with _one_blas_thread():
            return self._fit(X)

    def _fit(self, X):
        G = self._group(X.shape[-1])
        _, _, ExponentialBarycenter = import_geomstats_groups()
        est = ExponentialBarycenter(G).set(max_iter=self.max_iter, epsilon=self.tol)
        mean = np.asarray(est.fit(X).estimate_, dtype=np.float64)
        logs = np.asarray(G.log(G.compose(G.inverse(mean), X)))
        step = np.linalg.norm(logs.mean(0))
        if step > max(100 * self.tol, 1e-8):
            warnings.warn(
                f"group mean did not converge (mean log-step {step:.3g} > tol); "
                "increase max_iter or check that the data are not spread over "
                "antipodal rotations",
                ConvergenceWarning,
                stacklevel=2,
            )
        self.mean_ = mean
        self.dispersion_ = float(np.mean(np.sum(logs**2, axis=(-1, -2))))
        if self.with_std:
            if self.dispersion_ <= 0:
                raise ValueError(
                    "the dispersion is zero (all elements equal); use with_std=False"
                )
            self.scale_ = float(np.sqrt(self.target_dispersion / self.dispersion_))
        else:
            self.scale_ = 1.0
        return self

    def transform(self, X):
        """Centre at the identity and rescale in the Lie algebra.

        Parameters
        ----------
        X : array-like of shape (n_samples, d, d)

        Returns
        -------
        Y : ndarray of shape (n_samples, d, d)
        """
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        G = self._group(X.shape[-1])
        with _one_blas_thread():
            V = np.asarray(G.log(G.compose(G.inverse(self.mean_), X)))
            return np.asarray(G.exp(self.scale_ * V), dtype=np.float64)

    def inverse_transform(self, X):
        """Undo :meth:`transform`.

        Parameters
        ----------
        X : array-like of shape (n_samples, d, d)

        Returns
        -------
        Y : ndarray of shape (n_samples, d, d)
        """
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        G = self._group(X.shape[-1])
        with _one_blas_thread():
            V = np.asarray(G.log(X)) / self.scale_
            return np.asarray(G.compose(self.mean_, G.exp(V)), dtype=np.float64)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags
