"""Graph helpers of the heat geometry: split products, renumbered searches."""

import numpy as np
import pytest
import scipy.sparse as sp

from manigeo.heat._coarse import _distinct_rows, _msd_curve
from manigeo.heat._geodesic import _concurrently, _NeighborIndex
from manigeo.heat._graph import _RowBlocks


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("index", [np.int32, np.int64])
def test_row_blocks_product_is_the_product(threads, index, monkeypatch):
    """Row blocks on several threads give A @ B and (s A) @ B to the bit,
    empty rows and a single column included."""
    import manigeo.heat._graph as graph

    monkeypatch.setattr(graph, "_SPLIT_WORK", 10)
    A = sp.random_array((500, 400), density=0.02, format="csr", rng=0)
    keep = np.ones(500)
    keep[40:60] = 0.0  # empty rows
    A = sp.csr_array(sp.diags_array(keep) @ A)
    A.eliminate_zeros()
    A = sp.csr_array(
        (A.data, A.indices.astype(index), A.indptr.astype(index)), shape=A.shape
    )
    B = np.random.default_rng(1).normal(size=(400, 7))
    R = _RowBlocks(A, threads)
    assert R._blocks(7).size == threads + 1
    np.testing.assert_array_equal(R.matmul(B), A @ B)
    np.testing.assert_array_equal(R.matmul(B, 0.3), (A * 0.3) @ B)
    np.testing.assert_array_equal(R.matmul(B[:, 0]), A @ B[:, 0])


def test_distinct_rows_equal_lexicographic_grouping():
    """The hashed grouping finds the distinct rows; a hash collision (built
    from the multipliers) falls back to the lexicographic sort."""
    rng = np.random.default_rng(0)
    base = rng.integers(0, 50, size=(30, 4))
    idx = base[rng.integers(0, 30, size=400)]
    rows, which = _distinct_rows(idx)
    np.testing.assert_array_equal(rows[which], idx)
    assert len(rows) == len(np.unique(idx, axis=0))
    mult = np.random.default_rng(0).integers(1, 2**62, size=2) | 1
    clash = np.array([[0, 0], [mult[1], -mult[0]], [0, 0]])  # same hash, 0
    rows, which = _distinct_rows(clash)
    np.testing.assert_array_equal(rows[which], clash)
    assert len(rows) == 2 and which[0] == which[2] != which[1]


def test_knn_in_leaf_order_same_results():
    """Searching the training samples in the tree's leaf order returns the
    same neighbours and distances, in the samples' order (ties included)."""
    rng = np.random.default_rng(0)
    X = np.round(rng.uniform(size=(5000, 3)), 1)  # many exact ties
    nn = _NeighborIndex(X)
    d0, i0 = nn.kneighbors(X, 8)
    d1, i1 = nn.kneighbors(X, 8, order=nn.leaf_order())
    np.testing.assert_array_equal(d0, d1)
    np.testing.assert_array_equal(i0, i1)
    rows = rng.permutation(5000)[:700]
    assert sorted(nn.leaf_order(rows)) == sorted(rows)


def test_msd_curve_renumbered_same_values():
    """The displacement curve computed in another numbering is the same to
    the bit."""
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(300, 2))
    W = sp.csr_array(np.exp(-(((X[:, None] - X[None]) ** 2).sum(-1)) / 0.01))
    W.setdiag(0.0)
    W.eliminate_zeros()
    deg = np.asarray(W.sum(axis=1)).ravel()
    a = _msd_curve(W, X, deg)
    b = _msd_curve(W, X, deg, order=np.argsort(X[:, 0]))
    assert [next(a) for _ in range(6)] == [next(b) for _ in range(6)]


def test_concurrently_results_in_order_and_errors_raised():
    assert _concurrently([lambda: 1, lambda: 2]) == [1, 2]

    def boom():
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        _concurrently([lambda: 1, boom])
