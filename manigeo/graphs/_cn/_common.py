"""Common-neighbour counts ``A @ A.T`` on a sparsity pattern, with three backends."""

import warnings

import numpy as np
import scipy.sparse as sp

from ..._backend import is_dask_dataframe, is_torch, resolve_device
from ..._validation import (
    MAX_DENSE_BYTES,
    as_sparse_matrix,
    check_adjacency,
    check_int,
)
from . import _chunks, _dask, _graphblas_backend, _scipy_backend, _torch_backend

BACKENDS = ("auto", "graphblas", "scipy", "torch")


# --------------------------------------------------------------------- inputs
def _check_options(backend, chunk_size):
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if chunk_size is not None:
        chunk_size = check_int(chunk_size, "chunk_size", minimum=1)
    return chunk_size


def _torch_meta(A):
    """``(layout, device)`` of a torch input, None for anything else."""
    if not is_torch(A):
        return None
    import torch

    if A.layout not in (torch.sparse_coo, torch.sparse_csr, torch.strided):
        raise TypeError(
            "torch adjacency layout must be sparse COO, sparse CSR or dense "
            f"(strided), got {A.layout}; convert with .to_sparse_csr()"
        )
    return A.layout, A.device


def _prepare_adjacency(A, *, binary, symmetric, self_loops):
    if not isinstance(binary, (bool, np.bool_)):
        raise TypeError(f"binary must be a bool, got {type(binary).__name__}")
    # check_adjacency copies its input and checks exact symmetry in linear time
    A = check_adjacency(A, symmetric=symmetric, self_loops=self_loops)
    if binary:
        A.data[:] = 1.0
    return A


def _transpose_perm(M):
    """CSR of the transposed pattern, whose data maps each entry to its mirror.

    Returns ``(PT, symmetric)``: ``symmetric`` is True when the pattern of ``M``
    equals its transpose; then ``PT.data[k]`` is the position in ``M`` of the
    transpose of entry ``k``.
    """
    P = sp.csr_array(
        (np.arange(M.nnz, dtype=np.int64), M.indices, M.indptr), shape=M.shape
    )
    PT = sp.csr_array(P.T)
    PT.sort_indices()
    symmetric = (
        M.shape[0] == M.shape[1]
        and np.array_equal(PT.indptr, M.indptr)
        and np.array_equal(PT.indices, M.indices)
    )
    return PT, symmetric


def _prepare_mask(mask, A):
    """Canonical CSR pattern of the mask (every stored entry counts), or None."""
    if mask is None:
        return None
    if isinstance(mask, str):
        if mask != "edges":
            raise ValueError(
                f"mask must be 'edges', None or a sparse pattern, got {mask!r}"
            )
        return A
    if isinstance(mask, (bool, int, float)):
        raise TypeError(
            f"mask must be 'edges', None or a sparse pattern, got {type(mask).__name__}"
        )
    if sp.issparse(mask):
        mask = mask.copy()  # as_sparse_matrix may share (and sort) its arrays
    M = as_sparse_matrix(mask, name="mask")
    if M.shape != A.shape:
        raise ValueError(f"mask has shape {M.shape}, expected {A.shape}")
    M.sort_indices()
    # only the pattern matters: copy so the caller's array is never touched
    return sp.csr_array(
        (np.ones(M.nnz), M.indices.copy(), M.indptr.copy()), shape=M.shape
    )


def _resolve(backend, device, torch_meta):
    """Pick the backend and, for torch, the device.

    An explicit GPU ``device`` needs backend "torch" (or "auto").  A CUDA input
    tensor runs on its device with "auto"/"torch"; with "graphblas"/"scipy" the
    work happens on the host and the result goes back to the tensor's device.
    """
    explicit = device is not None
    if device is None and torch_meta is not None:
        device = torch_meta[1]
    if backend == "torch":
        return "torch", resolve_device(device)
    if device is not None:
        dev = resolve_device(device)
        if dev.type != "cpu":
            if backend == "auto":
                return "torch", dev
            if explicit:
                raise ValueError(
                    f"device={str(dev)!r} needs backend='torch' or 'auto', "
                    f"got backend={backend!r}"
                )
    if backend == "auto":
        return ("graphblas" if _graphblas_backend.available() else "scipy"), None
    return backend, None


# ------------------------------------------------------------------- engine
def _masked(
    L,
    R,
    M,
    *,
    pair,
    symmetric_product,
    backend,
    device,
    chunk_size,
    mask_symmetric=None,
):
    """``(L @ R.T)`` on the entries of ``M``: values aligned with M's CSR.

    ``symmetric_product``: ``L @ R.T`` is symmetric; ``mask_symmetric``: the
    pattern of ``M`` is (None = check).  When both hold only the upper triangle
    is computed.  Returns a numpy array, or a torch tensor on ``device`` for
    backend='torch'.
    """
    if M.nnz == 0:
        return np.zeros(0)
    symmetric, perm = False, None
    if symmetric_product:
        if mask_symmetric is None:
            PT, mask_symmetric = _transpose_perm(M)
            perm = PT.data  # (the torch backend builds it on its device otherwise)
        symmetric = mask_symmetric
    if backend == "graphblas":
        return _graphblas_backend.masked_values(L, R, M, pair=pair, symmetric=symmetric)
    RT = sp.csr_array(R.T)
    RT.sort_indices()
    work = _chunks.wedges_per_row(L, RT)
    if symmetric and chunk_size is None:
        work = (work + 1) // 2  # only wedges with j >= i are generated
    blocks = _chunks.row_blocks(
        work, chunk_size=chunk_size, max_work=_chunks.max_block_wedges(device)
    )
    if backend == "scipy":
        return _scipy_backend.masked_values(L, RT, M, blocks)
    return _torch_backend.masked_values(
        L,
        RT,
        M,
        blocks,
        device=device,
        pair=pair,
        symmetric=symmetric,
        transpose_perm=perm,
    )


def _check_full_product_size(L, R, max_bytes=None):
    """Refuse a full ``L @ R.T`` whose output may not fit in memory.

    Its non-zeros are at most the number of wedges ``sum_z c_L(z) c_R(z)``
    (``c(z)``: stored entries of column ``z``) and at most ``n_rows * n_cols``;
    each costs 16 bytes (float64 value and int64 index) in every backend.  A
    star graph on n nodes has ``(n - 1)^2`` wedges: without this guard the
    product ran out of memory (GraphBLAS) or for minutes (SciPy).
    """
    max_bytes = MAX_DENSE_BYTES if max_bytes is None else max_bytes
    cL = np.bincount(L.indices, minlength=L.shape[1]).astype(np.float64)
    cR = np.bincount(R.indices, minlength=R.shape[1]).astype(np.float64)
    bound = min(float(cL @ cR), float(L.shape[0]) * float(R.shape[0]))
    nbytes = 16.0 * bound
    if nbytes > max_bytes:
        raise ValueError(
            f"mask=None asks for the full {L.shape[0]} x {R.shape[0]} product "
            f"A @ A.T, which may hold up to {bound:.3g} non-zeros "
            f"({nbytes / 2**30:.3g} GiB), above the limit of "
            f"{max_bytes / 2**30:.3g} GiB (manigeo._validation.MAX_DENSE_BYTES); "
            "pass mask='edges' or a sparse mask of the pairs you need"
        )


def _full(L, R, *, pair, backend, device, chunk_size):
    """The whole ``L @ R.T``: a scipy CSR, or ``(crow, col, values)`` tensors."""
    _check_full_product_size(L, R)
    if backend == "graphblas":
        return _graphblas_backend.full_product(L, R, pair=pair)
    RT = sp.csr_array(R.T)
    RT.sort_indices()
    work = _chunks.wedges_per_row(L, RT)
    blocks = _chunks.row_blocks(
        work, chunk_size=chunk_size, max_work=_chunks.max_block_wedges(device)
    )
    if backend == "scipy":
        return _scipy_backend.full_product(L, RT, blocks)
    return _torch_backend.full_product(L, RT, blocks, device=device, pair=pair)


# ------------------------------------------------------------------ outputs
def _to_output(indptr, indices, values, shape, torch_meta):
    """Build the result: scipy csr_array, or a torch sparse tensor like the input."""
    if torch_meta is None:
        if is_torch(values):
            values = values.cpu().numpy()
        if is_torch(indptr):
            indptr, indices = indptr.cpu().numpy(), indices.cpu().numpy()
        return sp.csr_array(
            (np.asarray(values, dtype=np.float64), indices, indptr), shape=shape
        )
    import torch

    layout, device = torch_meta
    crow = torch.as_tensor(indptr, dtype=torch.int64, device=device)
    col = torch.as_tensor(indices, dtype=torch.int64, device=device)
    val = torch.as_tensor(values, dtype=torch.float64, device=device)
    if layout == torch.sparse_coo:
        rows = torch.repeat_interleave(
            torch.arange(shape[0], device=device),
            crow[1:] - crow[:-1],
            output_size=len(col),
        )
        return torch.sparse_coo_tensor(
            torch.stack([rows, col]),
            val,
            shape,
            is_coalesced=True,
            check_invariants=False,
        )
    with warnings.catch_warnings():  # "sparse CSR support is in beta"
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(crow, col, val, shape, check_invariants=False)


def _run(
    A,
    L,
    R,
    M,
    *,
    pair,
    symmetric_product,
    backend,
    device,
    chunk_size,
    torch_meta,
    mask_symmetric=None,
    transform=None,
):
    """Compute on the mask (or in full) and package the result."""
    if M is None:
        res = _full(
            L, R, pair=pair, backend=backend, device=device, chunk_size=chunk_size
        )
        if sp.issparse(res):
            indptr, indices, values = res.indptr, res.indices, res.data
        else:
            indptr, indices, values = res
    else:
        values = _masked(
            L,
            R,
            M,
            pair=pair,
            symmetric_product=symmetric_product,
            backend=backend,
            device=device,
            chunk_size=chunk_size,
            mask_symmetric=mask_symmetric,
        )
        indptr, indices = M.indptr.copy(), M.indices.copy()
    if transform is not None:
        values = transform(indptr, indices, values)
    return _to_output(indptr, indices, values, A.shape, torch_meta)


# ------------------------------------------------------------------- public
def _dask_options(mask, device):
    """Options a Dask edge list supports (mask='edges', host device)."""
    if not (isinstance(mask, str) and mask == "edges"):
        raise ValueError(
            "a Dask edge list supports mask='edges' only (the rows of the edge "
            f"list), got {mask!r}"
        )
    if device is not None and str(device) != "cpu":
        raise ValueError(
            f"a Dask edge list runs on the workers' CPUs, got device={device!r}"
        )


def common_neighbors(
    A,
    mask="edges",
    *,
    backend="auto",
    device=None,
    chunk_size=None,
    binary=False,
    symmetric="raise",
    self_loops="remove",
):
    r"""Common-neighbour counts ``C = A @ A.T`` on a sparsity pattern.

    ``C[i, j] = sum_z A[i, z] * A[j, z]``: for a 0/1 adjacency matrix, the
    number of neighbours that ``i`` and ``j`` share.  With ``mask="edges"``
    this is a *masked* sparse product: only the entries on the pattern of ``A``
    are computed, the full ``A @ A.T`` (about ``n * k^2`` non-zeros for mean
    degree ``k``) is never formed.

    Parameters
    ----------
    A : sparse matrix, array-like, networkx graph or torch tensor of shape (n, n)
        Adjacency matrix: scipy.sparse in any format, a dense array, a networkx
        graph (its ``"weight"`` attribute), or a torch sparse COO / sparse CSR /
        dense tensor.  Weights are multiplied and summed unless ``binary``.
        Or a ``dask.dataframe.DataFrame`` edge list with integer columns
        ``src``, ``dst`` (every undirected edge in both directions) and an
        optional ``weight``: computed blockwise on the Dask cluster (see the
        "Scaling out" user guide); only ``mask="edges"``, ``symmetric``
        "raise" (checked blockwise) or "ignore", and host backends.
    mask : "edges", None or sparse pattern of shape (n, n), default="edges"
        ``"edges"``: C on the pattern of ``A``.  ``None``: the full product
        (pairs with at least one common neighbour, the diagonal included).
        A sparse matrix / torch sparse tensor / dense array / networkx graph:
        C on its pattern (every stored entry, explicit zeros included; the
        non-zeros of a dense array).
        On a mask, pairs without a common neighbour are kept as explicit zeros:
        the output has exactly the mask's pattern.
    backend : {"auto", "graphblas", "scipy", "torch"}, default="auto"
        ``"graphblas"``: SuiteSparse:GraphBLAS masked ``mxm`` (``plus_pair``
        semiring for 0/1 counts, ``plus_times`` for weights), multithreaded.
        ``"scipy"``: SciPy SpGEMM in row blocks.  ``"torch"``: wedge enumeration
        in row blocks on CPU or CUDA.  ``"auto"``: torch when the device is a
        GPU (a CUDA tensor or ``device="cuda"``), else GraphBLAS when installed,
        else SciPy (the fastest available, see ``benchmarks/``).
    device : str, torch.device or None, default=None
        Device of the torch backend.  ``None``: the input tensor's device, or
        for other inputs CUDA when available (backend="torch") / the host.
    chunk_size : int or None, default=None
        Rows per block for the scipy and torch backends; peak memory grows
        with ``chunk_size * k^2``.  For a Dask edge list: nodes per block
        (``None``: ``n / npartitions``).  ``None`` sizes blocks from the free memory
        of the device (a quarter of free GPU memory, an eighth of the host's
        available memory up to 1 GiB).  GraphBLAS needs no blocks (its masked
        product only allocates the output).
    binary : bool, default=False
        Count every stored edge as 1, whatever its weight.
    symmetric : {"raise", "max", "min", "mean", "ignore"}, default="raise"
        An asymmetric ``A`` raises a ValueError; "max"/"min"/"mean" symmetrize
        it first; "ignore" treats it as directed (C counts common
        out-neighbours, the mask "edges" is the directed pattern).
    self_loops : {"remove", "raise", "keep"}, default="remove"
        Drop non-zero diagonal entries, reject them, or keep them (then ``i``
        counts as its own neighbour).

    Returns
    -------
    C : scipy.sparse.csr_array of shape (n, n), float64
        Canonical CSR (sorted indices).  For a torch input: a torch sparse
        tensor (float64) on the input's device, in the input's layout (COO or
        CSR; CSR for a dense tensor).  Counts are exact integers in float64.
        For a Dask edge list: a lazy Dask DataFrame, the input's partitions
        and rows with one more column ``count``.

    See Also
    --------
    neighbor_similarity : cosine, Jaccard and Adamic-Adar on the same pattern.

    Notes
    -----
    All backends return the same pattern and the same values: integer counts
    bit for bit, weighted sums up to floating-point rounding (the summation
    order differs).  The masked product costs about ``sum_i sum_{z in N(i)}
    deg(z) ~ n k^2`` operations; when the mask is symmetric only its upper
    triangle is computed (graphblas, torch) and mirrored.

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> from manigeo.graphs import common_neighbors
    >>> A = sp.csr_array(np.array([[0, 1, 1, 0], [1, 0, 1, 0],
    ...                            [1, 1, 0, 1], [0, 0, 1, 0]]))
    >>> C = common_neighbors(A, backend="scipy")
    >>> C.toarray().astype(int)
    array([[0, 1, 1, 0],
           [1, 0, 1, 0],
           [1, 1, 0, 0],
           [0, 0, 0, 0]])
    >>> C.nnz == A.nnz  # the (2, 3) edge is an explicit zero
    True
    """
    if is_dask_dataframe(A):
        _dask_options(mask, device)
        return _dask.dask_statistic(
            A,
            kind="count",
            backend=backend,
            chunk_size=chunk_size,
            binary=binary,
            symmetric=symmetric,
            self_loops=self_loops,
        )
    chunk_size = _check_options(backend, chunk_size)
    torch_meta = _torch_meta(A)
    A = _prepare_adjacency(A, binary=binary, symmetric=symmetric, self_loops=self_loops)
    M = _prepare_mask(mask, A)
    backend, device = _resolve(backend, device, torch_meta)
    pair = binary or bool(np.all(A.data == 1.0))
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
        mask_symmetric=_edges_symmetric(mask, symmetric),
    )


def _edges_symmetric(mask, symmetric):
    """True when the mask is the pattern of an A already known symmetric."""
    if isinstance(mask, str) and symmetric != "ignore":
        return True
    return None
