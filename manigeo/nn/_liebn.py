"""LieBN: Riemannian batch normalization of SPD matrices through Lie groups.

Chen, Song, Liu, Sebe, "A Lie Group Approach to Riemannian Batch
Normalization", ICLR 2024.  The group actions (centring, stretching, biasing)
are the methods of the :mod:`manigeo.spd` metric objects, shared with
:class:`manigeo.SPDStandardScaler` and :class:`manigeo.SPDRecenter`.
"""

import math
import warnings

from sklearn.exceptions import ConvergenceWarning

from manigeo._backend import import_torch, spectral_function, sym
from manigeo._validation import check_spd
from manigeo.spd import get_metric

torch = import_torch()  # an ImportError naming the manigeo[torch] extra


def _exp_floored(w, p):
    """``exp`` of eigenvalues floored at ``max w - log(1 / (100 n eps))``."""
    eps = torch.finfo(w.dtype).eps
    c = math.log(1.0 / (100.0 * w.shape[-1] * eps))
    low = w.detach().amax(-1, keepdim=True) - c
    e = torch.maximum(w, low).exp()
    return e, torch.where(w >= low, e, torch.zeros_like(e)), None


def _spd_bias(L):
    """``expm(sym(L))`` with condition number at most ``1 / (100 n eps)``.

    SPD by construction in floating point: the eigenvalues of ``sym(L)`` more
    than ``log(1 / (100 n eps))`` below the largest are floored there (their
    gradient is zero), so the smallest eigenvalue of the result exceeds the
    ``O(n eps ‖B‖)`` round-off of forming ``U e^Λ Uᵀ`` (and of any later
    ``eigh``/Cholesky of it) a hundredfold.  Without the floor an optimiser
    step that sends an eigenvalue of ``L`` to -67 (``e^-67 ≈ 1e-29``) gives
    a matrix whose computed smallest eigenvalue has the sign of round-off.
    Elsewhere identical to :func:`manigeo.spd.expm`.
    """
    S = sym(L)
    if not bool(torch.isfinite(S.detach()).all()):
        raise ValueError("bias_log contains NaN or infinite values")
    return spectral_function(S, _exp_floored, floor=1.0, check=_bias_overflow)


def _bias_overflow(w, fw):
    if not bool(torch.isfinite(fw).all()):
        raise ValueError(
            f"the bias expm(bias_log) overflows in {fw.dtype} (largest eigenvalue "
            f"of bias_log {float(w.max()):.4g}); lower the learning rate"
        )


nn = torch.nn

_LAYER_METRICS = ("affine", "logeuclid", "logcholesky")


class LieBatchNormSPD(nn.Module):
    """Lie-group batch normalization of SPD matrices (LieBN).

    In training mode, for a batch ``P_1..P_N`` of ``n x n`` SPD matrices:

    1. deform ``φ(P)``: ``P^θ`` (affine), ``log P`` (logeuclid), log-Cholesky
       coordinates of ``P^θ`` (logcholesky);
    2. batch Fréchet mean ``M_b`` of the deformed matrices (Karcher flow from
       the arithmetic mean for affine, closed form otherwise), detached from
       the graph as in the reference code unless ``mean_grad=True``;
    3. centre by the group action: ``M_b^{-1/2} φ(P) M_b^{-1/2}`` (affine),
       ``φ(P) − M_b`` (logeuclid, logcholesky);
    4. variance ``v_b = mean_i d²(P̄_i, I)``;
    5. scale ``Exp_I(s / sqrt(v_b + eps) · Log_I P̄)`` (matrix power for affine,
       multiplication otherwise) with a learnable positive scale ``s``;
    6. bias by a learnable SPD matrix ``B``: ``B^{θ/2} X B^{θ/2}`` (affine),
       ``X + φ(B)`` otherwise; then ``φ⁻¹``.

    Steps 3, 5 and 6 are the group actions of the metric object
    (:func:`manigeo.spd.get_metric`: ``group_translate``, ``group_stretch``),
    the same ones :class:`manigeo.SPDStandardScaler` uses.

    Running statistics are updated with ``momentum``: the running mean moves to
    the point at ``momentum`` on the metric's geodesic towards the batch mean,
    the running variance is ``(1 − momentum) v + momentum v_b``.  Evaluation
    mode runs the same pipeline with the running statistics.  With an exact
    batch mean the output's Fréchet mean (under the same metric) is ``B`` and
    its variance is ``s² v_b / (v_b + eps)``.

    Parameters
    ----------
    n : int
        Matrix size.  Inputs must be SPD, finite, of the layer's dtype and
        device (a named ValueError / TypeError otherwise).
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
    mean_grad : bool, default=False
        In training mode, backpropagate through the batch mean (and the
        batch variance's dependence on it), as the LieBN paper's models do.
        The default detaches the mean, as the reference code and SPDNetBN do.
    device, dtype : optional
        Placement of parameters and buffers.

    Attributes
    ----------
    bias_log : Parameter of shape (n, n)
        The bias is ``B = expm(sym(bias_log))``, its condition number capped
        at ``1 / (100 n eps)``: it stays SPD in floating point under any update.
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
        n: int,
        metric: str = "affine",
        theta: float = 1.0,
        alpha: float = 1.0,
        beta: float = 0.0,
        momentum: float = 0.1,
        karcher_steps: int = 1,
        eps: float = 1e-5,
        mean_grad: bool = False,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a positive integer, got {n!r}")
        # validates the name, theta, alpha, beta and their combination
        geometry = get_metric(metric, theta, alpha, beta)
        if not geometry.has_group:
            raise ValueError(
                f"metric {metric!r} has no Lie-group structure for LieBN; "
                f"choose one of {_LAYER_METRICS}"
            )
        geometry.check_size(n)
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
        if not isinstance(mean_grad, bool):
            raise TypeError(f"mean_grad must be a bool, got {mean_grad!r}")
        self._geometry = geometry
        self.n = n
        self.metric = geometry.name
        self.theta = float(theta)
        self.alpha = float(alpha)
        self.beta = float(beta)
        self.momentum = float(momentum)
        self.karcher_steps = karcher_steps
        self.eps = float(eps)
        self.mean_grad = mean_grad
        factory = {"device": device, "dtype": dtype}
        self.bias_log = nn.Parameter(torch.zeros(n, n, **factory))
        self.log_scale = nn.Parameter(torch.zeros((), **factory))
        self.register_buffer("running_mean", torch.eye(n, **factory))
        self.register_buffer("running_var", torch.ones((), **factory))

    # ----------------------------------------------------------- parameters
    @property
    def bias(self) -> torch.Tensor:
        """The SPD bias ``B = expm(sym(bias_log))`` (see :func:`_spd_bias`)."""
        return _spd_bias(self.bias_log)

    @property
    def scale(self) -> torch.Tensor:
        """The positive scale ``s = exp(log_scale)``."""
        return self.log_scale.exp()

    def extra_repr(self) -> str:
        return (
            f"{self.n}, metric={self.metric!r}, theta={self.theta}, "
            f"alpha={self.alpha}, beta={self.beta}, momentum={self.momentum}, "
            f"karcher_steps={self.karcher_steps}, eps={self.eps}, "
            f"mean_grad={self.mean_grad}"
        )

    # ------------------------------------------------------------ pipeline
    def _batch_mean(self, C):
        """Fréchet mean of group coordinates (affine: Karcher steps from the
        arithmetic mean; closed forms otherwise)."""
        g = self._geometry
        if g.name != "affine":
            return g.group_mean(C)
        with warnings.catch_warnings():
            # a fixed number of steps (tol=0) is the layer's contract
            warnings.simplefilter("ignore", ConvergenceWarning)
            # mean_grad: the step-size schedule reads the gradient norm as a float
            warnings.filterwarnings("ignore", "Converting a tensor with requires_grad")
            M = g.group_mean(
                C, tol=0.0, max_iter=self.karcher_steps, init=sym(C.mean(0))
            )
        return sym(M)

    def _check_input(self, X):
        if not isinstance(X, torch.Tensor):
            raise TypeError(f"X must be a torch.Tensor, got {type(X).__name__}")
        if X.ndim < 3 or X.shape[-2:] != (self.n, self.n):
            raise ValueError(
                f"X must have shape (batch, {self.n}, {self.n}), got {tuple(X.shape)}"
            )
        if X.is_complex():
            raise TypeError("X is complex; LieBatchNormSPD needs real SPD matrices")
        ref = self.bias_log
        if X.dtype != ref.dtype:
            raise TypeError(
                f"X has dtype {X.dtype} but the layer's parameters are "
                f"{ref.dtype}; convert one of them (X.to({ref.dtype}) or "
                f"layer.to({X.dtype}))"
            )
        if X.device != ref.device:
            raise ValueError(
                f"X is on {X.device} but the layer is on {ref.device}; move one of them"
            )
        if X.shape[:-2].numel() == 0:
            raise ValueError(
                f"X is an empty batch (shape {tuple(X.shape)}); LieBatchNormSPD "
                "needs at least one matrix"
            )
        # checked in the input's own precision (a float32 product is symmetric
        # only to float32 round-off), then computed in float64
        X = check_spd(X.reshape(-1, self.n, self.n), name="X", ndim=(3,))
        return X.to(torch.float64)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Normalize a batch.

        Parameters
        ----------
        X : Tensor of shape (..., n, n)
            SPD matrices (any leading batch shape), of the layer's dtype and
            device.  float32 (and half) batches are normalised in float64
            internally and returned in their dtype.

        Returns
        -------
        Y : Tensor of shape (..., n, n)
        """
        shape, dtype = X.shape, X.dtype
        X = self._check_input(X)
        # float32 / half: the geometry is computed in float64 and cast back
        # (float32 eigendecompositions lose the answer from cond ~1e6 on)
        work = torch.float64
        g = self._geometry
        C = g.to_group(X)
        if self.training:
            if self.mean_grad:
                Mc = self._batch_mean(C)
            else:
                with torch.no_grad():
                    Mc = self._batch_mean(C.detach())
            Cc = g.group_translate(C, Mc, inverse=True)
            var = g.group_sqnorm(Cc).mean()
            with torch.no_grad():
                self._update_running(Mc.detach(), var.detach())
        else:
            Mc = g.to_group(self.running_mean.to(work))
            Cc = g.group_translate(C, Mc, inverse=True)
            var = self.running_var.to(work)
        factor = self.log_scale.to(work).exp() / torch.sqrt(var + self.eps)
        Cs = g.group_stretch(Cc, factor)
        bias = _spd_bias(self.bias_log.to(work))
        Y = g.from_group(g.group_translate(Cs, g.to_group(bias)))
        return Y.to(dtype).reshape(shape)

    def _update_running(self, Mc, var):
        if self.momentum == 0.0:
            return
        g = self._geometry
        M = sym(g.from_group(Mc))
        new = g.geodesic(self.running_mean.to(M.dtype), M, self.momentum)
        self.running_mean.copy_(sym(new))
        self.running_var.mul_(1 - self.momentum).add_(self.momentum * var)

    def reset_running_stats(self) -> None:
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
