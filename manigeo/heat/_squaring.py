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

import numbers

import numpy as np
import scipy.sparse as sp
from scipy.linalg import blas

from .._backend import blas_threads, run_chunks
from .._validation import (
    check_adjacency,
    check_dense_size,
    check_int,
    check_numeric_dtype,
)
from ._chebyshev import _check_times


def _check_real(value, name, *, positive=False):
    """A finite real scalar (non-negative, or positive if asked)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not np.isfinite(value) or value < 0 or (positive and value == 0):
        kind = "positive" if positive else "non-negative"
        raise ValueError(f"{name} must be a {kind} finite number, got {value}")
    return value


def _check_uniformizable(L, c):
    """Validate a graph Laplacian and the uniformization constant ``c``.

    ``L`` must be symmetric with a non-negative diagonal and non-positive
    off-diagonal entries (``c I - L`` entrywise non-negative), and ``c`` at
    least its largest diagonal entry.  Returns ``(L as CSR, c)``.
    """
    L = check_adjacency(L, name="L", nonnegative=False, self_loops="keep")
    n = L.shape[0]
    rows = np.repeat(np.arange(n), np.diff(L.indptr))
    off = L.data[rows != L.indices]
    scale = float(np.abs(L.data).max()) if L.nnz else 0.0
    if off.size and off.max() > 1e-12 * scale:
        raise ValueError(
            "L has positive off-diagonal entries: it is not a graph Laplacian "
            "(pass manigeo.graphs.laplacian(W), not the weights W)"
        )
    diag = L.diagonal()
    if diag.size and diag.min() < 0:
        raise ValueError("L has negative diagonal entries: it is not a graph Laplacian")
    dmax = float(diag.max()) if diag.size else 0.0
    if c is None:
        c = dmax
    else:
        c = _check_real(c, "c")
        if c < dmax * (1.0 - 1e-12):
            raise ValueError(
                f"c must be at least the largest diagonal entry of L ({dmax:g}), "
                f"got {c:g}"
            )
    return L, c


def _square_sym(H):
    """H @ H for a symmetric H by one SYRK (half the flops of a GEMM)."""
    H = np.asfortranarray(H)
    syrk = blas.dsyrk if H.dtype == np.float64 else blas.ssyrk
    S = syrk(1.0, H, trans=0, lower=0)  # upper triangle of H H^T
    return _mirror_upper(S)


def _mirror_upper(S, block=128):
    """Copy the upper triangle of the square ``S`` onto its lower one, in place.

    By column blocks (slice copies; the index arrays of the whole triangle cost
    10x more at ``n = 1000``).
    """
    n = S.shape[0]
    for i in range(0, n, block):
        j = min(i + block, n)
        D = S[i:j, i:j]
        low = np.tril_indices(j - i, -1)
        D[low] = D.T[low]
        S[j:, i:j] = S[i:j, j:].T
    return S


#: from this many nodes on the Taylor base's columns are split over numpy's
#: BLAS threads (below it a product takes microseconds)
_SPLIT_MIN = 256


def _taylor_base(L, t0, c, tol=1e-17, min_terms=30):
    """exp(-t0 L) as a dense array by the positive Taylor series of exp(t0 (cI - L))."""
    n = L.shape[0]
    M = sp.csr_array(c * sp.eye_array(n, format="csr") - L)
    M.data[M.data < 0] = 0.0  # round-off only: off-diagonals of a Laplacian are <= 0
    M.eliminate_zeros()
    x = t0 * c
    # terms t0^k M^k / k! have norm <= x^k / k!; stop once the tail is negligible
    k, scale = 0, 1.0
    while True:
        k += 1
        scale *= x / k
        if (k >= min_terms and scale * x / (k + 1) < tol) or k > 400:
            break
    # Horner, I + A (I + A/2 (... (I + A/k))): one sparse product and a
    # diagonal update per term (no dense sum of terms), every step non-negative.
    # The columns evolve independently: blocks of them on numpy's BLAS
    # threads (each column the same sums; the products release the GIL)

    def horner(lo, hi):
        out = np.zeros((n, hi - lo))
        rows, cols = np.arange(lo, hi), np.arange(hi - lo)
        out[rows, cols] = 1.0
        for j in range(k, 0, -1):
            out = (M * (t0 / j)) @ out  # the scalar on the sparse factor: no pass
            out[rows, cols] += 1.0
        return out

    blocks = blas_threads() if n >= _SPLIT_MIN else 1
    parts = run_chunks(horner, n, blocks, blas_single=False)
    out = parts[0] if len(parts) == 1 else np.hstack(parts)
    out *= np.exp(-t0 * c)
    return out


def heat_doubling(L, t_min, n_levels, *, c=None, reach=None, max_dense_bytes=None):
    """Yield ``(t, exp(-t L))`` for ``t = t_min * 2**j``, ``j = 0, ..., n_levels - 1``.

    Dense ``n x n`` arrays, below the dense-size guard.  Each level costs one
    symmetric dense product.  The input is validated when the function is
    called (before the first level is asked for).

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
    reach : int or None, default=None
        Hop distance up to which entries must be relatively accurate (the hop
        diameter of the graph).  The series of the base time ``t0 = t_min /
        2**s`` (``t0 c <= 1/8``, or ``1/2`` where ``16 * 2**s >= 16 reach``
        still) has 16 terms or more, and ``s`` is raised until
        ``16 * 2**s >= reach``; ``None``: 30 terms and ``t0 c <= 1``.
    max_dense_bytes : int or None, default=None
        Ceiling for the dense kernel (see
        :func:`manigeo._validation.check_dense_size`).

    Yields
    ------
    t : float
    H : ndarray of shape (n, n)
        Symmetric, entrywise non-negative.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.linalg import expm
    >>> from manigeo.graphs import laplacian
    >>> from manigeo.heat import heat_doubling
    >>> L = laplacian(np.ones((4, 4)) - np.eye(4), kind="symmetric")
    >>> [(t, bool(np.allclose(H, expm(-t * L.toarray()))))
    ...  for t, H in heat_doubling(L, 0.5, 3)]
    [(0.5, True), (1.0, True), (2.0, True)]
    """
    L, c = _check_uniformizable(L, c)
    t_min = _check_real(t_min, "t_min", positive=True)
    n_levels = check_int(n_levels, "n_levels", minimum=1)
    if reach is not None:
        reach = check_int(reach, "reach", minimum=0)
    n = L.shape[0]
    check_dense_size(n, n, max_bytes=max_dense_bytes, what="heat kernel")
    return _doubling(L, t_min, n_levels, c=c, reach=reach)


def _doubling(L, t_min, n_levels, *, c=None, reach=None):
    """:func:`heat_doubling` of a validated CSR Laplacian (a generator)."""
    if c is None:
        diag = L.diagonal()
        c = float(diag.max()) if diag.size else 0.0
    c = max(float(c), 1e-300)
    if reach is None:
        s = max(0, int(np.ceil(np.log2(max(t_min * c, 1e-300)))))
        terms = 30
    else:
        terms = 16

        def doublings(ratio):
            return int(np.ceil(np.log2(max(ratio, 1e-300))))

        # with 16x the reach to spare the base may be 4x longer (t0 c <= 1/2,
        # series to a 1e-17 tail): two squarings fewer for the same kernel
        # (Swiss roll n = 1e5, 1000 cells, t = 512 to 4096: at most 2.3e-12
        # apart entrywise; with 8x, 3.6e-9 at t = 512): near the reach the
        # base stays short (far entries need it)
        s_reach = doublings(max(float(reach), 1.0) / terms)
        s_long = max(doublings(2.0 * t_min * c), doublings(16.0 * reach / terms))
        s = max(0, s_reach, min(doublings(8.0 * t_min * c), s_long))
    t0 = t_min / 2.0**s
    H = _taylor_base(L, t0, c, min_terms=terms)
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


def poisson_terms(t, c=1.0):
    """Number of uniformized Taylor terms after which ``exp(-t L) B`` is complete.

    The weights of the series are Poisson probabilities of mean ``x = t c``;
    after ``x + 6 sqrt(x) + 10`` terms the tail left out is below 1e-8 of the
    total (a relative error of 1e-8 in ``K_t``, 4e-8 t in ``d_t^2``).  Entries
    farther than that many hops from the support of ``B`` need more terms (the
    caller's ``n_terms``).

    Examples
    --------
    >>> from manigeo.heat import poisson_terms
    >>> poisson_terms(0.0), poisson_terms(16.0)
    (10, 50)
    """
    x = _check_real(t, "t") * _check_real(c, "c")
    return int(np.ceil(x + 6.0 * np.sqrt(x) + 10.0))


def heat_columns(L, block, times, *, n_terms=None, c=None):
    """Yield ``(t, exp(-t L) B)`` for increasing ``t``, positive series.

    ``exp(-t L) B = sum_k Pois(k; t c) (M / c)^k B`` with ``M = c I - L``
    entrywise non-negative (``c`` = the largest diagonal entry of ``L``), so
    for a non-negative block ``B`` every entry is a sum of non-negative terms:
    it is computed to a small *relative* error however tiny it is, as long as
    the series reaches it (an entry ``k`` hops away from the support of ``B``
    appears at term ``k``).  All times share the products ``(M / c)^k B``; each
    time is yielded as soon as its series is complete, so a caller may stop
    early.  Cost: ``n_terms`` sparse-dense products.  The input is validated
    when the function is called (before the first time is asked for).

    Parameters
    ----------
    L : scipy.sparse.csr_array of shape (n, n)
        Laplacian (non-positive off-diagonal entries).
    block : ndarray of shape (n, k)
        Non-negative vectors to diffuse.
    times : float or array-like of shape (n_times,)
        Non-negative finite times, increasing.
    n_terms : int, sequence of int or None, default=None
        Terms of the series for each time (at least :func:`poisson_terms`);
        ``None`` uses :func:`poisson_terms`.
    c : float or None, default=None
        Uniformization constant (``>= max diag(L)``).

    Yields
    ------
    t : float
    H : ndarray of shape (n, k)

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.linalg import expm
    >>> from manigeo.graphs import laplacian
    >>> from manigeo.heat import heat_columns
    >>> L = laplacian(np.ones((4, 4)) - np.eye(4), kind="symmetric")
    >>> B = np.eye(4)[:, :1]
    >>> [(t, bool(np.allclose(H, expm(-t * L.toarray())[:, :1])))
    ...  for t, H in heat_columns(L, B, [0.5, 2.0])]
    [(0.5, True), (2.0, True)]
    """
    L, c = _check_uniformizable(L, c)
    n = L.shape[0]
    times, _ = _check_times(times, name="times")
    if np.any(np.diff(times) < 0):
        raise ValueError(f"times must be increasing, got {times}")
    check_numeric_dtype(block, name="block")
    B = np.asarray(block.toarray() if sp.issparse(block) else block)
    if B.ndim != 2 or B.shape[0] != n:
        raise ValueError(f"block must have shape ({n}, k), got {B.shape}")
    if not np.all(np.isfinite(B)):
        raise ValueError("block contains NaN or infinite values")
    if n_terms is not None:
        terms = np.asarray(n_terms)
        if terms.dtype.kind not in "iu":
            raise TypeError(
                f"n_terms must be an int or a sequence of ints, got {n_terms!r}"
            )
        if terms.ndim > 1 or (terms.ndim == 1 and terms.shape != times.shape):
            raise ValueError(
                f"n_terms must be an int or one int per time ({times.size}), "
                f"got shape {terms.shape}"
            )
        if terms.size and terms.min() < 0:
            raise ValueError(f"n_terms must be non-negative, got {n_terms!r}")
    return _columns(L, B, times, n_terms=n_terms, c=c)


#: terms summed by one product in :func:`_columns` (at most this many, and
#: at most ``_CHUNK_BYTES`` of stacked terms)
_CHUNK_TERMS = 32
_CHUNK_BYTES = 32 * 2**20
_CHUNK_MIN = 4


def _uniformized(L, c=None):
    """``(I - L / c, c)``: the walk of the uniformized series of ``exp(-t L)``
    at rate ``c`` (default: the largest diagonal entry of ``L``), its
    round-off negatives cleared, sorted CSR."""
    if c is None:
        diag = L.diagonal()
        c = float(diag.max()) if diag.size else 0.0
    c = max(float(c), 1e-300)
    M = sp.csr_array(sp.eye_array(L.shape[0], format="csr") - L / c)
    M.data[M.data < 0] = 0.0  # round-off only
    M.eliminate_zeros()
    M.sort_indices()
    return M, c


def _columns(L, block, times, *, n_terms=None, c=None, progress=None):
    """:func:`heat_columns` of validated input (a generator).

    ``progress``: called with no argument after each term (a progress bar).
    """
    from scipy.special import gammaln

    times = np.asarray(times, dtype=np.float64)
    M, c = _uniformized(L, c)
    if n_terms is None:
        n_terms = [poisson_terms(t, c) for t in times]
    n_terms = np.broadcast_to(np.asarray(n_terms, dtype=np.int64), times.shape)
    x = times * c
    logx = np.log(np.maximum(x, 1e-300))
    P = np.array(block, dtype=np.float64, order="C")
    shape, size = P.shape, P.size
    # the terms are summed in chunks, all pending times at once: one product
    # (Poisson weights x stacked terms) instead of an axpy per time and term;
    # blocks too large for a chunk of _CHUNK_MIN terms: one axpy in place
    chunk = int(min(_CHUNK_TERMS, _CHUNK_BYTES // max(8 * size, 1)))
    stack = np.empty((chunk, size)) if chunk >= _CHUNK_MIN else None
    acc = np.zeros((len(times), size))
    done = np.zeros(len(times), dtype=bool)
    ks = []
    k = 0
    while True:
        finishing = ~done & (n_terms <= k)
        if stack is None:
            for i in np.flatnonzero(~done):
                w = float(np.exp(k * logx[i] - x[i] - gammaln(k + 1.0)))
                if w > 0:
                    blas.daxpy(P.ravel(), acc[i], a=w)
        else:
            stack[len(ks)] = P.ravel()
            ks.append(k)
            if len(ks) == chunk or finishing.any():
                idx = np.flatnonzero(~done)
                kk = np.asarray(ks, dtype=np.float64)
                logw = kk * logx[idx, None] - x[idx, None] - gammaln(kk + 1.0)
                acc[idx] += np.exp(logw) @ stack[: len(ks)]
                ks = []
        for i in np.flatnonzero(finishing):
            done[i] = True
            # a view: rows of acc are never written once done
            yield float(times[i]), acc[i].reshape(shape)
        if done.all():
            return
        k += 1
        P = M @ P
        if progress is not None:
            progress()


#: columns per block of :func:`_columns_at`: measured (Swiss roll, t = 128,
#: one core, nodes in reverse Cuthill-McKee order) 128 columns 1.15x faster
#: than 64 and 1.4x faster than 32 at n = 3000, 1.1x and 1.15x at n = 6000
_HORNER_WIDTH = 128
#: a single-precision block is recomputed in double precision where an entry
#: falls below this (in float32's frame, see :data:`_SINGLE_LIFT`): each of
#: the ``n_terms`` steps flushes values below float32's 1.2e-38 (whose sum
#: over a row of the walk is at most about that much), so the loss is below
#: ``n_terms * 1.2e-38``, 0.25% of 1e-33 at 206 terms (``d^2`` within
#: ``0.01 t``: 0.003% of the ``d^2`` of such an entry)
_SINGLE_FLOOR = 1e-33
#: the float32 sums carry the weights times this (the largest weight 1 before):
#: every entry is at most ``sum_k w_k / max_k w_k <= sqrt(2 pi t c) + 1``
#: times it (below float32's 3.4e38 for any ``t < 1e13``), so entries down to
#: ``1e-63`` of the largest weight stay above :data:`_SINGLE_FLOOR`: the tree
#: of ``bench_heatgeo.py`` at t = 2 reaches 1e-32, the Swiss roll at n = 6000
#: and t = 128 1e-35 (without it: recomputed in float64)
_SINGLE_LIFT = 2.0**100


def _columns_at(L, sources, t, n_terms, *, c=None, single=False, progress=None):
    """``exp(-t L)[:, sources]`` at one time, by Horner's rule.

    The uniformized series ``sum_k w_k (M / c)^k E`` (``w_k = Pois(k; t c)``,
    ``E`` the unit columns of ``sources``) as ``w_0 E + P (w_1 E + P (w_2 E +
    ...))``, ``P = M / c``: one sparse product per term and no accumulator (the
    positive series of :func:`_columns` keeps every term for every pending time:
    2.4 s against 1.56 s for 256 columns at n = 3000, t = 128), every step a
    sum of non-negative numbers (the same entrywise relative accuracy).
    Columns in blocks of :data:`_HORNER_WIDTH`.

    ``single``: products in float32 (the weights scaled so that the largest is
    :data:`_SINGLE_LIFT`, the sums in float32: relative error below
    ``n_terms * 6e-8``, measured 9e-7 at 206 terms; 1.55x faster than
    float64), a block recomputed in float64 where an entry falls below
    :data:`_SINGLE_FLOOR` or the largest exceeds 1e37 (out of float32's
    range), and so are the blocks after it.  ``progress``: called after each
    term of the first block.
    """
    from scipy.special import gammaln

    sources = np.asarray(sources)
    n = L.shape[0]
    M, c = _uniformized(L, c)
    K = int(n_terms)
    x = float(t) * c
    k = np.arange(K + 1, dtype=np.float64)
    logw = k * np.log(max(x, 1e-300)) - x - gammaln(k + 1.0)
    top = float(logw.max())
    w = np.exp(logw - top)
    M32 = M.astype(np.float32) if single else None
    out = np.empty((n, sources.size))

    def horner(src, dtype, P, wts, tick):
        cols = np.arange(src.size)
        acc = np.zeros((n, src.size), dtype=dtype)
        acc[src, cols] = wts[K]
        for j in range(K - 1, -1, -1):
            acc = P @ acc
            acc[src, cols] += wts[j]
            if tick is not None:
                tick()
        return acc

    for s in range(0, sources.size, _HORNER_WIDTH):
        src = sources[s : s + _HORNER_WIDTH]
        tick = progress if s == 0 else None
        if single:
            acc = horner(src, np.float32, M32, w * _SINGLE_LIFT, tick)
            if acc.min() >= _SINGLE_FLOOR and acc.max() <= 1e37:
                out[:, s : s + src.size] = acc
                out[:, s : s + src.size] *= 1.0 / _SINGLE_LIFT
                continue
            # out of range for this graph and time: the other blocks too
            single = False
        out[:, s : s + src.size] = horner(src, np.float64, M, w, tick)
    out *= np.exp(top)
    return out
