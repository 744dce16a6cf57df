"""Dask engine: common-neighbour statistics of an edge list larger than one worker.

The edge list is a ``dask.dataframe.DataFrame`` with integer columns ``src``
and ``dst`` (every undirected edge in both directions) and an optional
``weight``.  Nodes ``0..n-1`` are cut into row blocks of ``b`` consecutive ids.
The task graph is built here (``dask.delayed`` + ``from_delayed``), not with
dask's sparse ``dot``:

1. two cheap passes over the partitions: the node count, then the set of
   (row block, column block) pairs holding edges (the *block pattern*);
2. each partition is split into pieces by block pair;
3. tile ``I`` = CSR of the rows of block ``I`` (global column ids), from the
   pieces of every partition;
4. for every block pair ``(I, J)`` of the pattern, one masked product
   ``A[I] @ A[J].T`` on the entries of block ``(I, J)`` (GraphBLAS ``mxm`` with
   a structural mask, as the single-machine engine), holding tiles ``I`` and
   ``J`` only; the same task checks that block ``(I, J)`` mirrors ``(J, I)``;
5. the values of each row block are looked up for the pieces of each input
   partition, so output partition ``p`` is input partition ``p`` with one more
   column.  Every row must receive exactly one value, otherwise the task
   raises: a result is never silently partial.
"""

import math

import numpy as np
import scipy.sparse as sp

from ..._backend import is_dask_dataframe

_DASK_HINT = 'pip install "manigeo[dask]"'


def import_dask():
    """Import dask and dask.dataframe, or raise an ImportError naming the extra."""
    try:
        import dask
        import dask.dataframe as dd
    except ImportError as exc:
        raise ImportError(
            f"Dask edge lists need dask[dataframe] and distributed: {_DASK_HINT}"
        ) from exc
    return dask, dd


# ---------------------------------------------------------------- validation
def _check_edge_frame(edges, weight):
    """Column names present, integer ids, numeric weights; returns has_weight."""
    if not is_dask_dataframe(edges):
        raise TypeError(
            "edges must be a dask.dataframe.DataFrame with integer columns 'src' "
            f"and 'dst', got {type(edges).__name__}"
        )
    cols = list(edges.columns)
    for c in ("src", "dst"):
        if c not in cols:
            raise ValueError(
                f"a Dask edge list needs integer columns 'src' and 'dst', got {cols}"
            )
        if not np.issubdtype(np.dtype(edges.dtypes[c]), np.integer):
            raise TypeError(
                f"edge column {c!r} must hold integer node ids, got {edges.dtypes[c]}"
            )
    has_weight = weight is not None and weight in cols
    if has_weight and not np.issubdtype(np.dtype(edges.dtypes[weight]), np.number):
        raise TypeError(
            f"edge column {weight!r} must be numeric, got {edges.dtypes[weight]}"
        )
    return has_weight


def _partition_range(df):
    """``(rows, min id, max id)`` of one partition (ids None when empty)."""
    if len(df) == 0:
        return 0, None, None
    s = df["src"].to_numpy()
    d = df["dst"].to_numpy()
    return len(df), int(min(s.min(), d.min())), int(max(s.max(), d.max()))


def _partition_pairs(df, b, n):
    """Unique ``(src block, dst block)`` pairs of one partition, shape (k, 2)."""
    if len(df) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    nb = n // b + 1
    src = df["src"].to_numpy().astype(np.int64)
    dst = df["dst"].to_numpy().astype(np.int64)
    code = np.unique((src // b) * nb + dst // b)  # 1-D unique: a fast sort
    return np.stack([code // nb, code % nb], axis=1)


# ---------------------------------------------------------------------- plan
class EdgeBlocks:
    """A Dask edge list cut into node blocks: the plan shared by the engines.

    Built by :func:`edge_blocks`.  Attributes:

    - ``n_nodes`` (largest id + 1), ``n_edges`` (rows of the edge list);
    - ``block_size``, ``n_blocks``;
    - ``pairs``: sorted ``(I, J)`` block pairs holding edges, shape (k, 2);
    - ``partition_blocks``: for each input partition, the row blocks it touches;
    - ``has_weight``, ``weight`` (column name or None);
    - ``partitions``: the input partitions as Delayed;
    - ``pieces``: ``pieces[p]`` is a Delayed dict ``{(I, J): (src, dst, w,
      pos)}`` of partition ``p`` split by block pair (``pos``: row position
      in the partition).

    Examples
    --------
    >>> import pandas as pd
    >>> import dask.dataframe as dd
    >>> from manigeo.graphs import EdgeBlocks
    >>> df = pd.DataFrame({"src": [0, 3], "dst": [3, 0]})
    >>> plan = EdgeBlocks(dd.from_pandas(df, npartitions=1), chunk_size=2)
    >>> plan.n_edges, plan.bounds(1)
    (2, (2, 4))
    """

    def __init__(self, edges, *, chunk_size=None, weight="weight"):
        dask, _ = import_dask()
        self.has_weight = _check_edge_frame(edges, weight)
        self.weight = weight if self.has_weight else None
        self.edges = edges
        self.partitions = edges.to_delayed()
        stats = dask.compute(
            *[dask.delayed(_partition_range)(d) for d in self.partitions]
        )
        lows = [s[1] for s in stats if s[0]]
        if lows and min(lows) < 0:
            raise ValueError(f"node ids must be non-negative, got {min(lows)}")
        self.n_nodes = max([s[2] for s in stats if s[0]], default=-1) + 1
        self.n_edges = int(sum(s[0] for s in stats))
        n_parts = max(len(self.partitions), 1)
        if chunk_size is None:
            chunk_size = max(math.ceil(self.n_nodes / n_parts), 1)
        self.block_size = int(chunk_size)
        self.n_blocks = math.ceil(self.n_nodes / self.block_size)
        per_part = dask.compute(
            *[
                dask.delayed(_partition_pairs)(d, self.block_size, self.n_nodes)
                for d in self.partitions
            ]
        )
        allp = np.concatenate([np.zeros((0, 2), np.int64), *per_part])
        nb = self.n_blocks + 1
        code = np.unique(allp[:, 0] * nb + allp[:, 1])
        self.pairs = np.stack([code // nb, code % nb], axis=1)
        self.partition_blocks = [np.unique(p[:, 0]) for p in per_part]
        self.pieces = [
            dask.delayed(_split, pure=True)(
                d, self.block_size, self.weight, self.n_nodes, pp
            )
            for d, pp in zip(self.partitions, per_part, strict=True)
        ]

    def bounds(self, block):
        """``(lo, hi)`` node ids of a block."""
        lo = block * self.block_size
        return lo, min(lo + self.block_size, self.n_nodes)

    def block_edges(self, i, j):
        """Delayed ``(src, dst, w)`` of the edges from block ``i`` to block ``j``
        (ids local to each block, sorted by ``dst``); empty arrays if none."""
        import dask

        parts = [
            dask.delayed(_get_piece, pure=True)(self.pieces[p], i, j)
            for p in range(len(self.pieces))
            if i in self.partition_blocks[p]
        ]
        lo_i, lo_j = i * self.block_size, j * self.block_size
        return dask.delayed(_concat_block, pure=True)(lo_i, lo_j, *parts)

    def columns_of(self, block):
        """Column blocks ``J`` with edges in row block ``block``."""
        return self.pairs[self.pairs[:, 0] == block, 1]

    def check_mirrored(self):
        """Raise when a block pair ``(I, J)`` holds edges but ``(J, I)`` none."""
        have = {tuple(p) for p in self.pairs.tolist()}
        for i, j in have:
            if (j, i) not in have:
                raise ValueError(
                    "the edge list is not symmetric: node block "
                    f"{i} -> {j} holds edges but {j} -> {i} none; every "
                    "undirected edge must appear as (src, dst) and (dst, src) "
                    "(or pass symmetric='ignore' for a directed graph)"
                )


def edge_blocks(edges, *, chunk_size=None, weight="weight"):
    """Cut a Dask edge list into blocks of consecutive node ids.

    Two passes over the partitions are computed eagerly (the node count, then
    the pattern of block pairs holding edges); the pieces stay lazy.  Persist
    ``edges`` first when it is expensive to produce.

    Parameters
    ----------
    edges : dask.dataframe.DataFrame
        Integer columns ``src``, ``dst``; optional numeric ``weight``.
    chunk_size : int or None, default=None
        Nodes per block; ``None``: ``ceil(n_nodes / edges.npartitions)``.
    weight : str or None, default="weight"
        Name of the weight column (ignored when absent).

    Returns
    -------
    EdgeBlocks
        The plan (node count, block size, block pattern, lazy pieces).

    Examples
    --------
    >>> import pandas as pd
    >>> import dask.dataframe as dd
    >>> from manigeo.graphs import edge_blocks
    >>> df = pd.DataFrame({"src": [0, 1, 1, 2], "dst": [1, 0, 2, 1]})
    >>> plan = edge_blocks(dd.from_pandas(df, npartitions=2), chunk_size=2)
    >>> plan.n_nodes, plan.n_blocks, plan.pairs.tolist()
    (3, 2, [[0, 0], [0, 1], [1, 0]])
    """
    return EdgeBlocks(edges, chunk_size=chunk_size, weight=weight)


# --------------------------------------------------------------------- tasks
def _split(df, b, weight, n, planned):
    """Partition ``df`` split by block pair: ``{(I, J): (src, dst, w, pos)}``.

    ``planned``: the block pairs the plan saw in this partition; a partition
    that reads differently now (a non-deterministic source) raises.
    """
    src = df["src"].to_numpy().astype(np.int64)
    dst = df["dst"].to_numpy().astype(np.int64)
    found = _partition_pairs(df, b, n)
    if (len(src) == 0) != (len(planned) == 0) or (
        len(src)
        and (
            max(src.max(), dst.max()) >= n
            or min(src.min(), dst.min()) < 0
            or not np.array_equal(found, planned)
        )
    ):
        raise RuntimeError(
            "the edge list changed since it was planned (a partition now holds "
            "other node ids); persist the edge list (edges.persist()) before "
            "passing it, so that every pass reads the same rows"
        )
    if weight is None:
        w = np.ones(len(src))
    else:
        w = df[weight].to_numpy().astype(np.float64)
        if not np.all(np.isfinite(w)):
            raise ValueError("edge weights must be finite (NaN or inf found)")
    key = (src // b) * (n // b + 1) + dst // b
    order = np.argsort(key, kind="stable")
    key = key[order]
    cut = np.flatnonzero(np.diff(key)) + 1
    out = {}
    for seg in np.split(np.arange(len(key)), cut):
        if len(seg) == 0:
            continue
        idx = order[seg]
        i, j = int(src[idx[0]] // b), int(dst[idx[0]] // b)
        out[(i, j)] = (src[idx], dst[idx], w[idx], idx)
    return out


class Tile:
    """Rows ``lo..hi`` of the adjacency: ``A`` (CSR, global column ids, without
    removed self-loops) and ``M`` (the pattern of the input rows, every entry,
    self-loops included; ``M is A`` when they coincide)."""

    def __init__(self, lo, hi, A, M):
        self.lo, self.hi, self.A, self.M = lo, hi, A, M


def _tile(lo, hi, n, binary, self_loops, *pieces):
    """Tile of rows ``lo..hi`` from the pieces of every partition."""
    pieces = [p for p in pieces if p is not None]
    if pieces:
        s = np.concatenate([p[0] for p in pieces]) - lo
        d = np.concatenate([p[1] for p in pieces])
        w = np.concatenate([p[2] for p in pieces])
    else:
        s = d = np.zeros(0, dtype=np.int64)
        w = np.zeros(0)
    if binary:
        w = np.ones(len(w))
    shape = (hi - lo, n)
    M = sp.csr_array((np.ones(len(s)), (s, d)), shape=shape)
    M.sum_duplicates()
    M.data[:] = 1.0
    loops = (s + lo) == d
    if loops.any() and self_loops == "raise":
        node = int(d[loops][0])
        raise ValueError(
            f"the edge list has self-loops (first at node {node}); "
            "pass self_loops='remove' to drop them"
        )
    keep = ~loops if self_loops == "remove" else np.ones(len(s), bool)
    A = sp.csr_array((w[keep], (s[keep], d[keep])), shape=shape)
    A.sum_duplicates()  # duplicated rows add up, as in a COO -> CSR conversion
    A.sort_indices()
    if A.nnz == M.nnz:
        M = A
    return Tile(lo, hi, A, M)


def _cols(X, lo, hi):
    """Columns ``lo..hi`` of a CSR (relabelled ``0..hi-lo``), canonical."""
    Y = sp.csr_array(X[:, lo:hi])
    Y.sort_indices()
    return Y


def _check_mirror(TI, TJ):
    """Block ``(I, J)`` of the input equals the transpose of block ``(J, I)``."""
    for attr, what in (("M", "pattern"), ("A", "weights")):
        X = _cols(getattr(TI, attr), TJ.lo, TJ.hi)
        Y = sp.csr_array(_cols(getattr(TJ, attr), TI.lo, TI.hi).T)
        Y.sort_indices()
        same = np.array_equal(X.indptr, Y.indptr) and np.array_equal(
            X.indices, Y.indices
        )
        if same and attr == "A":
            same = np.array_equal(X.data, Y.data)
        if not same:
            D = sp.coo_array(X != Y)
            i, j = int(D.row[0]) + TI.lo, int(D.col[0]) + TJ.lo
            raise ValueError(
                f"the edge list is not symmetric ({what} differ first at "
                f"({i}, {j}) vs ({j}, {i})); every undirected edge must appear "
                "as (src, dst) and (dst, src) with the same weight, or pass "
                "symmetric='ignore'"
            )


def _pair(TI, TJ, *, backend, check_symmetric, kind, colweight):
    """Statistic on the mask entries of block ``(I, J)`` (CSR order of the block)."""
    from ._common import _masked
    from ._similarity import _gather, _safe_divide

    if check_symmetric:
        _check_mirror(TI, TJ)
    M = _cols(TI.M, TJ.lo, TJ.hi)
    if M.nnz == 0:
        return np.zeros(0)
    L, R = TI.A, TJ.A
    if kind == "adamic_adar":
        R = sp.csr_array((colweight[R.indices], R.indices, R.indptr), shape=R.shape)
    pair = kind != "adamic_adar" and bool(np.all(L.data == 1.0))
    pair = pair and bool(np.all(R.data == 1.0))
    C = _masked(
        L,
        R,
        M,
        pair=pair,
        symmetric_product=TI.lo == TJ.lo and kind != "adamic_adar",
        backend=backend,
        device=None,
        chunk_size=None,
    )
    C = np.asarray(C, dtype=np.float64)
    if kind in ("count", "adamic_adar"):
        return C
    sI = np.asarray(L.multiply(L).sum(axis=1)).ravel()
    sJ = np.asarray(R.multiply(R).sum(axis=1)).ravel()
    rows = np.repeat(np.arange(M.shape[0]), np.diff(M.indptr))
    if kind == "cosine":
        a_ij = _gather(_cols(L, TJ.lo, TJ.hi), M.indptr, M.indices)
        RT = sp.csr_array(_cols(R, TI.lo, TI.hi).T)
        RT.sort_indices()
        a_ji = _gather(RT, M.indptr, M.indices)
        den = np.maximum(sI[rows] - a_ij**2, 0.0) * np.maximum(
            sJ[M.indices] - a_ji**2, 0.0
        )
        return _safe_divide(C, np.sqrt(den))
    return _safe_divide(C, sI[rows] + sJ[M.indices] - C)


def _mirrored(values, TJ, TI):
    """Values of block ``(I, J)`` from those of block ``(J, I)`` (transposed)."""
    M = _cols(TJ.M, TI.lo, TI.hi)
    X = sp.csr_array((values, M.indices, M.indptr), shape=M.shape)
    Y = sp.csr_array(X.T)  # explicit zeros are kept
    Y.sort_indices()
    return np.asarray(Y.data, dtype=np.float64)


def _assemble(TI, b, blocks, *values):
    """Values of the whole row block, aligned with ``TI.M``'s CSR."""
    M = TI.M
    out = np.full(M.nnz, np.nan)
    colblock = M.indices // b
    for j, v in zip(blocks, values, strict=True):
        sel = colblock == j
        if int(sel.sum()) != len(v):
            raise RuntimeError(  # pragma: no cover - engine bug guard
                f"block ({TI.lo // b}, {j}) returned {len(v)} values for "
                f"{int(sel.sum())} entries"
            )
        out[sel] = v
    if np.isnan(out).any():
        raise RuntimeError(  # pragma: no cover - engine bug guard
            f"row block {TI.lo // b} is incomplete: some entries got no value"
        )
    return out


def _lookup(piece, TI, values):
    """``(pos, value)`` for the rows of one piece, read from its row block."""
    src, dst, _, pos = piece
    M = TI.M
    n = M.shape[1]
    rows = np.repeat(np.arange(M.shape[0], dtype=np.int64), np.diff(M.indptr))
    key_m = rows * n + M.indices
    key = (src - TI.lo) * n + dst
    at = np.minimum(np.searchsorted(key_m, key), max(len(key_m) - 1, 0))
    if len(key) and (len(key_m) == 0 or not np.array_equal(key_m[at], key)):
        raise RuntimeError(  # pragma: no cover - engine bug guard
            "an edge of the input is missing from its tile"
        )
    return pos, values[at] if len(key) else np.zeros(0)


def _combine(df, column, *found):
    """Input partition plus the new column; every row must get one value."""
    vals = np.full(len(df), np.nan)
    filled = np.zeros(len(df), dtype=np.int64)
    for pos, v in found:
        vals[pos] = v
        filled[pos] += 1
    if not np.all(filled == 1):
        raise RuntimeError(
            f"{int(np.sum(filled != 1))} of {len(df)} rows received no (or more "
            "than one) value: refusing to return a partial result"
        )
    out = df.copy()
    out[column] = vals
    return out


# ---------------------------------------------------------------- the engine
def dask_statistic(
    edges,
    *,
    kind="count",
    backend="auto",
    chunk_size=None,
    binary=False,
    symmetric="raise",
    self_loops="remove",
    weight="weight",
):
    """Common-neighbour statistic of a Dask edge list, as a lazy Dask DataFrame.

    ``kind``: "count" (``common_neighbors``) or a similarity of
    ``neighbor_similarity``.  The output column is ``count`` or ``similarity``.
    """
    dask, dd = import_dask()
    from ._common import _graphblas_backend

    if backend not in ("auto", "graphblas", "scipy"):
        raise ValueError(
            "a Dask edge list runs on backend 'auto', 'graphblas' or 'scipy' "
            f"inside each task, got {backend!r}"
        )
    if backend == "auto":
        backend = "graphblas" if _graphblas_backend.available() else "scipy"
    if symmetric not in ("raise", "ignore"):
        raise ValueError(
            "a Dask edge list must already be symmetric: symmetric must be "
            f"'raise' (checked blockwise) or 'ignore' (directed), got {symmetric!r}"
        )
    if self_loops not in ("remove", "raise", "keep"):
        raise ValueError(
            f"self_loops must be 'remove', 'raise' or 'keep', got {self_loops!r}"
        )
    if chunk_size is not None:
        from ..._validation import check_int

        chunk_size = check_int(chunk_size, "chunk_size", minimum=1)
    plan = EdgeBlocks(edges, chunk_size=chunk_size, weight=weight)
    if symmetric == "raise":
        plan.check_mirrored()
    column = "count" if kind == "count" else "similarity"
    binary = binary or kind == "adamic_adar"
    delayed = dask.delayed
    b, n = plan.block_size, plan.n_nodes

    rows = {
        (p, int(i)): delayed(_piece_rows, pure=True)(plan.pieces[p], int(i))
        for p in range(len(plan.pieces))
        for i in plan.partition_blocks[p]
    }
    tiles = {}
    for i in range(plan.n_blocks):
        if not len(plan.columns_of(i)) and not (plan.pairs[:, 1] == i).any():
            continue
        lo, hi = plan.bounds(i)
        parts = [rows[p, i] for p in range(len(plan.pieces)) if (p, i) in rows]
        tiles[i] = delayed(_tile, pure=True)(lo, hi, n, binary, self_loops, *parts)
    colweight = None
    if kind == "adamic_adar":
        counts = [delayed(_column_counts)(tiles[i], n) for i in tiles]
        colweight = delayed(_adamic_weights)(n, *counts)

    # symmetric input: block (J, I) is the transpose of block (I, J), and so
    # are its values (C and the similarities are symmetric), so only pairs
    # with I <= J run a product; the others transpose its result
    mirror = symmetric == "raise"
    pair_values = {}
    for i, j in plan.pairs.tolist():
        if mirror and j < i:
            continue
        pair_values[i, j] = delayed(_pair, pure=True)(
            tiles[i],
            tiles[j],
            backend=backend,
            check_symmetric=mirror,
            kind=kind,
            colweight=colweight,
        )
    block_values = {}
    for i in range(plan.n_blocks):
        js = [int(j) for j in plan.columns_of(i)]
        if not js:
            continue
        vals = [
            delayed(_mirrored, pure=True)(pair_values[j, i], tiles[j], tiles[i])
            if mirror and j < i
            else pair_values[i, j]
            for j in js
        ]
        block_values[i] = delayed(_assemble, pure=True)(tiles[i], b, js, *vals)

    outs = []
    for p, part in enumerate(plan.partitions):
        found = [
            delayed(_lookup)(rows[p, int(i)], tiles[int(i)], block_values[int(i)])
            for i in plan.partition_blocks[p]
        ]
        outs.append(delayed(_combine)(part, column, *found))
    meta = edges._meta.assign(**{column: np.zeros(0)})
    return dd.from_delayed(
        outs, meta=meta, divisions=edges.divisions, verify_meta=False
    )


def _get_piece(pieces, i, j):
    return pieces.get((i, j))


def _concat_block(lo_i, lo_j, *parts):
    parts = [p for p in parts if p is not None]
    if not parts:
        z = np.zeros(0, dtype=np.int64)
        return z, z, np.zeros(0)
    s = np.concatenate([p[0] for p in parts]) - lo_i
    d = np.concatenate([p[1] for p in parts]) - lo_j
    w = np.concatenate([p[2] for p in parts])
    order = np.argsort(d, kind="stable")
    return s[order], d[order], w[order]


def _piece_rows(pieces, i):
    """Concatenated pieces ``(i, *)`` of one partition: its rows in row block i."""
    parts = [v for (a, _), v in pieces.items() if a == i]
    return tuple(np.concatenate([p[k] for p in parts]) for k in range(4))


def _column_counts(tile, n):
    return np.bincount(tile.A.indices, minlength=n)


def _adamic_weights(n, *counts):
    k = np.zeros(n, dtype=np.int64)
    for c in counts:
        k += c
    w = np.zeros(n)
    w[k >= 2] = 1.0 / np.log(k[k >= 2])
    return w
