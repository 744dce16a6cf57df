"""LieGroupStandardScaler: centre and rescale group-valued data."""

import sys
import warnings
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from manigeo._validation import check_matrix_size
from manigeo.lie._groups import check_group_elements
from manigeo.lie._maps import group_exp, group_inverse, group_log


def _one_blas_thread():
    """The group maps work on tiny (d x d) matrices; BLAS threads only add
    synchronisation there (20x slower measured on a loaded 2-core machine)."""
    return threadpool_limits(limits=1, user_api="blas")


def _initial_mean(X, group):
    """Chordal mean: the rotation nearest to the arithmetic mean (polar
    factor), and the mean translation for SE."""
    k = X.shape[-1] if group == "SO" else X.shape[-1] - 1
    U, _, Vt = np.linalg.svd(X[:, :k, :k].mean(0))
    D = np.ones(k)
    D[-1] = np.sign(np.linalg.det(U @ Vt)) or 1.0
    m = np.eye(X.shape[-1])
    m[:k, :k] = (U * D) @ Vt
    if group == "SE":
        m[:k, k] = X[:, :k, k].mean(0)
    return m


def group_mean(X, group, *, tol=1e-10, max_iter=100):
    """Exponential barycenter ``m`` with ``mean_i log(m⁻¹ X_i) = 0``.

    Fixed point ``m <- m exp(mean_i log(m⁻¹ X_i))`` from the chordal mean,
    vectorised over the batch with the closed-form maps.  Returns
    ``(m, logs, step)`` with ``logs = log(m⁻¹ X_i)`` at the returned ``m`` and
    the norm of the last mean step.
    """
    m = _initial_mean(X, group)
    step = np.inf
    for _ in range(max_iter):
        logs = group_log(group_inverse(m, group) @ X, group)
        V = logs.mean(0)
        step = float(np.linalg.norm(V))
        if step <= tol:
            break
        m = m @ group_exp(V, group)
    else:
        logs = group_log(group_inverse(m, group) @ X, group)
        step = float(np.linalg.norm(logs.mean(0)))
    return m, logs, step


def _progress(iterable, total, verbose, desc):
    if not verbose:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is optional

        def _plain(it):
            for i, x in enumerate(it, 1):
                yield x
                print(f"{desc}: {i}/{total}", file=sys.stderr, flush=True)

        return _plain(iterable)
    return tqdm(iterable, total=total, desc=desc)


class LieGroupStandardScaler(TransformerMixin, BaseEstimator):
    """Standardise rotations or rigid motions in their Lie group.

    With ``m`` the group mean of the training elements (exponential barycenter:
    ``sum_i log(m⁻¹ g_i) = 0``; for SO(n) with its bi-invariant metric it is the
    Fréchet mean), every element is left-translated by ``m⁻¹`` and its
    Lie-algebra coordinate is rescaled:

    .. math:: g \\mapsto \\exp\\big(s \\log(m^{-1} g)\\big), \\qquad
              s = \\sqrt{\\text{target} / \\text{dispersion}},

    where the dispersion is ``mean_i ‖log(m⁻¹ g_i)‖²_F``.  After the transform
    the mean is the identity and the dispersion equals ``target_dispersion``.
    With ``groups`` (e.g. one label per subject or session), each group gets
    its own mean and scale.

    The group exponential and logarithm are closed forms for SO(2), SO(3),
    SE(2) and SE(3) (Rodrigues' formula, its inverse and the left Jacobian),
    vectorised over the batch; other sizes use scipy's ``expm``/``logm``.

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
    n_jobs : int, default=None
        Number of joblib workers for the per-group means (the results do not
        depend on it); None means 1.
    verbose : bool, default=False
        Show a progress bar over the groups.

    Attributes
    ----------
    groups_ : ndarray of shape (n_groups,)
        Group labels seen in fit (a single ``None`` group when ``groups=None``).
    means_ : ndarray of shape (n_groups, d, d)
        Group mean of each group.
    dispersions_ : ndarray of shape (n_groups,)
        Mean squared Frobenius norm of ``log(mean⁻¹ g_i)`` in each group.
    scales_ : ndarray of shape (n_groups,)
        Lie-algebra scaling ``s`` of each group (1 when ``with_std=False``).
    mean_ : ndarray of shape (d, d)
        ``means_[0]`` (the mean when fitted without groups).
    dispersion_ : float
        ``dispersions_[0]``.
    scale_ : float
        ``scales_[0]``.
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
    >>> groups = np.repeat([0, 1], 10)
    >>> sc = LieGroupStandardScaler().fit(rot.as_matrix(), groups=groups)
    >>> sc.means_.shape
    (2, 3, 3)
    """

    _parameter_constraints = {
        "group": [StrOptions({"SO", "SE"})],
        "with_std": ["boolean"],
        "target_dispersion": [Interval(Real, 0, None, closed="neither")],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [None, Integral],
        "verbose": ["boolean"],
    }

    def __init__(
        self,
        *,
        group="SO",
        with_std=True,
        target_dispersion=1.0,
        tol=1e-10,
        max_iter=100,
        n_jobs=None,
        verbose=False,
    ):
        self.group = group
        self.with_std = with_std
        self.target_dispersion = target_dispersion
        self.tol = tol
        self.max_iter = max_iter
        self.n_jobs = n_jobs
        self.verbose = verbose

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
        if self.group == "SE" and X.shape[-1] < 3:
            raise ValueError(
                "SE(n) elements are (n+1, n+1) homogeneous matrices with n >= 2; "
                f"got {X.shape[-1]}x{X.shape[-1]}"
            )
        check_group_elements(X, self.group)
        return X

    @staticmethod
    def _check_groups(groups, n):
        if groups is None:
            return None
        groups = np.asarray(groups)
        if groups.ndim != 1 or groups.shape[0] != n:
            raise ValueError(
                f"groups must have shape ({n},) (one label per element), "
                f"got {groups.shape}"
            )
        if groups.dtype.kind == "f" and np.isnan(groups).any():
            raise ValueError("groups contains NaN labels")
        return groups

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, groups=None):
        """Compute the group mean(s) and the Lie-algebra dispersion(s).

        Parameters
        ----------
        X : array-like of shape (n_samples, d, d)
            Group elements (SO(d) or homogeneous SE(d-1) matrices).
        y : None
            Ignored.
        groups : array-like of shape (n_samples,), default=None
            Group label of each element; None: one group.

        Returns
        -------
        self : LieGroupStandardScaler
        """
        X = self._validate(X, reset=True)
        groups = self._check_groups(groups, X.shape[0])
        labels = [None] if groups is None else list(dict.fromkeys(groups.tolist()))
        parts = [X if g is None else X[groups == g] for g in labels]
        tasks = (
            delayed(_fit_one)(P, self.group, self.tol, self.max_iter) for P in parts
        )
        tasks = _progress(tasks, len(parts), self.verbose, "group means")
        results = Parallel(n_jobs=self.n_jobs, prefer="threads")(tasks)
        means, dispersions, steps = zip(*results, strict=True)
        worst = max(steps)
        if worst > max(100 * self.tol, 1e-8):
            warnings.warn(
                f"group mean did not converge (mean log-step {worst:.3g} > tol); "
                "increase max_iter or check that the data are not spread over "
                "antipodal rotations",
                ConvergenceWarning,
                stacklevel=2,
            )
        self.groups_ = np.array(labels, dtype=object)
        self.means_ = np.stack(means)
        self.dispersions_ = np.array(dispersions, dtype=np.float64)
        if self.with_std:
            if np.any(self.dispersions_ <= 0):
                raise ValueError(
                    "the dispersion is zero (all elements of a group equal); "
                    "use with_std=False"
                )
            self.scales_ = np.sqrt(self.target_dispersion / self.dispersions_)
        else:
            self.scales_ = np.ones(len(labels))
        self.mean_ = self.means_[0]
        self.dispersion_ = float(self.dispersions_[0])
        self.scale_ = float(self.scales_[0])
        return self

    def _index(self, groups, n):
        groups = self._check_groups(groups, n)
        if groups is None:
            if len(self.groups_) != 1:
                raise ValueError(
                    f"fit saw {len(self.groups_)} groups; pass groups= to transform"
                )
            return np.zeros(n, dtype=np.intp)
        lookup = {g: i for i, g in enumerate(self.groups_.tolist())}
        unknown = [g for g in dict.fromkeys(groups.tolist()) if g not in lookup]
        if unknown:
            raise ValueError(f"groups {unknown} were not seen in fit")
        return np.array([lookup[g] for g in groups.tolist()], dtype=np.intp)

    def transform(self, X, groups=None):
        """Centre at the identity and rescale in the Lie algebra.

        Parameters
        ----------
        X : array-like of shape (n_samples, d, d)
        groups : array-like of shape (n_samples,), default=None
            Group labels (required when fit saw several groups).

        Returns
        -------
        Y : ndarray of shape (n_samples, d, d)
        """
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        idx = self._index(groups, X.shape[0])
        inv = group_inverse(self.means_, self.group)[idx]
        with _one_blas_thread():
            V = group_log(inv @ X, self.group)
            return group_exp(self.scales_[idx, None, None] * V, self.group)

    def inverse_transform(self, X, groups=None):
        """Undo :meth:`transform`.

        Parameters
        ----------
        X : array-like of shape (n_samples, d, d)
        groups : array-like of shape (n_samples,), default=None

        Returns
        -------
        Y : ndarray of shape (n_samples, d, d)
        """
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        idx = self._index(groups, X.shape[0])
        with _one_blas_thread():
            V = group_log(X, self.group) / self.scales_[idx, None, None]
            return self.means_[idx] @ group_exp(V, self.group)

    def fit_transform(self, X, y=None, groups=None):
        """Fit, then transform ``X`` (with the same ``groups``).

        Parameters
        ----------
        X : array-like of shape (n_samples, d, d)
        y : None
            Ignored.
        groups : array-like of shape (n_samples,), default=None

        Returns
        -------
        Y : ndarray of shape (n_samples, d, d)
        """
        return self.fit(X, groups=groups).transform(X, groups=groups)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags


def _fit_one(X, group, tol, max_iter):
    with _one_blas_thread():
        m, logs, step = group_mean(X, group, tol=tol, max_iter=max_iter)
    return m, float(np.mean(np.sum(logs**2, axis=(-1, -2)))), step
