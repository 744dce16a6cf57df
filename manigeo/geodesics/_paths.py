"""Shortest paths on weighted sparse graphs: all pairs, from sources, landmarks."""

from numbers import Integral
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.sparse import csgraph

from .._validation import (
    check_adjacency,
    check_dense_size,
    check_int,
    check_random_state,
    component_report,
)

_ON_DISCONNECTED = ("raise", "inf")
_LANDMARK_METHODS = ("farthest", "random")


def _progress(iterable, verbose, total, desc):
    if not verbose:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc)


def _check_graph(W, on_disconnected, directed, explicit_zeros="drop"):
    if on_disconnected not in _ON_DISCONNECTED:
        raise ValueError(
            f"on_disconnected must be one of {_ON_DISCONNECTED}, "
            f"got {on_disconnected!r}"
        )
    W = check_adjacency(
        W,
        name="W",
        symmetric="ignore" if directed else "raise",
        explicit_zeros=explicit_zeros,
    )
    if on_disconnected == "raise":
        n_comp, _, sizes = component_report(W)
        if n_comp > 1:
            raise ValueError(
                f"the graph is disconnected ({n_comp} components, largest "
                f"{sizes.max()} of {W.shape[0]} nodes): geodesic distances between "
                "components are infinite; pass on_disconnected='inf' to get inf, "
                "or restrict to the largest component"
            )
    return W


def _dijkstra_batch(W, idx, directed, unweighted):
    return csgraph.dijkstra(W, directed=directed, indices=idx, unweighted=unweighted)


def shortest_paths(
    W: Any,
    sources: ArrayLike | None = None,
    *,
    unweighted: bool = False,
    directed: bool = False,
    on_disconnected: str = "raise",
    chunk_size: int = 256,
    max_dense_bytes: int | None = None,
    n_jobs: int | None = None,
    verbose: bool = False,
) -> np.ndarray:
    """Geodesic (shortest-path) distances on a weighted sparse graph.

    Parameters
    ----------
    W : sparse matrix, array-like or networkx graph of shape (n, n)
        Non-negative edge lengths.  In a sparse matrix every stored entry is an
        edge, an explicit zero included (two nodes at distance 0, as in
        :mod:`scipy.sparse.csgraph`); in a dense array a zero means no edge.
    sources : array-like of int or None, default=None
        Rows to compute.  ``None`` computes all pairs, allowed only while the
        dense n x n result fits under ``max_dense_bytes``.
    unweighted : bool, default=False
        Count hops instead of summing lengths.
    directed : bool, default=False
        Treat W as directed (row -> column).
    on_disconnected : {"raise", "inf"}, default="raise"
        Raise a ValueError on a disconnected graph, or return ``inf`` for
        unreachable pairs.
    chunk_size : int, default=256
        Sources per Dijkstra call (a progress-bar step, a parallel work item).
    max_dense_bytes : int or None
        Size guard for the result (default :data:`manigeo._validation.MAX_DENSE_BYTES`).
    n_jobs : int or None, default=None
        Dijkstra batches run in parallel through joblib (``None`` = 1, ``-1``
        = all cores).  Inside ``with joblib.parallel_backend("dask"):`` the
        batches run on the Dask cluster.  Results do not depend on it.
    verbose : bool, default=False
        Show a progress bar.

    Returns
    -------
    D : ndarray of shape (n_sources, n)

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo.geodesics import shortest_paths
    >>> W = np.array([[0, 1, 0], [1, 0, 2], [0, 2, 0]], dtype=float)
    >>> shortest_paths(W)
    array([[0., 1., 3.],
           [1., 0., 2.],
           [3., 2., 0.]])

    A stored zero in a sparse matrix is an edge of length 0:

    >>> import scipy.sparse as sp
    >>> Z = sp.csr_array(([0.0, 0.0, 1.0, 1.0], ([0, 1, 1, 2], [1, 0, 2, 1])))
    >>> shortest_paths(Z, [0])
    array([[0., 0., 1.]])
    """
    W = _check_graph(W, on_disconnected, directed, explicit_zeros="keep")
    n = W.shape[0]
    if sources is None:
        check_dense_size(
            n,
            n,
            max_bytes=max_dense_bytes,
            what="geodesic distance matrix",
            hint="pass sources=... or use landmark_shortest_paths(W, n_landmarks=...)",
        )
        sources = np.arange(n)
    else:
        sources = np.atleast_1d(np.asarray(sources))
        if sources.ndim != 1 or not np.issubdtype(sources.dtype, np.integer):
            raise TypeError("sources must be a 1-D array of integer node indices")
        if sources.size and (sources.min() < -n or sources.max() >= n):
            raise ValueError(
                f"sources must be node indices in [0, {n}), got out-of-range"
            )
        sources = sources % n
        check_dense_size(
            len(sources),
            n,
            max_bytes=max_dense_bytes,
            what="geodesic distance block",
            hint="pass fewer sources",
        )
    chunk_size = check_int(chunk_size, "chunk_size", minimum=1)
    D = np.empty((len(sources), n))
    starts = range(0, len(sources), chunk_size)
    if n_jobs is not None and n_jobs != 1 and len(starts) > 1:
        from joblib import Parallel, delayed

        rows = Parallel(n_jobs=n_jobs)(
            delayed(_dijkstra_batch)(
                W, sources[s : s + chunk_size], directed, unweighted
            )
            for s in _progress(starts, verbose, len(starts), "shortest paths")
        )
        for s, block in zip(starts, rows, strict=True):
            D[s : s + len(block)] = block
        return D
    for s in _progress(starts, verbose, len(starts), "shortest paths"):
        idx = sources[s : s + chunk_size]
        D[s : s + len(idx)] = _dijkstra_batch(W, idx, directed, unweighted)
    return D


def _landmark_rows(W, landmarks, unweighted, n_jobs, verbose):
    """Dijkstra rows of the landmarks, in about 8 batches (for ``n_jobs``)."""
    chunk_size = max(1, min(256, -(-max(len(landmarks), 1) // 8)))
    return shortest_paths(
        W,
        landmarks,
        unweighted=unweighted,
        chunk_size=chunk_size,
        n_jobs=n_jobs,
        verbose=verbose,
    )


def select_landmarks(
    W: Any,
    n_landmarks: int,
    *,
    method: str = "farthest",
    unweighted: bool = False,
    random_state: Any = None,
    return_distances: bool = False,
    n_jobs: int | None = None,
    verbose: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Choose landmark nodes for large-n geodesic computations.

    Parameters
    ----------
    W : sparse matrix of shape (n, n)
        Edge lengths of a connected graph.
    n_landmarks : int
        Number of landmarks (``1 <= n_landmarks <= n``).
    method : {"farthest", "random"}, default="farthest"
        Farthest-point sampling in the graph metric (start at a random node,
        then repeatedly add the node farthest from the chosen set), or uniform
        sampling without replacement.
    random_state : int, RandomState or None
    return_distances : bool, default=False
        Also return the ``(n_landmarks, n)`` distances from each landmark
        (free with ``method="farthest"``).
    n_jobs : int or None, default=None
        Parallel Dijkstra batches through joblib for ``method="random"`` (see
        :func:`shortest_paths`).  Farthest-point sampling is sequential: each
        landmark depends on the distances from the previous ones.
    verbose : bool, default=False

    Returns
    -------
    landmarks : ndarray of shape (n_landmarks,)
    D : ndarray of shape (n_landmarks, n), only if ``return_distances``

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo.geodesics import select_landmarks
    >>> path = np.diag(np.ones(4), 1) + np.diag(np.ones(4), -1)   # 5-node path
    >>> select_landmarks(path, 2, random_state=0)
    array([4, 0])
    """
    if method not in _LANDMARK_METHODS:
        raise ValueError(f"method must be one of {_LANDMARK_METHODS}, got {method!r}")
    W = _check_graph(W, "raise", False, explicit_zeros="keep")
    n = W.shape[0]
    m = check_int(n_landmarks, "n_landmarks", minimum=1, maximum=n)
    rng = check_random_state(random_state)
    if method == "random":
        landmarks = np.sort(rng.choice(n, size=m, replace=False))
        if return_distances:
            return landmarks, _landmark_rows(W, landmarks, unweighted, n_jobs, verbose)
        return landmarks
    check_dense_size(m, n, what="landmark distance block", hint="use fewer landmarks")
    landmarks = np.empty(m, dtype=np.intp)
    D = np.empty((m, n))
    nearest = np.full(n, np.inf)
    current = int(rng.randint(n))
    for k in _progress(range(m), verbose, m, "landmarks"):
        landmarks[k] = current
        D[k] = csgraph.dijkstra(
            W, directed=False, indices=current, unweighted=unweighted
        )
        np.minimum(nearest, D[k], out=nearest)
        current = int(np.argmax(nearest))
    return (landmarks, D) if return_distances else landmarks


def landmark_shortest_paths(
    W,
    n_landmarks,
    *,
    method="farthest",
    unweighted=False,
    random_state=None,
    n_jobs=None,
    verbose=False,
):
    """Landmarks and their geodesic distances to every node.

    Parameters
    ----------
    W : sparse matrix of shape (n, n) or dask.dataframe.DataFrame
        Edge lengths of a connected graph, or a Dask edge list (``src``,
        ``dst``, ``weight``): then see :func:`dask_landmark_paths` (same
        landmarks for the same ``random_state`` with ``method="random"``) and
        ``D`` is a Dask array.
    n_landmarks : int or array-like of int
        Number of landmarks to choose (see :func:`select_landmarks`), or the
        landmark nodes themselves.
    method : {"farthest", "random"}, default="farthest"
        How landmarks are chosen when ``n_landmarks`` is a number.
    unweighted : bool, default=False
        Count hops instead of summing lengths.
    random_state : int, RandomState or None, default=None
    n_jobs : int or None, default=None
        Dijkstra batches in parallel through joblib (given or random
        landmarks); ``with joblib.parallel_backend("dask"):`` runs them on a
        Dask cluster.  Results are identical for every ``n_jobs``.
    verbose : bool, default=False

    Returns
    -------
    landmarks : ndarray of shape (n_landmarks,)
    D : ndarray of shape (n_landmarks, n)

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo.geodesics import landmark_shortest_paths
    >>> W = np.array([[0, 1, 0], [1, 0, 2], [0, 2, 0]], dtype=float)
    >>> landmarks, D = landmark_shortest_paths(W, [0, 2], n_jobs=2)
    >>> D
    array([[0., 1., 3.],
           [3., 2., 0.]])
    """
    from .._backend import is_dask_dataframe
    from ._dask import dask_landmark_paths

    if is_dask_dataframe(W):  # distances come back as a Dask array
        return dask_landmark_paths(
            W,
            n_landmarks,
            method=method,
            unweighted=unweighted,
            random_state=random_state,
        )
    if not isinstance(n_landmarks, Integral) or isinstance(n_landmarks, bool):
        landmarks = np.atleast_1d(np.asarray(n_landmarks))
        if landmarks.ndim != 1 or not np.issubdtype(landmarks.dtype, np.integer):
            raise TypeError(
                "n_landmarks must be an integer or a 1-D array of node indices"
            )
        return landmarks, _landmark_rows(W, landmarks, unweighted, n_jobs, verbose)
    return select_landmarks(
        W,
        n_landmarks,
        method=method,
        unweighted=unweighted,
        random_state=random_state,
        return_distances=True,
        n_jobs=n_jobs,
        verbose=verbose,
    )
