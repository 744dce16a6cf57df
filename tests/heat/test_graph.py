"""Helpers of the heat geometry: hashed supports, renumbered searches, threads."""

import numpy as np
import pytest
import scipy.sparse as sp

from manigeo.heat._coarse import _distinct_rows
from manigeo.heat._geodesic import _concurrently, _NeighborIndex


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


def test_concurrently_results_in_order_and_errors_raised():
    assert _concurrently([lambda: 1, lambda: 2]) == [1, 2]

    def boom():
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        _concurrently([lambda: 1, boom])


@pytest.mark.parametrize("threads", [1, 2])
def test_ahead_values_of_the_generator(threads, monkeypatch):
    """Computed ahead on a thread or on demand: the generator's values, in
    order, none past the limit; an error of the generator is raised here."""
    import manigeo.heat._coarse as coarse

    monkeypatch.setattr(coarse, "blas_threads", lambda: threads)
    calls = []

    def gen(fail_at=None):
        k = 0
        while True:
            calls.append(k)
            if k == fail_at:
                raise RuntimeError("generator failed")
            yield k * k
            k += 1

    ahead = coarse._Ahead(gen(), 6)
    assert ahead.first(3) == [0, 1, 4]
    ahead.stop_after(4)
    assert ahead.first(4) == [0, 1, 4, 9]
    if ahead._thread is not None:
        ahead._thread.join()
    assert max(calls) <= 5
    with pytest.raises(RuntimeError, match="generator failed"):
        coarse._Ahead(gen(fail_at=2), 6).first(4)


def test_taylor_base_column_blocks_same_bits(monkeypatch):
    """The Taylor base by column blocks on threads is the one-block result."""
    import manigeo.heat._squaring as squaring
    from manigeo.graphs import laplacian

    rng = np.random.default_rng(0)
    X = rng.uniform(size=(300, 2))
    W = np.exp(-(((X[:, None] - X[None]) ** 2).sum(-1)) / 0.005)
    np.fill_diagonal(W, 0.0)
    W[W < 1e-3] = 0.0
    L = sp.csr_array(laplacian(sp.csr_array(W), kind="symmetric"))
    c = float(L.diagonal().max())
    out = []
    for threads in (1, 3):
        monkeypatch.setattr(squaring, "blas_threads", lambda k=threads: k)
        out.append(squaring._taylor_base(L, 0.3, c, min_terms=16))
    np.testing.assert_array_equal(out[0], out[1])
    assert np.all(out[0] >= 0) and out[0].shape == (300, 300)


def test_bandwidth_groups_partition_by_ratio(monkeypatch):
    """The groups split the samples: the floor alone first, then classes whose
    bandwidths lie within the ratio of each other, narrowest first; the widest
    small classes merged into one."""
    from manigeo.heat import _geodesic as g

    rng = np.random.default_rng(3)
    bw = np.r_[np.full(500, 1.0), 1.0 + rng.exponential(0.5, size=500)]
    rng.shuffle(bw)
    monkeypatch.setattr(g, "_GROUP_MIN", 0.0)
    groups = g._bandwidth_groups(bw)
    np.testing.assert_array_equal(np.sort(np.concatenate(groups)), np.arange(1000))
    np.testing.assert_array_equal(np.sort(groups[0]), np.flatnonzero(bw == 1.0))
    for a, b in zip(groups[1:], groups[2:], strict=False):
        assert bw[a].max() <= bw[b].min()
    for grp in groups[1:]:
        assert bw[grp].max() / bw[grp].min() < g._GROUP_RATIO
    monkeypatch.setattr(g, "_GROUP_MIN", 0.05)
    merged = g._bandwidth_groups(bw)
    assert len(merged) < len(groups) and merged[-1].size >= 50
    assert [len(x) for x in merged[:-1]] == [len(x) for x in groups[: len(merged) - 1]]
    assert len(g._bandwidth_groups(np.full(10, 2.0))) == 1


def test_reference_paths_reuse_the_kernel_graphs_lengths():
    """The probes' shortest paths on the kernel graph's own edge lengths (k-d
    tree path) equal those of a fresh undirected search on the lengths
    measured again; a graph whose pattern differs is measured again."""
    from scipy.sparse import csgraph

    from manigeo.heat._geodesic import _Affinity, _reference_paths
    from manigeo.heat._graph import _edge_lengths

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    X[:200] *= 0.3  # non-uniform: floored bandwidths, a wider pattern
    aff = _Affinity(8, "gaussian", 40, "normalize").fit(X)
    assert aff.lengths_ is not None
    probes = np.arange(0, 400, 37)
    ref = csgraph.dijkstra(_edge_lengths(X, aff.W_), directed=False, indices=probes)
    np.testing.assert_array_equal(_reference_paths(X, aff.W_, probes), ref)
    np.testing.assert_array_equal(
        _reference_paths(X, aff.W_, probes, aff.lengths_), ref
    )
    # lengths of another graph (one edge fewer) are not taken for this one
    other = sp.csr_array(aff.lengths_, copy=True)  # (W_ shares its indices)
    other.data[0] = 0.0
    other.eliminate_zeros()
    np.testing.assert_array_equal(_reference_paths(X, aff.W_, probes, other), ref)
