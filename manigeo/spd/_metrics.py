"""Riemannian metrics on SPD matrices: a small registry of metric objects.

Each metric is a plain object built from ``(theta, alpha, beta)`` with methods
``distance``, ``log``, ``exp``, ``geodesic``, ``mean`` and ``dispersion``
that work on numpy arrays and torch tensors alike (per-call dispatch).  The
power deformation ``theta`` is the pull-back of ``(1/θ²) g`` by ``φ(P) = P^θ``
(Thanwerdas & Pennec 2019): geodesics and means are mapped by ``φ``, distances
are ``d_θ(P, Q) = d(P^θ, Q^θ) / |θ|``.  ``(alpha, beta)`` are the
O(n)-invariant weights ``α‖V‖² + β tr(V)²`` of the AIM and LEM families; they
change distances and dispersions but not geodesics or Fréchet means (all
members of a family share the Levi-Civita connection).
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from manigeo import _backend as B
from manigeo._backend import any_true, is_torch
from manigeo._validation import spd_eig_tol
from manigeo.spd._matfun import (
    expm,
    invsqrtm,
    logm,
    powm,
    spectral_differential,
    sqrtm,
)


def _finfo_eps(X):
    if is_torch(X):
        import torch

        return float(torch.finfo(X.dtype).eps)
    return float(np.finfo(np.asarray(X).dtype).eps)


def _eigvalsh(X):
    if is_torch(X):
        import torch

        return torch.linalg.eigvalsh(X)
    return np.linalg.eigvalsh(X)


class _SPDMetric:
    """Base class: power deformation around a base metric (θ = 1)."""

    name = None
    has_alpha_beta = False
    deformable = True

    def __init__(self, theta=1.0, alpha=1.0, beta=0.0):
        theta = float(theta)
        alpha = float(alpha)
        beta = float(beta)
        if not np.isfinite(theta) or theta == 0:
            raise ValueError(f"theta must be a finite non-zero number, got {theta}")
        if not self.has_alpha_beta and (alpha != 1.0 or beta != 0.0):
            raise ValueError(
                f"metric {self.name!r} has no (alpha, beta) family; "
                "use alpha=1, beta=0 (defined for 'affine' and 'logeuclid')"
            )
        if not alpha > 0:
            raise ValueError(f"alpha must be > 0, got {alpha}")
        self.theta, self.alpha, self.beta = theta, alpha, beta
        self._p = None  # matrix size, checked lazily for beta

    def check_size(self, p):
        """Check that the metric is defined on ``p x p`` matrices (``beta``)."""
        self._check_beta(int(p))

    def _check_beta(self, p):
        if self.has_alpha_beta and not self.beta > -self.alpha / p:
            raise ValueError(
                f"beta must be > -alpha / n = {-self.alpha / p:.6g} for {p}x{p} "
                f"matrices (positive definiteness of the metric), got {self.beta}"
            )

    # -- deformation ---------------------------------------------------------
    def deform(self, P):
        """φ(P) = P^θ (identity for θ = 1)."""
        return P if self.theta == 1.0 or not self.deformable else powm(P, self.theta)

    def undeform(self, Q):
        """φ⁻¹(Q) = Q^{1/θ}."""
        return (
            Q if self.theta == 1.0 or not self.deformable else powm(Q, 1.0 / self.theta)
        )

    def _dphi(self, P, V, inverse=False):
        if self.theta == 1.0 or not self.deformable:
            return V
        return spectral_differential(P, V, "pow", self.theta, inverse=inverse)

    # -- public geometry -----------------------------------------------------
    def squared_distance(self, A, Bm):
        self._check_beta(A.shape[-1])
        return self._sqdist(self.deform(A), self.deform(Bm)) / self.theta**2

    def distance(self, A, Bm):
        d2 = self.squared_distance(A, Bm)
        return d2.clamp_min(0).sqrt() if is_torch(d2) else np.sqrt(np.maximum(d2, 0))

    def log(self, P, Q):
        return self._dphi(P, self._log(self.deform(P), self.deform(Q)), inverse=True)

    def exp(self, P, V):
        return self.undeform(self._exp(self.deform(P), self._dphi(P, V)))

    def geodesic(self, A, Bm, t):
        return self.undeform(self._geodesic(self.deform(A), self.deform(Bm), t))

    def mean(
        self,
        X,
        weights=None,
        tol=1e-10,
        max_iter=100,
        init=None,
        return_info=False,
        cholesky=None,
        eigh=None,
    ):
        """Fréchet mean; ``cholesky``: the lower Cholesky factors of ``X``
        when the caller has them (the log-Cholesky mean reuses them);
        ``eigh``: the pair ``(lam, U)`` of ``eigh(X)`` with ``lam > 0`` (the
        log-Euclidean mean reuses it)."""
        w = B.as_weights(weights, X)
        init_d = None if init is None else self.deform(init)
        if cholesky is not None and self.name == "logcholesky" and self.theta == 1.0:
            M, info = self._mean_from_cholesky(cholesky, w)
        elif eigh is not None and self.name == "logeuclid":
            M, info = self._mean_from_eigh(*eigh, w)
        else:
            M, info = self._mean(self.deform(X), w, tol, max_iter, init_d)
        M = self.undeform(M)
        return (M, info) if return_info else M

    def dispersion(self, X, M, weights=None):
        w = B.as_weights(weights, X)
        return (w * self.squared_distance(X, M)).sum()

    # -- defaults --------------------------------------------------------
    def _geodesic(self, A, Bm, t):
        return self._exp(A, t * self._log(A, Bm))

    # -- Lie-group structure: the group actions ---------------------------
    # Used alike by SPDStandardScaler / SPDRecenter and nn.LieBatchNormSPD.
    # ``to_group`` maps SPD matrices to group coordinates (AIM: P^θ with the
    # congruence action; LEM: log P, LCM: log-Cholesky coordinates of P^θ,
    # both with addition); the ``group_*`` methods act on coordinates, the
    # three named actions below on SPD matrices.
    has_group = True

    def _no_group(self):
        if not self.has_group:
            raise ValueError(
                f"metric {self.name!r} has no Lie-group structure (group actions "
                "are defined for 'affine', 'logeuclid' and 'logcholesky')"
            )

    def to_group(self, P):
        """Group coordinates of SPD matrices ``P`` (see :meth:`group_translate`)."""
        self._no_group()
        return self.deform(P)

    # ``own=True`` (group methods): ``C`` is a fresh array of coordinates from
    # :meth:`to_group` and the group actions, owned by the caller outside any
    # autograd graph; the metric may overwrite it instead of copying (the
    # same values).  Metrics whose actions are not elementwise ignore it.

    def from_group(self, C, *, own=False):
        """SPD matrices from group coordinates (inverse of :meth:`to_group`)."""
        self._no_group()
        return self.undeform(C)

    def group_translate(self, C, G, inverse=False, *, own=False):
        """Left translation ``L_G C`` in coordinates (``L_{G^{-1}} C`` if inverse)."""
        self._no_group()
        if not own:
            return C - G if inverse else C + G
        if inverse:
            C -= G
        else:
            C += G
        return C

    def group_stretch(self, C, s, *, own=False):
        """``Exp_E(s Log_E C)`` in coordinates: distances to ``I`` times ``|s|``."""
        self._no_group()
        if not own:
            return C * s
        C *= s
        return C

    def group_sqnorm(self, C):
        """Squared distance of coordinates ``C`` to the identity, ``d²(·, I)``."""
        self._no_group()
        return self._sqnorm(C) / self.theta**2

    def _sqnorm(self, C):
        return B.fro2(C)

    def group_mean(self, C, weights=None, *, tol=1e-10, max_iter=100, init=None):
        """Fréchet mean of group coordinates (closed form: the weighted mean)."""
        self._no_group()
        return B.weighted_sum(C, B.as_weights(weights, C))

    def group_noise(self, Mc):
        """Round-off level of ``group_sqnorm`` after centring at ``Mc``."""
        eps = _finfo_eps(Mc)
        scale = 1.0 + float(abs(Mc).max())
        return Mc.shape[-1] * (1e3 * eps * scale) ** 2 / self.theta**2

    def transport_to_identity(self, X, M):
        """Move ``M`` to the identity by the group action, and ``X`` with it.

        ``L_{M^{-1}} X`` in the group: ``M^{-θ/2} X^θ M^{-θ/2}`` (then ``^{1/θ}``)
        for affine, ``exp(log X - log M)`` for logeuclid, the difference of
        log-Cholesky coordinates for logcholesky.  The Fréchet mean of a set
        centred at its own mean becomes ``I``; distances are preserved.

        Parameters
        ----------
        X : ndarray or Tensor of shape (..., p, p)
            SPD matrices.
        M : ndarray or Tensor of shape (p, p)
            The point moved to the identity.

        Returns
        -------
        Y : ndarray or Tensor of shape (..., p, p)

        Examples
        --------
        >>> import numpy as np
        >>> from manigeo.spd import get_metric
        >>> g = get_metric("affine")
        >>> M = np.diag([4.0, 9.0])
        >>> g.transport_to_identity(M, M)
        array([[1., 0.],
               [0., 1.]])
        >>> g.bias(np.eye(2), M)
        array([[4., 0.],
               [0., 9.]])
        >>> g.stretch(M, 0.5)
        array([[2., 0.],
               [0., 3.]])
        """
        Mc = self.to_group(M)
        return self.from_group(self.group_translate(self.to_group(X), Mc, True))

    def bias(self, X, G):
        """Move the identity to ``G`` by the group action (inverse of centring at G)."""
        Gc = self.to_group(G)
        return self.from_group(self.group_translate(self.to_group(X), Gc))

    def stretch(self, X, s):
        """``Exp_I(s Log_I X)``: the dispersion around ``I`` is multiplied by ``s²``."""
        s = float(s)
        if s == 1.0:
            return X
        return self.from_group(self.group_stretch(self.to_group(X), s))


class AffineInvariant(_SPDMetric):
    """(θ, α, β)-affine-invariant metric (AIM)."""

    name = "affine"
    has_alpha_beta = True

    def _whiten(self, A, Bm):
        return B.congruence_inv_chol(B.cholesky(A), Bm)

    def _sqdist(self, A, Bm):
        if A.ndim > 2 and Bm.ndim == 2:
            # d(A_i, B) = d(B, A_i): whiten the batch by the one matrix (one
            # Cholesky factor and one wide triangular solve, not a batch of
            # factorisations and solves; the eigenvalues are the reciprocals,
            # their logs change sign, the norm and the squared trace do not)
            A, Bm = Bm, A
        Lg = logm(self._whiten(A, Bm))
        d2 = self.alpha * B.fro2(Lg)
        if self.beta != 0.0:
            d2 = d2 + self.beta * B.trace(Lg) ** 2
        return d2

    def _log(self, P, Q):
        S, Si = sqrtm(P), invsqrtm(P)
        return B.sym(S @ logm(Si @ Q @ Si) @ S)

    def _exp(self, P, V):
        S, Si = sqrtm(P), invsqrtm(P)
        return B.sym(S @ expm(Si @ V @ Si) @ S)

    def _geodesic(self, A, Bm, t):
        S, Si = sqrtm(A), invsqrtm(A)
        return B.sym(S @ powm(Si @ Bm @ Si, t) @ S)

    def _mean(self, X, w, tol, max_iter, init):
        if tol == 0 or isinstance(init, str):
            # a fixed number of Karcher steps (tol=0) is the contract of the
            # LieBN layer and of the reference code (differentiable, same
            # steps as the paper); converged means use Newton
            return karcher_affine(X, w, tol=tol, max_iter=max_iter, init=init)
        return karcher_newton(X, w, tol=tol, max_iter=max_iter, init=init)

    # group actions: congruence ``M^{-1/2} C M^{-1/2}`` on deformed matrices
    def group_translate(self, C, G, inverse=False, *, own=False):
        S = invsqrtm(G) if inverse else sqrtm(G)
        if is_torch(C) and C.ndim == 3 and S.ndim == 2:
            # two batch-wide GEMMs (torch expands ``(p, p) @ (n, p, p)`` into
            # a batched product); differentiable, the same values to round-off
            return B.sym(_congruence(S, C))
        return B.sym(S @ C @ S)

    def group_stretch(self, C, s, *, own=False):
        return powm(C, s)

    def _sqnorm(self, C):
        Lg = logm(C)
        d2 = self.alpha * B.fro2(Lg)
        if self.beta != 0.0:
            d2 = d2 + self.beta * B.trace(Lg) ** 2
        return d2

    def group_mean(self, C, weights=None, *, tol=1e-10, max_iter=100, init=None):
        # the θ-mean in deformed coordinates is the plain AIM mean there
        return AffineInvariant().mean(
            C, weights=weights, tol=tol, max_iter=max_iter, init=init
        )

    def group_noise(self, Mc):
        w = _eigvalsh(Mc)
        cond = float(w.max() / w.min())
        eps = _finfo_eps(Mc)
        return Mc.shape[-1] * (1e3 * eps * cond) ** 2 / self.theta**2

    def stretch(self, X, s):
        # ((X^θ)^s)^(1/θ) = X^s
        s = float(s)
        return X if s == 1.0 else powm(X, s)


def karcher_affine(
    X, w, *, tol=1e-10, max_iter=100, init=None, warn=True, adaptive=True
):
    """Karcher flow for the AIM Fréchet mean.

    ``M <- M^{1/2} expm(ν J) M^{1/2}`` with ``J = sum_i w_i logm(M^{-1/2} X_i
    M^{-1/2})`` (the Riemannian gradient in whitened coordinates) until
    ``‖J‖_F <= tol``; ``tol=0`` runs exactly ``max_iter`` steps, as in a layer.
    With ``adaptive`` the step ``ν`` starts at 1 and shrinks by 0.95 while
    ``ν‖J‖`` decreases and by 0.5 when it does not (the schedule of Congedo et
    al. 2015, also used by pyRiemann): the Hessian of the Karcher function
    exceeds 1 on spread-out data, so the unit step overshoots.  ``init``: None
    (log-Euclidean mean), ``"arithmetic"``, or a matrix.
    """
    if init is None:
        M = expm(B.weighted_sum(logm(X), w))
    elif isinstance(init, str) and init == "arithmetic":
        M = B.weighted_sum(X, w)
    else:
        M = init
    gnorm = float("inf")
    nu, best = 1.0, float("inf")
    it = 0
    # torch outside a graph: the whitening ``Si X_i Si`` as two batch-wide
    # GEMMs (torch's broadcast ``(p, p) @ (n, p, p)`` expands ``Si`` into a
    # batched product, 1.7x numpy's stacked matmul at 50 x 64 x 64); in a
    # graph (layers) and on numpy, the plain products
    fold = is_torch(X) and X.ndim == 3 and not (X.requires_grad or _in_graph(w))
    for it in range(1, max_iter + 1):  # noqa: B007 (n_iter after the loop)
        S, Si = sqrtm(M), invsqrtm(M)
        if fold and not M.requires_grad:
            J = B.weighted_sum(logm(_congruence(Si, X)), w)
        else:
            J = B.weighted_sum(logm(Si @ X @ Si), w)
        gnorm = float(B.fro2(J.detach() if is_torch(J) else J)) ** 0.5
        # the step is applied even on the last iteration: J is already paid
        # for, and the update shrinks the error below tol
        M = B.sym(S @ expm(nu * J) @ S)
        if tol > 0 and gnorm <= tol:
            break
        if adaptive:
            h = nu * gnorm
            if h < best:
                best, nu = h, 0.95 * nu
            else:
                nu = 0.5 * nu
    if warn and tol > 0 and gnorm > tol:
        warnings.warn(
            f"Karcher mean (affine) did not reach tol={tol:g} in {max_iter} "
            f"iterations (gradient norm {gnorm:.3g}); increase max_iter",
            ConvergenceWarning,
            stacklevel=3,
        )
    return M, {"n_iter": it, "grad_norm": gnorm}


# ------------------------------------------------------- batched linear algebra
# One GEMM over the whole batch where the batch shares a factor: numpy's
# stacked ``matmul`` runs one small product per matrix, a (n p, p) @ (p, p)
# product runs at BLAS-3 speed.  The same code serves numpy and torch.


def _eigh(X):
    return B.eigh(X)  # split over threads for large batches (same values)


def _congruence(G, X):
    """``G X_i Gᵀ`` for a batch of symmetric ``X`` (two batch-wide GEMMs).

    Not symmetrised: ``eigh`` reads one triangle only (numpy and torch).
    """
    n, p = X.shape[0], X.shape[-1]
    Y = (X.reshape(n * p, p) @ G.T).reshape(n, p, p)  # X_i Gᵀ
    Y = B.mT(Y)  # G X_i
    Y = Y.contiguous() if is_torch(Y) else np.ascontiguousarray(Y)
    return (Y.reshape(n * p, p) @ G.T).reshape(n, p, p)


def _stack_t(U):
    """Contiguous ``U_iᵀ`` stacked as a (n p, p) matrix (a view of ``(n, p, p)``)."""
    n, p = U.shape[0], U.shape[-1]
    Ut = B.mT(U)
    Ut = Ut.contiguous() if is_torch(Ut) else np.ascontiguousarray(Ut)
    return Ut.reshape(n * p, p)


def _sum_sandwich(Ut2, C):
    """``sum_i U_i C_i U_iᵀ`` from the stacked ``U_iᵀ`` (one batched + one GEMM)."""
    n, p = C.shape[0], C.shape[-1]
    E = C @ Ut2.reshape(n, p, p)  # C_i U_iᵀ
    return B.sym(Ut2.T @ E.reshape(n * p, p))


def _spectral_sum(Ut2, fw, w):
    """``sum_i w_i U_i diag(fw_i) U_iᵀ`` as one (p, n p) @ (n p, p) GEMM."""
    n, p = fw.shape
    scaled = Ut2.reshape(n, p, p) * (w[:, None] * fw)[:, :, None]
    return B.sym(Ut2.T @ scaled.reshape(n * p, p))


def _hessian_product(Ut2, U, K, V):
    """``sum_i U_i (K_i ∘ U_iᵀ V U_i) U_iᵀ`` (``w_i`` folded into ``K``)."""
    n, p = U.shape[0], U.shape[-1]
    T = (Ut2 @ V).reshape(n, p, p) @ U  # U_iᵀ V U_i
    return _sum_sandwich(Ut2, K * T)


def _rounding_floor(lam, w):
    """Rounding level of ``sum_i w_i logm(W_i)`` from the eigenvalues ``lam``.

    ``eigh`` returns an eigenvalue ``λ_j`` of ``W`` with an absolute error of
    about ``eps ‖W‖``, hence ``log λ_j`` with an error ``eps λ_max / λ_j``;
    independent errors add in quadrature over the weighted sum.
    """
    if is_torch(lam):
        eps = float(np.finfo(np.float64).eps if lam.dtype.itemsize == 8 else 1e-7)
        r = lam[:, -1:] / lam
        e2 = (r * r).sum(1)
        return 4 * eps * float(((w * w) * e2).sum()) ** 0.5
    eps = np.finfo(lam.dtype).eps
    r = lam[:, -1:] / lam
    return 4 * eps * float(np.sqrt(np.sum(w * w * np.sum(r * r, axis=1))))


def _coth_weights(lv):
    """Hessian coefficients ``(δ/2) coth(δ/2)``, ``δ = l_j − l_k`` (1 at δ = 0).

    Computed in the dtype of ``lv`` (float32 for the Hessian products).
    """
    d = 0.5 * (lv[..., :, None] - lv[..., None, :])
    if is_torch(d):
        import torch

        small = d.abs() < 1e-3
        safe = torch.where(small, torch.ones_like(d), d)
        return torch.where(small, 1.0 + d * d / 3.0, safe / torch.tanh(safe))
    small = np.abs(d) < 1e-3
    safe = np.where(small, 1.0, d)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(small, 1.0 + d * d / 3.0, safe / np.tanh(safe))


def _to_float32(x):
    if is_torch(x):
        import torch

        return x.to(torch.float32)
    return x.astype(np.float32)


#: smallest relative residual asked of CG: the float32 Hessian products are
#: accurate to ~1e-7 relative, below which CG stagnates
_CG_RTOL_FLOOR = 1e-6


def _cg(hvp, J, rtol, max_iter):
    """Conjugate gradients for ``H V = J`` on symmetric matrices.

    One host synchronisation per iteration (the step length needs ``zᵀ H z``
    as a number); the residual test reuses it.
    """
    x = J * 0.0
    r = J
    z = r
    rr = float((r * r).sum())
    stop = rtol * rtol * rr
    k = 0
    for k in range(1, max_iter + 1):  # noqa: B007 (count after the loop)
        Hz = hvp(z)
        a = rr / float((z * Hz).sum())
        x = x + a * z
        r = r - a * Hz
        rr_new = float((r * r).sum())
        if rr_new <= stop:
            break
        z = r + (rr_new / rr) * z
        rr = rr_new
    return x, k


def _log_euclidean_factor(lx, ux, w):
    """``(G, F, log κ)`` with ``F Fᵀ = exp(sum_i w_i log X_i)``, ``G = F⁻¹``
    and ``κ`` the condition number of that mean.

    From the eigendecompositions ``X_i = U_i diag(lx_i) U_iᵀ`` (one GEMM for
    the weighted sum of the logarithms, one ``p x p`` ``eigh``).
    """
    mu, V = _eigh(_spectral_sum(_stack_t(ux), B.log(lx), w))
    G, F = B.mT(V * B.exp(-0.5 * mu)[None, :]), V * B.exp(0.5 * mu)[None, :]
    return G, F, float(mu.max() - mu.min())


def karcher_newton(X, w, *, tol=1e-10, max_iter=50, init=None, warn=True):
    """Riemannian Newton iteration for the AIM Fréchet (Karcher) mean.

    The current estimate is kept as a factor ``M = F Fᵀ`` with ``G = F⁻¹``;
    whitening ``W_i = G X_i Gᵀ`` is congruent to ``M^{-1/2} X_i M^{-1/2}``
    up to a rotation, so ``J = sum_i w_i logm(W_i)`` is the (rotated)
    Riemannian gradient with the norm pyRiemann reports.  One batched
    ``eigh`` of the ``W_i`` per iteration gives both ``J`` and the Riemannian
    Hessian at ``M`` (Ferreira et al. 2006): in the eigenbasis ``U_i`` of
    ``W_i`` with log-eigenvalues ``l``,

    .. math:: H[V] = \\sum_i w_i U_i \\big(K_i \\circ U_i^\\top V U_i\\big)
              U_i^\\top, \\quad K_{i,jk} = \\tfrac{δ}{2}\\coth\\tfrac{δ}{2},
              \\ δ = l_j - l_k,

    which is solved for the Newton step ``V`` by conjugate gradients (matrix
    products only).  The Hessian products run in float32 (the gradient, the
    whitening and the step stay in float64): they only steer the step, are
    accurate to ~1e-7 relative, and cost a third to a fifth of float64
    products; the step is then exact to ~1e-7 relative, which leaves the
    convergence quadratic down to the float64 rounding level of ``J``.  The
    solve is inexact with the forcing term ``min(1e-3, ‖J‖)`` (an accurate
    first step from the log-Euclidean start saves one ``eigh`` of the batch
    on spread-out data; CG needs 2-6 products per step).  The step is taken
    along the geodesic, ``G <- exp(-V/2) G``; a step that increases ``‖J‖``
    is halved.  Start: the log-Euclidean mean (``init=None``) or ``init``.

    The iteration stops at ``‖J‖_F <= tol`` or, on ill-conditioned data, when
    ``‖J‖`` stops decreasing below its rounding level (about ``eps λ_max/λ_j``
    per eigenvalue, plus ``eps κ(M)`` for the whitening; reported as
    ``info["rounding_floor"]``): no algorithm
    evaluating the gradient in float64 can certify more.  A warning is raised
    only when neither happens within ``max_iter``.
    """
    torch_in = is_torch(X)
    out_dtype = X.dtype
    if torch_in and X.dtype != _torch_float64():
        X = X.to(_torch_float64())
        w = w.to(X.dtype)
    p = X.shape[-1]
    if init is None:
        G, F, log_kappa = _log_euclidean_factor(*_eigh(X), w)
    else:
        init = init.to(X.dtype) if torch_in else init
        mu, V = _eigh(init)
        G = B.mT(V / B.sqrt(mu)[None, :])
        F = V * B.sqrt(mu)[None, :]
        log_kappa = float(B.log(mu.max() / mu.min()))
    # rounding of the whitening G X_i Gᵀ itself: ~eps κ(M) in each W_i, which
    # the eigenvalue spread of W_i does not show when the X_i are close to M
    whiten_floor = float(np.finfo(np.float64).eps) * float(np.exp(log_kappa))
    w32 = _to_float32(w)[:, None, None]
    gnorm, floor, it = float("inf"), 0.0, 0
    g_prev, prev, step = float("inf"), None, None
    best = (float("inf"), F)
    converged = False
    for it in range(1, max_iter + 1):  # noqa: B007 (n_iter after the loop)
        lam, U = _eigh(_congruence(G, X))
        Ut2 = _stack_t(U)
        lv = B.log(lam)
        J = _spectral_sum(Ut2, lv, w)
        gnorm = float(B.fro2(J.detach() if is_torch(J) else J)) ** 0.5
        floor = _rounding_floor(lam, w) + whiten_floor
        if gnorm < best[0]:
            best = (gnorm, F)
        if tol > 0 and gnorm <= tol:
            converged = True
            break
        if gnorm <= 0.1 * floor or (gnorm > 0.25 * g_prev and gnorm <= floor):
            converged = True  # at (or stalled near) the rounding level of J
            break
        if gnorm > g_prev and prev is not None:
            # overshoot far from the mean: halve the last step from its origin
            G, F = prev
            step = 0.5 * step
        else:
            lv32 = _to_float32(lv)
            K = _coth_weights(lv32) * w32
            U32, Ut32 = _to_float32(U), _to_float32(Ut2)

            def hvp(V, Ut32=Ut32, U32=U32, K=K, dtype=J.dtype):
                HV = _hessian_product(Ut32, U32, K, _to_float32(V))
                return HV.to(dtype) if torch_in else HV.astype(dtype)

            # inexact Newton: forcing term min(1e-3, ‖J‖) (quadratic
            # convergence), no tighter than needed to land below the target
            # on the next step, nor than the float32 products allow; when the
            # observed contraction ‖J‖ / ‖J_prev‖² predicts that the
            # nonlinear error of this step lands near the target, the solve
            # goes to the target at once (saves a gradient evaluation)
            target = max(tol, 0.1 * floor)
            landing = prev is not None and gnorm * (gnorm / g_prev) ** 2 <= (
                10 * target  # a miss costs a few Hessian products only
            )
            force = 0.3 * target / gnorm
            force = force if landing else max(gnorm, force)
            rtol = min(1e-3, max(force, _CG_RTOL_FLOOR))
            step, _ = _cg(hvp, J, rtol, max_iter=min(50, p * p))
            prev = (G, F)
            g_prev = gnorm
        mu, V = _eigh(B.sym(step))
        G = B.mT(V * B.exp(-0.5 * mu)[None, :]) @ G
        F = F @ (V * B.exp(0.5 * mu)[None, :])
    if not converged and tol > 0 and warn:
        warnings.warn(
            f"Karcher mean (affine) did not reach tol={tol:g} in {max_iter} "
            f"iterations (gradient norm {gnorm:.3g}); increase max_iter",
            ConvergenceWarning,
            stacklevel=4,
        )
    gnorm, F = best if tol > 0 else (gnorm, F)
    M = B.sym(F @ B.mT(F))
    if torch_in:
        M = M.to(out_dtype)
    return M, {"n_iter": it, "grad_norm": gnorm, "rounding_floor": floor}


def _in_graph(x):
    """Whether ``x`` is a torch tensor in an autograd graph."""
    return is_torch(x) and x.requires_grad


def _torch_float64():
    import torch

    return torch.float64


def _expm_sym(J):
    """``expm`` of an exactly symmetric float64 ``p x p`` matrix: one ``eigh``,
    ``V exp(μ) Vᵀ = (V e^{μ/2})(V e^{μ/2})ᵀ`` by ``syrk`` (exactly symmetric);
    overflow refused as in :func:`expm`."""
    mu, V = np.linalg.eigh(J)
    if not mu[-1] < np.log(np.finfo(np.float64).max):
        expm(J)  # raises the overflow error of expm
    V *= np.exp(0.5 * mu)
    return V @ V.T


class LogEuclidean(_SPDMetric):
    """(α, β)-log-Euclidean metric (LEM).

    The power deformation leaves LEM unchanged (``log(P^θ)/θ = log P``), so
    ``theta`` is accepted and has no effect.
    """

    name = "logeuclid"
    has_alpha_beta = True
    deformable = False

    def squared_distance(self, A, Bm):
        self._check_beta(A.shape[-1])
        return self._sqdist(A, Bm)

    def _sqdist(self, A, Bm):
        D = logm(A) - logm(Bm)
        d2 = self.alpha * B.fro2(D)
        if self.beta != 0.0:
            d2 = d2 + self.beta * B.trace(D) ** 2
        return d2

    def _log(self, P, Q):
        LP = logm(P)
        return B.sym(spectral_differential(LP, logm(Q) - LP, "exp"))

    def _exp(self, P, V):
        return expm(logm(P) + spectral_differential(P, V, "log"))

    def _geodesic(self, A, Bm, t):
        return expm((1 - t) * logm(A) + t * logm(Bm))

    def _mean(self, X, w, tol, max_iter, init):
        info = {"n_iter": 0, "grad_norm": 0.0}
        if is_torch(X) and X.requires_grad:
            # differentiable through logm / expm (Daleckii-Krein backward)
            return expm(B.weighted_sum(logm(X), w)), info
        lam, U = _eigh(X)
        if any_true((lam <= 0).any())[0]:
            raise ValueError(
                "logm needs symmetric positive definite matrices; smallest "
                f"eigenvalue {float(lam.min()):.3g}"
            )
        return self._mean_from_eigh(lam, U, w)

    @staticmethod
    def _mean_from_eigh(lam, U, w):
        """``expm(sum_i w_i U_i log(Λ_i) U_iᵀ)`` from one batched ``eigh`` (λ > 0).

        numpy: the sum is a symmetric rank-``n p`` update (BLAS ``syrk``, half
        the flops of a GEMM): with the shift ``c = max(0, -min log λ)``,
        ``sum_i w_i U_i (log Λ_i + c) U_iᵀ = S Sᵀ`` with ``S = [U_i (w_i (log
        Λ_i + c))^{1/2}]_i`` (p, n p), and the sum of the logs is ``S Sᵀ - c I``
        (weights sum to 1).  ``S`` is written block by block into one reused
        cache-sized buffer (the transposition and the scaling in one pass);
        ``S_b @ S_b.T`` runs as ``syrk`` in numpy and is exactly symmetric.
        The final ``expm`` of the exactly symmetric ``p x p`` sum is one
        ``eigh`` and one ``syrk`` (overflow refused as in :func:`expm`).
        torch: one GEMM and :func:`expm`.
        """
        info = {"n_iter": 0, "grad_norm": 0.0}
        if is_torch(lam):
            return expm(_spectral_sum(_stack_t(U), B.log(lam), w)), info
        n, p = lam.shape
        s = np.log(lam)
        c = max(0.0, -float(s.min()))
        s += c
        s *= w[:, None]
        np.sqrt(s, out=s)
        Ut = U.transpose(1, 0, 2)  # (p, n, p) view: Ut[r, i, k] = U_i[r, k]
        b = max(1, min(n, 65536 // (p * p)))  # matrices per block
        buf = np.empty((p, b, p))
        J = None
        for i in range(0, n, b):
            m = min(b, n - i)
            S = buf[:, :m]
            np.multiply(Ut[:, i : i + m], s[None, i : i + m], out=S)
            S = np.ascontiguousarray(S).reshape(p, m * p)  # a view if m == b
            if J is None:
                J = S @ S.T
            else:
                J += S @ S.T
        J.flat[:: p + 1] -= c
        return _expm_sym(J), info

    @staticmethod
    def mean_checked(X, w):
        """The mean of a float64 numpy batch with its validation fused in.

        One pass over ``X`` (:func:`manigeo._backend.eigh_blocks`): per
        cache-sized block, the symmetry test, the eigendecomposition (that
        of ``numpy.linalg.eigh(X)``, the eigenvectors written as contiguous
        rows) and the
        block's share of ``sum_i w_i log X_i`` as one ``syrk`` of the scaled
        eigenvector rows (see :meth:`_mean_from_eigh`; the shift is the
        block's own), with the rules of ``check_spd(X, copy=False,
        return_eigh=True, factor_only=True)``: exactly symmetric input, or
        symmetric to round-off, finite, and every matrix beyond the
        eigenvalue margin ``λ_min > τ λ_max`` that proves definiteness.
        None when any of them fails (or ``X`` is not a 3-D float64 array):
        the caller's full checks then decide and raise.  The same values as
        :meth:`_mean_from_eigh` to round-off.
        """
        if not (X.ndim == 3 and X.dtype == np.float64 and X.size):
            return None
        p = X.shape[-1]
        tau = spd_eig_tol(p, float(np.finfo(np.float64).eps))

        def log_sum(s, e, lam, Vt):
            # sum_i w_i Vt_iᵀ (log Λ_i + c) Vt_i - c sum_i w_i: the scaled
            # rows H (m p, p) in Vt's buffer, then one syrk Hᵀ H
            lg = np.log(lam)
            c = max(0.0, -float(lg.min()))
            lg += c
            lg *= w[s:e, None]
            np.sqrt(lg, out=lg)
            H = Vt.reshape((e - s) * p, p)
            H *= lg.reshape(-1, 1)
            J = H.T @ H
            J.flat[:: p + 1] -= c * float(w[s:e].sum())
            return J

        parts = B.eigh_blocks(X, log_sum, tau=tau, roundoff_ok=True)
        if parts is None:
            return None
        J = parts[0]
        for part in parts[1:]:  # in order: the same sums split or not
            J += part
        return _expm_sym(J)

    # group: (Sym(n), +) through log; θ has no effect
    def to_group(self, P):
        return logm(P)

    def from_group(self, C, *, own=False):
        return expm(C)

    def group_sqnorm(self, C):
        d2 = self.alpha * B.fro2(C)
        if self.beta != 0.0:
            d2 = d2 + self.beta * B.trace(C) ** 2
        return d2

    def group_noise(self, Mc):
        eps = _finfo_eps(Mc)
        return Mc.shape[-1] * (1e3 * eps * (1.0 + float(abs(Mc).max()))) ** 2


def _with_diagonal(T, d, *, own=False):
    """Lower-triangular ``T`` with its diagonal replaced by ``d``.

    One new array (no batch of diagonal matrices); ``own``: ``T`` is a fresh
    array of the caller's and is overwritten (torch: outside autograd only;
    in a graph, out of place with ``diagonal_scatter``, so autograd sees it).
    """
    if is_torch(T):
        import torch

        if T.requires_grad or d.requires_grad:
            return torch.diagonal_scatter(T, d, dim1=-2, dim2=-1)
        out = T if own else T.clone()
        out.diagonal(dim1=-2, dim2=-1).copy_(d)
        return out
    out = T if own else T.copy()
    np.einsum("...ii->...i", out)[...] = d
    return out


def logchol_coords(P, L=None, *, own=False):
    """Log-Cholesky coordinates ``⌊L⌋ + diag(log diag L)`` with ``L = chol(P)``.

    ``L``: the Cholesky factor when the caller already has it; ``own``: it is
    a fresh array of the caller's, overwritten with the coordinates (no copy).
    """
    own = own or L is None
    L = B.cholesky(P) if L is None else L
    return _with_diagonal(L, B.log(B.diagonal(L)), own=own)


def logchol_from_coords(C, *, lower_own=False):
    """Inverse of :func:`logchol_coords`: ``L Lᵀ``.

    ``lower_own``: ``C`` is already lower triangular (zeros above the
    diagonal) and a fresh array of the caller's, overwritten (no ``tril``
    copy; the same result bit for bit).
    """
    if lower_own:
        T = C
    else:
        T = C.tril() if is_torch(C) else np.tril(C)
    L = _with_diagonal(T, B.exp(B.diagonal(C)), own=True)
    return L @ B.mT(L)


class LogCholesky(_SPDMetric):
    """θ-log-Cholesky metric (LCM, Lin 2019), pulled back by ``P^θ``."""

    name = "logcholesky"

    def _sqdist(self, A, Bm):
        return B.fro2(logchol_coords(A) - logchol_coords(Bm))

    @staticmethod
    def squared_distance_from_cholesky(LA, LB):
        """Squared distance (θ = 1) from the lower Cholesky factors of A and B.

        The factors are fresh arrays of the caller's (the validation's), turned
        into coordinates in place.
        """
        return B.fro2(
            logchol_coords(None, LA, own=True) - logchol_coords(None, LB, own=True)
        )

    def _log(self, P, Q):
        L, K = B.cholesky(P), B.cholesky(Q)
        dL = B.diagonal(L)
        X = (
            B.strict_tril(K)
            - B.strict_tril(L)
            + B.diag_embed(dL * (B.log(B.diagonal(K)) - B.log(dL)))
        )
        return L @ B.mT(X) + X @ B.mT(L)

    def _exp(self, P, V):
        L = B.cholesky(P)
        W = B.congruence_inv_chol(L, V)  # L^-1 V L^-T
        half = B.strict_tril(W) + 0.5 * B.diag_embed(B.diagonal(W))
        X = L @ half
        dL = B.diagonal(L)
        K = (
            B.strict_tril(L)
            + B.strict_tril(X)
            + B.diag_embed(dL * B.exp(B.diagonal(X) / dL))
        )
        return K @ B.mT(K)

    def _geodesic(self, A, Bm, t):
        return logchol_from_coords((1 - t) * logchol_coords(A) + t * logchol_coords(Bm))

    def _mean(self, X, w, tol, max_iter, init):
        return self._mean_from_cholesky(B.cholesky(X), w)

    @staticmethod
    def _mean_from_cholesky(L, w):
        # closed form; the diagonal is averaged in the log domain without
        # building a batch of diagonal matrices
        info = {"n_iter": 0, "grad_norm": 0.0}
        if not is_torch(L):
            # L is lower triangular (numpy zeroes the upper part): the weighted
            # sum is lower triangular, its diagonal is overwritten in place
            K = np.tensordot(w, L, axes=1)
            d = np.log(np.diagonal(L, axis1=-2, axis2=-1))
            K.flat[:: K.shape[-1] + 1] = np.exp(w @ d)
            return K @ K.T, info  # syrk: exactly symmetric
        # torch: the same few ops (each costs a dispatch); out of place in a
        # graph only
        K = B.weighted_sum(L, w)  # lower triangular: L is
        dL = L.diagonal(dim1=-2, dim2=-1)
        # (log of the strided diagonal view: 2x slower than of a copy)
        dL = dL.log() if L.requires_grad else dL.contiguous().log_()
        d = (w @ dL).exp()
        K = _with_diagonal(K, d, own=True)
        return K @ K.mT, info

    @staticmethod
    def mean_checked(X, w):
        """The mean (θ = 1) of a float64 numpy batch with its validation fused in.

        One pass over ``X``: the symmetry test, the Cholesky factorisation and
        the weighted sums of the factors and of the logs of their diagonals,
        block by block while the block is in the cache
        (:func:`manigeo._backend.cholesky_blocks`; the batch-vectorised
        factorisation for small matrices), with the rules of ``check_spd(X,
        copy=False, factor_only=True)``: exactly symmetric input, or
        symmetric to round-off (factor of the lower triangle), finite,
        Cholesky succeeds.  None when any of them fails (or ``X`` is not a
        3-D float64 array): the caller's full checks then decide and raise.
        The same values as :meth:`_mean_from_cholesky` to round-off.
        """
        if not (X.ndim == 3 and X.dtype == np.float64 and X.size):
            return None
        p = X.shape[-1]
        vec = B.vectorised_cholesky_applies(X)

        def sums(s, e, F):
            wb = w[s:e]
            if vec:  # F (p, p, m): lower factors, X's upper triangle above
                return F.reshape(p * p, e - s) @ wb, np.log(
                    np.einsum("iin->in", F)
                ) @ wb
            # F (m, p, p): upper factors U_i, U_iᵀ the lower ones; a failed
            # factorisation leaves NaN on the diagonal: tested on the logs'
            # sum (cholesky_blocks' own test of the diagonal is skipped)
            lg = np.log(np.diagonal(F, axis1=1, axis2=2))
            if np.isnan(lg.sum()):
                return None
            return wb @ F.reshape(e - s, p * p), wb @ lg

        if vec:
            parts = B.cholesky_vectorised_chunks(X, sums, roundoff_ok=True)
        else:
            parts = B.cholesky_blocks(X, sums, roundoff_ok=True, nan_check=False)
        if parts is None or any(part is None for part in parts):
            return None
        acc, dacc = parts[0]
        for a, d in parts[1:]:  # in order: the same sums split or not
            acc += a
            dacc += d
        # K: the mean factor (vectorised: lower, X's upper part dropped) or
        # its transpose (blocks: upper); M = K Kᵀ or Kᵀ K by syrk, exactly
        # symmetric
        K = np.tril(acc.reshape(p, p)) if vec else acc.reshape(p, p)
        K.flat[:: p + 1] = np.exp(dacc)
        return K @ K.T if vec else K.T @ K

    # group: log-Cholesky coordinates of P^θ with addition
    def to_group(self, P):
        return logchol_coords(self.deform(P))

    def from_group(self, C, *, own=False):
        # coordinates are lower triangular: an owned array needs no tril copy
        return self.undeform(logchol_from_coords(C, lower_own=own))


class BuresWasserstein(_SPDMetric):
    """θ-Bures–Wasserstein metric, pulled back by ``P^θ``."""

    name = "bures-wasserstein"
    has_group = False

    def _sqdist(self, A, Bm):
        S = sqrtm(A)
        d2 = B.trace(A) + B.trace(Bm) - 2 * B.trace(sqrtm(S @ Bm @ S))
        return d2.clamp_min(0) if is_torch(d2) else np.maximum(d2, 0)

    def _transport_map(self, A, Bm):
        """Optimal map T with T A T = B: A^{-1/2} (A^{1/2} B A^{1/2})^{1/2} A^{-1/2}."""
        S, Si = sqrtm(A), invsqrtm(A)
        return B.sym(Si @ sqrtm(S @ Bm @ S) @ Si)

    def _log(self, P, Q):
        T = self._transport_map(P, Q)
        return B.sym(T @ P + P @ T) - 2 * P

    def _exp(self, P, V):
        if is_torch(P):
            import torch

            lam, U = torch.linalg.eigh(P)
        else:
            lam, U = np.linalg.eigh(P)
        Vt = B.mT(U) @ V @ U
        Xt = Vt / (lam[..., :, None] + lam[..., None, :])
        return B.sym(P + V + U @ (Xt * lam[..., None, :]) @ Xt @ B.mT(U))

    def _geodesic(self, A, Bm, t):
        T = self._transport_map(A, Bm)
        G = (1 - t) * B.eye_like(A) + t * T
        return B.sym(G @ A @ G)

    def _mean(self, X, w, tol, max_iter, init):
        return bures_wasserstein_mean(X, w, tol=tol, max_iter=max_iter, init=init)


def _sqrt_pair(M):
    """``M^{1/2}`` and ``M^{-1/2}`` from one ``eigh``."""
    lam, V = _eigh(M)
    r = B.sqrt(lam)
    return (V * r[None, :]) @ B.mT(V), (V / r[None, :]) @ B.mT(V)


def bures_wasserstein_mean(X, w, *, tol=1e-10, max_iter=100, init=None, warn=True):
    """Álvarez-Esteban et al. (2016) fixed point for the Bures–Wasserstein mean.

    ``M <- M^{-1/2} (sum_i w_i (M^{1/2} X_i M^{1/2})^{1/2})² M^{-1/2}``, i.e.
    ``M <- T M T`` with the mean optimal transport map ``T = sum_i w_i T_i``;
    this is the Riemannian gradient step ``Exp_M(grad)`` with unit step size
    (pyRiemann's ``mean_wasserstein``).  Here the step ``t`` along the same
    geodesic, ``M <- (I + t R) M (I + t R)`` with ``R = T − I``, grows while
    the residual decreases (up to 1.5) and returns to the monotone ``t = 1``
    for 10 iterations when it does not (fewer iterations on ill-conditioned
    sets).
    One batched ``eigh`` per iteration (``M^{1/2} X_i M^{1/2}`` formed by two
    batch-wide GEMMs).  Stops when the relative residual ``‖T − I‖_F <= tol``,
    or when it has stalled for 10 iterations below ``1e-6`` (the rounding
    level on matrices with condition numbers ~1e8).  ``info["grad_norm"]`` is
    the Frobenius norm of the Riemannian gradient
    ``sum_i w_i Log_M(X_i) = (T − I) M + M (T − I)``, the criterion pyRiemann
    reports, at the last evaluated iterate (the returned ``M`` is one
    fixed-point step further, as in pyRiemann); it scales with ``M``.
    """
    torch_in = is_torch(X)
    out_dtype = X.dtype
    if torch_in and X.dtype != _torch_float64():
        X = X.to(_torch_float64())
        w = w.to(X.dtype)
    M = B.weighted_sum(X, w) if init is None else B.sym(init * 1.0)
    if torch_in:
        M = M.to(X.dtype)
    eye = B.eye_like(M)
    res, best, since, it = float("inf"), float("inf"), 0, 0
    t, res_prev, freeze = 1.0, float("inf"), 0
    converged = False
    for it in range(1, max_iter + 1):  # noqa: B007 (n_iter after the loop)
        S, Si = _sqrt_pair(M)
        lam, U = _eigh(_congruence(S, X))
        lam = lam.clamp_min(0) if torch_in else np.maximum(lam, 0)
        T = B.sym(Si @ _spectral_sum(_stack_t(U), B.sqrt(lam), w) @ Si)
        R = T - eye
        res = float(B.fro2(R)) ** 0.5
        gnorm = float(B.fro2(R @ M + M @ R)) ** 0.5
        if tol > 0 and res <= tol:
            M = B.sym(T @ M @ T)
            converged = True
            break
        # over-relaxed step along the geodesic, Exp_M(t grad): t grows by 10 %
        # per decrease of the residual up to 1.5 and falls back to the
        # monotone t = 1 (Álvarez-Esteban) for 10 iterations as soon as the
        # residual does not decrease
        if res < res_prev:
            t = min(1.1 * t, 1.5) if it > freeze else 1.0
        else:
            t, freeze = 1.0, it + 10
        res_prev = res
        Gt = eye + t * R
        if t > 1.0 and float(_eigh(Gt)[0].min()) <= 0:
            t, Gt = 1.0, T
        M = B.sym(Gt @ M @ Gt)
        if res < 0.5 * best:
            best, since = res, 0
        else:
            since += 1
        if since >= 10 and res <= 1e-6:
            converged = True  # stalled at the rounding level
            break
    if tol > 0 and not converged and warn:
        warnings.warn(
            f"Bures-Wasserstein mean did not reach tol={tol:g} in {max_iter} "
            f"iterations (residual {res:.3g}); increase max_iter",
            ConvergenceWarning,
            stacklevel=4,
        )
    if torch_in:
        M = M.to(out_dtype)
    return M, {"n_iter": it, "grad_norm": gnorm, "residual": res}


# ------------------------------------------------------------------- registry
METRICS = {
    "affine": AffineInvariant,
    "logeuclid": LogEuclidean,
    "logcholesky": LogCholesky,
    "bures-wasserstein": BuresWasserstein,
}

ALIASES = {
    "riemann": "affine",
    "aim": "affine",
    "airm": "affine",
    "lem": "logeuclid",
    "log-euclidean": "logeuclid",
    "lcm": "logcholesky",
    "logchol": "logcholesky",
    "log-cholesky": "logcholesky",
    "bw": "bures-wasserstein",
    "wasserstein": "bures-wasserstein",
}


def canonical_name(metric):
    """Canonical metric name for ``metric`` (aliases resolved)."""
    if not isinstance(metric, str):
        raise TypeError(f"metric must be a string, got {type(metric).__name__}")
    key = metric.lower()
    key = ALIASES.get(key, key)
    if key not in METRICS:
        raise ValueError(
            f"unknown metric {metric!r}; choose one of {sorted(METRICS)} "
            f"(aliases: {sorted(ALIASES)})"
        )
    return key


def get_metric(
    metric: str = "affine", theta: float = 1.0, alpha: float = 1.0, beta: float = 0.0
) -> "_SPDMetric":
    """Build a metric object from its name and parameters.

    Parameters
    ----------
    metric : {"affine", "logeuclid", "logcholesky", "bures-wasserstein"}
        Metric name (aliases such as ``"riemann"``, ``"lem"``, ``"logchol"``,
        ``"wasserstein"`` are accepted).
    theta : float, default=1.0
        Power deformation (non-zero).
    alpha, beta : float, default=1.0, 0.0
        O(n)-invariant weights (``"affine"`` and ``"logeuclid"`` only);
        ``alpha > 0`` and ``beta > -alpha / n``.

    Returns
    -------
    metric : object
        With methods ``distance``, ``squared_distance``, ``log``, ``exp``,
        ``geodesic``, ``mean``, ``dispersion``, ``deform``, ``undeform`` and,
        for the three Lie-group metrics (not Bures–Wasserstein), the group
        actions ``transport_to_identity``, ``stretch``, ``bias`` and their
        forms on group coordinates (``to_group``, ``from_group``,
        ``group_translate``, ``group_stretch``, ``group_sqnorm``,
        ``group_mean``) shared by the scalers and ``nn.LieBatchNormSPD``.

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo.spd import get_metric
    >>> g = get_metric("logeuclid")
    >>> float(g.distance(np.eye(2), np.diag([np.e, 1.0])))
    1.0
    """
    return METRICS[canonical_name(metric)](theta=theta, alpha=alpha, beta=beta)
