"""LieBN: Riemannian batch normalization of SPD matrices through Lie groups.

Chen, Song, Liu, Sebe, "A Lie Group Approach to Riemannian Batch
Normalization", ICLR 2024.
"""

import torch
from torch import nn

from manigeo.spd import _backend as B
from manigeo.spd._matfun import expm, logm, powm
from manigeo.spd._metrics import (
    canonical_name,
    get_metric,
    karcher_affine,
    logchol_coords,
    logchol_from_coords,
)

_LAYER_METRICS = ("affine", "logeuclid", "logcholesky")


class LieBatchNormSPD(nn.Module):
    """Lie-group batch normalization of SPD matrices (LieBN).

    In training mode, for a batch ``P_1..P_N`` of ``n x n`` SPD matrices:

    1. deform ``φ(P)``: ``P^θ`` (affine), ``log P`` (logeuclid), log-Cholesky
       coordinates of ``P^θ`` (logcholesky);
    2. batch Fréchet mean ``M_b`` of the deformed matrices, computed without
       gradient (Karcher flow from the arithmetic mean for affine, closed form
       otherwise);
    3. centre by the group action: ``L⁻¹ φ(P) L⁻ᵀ`` with ``L = chol(M_b)``
       (affine), ``φ(P) − M_b`` (logeuclid, logcholesky);
    4. variance ``v_b = mean_i d²(P̄_i, I)``;
    5. scale ``Exp_I(s / sqrt(v_b + eps) · Log_I P̄)`` (matrix power for affine,
       multiplication otherwise) with a learnable positive scale ``s``;
    6. bias by a learnable SPD matrix ``B``: ``chol(B^θ) X chol(B^θ)ᵀ``
       (affine), ``X + φ(B)`` otherwise; then ``φ⁻¹``.

    Running statistics are updated with ``momentum``: the running mean moves to
    the point at ``momentum`` on the metric's geodesic towards the batch mean,
    the running variance is ``(1 − momentum) v + momentum v_b``.  Evaluation
    mode runs the same pipeline with the running statistics.  With an exact
    batch mean the output's Fréchet mean (under the same metric) is ``B`` and
    its variance is ``s² v_b / (v_b + eps)``.

    Parameters
    ----------
    n : int
        Matrix size.
    metric : {"affine", "logeuclid", "logcholesky"}, default="affine"
        Lie-group structure / metric (aliases "riemann", "lem", "lcm").
    theta : float, default=1.0
        Power deformation (non-zero; no effect for logeuclid).
    alpha : float, default=1.0
        O(n)-invariant weight of ``‖V‖²`` in the variance (affine, logeuclid).
    beta : float, default=0.0
        Weight of ``tr(V)²`` (affine, logeuclid), ``beta > -alpha / n``.
    momentum : float, default=0.1
        Running-statistics momentum in [0, 1].
    karcher_steps : int, default=1
        Karcher-flow steps for the affine batch mean (1 as in the reference
        code; use more for an exact mean — one step leaves an error of order
        1e-2 on spread-out batches).
    eps : float, default=1e-5
        Added to the variance.
    device, dtype : optional
        Placement of parameters and buffers.

    Attributes
    ----------
    bias_log : Parameter of shape (n, n)
        The bias is ``B = expm(sym(bias_log))``: it stays SPD under any update.
    log_scale : Parameter of shape ()
        The scale is ``s = exp(log_scale)`` (positive).
    running_mean : Tensor of shape (n, n)
        Running Fréchet mean (SPD, not deformed).
    running_var : Tensor of shape ()
        Running variance.

    References
    ----------
    .. [1] Z. Chen, Y. Song, Y. Liu, N. Sebe, "A Lie Group Approach to
       Riemannian Batch Normalization", ICLR 2024.

    Examples
    --------
    >>> import torch
    >>> from manigeo.nn import LieBatchNormSPD
    >>> bn = LieBatchNormSPD(4, metric="affine", dtype=torch.float64)
    >>> A = torch.randn(8, 4, 4, dtype=torch.float64)
    >>> Y = bn(A @ A.mT + torch.eye(4, dtype=torch.float64))
    >>> Y.shape
    torch.Size([8, 4, 4])
    """

    def __init__(
        self,
        n,
        metric="affine",
        theta=1.0,
        alpha=1.0,
        beta=0.0,
        momentum=0.1,
        karcher_steps=1,
        eps=1e-5,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a positive integer, got {n!r}")
        name = canonical_name(metric)
        if name not in _LAYER_METRICS:
            raise ValueError(
                f"metric {metric!r} has no Lie-group structure for LieBN; "
                f"choose one of {_LAYER_METRICS}"
            )
        if not 0.0 <= float(momentum) <= 1.0:
            raise ValueError(f"momentum must be in [0, 1], got {momentum}")
        if (
            isinstance(karcher_steps, bool)
            or not isinstance(karcher_steps, int)
            or karcher_steps < 1
        ):
            raise ValueError(
                f"karcher_steps must be an integer >= 1, got {karcher_steps!r}"
            )
        if not float(eps) >= 0:
            raise ValueError(f"eps must be >= 0, got {eps}")
        # validates theta, alpha, beta (and their combination with the metric)
        self._geometry = get_metric(name, theta, alpha, beta)
        self._geometry._check_beta(n)
        self.n = n
        self.metric = name
        self.theta = float(theta)
        self.alpha = float(alpha)
        self.beta = float(beta)
        self.momentum = float(momentum)
        self.karcher_steps = karcher_steps
        self.eps = float(eps)
        factory = {"device": device, "dtype": dtype}
        self.bias_log = nn.Parameter(torch.zeros(n, n, **factory))
        self.log_scale = nn.Parameter(torch.zeros((), **factory))
        self.register_buffer("running_mean", torch.eye(n, **factory))
        self.register_buffer("running_var", torch.ones((), **factory))

    # ----------------------------------------------------------- parameters
    @property
    def bias(self):
        """The SPD bias ``B = expm(sym(bias_log))``."""
        return expm(B.sym(self.bias_log))

    @property
    def scale(self):
        """The positive scale ``s = exp(log_scale)``."""
        return self.log_scale.exp()

    def extra_repr(self):
        return (
            f"{self.n}, metric={self.metric!r}, theta={self.theta}, "
            f"alpha={self.alpha}, beta={self.beta}, momentum={self.momentum}, "
            f"karcher_steps={self.karcher_steps}, eps={self.eps}"
        )

    # ------------------------------------------------------------ pipeline
    def _pow(self, X, p):
        return X if p == 1.0 else powm(X, p)

    def _deform(self, X):
        if self.metric == "affine":
            return self._pow(X, self.theta)
        if self.metric == "logeuclid":
            return logm(X)
        return logchol_coords(self._pow(X, self.theta))

    def _undeform(self, Y):
        if self.metric == "affine":
            return self._pow(Y, 1.0 / self.theta)
        if self.metric == "logeuclid":
            return expm(Y)
        return self._pow(logchol_from_coords(Y), 1.0 / self.theta)

    def _batch_mean(self, Xd):
        """Fréchet mean of deformed matrices (no gradient)."""
        with torch.no_grad():
            Xd = Xd.detach()
            w = B.as_weights(None, Xd)
            if self.metric == "affine":
                M, _ = karcher_affine(
                    Xd,
                    w,
                    tol=0.0,
                    max_iter=self.karcher_steps,
                    init="arithmetic",
                    warn=False,
                    adaptive=False,
                )
                return B.sym(M)
            return Xd.mean(0)

    def _center(self, Xd, M):
        if self.metric == "affine":
            return B.congruence_inv_chol(torch.linalg.cholesky(M), Xd)
        return Xd - M

    def _variance(self, Xc):
        if self.metric == "affine":
            Lg = logm(Xc)
            d2 = self.alpha * B.fro2(Lg)
            if self.beta:
                d2 = d2 + self.beta * B.trace(Lg) ** 2
            return d2.mean() / self.theta**2
        if self.metric == "logeuclid":
            d2 = self.alpha * B.fro2(Xc)
            if self.beta:
                d2 = d2 + self.beta * B.trace(Xc) ** 2
            return d2.mean()
        return B.fro2(Xc).mean() / self.theta**2

    def _scale(self, Xc, factor):
        if self.metric == "affine":
            return powm(Xc, factor)
        return Xc * factor

    def _bias(self, Xs):
        S = B.sym(self.bias_log)
        if self.metric == "affine":
            L = torch.linalg.cholesky(expm(self.theta * S))
            return B.sym(L @ Xs @ L.mT)
        if self.metric == "logeuclid":
            return Xs + S
        return Xs + logchol_coords(expm(self.theta * S))

    def forward(self, X):
        """Normalize a batch.

        Parameters
        ----------
        X : Tensor of shape (..., n, n)
            SPD matrices (any leading batch shape).

        Returns
        -------
        Y : Tensor of shape (..., n, n)
        """
        if not isinstance(X, torch.Tensor):
            raise TypeError(f"X must be a torch.Tensor, got {type(X).__name__}")
        if X.ndim < 3 or X.shape[-2:] != (self.n, self.n):
            raise ValueError(
                f"X must have shape (batch, {self.n}, {self.n}), got {tuple(X.shape)}"
            )
        shape = X.shape
        X = B.sym(X.reshape(-1, self.n, self.n))
        Xd = self._deform(X)
        if self.training:
            M = self._batch_mean(Xd)
            Xc = self._center(Xd, M)
            var = self._variance(Xc)
            with torch.no_grad():
                self._update_running(M, var.detach())
        else:
            M = self._deform(self.running_mean)
            Xc = self._center(Xd, M)
            var = self.running_var
        factor = self.scale / torch.sqrt(var + self.eps)
        Y = self._undeform(self._bias(self._scale(Xc, factor)))
        return Y.reshape(shape)

    def _update_running(self, Md, var):
        if self.momentum == 0.0:
            return
        M = B.sym(self._undeform(Md))
        new = self._geometry.geodesic(self.running_mean, M, self.momentum)
        self.running_mean.copy_(B.sym(new))
        self.running_var.mul_(1 - self.momentum).add_(self.momentum * var)

    def reset_running_stats(self):
        """Reset the running mean to I and the running variance to 1."""
        with torch.no_grad():
            self.running_mean.copy_(
                torch.eye(
                    self.n,
                    dtype=self.running_mean.dtype,
                    device=self.running_mean.device,
                )
            )
            self.running_var.fill_(1.0)
