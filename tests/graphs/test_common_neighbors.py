"""common_neighbors: every backend against a dense reference, and input checks."""

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from manigeo.graphs._cn import _graphblas_backend, common_neighbors
from manigeo.graphs._cn._common import _resolve

BACKENDS = ["scipy", "graphblas", "torch"]


def random_graph(rng, n, p, weighted=False, isolated=0):
    """Symmetric sparse graph without self-loops; the last ``isolated`` nodes
    have no edge."""
    U = np.triu(rng.random((n, n)) < p, 1)
    if isolated:
        U[:, n - isolated :] = False
        U[n - isolated :, :] = False
    W = U * (rng.integers(1, 5, size=(n, n)) if weighted else 1)
    D = (W + W.T).astype(float)
    return sp.csr_array(D)


def dense_reference(A, pattern):
    """``(A @ A.T)`` on a 0/1 pattern, computed densely."""
    D = A.toarray()
    return (D @ D.T) * pattern


def assert_on_pattern(C, M, ref, exact=True):
    """C is a canonical CSR with exactly M's pattern and ref's values."""
    M = sp.csr_array(M)
    M.sort_indices()
    assert isinstance(C, sp.csr_array)
    assert C.dtype == np.float64
    np.testing.assert_array_equal(C.indptr, M.indptr)
    np.testing.assert_array_equal(C.indices, M.indices)
    rows = np.repeat(np.arange(M.shape[0]), np.diff(M.indptr))
    expected = ref[rows, M.indices]
    if exact:
        np.testing.assert_array_equal(C.data, expected)
    else:
        np.testing.assert_allclose(C.data, expected, rtol=1e-12, atol=1e-12)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    n=st.integers(1, 25),
    p=st.floats(0.0, 0.6),
    weighted=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
    chunk=st.sampled_from([None, 1, 4]),
)
def test_backends_agree_on_random_graphs(n, p, weighted, seed, chunk):
    rng = np.random.default_rng(seed)
    A = random_graph(rng, n, p, weighted=weighted)
    pattern = A.toarray() != 0
    ref = dense_reference(A, pattern)
    results = [common_neighbors(A, backend=b, chunk_size=chunk) for b in BACKENDS]
    for C in results:
        assert_on_pattern(C, A, ref, exact=not weighted)
    if not weighted:  # integer counts: bit for bit
        for C in results[1:]:
            np.testing.assert_array_equal(C.data, results[0].data)


@pytest.mark.parametrize("backend", BACKENDS)
def test_isolated_nodes_and_zero_counts_are_kept(backend, rng):
    A = random_graph(rng, 40, 0.08, isolated=5)
    C = common_neighbors(A, backend=backend)
    assert_on_pattern(C, A, dense_reference(A, A.toarray() != 0))
    assert C.shape == (40, 40)
    # edges without a common neighbour are stored as explicit zeros
    assert np.sum(C.data == 0) > 0
    assert C.nnz == A.nnz


@pytest.mark.parametrize("backend", BACKENDS)
def test_path_graph_explicit_zeros(backend):
    A = nx.to_scipy_sparse_array(nx.path_graph(4), format="csr", dtype=float)
    C = common_neighbors(A, backend=backend)
    assert C.nnz == 6
    np.testing.assert_array_equal(C.data, np.zeros(6))
    # the 2-hop pairs share exactly one neighbour
    M = sp.csr_array(
        np.array([[0, 0, 1, 0], [0, 0, 0, 1], [1, 0, 0, 0], [0, 1, 0, 0]], dtype=float)
    )
    C2 = common_neighbors(A, mask=M, backend=backend)
    np.testing.assert_array_equal(C2.toarray(), M.toarray())


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mask", ["edges", None])
def test_empty_graph(backend, mask):
    A = sp.csr_array((6, 6))
    C = common_neighbors(A, mask=mask, backend=backend)
    assert C.shape == (6, 6)
    assert C.nnz == 0
    C = common_neighbors(sp.csr_array((1, 1)), mask=mask, backend=backend)
    assert C.shape == (1, 1) and C.nnz == 0


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("weighted", [False, True])
def test_full_product(backend, weighted, rng):
    A = random_graph(rng, 30, 0.15, weighted=weighted, isolated=3)
    C = common_neighbors(A, mask=None, backend=backend)
    D = A.toarray() @ A.toarray()
    assert isinstance(C, sp.csr_array) and C.has_sorted_indices
    np.testing.assert_array_equal(C.toarray() != 0, D != 0)
    np.testing.assert_array_equal(C.toarray(), D)  # small integers: exact
    assert C.nnz == np.count_nonzero(D)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("symmetric_mask", [False, True])
def test_given_mask_pattern(backend, symmetric_mask, rng):
    A = random_graph(rng, 35, 0.12, isolated=2)
    Mdense = rng.random((35, 35)) < 0.2
    if symmetric_mask:
        Mdense = Mdense | Mdense.T
    np.fill_diagonal(Mdense, True)  # the diagonal gives the degrees
    M = sp.csr_array(Mdense.astype(float))
    C = common_neighbors(A, mask=M, backend=backend)
    ref = dense_reference(A, Mdense)
    assert_on_pattern(C, M, ref)
    np.testing.assert_array_equal(C.diagonal(), np.diff(A.indptr))


@pytest.mark.parametrize("backend", BACKENDS)
def test_mask_explicit_zeros_and_other_types_define_the_pattern(backend, rng):
    A = random_graph(rng, 20, 0.2)
    rows = np.array([0, 0, 3, 7, 19])
    cols = np.array([1, 5, 3, 2, 0])
    M = sp.coo_array((np.zeros(5), (rows, cols)), shape=(20, 20))  # stored zeros
    C = common_neighbors(A, mask=M, backend=backend)
    assert C.nnz == 5
    ref = A.toarray() @ A.toarray()
    np.testing.assert_array_equal(
        C.data, ref[rows[np.lexsort((cols, rows))], cols[np.lexsort((cols, rows))]]
    )
    # dense and networkx masks: their non-zeros / edges
    G = nx.from_scipy_sparse_array(A)
    C_dense = common_neighbors(A, mask=A.toarray(), backend=backend)
    C_nx = common_neighbors(A, mask=G, backend=backend)
    C_edges = common_neighbors(A, backend=backend)
    for other in (C_dense, C_nx):
        np.testing.assert_array_equal(other.indices, C_edges.indices)
        np.testing.assert_array_equal(other.data, C_edges.data)


@pytest.mark.parametrize("backend", BACKENDS)
def test_weighted_vs_binary(backend, rng):
    A = random_graph(rng, 30, 0.2, weighted=True)
    Cw = common_neighbors(A, backend=backend)
    Cb = common_neighbors(A, backend=backend, binary=True)
    P = (A.toarray() != 0).astype(float)
    np.testing.assert_allclose(Cw.data, dense_reference(A, P != 0)[P != 0], rtol=1e-12)
    np.testing.assert_array_equal(Cb.toarray(), (P @ P) * P)
    assert not np.array_equal(Cw.data, Cb.data)
    # non-integer weights: products summed
    A2 = A.copy()
    A2.data = np.sqrt(A2.data) / 3.0
    A2 = sp.csr_array((A2 + A2.T) / 2)
    C2 = common_neighbors(A2, backend=backend)
    np.testing.assert_allclose(
        C2.toarray(), dense_reference(A2, P != 0), rtol=1e-12, atol=1e-14
    )


@pytest.mark.parametrize("fmt", ["coo", "csc", "lil", "dok", "bsr", "dia"])
def test_scipy_formats_and_other_inputs(fmt, rng):
    A = random_graph(rng, 15, 0.3)
    ref = common_neighbors(A, backend="scipy")
    C = common_neighbors(A.asformat(fmt))
    np.testing.assert_array_equal(C.toarray(), ref.toarray())
    assert C.nnz == ref.nnz
    C = common_neighbors(A.toarray())
    assert C.nnz == ref.nnz
    np.testing.assert_array_equal(C.data, ref.data)
    C = common_neighbors(nx.from_scipy_sparse_array(A))
    np.testing.assert_array_equal(C.data, ref.data)


def test_default_call_keeps_its_contract(rng):
    """``common_neighbors(A, mask="edges")`` -> csr_array on A's pattern (the
    call the RGG reconstruction makes)."""
    A = random_graph(rng, 50, 0.1)
    C = common_neighbors(A, mask="edges")
    assert isinstance(C, sp.csr_array)
    assert C.dtype == np.float64
    np.testing.assert_array_equal(C.indptr, A.indptr)
    np.testing.assert_array_equal(C.indices, A.indices)
    C = common_neighbors(A, mask="edges", chunk_size=None, backend="auto", device=None)
    np.testing.assert_array_equal(C.indices, A.indices)


def test_auto_picks_graphblas_on_cpu():
    expected = "graphblas" if _graphblas_backend.available() else "scipy"
    assert _resolve("auto", None, None) == (expected, None)
    assert _resolve("auto", "cpu", None) == (expected, None)
    assert _resolve("scipy", None, None) == ("scipy", None)
    name, dev = _resolve("torch", "cpu", None)
    assert name == "torch" and dev.type == "cpu"


@pytest.mark.parametrize("backend", BACKENDS)
def test_self_loops(backend, rng):
    A = random_graph(rng, 20, 0.2)
    L = sp.csr_array(A + sp.eye_array(20) * 2.0)
    np.testing.assert_array_equal(
        common_neighbors(L, backend=backend).toarray(),
        common_neighbors(A, backend=backend).toarray(),
    )
    with pytest.raises(ValueError, match="self-loops"):
        common_neighbors(L, backend=backend, self_loops="raise")
    Ck = common_neighbors(L, backend=backend, self_loops="keep")
    D = L.toarray()
    np.testing.assert_array_equal(Ck.toarray(), (D @ D) * (D != 0))


@pytest.mark.parametrize("backend", BACKENDS)
def test_asymmetric_input(backend, rng):
    D = (rng.random((25, 25)) < 0.2).astype(float)
    np.fill_diagonal(D, 0)
    with pytest.raises(ValueError, match="not symmetric"):
        common_neighbors(D, backend=backend)
    S = np.maximum(D, D.T)
    C = common_neighbors(D, backend=backend, symmetric="max")
    np.testing.assert_array_equal(C.toarray(), (S @ S) * (S != 0))
    # directed: common out-neighbours on the directed pattern
    C = common_neighbors(D, backend=backend, symmetric="ignore")
    assert_on_pattern(C, sp.csr_array(D), D @ D.T)
    # directed graph with a symmetric mask: upper triangle mirrored
    C = common_neighbors(D, mask=S, backend=backend, symmetric="ignore")
    assert_on_pattern(C, sp.csr_array(S), D @ D.T)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"backend": "cuda"}, ValueError, "backend"),
        ({"backend": None}, ValueError, "backend"),
        ({"chunk_size": 0}, ValueError, "chunk_size"),
        ({"chunk_size": 2.5}, TypeError, "chunk_size"),
        ({"chunk_size": True}, TypeError, "chunk_size"),
        ({"mask": "nodes"}, ValueError, "mask"),
        ({"mask": 3}, TypeError, "mask"),
        ({"mask": sp.eye_array(4)}, ValueError, "mask has shape"),
        ({"binary": "yes"}, TypeError, "binary"),
        ({"symmetric": "upper"}, ValueError, "symmetric"),
        ({"self_loops": "drop"}, ValueError, "self_loops"),
        ({"device": "cuda:0", "backend": "scipy"}, ValueError, "cuda"),
        ({"device": "cuda:0", "backend": "graphblas"}, ValueError, "cuda"),
    ],
)
def test_bad_options(kwargs, error, match, rng):
    A = random_graph(rng, 6, 0.5)
    with pytest.raises(error, match=match):
        common_neighbors(A, **kwargs)


@pytest.mark.parametrize(
    "A, error, match",
    [
        (np.ones((3, 4)), ValueError, "square"),
        (np.array([[0, np.nan], [np.nan, 0]]), ValueError, "NaN"),
        (np.array([[0, -1.0], [-1.0, 0]]), ValueError, "negative"),
        (np.array([[0, 1], [0, 0]]), ValueError, "not symmetric"),
        (np.zeros((0, 0)), ValueError, "at least 1 node"),
        (np.zeros((2, 2, 2)), ValueError, "2-D"),
        (np.array([["a", "b"], ["c", "d"]], dtype=object), TypeError, "numeric"),
    ],
)
def test_bad_adjacency(A, error, match):
    with pytest.raises(error, match=match):
        common_neighbors(A)


@pytest.mark.parametrize("backend", BACKENDS)
def test_input_is_not_modified(backend, rng):
    A = random_graph(rng, 20, 0.3, weighted=True)
    before = A.copy()
    common_neighbors(A, backend=backend, binary=True)
    common_neighbors(A, mask=A, backend=backend)
    np.testing.assert_array_equal(A.data, before.data)
    L = sp.csr_array(A + sp.eye_array(20))
    L.data[0] = 0.0  # an explicit zero
    L_before = L.copy()
    common_neighbors(L, backend=backend)
    np.testing.assert_array_equal(L.data, L_before.data)
    np.testing.assert_array_equal(L.indices, L_before.indices)
    np.testing.assert_array_equal(A.indices, before.indices)
