"""Shared input checks used by every public function and estimator.

Every check raises a ``ValueError`` or ``TypeError`` that names the offending
property (NaN, asymmetry, negative weights, non-SPD matrices, a dense n x n that
would not fit in memory, ...), so that bad input never reaches NumPy/SciPy
internals or silently produces a wrong answer.
"""

from numbers import Integral

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph
from sklearn.utils import (
    check_array,
    check_random_state,  # noqa: F401  (re-exported)
)

from ._array import is_torch

#: Default ceiling for any dense array manigeo builds on its own initiative
#: (an n x n distance or kernel matrix).  Functions take ``max_dense_bytes=`` to
#: override it per call.  2 GiB = a float64 16384 x 16384 matrix.
MAX_DENSE_BYTES = 2 * 1024**3

_SYMMETRIZE = ("raise", "max", "min", "mean", "ignore")
_SELF_LOOPS = ("remove", "raise", "keep")


def _format_bytes(nbytes):
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if nbytes < 1024 or unit == "TiB":
            return f"{nbytes:.1f} {unit}"
        nbytes /= 1024


def check_dense_size(
    n_rows, n_cols, *, itemsize=8, max_bytes=None, what="array", hint=None
):
    """Raise a ValueError if a dense ``n_rows x n_cols`` array would be too large.

    Parameters
    ----------
    n_rows, n_cols : int
        Shape of the dense array about to be built.
    itemsize : int, default=8
        Bytes per entry (8 for float64).
    max_bytes : int or None, default=None
        Ceiling in bytes; ``None`` uses :data:`MAX_DENSE_BYTES`.
    what : str, default="array"
        Name of the array, used in the message.
    hint : str or None, default=None
        What to do instead (for example "pass n_landmarks=...").
    """
    max_bytes = MAX_DENSE_BYTES if max_bytes is None else max_bytes
    nbytes = int(n_rows) * int(n_cols) * int(itemsize)
    if nbytes > max_bytes:
        msg = (
            f"a dense {n_rows} x {n_cols} {what} would take {_format_bytes(nbytes)}, "
            f"above the limit of {_format_bytes(max_bytes)} (max_dense_bytes)"
        )
        if hint:
            msg += f"; {hint}"
        raise ValueError(msg)
    return nbytes


def check_points(X, *, name="X", min_samples=1, dtype=np.float64, ensure_2d=True):
    """Validate a point cloud: a finite 2-D float array (n_samples, n_features).

    Torch tensors are moved to numpy.  NaN and inf raise a ValueError.
    """
    if is_torch(X):
        X = X.detach().cpu().numpy()
    if sp.issparse(X):
        raise TypeError(f"{name} must be a dense array of points, got a sparse matrix")
    return check_array(
        X,
        dtype=dtype,
        ensure_2d=ensure_2d,
        ensure_min_samples=min_samples,
        ensure_all_finite=True,
        input_name=name,
    )


def check_int(value, name, *, minimum=None, maximum=None):
    """Validate an integer parameter (bools are rejected)."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return int(value)


def check_node_indices(indices, n, *, name="sources"):
    """Validate node indices of an ``n``-node graph; return them in ``[0, n)``.

    Accepts an int or a 1-D integer array-like; negative indices count from
    the end, as in NumPy.  Raises a TypeError for non-integers and a
    ValueError naming the range for out-of-range indices.
    """
    idx = np.atleast_1d(np.asarray(indices))
    if idx.ndim != 1 or not (
        np.issubdtype(idx.dtype, np.integer) or (idx.size == 0 and idx.dtype == float)
    ):
        raise TypeError(f"{name} must be a 1-D array of integer node indices")
    idx = idx.astype(np.intp, copy=False)
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise ValueError(
            f"{name} must be node indices in [0, {n}), got values in "
            f"[{idx.min()}, {idx.max()}]"
        )
    return idx % n if idx.size else idx


def _torch_sparse_to_scipy(A):
    import torch

    if A.layout == torch.sparse_coo:
        A = A.coalesce()
        idx = A.indices().cpu().numpy()
        val = A.values().detach().cpu().numpy()
        return sp.coo_array((val, (idx[0], idx[1])), shape=tuple(A.shape)).tocsr()
    if A.layout == torch.sparse_csr:
        return sp.csr_array(
            (
                A.values().detach().cpu().numpy(),
                A.col_indices().cpu().numpy(),
                A.crow_indices().cpu().numpy(),
            ),
            shape=tuple(A.shape),
        )
    if A.layout == torch.strided:
        return A.detach().cpu().numpy()
    raise TypeError(f"unsupported torch layout {A.layout} for an adjacency matrix")


def as_sparse_matrix(A, *, name="adjacency"):
    """Convert scipy.sparse (any format), dense arrays, networkx graphs and torch
    (sparse or dense) tensors to a ``scipy.sparse.csr_array`` of float64.

    No validation beyond the conversion; see :func:`check_adjacency`.
    """
    if is_torch(A):
        A = _torch_sparse_to_scipy(A)
    else:
        try:
            import networkx as nx
        except ImportError:  # pragma: no cover
            nx = None
        if nx is not None and isinstance(A, nx.Graph):
            A = nx.to_scipy_sparse_array(A, weight="weight", format="csr")
    if sp.issparse(A):
        # always a copy: the checks below edit the matrix (diagonal, explicit
        # zeros, sorting) and must never touch the caller's arrays
        A = sp.csr_array(A, dtype=np.float64, copy=True)
    else:
        A = np.asarray(A)
        if A.dtype == object:
            raise TypeError(f"{name} must be numeric, got dtype=object")
        if A.ndim != 2:
            raise ValueError(f"{name} must be a 2-D matrix, got ndim={A.ndim}")
        A = sp.csr_array(A.astype(np.float64, copy=False))
    A.sum_duplicates()
    return A


def check_adjacency(
    A,
    *,
    name="adjacency",
    binary=False,
    symmetric="raise",
    self_loops="remove",
    nonnegative=True,
    min_nodes=1,
):
    """Validate an adjacency / weight matrix and return it as a CSR array.

    Parameters
    ----------
    A : sparse matrix, array-like, networkx graph or torch tensor of shape (n, n)
        The graph.
    name : str, default="adjacency"
        Name used in error messages.
    binary : bool, default=False
        If True, every stored weight must be 0 or 1 (a 0/1 adjacency matrix).
    symmetric : {"raise", "max", "min", "mean", "ignore"}, default="raise"
        What to do when ``A`` is not symmetric: raise a ValueError, symmetrize
        by the element-wise max (union of edges), min (mutual edges) or mean,
        or accept a directed graph as is.
    self_loops : {"remove", "raise", "keep"}, default="remove"
        What to do with non-zero diagonal entries.
    nonnegative : bool, default=True
        Reject negative weights.
    min_nodes : int, default=1
        Minimum number of nodes.

    Returns
    -------
    A : scipy.sparse.csr_array of shape (n, n), float64
        Canonical CSR (sorted indices, no duplicates, no explicit zeros).
    """
    if symmetric not in _SYMMETRIZE:
        raise ValueError(f"symmetric must be one of {_SYMMETRIZE}, got {symmetric!r}")
    if self_loops not in _SELF_LOOPS:
        raise ValueError(f"self_loops must be one of {_SELF_LOOPS}, got {self_loops!r}")
    A = as_sparse_matrix(A, name=name)
    n, m = A.shape
    if n != m:
        raise ValueError(f"{name} must be square, got shape {A.shape}")
    if n < min_nodes:
        raise ValueError(f"{name} must have at least {min_nodes} nodes, got {n}")
    if not np.all(np.isfinite(A.data)):
        raise ValueError(f"{name} contains NaN or infinite weights")
    if nonnegative and A.nnz and A.data.min() < 0:
        raise ValueError(f"{name} contains negative weights")
    if binary and A.nnz and not np.all((A.data == 0) | (A.data == 1)):
        bad = A.data[(A.data != 0) & (A.data != 1)][0]
        raise ValueError(
            f"{name} must be a binary 0/1 adjacency matrix, found weight {bad!r}"
        )
    A.eliminate_zeros()
    diag = A.diagonal()
    if np.any(diag != 0):
        if self_loops == "raise":
            raise ValueError(
                f"{name} has {int(np.count_nonzero(diag))} self-loops (non-zero "
                "diagonal); pass self_loops='remove' to drop them"
            )
        if self_loops == "remove":
            A.setdiag(0)
            A.eliminate_zeros()
    if symmetric != "ignore" and not exactly_symmetric(A):
        asym = A - A.T
        asym.eliminate_zeros()
        if asym.nnz:
            scale = np.abs(A.data).max() if A.nnz else 1.0
            if np.abs(asym.data).max() > 1e-12 * scale:
                if symmetric == "raise":
                    raise ValueError(
                        f"{name} is not symmetric ({asym.nnz} entries differ from "
                        "their transpose); pass symmetric='max' (union), 'min' "
                        "(mutual) or 'mean' to symmetrize, or 'ignore' for a "
                        "directed graph"
                    )
                if symmetric == "max":
                    A = A.maximum(A.T)
                elif symmetric == "min":
                    A = A.minimum(A.T)
                else:
                    A = (A + A.T) * 0.5
                A = sp.csr_array(A)
                A.eliminate_zeros()
    A.sort_indices()
    return A


def exactly_symmetric(A):
    """True when the canonical CSR ``A`` equals its transpose exactly.

    One linear-time CSR transposition and three array comparisons: several
    times cheaper than forming ``A - A.T`` on large graphs.
    """
    AT = sp.csr_array(A.T)
    AT.sort_indices()
    return (
        np.array_equal(AT.indptr, A.indptr)
        and np.array_equal(AT.indices, A.indices)
        and np.array_equal(AT.data, A.data)
    )


def component_report(A):
    """Return ``(n_components, labels, sizes)`` of the (weakly) connected components."""
    n_comp, labels = csgraph.connected_components(A, directed=False)
    sizes = np.bincount(labels, minlength=n_comp)
    return n_comp, labels, sizes


def largest_component(A):
    """Nodes of the largest connected component.

    Returns
    -------
    keep : ndarray of int
        Sorted node indices of the largest component.
    n_components : int
        Number of connected components of ``A``.
    """
    n_comp, labels, sizes = component_report(A)
    return np.flatnonzero(labels == np.argmax(sizes)), n_comp


def check_connected(A, *, name="adjacency", hint=None):
    """Raise a ValueError naming the components when the graph is disconnected."""
    n_comp, _, sizes = component_report(A)
    if n_comp > 1:
        top = np.sort(sizes)[::-1]
        shown = ", ".join(str(s) for s in top[:5]) + (", ..." if n_comp > 5 else "")
        msg = (
            f"{name} is disconnected: {n_comp} connected components of sizes [{shown}]"
        )
        if hint:
            msg += f"; {hint}"
        raise ValueError(msg)
    return A


def check_matrix_size(estimator, X, *, reset):
    """Record (``reset=True``) or check the matrix size ``p`` of a (n, p, p) stack.

    The matrix-input estimators store ``p`` as ``n_features_in_``; a later
    call with matrices of another size raises a ValueError naming both sizes.
    """
    p = X.shape[-1]
    if reset:
        estimator.n_features_in_ = p
    elif p != estimator.n_features_in_:
        raise ValueError(
            f"X has {p}x{p} matrices (features), but {type(estimator).__name__} "
            f"was fitted on {estimator.n_features_in_}x{estimator.n_features_in_}"
        )
    return X


def check_spd(X, *, name="X", ndim=(2, 3), sym_tol=1e-8, copy=True):
    """Validate a symmetric positive definite matrix or a batch of them.

    Parameters
    ----------
    X : array-like of shape (p, p) or (n_matrices, p, p)
        Matrices to check (numpy; torch inputs are converted).
    name : str
        Name used in error messages.
    ndim : tuple of int, default=(2, 3)
        Accepted numbers of dimensions.
    sym_tol : float, default=1e-8
        Relative tolerance on ``|X - X^T|``; within it, X is symmetrized.
    copy : bool, default=True
        Never modify the caller's array.

    Returns
    -------
    X : ndarray of float64, symmetrized.
    """
    if is_torch(X):
        X = X.detach().cpu().numpy()
    if sp.issparse(X):
        raise TypeError(f"{name} must be a dense array of SPD matrices, got sparse")
    X = np.array(X, dtype=np.float64, copy=copy)
    if X.ndim not in ndim:
        raise ValueError(
            f"{name} must have ndim in {ndim} (matrices of shape (..., p, p)), "
            f"got shape {X.shape}"
        )
    if X.shape[-1] != X.shape[-2]:
        raise ValueError(f"{name} must hold square matrices, got shape {X.shape}")
    if X.size == 0:
        raise ValueError(f"{name} is empty (shape {X.shape})")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} contains NaN or infinite values")
    XT = np.swapaxes(X, -1, -2)
    scale = np.maximum(np.abs(X).max(axis=(-1, -2), keepdims=True), 1e-300)
    if np.any(np.abs(X - XT) > sym_tol * scale):
        raise ValueError(f"{name} is not symmetric (tolerance {sym_tol:g} relative)")
    X = 0.5 * (X + XT)
    try:
        np.linalg.cholesky(X)
    except np.linalg.LinAlgError:
        w = np.linalg.eigvalsh(X)
        raise ValueError(
            f"{name} is not positive definite (smallest eigenvalue {w.min():.3g})"
        ) from None
    return X
