"""sheaf_laplacian against a dense coboundary delta^T delta built independently."""

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from manigeo.graphs import laplacian
from manigeo.sheaf import sheaf_laplacian, transport_maps

MAP_TYPES = ["general", "diagonal", "orthogonal"]


def _random_graph(rng, n=9, p=0.45):
    G = nx.gnp_random_graph(n, p, seed=int(rng.integers(1 << 30)))
    edges = np.array(list(G.edges()), dtype=np.int64).reshape(-1, 2)
    ei = np.hstack([edges.T, edges.T[::-1]])
    perm = rng.permutation(ei.shape[1])  # any order is accepted
    return ei[:, perm]


def _random_maps(rng, E, d, map_type):
    if map_type == "general":
        return rng.normal(size=(E, d, d))
    if map_type == "diagonal":
        return rng.normal(size=(E, d))
    Q, R = np.linalg.qr(rng.normal(size=(E, d, d)))
    return Q * np.sign(np.diagonal(R, axis1=1, axis2=2))[:, None, :]


def _dense_reference(ei, maps, n, map_type, w):
    """delta^T delta from the coboundary (delta x)_e = F_v x_v - F_u x_u."""
    E = ei.shape[1]
    d = maps.shape[1]
    F = np.stack([np.diag(m) for m in maps]) if map_type == "diagonal" else maps
    index = {(int(s), int(t)): e for e, (s, t) in enumerate(ei.T)}
    rows = []
    for (u, v), e in index.items():
        if u > v:
            continue
        block = np.zeros((d, n * d))
        block[:, v * d : (v + 1) * d] = F[index[(v, u)]]
        block[:, u * d : (u + 1) * d] = -F[e]
        rows.append(np.sqrt(w[e]) * block)
    delta = np.vstack(rows) if rows else np.zeros((0, n * d))
    assert delta.shape[0] == E // 2 * d
    return delta.T @ delta


def _block_inv_sqrt(L, n, d, augmented):
    S = np.zeros_like(L)
    for v in range(n):
        sl = slice(v * d, (v + 1) * d)
        D = L[sl, sl] + (np.eye(d) if augmented else 0)
        w, V = np.linalg.eigh(D)
        S[sl, sl] = V @ np.diag(np.where(w > 1e-12, 1 / np.sqrt(np.abs(w)), 0)) @ V.T
    return S


@pytest.mark.parametrize("map_type", MAP_TYPES)
@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_matches_dense_coboundary(rng, map_type, d, weighted):
    n = 9
    ei = _random_graph(rng, n)
    E = ei.shape[1]
    maps = _random_maps(rng, E, d, map_type)
    w = np.ones(E)
    if weighted:
        base = rng.uniform(0.2, 2.0, size=(n, n))
        base = base + base.T
        w = base[ei[0], ei[1]]
    L = sheaf_laplacian(
        ei, maps, n, map_type=map_type, edge_weight=w if weighted else None
    )
    assert isinstance(L, sp.csr_array) and L.has_canonical_format
    Ld = _dense_reference(ei, maps, n, map_type, w)
    np.testing.assert_allclose(L.toarray(), Ld, atol=1e-12)
    for norm in ("sym", "augmented"):
        S = _block_inv_sqrt(Ld, n, d, norm == "augmented")
        Ln = sheaf_laplacian(
            ei,
            maps,
            n,
            map_type=map_type,
            normalization=norm,
            edge_weight=w if weighted else None,
        )
        np.testing.assert_allclose(Ln.toarray(), S @ Ld @ S, atol=1e-12)


def test_symmetric_psd_and_pattern(rng):
    ei = _random_graph(rng, 12)
    maps = _random_maps(rng, ei.shape[1], 3, "general")
    L = sheaf_laplacian(ei, maps, 12).toarray()
    np.testing.assert_allclose(L, L.T, atol=1e-12)
    assert np.linalg.eigvalsh(L).min() > -1e-10
    # orthogonal maps store deg*I diagonal blocks only: nnz = n d + E d^2
    Q = _random_maps(rng, ei.shape[1], 3, "orthogonal")
    Lo = sheaf_laplacian(ei, Q, 12, map_type="orthogonal")
    assert Lo.nnz == 12 * 3 + ei.shape[1] * 9
    deg = np.bincount(ei[0], minlength=12)
    np.testing.assert_allclose(Lo.diagonal(), np.repeat(deg, 3))


def test_d1_unit_maps_is_graph_laplacian(rng):
    """d = 1 with F = 1 is exactly the graph Laplacian (combinatorial and sym)."""
    G = nx.connected_watts_strogatz_graph(40, 4, 0.3, seed=1)
    for u, v in G.edges():
        G[u][v]["weight"] = float(rng.uniform(0.5, 2))
    W = nx.to_scipy_sparse_array(G, weight="weight", format="csr")
    W.sort_indices()
    src = np.repeat(np.arange(40), np.diff(W.indptr))
    ei = np.vstack([src, W.indices])
    ones = np.ones((ei.shape[1], 1, 1))
    L = sheaf_laplacian(ei, ones, 40, edge_weight=W.data)
    Lref = nx.laplacian_matrix(G, weight="weight").toarray()
    # off-diagonal entries are copied, degrees summed in another order
    np.testing.assert_allclose(L.toarray(), Lref, rtol=1e-14, atol=0)
    # unit weights: exactly the combinatorial Laplacian D - A
    L1 = sheaf_laplacian(ei, ones, 40).toarray()
    assert np.array_equal(L1, nx.laplacian_matrix(G, weight=None).toarray())
    Ls = sheaf_laplacian(ei, ones, 40, edge_weight=W.data, normalization="sym")
    np.testing.assert_allclose(
        Ls.toarray(), laplacian(W, "symmetric").toarray(), atol=1e-15
    )
    Ld = sheaf_laplacian(
        ei, np.ones((ei.shape[1], 1)), 40, edge_weight=W.data, map_type="diagonal"
    )
    np.testing.assert_allclose(Ld.toarray(), Lref, rtol=1e-14, atol=0)


def test_transport_block_is_not_squared(rng):
    """maps from transport_maps give L_uv = -O_uv; the TopoBench-style
    (F_u, F_v) = (O_uv, O_vu) gives -(O_uv^T)^2 instead."""
    ei = np.array([[0, 1, 1, 2], [1, 0, 2, 1]])
    theta = [0.7, 0.7, -1.1, -1.1]
    Q = np.array([[[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]] for t in theta])
    Q[1] = Q[0].T  # O_10 = O_01^T
    Q[2] = Q[3].T
    Q[3] = np.diag([1.0, -1.0]) @ Q[3]  # a reflection on edge {1, 2}
    Q[2] = Q[3].T
    maps = transport_maps(ei, Q)
    L = sheaf_laplacian(ei, maps, 3, map_type="orthogonal").toarray()
    for e, (u, v) in enumerate(ei.T):
        np.testing.assert_allclose(
            L[2 * u : 2 * u + 2, 2 * v : 2 * v + 2], -Q[e], atol=1e-15
        )
    wrong = sheaf_laplacian(ei, Q, 3, map_type="orthogonal").toarray()
    assert np.abs(wrong[0:2, 2:4] + Q[0]).max() > 0.5


@pytest.mark.parametrize("map_type", MAP_TYPES)
@pytest.mark.parametrize("norm", [None, "sym", "augmented"])
def test_torch_matches_scipy(rng, map_type, norm, device):
    torch = pytest.importorskip("torch")
    ei = _random_graph(rng, 10)
    maps = _random_maps(rng, ei.shape[1], 2, map_type)
    L = sheaf_laplacian(ei, maps, 10, map_type=map_type, normalization=norm)
    Lt = sheaf_laplacian(
        torch.as_tensor(ei, device=device),
        torch.tensor(maps, device=device),
        10,
        map_type=map_type,
        normalization=norm,
    )
    assert Lt.is_sparse and Lt.is_coalesced() and Lt.device.type == device
    np.testing.assert_allclose(Lt.to_dense().cpu().numpy(), L.toarray(), atol=1e-12)
    Lc = sheaf_laplacian(
        ei, maps, 10, map_type=map_type, normalization=norm, output="torch"
    )
    np.testing.assert_allclose(Lc.to_dense().numpy(), L.toarray(), atol=1e-15)


@pytest.mark.parametrize("map_type", ["general", "diagonal"])
def test_torch_gradient(rng, map_type):
    """gradcheck through the augmented normalization, including the repeated
    eigenvalues of D + I when the maps start at the identity."""
    torch = pytest.importorskip("torch")
    ei = _random_graph(rng, 6, p=0.6)
    E = ei.shape[1]
    x = torch.tensor(rng.normal(size=(6 * 2, 3)))
    for maps in (
        _random_maps(rng, E, 2, map_type),
        np.ones((E, 2))
        if map_type == "diagonal"
        else np.broadcast_to(np.eye(2), (E, 2, 2)).copy(),
    ):
        m = torch.tensor(maps, requires_grad=True)

        def f(m):
            L = sheaf_laplacian(ei, m, 6, map_type=map_type, normalization="augmented")
            return torch.sparse.mm(L, x)

        assert torch.autograd.gradcheck(f, (m,), atol=1e-6)


@pytest.mark.parametrize(
    "ei, maps, n, kwargs, exc, match",
    [
        (np.array([0, 1]), np.ones((2, 1, 1)), 2, {}, ValueError, "shape"),
        (
            np.array([[0, 1], [1, 2]]),
            np.ones((2, 1, 1)),
            3,
            {},
            ValueError,
            "not symmetric",
        ),
        (
            np.array([[0, 0], [0, 0]]),
            np.ones((2, 1, 1)),
            2,
            {},
            ValueError,
            "self-loops",
        ),
        (
            np.array([[0, 1, 0], [1, 0, 1]]),
            np.ones((3, 1, 1)),
            2,
            {},
            ValueError,
            "duplicate",
        ),
        (np.array([[0, 5], [5, 0]]), np.ones((2, 1, 1)), 3, {}, ValueError, "outside"),
        (
            np.array([[0, 1], [1, 0]]),
            np.ones((3, 1, 1)),
            2,
            {},
            ValueError,
            "maps must have shape",
        ),
        (
            np.array([[0, 1], [1, 0]]),
            np.ones((2, 2)),
            2,
            {},
            ValueError,
            "maps must have shape",
        ),
        (
            np.array([[0, 1], [1, 0]]),
            np.full((2, 1, 1), np.nan),
            2,
            {},
            ValueError,
            "NaN",
        ),
        (
            np.array([[0, 1], [1, 0]]),
            2 * np.ones((2, 1, 1)),
            2,
            {"map_type": "orthogonal"},
            ValueError,
            "not orthogonal",
        ),
        (
            np.array([[0, 1], [1, 0]]),
            np.ones((2, 1, 1)),
            2,
            {"edge_weight": [1.0, 2.0]},
            ValueError,
            "edge_weight is not symmetric",
        ),
        (
            np.array([[0, 1], [1, 0]]),
            np.ones((2, 1, 1)),
            2,
            {"edge_weight": [-1.0, -1.0]},
            ValueError,
            "negative",
        ),
        (
            np.array([[0, 1], [1, 0]]),
            np.ones((2, 1, 1)),
            2,
            {"normalization": "rw"},
            ValueError,
            "normalization",
        ),
        (
            np.array([[0, 1], [1, 0]]),
            np.ones((2, 1, 1)),
            2,
            {"map_type": "lower"},
            ValueError,
            "map_type",
        ),
        (
            np.array([[0, 1], [1, 0]]),
            np.ones((2, 1, 1)),
            2,
            {"output": "dense"},
            ValueError,
            "output",
        ),
        (np.array([[0, 1], [1, 0]]), np.ones((2, 1, 1)), 0, {}, ValueError, "n_nodes"),
        (
            np.array([[0.5, 1], [1, 0.5]]),
            np.ones((2, 1, 1)),
            2,
            {},
            TypeError,
            "integer",
        ),
        (
            np.array([[0, 1], [1, 0]]),
            np.array([["a"], ["b"]]),
            2,
            {"map_type": "diagonal"},
            TypeError,
            "numeric",
        ),
    ],
)
def test_bad_inputs(ei, maps, n, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        sheaf_laplacian(ei, maps, n, **kwargs)


@pytest.mark.parametrize("map_type", MAP_TYPES)
def test_builder_matches_sheaf_laplacian(rng, map_type):
    """SheafLaplacianBuilder: pattern built once, values equal to
    sheaf_laplacian for new maps and weights, gradients flow to both."""
    torch = pytest.importorskip("torch")
    from manigeo.sheaf import SheafLaplacianBuilder

    ei = _random_graph(rng)
    n, E, d = 9, ei.shape[1], 2
    b = SheafLaplacianBuilder(torch.as_tensor(ei), n, d, map_type=map_type)
    assert "n_edges=" in repr(b)
    for _ in range(2):  # the same builder serves new values
        maps = torch.tensor(_random_maps(rng, E, d, map_type), requires_grad=True)
        und = sorted({tuple(sorted(map(int, e))) for e in ei.T})
        w_und = dict(zip(und, rng.uniform(0.5, 2.0, size=len(und)), strict=True))
        w = torch.tensor([w_und[tuple(sorted(map(int, e)))] for e in ei.T])
        w.requires_grad_(True)
        L = b(maps, "augmented", w)
        ref = sheaf_laplacian(
            ei,
            maps.detach().numpy(),
            n,
            map_type=map_type,
            normalization="augmented",
            edge_weight=w.detach().numpy(),
        )
        np.testing.assert_allclose(
            L.to_dense().detach().numpy(), ref.toarray(), atol=1e-12
        )
        L.to_dense().square().sum().backward()
        assert maps.grad.abs().sum() > 0 and w.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="maps must have shape"):
        b(torch.zeros(E + 1, d, d), None)
    with pytest.raises(TypeError, match="torch tensor"):
        b(np.zeros((E, d, d)), None)
    with pytest.raises(ValueError, match="normalization"):
        b(maps, "rw")
