"""Exact ground-truth geodesic distances attached to generated datasets."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from .._validation import check_dense_size


class Geodesic:
    """Exact geodesic distances between the points of a generated dataset.

    Returned by the ``make_*`` generators.  Call it with index arrays.

    Parameters
    ----------
    paired : callable
        ``paired(i, j)`` -> distances between points ``i[k]`` and ``j[k]``
        (1-D index arrays of the same length).
    n_samples : int
        Number of points.
    name : str
        Manifold name for the repr.
    exact : bool, default=True
        False when the distances come from a numerical approximation (its
        accuracy is stated in the generator's docstring).

    Examples
    --------
    >>> from manigeo.datasets import make_sphere
    >>> X, geo = make_sphere(100, random_state=0)
    >>> geo([0, 1], [2, 3, 4]).shape
    (2, 3)
    >>> geo.paired([0, 1], [2, 3]).shape
    (2,)
    """

    def __init__(
        self,
        paired: Callable[[np.ndarray, np.ndarray], ArrayLike],
        n_samples: int,
        name: str,
        exact: bool = True,
    ) -> None:
        self._paired = paired
        self.n_samples = int(n_samples)
        self.name = name
        self.exact = exact

    def __repr__(self):
        return f"Geodesic({self.name}, n_samples={self.n_samples}, exact={self.exact})"

    def _index(self, idx, arg):
        if idx is None:
            return np.arange(self.n_samples)
        idx = np.asarray(idx)
        if idx.ndim == 0:
            idx = idx[None]
        if idx.ndim != 1 or not np.issubdtype(idx.dtype, np.integer):
            raise TypeError(f"{arg} must be a 1-D array of integer indices")
        if idx.size and (idx.min() < 0 or idx.max() >= self.n_samples):
            raise ValueError(f"{arg} has indices outside [0, {self.n_samples})")
        return idx

    def paired(self, i: ArrayLike, j: ArrayLike) -> np.ndarray:
        """Distances ``d(x_i[k], x_j[k])`` for two equal-length index arrays.

        Examples
        --------
        >>> from manigeo.datasets import make_torus
        >>> X, geo = make_torus(10, random_state=0)
        >>> geo.paired([0, 1], [0, 1])
        array([0., 0.])
        """
        i, j = self._index(i, "i"), self._index(j, "j")
        if i.shape != j.shape:
            raise ValueError(
                f"i and j must have the same length, got {i.shape} and {j.shape}"
            )
        return np.asarray(self._paired(i, j), dtype=np.float64)

    def __call__(
        self,
        rows: ArrayLike | None = None,
        cols: ArrayLike | None = None,
        *,
        max_dense_bytes: int | None = None,
    ) -> np.ndarray:
        """Block of distances ``D[a, b] = d(x_rows[a], x_cols[b])``.

        ``None`` means all points; the block is size-guarded.
        """
        rows, cols = self._index(rows, "rows"), self._index(cols, "cols")
        check_dense_size(
            len(rows),
            len(cols),
            max_bytes=max_dense_bytes,
            what="geodesic block",
            hint="ask for fewer rows",
        )
        ii = np.repeat(rows, len(cols))
        jj = np.tile(cols, len(rows))
        out = np.empty(len(ii))
        step = 1 << 20
        for s in range(0, len(ii), step):
            out[s : s + step] = self._paired(ii[s : s + step], jj[s : s + step])
        return out.reshape(len(rows), len(cols))
