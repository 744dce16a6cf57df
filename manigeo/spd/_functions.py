"""Public, validated SPD geometry: distance, log, exp, geodesic, mean, dispersion.

Dispatch is per call: numpy in, numpy out (float64); torch in, torch out on
the input's device and dtype (differentiable through the matrix functions).
"""

import numpy as np

from manigeo._backend import is_torch
from manigeo._validation import check_spd
from manigeo.spd._metrics import get_metric


def _check(X, name, ndim=(2, 3)):
    """check_spd for numpy; for torch validate a detached copy, return X itself."""
    if is_torch(X):
        check_spd(X.detach(), name=name, ndim=ndim, copy=True)
        return 0.5 * (X + X.mT)
    return check_spd(X, name=name, ndim=ndim)


def _check_sym(V, name):
    if is_torch(V):
        arr = V.detach().cpu().numpy()
    else:
        V = np.array(V, dtype=np.float64)
        arr = V
    if arr.ndim < 2 or arr.shape[-1] != arr.shape[-2]:
        raise ValueError(f"{name} must hold square matrices, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    scale = max(float(np.abs(arr).max()), 1e-300)
    if np.abs(arr - np.swapaxes(arr, -1, -2)).max() > 1e-8 * scale:
        raise ValueError(f"{name} is not symmetric (tangent vectors are symmetric)")
    return 0.5 * (V + (V.mT if is_torch(V) else np.swapaxes(V, -1, -2)))


def _same_p(A, Bm, na, nb):
    if A.shape[-1] != Bm.shape[-1]:
        raise ValueError(
            f"{na} and {nb} have different matrix sizes: "
            f"{A.shape[-1]} and {Bm.shape[-1]}"
        )


def distance(A, B, metric="affine", *, theta=1.0, alpha=1.0, beta=0.0, squared=False):
    """Riemannian distance between SPD matrices.

    Parameters
    ----------
    A, B : array-like or Tensor of shape (p, p) or (n, p, p)
        SPD matrices (broadcast against each other).
    metric : {"affine", "logeuclid", "logcholesky", "bures-wasserstein"}, \
            default="affine"
        The metric (see :func:`manigeo.spd.get_metric`).
    theta : float, default=1.0
        Power deformation: ``d(A^θ, B^θ) / |θ|``.
    alpha, beta : float, default=1.0, 0.0
        O(n)-invariant weights (affine and logeuclid only).
    squared : bool, default=False
        Return the squared distance.

    Returns
    -------
    d : float, ndarray of shape (n,) or Tensor

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo.spd import distance
    >>> float(distance(np.eye(2), np.diag([np.e, 1.0])))
    1.0
    """
    A = _check(A, "A")
    B = _check(B, "B")
    _same_p(A, B, "A", "B")
    m = get_metric(metric, theta, alpha, beta)
    d = m.squared_distance(A, B) if squared else m.distance(A, B)
    return d if is_torch(d) or np.ndim(d) else float(d)


def log(P, Q, metric="affine", *, theta=1.0, alpha=1.0, beta=0.0):
    """Riemannian logarithm ``Log_P(Q)`` (a symmetric tangent vector at P).

    Parameters
    ----------
    P, Q : array-like or Tensor of shape (p, p) or (n, p, p)
        Base points and targets (SPD).
    metric : str, default="affine"
    theta, alpha, beta : float, default=1.0, 1.0, 0.0
        See :func:`distance`; ``alpha, beta`` do not change Log.

    Returns
    -------
    V : ndarray or Tensor of shape (..., p, p)

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo.spd import log
    >>> log(np.eye(2), np.diag([np.e, 1.0]))
    array([[1., 0.],
           [0., 0.]])
    """
    P, Q = _check(P, "P"), _check(Q, "Q")
    _same_p(P, Q, "P", "Q")
    return get_metric(metric, theta, alpha, beta).log(P, Q)


def exp(P, V, metric="affine", *, theta=1.0, alpha=1.0, beta=0.0):
    """Riemannian exponential ``Exp_P(V)``.

    Parameters
    ----------
    P : array-like or Tensor of shape (p, p) or (n, p, p)
        Base points (SPD).
    V : array-like or Tensor of shape (..., p, p)
        Symmetric tangent vectors.
    metric : str, default="affine"
    theta, alpha, beta : float, default=1.0, 1.0, 0.0

    Returns
    -------
    Q : ndarray or Tensor of shape (..., p, p)
        SPD (Bures–Wasserstein Exp is SPD only inside the injectivity domain).

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo.spd import exp
    >>> exp(np.eye(2), np.zeros((2, 2)))
    array([[1., 0.],
           [0., 1.]])
    """
    P = _check(P, "P")
    V = _check_sym(V, "V")
    _same_p(P, V, "P", "V")
    return get_metric(metric, theta, alpha, beta).exp(P, V)


def geodesic(A, B, t, metric="affine", *, theta=1.0, alpha=1.0, beta=0.0):
    """Point at parameter ``t`` on the geodesic from A (t=0) to B (t=1).

    Parameters
    ----------
    A, B : array-like or Tensor of shape (p, p) or (n, p, p)
    t : float
    metric : str, default="affine"
    theta, alpha, beta : float, default=1.0, 1.0, 0.0

    Returns
    -------
    G : ndarray or Tensor of shape (..., p, p)

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo.spd import geodesic
    >>> geodesic(np.eye(2), 4 * np.eye(2), 0.5)
    array([[2., 0.],
           [0., 2.]])
    """
    A, B = _check(A, "A"), _check(B, "B")
    _same_p(A, B, "A", "B")
    t = float(t)
    if not np.isfinite(t):
        raise ValueError(f"t must be finite, got {t}")
    return get_metric(metric, theta, alpha, beta).geodesic(A, B, t)


def mean(
    X,
    metric="affine",
    *,
    weights=None,
    theta=1.0,
    alpha=1.0,
    beta=0.0,
    tol=1e-10,
    max_iter=100,
    init=None,
):
    """Weighted Fréchet mean of SPD matrices.

    Closed form for "logeuclid" (``expm`` of the mean log) and "logcholesky"
    (mean of log-Cholesky coordinates); fixed-point iteration to ``tol`` for
    "affine" (Karcher flow, gradient norm) and "bures-wasserstein" (mean
    transport map minus identity).  ``theta`` maps the problem through
    ``P ↦ P^θ``: the θ-mean is ``mean(X^θ)^{1/θ}``.

    Parameters
    ----------
    X : array-like or Tensor of shape (n, p, p)
        SPD matrices.
    metric : str, default="affine"
    weights : array-like of shape (n,), default=None
        Non-negative weights (normalised to sum 1); None for uniform.
    theta, alpha, beta : float, default=1.0, 1.0, 0.0
        ``alpha, beta`` do not change the mean (same connection).
    tol : float, default=1e-10
        Stopping tolerance of the iterative means.
    max_iter : int, default=100
        Iteration cap (a ConvergenceWarning is raised when reached).
    init : array-like of shape (p, p), default=None
        Starting point of the iterative means (default: log-Euclidean mean for
        affine, arithmetic mean for Bures–Wasserstein).

    Returns
    -------
    M : ndarray or Tensor of shape (p, p)

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo.spd import mean
    >>> X = np.stack([np.diag([1.0, 4.0]), np.diag([4.0, 1.0])])
    >>> mean(X, metric="affine")
    array([[2., 0.],
           [0., 2.]])
    """
    X = _check(X, "X", ndim=(3,))
    if init is not None:
        init = _check(init, "init", ndim=(2,))
        _same_p(X, init, "X", "init")
    if not (isinstance(max_iter, (int, np.integer)) and max_iter >= 1):
        raise ValueError(f"max_iter must be an integer >= 1, got {max_iter!r}")
    if not tol >= 0:
        raise ValueError(f"tol must be >= 0, got {tol}")
    m = get_metric(metric, theta, alpha, beta)
    return m.mean(X, weights=weights, tol=tol, max_iter=max_iter, init=init)


def dispersion(
    X, M=None, metric="affine", *, weights=None, theta=1.0, alpha=1.0, beta=0.0
):
    """Weighted mean squared distance ``sum_i w_i d²(X_i, M)``.

    Parameters
    ----------
    X : array-like or Tensor of shape (n, p, p)
    M : array-like of shape (p, p), default=None
        Centre; None computes the Fréchet mean under the same metric.
    metric : str, default="affine"
    weights : array-like of shape (n,), default=None
    theta, alpha, beta : float, default=1.0, 1.0, 0.0

    Returns
    -------
    dispersion : float or Tensor

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo.spd import dispersion
    >>> X = np.stack([np.diag([np.e, 1.0]), np.diag([1 / np.e, 1.0])])
    >>> round(dispersion(X, np.eye(2)), 12)
    1.0
    """
    X = _check(X, "X", ndim=(3,))
    m = get_metric(metric, theta, alpha, beta)
    if M is None:
        M = m.mean(X, weights=weights)
    else:
        M = _check(M, "M", ndim=(2,))
        _same_p(X, M, "X", "M")
    d = m.dispersion(X, M, weights=weights)
    return d if is_torch(d) else float(d)
