"""Shared input checks used by every public function and estimator.

Every check raises a ``ValueError`` or ``TypeError`` that names the offending
property (NaN, asymmetry, negative weights, non-SPD matrices, a dense n x n that
would not fit in memory, ...), so that bad input never reaches NumPy/SciPy
internals or silently produces a wrong answer.
"""

from __future__ import annotations

import math
import sys
from numbers import Integral, Real
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph
from sklearn.utils import (
    check_array,
    check_random_state,  # noqa: F401  (re-exported)
)

from ._backend import (
    chol_lower_torch,
    cholesky_checked,
    cholesky_if_symmetric,
    cholesky_lower,
    cpu64_view,
    eigh,
    import_torch,
    is_torch,
)

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
    n_rows: int,
    n_cols: int,
    *,
    itemsize: int = 8,
    max_bytes: int | None = None,
    what: str = "array",
    hint: str | None = None,
) -> int:
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


def check_numeric_dtype(X: Any, *, name: str = "X") -> None:
    """Raise a TypeError unless ``X`` holds real numbers (bool, int or float).

    Complex input is refused rather than cast to its real part (NumPy would
    only warn with a ``ComplexWarning``), and so are object and string arrays.

    Parameters
    ----------
    X : ndarray, sparse matrix or torch tensor
        Array whose dtype is checked (its values are not read).
    name : str, default="X"
        Name used in the message.

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo._validation import check_numeric_dtype
    >>> check_numeric_dtype(np.eye(2))
    >>> check_numeric_dtype(np.eye(2) + 1j, name="W")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: W has complex dtype complex128; manigeo works with real numbers: ...
    """
    if is_torch(X):
        if X.is_complex():
            raise TypeError(
                f"{name} has complex dtype {X.dtype}; manigeo works with real "
                "numbers: pass X.real or abs(X) explicitly"
            )
        return
    dtype = getattr(X, "dtype", None)
    dtype = np.asarray(X).dtype if dtype is None else np.dtype(dtype)
    if dtype.kind == "O" and not sp.issparse(X):
        # an object array of real numbers is numeric (scikit-learn accepts it);
        # None, strings or complex numbers inside it are not
        if all(isinstance(v, Real) for v in np.asarray(X).flat):
            return
    if dtype.kind == "c":
        raise TypeError(
            f"{name} has complex dtype {dtype}; manigeo works with real numbers: "
            "pass X.real or abs(X) explicitly"
        )
    if dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must be numeric (bool, int or float), got dtype={dtype}"
            + (" (mixed or non-numeric entries)" if dtype.kind in "OUS" else "")
        )


def check_points(
    X: Any,
    *,
    name: str = "X",
    min_samples: int = 1,
    dtype: Any = np.float64,
    ensure_2d: bool = True,
) -> np.ndarray:
    """Validate a point cloud: a finite 2-D float array (n_samples, n_features).

    Torch tensors are moved to numpy.  NaN and inf raise a ValueError; complex,
    object and string arrays a TypeError.  The input is never modified.

    Examples
    --------
    >>> from manigeo._validation import check_points
    >>> check_points([[0, 1], [2, 3]])
    array([[0., 1.],
           [2., 3.]])
    """
    if is_torch(X):
        check_numeric_dtype(X, name=name)
        X = X.detach().cpu().numpy()
    if sp.issparse(X):
        raise TypeError(f"{name} must be a dense array of points, got a sparse matrix")
    if hasattr(X, "iloc") and hasattr(X, "dtypes"):
        # pandas: scikit-learn reads the columns; only complex ones are refused
        if any(getattr(t, "kind", "") == "c" for t in X.dtypes):
            raise TypeError(f"{name} has complex columns; manigeo works with reals")
    else:
        if not hasattr(X, "dtype"):
            try:
                X = np.asarray(X)
            except ValueError as exc:  # ragged nested lists
                raise ValueError(f"{name} must be a rectangular array: {exc}") from None
        check_numeric_dtype(X, name=name)
    return check_array(
        X,
        dtype=dtype,
        ensure_2d=ensure_2d,
        ensure_min_samples=min_samples,
        ensure_all_finite=True,
        input_name=name,
    )


def check_int(
    value: Any, name: str, *, minimum: int | None = None, maximum: int | None = None
) -> int:
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


def as_sparse_matrix(A: Any, *, name: str = "adjacency") -> sp.csr_array:
    """Convert scipy.sparse (any format), dense arrays, networkx graphs and torch
    (sparse or dense) tensors to a ``scipy.sparse.csr_array`` of float64.

    No validation beyond the conversion; see :func:`check_adjacency`.
    """
    if is_torch(A):
        A = _torch_sparse_to_scipy(A)
    else:
        # a networkx graph exists only once networkx is imported: looked up,
        # not imported (the import costs 0.3 s of every fresh process's fit)
        nx = sys.modules.get("networkx")
        if nx is not None and isinstance(A, nx.Graph):
            A = nx.to_scipy_sparse_array(A, weight="weight", format="csr")
    if sp.issparse(A):
        check_numeric_dtype(A, name=name)
        # always a copy: the checks below edit the matrix (diagonal, explicit
        # zeros, sorting) and must never touch the caller's arrays
        A = sp.csr_array(A, dtype=np.float64, copy=True)
    else:
        try:
            A = np.asarray(A)
        except ValueError as exc:  # ragged nested lists
            raise ValueError(f"{name} must be a rectangular matrix: {exc}") from None
        check_numeric_dtype(A, name=name)
        if A.ndim != 2:
            raise ValueError(f"{name} must be a 2-D matrix, got ndim={A.ndim}")
        A = sp.csr_array(A.astype(np.float64, copy=False))
    A.sum_duplicates()
    return A


def check_adjacency(
    A: Any,
    *,
    name: str = "adjacency",
    binary: bool = False,
    symmetric: str = "raise",
    self_loops: str = "remove",
    nonnegative: bool = True,
    min_nodes: int = 1,
    explicit_zeros: str = "drop",
) -> sp.csr_array:
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
    explicit_zeros : {"drop", "keep"}, default="drop"
        What a stored zero of a sparse input means: no edge (``"drop"``), or an
        edge of length 0 (``"keep"``, as in ``scipy.sparse.csgraph``: two nodes
        at distance 0).  Zeros of a dense input are never edges.

    Returns
    -------
    A : scipy.sparse.csr_array of shape (n, n), float64
        Canonical CSR (sorted indices, no duplicates, no explicit zeros unless
        ``explicit_zeros="keep"``).

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo._validation import check_adjacency
    >>> check_adjacency(np.array([[0, 1], [1, 0]])).toarray()
    array([[0., 1.],
           [1., 0.]])
    >>> check_adjacency(np.array([[0, 1], [0, 0]]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: adjacency is not symmetric (2 entries differ from their transpose); ...
    """
    if explicit_zeros not in ("drop", "keep"):
        raise ValueError(
            f"explicit_zeros must be 'drop' or 'keep', got {explicit_zeros!r}"
        )
    keep_zeros = explicit_zeros == "keep"
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
    if not keep_zeros:
        A.eliminate_zeros()
    diag = A.diagonal()
    if np.any(diag != 0):
        if self_loops == "raise":
            raise ValueError(
                f"{name} has {int(np.count_nonzero(diag))} self-loops (non-zero "
                "diagonal); pass self_loops='remove' to drop them"
            )
    if self_loops == "remove" or (keep_zeros and self_loops == "raise"):
        A = _drop_diagonal(A)
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
                if not keep_zeros:
                    A.eliminate_zeros()
    A.sort_indices()
    return A


def _drop_diagonal(A):
    """``A`` without its stored diagonal entries (other explicit zeros kept)."""
    rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
    off = rows != A.indices
    if off.all():
        return A
    indptr = np.concatenate(
        [[0], np.cumsum(np.bincount(rows[off], minlength=A.shape[0]))]
    )
    return sp.csr_array((A.data[off], A.indices[off], indptr), shape=A.shape)


def exactly_symmetric(A: sp.csr_array) -> bool:
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


def component_report(A: Any) -> tuple[int, np.ndarray, np.ndarray]:
    """Return ``(n_components, labels, sizes)`` of the (weakly) connected components."""
    n_comp, labels = csgraph.connected_components(A, directed=False)
    sizes = np.bincount(labels, minlength=n_comp)
    return n_comp, labels, sizes


def largest_component(A: Any) -> tuple[np.ndarray, int]:
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


def check_connected(A: Any, *, name: str = "adjacency", hint: str | None = None) -> Any:
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


def check_matrix_size(estimator: Any, X: np.ndarray, *, reset: bool) -> np.ndarray:
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


def _sym_tol(dtype_eps, sym_tol=1e-8):
    return max(sym_tol, 100.0 * dtype_eps)


def _max_asymmetry(X, XT, chunk=65536):
    """``max(X - Xᵀ)`` (= ``max|X - Xᵀ|``; NaN or inf if X is not finite).

    Large numpy stacks go through a reused cache-sized buffer, ``chunk``
    elements at a time, instead of one temporary the size of X (measured 1.3x
    faster on 50 x 128 x 128 matrices); torch: one operation.
    """
    if is_torch(X):
        # one pass: blocks of torch operations cost more in dispatch than
        # they save (measured on 200 x 30 x 30 and 50 x 64 x 64 stacks)
        return (X - XT).amax()  # NaN propagates; no sync
    if X.ndim == 3 and 96 <= X.shape[-1] <= 1024:  # stacks of SPD-sized matrices
        return _max_asymmetry_tiled(X)
    p2 = X.shape[-1] * X.shape[-2]
    c = max(1, chunk // p2)
    with np.errstate(invalid="ignore", over="ignore"):
        if X.ndim != 3 or c >= X.shape[0]:
            return (X - XT).max()
        buf = np.empty((c,) + X.shape[1:])
        dmax = -np.inf
        for s in range(0, X.shape[0], c):
            b = buf[: min(c, X.shape[0] - s)]
            np.subtract(X[s : s + c], XT[s : s + c], out=b)
            m = b.max()
            if not np.isfinite(m):  # NaN or inf: reported by the caller
                return m
            dmax = max(dmax, m)
        return dmax


def _max_asymmetry_tiled(X, t=32):
    """``max|X - Xᵀ|`` of large matrices from ``t x t`` tiles on and above the
    diagonal, over the whole batch at once.

    Half the entries of the full pass, and each tile pair is read from cache
    instead of a column-strided sweep of a matrix larger than the cache
    (measured 2.3x faster on 20 x 256 x 256 stacks, 1.7x on 50 x 128 x 128).
    Every entry lies in a tile or its mirror, so NaN and inf are seen.
    """
    p = X.shape[-1]
    dmax = -np.inf
    with np.errstate(invalid="ignore", over="ignore"):
        for i in range(0, p, t):
            for j in range(i, p, t):
                d = X[..., i : i + t, j : j + t] - np.swapaxes(
                    X[..., j : j + t, i : i + t], -1, -2
                )
                # a diagonal tile's difference is antisymmetric: its max is
                # its max |.|; off the diagonal both signs count
                m = d.max() if i == j else np.abs(d, out=d).max()
                if not np.isfinite(m):  # NaN or inf: reported by the caller
                    return m
                dmax = max(dmax, m)
    return dmax


def check_symmetric(
    X: Any,
    *,
    name: str = "X",
    what: str = "this function",
    sym_tol: float = 1e-8,
    scale_floor: float = 0.0,
    copy: bool = True,
    factor_only: bool = False,
) -> Any:
    """Validate real symmetric matrices ``(..., p, p)`` on their own backend.

    numpy input is checked with numpy; a torch tensor is checked on its own
    device and dtype (no host copy; one synchronisation for all the checks).

    Parameters
    ----------
    X : array-like or Tensor of shape (..., p, p)
        Matrices to check.
    name : str, default="X"
        Name used in error messages.
    what : str, default="this function"
        What needs symmetric matrices, used in error messages.
    sym_tol : float, default=1e-8
        Relative tolerance on ``max|X - Xᵀ| / max|X|`` (float32 gets
        ``100 eps`` if larger).
    scale_floor : float, default=0.0
        Floor of ``max|X|`` in the relative test: 1 for exponents (``expm``
        input, tangent vectors), whose round-off asymmetry is relative to the
        summands they were computed from, not to their own size.
    copy : bool, default=True
        With ``copy=False``, an exactly symmetric floating input is returned
        as is (for callers that only read it).
    factor_only : bool, default=False
        For callers that only factorise the result (``eigh``, Cholesky: they
        read one triangle).  With ``copy=False``, an input whose asymmetry is
        round-off, ``max|X - Xᵀ| <= 4 eps max|X|``, is also returned as is
        instead of symmetrised: the triangle read and the symmetric part
        differ by less than the backward error of the factorisation
        (``O(p eps ‖X‖₂)``), so the result is as accurate, and the
        symmetrisation pass is saved.  Larger asymmetries within ``sym_tol``
        are still symmetrised.

    Returns
    -------
    X : ndarray or Tensor of shape (..., p, p)
        Symmetrised copy (floating dtype: integers become float64 / torch's
        default dtype).

    Raises
    ------
    TypeError
        Complex, object or non-numeric input.
    ValueError
        Not square, 0x0 matrices, NaN/inf, or not symmetric.

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo._validation import check_symmetric
    >>> check_symmetric(np.array([[2, 1], [1, 2]]))
    array([[2., 1.],
           [1., 2.]])
    """
    if is_torch(X):
        torch = import_torch()
        if X.is_complex():
            raise TypeError(f"{name} is complex; {what} needs real symmetric matrices")
        if not torch.is_floating_point(X):
            X = X.to(torch.get_default_dtype())
        eps = torch.finfo(X.dtype).eps
    else:
        if sp.issparse(X):
            raise TypeError(f"{name} must be a dense array of matrices, got sparse")
        X = np.asarray(X)
        if np.iscomplexobj(X):
            raise TypeError(f"{name} is complex; {what} needs real symmetric matrices")
        if X.dtype == object or not (
            np.issubdtype(X.dtype, np.number) or X.dtype == bool
        ):
            raise TypeError(f"{name} must be a numeric array, got dtype {X.dtype}")
        if not np.issubdtype(X.dtype, np.floating):
            X = X.astype(np.float64)
        eps = np.finfo(X.dtype).eps
    if X.ndim < 2 or X.shape[-1] != X.shape[-2]:
        raise ValueError(
            f"{name} must hold square matrices (..., p, p), got shape {tuple(X.shape)}"
        )
    if X.shape[-1] == 0:
        raise ValueError(f"{name} holds empty 0x0 matrices")
    XT = X.mT if is_torch(X) else np.swapaxes(X, -1, -2)
    if (X.numel() if is_torch(X) else X.size) == 0:
        return X
    tol = _sym_tol(eps, sym_tol)
    as_is = factor_only and not copy
    if is_torch(X):
        Xd, XTd = X.detach(), XT.detach()  # the checks stay out of the graph
        # max|X - Xᵀ| (antisymmetric); a NaN or inf anywhere makes it NaN/inf
        dmax = _max_asymmetry(Xd, XTd)
        # scale: the largest diagonal entry first (see the numpy branch)
        dscale = Xd.diagonal(dim1=-2, dim2=-1).abs().amax()
        if X.device.type == "cpu":
            # no device to synchronise with: the two numbers as Python floats
            # and the four tests in Python (a handful of tensor operations
            # fewer, ~40 us a call)
            dm, ds = float(dmax), float(dscale)
            nonfinite = not math.isfinite(dm)
            asym = dm > tol * max(ds, scale_floor)
            exact, roundoff = dm == 0, dm <= 4 * eps * ds
        else:
            flags = torch.stack(
                [
                    ~torch.isfinite(dmax),
                    dmax > tol * dscale.clamp_min(scale_floor),
                    dmax == 0,
                    dmax <= 4 * eps * dscale,
                ]
            ).tolist()  # one synchronisation for the four tests
            nonfinite, asym, exact, roundoff = (bool(f) for f in flags)
        if nonfinite:  # or an overflow of X - Xᵀ on finite input
            nonfinite = not bool(torch.isfinite(Xd).all())
        if not nonfinite and not X.requires_grad and (exact or (as_is and roundoff)):
            # (in a graph, 0.5 (X + Xᵀ) keeps gradients symmetric)
            return X.clone() if copy else X
        if asym and not nonfinite:  # confirm with max|X| >= max|diag X|
            amax = float(torch.maximum(Xd.amax(), -Xd.amin()))
            asym = not float(dmax) <= tol * max(amax, scale_floor)
    else:
        # X - Xᵀ is antisymmetric, so max|X - Xᵀ| = max(X - Xᵀ), and a NaN
        # or inf anywhere makes it NaN or inf: exactly symmetric finite input
        # (the common case) costs this one pass and is its own symmetric part
        dmax = _max_asymmetry(X, XT)
        if dmax == 0.0:
            return X.copy() if copy else X
        nonfinite = not np.isfinite(dmax) and not np.isfinite(X).all()
        asym = True
        if not nonfinite:
            # max|X| is at least the largest diagonal entry (equal for
            # semi-definite matrices): a test passed with the diagonal is
            # passed with max|X|, which is computed only when it is not
            dscale = np.abs(np.diagonal(X, axis1=-2, axis2=-1)).max()
            if as_is and dmax <= 4 * eps * dscale:
                return X
            asym = not dmax <= tol * max(dscale, scale_floor)
            if asym:
                amax = max(X.max(), -X.min())  # max|X| without a |X| temporary
                asym = not dmax <= tol * max(amax, scale_floor)
    if nonfinite:
        raise ValueError(f"{name} contains NaN or infinite values")
    if asym:
        raise ValueError(
            f"{name} is not symmetric (relative tolerance {tol:.1e}); {what} is "
            "defined for symmetric matrices only: pass (X + X^T) / 2 if the "
            "asymmetry is round-off"
        )
    S = X + XT
    S *= 0.5  # in place on our own temporary (also under autograd)
    return S


def spd_eig_tol(p: int, eps: float) -> float:
    """Relative eigenvalue margin ``λ_min > τ λ_max`` that proves Cholesky succeeds.

    ``τ = 2 (p + 1)² eps``: Cholesky runs to completion in floating point when
    the smallest eigenvalue of the diagonally scaled matrix exceeds
    ``p (p + 1) eps / 2`` (Higham, *Accuracy and Stability of Numerical
    Algorithms*, Thm. 10.7; ``λ_min(D^{-1/2} X D^{-1/2}) >= λ_min / λ_max``),
    and ``eigh`` is accurate to ``O(p eps λ_max)``.

    Examples
    --------
    >>> from manigeo._validation import spd_eig_tol
    >>> spd_eig_tol(1, 0.25)
    2.0
    """
    return 2.0 * (p + 1) ** 2 * eps


def _not_pd(name, wmin, dtype=""):
    return ValueError(
        f"{name} is not positive definite{dtype} (smallest eigenvalue {wmin:.3g})"
    )


def _definite_by_eigh(X, lam, name):
    """The definiteness rule of :func:`check_spd` read from eigenvalues.

    A matrix with ``λ_min > τ λ_max`` (:func:`spd_eig_tol`) is accepted: its
    Cholesky factorisation succeeds.  The others (none, on all but nearly
    singular input) are decided by that Cholesky factorisation, the rule of
    the Cholesky path; one it accepts whose computed smallest eigenvalue is
    not positive is refused as numerically singular (its eigenvalue
    functions, ``log`` first, are undefined).
    """
    torch_in = is_torch(lam)
    if torch_in:
        torch = import_torch()
        eps = torch.finfo(lam.dtype).eps
    else:
        eps = np.finfo(lam.dtype).eps
    low, top = lam[..., 0], lam[..., -1]
    ok = low > spd_eig_tol(X.shape[-1], eps) * top
    if bool(ok.all()):  # one synchronisation on torch
        return
    flagged = ~ok
    Xf, low_f = X[flagged], low[flagged]
    wmin = float(low_f.min())  # NaN-free: X passed the finiteness check
    if torch_in:
        dtype = f" in {X.dtype}"
        failed = bool((chol_lower_torch(Xf.detach(), ex=True)[1] != 0).any())
    else:
        dtype = ""
        try:
            np.linalg.cholesky(Xf)
            failed = False
        except np.linalg.LinAlgError:
            failed = True
    if failed:
        raise _not_pd(name, wmin, dtype)
    if not wmin > 0:
        raise ValueError(
            f"{name} is numerically singular{dtype}: its Cholesky factorisation "
            f"exists but its smallest eigenvalue computes as {wmin:.3g} (<= 0), so "
            "functions of its eigenvalues (logm, powm, ...) are undefined; "
            "regularise it (e.g. add a small multiple of the identity)"
        )


def check_spd(
    X: Any,
    *,
    name: str = "X",
    ndim: tuple[int, ...] = (2, 3),
    sym_tol: float = 1e-8,
    copy: bool = True,
    return_cholesky: bool = False,
    return_eigh: bool = False,
    factor_only: bool = False,
) -> Any:
    """Validate a symmetric positive definite matrix or a batch of them.

    The symmetry test costs one subtraction pass when the input is exactly
    symmetric (see :func:`check_symmetric`).  Positive definiteness has one
    rule: **the Cholesky factorisation succeeds** (in float64 for numpy
    input, in the tensor's dtype for torch).  It is proved by one batched
    factorisation, which a caller that needs it (the log-Cholesky geometry)
    takes back with ``return_cholesky=True``; a caller that needs the
    eigendecomposition instead (the log-Euclidean mean) takes that back with
    ``return_eigh=True``, and the same rule is then read from the
    eigenvalues: ``λ_min > τ λ_max`` (:func:`spd_eig_tol`, ``τ = 2 (p+1)²
    eps``) implies that Cholesky succeeds; the rare matrices below that
    margin are factorised and decided by Cholesky.  A matrix Cholesky accepts
    whose computed smallest eigenvalue is still <= 0 is refused on the
    eigenvalue path only, as numerically singular (ValueError).

    Parameters
    ----------
    X : array-like or Tensor of shape (p, p) or (n_matrices, p, p)
        Matrices to check.  numpy / array-like input is returned as float64;
        a torch tensor is validated on its own device and keeps its dtype (no
        host copy; a float64 CPU tensor outside autograd goes through the
        numpy checks on a zero-copy view of its memory).
    name : str
        Name used in error messages.
    ndim : tuple of int, default=(2, 3)
        Accepted numbers of dimensions.
    sym_tol : float, default=1e-8
        Relative tolerance on ``|X - X^T|``; within it, X is symmetrized.
    copy : bool, default=True
        Return a new array (never the caller's).  With ``copy=False`` an
        exactly symmetric float64 numpy input may be returned as is (for
        callers that only read it); it is never modified either way.
    return_cholesky : bool, default=False
        Also return the lower Cholesky factor ``L`` (``X = L Lᵀ``) that proved
        positive definiteness (on torch: computed on ``X`` itself, so it is
        differentiable).
    return_eigh : bool, default=False
        Also return the eigenvalues (ascending, all > 0) and eigenvectors of
        ``X`` that proved positive definiteness (``eigh`` of the returned
        ``X``).  Exclusive with ``return_cholesky``.
    factor_only : bool, default=False
        With ``copy=False``: the caller only uses the returned factor, so an
        input symmetric to round-off is factorised as is (see
        :func:`check_symmetric`) and returned unsymmetrised.

    Returns
    -------
    X : ndarray of float64 or Tensor, symmetrized.
    L : ndarray or Tensor of the same shape
        Only with ``return_cholesky=True``.
    lam, U : ndarray or Tensor of shape (..., p) and (..., p, p)
        Only with ``return_eigh=True``.

    Raises
    ------
    TypeError
        Sparse, complex, object or non-numeric input.
    ValueError
        Wrong ndim, not square, empty, NaN/inf, not symmetric, or not
        positive definite (the smallest eigenvalue is named).

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo._validation import check_spd
    >>> check_spd(np.eye(2))
    array([[1., 0.],
           [0., 1.]])
    >>> X, L = check_spd(np.diag([4.0, 9.0]), return_cholesky=True)
    >>> L
    array([[2., 0.],
           [0., 3.]])
    >>> X, lam, U = check_spd(np.diag([4.0, 9.0]), return_eigh=True)
    >>> lam
    array([4., 9.])
    """
    if return_cholesky and return_eigh:
        raise ValueError("return_cholesky and return_eigh are exclusive")
    if not is_torch(X):
        if sp.issparse(X):
            raise TypeError(f"{name} must be a dense array of SPD matrices, got sparse")
        X = np.asarray(X)
        if np.iscomplexobj(X):
            raise TypeError(f"{name} is complex; SPD matrices must be real")
        if X.dtype == object:
            try:
                X = X.astype(np.float64)
            except (TypeError, ValueError):
                raise TypeError(
                    f"{name} must be a numeric array, got dtype object"
                ) from None
        X = np.asarray(X, dtype=np.float64)
    if X.ndim not in ndim:
        raise ValueError(
            f"{name} must have ndim in {ndim} (matrices of shape (..., p, p)), "
            f"got shape {tuple(X.shape)}"
        )
    if X.shape[-1] != X.shape[-2]:
        raise ValueError(
            f"{name} must hold square matrices, got shape {tuple(X.shape)}"
        )
    if (X.numel() if is_torch(X) else X.size) == 0:
        raise ValueError(f"{name} is empty (shape {tuple(X.shape)})")
    kw = {"sym_tol": sym_tol, "copy": copy, "factor_only": factor_only}
    Xn = cpu64_view(X) if is_torch(X) and not return_eigh else None
    if Xn is not None:
        # a float64 CPU tensor outside autograd: the numpy checks on a
        # zero-copy view (the same rule, fewer dispatches, the fused
        # factorisation); the results wrapped back zero-copy
        torch = import_torch()
        out = check_spd(Xn, name=name, ndim=ndim, return_cholesky=return_cholesky, **kw)
        S, L = out if return_cholesky else (out, None)
        S = X if S is Xn else torch.from_numpy(S)
        return (S, torch.from_numpy(L)) if return_cholesky else S
    if is_torch(X):
        X = check_symmetric(X, name=name, what="an SPD function", **kw)
        torch = import_torch()
        if return_eigh:
            lam, U = eigh(X)
            _definite_by_eigh(X, lam, name)
            return X, lam, U
        L, ok = cholesky_checked(X if return_cholesky else X.detach())
        if not ok:
            w = torch.linalg.eigvalsh(X.detach())
            raise _not_pd(name, float(w.min()), f" in {X.dtype}")
        return (X, L) if return_cholesky else X
    if return_cholesky:
        # small matrices, large batch: the exact-symmetry and finiteness test
        # fused with a batch-vectorised Cholesky (None: the full checks below)
        L = cholesky_if_symmetric(X, roundoff_ok=factor_only and not copy)
        if L is not None:
            return (X.copy() if copy else X), L
    X = check_symmetric(X, name=name, what="an SPD function", **kw)
    if return_eigh:
        try:
            lam, U = eigh(X)
        except np.linalg.LinAlgError as exc:
            raise ValueError(
                f"{name}: the eigendecomposition did not converge ({exc})"
            ) from None
        _definite_by_eigh(X, lam, name)
        return X, lam, U
    try:
        L = cholesky_lower(X)
    except np.linalg.LinAlgError:
        raise _not_pd(name, np.linalg.eigvalsh(X).min()) from None
    return (X, L) if return_cholesky else X
