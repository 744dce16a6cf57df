"""Landmark shortest paths on a Dask edge list.

Two strategies over the node blocks of :func:`manigeo.graphs.edge_blocks`:

- ``"local"`` (the graph fits on one worker): one task gathers the edge list
  into a CSR matrix, then batches of landmarks run SciPy's Dijkstra, one task
  per batch;
- ``"blockwise"`` (it does not): multi-source Bellman-Ford as a min-plus
  relaxation over the blocks.  The distances ``D`` (landmarks x nodes) live in
  column blocks ``D[:, J]``; one round updates every active block ``J`` from
  the blocks ``I`` with edges into it (``D[:, j] = min(D[:, j], D[:, i] +
  w_ij)``) and then relaxes the edges inside ``J`` to a fixed point, so a
  round advances every shortest path across one block boundary.  Rounds repeat
  until no block changes (at most ``n_blocks`` rounds beyond the first on a
  path that enters each block once).  A task holds one column block of ``D``,
  its incoming edge blocks and the source blocks of ``D``.
"""

import numpy as np

from .._validation import check_int, check_random_state

_STRATEGIES = ("auto", "local", "blockwise")
#: bytes per stored edge while a worker builds and searches the CSR graph
_BYTES_PER_EDGE = 48
#: candidate entries (landmarks x edges) per vectorized relaxation step
_RELAX_CHUNK = 1 << 22


def _relax(D_dst, D_src, src, dst, w):
    """``D_dst[:, j] = min(D_dst[:, j], D_src[:, i] + w)`` over edges sorted by j.

    Returns True when an entry decreased.
    """
    if len(src) == 0:
        return False
    m = D_dst.shape[0]
    step = max(_RELAX_CHUNK // max(m, 1), 1)
    changed = False
    for a in range(0, len(src), step):
        s, d, ww = src[a : a + step], dst[a : a + step], w[a : a + step]
        cand = D_src[:, s] + ww
        starts = np.flatnonzero(np.r_[True, d[1:] != d[:-1]])
        best = np.minimum.reduceat(cand, starts, axis=1)
        cols = d[starts]
        better = best < D_dst[:, cols]
        if better.any():
            changed = True
            D_dst[:, cols] = np.where(better, best, D_dst[:, cols])
    return changed


def _init_block(lo, hi, landmarks):
    D = np.full((len(landmarks), hi - lo), np.inf)
    inside = (landmarks >= lo) & (landmarks < hi)
    D[np.flatnonzero(inside), landmarks[inside] - lo] = 0.0
    return D


def _update_block(D_J, internal, *incoming):
    """One round for block J: edges from other blocks, then its own edges."""
    D = D_J.copy()
    changed = False
    for k in range(0, len(incoming), 2):
        D_I, (s, d, w) = incoming[k], incoming[k + 1]
        changed |= _relax(D, D_I, s, d, w)
    s, d, w = internal
    while _relax(D, D, s, d, w):  # fixed point inside the block
        changed = True
    return D, changed


def _first(x):
    return x[0]


def _second(x):
    return x[1]


def _has_inf(D):
    return bool(np.isinf(D).any())


def _gather_csr(n, unweighted, *blocks):
    import scipy.sparse as sp

    s = np.concatenate([b[0] for b in blocks] or [np.zeros(0, np.int64)])
    d = np.concatenate([b[1] for b in blocks] or [np.zeros(0, np.int64)])
    w = np.concatenate([b[2] for b in blocks] or [np.zeros(0)])
    if unweighted:
        w = np.ones(len(w))
    W = sp.csr_array((w, (s, d)), shape=(n, n))
    W.sum_duplicates()
    return W


def _global_piece(lo_i, lo_j, block):
    s, d, w = block
    return s + lo_i, d + lo_j, w


def _local_paths(W, landmarks, unweighted, on_disconnected):
    from ._paths import shortest_paths

    return shortest_paths(
        W, landmarks, unweighted=unweighted, on_disconnected=on_disconnected
    )


def _worker_memory():
    """Smallest worker memory limit of the current Dask client, else host memory."""
    try:
        from distributed import get_client

        info = get_client().scheduler_info()["workers"]
        limits = [w.get("memory_limit") or 0 for w in info.values()]
        if limits and min(limits) > 0:
            return int(min(limits))
    except (ImportError, ValueError):
        pass
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:  # pragma: no cover
        return 4 << 30


def dask_landmark_paths(
    edges,
    n_landmarks,
    *,
    method="random",
    unweighted=False,
    random_state=None,
    strategy="auto",
    chunk_size=None,
    on_disconnected="raise",
    max_rounds=None,
    batch_size=64,
):
    """Landmarks and their geodesic distances on a Dask edge list.

    Parameters
    ----------
    edges : dask.dataframe.DataFrame
        Integer columns ``src``, ``dst`` (every undirected edge in both
        directions) and an optional non-negative ``weight`` (edge length).
    n_landmarks : int or array-like of int
        Number of landmarks, or the landmark nodes themselves.
    method : {"random", "farthest"}, default="random"
        Landmark choice when ``n_landmarks`` is a number: uniform without
        replacement (the same draw as :func:`select_landmarks` with the same
        ``random_state``), or farthest-point sampling (``strategy="local"``
        only: it runs one Dijkstra after another).
    unweighted : bool, default=False
        Count hops instead of summing weights.
    random_state : int, RandomState or None, default=None
    strategy : {"auto", "local", "blockwise"}, default="auto"
        ``"local"``: gather the graph on one worker and run Dijkstra batches
        there (one task per batch); ``"blockwise"``: multi-source Bellman-Ford
        by min-plus rounds over the node blocks, no task holding more than a
        block of distances and its incoming edge blocks.  ``"auto"``: local
        when the graph (about 48 bytes per edge) takes under a quarter of the
        smallest worker's memory limit.
    chunk_size : int or None, default=None
        Nodes per block (see :func:`manigeo.graphs.edge_blocks`).
    on_disconnected : {"raise", "inf"}, default="raise"
        Raise a ValueError when a node is unreachable, or keep ``inf``.
    max_rounds : int or None, default=None
        Cap on the Bellman-Ford rounds (``None``: ``n + 1``, never reached).
    batch_size : int, default=64
        Landmarks per Dijkstra task (local strategy).

    Returns
    -------
    landmarks : ndarray of shape (n_landmarks,)
    D : dask.array.Array of shape (n_landmarks, n_nodes)
        Geodesic distances, chunked by node blocks; equal to SciPy's Dijkstra
        (bit for bit along the same shortest path: both add the weights in
        path order).

    Examples
    --------
    >>> import pandas as pd
    >>> import dask.dataframe as dd
    >>> from manigeo.geodesics import dask_landmark_paths
    >>> df = pd.DataFrame({"src": [0, 1, 1, 2], "dst": [1, 0, 2, 1],
    ...                    "weight": [1.0, 1.0, 2.0, 2.0]})
    >>> edges = dd.from_pandas(df, npartitions=2)
    >>> lm, D = dask_landmark_paths(edges, [0, 2], strategy="blockwise",
    ...                             chunk_size=1)
    >>> D.compute()
    array([[0., 1., 3.],
           [3., 2., 0.]])
    """
    try:
        import dask
        import dask.array as da
    except ImportError as exc:  # pragma: no cover - dask is an extra
        raise ImportError(
            'Dask edge lists need dask: pip install "manigeo[dask]"'
        ) from exc

    from ..graphs import edge_blocks

    if strategy not in _STRATEGIES:
        raise ValueError(f"strategy must be one of {_STRATEGIES}, got {strategy!r}")
    if on_disconnected not in ("raise", "inf"):
        raise ValueError(
            f"on_disconnected must be 'raise' or 'inf', got {on_disconnected!r}"
        )
    plan = edge_blocks(edges, chunk_size=chunk_size)
    n = plan.n_nodes
    if n == 0:
        raise ValueError("the edge list is empty: no node to measure from")
    plan.check_mirrored()
    if plan.has_weight and not unweighted:
        wmin = float(edges[plan.weight].min().compute())
        if not wmin >= 0:  # NaN fails too
            raise ValueError(
                f"edge weights must be non-negative lengths, got minimum {wmin}"
            )
    if isinstance(n_landmarks, (int, np.integer)) and not isinstance(n_landmarks, bool):
        m = check_int(n_landmarks, "n_landmarks", minimum=1, maximum=n)
        if method != "random":
            if method != "farthest":
                raise ValueError(
                    f"method must be 'farthest' or 'random', got {method!r}"
                )
            if strategy == "blockwise":
                raise ValueError(
                    "farthest-point landmarks are chosen one Dijkstra at a time: "
                    "use method='random' (or given landmarks) with "
                    "strategy='blockwise'"
                )
        landmarks = None
    else:
        landmarks = np.atleast_1d(np.asarray(n_landmarks))
        if landmarks.ndim != 1 or not np.issubdtype(landmarks.dtype, np.integer):
            raise TypeError(
                "n_landmarks must be an integer or a 1-D array of node indices"
            )
        if landmarks.size and (landmarks.min() < 0 or landmarks.max() >= n):
            raise ValueError(f"landmarks must be node indices in [0, {n})")
        m = len(landmarks)
    if landmarks is None and method == "random":
        # the same draw as manigeo.geodesics.select_landmarks(method="random")
        rng = check_random_state(random_state)
        landmarks = np.sort(rng.choice(n, size=m, replace=False))

    if strategy == "auto":
        fits = plan.n_edges * _BYTES_PER_EDGE < _worker_memory() // 4
        strategy = "local" if fits else "blockwise"
    if landmarks is None and strategy == "blockwise":  # pragma: no cover
        raise ValueError("farthest-point landmarks need strategy='local'")

    if strategy == "local":
        blocks = [
            dask.delayed(_global_piece)(
                int(i) * plan.block_size,
                int(j) * plan.block_size,
                plan.block_edges(int(i), int(j)),
            )
            for i, j in plan.pairs
        ]
        W = dask.delayed(_gather_csr, pure=True)(n, unweighted, *blocks)
        if landmarks is None:  # farthest-point sampling on the worker
            from ._paths import select_landmarks

            res = dask.delayed(select_landmarks, nout=2)(
                W,
                m,
                method="farthest",
                unweighted=unweighted,
                random_state=random_state,
                return_distances=True,
            )
            landmarks, D = dask.compute(*res)
            return landmarks, da.from_array(D, chunks=(m, plan.block_size))
        batch_size = check_int(batch_size, "batch_size", minimum=1)
        rows = [
            da.from_delayed(
                dask.delayed(_local_paths)(
                    W, landmarks[a : a + batch_size], unweighted, on_disconnected
                ),
                shape=(len(landmarks[a : a + batch_size]), n),
                dtype=np.float64,
            )
            for a in range(0, m, batch_size)
        ]
        D = da.concatenate(rows, axis=0).rechunk((m, plan.block_size))
        return landmarks, D

    return landmarks, _blockwise(
        plan, landmarks, unweighted, on_disconnected, max_rounds, dask, da
    )


def _blockwise(plan, landmarks, unweighted, on_disconnected, max_rounds, dask, da):
    """Multi-source Bellman-Ford over the node blocks (min-plus rounds)."""
    n, B = plan.n_nodes, plan.n_blocks
    incoming = {j: [] for j in range(B)}
    edge = {}
    for i, j in plan.pairs.tolist():
        blk = plan.block_edges(i, j)
        if unweighted:
            blk = dask.delayed(_unit_weights)(blk)
        edge[i, j] = blk
        if i != j:
            incoming[j].append(i)
    empty = dask.delayed((np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)))
    edge = dict(zip(edge, dask.persist(*edge.values()), strict=True))
    D = {j: dask.delayed(_init_block)(*plan.bounds(j), landmarks) for j in range(B)}
    D = dict(zip(D, dask.persist(*D.values()), strict=True))
    active = set(range(B))
    rounds = 0
    # Bellman-Ford's bound: a shortest path has fewer than n hops
    limit = max_rounds if max_rounds is not None else n + 1
    while active:
        if rounds >= limit:
            raise RuntimeError(
                f"Bellman-Ford did not converge in {limit} rounds (max_rounds)"
            )
        rounds += 1
        new = {}
        for j in sorted(active):
            args = []
            for i in incoming[j]:
                args += [D[i], edge[i, j]]
            res = dask.delayed(_update_block, nout=2)(
                D[j], edge.get((j, j), empty), *args
            )
            new[j] = res
        keys = sorted(new)
        out = dask.persist(*[new[j][0] for j in keys])
        flags = dask.compute(*[new[j][1] for j in keys])
        changed = {j for j, f in zip(keys, flags, strict=True) if f}
        for j, d in zip(keys, out, strict=True):
            D[j] = d
        # blocks whose sources changed need another round
        active = {j for j in range(B) if any(i in changed for i in incoming[j])}
    if on_disconnected == "raise":
        if any(dask.compute(*[dask.delayed(_has_inf)(D[j]) for j in range(B)])):
            raise ValueError(
                "the graph is disconnected: some nodes cannot be reached from a "
                "landmark (infinite geodesic distance); pass on_disconnected='inf' "
                "or restrict the edge list to the largest component"
            )
    m = len(landmarks)
    cols = [
        da.from_delayed(
            D[j], shape=(m, np.subtract(*plan.bounds(j)[::-1])), dtype=float
        )
        for j in range(B)
    ]
    return da.concatenate(cols, axis=1)


def _unit_weights(block):
    s, d, w = block
    return s, d, np.ones(len(w))
