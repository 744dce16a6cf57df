"""Row blocks of the chunked backends."""

import numpy as np
import pytest
import scipy.sparse as sp

from manigeo.graphs._cn import _chunks


def test_wedges_per_row_counts_paths(rng):
    D = (rng.random((30, 30)) < 0.2).astype(float)
    A = sp.csr_array(D)
    AT = sp.csr_array(A.T)
    # wedges of row i = sum of entries of row i of A @ (A^T pattern) products
    np.testing.assert_array_equal(
        _chunks.wedges_per_row(A, AT), (D @ D.T).sum(axis=1).astype(np.int64)
    )
    assert _chunks.wedges_per_row(sp.csr_array((4, 4)), sp.csr_array((4, 4))).sum() == 0


@pytest.mark.parametrize("max_work", [1, 5, 17, 1000])
def test_row_blocks_cover_rows_within_budget(max_work, rng):
    work = rng.integers(0, 8, size=57)
    blocks = _chunks.row_blocks(work, max_work=max_work)
    assert blocks[0][0] == 0 and blocks[-1][1] == 57
    for (a, b), (c, _) in zip(blocks, blocks[1:], strict=False):
        assert b == c and b > a
    for a, b in blocks:
        assert work[a:b].sum() <= max_work or b - a == 1


def test_row_blocks_fixed_size():
    assert _chunks.row_blocks(np.ones(10), chunk_size=4) == [(0, 4), (4, 8), (8, 10)]
    assert _chunks.row_blocks(np.ones(0), chunk_size=4) == []


def test_budget_is_positive_and_capped():
    assert 0 < _chunks.block_budget_bytes() <= _chunks.MAX_CPU_BLOCK_BYTES
    assert 1 <= _chunks.max_block_wedges() <= _chunks.MAX_CPU_BLOCK_WEDGES
