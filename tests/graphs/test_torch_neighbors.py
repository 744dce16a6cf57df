"""torch inputs, outputs and devices (CUDA cases are marked ``gpu``)."""

import numpy as np
import pytest
import scipy.sparse as sp

from manigeo.graphs import common_neighbors, neighbor_similarity

torch = pytest.importorskip("torch")

BACKENDS = ["scipy", "graphblas", "torch", "auto"]


def random_graph(rng, n, p, weighted=False):
    U = np.triu(rng.random((n, n)) < p, 1)
    W = U * (rng.integers(1, 4, size=(n, n)) if weighted else 1)
    return (W + W.T).astype(float)


def to_dense(T):
    return T.to_dense().cpu().numpy()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("layout", ["coo", "csr", "dense"])
def test_torch_in_torch_out(backend, layout, device, rng):
    D = random_graph(rng, 30, 0.15)
    np.fill_diagonal(D[:3, :3], 0)
    T = torch.tensor(D, device=device)
    if layout == "coo":
        T = T.to_sparse_coo()
    elif layout == "csr":
        T = T.to_sparse_csr()
    C = common_neighbors(T, backend=backend)
    assert isinstance(C, torch.Tensor)
    assert C.device == T.device
    assert C.dtype == torch.float64
    expected_layout = torch.sparse_coo if layout == "coo" else torch.sparse_csr
    assert C.layout == expected_layout
    ref = (D @ D) * (D != 0)
    np.testing.assert_array_equal(to_dense(C), ref)
    # explicit zeros: exactly one stored value per edge
    assert C._nnz() == np.count_nonzero(D)
    C_full = common_neighbors(T, mask=None, backend=backend)
    np.testing.assert_array_equal(to_dense(C_full), D @ D)


def test_torch_backend_with_scipy_input_returns_scipy(rng):
    A = sp.csr_array(random_graph(rng, 25, 0.2))
    C = common_neighbors(A, backend="torch", device="cpu")
    assert isinstance(C, sp.csr_array)
    np.testing.assert_array_equal(C.data, common_neighbors(A, backend="scipy").data)


@pytest.mark.parametrize("chunk_size", [None, 1, 7])
@pytest.mark.parametrize("weighted", [False, True])
def test_torch_backend_on_device(device, chunk_size, weighted, rng):
    D = random_graph(rng, 60, 0.1, weighted=weighted)
    A = sp.csr_array(D)
    C = common_neighbors(A, backend="torch", device=device, chunk_size=chunk_size)
    ref = common_neighbors(A, backend="scipy")
    np.testing.assert_array_equal(C.indices, ref.indices)
    if weighted:
        np.testing.assert_allclose(C.data, ref.data, rtol=1e-12)
    else:
        np.testing.assert_array_equal(C.data, ref.data)
    M = sp.csr_array((rng.random((60, 60)) < 0.1).astype(float))  # asymmetric mask
    C = common_neighbors(
        A, mask=M, backend="torch", device=device, chunk_size=chunk_size
    )
    ref = common_neighbors(A, mask=M, backend="scipy")
    np.testing.assert_array_equal(C.indices, ref.indices)
    np.testing.assert_allclose(C.data, ref.data, rtol=1e-12)


@pytest.mark.parametrize("kind", ["cosine", "jaccard", "adamic_adar"])
def test_similarity_torch_out(kind, device, rng):
    D = random_graph(rng, 30, 0.2)
    T = torch.tensor(D, device=device).to_sparse_csr()
    S = neighbor_similarity(T, kind)
    assert isinstance(S, torch.Tensor) and S.device == T.device
    ref = neighbor_similarity(sp.csr_array(D), kind, backend="scipy")
    np.testing.assert_allclose(to_dense(S), ref.toarray(), rtol=1e-12)


def test_cuda_device_without_cuda_is_a_clear_error(rng):
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    A = sp.csr_array(random_graph(rng, 5, 0.5))
    with pytest.raises(ValueError, match="CUDA is not available"):
        common_neighbors(A, backend="torch", device="cuda")
    with pytest.raises(ValueError, match="CUDA is not available"):
        common_neighbors(A, device="cuda")


def test_unsupported_torch_layout(rng):
    T = torch.tensor(random_graph(rng, 6, 0.5)).to_sparse_csc()
    with pytest.raises(TypeError, match="layout"):
        common_neighbors(T)


def test_torch_mask_with_scipy_input(rng):
    D = random_graph(rng, 20, 0.25)
    Mdense = rng.random((20, 20)) < 0.3
    Mt = torch.tensor(Mdense.astype(float)).to_sparse_coo()
    C = common_neighbors(sp.csr_array(D), mask=Mt)
    assert isinstance(C, sp.csr_array)
    assert C.nnz == Mdense.sum()
    np.testing.assert_array_equal(C.toarray(), (D @ D) * Mdense)


@pytest.mark.parametrize("backend", ["torch", "scipy"])
def test_blocks_sized_from_memory_budget(backend, monkeypatch, rng):
    """A tiny memory budget forces one-row blocks; the result does not change."""
    from manigeo.graphs._cn import _chunks

    D = random_graph(rng, 40, 0.2, weighted=True)
    A = sp.csr_array(D)
    ref = common_neighbors(A, backend=backend)
    calls = []
    original = _chunks.row_blocks

    def spy(work, **kw):
        blocks = original(work, **kw)
        calls.append(len(blocks))
        return blocks

    monkeypatch.setattr(_chunks, "MAX_CPU_BLOCK_WEDGES", 3)
    monkeypatch.setattr(_chunks, "row_blocks", spy)
    C = common_neighbors(A, backend=backend)
    assert calls and calls[0] == 40
    np.testing.assert_allclose(C.data, ref.data, rtol=1e-13)
