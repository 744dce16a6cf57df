"""Batched group exponential and logarithm for SO(n) and SE(n) matrices.

Closed forms for SO(2), SO(3), SE(2), SE(3) (Rodrigues and its inverse, the
left Jacobian for the translation part), vectorised over the batch; other
sizes fall back to scipy's ``expm``/``logm`` one matrix at a time.  ``log`` is
the principal matrix logarithm (rotation angles in [0, π]), ``exp`` the
matrix exponential, as for geomstats' matrix Lie groups.
"""

import numpy as np
from scipy.linalg import expm as _expm
from scipy.linalg import logm as _logm

_SMALL = 1e-4  # below: Taylor series (error O(θ⁴) ~ 1e-16)
_NEAR_PI = 1e-2  # above π − this: axis from the symmetric part


def _hat(w):
    z = np.zeros(w.shape[:-1])
    return np.stack(
        [
            np.stack([z, -w[..., 2], w[..., 1]], -1),
            np.stack([w[..., 2], z, -w[..., 0]], -1),
            np.stack([-w[..., 1], w[..., 0], z], -1),
        ],
        -2,
    )


def _vee(W):
    return np.stack([W[..., 2, 1], W[..., 0, 2], W[..., 1, 0]], -1)


def _so3_log_vec(R):
    """Rotation vectors ``ω`` with ``exp(ω^) = R`` and ``|ω| <= π``."""
    cos = np.clip(0.5 * (np.trace(R, axis1=-2, axis2=-1) - 1.0), -1.0, 1.0)
    a = _vee(R - np.swapaxes(R, -1, -2))  # 2 sin θ k
    theta = np.arctan2(0.5 * np.linalg.norm(a, axis=-1), cos)  # accurate near 0, π
    sin = np.sin(theta)
    small = theta < _SMALL
    factor = np.where(
        small, 0.5 + theta**2 / 12.0, 0.5 * theta / np.where(small, 1, sin)
    )
    w = factor[..., None] * a
    near_pi = theta > np.pi - _NEAR_PI
    if np.any(near_pi):
        Rp = R[near_pi]
        S = 0.5 * (Rp + np.swapaxes(Rp, -1, -2)) - cos[near_pi, None, None] * np.eye(3)
        j = np.argmax(np.diagonal(S, axis1=-2, axis2=-1), axis=-1)
        col = np.take_along_axis(S, j[:, None, None], axis=-1)[..., 0]
        k = col / np.linalg.norm(col, axis=-1, keepdims=True)
        sgn = np.sign(np.sum(k * a[near_pi], axis=-1))
        k = k * np.where(sgn == 0, 1.0, sgn)[:, None]
        w[near_pi] = theta[near_pi, None] * k
    return w


def _so3_exp_vec(w):
    theta = np.linalg.norm(w, axis=-1)
    small = theta < _SMALL
    t = np.where(small, 1.0, theta)
    A = np.where(small, 1.0 - theta**2 / 6.0, np.sin(t) / t)
    Bc = np.where(small, 0.5 - theta**2 / 24.0, (1.0 - np.cos(t)) / t**2)
    K = _hat(w)
    return np.eye(3) + A[..., None, None] * K + Bc[..., None, None] * (K @ K)


def _se3_V_coeffs(theta):
    small = theta < _SMALL
    t = np.where(small, 1.0, theta)
    b = np.where(small, 0.5 - theta**2 / 24.0, (1.0 - np.cos(t)) / t**2)
    c = np.where(small, 1.0 / 6.0 - theta**2 / 120.0, (t - np.sin(t)) / t**3)
    return b, c


def _so2_angle(R):
    return np.arctan2(R[..., 1, 0], R[..., 0, 0])


def _so2_exp_angle(phi):
    c, s = np.cos(phi), np.sin(phi)
    return np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)


def group_log(X, group):
    """Principal logarithms of a batch of SO(n) or homogeneous SE(n) matrices."""
    d = X.shape[-1]
    k = d if group == "SO" else d - 1
    R = X if group == "SO" else X[..., :k, :k]
    if k == 3:
        w = _so3_log_vec(R)
        Om = _hat(w)
    elif k == 2:
        phi = _so2_angle(R)
        Om = phi[..., None, None] * np.array([[0.0, -1.0], [1.0, 0.0]])
    else:
        return np.stack([np.real(_logm(x)) for x in X]) if len(X) else X * 0.0
    if group == "SO":
        return Om
    t = X[..., :k, k]
    if k == 3:
        theta = np.linalg.norm(w, axis=-1)
        small = theta < _SMALL
        th = np.where(small, 1.0, theta)
        # V⁻¹ = I − Ω/2 + (1/θ²)(1 − θ sin θ / (2 (1 − cos θ))) Ω²
        coef = np.where(
            small,
            1.0 / 12.0 + theta**2 / 720.0,
            (1.0 - th * np.sin(th) / (2.0 * (1.0 - np.cos(th)))) / th**2,
        )
        Vinv = np.eye(3) - 0.5 * Om + coef[..., None, None] * (Om @ Om)
    else:
        half = 0.5 * phi
        small = np.abs(phi) < _SMALL
        hc = np.where(
            small, 1.0 - phi**2 / 12.0, half / np.tan(np.where(small, 1, half))
        )
        Vinv = hc[..., None, None] * np.eye(2) - 0.5 * Om
    out = np.zeros_like(X)
    out[..., :k, :k] = Om
    out[..., :k, k] = (Vinv @ t[..., None])[..., 0]
    return out


def group_exp(V, group):
    """Matrix exponentials of a batch of so(n) or se(n) elements."""
    d = V.shape[-1]
    k = d if group == "SO" else d - 1
    Om = V if group == "SO" else V[..., :k, :k]
    if k == 3:
        w = _vee(0.5 * (Om - np.swapaxes(Om, -1, -2)))
        R = _so3_exp_vec(w)
    elif k == 2:
        phi = 0.5 * (Om[..., 1, 0] - Om[..., 0, 1])
        R = _so2_exp_angle(phi)
    else:
        return np.stack([_expm(v) for v in V]) if len(V) else V * 0.0
    if group == "SO":
        return R
    u = V[..., :k, k]
    if k == 3:
        b, c = _se3_V_coeffs(np.linalg.norm(w, axis=-1))
        Vm = np.eye(3) + b[..., None, None] * Om + c[..., None, None] * (Om @ Om)
    else:
        small = np.abs(phi) < _SMALL
        ph = np.where(small, 1.0, phi)
        s = np.where(small, 1.0 - phi**2 / 6.0, np.sin(ph) / ph)
        cc = np.where(small, phi / 2.0, (1.0 - np.cos(ph)) / ph)
        J = np.array([[0.0, -1.0], [1.0, 0.0]])
        Vm = s[..., None, None] * np.eye(2) + cc[..., None, None] * J
    out = np.zeros_like(V)
    out[..., :k, :k] = R
    out[..., :k, k] = (Vm @ u[..., None])[..., 0]
    out[..., k, k] = 1.0
    return out


def group_inverse(X, group):
    """Inverses of rotation / homogeneous rigid-motion matrices."""
    if group == "SO":
        return np.swapaxes(X, -1, -2)
    k = X.shape[-1] - 1
    out = np.zeros_like(X)
    Rt = np.swapaxes(X[..., :k, :k], -1, -2)
    out[..., :k, :k] = Rt
    out[..., :k, k] = -(Rt @ X[..., :k, k, None])[..., 0]
    out[..., k, k] = 1.0
    return out
