"""Local PCA tangent frames and orthogonal (Procrustes) transports between them."""

import numpy as np
import scipy.sparse as sp
from sklearn.neighbors import NearestNeighbors

from .._validation import check_int, check_points

#: bytes of the (batch, k, p) neighbourhood array processed at once
_CHUNK_BYTES = 64 * 1024**2


def _neighbourhood_rows(neighbors, n):
    """Return ``(indptr, indices)`` of the neighbourhoods (row i = neighbours of i)."""
    if sp.issparse(neighbors):
        N = sp.csr_array(neighbors)
        if N.shape != (n, n):
            raise ValueError(
                f"neighbors must be an (n_samples, n_samples) = ({n}, {n}) "
                f"adjacency matrix, got shape {N.shape}"
            )
        N.sum_duplicates()
        N.sort_indices()
        return N.indptr.astype(np.int64), N.indices.astype(np.int64)
    ind = np.asarray(neighbors)
    if ind.ndim != 2 or ind.shape[0] != n:
        raise ValueError(
            "neighbors must be an (n_samples, k) array of neighbour indices or an "
            f"(n_samples, n_samples) sparse adjacency, got shape {ind.shape}"
        )
    if not np.issubdtype(ind.dtype, np.integer):
        raise TypeError(f"neighbor indices must be integers, got dtype {ind.dtype}")
    if ind.size and (ind.min() < 0 or ind.max() >= n):
        raise ValueError(f"neighbor indices must lie in [0, {n})")
    k = ind.shape[1]
    return np.arange(0, n * k + 1, k, dtype=np.int64), ind.reshape(-1).astype(np.int64)


def _pad_neighbourhoods(X, indptr, indices, minimum):
    """Pad rows with fewer than ``minimum`` entries by the Euclidean-nearest
    non-neighbours (never the point itself)."""
    n = X.shape[0]
    lengths = np.diff(indptr)
    short = np.flatnonzero(lengths < minimum)
    if short.size == 0:
        return indptr, indices
    if n - 1 < minimum:
        raise ValueError(
            f"a {minimum}-dimensional frame needs at least {minimum} neighbours, "
            f"but there are only {n} points"
        )
    k_query = min(n, minimum + int(lengths[short].max()) + 1)
    nn = NearestNeighbors(n_neighbors=k_query).fit(X)
    _, cand = nn.kneighbors(X[short])
    rows = [indices[indptr[i] : indptr[i + 1]] for i in range(n)]
    for i, c in zip(short, cand, strict=False):
        have = set(rows[i].tolist())
        have.add(int(i))
        extra = [j for j in c.tolist() if j not in have][: minimum - len(rows[i])]
        rows[i] = np.concatenate([rows[i], np.asarray(extra, dtype=np.int64)])
    lengths = np.array([len(r) for r in rows], dtype=np.int64)
    new_indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=new_indptr[1:])
    return new_indptr, np.concatenate(rows).astype(np.int64)


def _complete_frames(F, ok):
    """Complete frames whose columns ``~ok`` are undefined (rank-deficient
    neighbourhoods) to orthonormal ones, deterministically: Gram-Schmidt of the
    standard basis vectors, in order, against the defined columns (O(p r^2) per
    frame; a QR of a ``p x (p + r)`` matrix took seconds for p = 1703)."""
    p = F.shape[1]
    for i in np.flatnonzero(~ok.all(axis=1)):
        basis = [F[i][:, c] for c in np.flatnonzero(ok[i])]
        for c in np.flatnonzero(~ok[i]):
            for k in range(p):
                v = np.zeros(p)
                v[k] = 1.0
                for _ in range(2):  # twice is enough (Kahan)
                    for b in basis:
                        v -= (b @ v) * b
                norm = np.linalg.norm(v)
                if norm > 0.5:  # e_k is far from the span: a stable new direction
                    break
            v /= norm
            basis.append(v)
            F[i][:, c] = v
    return F


def _pca_group(X, centers, nbrs, n_frames):
    """Local PCA of one batch of equal-size neighbourhoods.

    Returns frames (b, p, n_frames) and variances (b, min(p, k)), descending.
    """
    Y = np.take(X, nbrs, axis=0) - np.take(X, centers, axis=0)[:, None, :]  # (b, k, p)
    b, k, p = Y.shape
    if p <= k:  # p x p covariance
        C = np.matmul(Y.transpose(0, 2, 1), Y)
        w, V = np.linalg.eigh(C)
        w = np.clip(w[:, ::-1], 0.0, None)
        frames = V[:, :, ::-1][:, :, :n_frames] if n_frames else None
        return frames, w
    # Gram trick: k x k, then map the eigenvectors back to R^p
    G = np.matmul(Y, Y.transpose(0, 2, 1))
    w, U = np.linalg.eigh(G)
    w = np.clip(w[:, ::-1], 0.0, None)
    if not n_frames:
        return None, w
    U = U[:, :, ::-1][:, :, :n_frames]
    lam = w[:, :n_frames]
    tol = 1e-10 * np.maximum(w[:, :1], 1e-300)
    ok = lam > tol
    scale = np.where(ok, 1.0 / np.sqrt(np.where(ok, lam, 1.0)), 0.0)
    frames = np.matmul(Y.transpose(0, 2, 1), U) * scale[:, None, :]
    if not ok.all():
        frames = _complete_frames(frames, ok)
    return frames, w


def local_pca(X, neighbors, n_components=2):
    """Local PCA tangent frames of a point cloud on given neighbourhoods.

    For each point :math:`x_i` the neighbourhood offsets
    :math:`x_j - x_i, j \\in N(i)` (centred at the point, unweighted, as in
    Barbero et al.) are decomposed; the frame is the top ``n_components`` left
    singular vectors.  Batched over neighbourhoods of equal size; the
    ``p x p`` covariance is used when ``p <= |N(i)|``, the ``|N(i)| x |N(i)|``
    Gram matrix otherwise (the Gram trick, for high-dimensional features).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Points (or node features).
    neighbors : ndarray of shape (n_samples, k) or sparse matrix
        Neighbour indices per point, or an ``(n_samples, n_samples)``
        adjacency whose row ``i`` lists the
        neighbourhood of ``i`` (e.g. the 1-hop neighbourhood in a graph).
        Neighbourhoods with fewer than ``n_components`` points are padded with
        the Euclidean-nearest non-neighbours.
    n_components : int, default=2
        Frame dimension ``d`` (``<= n_features``).

    Returns
    -------
    frames : ndarray of shape (n_samples, n_features, n_components)
        Orthonormal columns (orientation arbitrary: a frame may be any element
        of O(d) times the principal directions).
    variances : ndarray of shape (n_samples, r)
        Local PCA eigenvalues in decreasing order, zero-padded to
        ``r = min(n_features, max |N(i)|)``.

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo.sheaf import local_pca
    >>> t = np.linspace(0, 1, 20)
    >>> X = np.c_[t, 2 * t, np.zeros(20)]          # a line in R^3
    >>> ind = np.array([[max(i - 1, 0) if i else 2, min(i + 1, 19)] for i in range(20)])
    >>> frames, var = local_pca(X, ind, n_components=1)
    >>> np.allclose(np.abs(frames[5, :, 0]), [1, 2, 0] / np.sqrt(5))
    True
    """
    X = check_points(X, min_samples=2)
    n, p = X.shape
    n_components = check_int(n_components, "n_components", minimum=1)
    if n_components > p:
        raise ValueError(f"n_components={n_components} must not exceed n_features={p}")
    indptr, indices = _neighbourhood_rows(neighbors, n)
    frames, variances = _local_pca(X, indptr, indices, n_components)
    return frames, variances


def _n_workers(n_jobs):
    """Number of joblib workers (``None``: 1, or the active
    ``joblib.parallel_backend``'s; negative counts from the CPUs)."""
    from joblib import effective_n_jobs

    return max(1, int(effective_n_jobs(n_jobs)))


def _run_blocks(func, items, n_jobs):
    """``[func(*item) for item in items]``, through joblib when ``n_jobs`` asks
    for more than one worker (threads by default: the numpy kernels release
    the GIL; ``joblib.parallel_backend`` may choose another backend)."""
    if _n_workers(n_jobs) == 1 or len(items) < 2:
        return [func(*item) for item in items]
    from joblib import Parallel, delayed

    return Parallel(n_jobs=n_jobs, prefer="threads")(
        delayed(func)(*item) for item in items
    )


def _local_pca(X, indptr, indices, n_frames, n_jobs=None):
    n, p = X.shape
    indptr, indices = _pad_neighbourhoods(X, indptr, indices, max(n_frames, 1))
    lengths = np.diff(indptr)
    r = int(min(p, lengths.max())) if n else 0
    frames = np.zeros((n, p, n_frames)) if n_frames else None
    variances = np.zeros((n, r))
    workers = _n_workers(n_jobs)
    items = []
    for k in np.unique(lengths):
        rows = np.flatnonzero(lengths == k)
        chunk = max(1, int(_CHUNK_BYTES // (8 * k * max(p, k) * 2)))
        if workers > 1:  # at least one block per worker
            chunk = min(chunk, -(-rows.size // workers))
        for s in range(0, rows.size, chunk):
            rr = rows[s : s + chunk]
            items.append((X, rr, indices[indptr[rr][:, None] + np.arange(k)], n_frames))
    for (_, rr, _, _), (F, w) in zip(
        items, _run_blocks(_pca_group, items, n_jobs), strict=True
    ):
        if n_frames:
            frames[rr] = F
        m = min(r, w.shape[1])
        variances[rr, :m] = w[:, :m]
    return frames, variances


def _transports(frames, i, j, n_jobs=None):
    """Procrustes transports ``polar(frames[i]^T frames[j])``, in edge blocks
    (one per worker when ``n_jobs`` asks for several)."""
    m = i.shape[0]
    workers = _n_workers(n_jobs)
    if workers == 1 or m < 2:
        return polar_factor(_frame_products(frames, i, j))
    bounds = np.linspace(0, m, workers + 1).astype(np.int64)
    items = [
        (frames, i[a:b], j[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    return np.concatenate(_run_blocks(_transport_block, items, n_jobs))


def _transport_block(frames, i, j):
    return polar_factor(_frame_products(frames, i, j))


def estimate_dimension(variances, threshold=0.9):
    """Intrinsic dimension from local PCA variances (explained-variance rule).

    Each point's dimension is the smallest ``d`` whose top-``d`` local PCA
    eigenvalues explain at least ``threshold`` of its neighbourhood's variance
    (Singer and Wu's rule); the estimate is the median over points, rounded up.

    Parameters
    ----------
    variances : ndarray of shape (n_samples, r)
        Decreasing local PCA eigenvalues (as returned by :func:`local_pca`).
    threshold : float, default=0.9
        Fraction of variance to explain, in (0, 1].

    Returns
    -------
    dimension : int
    per_point : ndarray of shape (n_samples,)
    """
    variances = np.asarray(variances, dtype=np.float64)
    if variances.ndim != 2 or variances.shape[1] == 0:
        raise ValueError(
            "variances must have shape (n_samples, r) with r >= 1, got "
            f"{variances.shape}"
        )
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    total = variances.sum(axis=1, keepdims=True)
    ratio = np.cumsum(variances, axis=1) / np.where(total > 0, total, 1.0)
    per_point = 1 + np.sum(ratio < threshold * (1 - 1e-12), axis=1)
    per_point = np.minimum(per_point, variances.shape[1])
    return int(np.ceil(np.median(per_point))), per_point


# ----------------------------------------------------------------------------
# transports
# ----------------------------------------------------------------------------
def polar_factor(M):
    """Orthogonal polar factor ``U V^T`` of a batch of square matrices ``M = U S V^T``.

    The closest orthogonal matrix in Frobenius norm (orthogonal Procrustes).
    Closed form for ``d = 1`` (the sign) and ``d = 2``; batched SVD otherwise.

    Parameters
    ----------
    M : ndarray of shape (m, d, d)

    Returns
    -------
    O : ndarray of shape (m, d, d)
        In O(d): reflections (``det = -1``) are kept, not forced to SO(d).
    """
    M = np.asarray(M, dtype=np.float64)
    if M.ndim != 3 or M.shape[1] != M.shape[2]:
        raise ValueError(f"M must have shape (m, d, d), got {M.shape}")
    d = M.shape[1]
    if d == 1:
        return np.where(M < 0, -1.0, 1.0)
    if d == 2:
        a, b, c, e = M[:, 0, 0], M[:, 0, 1], M[:, 1, 0], M[:, 1, 1]
        s = np.where(a * e - b * c < 0, -1.0, 1.0)
        # M + sign(det M) cof(M) = Q * trace(P) for M = Q P (2 x 2 identity)
        q00, q01, q10, q11 = a + s * e, b - s * c, c - s * b, e + s * a
        norm = np.sqrt(q00 * q00 + q10 * q10)
        bad = norm <= 1e-300
        norm = np.where(bad, 1.0, norm)
        Q = np.empty_like(M)
        Q[:, 0, 0], Q[:, 0, 1] = q00 / norm, q01 / norm
        Q[:, 1, 0], Q[:, 1, 1] = q10 / norm, q11 / norm
        if bad.any():  # M == 0: any orthogonal matrix is closest
            Q[bad] = np.eye(2)
        return Q
    U, _, Vt = np.linalg.svd(M)
    return np.matmul(U, Vt)


def _frame_products(frames, i, j, chunk=1 << 18):
    """``frames[i]^T frames[j]`` for index arrays i, j, chunked over pairs."""
    m = i.shape[0]
    p, d = frames.shape[1], frames.shape[2]
    out = np.empty((m, d, d))
    chunk = max(1, min(chunk, int(_CHUNK_BYTES // (8 * p * d * 2))))
    for s in range(0, m, chunk):
        a = np.take(frames, i[s : s + chunk], axis=0)
        b = np.take(frames, j[s : s + chunk], axis=0)
        if p * d <= 64:
            for r in range(d):
                for c in range(d):
                    out[s : s + chunk, r, c] = np.einsum(
                        "ep,ep->e", a[:, :, r], b[:, :, c]
                    )
        else:
            out[s : s + chunk] = np.matmul(a.transpose(0, 2, 1), b)
    return out


def procrustes_transports(frames, edge_index):
    """Orthogonal transports :math:`O_{ij} = U V^T`, :math:`O_i^T O_j = U \\Sigma V^T`.

    ``O_ij`` maps coordinates in the frame of ``j`` to coordinates in the frame
    of ``i`` (orthogonal Procrustes alignment of the two tangent frames).

    Parameters
    ----------
    frames : ndarray of shape (n_nodes, n_features, d)
        Orthonormal frames (e.g. from :func:`local_pca`).
    edge_index : array-like of shape (2, n_edges)
        Pairs ``(i, j)``.  Any set of pairs; for a bidirectional edge_index,
        :class:`manigeo.ConnectionLaplacian` computes each undirected edge once
        and transposes (``O_ji = O_ij^T``).

    Returns
    -------
    transports : ndarray of shape (n_edges, d, d)
        In O(d) (reflections included).
    """
    frames = np.asarray(frames, dtype=np.float64)
    if frames.ndim != 3:
        raise ValueError(
            f"frames must have shape (n_nodes, n_features, d), got {frames.shape}"
        )
    edge_index = np.asarray(edge_index)
    if edge_index.ndim != 2 or edge_index.shape[0] != 2:
        raise ValueError(
            f"edge_index must have shape (2, n_edges), got {edge_index.shape}"
        )
    n_nodes = frames.shape[0]
    if edge_index.size and (edge_index.min() < 0 or edge_index.max() >= n_nodes):
        raise ValueError(f"edge_index holds node indices outside [0, {n_nodes})")
    i, j = edge_index.astype(np.int64)
    return polar_factor(_frame_products(frames, i, j))


def transport_maps(edge_index, transports):
    """Restriction maps (PyG convention) realising given transports.

    For the directed edge ``e = (u, v)`` of a bidirectional edge_index,
    ``maps[e] = F_{u<e}`` with ``F_{u<e} = I`` when ``u < v`` and
    ``F_{u<e} = O_{vu} = transports[e]^T`` when ``u > v``, so that
    ``F_{u<e}^T F_{v<e} = O_{uv}`` for every edge: the Laplacian block
    ``L_uv = -O_uv`` is the transport itself (not its square, a mistake made by
    a published reimplementation that sets both maps to ``O``).

    Parameters
    ----------
    edge_index : array-like of shape (2, n_edges)
    transports : ndarray of shape (n_edges, d, d)
        ``transports[e]`` is ``O_{src dst}`` (stalk of dst to stalk of src).

    Returns
    -------
    maps : ndarray of shape (n_edges, d, d)
    """
    edge_index = np.asarray(edge_index)
    transports = np.asarray(transports, dtype=np.float64)
    if transports.ndim != 3 or transports.shape[0] != edge_index.shape[-1]:
        raise ValueError(
            f"transports must have shape (n_edges, d, d) aligned with edge_index, "
            f"got {transports.shape}"
        )
    d = transports.shape[1]
    upper = edge_index[0] > edge_index[1]
    maps = transports.transpose(0, 2, 1).copy()
    lower = np.flatnonzero(~upper)
    maps.reshape(-1, d * d)[lower] = np.eye(d).reshape(-1)
    return maps
