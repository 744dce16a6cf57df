"""Spectral functions of symmetric (positive definite) matrices, numpy and torch.

``F(X) = U f(Λ) Uᵀ`` from one batched ``eigh``, through
:func:`manigeo._backend.spectral_function` (the package's one spectral
implementation; on torch tensors its backward is the Daleckii–Krein formula,
finite and exact at repeated eigenvalues).

Every public function validates its input on the input's own backend and
device: non-square, empty, complex, NaN/inf and non-symmetric matrices raise a
ValueError/TypeError; the functions of SPD matrices (``logm``, ``sqrtm``,
``invsqrtm``, ``powm``) refuse a non-positive eigenvalue on both backends, and
``expm``/``powm`` refuse an overflow instead of returning inf/NaN.  torch
inputs keep their dtype; positive eigenvalues below ``eps * max|λ|`` are
floored there so that float32 layers stay finite.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from manigeo._backend import (
    any_true,
    get_namespace,
    import_torch,
    is_torch,
    loewner,
    log,
    mT,
    spectral_function,
    sqrt,
)
from manigeo._validation import check_symmetric


def _log(w, p):
    return log(w), 1.0 / w, None


def _exp(w, p):
    if is_torch(w):
        e = w.exp()
    else:
        with np.errstate(over="ignore"):  # refused by the overflow check
            e = np.exp(w)
    return e, e, None


def _sqrt(w, p):
    s = sqrt(w)
    return s, 0.5 / s, None


def _invsqrt(w, p):
    s = sqrt(w)
    return 1.0 / s, -0.5 / (w * s), None


def _pow(w, p):
    pp = p[..., None] if (p is not None and np.ndim(p)) else p
    with np.errstate(over="ignore"):  # refused by the overflow check
        fw = w**pp
    return fw, pp * fw / w, fw * log(w)


# name -> (fn, closeness floor, needs positive eigenvalues, can overflow)
_FUNCS = {
    "log": (_log, 0.0, True, False),
    "exp": (_exp, 1.0, False, True),
    "sqrt": (_sqrt, 0.0, True, False),
    "invsqrt": (_invsqrt, 0.0, True, False),
    "pow": (_pow, 0.0, True, True),
}


def _positive(name):
    def prepare(w):
        if is_torch(w):
            # torch (layers): eigenvalues within round-off of 0 are floored at
            # eps * max λ; a clearly negative one is refused, as on numpy
            torch = import_torch()
            eps = torch.finfo(w.dtype).eps
            top = w.abs().amax(-1, keepdim=True)
            if any_true((w < -(w.shape[-1] * eps) * top).any())[0]:
                _raise_nonpositive(name, float(w.min()))
            return torch.maximum(w, top.clamp_min(torch.finfo(w.dtype).tiny) * eps)
        if np.any(w <= 0):
            _raise_nonpositive(name, float(w.min()))
        return w

    return prepare


def _raise_nonpositive(name, wmin):
    raise ValueError(
        f"{name}m needs symmetric positive definite matrices; smallest "
        f"eigenvalue {wmin:.3g}"
    )


def _finite(name):
    def check(w, fw):
        if is_torch(fw):
            bad = any_true(~import_torch().isfinite(fw).all())[0]
        else:
            bad = not np.all(np.isfinite(fw))
        if bad:
            raise ValueError(
                f"{name}m overflows in {fw.dtype}: the eigenvalues (largest "
                f"{float(w.max()):.4g}) are too large for this dtype; rescale the "
                "input or use a shorter step"
            )

    return check


def _spectral(X, name, p=None):
    fn, floor, positive, overflow = _FUNCS[name]
    if is_torch(p) and not is_torch(X):
        torch = import_torch()
        X = torch.as_tensor(np.asarray(X), device=p.device, dtype=p.dtype)
    # round-off asymmetry is left to eigh (it reads one triangle, numpy and
    # torch alike); torch in a graph (layers, training trajectories) keeps
    # the symmetric part so that gradients stay symmetric
    X = check_symmetric(
        X,
        name="X",
        what=f"{name}m",
        scale_floor=floor,
        copy=False,
        factor_only=not (is_torch(X) and X.requires_grad),
    )
    if name == "pow":
        if is_torch(X):
            p = import_torch().as_tensor(p, dtype=X.dtype, device=X.device)
        else:
            p = np.asarray(p, dtype=X.dtype)
    return spectral_function(
        X,
        fn,
        p,
        floor=floor,
        prepare=_positive(name) if positive else None,
        check=_finite(name) if overflow else None,
    )


# ----------------------------------------------------------------- public API
def logm(X: Any) -> Any:
    """Matrix logarithm of SPD matrices.

    Parameters
    ----------
    X : ndarray or Tensor of shape (..., p, p)
        Symmetric positive definite matrices.  A non-symmetric matrix or a
        negative eigenvalue raises a ValueError on both backends (numpy also
        refuses 0); torch input has eigenvalues within round-off of 0 floored
        at ``eps * max λ`` so that float32 layers stay finite.

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


def expm(X: Any) -> Any:
    """Matrix exponential of symmetric matrices.

    Parameters
    ----------
    X : ndarray or Tensor of shape (..., p, p)
        Symmetric matrices; an exponential that overflows the dtype raises a
        ValueError.

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


def sqrtm(X: Any) -> Any:
    """Principal square root of SPD matrices.

    Parameters
    ----------
    X : ndarray or Tensor of shape (..., p, p)
        Symmetric positive definite matrices.

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


def invsqrtm(X: Any) -> Any:
    """Inverse principal square root ``X^{-1/2}`` of SPD matrices.

    Parameters
    ----------
    X : ndarray or Tensor of shape (..., p, p)
        Symmetric positive definite matrices.

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


def powm(X: Any, p: Any) -> Any:
    """Matrix power ``X^p`` of SPD matrices.

    Parameters
    ----------
    X : ndarray or Tensor of shape (..., p, p)
        Symmetric positive definite matrices.
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


def spectral_differential(
    X: Any, V: Any, name: str, p: Any = None, inverse: bool = False
) -> Any:
    """Differential of a spectral function, ``D f(X)[V]`` (or its inverse).

    Parameters
    ----------
    X : ndarray or Tensor of shape (..., p, p)
        Base points (symmetric; SPD for log, sqrt, invsqrt, pow).
    V : ndarray or Tensor of shape (..., p, p)
        Symmetric directions.
    name : {"log", "exp", "sqrt", "invsqrt", "pow"}
        The spectral function.
    p : float, optional
        Exponent for ``"pow"``.
    inverse : bool, default=False
        Apply the inverse of the differential instead.

    Returns
    -------
    W : same type as X, shape (..., p, p)

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo.spd._matfun import spectral_differential
    >>> spectral_differential(np.diag([1.0, 4.0]), np.eye(2), "sqrt")
    array([[0.5 , 0.  ],
           [0.  , 0.25]])
    """
    fn, floor, _, _ = _FUNCS[name]
    w, U = get_namespace(X).linalg.eigh(0.5 * (X + mT(X)))
    fw, dfw, _ = fn(w, p)
    K = loewner(w, fw, dfw, floor=floor)
    Vt = mT(U) @ V @ U
    Vt = Vt / K if inverse else Vt * K
    return U @ Vt @ mT(U)
