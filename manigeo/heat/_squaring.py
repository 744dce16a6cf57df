"""Dense heat kernels by uniformization and repeated squaring.

``exp(-t L) = exp(-t c) exp(t M)`` with ``M = c I - L`` entrywise non-negative
for a Laplacian (``c`` = the largest diagonal entry).  The Taylor series of
``exp(t0 M)`` for a small ``t0`` (``t0 c <= 1``) has non-negative terms only, and
so have the squarings ``H_{2s} = H_s H_s``: every entry is a sum of
non-negative numbers, computed to a small *relative* error however tiny it is
(a polynomial filter such as Chebyshev only reaches an absolute error).  That
matters for ``log H_t`` of far-apart nodes.  The cost is ``K`` sparse-dense
products for the Taylor part plus one dense ``n x n`` product per doubling of
``t``, so it is used for the full kernel of graphs of a few thousand nodes.
"""

import numpy as np
import scipy.sparse as sp
from scipy.linalg import blas


def _square_sym(H):
    """H @ H for a symmetric H by one SYRK (half the flops of a GEMM)."""
    H = np.asfortranarray(H)
    syrk = blas.dsyrk if H.dtype == np.float64 else blas.ssyrk
    S = syrk(1.0, H, trans=0, lower=0)  # upper triangle of H H^T
    iu = np.tril_indices(S.shape[0], -1)
    S[iu] = S.T[iu]
    return S


def _taylor_base(L, t0, c, tol=1e-17, min_terms=30):
    """exp(-t0 L) as a dense array by the positive Taylor series of exp(t0 (cI - L))."""
    n = L.shape[0]
    M = sp.csr_array(c * sp.eye_array(n, format="csr") - L)
    M.data[M.data < 0] = 0.0  # round-off only: off-diagonals of a Laplacian are <= 0
    M.eliminate_zeros()
    x = t0 * c
    term = np.eye(n)
    out = term.copy()
    k = 0
    # terms t0^k M^k / k! have norm <= x^k / k!; stop once the tail is negligible
    scale = 1.0
    while True:
        k += 1
        term = M @ term
        term *= t0 / k
        out += term
        scale *= x / k
        if (k >= min_terms and scale * x / (k + 1) < tol) or k > 400:
            break
    out *= np.exp(-t0 * c)
    return out


def heat_doubling(L, t_min, n_levels, *, c=None):
    """Yield ``(t, exp(-t L))`` for ``t = t_min * 2**j``, ``j = 0, ..., n_levels - 1``.

    Dense ``n x n`` arrays; the caller checks the size.  Each level costs one
    symmetric dense product.

    Parameters
    ----------
    L : scipy.sparse.csr_array of shape (n, n)
        Laplacian (non-positive off-diagonal entries, symmetric).
    t_min : float
        Smallest time (positive).
    n_levels : int
        Number of doublings.
    c : float or None, default=None
        Uniformization constant (``>= max diag(L)``); ``None`` uses the
        largest diagonal entry.

    Yields
    ------
    t : float
    H : ndarray of shape (n, n)
        Symmetric, entrywise non-negative.
    """
    if c is None:
        diag = L.diagonal()
        c = float(diag.max()) if diag.size else 0.0
    c = max(float(c), 1e-300)
    s = max(0, int(np.ceil(np.log2(max(t_min * c, 1e-300)))))
    t0 = t_min / 2.0**s
    H = _taylor_base(L, t0, c)
    t = t0
    H = 0.5 * (H + H.T)
    for _ in range(s):
        H = _square_sym(H)
        t *= 2.0
    for j in range(n_levels):
        if j:
            H = _square_sym(H)
            t *= 2.0
        yield t, H
