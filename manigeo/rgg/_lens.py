"""Lens volumes of two balls and their inversion (common neighbours -> distance).

Two unit ``d``-balls whose centres are ``u`` apart (``0 <= u <= 2``) intersect
in a lens of normalized volume

.. math:: \\varphi_d(u) = I_{1 - u^2/4}\\big(\\tfrac{d+1}{2}, \\tfrac12\\big),

the regularized incomplete beta function.  In a random geometric graph of
radius ``r`` the expected cosine similarity of an edge's two neighbourhoods is
``q * phi_d(t / r)`` (``q`` the edge keep rate, ``t`` the latent distance), so
inverting ``phi_d`` turns common-neighbour counts into local distances.
"""

from functools import lru_cache

import numpy as np
from scipy.special import betainc, gammaln

#: u grid of the inversion lookup table (rgg.md §2, 2000 points)
_TABLE_SIZE = 2001


def ball_volume(d):
    """Volume ``V_d = pi^(d/2) / Gamma(d/2 + 1)`` of the unit ``d``-ball."""
    d = float(d)
    return float(np.exp(0.5 * d * np.log(np.pi) - gammaln(0.5 * d + 1.0)))


def lens_fraction(u, d):
    """Normalized lens volume ``phi_d(u)`` of two unit ``d``-balls ``u`` apart.

    Parameters
    ----------
    u : float or array-like
        Distance between the centres in units of the radius; clipped to
        ``[0, 2]`` (``phi_d(0) = 1``, ``phi_d(2) = 0``).
    d : float
        Dimension (non-integer values interpolate smoothly).

    Returns
    -------
    phi : float or ndarray
        Fraction of one ball's volume shared with the other.

    Examples
    --------
    >>> from manigeo.rgg import lens_fraction
    >>> round(float(lens_fraction(1.0, 2)), 4)
    0.391
    """
    u = np.clip(np.asarray(u, dtype=np.float64), 0.0, 2.0)
    return betainc(0.5 * (float(d) + 1.0), 0.5, 1.0 - 0.25 * u * u)


def lens_fraction_derivative(u, d):
    """Derivative ``phi_d'(u) = -(V_{d-1}/V_d) (1 - u^2/4)^((d-1)/2)``."""
    u = np.clip(np.asarray(u, dtype=np.float64), 0.0, 2.0)
    d = float(d)
    return -(ball_volume(d - 1) / ball_volume(d)) * (1.0 - 0.25 * u * u) ** (
        0.5 * (d - 1)
    )


@lru_cache(maxsize=64)
def _gauss_legendre(n):
    x, w = np.polynomial.legendre.leggauss(n)
    return 0.5 * (x + 1.0), 0.5 * w


def edge_moments(d, power=1):
    """``E[phi_d(U)^power]`` for the normalized length ``U`` of a random edge.

    With a locally uniform density, an edge's normalized length has density
    ``d u^(d-1)`` on ``[0, 1]``.  ``edge_moments(d, 1)`` is the constant
    ``m_d`` of the edge-retention estimate ``q = mean(s) / m_d``
    (``m_1 = 0.75``, ``m_2 = 0.5865``, ``m_3 = 0.4688``, ``m_4 = 0.3798``).

    Parameters
    ----------
    d : float
        Dimension.
    power : int, default=1
        Moment order.

    Returns
    -------
    float
    """
    d = float(d)
    if not d > 0:
        raise ValueError(f"dimension must be positive, got {d}")
    # substitute u = v^(1/d): density d u^(d-1) du becomes dv on [0, 1]
    v, w = _gauss_legendre(96)
    u = v ** (1.0 / d)
    return float(np.sum(w * lens_fraction(u, d) ** power))


@lru_cache(maxsize=64)
def _table(d):
    u = np.linspace(0.0, 1.0, _TABLE_SIZE)
    phi = lens_fraction(u, d)
    # increasing abscissa for np.interp
    return phi[::-1].copy(), u[::-1].copy()


def invert_lens(s, d):
    """Clip-inversion ``u = phi_d^{-1}(min(s, 1))`` restricted to ``[0, 1]``.

    Uses a 2001-point lookup table and linear interpolation (error below
    ``1e-6`` in ``u``).  Values ``s <= phi_d(1)`` map to ``u = 1`` (an edge is
    never longer than the radius).

    Parameters
    ----------
    s : array-like
        Normalized lens fractions (cosine similarity divided by ``q``).
    d : int or float
        Dimension.

    Returns
    -------
    u : ndarray
        Distances in units of the radius.
    """
    phi, u = _table(float(d))
    return np.interp(np.asarray(s, dtype=np.float64), phi, u)


class PosteriorMeanRule:
    """Posterior mean ``E[u | C, K]`` of an edge's normalized length.

    Likelihood ``C ~ Bin(K, q phi_d(u))`` (``C`` the common-neighbour count,
    ``K = sqrt((k_i - 1)(k_j - 1))``), prior density ``d u^(d-1)`` on
    ``(0, 1]`` (uniform points).  The posterior mean is tabulated once on a
    grid of ``(log K, C / K)`` and read by bilinear interpolation, so applying
    the rule costs O(1) per edge.

    Parameters
    ----------
    d : float
        Dimension.
    q : float
        Edge keep rate in ``(0, 1]``.
    k_max : float
        Largest ``K`` to tabulate.
    n_u : int, default=240
        Quadrature nodes in ``u``.
    """

    def __init__(self, d, q, k_max, *, n_u=240, n_k=40, n_s=401):
        self.d, self.q = float(d), float(q)
        u = (np.arange(n_u) + 0.5) / n_u
        log_prior = (self.d - 1.0) * np.log(u)
        p = np.clip(self.q * lens_fraction(u, self.d), 1e-12, 1 - 1e-12)
        lp, lq = np.log(p), np.log1p(-p)
        self.logk = np.linspace(0.0, np.log(max(float(k_max), 2.0)) + 1e-9, n_k)
        self.s = np.linspace(0.0, 1.0, n_s)
        K = np.exp(self.logk)[:, None, None]
        C = (self.s[None, :, None]) * K
        loglik = C * lp + (K - C) * lq + log_prior  # (n_k, n_s, n_u)
        loglik -= loglik.max(axis=2, keepdims=True)
        w = np.exp(loglik)
        w /= w.sum(axis=2, keepdims=True)
        self.table = (w * u).sum(axis=2)
        self.sd_table = np.sqrt(np.maximum((w * u * u).sum(axis=2) - self.table**2, 0))

    def __call__(self, s, K, *, table=None):
        """Posterior means for cosine similarities ``s = C / K`` and sizes ``K``."""
        s = np.clip(np.asarray(s, dtype=np.float64), 0.0, 1.0)
        lk = np.clip(
            np.log(np.maximum(np.asarray(K, dtype=np.float64), 1.0)),
            self.logk[0],
            self.logk[-1],
        )
        fk = (lk - self.logk[0]) / (self.logk[1] - self.logk[0])
        ik = np.minimum(fk.astype(np.intp), len(self.logk) - 2)
        fk -= ik
        fs = s * (len(self.s) - 1)
        js = np.minimum(fs.astype(np.intp), len(self.s) - 2)
        fs -= js
        T = self.table if table is None else table
        top = T[ik, js] * (1 - fs) + T[ik, js + 1] * fs
        bot = T[ik + 1, js] * (1 - fs) + T[ik + 1, js + 1] * fs
        return top * (1 - fk) + bot * fk
