"""Public, validated SPD geometry: distance, log, exp, geodesic, mean, dispersion.

Dispatch is per call: numpy in, numpy out (float64); torch in, torch out on
the input's device (differentiable through the matrix functions), validated
there without a host copy.  The work is done in float64 whatever the input
dtype: float32 tensors are promoted on entry and the result is cast back
(float32 eigendecompositions lose the answer at condition numbers ~1e6 and
above), so a float32 pipeline gets float64-accurate geometry in float32.
"""

from typing import Any

import numpy as np

from manigeo._backend import as_weights, cpu64_view, import_torch, is_torch
from manigeo._validation import check_spd, check_symmetric
from manigeo.spd._metrics import LogCholesky, LogEuclidean, get_metric


def _prepare(*items, factors=None):
    """Validate and bring inputs to one backend/device in float64.

    ``items``: ``(value, name, kind, ndim)`` with kind "spd", "spd-chol"
    (SPD, and keep the Cholesky factor of the validation), "spd-eigh" (SPD,
    and keep the ``(eigenvalues, eigenvectors)`` of the validation) or "sym".
    The value of a "spd-chol" or "spd-eigh" item is for its shape only: when
    it is symmetric to round-off it is returned unsymmetrised (the factor is
    what the caller uses; see ``check_symmetric(factor_only=True)``).
    Returns the converted arrays and a function restoring the output dtype;
    the factors of "spd-chol" and "spd-eigh" items are appended to the list
    ``factors`` (None where the factor is not in float64: it is recomputed
    after the conversion).
    """
    tensors = [v for v, *_ in items if is_torch(v)]
    out = []
    for value, name, kind, ndim in items:
        if kind == "spd":
            value = check_spd(value, name=name, ndim=ndim, copy=False)
        elif kind == "spd-chol":
            value, L = check_spd(
                value,
                name=name,
                ndim=ndim,
                copy=False,
                return_cholesky=True,
                factor_only=True,
            )
            f64 = not is_torch(L) or L.dtype == import_torch().float64
            factors.append(L if f64 else None)
        elif kind == "spd-eigh":
            value, lam, U = check_spd(
                value,
                name=name,
                ndim=ndim,
                copy=False,
                return_eigh=True,
                factor_only=True,
            )
            factors.append((lam, U))
        else:
            value = check_symmetric(
                value, name=name, what="a tangent vector", scale_floor=1.0
            )
            if value.ndim not in ndim:
                raise ValueError(
                    f"{name} must have ndim in {ndim}, got shape {tuple(value.shape)}"
                )
        out.append(value)
    if not tensors:
        return [np.asarray(v, dtype=np.float64) for v in out], lambda r: r
    torch = import_torch()
    devices = {t.device for t in tensors}
    if len(devices) > 1:
        raise ValueError(
            f"inputs are on different devices {sorted(map(str, devices))}; move "
            "them to one device"
        )
    device = devices.pop()
    dtypes = {t.dtype for t in tensors}
    out_dtype = tensors[0].dtype if len(dtypes) == 1 else torch.float64
    if not out_dtype.is_floating_point:
        out_dtype = torch.get_default_dtype()
    out = [torch.as_tensor(v, device=device).to(torch.float64) for v in out]

    def restore(r):
        if is_torch(r) and r.dtype != out_dtype:
            return r.to(out_dtype)
        return r

    return out, restore


def _same_p(A, Bm, na, nb):
    if A.shape[-1] != Bm.shape[-1]:
        raise ValueError(
            f"{na} and {nb} have different matrix sizes: "
            f"{A.shape[-1]} and {Bm.shape[-1]}"
        )
    if A.ndim == 3 and Bm.ndim == 3 and 1 not in (A.shape[0], Bm.shape[0]):
        if A.shape[0] != Bm.shape[0]:
            raise ValueError(
                f"{na} and {nb} hold different numbers of matrices "
                f"({A.shape[0]} and {Bm.shape[0]}); pass batches of equal size "
                "or a single matrix for one of them"
            )


def distance(
    A: Any,
    B: Any,
    metric: str = "affine",
    *,
    theta: float = 1.0,
    alpha: float = 1.0,
    beta: float = 0.0,
    squared: bool = False,
) -> Any:
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
    m = get_metric(metric, theta, alpha, beta)
    # log-Cholesky: the coordinates come from the Cholesky factors that proved
    # definiteness (one factorisation per input instead of two)
    kind = "spd-chol" if m.name == "logcholesky" and m.theta == 1.0 else "spd"
    factors = []
    (A, B), restore = _prepare(
        (A, "A", kind, (2, 3)), (B, "B", kind, (2, 3)), factors=factors
    )
    _same_p(A, B, "A", "B")
    if (
        kind == "spd-chol"
        and all(f is not None for f in factors)
        and is_torch(factors[0]) == is_torch(A)
        and is_torch(factors[1]) == is_torch(B)
    ):
        d2 = m.squared_distance_from_cholesky(*factors)
        d = d2 if squared else (d2.sqrt() if is_torch(d2) else np.sqrt(d2))
    else:
        d = m.squared_distance(A, B) if squared else m.distance(A, B)
    return restore(d) if is_torch(d) or np.ndim(d) else float(d)


def log(
    P: Any,
    Q: Any,
    metric: str = "affine",
    *,
    theta: float = 1.0,
    alpha: float = 1.0,
    beta: float = 0.0,
) -> Any:
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
    (P, Q), restore = _prepare((P, "P", "spd", (2, 3)), (Q, "Q", "spd", (2, 3)))
    _same_p(P, Q, "P", "Q")
    return restore(get_metric(metric, theta, alpha, beta).log(P, Q))


def exp(
    P: Any,
    V: Any,
    metric: str = "affine",
    *,
    theta: float = 1.0,
    alpha: float = 1.0,
    beta: float = 0.0,
) -> Any:
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
    (P, V), restore = _prepare((P, "P", "spd", (2, 3)), (V, "V", "sym", (2, 3)))
    _same_p(P, V, "P", "V")
    return restore(get_metric(metric, theta, alpha, beta).exp(P, V))


def geodesic(
    A: Any,
    B: Any,
    t: float,
    metric: str = "affine",
    *,
    theta: float = 1.0,
    alpha: float = 1.0,
    beta: float = 0.0,
) -> Any:
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
    (A, B), restore = _prepare((A, "A", "spd", (2, 3)), (B, "B", "spd", (2, 3)))
    _same_p(A, B, "A", "B")
    t = float(t)
    if not np.isfinite(t):
        raise ValueError(f"t must be finite, got {t}")
    return restore(get_metric(metric, theta, alpha, beta).geodesic(A, B, t))


def mean(
    X: Any,
    metric: str = "affine",
    *,
    weights: Any = None,
    theta: float = 1.0,
    alpha: float = 1.0,
    beta: float = 0.0,
    tol: float = 1e-10,
    max_iter: int = 100,
    init: Any = None,
) -> Any:
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
    m = get_metric(metric, theta, alpha, beta)
    views = _cpu64_views(X, weights, init) if is_torch(X) else None
    if views is not None:
        # float64 CPU tensors outside autograd: the numpy computation on
        # zero-copy views (the same LAPACK, allocator and code path as numpy
        # input), the result wrapped back zero-copy
        kw = {"theta": theta, "alpha": alpha, "beta": beta, "tol": tol}
        Xn, wn, initn = views
        M = mean(Xn, metric, weights=wn, max_iter=max_iter, init=initn, **kw)
        return import_torch().from_numpy(M)
    if init is None and (
        (m.name == "logcholesky" and m.theta == 1.0) or m.name == "logeuclid"
    ):
        checked = (
            LogCholesky.mean_checked
            if m.name == "logcholesky"
            else LogEuclidean.mean_checked
        )
        M = _closed_form_fused(X, weights, tol, max_iter, checked)
        if M is not None:
            return M
    # the closed-form means reuse the factorisation that proved definiteness:
    # log-Cholesky averages the Cholesky factors, log-Euclidean the logs from
    # the eigendecomposition (torch: float64 tensors outside autograd only;
    # a float32 tensor is validated in float32 and averaged in float64)
    kind = "spd"
    if m.name == "logcholesky" and m.theta == 1.0:
        kind = "spd-chol"
    elif m.name == "logeuclid" and (
        not is_torch(X) or (X.dtype == import_torch().float64 and not X.requires_grad)
    ):
        kind = "spd-eigh"
    items = [(X, "X", kind, (3,))]
    if init is not None:
        items.append((init, "init", "spd", (2,)))
    factors = []
    arrays, restore = _prepare(*items, factors=factors)
    X = arrays[0]
    if init is not None:
        init = arrays[1]
        _same_p(X, init, "X", "init")
    if not (isinstance(max_iter, (int, np.integer)) and max_iter >= 1):
        raise ValueError(f"max_iter must be an integer >= 1, got {max_iter!r}")
    if not tol >= 0:
        raise ValueError(f"tol must be >= 0, got {tol}")
    kw = {}
    if (
        kind == "spd-chol"
        and factors[0] is not None
        and is_torch(factors[0]) == (is_torch(X))
    ):
        kw = {"cholesky": factors[0]}
    elif kind == "spd-eigh" and is_torch(factors[0][0]) == is_torch(X):
        kw = {"eigh": factors[0]}
    return restore(
        m.mean(X, weights=weights, tol=tol, max_iter=max_iter, init=init, **kw)
    )


def _cpu64_views(*values):
    """Zero-copy numpy views of the tensors among ``values`` (None and
    non-tensors passed through), or None unless every tensor is a float64
    CPU tensor outside autograd (:func:`manigeo._backend.cpu64_view`)."""
    out = []
    for v in values:
        if is_torch(v):
            v = cpu64_view(v)
            if v is None:
                return None
        out.append(v)
    return out


def _closed_form_fused(X, weights, tol, max_iter, checked):
    """A closed-form mean with its validation fused in, or None.

    For a float64 numpy array with valid parameters: ``checked(X, w)``
    (:meth:`LogCholesky.mean_checked`, :meth:`LogEuclidean.mean_checked`),
    one pass over ``X`` (float64 CPU tensors outside autograd arrive here as
    zero-copy numpy views, see :func:`mean`).  None for anything else, or
    when the fused checks fail: :func:`mean`'s full path then validates (and
    raises) as usual.
    """
    if not (isinstance(max_iter, (int, np.integer)) and max_iter >= 1):
        return None
    if not (isinstance(tol, (int, float, np.number)) and tol >= 0):
        return None
    if type(X) is not np.ndarray:
        return None
    if X.ndim != 3 or X.dtype != np.float64 or X.size == 0:
        return None
    try:
        w = as_weights(weights, X)
    except (TypeError, ValueError):
        return None  # raised by the full path, after the checks of X
    return checked(X, w)


def dispersion(
    X: Any,
    M: Any = None,
    metric: str = "affine",
    *,
    weights: Any = None,
    theta: float = 1.0,
    alpha: float = 1.0,
    beta: float = 0.0,
) -> Any:
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
    items = [(X, "X", "spd", (3,))]
    if M is not None:
        items.append((M, "M", "spd", (2,)))
    arrays, restore = _prepare(*items)
    X = arrays[0]
    m = get_metric(metric, theta, alpha, beta)
    if M is None:
        M = m.mean(X, weights=weights)
    else:
        M = arrays[1]
        _same_p(X, M, "X", "M")
    d = m.dispersion(X, M, weights=weights)
    return restore(d) if is_torch(d) else float(d)
