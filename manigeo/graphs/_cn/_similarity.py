"""Degree-normalized common-neighbour similarities on a sparsity pattern."""

import numpy as np
import scipy.sparse as sp

from ..._backend import is_dask_dataframe
from . import _dask
from ._common import (
    _check_options,
    _dask_options,
    _prepare_adjacency,
    _prepare_mask,
    _resolve,
    _run,
    _torch_meta,
)

SIMILARITIES = ("cosine", "jaccard", "adamic_adar")


def _gather(A, indptr, indices):
    """Values of ``A`` at the entries of a canonical CSR pattern (0 where absent)."""
    n = A.shape[0]
    if (
        len(indices) == len(A.indices)
        and np.array_equal(indptr, A.indptr)
        and np.array_equal(indices, A.indices)
    ):
        return A.data.copy()
    out = np.zeros(len(indices))
    if A.nnz == 0 or len(indices) == 0:
        return out
    key_a = np.repeat(np.arange(n, dtype=np.int64), np.diff(A.indptr)) * n + A.indices
    key_m = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr)) * n + np.asarray(
        indices, dtype=np.int64
    )
    pos = np.minimum(np.searchsorted(key_a, key_m), A.nnz - 1)
    hit = key_a[pos] == key_m
    out[hit] = A.data[pos[hit]]
    return out


def _safe_divide(num, den):
    """``num / den`` with 0 where ``den <= 0`` (then ``num`` is 0 as well)."""
    out = np.zeros_like(num)
    ok = den > 0
    np.divide(num, den, out=out, where=ok)
    return out


def neighbor_similarity(
    A,
    kind="cosine",
    mask="edges",
    *,
    backend="auto",
    device=None,
    chunk_size=None,
    binary=False,
    symmetric="raise",
    self_loops="remove",
):
    r"""Degree-normalized common-neighbour similarity on a sparsity pattern.

    With ``C = A @ A.T`` (see :func:`common_neighbors`), row norms
    ``s_i = sum_z A[i, z]^2`` (the degree ``k_i`` for a 0/1 matrix):

    - ``"cosine"``: cosine similarity of the neighbourhood vectors of ``i`` and
      ``j`` *with the pair itself removed* (entry ``j`` dropped from row ``i``
      and entry ``i`` from row ``j``)::

          C_ij / sqrt((s_i - A_ij^2) (s_j - A_ji^2))

      i.e. ``C_ij / sqrt((k_i - 1)(k_j - 1))`` on the edges of a 0/1 graph and
      ``C_ij / sqrt(k_i k_j)`` on non-adjacent pairs.  Removing the pair makes
      ``C_ij`` conditionally binomial with ``k_i - 1`` trials in a random
      geometric graph, which removes a ``1/k`` bias.
    - ``"jaccard"``: ``C_ij / (s_i + s_j - C_ij)``; for a 0/1 graph
      ``|N(i) & N(j)| / |N(i) | N(j)|`` with the usual neighbourhoods, so the
      pair *does* count (``j`` is in ``N(i)``, the union includes ``i`` and
      ``j``), as in :func:`networkx.jaccard_coefficient`.  With weights this is
      the Tanimoto coefficient of the two rows.
    - ``"adamic_adar"``: ``sum_{z in N(i) & N(j)} 1 / log(k_z)`` on the 0/1
      pattern (weights are ignored), ``k_z`` the number of non-zeros in column
      ``z``.  A common neighbour of two distinct nodes has ``k_z >= 2``;
      neighbours of degree 1 (only reachable on diagonal mask entries)
      contribute 0.

    Zero denominators happen only with a zero numerator (a node whose only
    neighbour is the other end of the pair, or an isolated node) and give 0,
    never NaN.

    Parameters
    ----------
    A : sparse matrix, array-like, networkx graph or torch tensor of shape (n, n)
        Adjacency matrix, as for :func:`common_neighbors` (a Dask edge list
        included).
    kind : {"cosine", "jaccard", "adamic_adar"}, default="cosine"
        Which similarity.
    mask : "edges", None or sparse pattern of shape (n, n), default="edges"
        Pattern of the result, as for :func:`common_neighbors`; pairs with no
        common neighbour are explicit zeros.
    backend : {"auto", "graphblas", "scipy", "torch"}, default="auto"
        Backend of the common-neighbour product.
    device : str, torch.device or None, default=None
        Device of the torch backend.
    chunk_size : int or None, default=None
        Rows per block (scipy and torch backends).
    binary : bool, default=False
        Use the 0/1 pattern of ``A`` (cosine and jaccard; adamic_adar always does).
    symmetric : {"raise", "max", "min", "mean", "ignore"}, default="raise"
        Handling of an asymmetric ``A`` (see :func:`common_neighbors`).
    self_loops : {"remove", "raise"}, default="remove"
        Drop or reject non-zero diagonal entries.

    Returns
    -------
    S : scipy.sparse.csr_array of shape (n, n), float64
        On the mask's pattern; a torch sparse tensor for a torch input.
        For a Dask edge list: a lazy Dask DataFrame, the input's rows with one
        more column ``similarity``.

    Examples
    --------
    >>> import networkx as nx
    >>> from manigeo.graphs import neighbor_similarity
    >>> G = nx.cycle_graph(4)
    >>> G.add_edge(0, 2)
    >>> S = neighbor_similarity(G, "cosine", backend="scipy")
    >>> float(S[0, 2])  # 0 and 2 share 1 and 3, each has 2 other neighbours
    1.0
    """
    if not isinstance(kind, str) or kind not in SIMILARITIES:
        raise ValueError(f"kind must be one of {SIMILARITIES}, got {kind!r}")
    if self_loops not in ("remove", "raise"):
        raise ValueError(
            "self_loops must be 'remove' or 'raise' for a similarity, "
            f"got {self_loops!r}"
        )
    if is_dask_dataframe(A):
        _dask_options(mask, device)
        return _dask.dask_statistic(
            A,
            kind=kind,
            backend=backend,
            chunk_size=chunk_size,
            binary=binary,
            symmetric=symmetric,
            self_loops=self_loops,
        )
    chunk_size = _check_options(backend, chunk_size)
    torch_meta = _torch_meta(A)
    A = _prepare_adjacency(
        A,
        binary=binary or kind == "adamic_adar",
        symmetric=symmetric,
        self_loops=self_loops,
    )
    M = _prepare_mask(mask, A)
    backend, device = _resolve(backend, device, torch_meta)
    n = A.shape[0]
    pair = bool(np.all(A.data == 1.0))

    if kind == "adamic_adar":
        k = np.bincount(A.indices, minlength=n)
        w = np.zeros(n)
        w[k >= 2] = 1.0 / np.log(k[k >= 2])
        R = sp.csr_array((w[A.indices], A.indices, A.indptr), shape=A.shape)

        def transform(indptr, indices, values):
            return np.asarray(_numpy(values), dtype=np.float64)

        return _run(
            A,
            A,
            R,
            M,
            pair=False,
            symmetric_product=True,
            backend=backend,
            device=device,
            chunk_size=chunk_size,
            torch_meta=torch_meta,
            transform=transform,
        )

    s = np.asarray(A.multiply(A).sum(axis=1)).ravel()
    AT = sp.csr_array(A.T)
    AT.sort_indices()

    def transform(indptr, indices, values):
        indptr, indices = _numpy(indptr), _numpy(indices)
        C = np.asarray(_numpy(values), dtype=np.float64)
        rows = np.repeat(np.arange(n), np.diff(indptr))
        if kind == "cosine":
            a_ij = _gather(A, indptr, indices)
            a_ji = _gather(AT, indptr, indices)
            den = np.maximum(s[rows] - a_ij**2, 0.0) * np.maximum(
                s[indices] - a_ji**2, 0.0
            )
            return _safe_divide(C, np.sqrt(den))
        return _safe_divide(C, s[rows] + s[indices] - C)

    return _run(
        A,
        A,
        A,
        M,
        pair=pair,
        symmetric_product=True,
        backend=backend,
        device=device,
        chunk_size=chunk_size,
        torch_meta=torch_meta,
        transform=transform,
    )


def _numpy(x):
    from ..._backend import to_numpy

    return to_numpy(x)
