"""GraphBLAS backend (python-graphblas over SuiteSparse:GraphBLAS).

The masked product is one ``GrB_mxm`` with a structural mask, which SuiteSparse
runs as a masked dot product (its "dot3" method): only the entries of the mask
are computed, each as a sparse dot product of a row of L and a row of R.
Binary counts use the ``plus_pair`` semiring (values are never read), weighted
ones ``plus_times``.  When the product is symmetric and the mask pattern is too,
only the upper triangle of the mask is computed and mirrored, halving the work.
"""

import threading

from manigeo._optional import import_optional

#: python-graphblas initialises SuiteSparse lazily on first use, and two threads
#: doing so at once (threaded Dask workers, joblib threads) make the second
#: fail with "GraphBLAS is already initialized"; initialise under a lock
_INIT_LOCK = threading.Lock()


def available():
    """True when python-graphblas (with SuiteSparse) can be imported."""
    try:
        import graphblas  # noqa: F401
    except ImportError:
        return False
    return True


def _import():
    gb = import_optional("graphblas", "graphblas", purpose="backend='graphblas'")
    with _INIT_LOCK:
        gb.Matrix  # noqa: B018  (first access runs the one-time initialisation)
    return gb


def _to_gb(gb, A, values=None):
    """GraphBLAS copy of a CSR array (``values``: a scalar for an iso matrix)."""
    return gb.Matrix.from_csr(
        A.indptr,
        A.indices,
        A.data if values is None else values,
        dtype=gb.dtypes.FP64,
        nrows=A.shape[0],
        ncols=A.shape[1],
    )


def _semiring(gb, pair):
    name = "plus_pair" if pair else "plus_times"
    return getattr(gb.semiring, name)[gb.dtypes.FP64]


def masked_values(L, R, M, *, pair, symmetric):
    """Values of ``L @ R.T`` at the entries of ``M`` (aligned with ``M``'s CSR).

    ``symmetric`` means the product is symmetric and ``M``'s pattern is too.
    """
    import numpy as np

    gb = _import()
    # plus_pair never reads values: import the operands as iso matrices
    gL = _to_gb(gb, L, 1.0 if pair else None)
    gR = gL if R is L else _to_gb(gb, R, 1.0 if pair else None)
    if M is L:  # mask="edges": reuse L's structure, zero-valued
        gM = gL.apply(gb.binary.times, right=0.0).new()
    else:
        gM = _to_gb(gb, M, 0.0)
    target = gb.select.triu(gM).new() if symmetric else gM
    del gM  # intermediates are freed as soon as possible: peak memory
    # target keeps its own (zero) entries: counts accumulate into them, so
    # pairs without a common neighbour stay as explicit zeros
    target(mask=target.S, accum=gb.binary.plus) << gL.mxm(gR.T, _semiring(gb, pair))
    del gL, gR
    if symmetric:
        upper = gb.select.triu(target, 1).new()
        target = target.ewise_add(upper.T, gb.binary.plus).new()
        del upper
    indptr, indices, values = target.to_csr(dtype=gb.dtypes.FP64)
    del target, indptr
    if len(values) != M.nnz or not np.array_equal(indices, M.indices):
        raise RuntimeError(  # pragma: no cover - would be a GraphBLAS bug
            "GraphBLAS result does not have the mask's pattern"
        )
    del indices
    return np.asarray(values, dtype=np.float64)


def full_product(L, R, *, pair):
    """The whole ``L @ R.T`` as a canonical scipy CSR array."""
    import numpy as np
    import scipy.sparse as sp

    gb = _import()
    gL = _to_gb(gb, L)
    gR = gL if R is L else _to_gb(gb, R)
    C = gL.mxm(gR.T, _semiring(gb, pair)).new()
    indptr, indices, values = C.to_csr(dtype=gb.dtypes.FP64)
    return sp.csr_array(
        (
            np.asarray(values, dtype=np.float64),
            indices.astype(np.int64),
            indptr.astype(np.int64),
        ),
        shape=(L.shape[0], R.shape[0]),
    )
