"""Classical and landmark multidimensional scaling."""

import numpy as np
from scipy.linalg import eigh

from .._validation import (
    check_int,
    check_node_indices,
    check_numeric_dtype,
    check_symmetric,
)


def _flip_signs(V):
    """Deterministic signs: the largest-magnitude entry of each column is positive."""
    idx = np.argmax(np.abs(V), axis=0)
    signs = np.sign(V[idx, np.arange(V.shape[1])])
    signs[signs == 0] = 1
    return V * signs


def _top_eigen(B, k):
    n = B.shape[0]
    w, V = eigh(B, subset_by_index=[n - k, n - 1])
    order = np.argsort(w)[::-1]
    return w[order], _flip_signs(V[:, order])


def _top_eigen_centered(D2, k):
    """Top-k eigenpairs of ``B = -J D2 J / 2`` (J the centring projector).

    Dense ``eigh`` for small ``n``; Lanczos on the implicit ``B`` otherwise
    (no second ``n x n`` array, ``O(n^2)`` per product).
    """
    n = D2.shape[0]
    if n <= max(4 * k + 2, 200):
        row = D2.mean(axis=0)
        B = -0.5 * (D2 - row[:, None] - row[None, :] + row.mean())
        return _top_eigen(B, k)
    from scipy.sparse.linalg import LinearOperator, eigsh

    def mv(x):
        x = np.asarray(x).reshape(n, -1)
        y = D2 @ (x - x.mean(axis=0))
        y -= y.mean(axis=0)
        return -0.5 * y

    op = LinearOperator((n, n), matvec=mv, matmat=mv, dtype=np.float64)
    v0 = np.ones(n) + np.sin(np.arange(n))  # deterministic start
    w, V = eigsh(op, k=k, which="LA", v0=v0, tol=1e-10)
    order = np.argsort(w)[::-1]
    return w[order], _flip_signs(V[:, order])


def _check_distances(D, name):
    """Finite non-negative real distances as a float64 array (any shape)."""
    check_numeric_dtype(D, name=name)
    D = np.asarray(D, dtype=np.float64)
    if not np.all(np.isfinite(D)):
        raise ValueError(
            f"{name} contains NaN or infinite distances (disconnected graph?)"
        )
    if np.any(D < 0):
        raise ValueError(f"{name} contains negative distances")
    return D


def _check_distance_matrix(D, name, what):
    """A square, symmetric, non-empty matrix of finite non-negative distances.

    Returns a symmetrised float64 copy (the caller's array is never modified).
    """
    check_numeric_dtype(D, name=name)
    D = np.asarray(D, dtype=np.float64)
    if D.ndim != 2:
        raise ValueError(
            f"{name} must be a square 2-D distance matrix, got shape {D.shape}"
        )
    D = check_symmetric(D, name=name, what=what)  # square, empty, NaN, symmetry
    return _check_distances(D, name)


def classical_mds(D, n_components=2, *, return_eigenvalues=False):
    """Classical (Torgerson) MDS of a full distance matrix.

    Parameters
    ----------
    D : array-like of shape (n, n)
        Symmetric distances.
    n_components : int, default=2
    return_eigenvalues : bool, default=False

    Returns
    -------
    Y : ndarray of shape (n, n_components)
        Coordinates; components with non-positive eigenvalues are zero.
    eigenvalues : ndarray of shape (n_components,), only if requested.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.spatial.distance import cdist
    >>> from manigeo.embedding import classical_mds
    >>> X = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 4.0]])
    >>> Y = classical_mds(cdist(X, X))
    >>> bool(np.allclose(cdist(Y, Y), cdist(X, X)))
    True
    """
    D = _check_distance_matrix(D, "D", "classical MDS")
    n = D.shape[0]
    k = check_int(n_components, "n_components", minimum=1, maximum=n)
    D2 = D**2
    w, V = _top_eigen_centered(D2, k)
    Y = V * np.sqrt(np.maximum(w, 0))
    return (Y, w) if return_eigenvalues else Y


def landmark_mds(D_landmarks, landmarks, n_components=2):
    """Landmark MDS (de Silva & Tenenbaum 2004) from landmark-to-all distances.

    Classical MDS on the ``m x m`` landmark block, then every point is placed
    by distance-based triangulation from its squared distances to the
    landmarks.  Cost O(m^2 n); no n x n array is formed.

    Parameters
    ----------
    D_landmarks : array-like of shape (m, n)
        Distances from each landmark to every point.
    landmarks : array-like of int of shape (m,)
        Index (column of ``D_landmarks``) of each landmark.
    n_components : int, default=2
        At most the number of positive eigenvalues of the landmark block.

    Returns
    -------
    Y : ndarray of shape (n, n_components)
        On the landmarks it equals classical MDS of the landmark block.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.spatial.distance import cdist
    >>> from manigeo.embedding import landmark_mds
    >>> X = np.random.default_rng(0).normal(size=(30, 2))
    >>> Y = landmark_mds(cdist(X[:5], X), np.arange(5))
    >>> bool(np.allclose(cdist(Y, Y), cdist(X, X)))
    True
    """
    D = _check_distances(D_landmarks, "D_landmarks")
    if D.ndim != 2:
        raise ValueError(f"D_landmarks must be 2-D (m, n), got shape {D.shape}")
    m, n = D.shape
    if np.ndim(landmarks) != 1 or np.shape(landmarks)[0] != m:
        raise ValueError(f"landmarks must have shape ({m},), got {np.shape(landmarks)}")
    landmarks = check_node_indices(landmarks, n, name="landmarks")
    k = check_int(n_components, "n_components", minimum=1, maximum=m)
    # the landmark-to-landmark block: symmetric unless landmarks is misordered
    block = check_symmetric(
        D[:, landmarks], name="D_landmarks[:, landmarks]", what="landmark MDS"
    )
    delta = block**2
    mean = delta.mean(axis=1)
    B = -0.5 * (delta - mean[:, None] - mean[None, :] + mean.mean())
    w, V = _top_eigen(B, k)
    pos = w > 1e-12 * max(w[0], 1e-300)
    if not pos.all():
        raise ValueError(
            f"the landmark block has only {int(pos.sum())} positive eigenvalues, "
            f"fewer than n_components={k}; use more landmarks or fewer components"
        )
    # mean_b delta_ab equals B_aa up to a constant: de Silva & Tenenbaum's form
    return _triangulate(D.T, V * np.sqrt(w), sq_norms=mean)


def _triangulate(D, Y_lm, sq_norms=None):
    """Distance-based triangulation (de Silva & Tenenbaum) in the frame of ``Y_lm``.

    For exact Euclidean distances ``d_a = |y - Y_a|`` the equations
    ``d_a^2 - |Y_a - mu|^2 = |y - mu|^2 - 2 (y - mu) . (Y_a - mu)``, centred
    over the landmarks ``a``, are solved for ``y`` in least squares.

    Parameters
    ----------
    D : ndarray of shape (n, m)
        Distances from each point to each landmark.
    Y_lm : ndarray of shape (m, k)
        Landmark coordinates (any frame: classical MDS, SMACOF, ...).
    sq_norms : ndarray of shape (m,) or None
        ``|Y_a - mu|^2`` up to a constant; landmark MDS passes the mean squared
        distance of each landmark, which is the de Silva-Tenenbaum formula.

    Returns
    -------
    Y : ndarray of shape (n, k)
    """
    P, offset = _triangulation_frame(Y_lm, sq_norms)
    return offset - 0.5 * (D**2) @ P


def _triangulation_frame(Y_lm, sq_norms=None):
    """``(P, offset)`` of :func:`_triangulate`: ``y = offset - 0.5 (d^2) @ P``.

    ``P = pinv(Y_lm - mu)ᵀ``; its columns sum to zero (the frame is centred),
    so centring the equations over the landmarks drops out, and
    ``offset = mu + 0.5 sq_norms @ P``.  For callers that fold the product
    with ``d^2`` into one of their own.
    """
    mu = Y_lm.mean(axis=0)
    Yc = Y_lm - mu
    if sq_norms is None:
        sq_norms = (Yc**2).sum(axis=1)
    P = np.linalg.pinv(Yc).T
    return P, mu + 0.5 * sq_norms @ P
