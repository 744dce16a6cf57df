"""Metric MDS by SMACOF (stress majorization, Guttman transform)."""

import numpy as np
from scipy.spatial.distance import cdist
from sklearn.utils import check_random_state

from .._validation import check_dense_size, check_int, check_numeric_dtype
from ._mds import _check_distance_matrix, classical_mds

#: entries per block of rows of the Guttman transform (2 MB: the block's
#: distances, divided, summed and multiplied while in cache)
_BLOCK_ENTRIES = 1 << 18


def smacof(
    D,
    n_components=2,
    *,
    init="classical",
    weights=None,
    max_iter=300,
    tol=1e-5,
    random_state=None,
    verbose=False,
    return_stress=False,
    max_dense_bytes=None,
):
    """Metric MDS by stress majorization (SMACOF, de Leeuw 1977).

    Minimizes the raw stress ``sum_{i<j} w_ij (||y_i - y_j|| - D_ij)^2`` by
    Guttman transforms ``Y <- V^+ B(Y) Y``, which never increase the stress.
    Without weights ``V^+ = I / n`` and each iteration is two dense
    ``n x n`` passes; with point masses ``c`` (``w_ij = c_i c_j``) ``V`` is
    ``sum(c) diag(c) - c c^T`` and the transform is a division by
    ``sum(c) c_i`` (same cost); with a weight matrix ``V^+`` is the
    pseudo-inverse of the weighted Laplacian, computed once.

    Parameters
    ----------
    D : array-like of shape (n, n)
        Symmetric non-negative dissimilarities, zero diagonal.
    n_components : int, default=2
        Embedding dimension.
    init : {"classical", "random"} or array-like of shape (n, n_components), \
            default="classical"
        Starting configuration: classical (Torgerson) MDS of ``D`` -- the
        deterministic default --, a random Gaussian one scaled to ``D``
        (uses ``random_state``), or given coordinates.
    weights : array-like of shape (n, n) or (n,), or None, default=None
        Non-negative symmetric pair weights (``None``: all ones), or positive
        point masses ``c`` meaning ``w_ij = c_i c_j`` (e.g. the number of
        samples each landmark stands for).
    max_iter : int, default=300
        Maximum number of Guttman transforms.
    tol : float, default=1e-5
        Stop when the relative decrease of the stress is below ``tol``.
    random_state : int, RandomState instance or None, default=None
        Seed for ``init="random"``.
    verbose : bool, default=False
        Show a progress bar (tqdm).
    return_stress : bool, default=False
        Also return the final normalized stress
        ``sqrt(stress / sum_{i<j} w_ij D_ij^2)`` (Kruskal stress-1) and the
        number of iterations.
    max_dense_bytes : int or None, default=None
        Ceiling for the dense ``n x n`` work arrays.

    Returns
    -------
    Y : ndarray of shape (n, n_components)
        Centred coordinates.
    stress : float, only if ``return_stress``
    n_iter : int, only if ``return_stress``

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.spatial.distance import cdist
    >>> from manigeo.embedding import smacof
    >>> X = np.random.default_rng(0).normal(size=(20, 2))
    >>> Y, stress, _ = smacof(cdist(X, X), return_stress=True)
    >>> bool(stress < 1e-4)
    True
    """
    D = _check_distance_matrix(D, "D", "SMACOF")  # a symmetrised copy
    n = D.shape[0]
    if n < 2:
        raise ValueError(f"D must have at least 2 points, got {n}")
    k = check_int(n_components, "n_components", minimum=1, maximum=n)
    max_iter = check_int(max_iter, "max_iter", minimum=0)
    tol = float(tol)
    if not tol >= 0:
        raise ValueError(f"tol must be non-negative, got {tol}")
    check_dense_size(
        n,
        n,
        max_bytes=max_dense_bytes,
        what="SMACOF distance matrix",
        hint="embed landmarks only (landmark MDS)",
    )
    np.fill_diagonal(D, 0.0)

    masses = None
    if weights is not None:
        check_numeric_dtype(weights, name="weights")
        Wt = np.asarray(weights, dtype=np.float64)
        if Wt.ndim == 1 and Wt.shape == (n,):
            if not np.all(np.isfinite(Wt)) or np.any(Wt <= 0):
                raise ValueError("point-mass weights must be finite and positive")
            masses = Wt
            Wt = np.outer(masses, masses)
        elif Wt.shape != D.shape:
            raise ValueError(
                f"weights must have shape {D.shape} or ({n},), got {Wt.shape}"
            )
        if not np.all(np.isfinite(Wt)) or np.any(Wt < 0):
            raise ValueError("weights must be finite and non-negative")
        Wt = 0.5 * (Wt + Wt.T)
        np.fill_diagonal(Wt, 0.0)
        if masses is None:
            V = -Wt.copy()
            np.fill_diagonal(V, Wt.sum(axis=1))
            Vpinv = np.linalg.pinv(V + 1.0 / n) - 1.0 / n  # V^+ (ones null space)
        WD = Wt * D
    else:
        Wt = None
        WD = D

    if isinstance(init, str):
        if init == "classical":
            Y = classical_mds(D, k)
        elif init == "random":
            rng = check_random_state(random_state)
            Y = rng.normal(size=(n, k)) * (np.sqrt((D**2).mean() / (2 * k)))
        else:
            raise ValueError(
                f"init must be 'classical', 'random' or an array, got {init!r}"
            )
    else:
        Y = np.array(init, dtype=np.float64)
        if Y.shape != (n, k):
            raise ValueError(f"init must have shape ({n}, {k}), got {Y.shape}")
        if not np.all(np.isfinite(Y)):
            raise ValueError("init contains NaN or infinite values")
    Y = Y - Y.mean(axis=0)
    if not np.any(Y):
        # degenerate start (e.g. classical MDS of an all-zero matrix)
        rng = check_random_state(random_state)
        Y = rng.normal(size=(n, k)) * 1e-6

    norm = float((WD * D).sum()) / 2.0
    iterator = range(max_iter)
    if verbose:
        from tqdm.auto import tqdm

        iterator = tqdm(iterator, desc="SMACOF")
    old = np.inf
    n_iter = 0
    if masses is not None:
        total = float(masses.sum())
    block = max(1, _BLOCK_ENTRIES // n)
    for n_iter in iterator:  # noqa: B007
        # Guttman transform: B_ij = -w_ij D_ij / dist_ij, B_ii = -sum_j B_ij,
        # by blocks of rows that stay in cache (the n x n distances are never
        # written to memory at once: one read of WD per iteration)
        BY = np.empty_like(Y)
        for lo in range(0, n, block):
            hi = min(n, lo + block)
            dist = cdist(Y[lo:hi], Y)
            dist[np.arange(hi - lo), np.arange(lo, hi)] = 1.0
            np.maximum(dist, 1e-300, out=dist)
            np.divide(WD[lo:hi], dist, out=dist)
            BY[lo:hi] = dist.sum(axis=1)[:, None] * Y[lo:hi] - dist @ Y
        # raw stress = (sum w dist^2 - 2 sum w D dist) / 2 + norm, without a
        # pass over the pairs: sum w D dist = 2 tr(Y^T B Y), and sum w dist^2
        # = 2 tr(Y^T V Y) in closed form (V = n I - 1 1^T, or C diag(c) -
        # c c^T for point masses)
        rho = 2.0 * float(np.einsum("ij,ij->", Y, BY))
        if masses is not None:
            cy = masses @ Y
            eta = 2.0 * (total * float(masses @ (Y * Y).sum(axis=1)) - float(cy @ cy))
        elif Wt is not None:
            eta = 2.0 * float(np.einsum("ij,ij->", Y, V @ Y))
        else:
            c = Y.sum(axis=0)
            eta = 2.0 * n * float(np.einsum("ij,ij->", Y, Y)) - 2.0 * float(c @ c)
        stress = 0.5 * (eta - 2.0 * rho) + norm
        if np.isfinite(old) and old - stress <= tol * max(old, 1e-300):
            break
        old = stress
        if masses is not None:
            # V Y = B Y with V = C diag(c) - c c^T: the solution with c^T Y = 0
            Y = BY / (total * masses)[:, None]
        elif Wt is not None:
            Y = Vpinv @ BY
        else:
            Y = BY / n
    else:
        n_iter = max_iter
    if masses is not None:
        Y -= Y.mean(axis=0)  # the iterates are centred at the weighted mean
    if return_stress:
        dist = cdist(Y, Y)
        diff = dist - D
        raw = float(((Wt if Wt is not None else 1.0) * diff * diff).sum()) / 2.0
        return Y, float(np.sqrt(raw / max(norm, 1e-300))), n_iter
    return Y
