"""Spectral functions of symmetric (positive definite) matrices, numpy and torch.

``F(X) = U f(Λ) Uᵀ`` from one ``eigh`` per matrix, batched over leading axes.
The torch path is a custom :class:`torch.autograd.Function` whose backward is
the Daleckii–Krein formula

.. math:: \\nabla_X = U \\big(K \\circ U^\\top \\operatorname{sym}(G) U\\big) U^\\top,

with the Loewner (first divided difference) matrix
``K_ij = (f(λ_i) − f(λ_j)) / (λ_i − λ_j)`` and ``K_ij = f'((λ_i + λ_j)/2)``
when ``λ_i`` and ``λ_j`` are close *relative to their size*.  Autograd through
``torch.linalg.eigh`` is not used: its eigenvector gradient scales as
``1 / min |λ_i − λ_j|`` and is NaN/inf at repeated eigenvalues, whereas the
Loewner form is finite and exact there.
"""

import numpy as np

from manigeo._array import import_torch, is_torch

# ---------------------------------------------------------------- spectral maps
# name -> (f, f', floor of the closeness scale, needs positive eigenvalues)
# The closeness test is |λi − λj| <= tol * max(|λi|, |λj|, floor): relative for
# the functions of SPD matrices (their divided differences lose accuracy in
# proportion to λ/|λi − λj|), with an absolute floor of 1 for exp (whose
# divided difference loses accuracy in proportion to 1/|λi − λj|).


def _xp(x):
    return import_torch() if is_torch(x) else np


def _f_log(w, p=None):
    return _xp(w).log(w)


def _df_log(w, p=None):
    return 1.0 / w


def _f_exp(w, p=None):
    return _xp(w).exp(w)


def _df_exp(w, p=None):
    return _xp(w).exp(w)


def _f_sqrt(w, p=None):
    return _xp(w).sqrt(w)


def _df_sqrt(w, p=None):
    return 0.5 / _xp(w).sqrt(w)


def _f_invsqrt(w, p=None):
    return 1.0 / _xp(w).sqrt(w)


def _df_invsqrt(w, p=None):
    return -0.5 / (w * _xp(w).sqrt(w))


def _f_pow(w, p):
    return w**p


def _df_pow(w, p):
    return p * w ** (p - 1)


_FUNCS = {
    "log": (_f_log, _df_log, 0.0, True),
    "exp": (_f_exp, _df_exp, 1.0, False),
    "sqrt": (_f_sqrt, _df_sqrt, 0.0, True),
    "invsqrt": (_f_invsqrt, _df_invsqrt, 0.0, True),
    "pow": (_f_pow, _df_pow, 0.0, True),
}


def _close_tol(dtype_eps):
    # optimum between the O(δ²) error of the midpoint derivative and the
    # O(eps/δ) cancellation of the difference quotient: δ ~ eps^(1/3)
    return dtype_eps ** (1.0 / 3.0)


def loewner(w, fw, name, p=None):
    """First divided differences of ``f`` at the eigenvalues ``w``.

    Parameters
    ----------
    w : ndarray or Tensor of shape (..., p)
        Eigenvalues.
    fw : ndarray or Tensor of shape (..., p)
        ``f(w)``.
    name : {"log", "exp", "sqrt", "invsqrt", "pow"}
        The function.
    p : float or Tensor, optional
        Exponent for ``"pow"`` (broadcastable to ``w[..., :1]``).

    Returns
    -------
    K : ndarray or Tensor of shape (..., p, p)
        ``K_ij = (f(w_i) - f(w_j)) / (w_i - w_j)``, with ``f'`` at the midpoint
        where ``|w_i - w_j| <= tol * max(|w_i|, |w_j|, floor)``.
    """
    _, df, floor, _ = _FUNCS[name]
    wi, wj = w[..., :, None], w[..., None, :]
    diff = wi - wj
    fdiff = fw[..., :, None] - fw[..., None, :]
    if is_torch(w):
        torch = import_torch()
        eps = torch.finfo(w.dtype).eps
        scale = torch.maximum(wi.abs(), wj.abs()).clamp_min(floor)
        close = diff.abs() <= _close_tol(eps) * scale
        mid = 0.5 * (wi + wj)
        pp = p[..., None, None] if (p is not None and is_torch(p) and p.ndim) else p
        dmid = df(mid, pp)
        safe = torch.where(close, torch.ones_like(diff), diff)
        return torch.where(close, dmid, fdiff / safe)
    eps = np.finfo(w.dtype).eps
    scale = np.maximum(np.maximum(np.abs(wi), np.abs(wj)), floor)
    close = np.abs(diff) <= _close_tol(eps) * scale
    pp = np.asarray(p)[..., None, None] if (p is not None and np.ndim(p)) else p
    dmid = df(0.5 * (wi + wj), pp)
    safe = np.where(close, 1.0, diff)
    return np.where(close, dmid, fdiff / safe)


# ------------------------------------------------------------------- numpy path
def _np_spectral(X, name, p=None):
    X = np.asarray(X)
    if not np.issubdtype(X.dtype, np.floating):
        X = X.astype(np.float64)
    if X.ndim < 2 or X.shape[-1] != X.shape[-2]:
        raise ValueError(
            f"X must hold square matrices (..., p, p), got shape {X.shape}"
        )
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or infinite values")
    Xs = 0.5 * (X + np.swapaxes(X, -1, -2))
    w, U = np.linalg.eigh(Xs)
    f = _FUNCS[name][0]
    if _FUNCS[name][3] and np.any(w <= 0):
        raise ValueError(
            f"{name}m needs positive definite matrices; smallest eigenvalue "
            f"{w.min():.3g}"
        )
    if name == "pow":
        p = np.asarray(p, dtype=w.dtype)
        fw = f(w, p[..., None] if p.ndim else p)
    else:
        fw = f(w)
    return (U * fw[..., None, :]) @ np.swapaxes(U, -1, -2)


# ------------------------------------------------------------------- torch path
_FUNCTION_CACHE = {}


def _clamp_floor(w):
    """Eigenvalue floor for functions of SPD matrices in finite precision."""
    torch = import_torch()
    eps = torch.finfo(w.dtype).eps
    top = w.abs().amax(-1, keepdim=True).clamp_min(torch.finfo(w.dtype).tiny)
    return torch.maximum(w, top * eps)


def _torch_function():
    if "fn" in _FUNCTION_CACHE:
        return _FUNCTION_CACHE["fn"]
    torch = import_torch()
    from torch.autograd.function import once_differentiable

    class _Spectral(torch.autograd.Function):
        """``U f(Λ) Uᵀ`` with the Daleckii–Krein backward (exponent optional)."""

        @staticmethod
        def forward(ctx, X, name, p):
            Xs = 0.5 * (X + X.mT)
            w, U = torch.linalg.eigh(Xs)
            if _FUNCS[name][3]:
                w = _clamp_floor(w)
            f = _FUNCS[name][0]
            pw = None
            if name == "pow":
                pw = p[..., None] if p.ndim else p
            fw = f(w, pw)
            ctx.name = name
            ctx.save_for_backward(w, U, fw, p if p is not None else w.new_empty(0))
            ctx.has_p = p is not None
            return (U * fw[..., None, :]) @ U.mT

        @staticmethod
        @once_differentiable
        def backward(ctx, G):
            w, U, fw, p = ctx.saved_tensors
            name = ctx.name
            grad_X = grad_p = None
            Gt = U.mT @ (0.5 * (G + G.mT)) @ U
            if ctx.needs_input_grad[0]:
                K = loewner(w, fw, name, p if ctx.has_p else None)
                grad_X = U @ (K * Gt) @ U.mT
            if ctx.has_p and ctx.needs_input_grad[2]:
                # d/dp U diag(w^p) Uᵀ = U diag(w^p log w) Uᵀ
                per = (Gt.diagonal(dim1=-2, dim2=-1) * fw * w.log()).sum(-1)
                grad_p = per.sum_to_size(p.shape) if p.ndim else per.sum()
            return grad_X, None, grad_p

    _FUNCTION_CACHE["fn"] = _Spectral
    return _Spectral


def _torch_spectral(X, name, p=None):
    torch = import_torch()
    if not torch.is_floating_point(X):
        X = X.to(torch.get_default_dtype())
    if X.ndim < 2 or X.shape[-1] != X.shape[-2]:
        raise ValueError(
            f"X must hold square matrices (..., p, p), got shape {tuple(X.shape)}"
        )
    if name == "pow":
        p = torch.as_tensor(p, dtype=X.dtype, device=X.device)
    return _torch_function().apply(X, name, p)


def _spectral(X, name, p=None):
    if is_torch(X) or is_torch(p):
        if not is_torch(X):
            torch = import_torch()
            X = torch.as_tensor(np.asarray(X), device=p.device, dtype=p.dtype)
        return _torch_spectral(X, name, p)
    return _np_spectral(X, name, p)


# ----------------------------------------------------------------- public API
def logm(X):
    """Matrix logarithm of SPD matrices.

    Parameters
    ----------
    X : ndarray or Tensor of shape (..., p, p)
        SPD matrices (the symmetric part is used).  numpy input raises a
        ValueError for a non-positive eigenvalue; torch input has eigenvalues
        floored at ``eps * max|λ|`` so that float32 layers stay finite.

    Returns
    -------
    L : same type as X, shape (..., p, p)
        Symmetric logarithms.  Torch inputs get the Daleckii–Krein backward.

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo.spd import logm
    >>> logm(np.diag([1.0, np.e]))
    array([[0., 0.],
           [0., 1.]])
    """
    return _spectral(X, "log")


def expm(X):
    """Matrix exponential of symmetric matrices.

    Parameters
    ----------
    X : ndarray or Tensor of shape (..., p, p)
        Symmetric matrices (the symmetric part is used).

    Returns
    -------
    E : same type as X, shape (..., p, p)
        SPD exponentials.

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo.spd import expm
    >>> expm(np.zeros((2, 2)))
    array([[1., 0.],
           [0., 1.]])
    """
    return _spectral(X, "exp")


def sqrtm(X):
    """Principal square root of SPD matrices.

    Parameters
    ----------
    X : ndarray or Tensor of shape (..., p, p)
        SPD matrices.

    Returns
    -------
    S : same type as X, shape (..., p, p)
        SPD square roots, ``S @ S == X``.

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo.spd import sqrtm
    >>> sqrtm(np.diag([4.0, 9.0]))
    array([[2., 0.],
           [0., 3.]])
    """
    return _spectral(X, "sqrt")


def invsqrtm(X):
    """Inverse principal square root ``X^{-1/2}`` of SPD matrices.

    Parameters
    ----------
    X : ndarray or Tensor of shape (..., p, p)
        SPD matrices.

    Returns
    -------
    S : same type as X, shape (..., p, p)

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo.spd import invsqrtm
    >>> invsqrtm(np.diag([4.0, 16.0]))
    array([[0.5 , 0.  ],
           [0.  , 0.25]])
    """
    return _spectral(X, "invsqrt")


def powm(X, p):
    """Matrix power ``X^p`` of SPD matrices.

    Parameters
    ----------
    X : ndarray or Tensor of shape (..., p, p)
        SPD matrices.
    p : float, ndarray or Tensor
        Exponent: a scalar, or one per matrix (shape broadcastable to the batch
        shape ``X.shape[:-2]``).  A torch tensor with ``requires_grad`` gets the
        gradient ``sum_i (Uᵀ G U)_ii λ_i^p log λ_i``.

    Returns
    -------
    P : same type as X, shape (..., p, p)

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo.spd import powm
    >>> powm(np.diag([4.0, 9.0]), 1.5)
    array([[ 8.,  0.],
           [ 0., 27.]])
    """
    return _spectral(X, "pow", p)


def spectral_differential(X, V, name, p=None, inverse=False):
    """Differential of a spectral function, ``D f(X)[V]`` (or its inverse).

    Parameters
    ----------
    X : ndarray or Tensor of shape (..., p, p)
        Base points.
    V : ndarray or Tensor of shape (..., p, p)
        Symmetric directions.
    name : {"log", "exp", "sqrt", "invsqrt", "pow"}
    p : float, optional
        Exponent for ``"pow"``.
    inverse : bool, default=False
        Apply the inverse of the differential instead.

    Returns
    -------
    W : same type as X, shape (..., p, p)
    """
    xp = _xp(X)
    if is_torch(X):
        w, U = xp.linalg.eigh(0.5 * (X + X.mT))
        UT = U.mT
    else:
        w, U = np.linalg.eigh(0.5 * (X + np.swapaxes(X, -1, -2)))
        UT = np.swapaxes(U, -1, -2)
    pw = p[..., None] if (p is not None and np.ndim(p)) else p
    fw = _FUNCS[name][0](w, pw)
    K = loewner(w, fw, name, p)
    Vt = UT @ V @ U
    Vt = Vt / K if inverse else Vt * K
    return U @ Vt @ UT
