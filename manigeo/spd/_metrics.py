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
from manigeo._backend import is_torch
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
        self, X, weights=None, tol=1e-10, max_iter=100, init=None, return_info=False
    ):
        w = B.as_weights(weights, X)
        init_d = None if init is None else self.deform(init)
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

    def from_group(self, C):
        """SPD matrices from group coordinates (inverse of :meth:`to_group`)."""
        self._no_group()
        return self.undeform(C)

    def group_translate(self, C, G, inverse=False):
        """Left translation ``L_G C`` in coordinates (``L_{G^{-1}} C`` if inverse)."""
        self._no_group()
        return C - G if inverse else C + G

    def group_stretch(self, C, s):
        """``Exp_E(s Log_E C)`` in coordinates: distances to ``I`` times ``|s|``."""
        self._no_group()
        return C * s

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
        return karcher_affine(X, w, tol=tol, max_iter=max_iter, init=init)

    # group actions: congruence ``M^{-1/2} C M^{-1/2}`` on deformed matrices
    def group_translate(self, C, G, inverse=False):
        S = invsqrtm(G) if inverse else sqrtm(G)
        return B.sym(S @ C @ S)

    def group_stretch(self, C, s):
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
    for it in range(1, max_iter + 1):  # noqa: B007 (n_iter after the loop)
        S, Si = sqrtm(M), invsqrtm(M)
        J = B.weighted_sum(logm(Si @ X @ Si), w)
        gnorm = float(B.fro2(J)) ** 0.5
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
        return expm(B.weighted_sum(logm(X), w)), {"n_iter": 0, "grad_norm": 0.0}

    # group: (Sym(n), +) through log; θ has no effect
    def to_group(self, P):
        return logm(P)

    def from_group(self, C):
        return expm(C)

    def group_sqnorm(self, C):
        d2 = self.alpha * B.fro2(C)
        if self.beta != 0.0:
            d2 = d2 + self.beta * B.trace(C) ** 2
        return d2

    def group_noise(self, Mc):
        eps = _finfo_eps(Mc)
        return Mc.shape[-1] * (1e3 * eps * (1.0 + float(abs(Mc).max()))) ** 2


def logchol_coords(P):
    """Log-Cholesky coordinates ``⌊L⌋ + diag(log diag L)`` with ``L = chol(P)``."""
    L = B.cholesky(P)
    return B.strict_tril(L) + B.diag_embed(B.log(B.diagonal(L)))


def logchol_from_coords(C):
    """Inverse of :func:`logchol_coords`: ``L Lᵀ``."""
    L = B.strict_tril(C) + B.diag_embed(B.exp(B.diagonal(C)))
    return L @ B.mT(L)


class LogCholesky(_SPDMetric):
    """θ-log-Cholesky metric (LCM, Lin 2019), pulled back by ``P^θ``."""

    name = "logcholesky"

    def _sqdist(self, A, Bm):
        return B.fro2(logchol_coords(A) - logchol_coords(Bm))

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
        C = B.weighted_sum(logchol_coords(X), w)
        return logchol_from_coords(C), {"n_iter": 0, "grad_norm": 0.0}

    # group: log-Cholesky coordinates of P^θ with addition
    def to_group(self, P):
        return logchol_coords(self.deform(P))

    def from_group(self, C):
        return self.undeform(logchol_from_coords(C))


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
        M = B.weighted_sum(X, w) if init is None else init
        gnorm, it = float("inf"), 0
        for it in range(1, max_iter + 1):  # noqa: B007 (n_iter after the loop)
            S, Si = sqrtm(M), invsqrtm(M)
            T = Si @ B.weighted_sum(sqrtm(S @ X @ S), w) @ Si
            R = T - B.eye_like(T)
            gnorm = float(B.fro2(R)) ** 0.5
            M = B.sym(T @ M @ T)
            if tol > 0 and gnorm <= tol:
                break
        if tol > 0 and gnorm > tol:
            warnings.warn(
                f"Bures-Wasserstein mean did not reach tol={tol:g} in {max_iter} "
                f"iterations (residual {gnorm:.3g}); increase max_iter",
                ConvergenceWarning,
                stacklevel=4,
            )
        return M, {"n_iter": it, "grad_norm": gnorm}


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
