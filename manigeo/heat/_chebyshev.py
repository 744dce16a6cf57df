"""Heat kernel ``exp(-t L)`` applied to vectors by Chebyshev polynomial filtering.

For a symmetric positive semi-definite sparse ``L`` with spectrum in
``[0, lmax]`` write ``lambda = lmax (x + 1) / 2`` with ``x`` in ``[-1, 1]`` and
``a = t lmax / 2``.  The Chebyshev expansion of the exponential is (Abramowitz &
Stegun 9.6.34)

    exp(-t lambda) = exp(-a) exp(-a x)
                   = ive(0, a) T_0(x) + 2 sum_{k>=1} (-1)^k ive(k, a) T_k(x),

with ``ive`` the exponentially scaled modified Bessel function.  The
coefficients are positive and decay like ``exp(-k^2 / (2a))`` once ``k`` passes
``sqrt(a)``, so the truncation error of ``order`` terms is bounded in the
sup-norm over the spectrum by ``2 sum_{k>order} ive(k, a)`` -- a number this
module computes and returns, without any eigen-decomposition.  All times share
the same three-term recursion ``T_{k+1} = 2 x T_k - T_{k-1}``, so several times
cost one sweep of ``order`` sparse products.
"""

import numbers

import numpy as np
import scipy.sparse as sp
from scipy.special import ive

from .._validation import check_adjacency, check_dense_size, check_int

_METHODS = ("auto", "gershgorin", "normalized", "lanczos")


def chebyshev_coefficients(t, order, lmax):
    """Chebyshev coefficients of ``exp(-t lambda)`` on ``[0, lmax]``.

    Parameters
    ----------
    t : float or array-like of shape (n_times,)
        Diffusion times (non-negative).
    order : int
        Highest polynomial degree kept.
    lmax : float
        Upper bound of the spectrum.

    Returns
    -------
    coef : ndarray of shape (n_times, order + 1)
        ``coef[:, k]`` multiplies ``T_k``.
    bound : ndarray of shape (n_times,)
        Sup-norm bound of the truncation error on ``[0, lmax]``.
    """
    t, _ = _check_times(t)
    order = check_int(order, "order", minimum=0)
    lmax = _check_lmax(lmax)
    a = t * lmax / 2.0
    k = np.arange(order + 1)
    coef = 2.0 * ive(k[None, :], a[:, None]) * (-1.0) ** k[None, :]
    coef[:, 0] *= 0.5
    # tail: terms decay monotonically past k ~ sqrt(a); sum enough of them
    tail_k = np.arange(order + 1, order + 1 + 4 * int(np.sqrt(a.max() + 1)) + 64)
    bound = 2.0 * ive(tail_k[None, :], a[:, None]).sum(axis=1)
    return coef, bound


def chebyshev_order(t, lmax, tol=1e-12, max_order=10_000):
    """Smallest order whose truncation bound is below ``tol`` for every ``t``.

    Parameters
    ----------
    t : float or array-like
        Diffusion times.
    lmax : float
        Upper bound of the spectrum.
    tol : float, default=1e-12
        Sup-norm error target.
    max_order : int, default=10000

    Returns
    -------
    order : int
    """
    ts, _ = _check_times(t)
    lmax = _check_lmax(lmax)
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real):
        raise TypeError(f"tol must be a real number, got {tol!r}")
    if not (np.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be positive and finite, got {tol!r}")
    max_order = check_int(max_order, "max_order", minimum=1)
    a = float(ts.max()) * lmax / 2.0
    k = np.arange(max_order + 2)
    terms = 2.0 * ive(k, a)
    tails = np.cumsum(terms[::-1])[::-1]  # tails[k] = sum_{j >= k}
    ok = np.flatnonzero(tails[1:] <= tol)
    return int(ok[0]) if ok.size else int(max_order)


def spectrum_bound(L, *, method="auto", normalized=None):
    """Cheap upper bound of the largest eigenvalue of a symmetric PSD Laplacian.

    Parameters
    ----------
    L : sparse matrix of shape (n, n)
    method : {"auto", "gershgorin", "normalized", "lanczos"}, default="auto"
        ``"gershgorin"``: ``max_i sum_j |L_ij|`` (always valid);
        ``"normalized"``: 2 (valid for the symmetric normalized Laplacian);
        ``"lanczos"``: a few Lanczos steps (:func:`scipy.sparse.linalg.eigsh`)
        plus a 1 % safety margin, never above Gershgorin;
        ``"auto"``: the smaller of Gershgorin and 2 when ``normalized`` is
        true, else Gershgorin.
    normalized : bool or None, default=None
        Whether ``L`` is a symmetric normalized Laplacian; ``None`` detects it
        from a unit diagonal.

    Returns
    -------
    lmax : float

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo.graphs import laplacian
    >>> from manigeo.heat import spectrum_bound
    >>> L = laplacian(np.ones((3, 3)) - np.eye(3))
    >>> spectrum_bound(L)
    4.0
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    if normalized is not None and not isinstance(normalized, (bool, np.bool_)):
        raise TypeError(f"normalized must be a bool or None, got {normalized!r}")
    return _spectrum_bound(_check_laplacian(L), method=method, normalized=normalized)


def _spectrum_bound(L, *, method="auto", normalized=None):
    """:func:`spectrum_bound` of a validated CSR Laplacian."""
    absrow = np.asarray(abs(L).sum(axis=1)).ravel()
    gersh = float(absrow.max()) if absrow.size else 0.0
    if normalized is None:
        d = L.diagonal()
        normalized = bool(np.all((np.abs(d - 1) < 1e-12) | (d == 0)))
    if method == "gershgorin":
        return gersh
    if method == "normalized":
        return 2.0
    if method == "lanczos":
        from scipy.sparse.linalg import eigsh

        n = L.shape[0]
        if n < 3:
            return gersh
        v0 = np.ones(n) / np.sqrt(n) + np.linspace(0, 1e-3, n)
        lam = eigsh(
            L,
            k=1,
            which="LA",
            tol=1e-3,
            v0=v0,
            return_eigenvectors=False,
            maxiter=max(100, 10 * n),
        )[0]
        return float(min(gersh, 1.01 * lam + 1e-12))
    return min(gersh, 2.0) if normalized else gersh


def _check_lmax(lmax):
    if isinstance(lmax, bool) or np.iscomplexobj(lmax):
        raise TypeError(f"lmax must be a real number, got {lmax!r}")
    try:
        lmax = float(lmax)
    except (TypeError, ValueError):
        raise TypeError(f"lmax must be a real number, got {lmax!r}") from None
    if not np.isfinite(lmax) or lmax < 0:
        raise ValueError(f"lmax must be a non-negative finite number, got {lmax}")
    return lmax


def _check_times(t, name="t"):
    """Diffusion times as a finite non-negative 1-D float array (and is-scalar)."""
    if isinstance(t, numbers.Real) and not isinstance(t, bool):
        ts = np.array([float(t)])
        scalar = True
    else:
        if np.iscomplexobj(t):
            raise TypeError(f"{name} must be real diffusion times, got complex {t!r}")
        try:
            ts = np.asarray(t, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise TypeError(
                f"{name} must be a float or a 1-D array of floats, got {t!r}"
            ) from err
        if ts.ndim != 1 or ts.size == 0:
            raise ValueError(
                f"{name} must be a float or a non-empty 1-D array, got shape {ts.shape}"
            )
        scalar = False
    if not np.all(np.isfinite(ts)) or np.any(ts < 0):
        raise ValueError(f"{name} must be finite and non-negative, got {t!r}")
    return ts, scalar


def _check_block(L, sources, block, max_dense_bytes):
    n = L.shape[0]
    if sources is not None and block is not None:
        raise ValueError("pass either sources or block, not both")
    if block is not None:
        B = np.asarray(
            block.toarray() if sp.issparse(block) else block, dtype=np.float64
        )
        if B.ndim == 1:
            B = B[:, None]
        if B.ndim != 2 or B.shape[0] != n:
            raise ValueError(f"block must have {n} rows, got shape {B.shape}")
        if not np.all(np.isfinite(B)):
            raise ValueError("block contains NaN or infinite values")
        return B, False
    if sources is None:
        check_dense_size(
            n,
            n,
            max_bytes=max_dense_bytes,
            what="heat kernel",
            hint="pass sources=... to apply it to a few indicator vectors",
        )
        return np.eye(n), False
    src = np.asarray(sources)
    scalar = src.ndim == 0
    src = np.atleast_1d(src)
    if src.ndim != 1 or not (np.issubdtype(src.dtype, np.integer) or src.size == 0):
        raise TypeError(
            "sources must be an integer or a 1-D array of integer node indices"
        )
    if src.size and (src.min() < -n or src.max() >= n):
        raise ValueError(f"sources has node indices outside [0, {n})")
    check_dense_size(n, src.size, max_bytes=max_dense_bytes, what="heat block")
    B = np.zeros((n, src.size))
    B[src % n, np.arange(src.size)] = 1.0
    return B, scalar


def _check_laplacian(L):
    L = check_adjacency(L, name="L", nonnegative=False, self_loops="keep")
    return L


def heat_kernel(
    L,
    t,
    *,
    order=30,
    sources=None,
    block=None,
    lmax=None,
    return_bound=False,
    max_dense_bytes=None,
):
    """Heat kernel ``exp(-t L)`` applied to indicator vectors or a block.

    Chebyshev polynomial filtering of the sparse Laplacian: ``order`` sparse
    matrix products per call, shared by every time in ``t``.  No dense
    ``n x n`` matrix is built unless asked for (``sources=None`` and
    ``block=None`` returns the full kernel, below the dense-size guard).

    Parameters
    ----------
    L : sparse matrix of shape (n, n)
        Symmetric positive semi-definite (a graph Laplacian from
        :func:`manigeo.graphs.laplacian`).
    t : float or array-like of shape (n_times,)
        Diffusion time(s), non-negative.
    order : int or "auto", default=30
        Polynomial degree; ``"auto"`` picks the smallest degree whose
        truncation bound (see ``return_bound``) is below 1e-14.
    sources : int or array-like of int or None, default=None
        Nodes whose indicator vectors are diffused: the result holds the
        columns ``H_t[:, sources]``.
    block : array-like of shape (n, k) or None, default=None
        Arbitrary vectors to diffuse instead of indicators.
    lmax : float or None, default=None
        Upper bound of the spectrum of ``L``; ``None`` uses
        :func:`spectrum_bound` (2 for a normalized Laplacian, else
        Gershgorin).
    return_bound : bool, default=False
        Also return the a-priori sup-norm error bound of the truncation for
        each time (an upper bound of ``||H_t - p(L)||_2``).
    max_dense_bytes : int or None, default=None
        Ceiling for the dense result (see
        :func:`manigeo._validation.check_dense_size`).

    Returns
    -------
    H : ndarray of shape (n, k), (n_times, n, k), or (n,) for a scalar source
        ``exp(-t L) B``; a leading time axis when ``t`` is an array.
    bound : ndarray of shape (n_times,), only if ``return_bound``

    See Also
    --------
    heat_kernel_exact : the same product by :func:`scipy.sparse.linalg.expm_multiply`.

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo.graphs import laplacian
    >>> from manigeo.heat import heat_kernel, heat_kernel_exact
    >>> W = np.ones((4, 4)) - np.eye(4)
    >>> L = laplacian(W, kind="symmetric")
    >>> H = heat_kernel(L, 0.5, sources=[0])
    >>> bool(np.allclose(H, heat_kernel_exact(L, 0.5, sources=[0])))
    True
    """
    L = _check_laplacian(L)
    ts, scalar_t = _check_times(t)
    B, scalar_src = _check_block(L, sources, block, max_dense_bytes)
    lmax = _spectrum_bound(L) if lmax is None else _check_lmax(lmax)
    if isinstance(order, str):
        if order != "auto":
            raise ValueError(
                f"order must be a positive integer or 'auto', got {order!r}"
            )
        order = chebyshev_order(ts, lmax, tol=1e-14)
    order = check_int(order, "order", minimum=1)
    out = _chebyshev_apply(L, B, ts, order, lmax)
    coef, bound = chebyshev_coefficients(ts, order, lmax)
    del coef
    if scalar_src:
        out = out[..., 0]
    if scalar_t:
        out = out[0]
    return (out, bound) if return_bound else out


def _chebyshev_apply(L, B, ts, order, lmax):
    """exp(-t L) B for every t in ts by one shared Chebyshev recursion."""
    coef, _ = chebyshev_coefficients(ts, order, lmax)
    if lmax == 0:
        return np.broadcast_to(B, (len(ts),) + B.shape).copy()
    # x = (2 / lmax) L - I maps [0, lmax] onto [-1, 1]
    n = L.shape[0]
    S = sp.csr_array((2.0 / lmax) * L - sp.eye_array(n, format="csr"))
    S.sort_indices()
    out = np.empty((len(ts),) + B.shape)
    Tprev = B
    Tcur = S @ B
    for i in range(len(ts)):
        out[i] = coef[i, 0] * Tprev
        out[i] += coef[i, 1] * Tcur
    for k in range(2, order + 1):
        Tnext = S @ Tcur
        Tnext *= 2.0
        Tnext -= Tprev
        Tprev, Tcur = Tcur, Tnext
        for i in range(len(ts)):
            out[i] += coef[i, k] * Tcur
    return out


def heat_kernel_exact(L, t, *, sources=None, block=None, max_dense_bytes=None):
    """Reference heat kernel by :func:`scipy.sparse.linalg.expm_multiply`.

    Same interface as :func:`heat_kernel` (no ``order``); accurate to working
    precision, slower.  Used to check the Chebyshev filter.

    Parameters
    ----------
    L : sparse matrix of shape (n, n)
    t : float or array-like of shape (n_times,)
    sources : int or array-like of int or None, default=None
    block : array-like of shape (n, k) or None, default=None
    max_dense_bytes : int or None, default=None

    Returns
    -------
    H : ndarray of shape (n, k), (n_times, n, k) or (n,)
    """
    from scipy.sparse.linalg import expm_multiply

    L = _check_laplacian(L)
    ts, scalar_t = _check_times(t)
    B, scalar_src = _check_block(L, sources, block, max_dense_bytes)
    out = np.stack([expm_multiply(-float(s) * sp.csc_array(L), B) for s in ts])
    if scalar_src:
        out = out[..., 0]
    if scalar_t:
        out = out[0]
    return out
