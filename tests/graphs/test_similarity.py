"""neighbor_similarity against direct dense formulas and networkx."""

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from manigeo.graphs import neighbor_similarity

BACKENDS = ["scipy", "graphblas", "torch"]


def random_graph(rng, n, p, weighted=False, isolated=0):
    U = np.triu(rng.random((n, n)) < p, 1)
    if isolated:
        U[:, n - isolated :] = False
        U[n - isolated :, :] = False
    W = U * (rng.uniform(0.5, 2.0, size=(n, n)) if weighted else 1)
    return (W + W.T).astype(float)


def values_on(D_pattern, S):
    r, c = np.nonzero(D_pattern)
    return r, c, np.asarray(S[r, c]).ravel()


@pytest.mark.parametrize("backend", BACKENDS)
def test_cosine_binary_pair_removed(backend, rng):
    D = random_graph(rng, 50, 0.1, isolated=3)
    # a pendant node: k = 1, so k - 1 = 0 on its edge
    D[0, :] = 0
    D[:, 0] = 0
    D[0, 1] = D[1, 0] = 1
    S = neighbor_similarity(sp.csr_array(D), "cosine", backend=backend)
    assert S.nnz == np.count_nonzero(D)
    assert np.all(np.isfinite(S.data))
    k = D.sum(axis=1)
    C = D @ D
    r, c, got = values_on(D, S.toarray())
    den = np.sqrt((k[r] - 1) * (k[c] - 1))
    expected = np.where(den > 0, C[r, c] / np.where(den > 0, den, 1), 0.0)
    np.testing.assert_allclose(got, expected, rtol=1e-14)
    assert S[0, 1] == 0 and S[1, 0] == 0
    assert np.all(S.data <= 1 + 1e-12) and np.all(S.data >= 0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_cosine_is_cosine_of_rows_without_the_pair(backend, rng):
    """Weighted graph, mask with edges and non-edges: the explicit definition."""
    n = 25
    D = random_graph(rng, n, 0.3, weighted=True)
    Mdense = (rng.random((n, n)) < 0.3) | (D != 0)
    M = sp.csr_array(Mdense.astype(float))
    S = neighbor_similarity(sp.csr_array(D), "cosine", mask=M, backend=backend)
    r, c, got = values_on(Mdense, S.toarray())
    expected = []
    for i, j in zip(r, c, strict=False):
        keep = np.ones(n, bool)
        keep[[i, j]] = False
        a, b = D[i, keep], D[j, keep]
        den = np.linalg.norm(a) * np.linalg.norm(b)
        expected.append(a @ b / den if den > 0 else 0.0)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    # on the diagonal a non-isolated node is identical to itself
    deg = (D != 0).sum(axis=1)
    diag = S.diagonal()
    np.testing.assert_allclose(diag[Mdense.diagonal() & (deg > 0)], 1.0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_jaccard_matches_networkx(backend, rng):
    D = random_graph(rng, 40, 0.12, isolated=2)
    G = nx.from_numpy_array(D)
    S = neighbor_similarity(G, "jaccard", backend=backend)
    pairs = list(G.edges())
    ref = {(u, v): p for u, v, p in nx.jaccard_coefficient(G, pairs)}
    for (u, v), p in ref.items():
        assert S[u, v] == pytest.approx(p, rel=1e-14)
        assert S[v, u] == pytest.approx(p, rel=1e-14)
    assert S.nnz == 2 * G.number_of_edges()


def test_jaccard_weighted_is_tanimoto(rng):
    D = random_graph(rng, 20, 0.3, weighted=True)
    S = neighbor_similarity(sp.csr_array(D), "jaccard", backend="scipy").toarray()
    r, c = np.nonzero(D)
    dot = np.einsum("ij,ij->i", D[r], D[c])
    expected = dot / ((D[r] ** 2).sum(1) + (D[c] ** 2).sum(1) - dot)
    np.testing.assert_allclose(S[r, c], expected, rtol=1e-12)
    Sb = neighbor_similarity(sp.csr_array(D), "jaccard", binary=True).toarray()
    Sref = neighbor_similarity(sp.csr_array((D != 0).astype(float)), "jaccard")
    np.testing.assert_allclose(Sb, Sref.toarray())


@pytest.mark.parametrize("backend", BACKENDS)
def test_adamic_adar_matches_networkx(backend, rng):
    D = random_graph(rng, 40, 0.15, weighted=True, isolated=2)
    G = nx.from_numpy_array((D != 0).astype(float))
    # also non-adjacent pairs: all 2-hop pairs
    P = (D != 0).astype(float)
    two_hop = ((P @ P) > 0) & ~np.eye(40, dtype=bool)
    M = sp.csr_array((two_hop | (P > 0)).astype(float))
    S = neighbor_similarity(sp.csr_array(D), "adamic_adar", mask=M, backend=backend)
    r, c = np.nonzero(two_hop | (P > 0))
    pairs = list(zip(r, c, strict=True))
    ref = {(u, v): p for u, v, p in nx.adamic_adar_index(G, pairs)}
    got = S.toarray()
    for (u, v), p in ref.items():
        assert got[u, v] == pytest.approx(p, rel=1e-12, abs=1e-15)
    assert S.nnz == len(r)


def test_adamic_adar_diagonal_has_no_inf():
    # star: the leaves have degree 1; the centre's diagonal sums over leaves
    G = nx.star_graph(4)
    M = sp.eye_array(5, format="csr")
    S = neighbor_similarity(G, "adamic_adar", mask=M)
    assert np.all(np.isfinite(S.data))
    assert S[0, 0] == 0.0  # all of the centre's neighbours have degree 1
    np.testing.assert_allclose(S.diagonal()[1:], 1 / np.log(4))


@pytest.mark.parametrize("kind", ["cosine", "jaccard", "adamic_adar"])
def test_backends_agree(kind, rng):
    D = random_graph(rng, 45, 0.12, isolated=4)
    res = [neighbor_similarity(D, kind, backend=b) for b in BACKENDS]
    for S in res[1:]:
        np.testing.assert_array_equal(S.indices, res[0].indices)
        np.testing.assert_allclose(S.data, res[0].data, rtol=1e-13)
    empty = neighbor_similarity(np.zeros((4, 4)), kind)
    assert empty.nnz == 0 and empty.shape == (4, 4)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"kind": "dice"}, ValueError, "kind"),
        ({"kind": None}, ValueError, "kind"),
        ({"self_loops": "keep"}, ValueError, "self_loops"),
        ({"backend": "numba"}, ValueError, "backend"),
        ({"mask": "all"}, ValueError, "mask"),
        ({"chunk_size": -1}, ValueError, "chunk_size"),
    ],
)
def test_bad_options(kwargs, error, match, rng):
    D = random_graph(rng, 6, 0.5)
    with pytest.raises(error, match=match):
        neighbor_similarity(D, **kwargs)


def test_bad_adjacency():
    with pytest.raises(ValueError, match="not symmetric"):
        neighbor_similarity(np.array([[0, 1.0], [0, 0]]))
    with pytest.raises(ValueError, match="self-loops"):
        neighbor_similarity(np.eye(3), self_loops="raise")
