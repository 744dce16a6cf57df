r"""SPDNet building blocks: BiMap, ReEig, LogEig, ExpEig and a Stiefel optimizer.

Huang & Van Gool, "A Riemannian Network for SPD Matrix Learning", AAAI 2017.

* :class:`BiMap` maps ``X -> Wᵀ X W`` with ``W`` on the Stiefel manifold
  (orthonormal columns); :class:`StiefelSGD` keeps it there (Riemannian
  gradient ``G - W sym(WᵀG)``, sign-fixed QR retraction).
* :class:`ReEig` clamps eigenvalues from below, :class:`LogEig` and
  :class:`ExpEig` are the matrix logarithm and exponential.

All backward passes use the Daleckii–Krein formula
``∇_X = U (K ∘ Uᵀ sym(G) U) Uᵀ`` with the Loewner matrix ``K`` of first divided
differences, which is finite and exact at repeated eigenvalues (autograd
through ``torch.linalg.eigh`` is not).  LogEig and ExpEig reuse
:func:`manigeo.spd.logm` / :func:`manigeo.spd.expm`; ReEig's backward is
defined here (the clamp ``max(λ, ε)`` is not a function ``manigeo.spd``
exposes).
"""

import math

import torch
from torch import nn

from manigeo._backend import spectral_function
from manigeo.spd import expm, logm

# ------------------------------------------------------------------ validation


def _sym(X: torch.Tensor) -> torch.Tensor:
    return 0.5 * (X + X.mT)


def _check_matrices(
    X, *, layer: str, size: int | None = None, spd: bool = False
) -> torch.Tensor:
    """Validate a tensor of symmetric (optionally SPD) matrices ``(..., n, n)``.

    Raises a TypeError for a non-tensor, an integer/bool/complex dtype, and a
    ValueError naming the problem for a wrong shape, NaN/inf, asymmetry beyond
    ``sqrt(eps)`` relative, or (``spd=True``) a matrix that is not positive
    definite.  Returns ``X`` unchanged (never modified).
    """
    if not isinstance(X, torch.Tensor):
        raise TypeError(f"{layer} expects a torch.Tensor, got {type(X).__name__}")
    if X.dtype not in (torch.float32, torch.float64):
        raise TypeError(
            f"{layer} expects a real floating-point tensor (float32 or float64), "
            f"got dtype {X.dtype}"
        )
    if X.ndim < 2 or X.shape[-1] != X.shape[-2]:
        raise ValueError(
            f"{layer} expects square matrices of shape (..., n, n), "
            f"got shape {tuple(X.shape)}"
        )
    if size is not None and X.shape[-1] != size:
        raise ValueError(
            f"{layer} expects matrices of size {size}x{size}, "
            f"got shape {tuple(X.shape)}"
        )
    if X.numel() == 0:
        raise ValueError(f"{layer} got an empty tensor of shape {tuple(X.shape)}")
    with torch.no_grad():
        Xd = X.detach()
        if not bool(torch.isfinite(Xd).all()):
            raise ValueError(f"{layer} input contains NaN or infinite values")
        tol = math.sqrt(torch.finfo(X.dtype).eps)
        scale = Xd.abs().amax(dim=(-2, -1), keepdim=True)
        if bool(((Xd - Xd.mT).abs() > tol * scale).any()):
            raise ValueError(
                f"{layer} input is not symmetric (tolerance {tol:.1e} relative "
                "to the largest entry)"
            )
        if spd:
            _, info = torch.linalg.cholesky_ex(_sym(Xd))
            if bool((info != 0).any()):
                w = torch.linalg.eigvalsh(_sym(Xd)).amin()
                raise ValueError(
                    f"{layer} input is not positive definite (smallest eigenvalue "
                    f"{float(w):.3g}); put a ReEig layer before it"
                )
    return X


def _check_like(X: torch.Tensor, W: torch.Tensor, layer: str) -> None:
    if X.dtype != W.dtype:
        raise TypeError(
            f"{layer} input has dtype {X.dtype} but the layer's weight has dtype "
            f"{W.dtype}; convert one of them (X.to({W.dtype}) or layer.to(...))"
        )
    if X.device != W.device:
        raise ValueError(
            f"{layer} input is on {X.device} but the layer's weight is on "
            f"{W.device}; move one of them"
        )


# ----------------------------------------------------------------------- BiMap


class BiMap(nn.Module):
    r"""Bilinear map ``X -> Wᵀ X W`` with a semi-orthogonal ``W`` (SPDNet).

    ``W`` has shape ``(in_size, out_size)`` with ``in_size >= out_size`` and
    orthonormal columns (``WᵀW = I``, a point on the Stiefel manifold), so a
    full-rank SPD input gives an SPD output.  It is initialised by
    :func:`torch.nn.init.orthogonal_` (QR of a Gaussian matrix), which draws from
    torch's global generator: seed with :func:`torch.manual_seed`.

    Train ``W`` with :class:`StiefelSGD` (Riemannian gradient and QR
    retraction) and every other parameter with any torch optimizer::

        stiefel = [m.weight for m in model.modules() if isinstance(m, BiMap)]
        ids = {id(p) for p in stiefel}
        rest = [p for p in model.parameters() if id(p) not in ids]
        opts = [StiefelSGD(stiefel, lr=0.02), torch.optim.Adam(rest, lr=5e-3)]

    A plain Euclidean optimizer leaves the manifold: ``W`` loses its
    orthonormal columns, can lose rank, and the output then degenerates.

    Parameters
    ----------
    in_size : int
        Size ``n`` of the input matrices.
    out_size : int
        Size ``m <= n`` of the output matrices.
    device, dtype : optional
        Placement of the weight.

    Attributes
    ----------
    weight : Parameter of shape (in_size, out_size)
        The semi-orthogonal matrix ``W``.

    Examples
    --------
    >>> import torch
    >>> from manigeo.nn import BiMap
    >>> _ = torch.manual_seed(0)
    >>> bimap = BiMap(5, 3, dtype=torch.float64)
    >>> W = bimap.weight.detach()
    >>> bool(torch.allclose(W.T @ W, torch.eye(3, dtype=torch.float64)))
    True
    >>> bimap(torch.eye(5, dtype=torch.float64)).shape
    torch.Size([3, 3])
    """

    def __init__(
        self,
        in_size: int,
        out_size: int,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        for name, value in (("in_size", in_size), ("out_size", out_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if out_size > in_size:
            raise ValueError(
                f"BiMap needs out_size <= in_size (W has orthonormal columns), "
                f"got in_size={in_size}, out_size={out_size}"
            )
        self.in_size = in_size
        self.out_size = out_size
        self.weight = nn.Parameter(
            torch.empty(in_size, out_size, device=device, dtype=dtype)
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw a new orthonormal ``W`` (QR of a Gaussian matrix)."""
        with torch.no_grad():
            nn.init.orthogonal_(self.weight)

    def extra_repr(self) -> str:
        return f"{self.in_size}, {self.out_size}"

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Apply ``Wᵀ X W``.

        Parameters
        ----------
        X : Tensor of shape (..., in_size, in_size)
            Symmetric (SPD in an SPDNet) matrices, same dtype and device as the
            weight.

        Returns
        -------
        Y : Tensor of shape (..., out_size, out_size)
            Symmetric matrices (symmetrised exactly).
        """
        _check_matrices(X, layer="BiMap", size=self.in_size)
        _check_like(X, self.weight, "BiMap")
        W = self.weight
        return _sym(W.mT @ X @ W)


# ------------------------------------------------------------------------ ReEig


def _rectify(eps: float):
    """``f(λ) = max(λ, eps)`` and its derivative, for the shared spectral map."""

    def fn(w, _p):
        return w.clamp_min(eps), (w > eps).to(w.dtype), None

    return fn


def _check_eps(eps) -> float:
    if isinstance(eps, bool) or not isinstance(eps, int | float):
        raise TypeError(f"eps must be a float, got {type(eps).__name__}")
    if not (math.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be a finite positive float, got {eps!r}")
    return float(eps)


class ReEig(nn.Module):
    r"""Eigenvalue rectification: ``X -> U max(Λ, eps) Uᵀ`` (SPDNet's ReLU).

    The backward pass is the Daleckii–Krein formula with the divided
    differences of ``max(λ, eps)``; at equal eigenvalues the derivative is
    ``1`` above the floor and ``0`` at or below it, the subgradient used by
    Huang & Van Gool (AAAI 2017).  Repeated eigenvalues (the identity, for
    instance) give finite, exact gradients.

    Parameters
    ----------
    eps : float, default=1e-4
        Absolute eigenvalue floor, ``> 0``.

    Examples
    --------
    >>> import torch
    >>> from manigeo.nn import ReEig
    >>> X = torch.tensor([[1.0, 2.0], [2.0, 1.0]])  # eigenvalues -1 and 3
    >>> torch.linalg.eigvalsh(ReEig(eps=0.5)(X))
    tensor([0.5000, 3.0000])
    """

    def __init__(self, eps: float = 1e-4) -> None:
        super().__init__()
        self.eps = _check_eps(eps)

    def extra_repr(self) -> str:
        return f"eps={self.eps}"

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Rectify the eigenvalues of ``X`` (shape ``(..., n, n)``, symmetric)."""
        _check_matrices(X, layer="ReEig")
        # one Daleckii-Krein backward for the package: manigeo._backend
        return spectral_function(_sym(X), _rectify(self.eps))


# ---------------------------------------------------------------- LogEig/ExpEig


def _triu_coefficients(n: int, like: torch.Tensor):
    rows, cols = torch.triu_indices(n, n, device=like.device)
    coef = torch.where(
        rows == cols,
        torch.ones((), dtype=like.dtype, device=like.device),
        torch.full((), math.sqrt(2.0), dtype=like.dtype, device=like.device),
    )
    return rows, cols, coef


def _vectorize_sym(S: torch.Tensor) -> torch.Tensor:
    """Upper triangle (row-major) of ``(..., n, n)`` symmetric matrices with the
    off-diagonal entries times √2, so that vector and Frobenius norms agree."""
    rows, cols, coef = _triu_coefficients(S.shape[-1], S)
    return S[..., rows, cols] * coef


class LogEig(nn.Module):
    r"""Matrix logarithm ``X -> U log(Λ) Uᵀ`` of SPD matrices (SPDNet's last layer).

    Calls :func:`manigeo.spd.logm`, whose backward is the Daleckii–Krein
    formula (exact at repeated eigenvalues).  A non-positive-definite input
    raises a ValueError (put a :class:`ReEig` before it).

    Parameters
    ----------
    vectorize : bool, default=False
        Return the upper triangle as a vector of length ``n (n + 1) / 2`` with
        off-diagonal entries times √2, ready for a ``torch.nn.Linear``; its
        Euclidean norm is the Frobenius norm of ``log X``.

    Examples
    --------
    >>> import math
    >>> import torch
    >>> from manigeo.nn import LogEig
    >>> X = torch.diag(torch.tensor([1.0, math.e], dtype=torch.float64))
    >>> LogEig()(X)
    tensor([[0., 0.],
            [0., 1.]], dtype=torch.float64)
    >>> LogEig(vectorize=True)(X)
    tensor([0., 0., 1.], dtype=torch.float64)
    """

    def __init__(self, vectorize: bool = False) -> None:
        super().__init__()
        if not isinstance(vectorize, bool):
            raise TypeError(f"vectorize must be a bool, got {vectorize!r}")
        self.vectorize = vectorize

    def extra_repr(self) -> str:
        return f"vectorize={self.vectorize}"

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Matrix logarithm of SPD ``X`` (shape ``(..., n, n)``)."""
        _check_matrices(X, layer="LogEig", spd=True)
        L = logm(X)
        return _vectorize_sym(L) if self.vectorize else L


class ExpEig(nn.Module):
    r"""Matrix exponential ``X -> U exp(Λ) Uᵀ`` of symmetric matrices.

    Calls :func:`manigeo.spd.expm` (Daleckii–Krein backward, exact at repeated
    eigenvalues).  The inverse of :class:`LogEig` (``vectorize=False``).

    Examples
    --------
    >>> import torch
    >>> from manigeo.nn import ExpEig
    >>> ExpEig()(torch.zeros(2, 2, dtype=torch.float64))
    tensor([[1., 0.],
            [0., 1.]], dtype=torch.float64)
    """

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Matrix exponential of symmetric ``X`` (shape ``(..., n, n)``)."""
        _check_matrices(X, layer="ExpEig")
        return expm(X)


# -------------------------------------------------------------- Stiefel steps


def _stiefel_project(W: torch.Tensor, G: torch.Tensor) -> torch.Tensor:
    """Orthogonal projection of ``G`` onto the tangent space of the Stiefel
    manifold at ``W`` (embedded metric): ``G - W sym(WᵀG)``."""
    return G - W @ _sym(W.mT @ G)


def _qr_retraction(A: torch.Tensor) -> torch.Tensor:
    """Q factor of ``A`` with a positive diagonal of R (unique, continuous)."""
    Q, R = torch.linalg.qr(A)
    d = R.diagonal(dim1=-2, dim2=-1).sign()
    d = torch.where(d == 0, torch.ones_like(d), d)
    return Q * d[..., None, :]


class StiefelSGD(torch.optim.Optimizer):
    r"""Riemannian SGD on the Stiefel manifold, for :class:`BiMap` weights.

    Each step projects the Euclidean gradient ``G`` onto the tangent space at
    ``W``, ``ξ = G − W sym(WᵀG)``, and retracts by the sign-fixed QR
    decomposition: ``W ← qf(W − lr ξ)``.  With ``momentum`` the buffer is
    transported to the new tangent space by projection before it is updated.
    ``WᵀW = I`` holds to rounding after every step.

    Give it only Stiefel parameters (``(..., n, p)`` with ``n >= p`` and
    orthonormal columns), and the remaining parameters to a second optimizer;
    see :class:`BiMap` for the pattern.

    Parameters
    ----------
    params : iterable of Parameter or dicts
        Stiefel parameters (or parameter groups).
    lr : float
        Step size, ``> 0``.
    momentum : float, default=0.0
        Momentum factor in ``[0, 1)``.

    References
    ----------
    .. [1] P.-A. Absil, R. Mahony, R. Sepulchre, "Optimization Algorithms on
       Matrix Manifolds", Princeton University Press, 2008, §4.1 and §8.1.
    .. [2] Z. Huang, L. Van Gool, "A Riemannian Network for SPD Matrix
       Learning", AAAI 2017.

    Examples
    --------
    >>> import torch
    >>> from manigeo.nn import BiMap, StiefelSGD
    >>> _ = torch.manual_seed(0)
    >>> bimap = BiMap(4, 2, dtype=torch.float64)
    >>> opt = StiefelSGD(bimap.parameters(), lr=0.1)
    >>> X = torch.diag(torch.arange(1.0, 5.0, dtype=torch.float64))
    >>> for _ in range(50):
    ...     opt.zero_grad()
    ...     loss = -torch.trace(bimap(X))  # maximised by the top eigenvectors
    ...     loss.backward()
    ...     opt.step()
    >>> round(-loss.item(), 4)  # 4 + 3
    7.0
    >>> W = bimap.weight.detach()
    >>> float((W.T @ W - torch.eye(2, dtype=torch.float64)).abs().max()) < 1e-12
    True
    """

    def __init__(self, params, lr: float, momentum: float = 0.0) -> None:
        if isinstance(lr, bool) or not isinstance(lr, int | float) or not lr > 0:
            raise ValueError(f"lr must be a positive float, got {lr!r}")
        if (
            isinstance(momentum, bool)
            or not isinstance(momentum, int | float)
            or not 0.0 <= momentum < 1.0
        ):
            raise ValueError(f"momentum must be a float in [0, 1), got {momentum!r}")
        super().__init__(params, {"lr": float(lr), "momentum": float(momentum)})

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of Stiefel parameters (each one is checked)."""
        super().add_param_group(param_group)
        for i, W in enumerate(self.param_groups[-1]["params"]):
            self._check_stiefel(W, i)

    @staticmethod
    def _check_stiefel(W: torch.Tensor, i: int) -> None:
        if not torch.is_floating_point(W):
            raise TypeError(f"parameter {i} has dtype {W.dtype}; need a float dtype")
        if W.ndim < 2 or W.shape[-2] < W.shape[-1]:
            raise ValueError(
                f"parameter {i} of shape {tuple(W.shape)} is not a Stiefel matrix "
                "(..., n, p) with n >= p"
            )
        with torch.no_grad():
            eye = torch.eye(W.shape[-1], dtype=W.dtype, device=W.device)
            err = float((W.mT @ W - eye).abs().max())
        tol = 10 * math.sqrt(torch.finfo(W.dtype).eps)
        if not err <= tol:
            raise ValueError(
                f"parameter {i} of shape {tuple(W.shape)} does not have orthonormal "
                f"columns (max |WᵀW − I| = {err:.2g}); StiefelSGD is for BiMap "
                "weights, give other parameters to another optimizer"
            )

    @torch.no_grad()
    def step(self, closure=None):
        """Take one Riemannian step; ``closure`` re-evaluates the loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, momentum = group["lr"], group["momentum"]
            for W in group["params"]:
                if W.grad is None:
                    continue
                xi = _stiefel_project(W, W.grad)
                if momentum:
                    state = self.state[W]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = xi.clone()
                    else:
                        buf = _stiefel_project(W, buf).mul_(momentum).add_(xi)
                    state["momentum_buffer"] = buf
                    xi = buf
                W.copy_(_qr_retraction(W - lr * xi))
        return loss
