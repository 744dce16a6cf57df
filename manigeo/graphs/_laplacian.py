"""Graph Laplacians of sparse weight matrices."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from .._validation import check_adjacency

_KINDS = ("combinatorial", "symmetric", "random_walk")


def laplacian(
    W: Any, kind: str = "combinatorial", *, return_degree: bool = False
) -> sp.csr_array | tuple[sp.csr_array, np.ndarray]:
    """Graph Laplacian of a symmetric non-negative weight matrix.

    Parameters
    ----------
    W : sparse matrix, array-like, networkx graph or torch tensor of shape (n, n)
        Symmetric weights; self-loops are removed.
    kind : {"combinatorial", "symmetric", "random_walk"}, default="combinatorial"
        ``L = D - W``, ``I - D^{-1/2} W D^{-1/2}`` or ``I - D^{-1} W``.  Isolated
        nodes (degree 0) get a zero row in every kind.
    return_degree : bool, default=False
        Also return the degree vector.

    Returns
    -------
    L : scipy.sparse.csr_array of shape (n, n)
    degree : ndarray of shape (n,), only if ``return_degree``

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo.graphs import laplacian
    >>> W = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    >>> laplacian(W).toarray()
    array([[ 1., -1.,  0.],
           [-1.,  2., -1.],
           [ 0., -1.,  1.]])
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")
    W = check_adjacency(W, name="W")
    n = W.shape[0]
    deg = np.asarray(W.sum(axis=1)).ravel()
    isolated = deg == 0
    if kind == "combinatorial":
        L = sp.diags_array(deg) - W
    else:
        inv = np.zeros(n)
        if kind == "symmetric":
            inv[~isolated] = 1.0 / np.sqrt(deg[~isolated])
            M = sp.diags_array(inv) @ W @ sp.diags_array(inv)
        else:
            inv[~isolated] = 1.0 / deg[~isolated]
            M = sp.diags_array(inv) @ W
        L = sp.diags_array((~isolated).astype(float)) - M
    L = sp.csr_array(L)
    L.sort_indices()
    return (L, deg) if return_degree else L
