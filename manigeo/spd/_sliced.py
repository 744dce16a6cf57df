"""Sliced-Wasserstein distances between distributions of SPD matrices.

Bonet, Malézieux, Rakotomamonjy, Drumetz, Moreau, Kowalski, Courty,
"Sliced-Wasserstein on Symmetric Positive Definite Matrices for M/EEG
Signals", ICML 2023.  A direction is a symmetric matrix
``A = P diag(θ) Pᵀ`` with ``‖A‖_F = 1`` (``P`` Haar-distributed on O(d),
``θ`` uniform on the unit sphere, sorted decreasingly).  Each SPD matrix is
projected to a real number along ``A``; the distance averages the 1-D
Wasserstein distances of the projected samples over the directions:

.. math:: SW_p^p(\\mu, \\nu) = \\mathbb{E}_A\\,
          W_p^p\\big(t^A_\\# \\mu,\\ t^A_\\# \\nu\\big).

* ``metric="logeuclid"`` (SPDSW): ``t^A(M) = ⟨A, log M⟩_F``, the geodesic
  projection for the log-Euclidean metric.
* ``metric="affine"`` (HSPDSW): the Busemann coordinate of the
  affine-invariant metric, ``t^A(M) = −Σ_i θ_i log D_i`` with
  ``Pᵀ M P = U D Uᵀ`` and ``U`` unit upper triangular; it is constant on the
  horospheres of the geodesic ``exp(tA)`` and ``t^A(exp(tA)) = −t``.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state

from manigeo._validation import check_spd


def _directions(d, n_projections, random_state):
    """``n_projections`` unit-norm symmetric directions ``P diag(θ) Pᵀ``.

    Returns ``P`` of shape (L, d, d) and ``θ`` of shape (L, d), ``θ`` sorted
    decreasingly (the columns of ``P`` permuted with it, so ``A`` is unchanged).
    """
    rng = check_random_state(random_state)
    Z = rng.standard_normal((n_projections, d, d))
    Q, R = np.linalg.qr(Z)
    # Haar measure: fix the signs of the QR factor
    Q = Q * np.sign(np.diagonal(R, axis1=-2, axis2=-1))[:, None, :]
    theta = rng.standard_normal((n_projections, d))
    theta /= np.linalg.norm(theta, axis=1, keepdims=True)
    order = np.argsort(-theta, axis=1)
    theta = np.take_along_axis(theta, order, axis=1)
    Q = np.take_along_axis(Q, order[:, None, :], axis=2)
    return Q, theta


def _log_spd(X):
    w, U = np.linalg.eigh(X)
    return (U * np.log(w)[:, None, :]) @ np.swapaxes(U, -1, -2)


def _project(X, P, theta, metric):
    """Projections of every matrix along every direction, shape (L, n)."""
    if metric == "logeuclid":
        A = (P * theta[:, None, :]) @ np.swapaxes(P, -1, -2)  # (L, d, d)
        return np.einsum("lij,nij->ln", A, _log_spd(X), optimize=True)
    # Busemann coordinates: UDUᵀ of Pᵀ X P (U unit upper) from the Cholesky
    # factor of the index-reversed matrix, J S J = C Cᵀ  =>  D = rev(diag(C)²)
    S = np.swapaxes(P, -1, -2)[:, None] @ X[None] @ P[:, None]  # (L, n, d, d)
    S = S[..., ::-1, ::-1]
    C = np.linalg.cholesky(0.5 * (S + np.swapaxes(S, -1, -2)))
    logD = 2.0 * np.log(np.diagonal(C, axis1=-2, axis2=-1))[..., ::-1]
    return -np.einsum("ld,lnd->ln", theta, logD)


def _wasserstein_1d(u, v, p):
    """``W_p^p`` between uniform empirical measures, row by row.

    ``u`` (L, n) and ``v`` (L, m): exact, by integrating the difference of the
    two quantile (step) functions over their merged breakpoints.
    """
    n, m = u.shape[1], v.shape[1]
    u = np.sort(u, axis=1)
    v = np.sort(v, axis=1)
    if n == m:
        return np.mean(np.abs(u - v) ** p, axis=1)
    t = np.union1d(np.arange(1, n + 1) / n, np.arange(1, m + 1) / m)
    length = np.diff(np.concatenate([[0.0], t]))
    mid = t - 0.5 * length
    iu = np.minimum((mid * n).astype(np.intp), n - 1)
    iv = np.minimum((mid * m).astype(np.intp), m - 1)
    return np.abs(u[:, iu] - v[:, iv]) ** p @ length


def _check_params(n_projections, metric, p):
    if not isinstance(n_projections, Integral) or n_projections < 1:
        raise ValueError(
            f"n_projections must be an integer >= 1, got {n_projections!r}"
        )
    if metric not in ("logeuclid", "affine"):
        raise ValueError(f"metric must be 'logeuclid' or 'affine', got {metric!r}")
    if not isinstance(p, Real) or not p >= 1:
        raise ValueError(f"p must be a number >= 1, got {p!r}")


def _check_set(X, name):
    X = check_spd(X, name=name, ndim=(3,))
    if X.shape[0] == 0:
        raise ValueError(f"{name} is empty: a distribution needs at least one matrix")
    return X


def sliced_wasserstein(
    X,
    Y,
    n_projections: int = 100,
    metric: str = "logeuclid",
    *,
    p: float = 2,
    random_state=None,
) -> float:
    """Sliced-Wasserstein distance between two sets of SPD matrices.

    Parameters
    ----------
    X : array-like of shape (n, d, d)
        Samples of the first distribution (SPD matrices, uniform weights).
    Y : array-like of shape (m, d, d)
        Samples of the second distribution.
    n_projections : int, default=100
        Number of random directions ``A``.
    metric : {"logeuclid", "affine"}, default="logeuclid"
        ``"logeuclid"``: projection ``⟨A, log M⟩_F`` (SPDSW);
        ``"affine"``: Busemann coordinates of the affine-invariant metric
        (HSPDSW).
    p : float, default=2
        Order of the Wasserstein distance.
    random_state : int, RandomState instance or None, default=None
        Seed of the directions (the same seed gives the same directions).

    Returns
    -------
    sw : float
        ``(mean over directions of W_p^p)^(1/p)``.

    References
    ----------
    .. [1] C. Bonet et al., "Sliced-Wasserstein on Symmetric Positive Definite
       Matrices for M/EEG Signals", ICML 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo.spd import sliced_wasserstein
    >>> rng = np.random.default_rng(0)
    >>> Z = rng.normal(size=(20, 3, 5))
    >>> X = Z @ Z.transpose(0, 2, 1) / 5 + 0.1 * np.eye(3)
    >>> sliced_wasserstein(X, X, random_state=0)
    0.0
    >>> bool(sliced_wasserstein(X, 2 * X, random_state=0) > 0.1)
    True
    """
    _check_params(n_projections, metric, p)
    X = _check_set(X, "X")
    Y = _check_set(Y, "Y")
    if X.shape[-1] != Y.shape[-1]:
        raise ValueError(
            f"X and Y hold matrices of different sizes: {X.shape[-1]} and {Y.shape[-1]}"
        )
    P, theta = _directions(X.shape[-1], n_projections, random_state)
    wp = _wasserstein_1d(
        _project(X, P, theta, metric), _project(Y, P, theta, metric), p
    )
    return float(np.mean(wp) ** (1.0 / p))


def sliced_wasserstein_kernel(
    Xs,
    Ys=None,
    *,
    n_projections: int = 100,
    metric: str = "logeuclid",
    gamma: float = 1.0,
    random_state=None,
) -> np.ndarray:
    """Gaussian sliced-Wasserstein kernel between sets of SPD matrices.

    ``K[s, t] = exp(−γ SW_2²(Xs[s], Ys[t]))`` with the same directions for
    every pair; ``SW_2²`` is a squared Hilbert distance (of the quantile
    functions), so ``K`` is positive definite and can be fed to
    ``KernelRidge(kernel="precomputed")`` or ``SVC(kernel="precomputed")``
    for regression or classification on sets of covariance matrices.

    Parameters
    ----------
    Xs : sequence of array-like of shape (n_s, d, d)
        Sets of SPD matrices (sizes may differ).
    Ys : sequence of array-like of shape (m_t, d, d), default=None
        Second list of sets; None uses ``Xs`` (a square Gram matrix).
    n_projections : int, default=100
        Number of random directions.
    metric : {"logeuclid", "affine"}, default="logeuclid"
        Projection (see :func:`sliced_wasserstein`).
    gamma : float, default=1.0
        Bandwidth ``γ > 0``.
    random_state : int, RandomState instance or None, default=None
        Seed of the directions.  Pass the same seed for the training and the
        test Gram matrices.

    Returns
    -------
    K : ndarray of shape (len(Xs), len(Ys))

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.kernel_ridge import KernelRidge
    >>> from manigeo.spd import sliced_wasserstein_kernel
    >>> rng = np.random.default_rng(0)
    >>> scales = rng.uniform(1, 3, size=12)
    >>> sets = [s * np.eye(2) * rng.uniform(0.9, 1.1, size=(15, 1, 1))
    ...         for s in scales]
    >>> K = sliced_wasserstein_kernel(sets, random_state=0)
    >>> K.shape, bool(np.allclose(np.diag(K), 1.0))
    ((12, 12), True)
    >>> model = KernelRidge(kernel="precomputed", alpha=1e-3).fit(K, scales)
    >>> bool(np.abs(model.predict(K) - scales).max() < 0.1)
    True
    """
    _check_params(n_projections, metric, 2)
    if not isinstance(gamma, Real) or not gamma > 0:
        raise ValueError(f"gamma must be a number > 0, got {gamma!r}")
    same = Ys is None
    Xs = [_check_set(X, f"Xs[{i}]") for i, X in enumerate(Xs)]
    Ys = Xs if same else [_check_set(Y, f"Ys[{i}]") for i, Y in enumerate(Ys)]
    if not Xs or not Ys:
        raise ValueError("Xs and Ys must each hold at least one set")
    sizes = {X.shape[-1] for X in Xs} | {Y.shape[-1] for Y in Ys}
    if len(sizes) != 1:
        raise ValueError(
            f"all sets must hold matrices of one size, got {sorted(sizes)}"
        )
    P, theta = _directions(sizes.pop(), n_projections, random_state)
    proj_x = [_project(X, P, theta, metric) for X in Xs]
    proj_y = proj_x if same else [_project(Y, P, theta, metric) for Y in Ys]
    D = np.zeros((len(Xs), len(Ys)))
    for s, u in enumerate(proj_x):
        for t, v in enumerate(proj_y):
            if same and t < s:
                D[s, t] = D[t, s]
            elif not (same and t == s):
                D[s, t] = np.mean(_wasserstein_1d(u, v, 2))
    return np.exp(-gamma * D)
