"""SheafConv / ConnectionSheafConv against a dense delta^T W delta re-implementation;
gradients, permutation equivariance, the AddConnectionLaplacian transform."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from manigeo import ConnectionLaplacian  # noqa: E402
from manigeo.nn import (  # noqa: E402
    AddConnectionLaplacian,
    ConnectionSheafConv,
    SheafConv,
    connection_maps,
    orthogonal_from_params,
)
from manigeo.sheaf import sheaf_laplacian  # noqa: E402


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny graphs: one intra-op thread (thread hand-offs cost more than they
    gain, by ~100x on a loaded 2-core machine)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


# 5 nodes, 7 undirected edges, both directions, deliberately unsorted
_UND = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 0), (0, 2), (1, 3)]
EDGES = torch.tensor(
    [
        [u for u, v in _UND] + [v for u, v in _UND],
        [v for u, v in _UND] + [u for u, v in _UND],
    ]
)
N = 5


def _full(maps, diagonal):
    return torch.diag_embed(maps) if diagonal else maps


def dense_laplacian(edge_index, maps, n, weight=None, normalization="augmented"):
    """delta^T W delta from the coboundary, then (D + I)^-1/2 L (D + I)^-1/2."""
    maps = maps.detach().double()
    d = maps.shape[-1]
    ei = edge_index.numpy()
    key = {(int(u), int(v)): e for e, (u, v) in enumerate(ei.T)}
    rows, ws = [], []
    for (u, v), e in key.items():
        if u > v:
            continue
        r = (u, v)
        delta = torch.zeros(d, n * d, dtype=torch.float64)
        delta[:, v * d : (v + 1) * d] = maps[key[(v, u)]]
        delta[:, u * d : (u + 1) * d] = -maps[e]
        rows.append(delta)
        ws.append(1.0 if weight is None else float(weight[key[r]]))
    delta = torch.cat(rows)
    W = torch.diag(torch.tensor(np.repeat(ws, d), dtype=torch.float64))
    L = delta.T @ W @ delta
    if normalization is None:
        return L
    Dm = torch.block_diag(
        *[L[i * d : (i + 1) * d, i * d : (i + 1) * d] for i in range(n)]
    )
    if normalization == "augmented":
        Dm = Dm + torch.eye(n * d, dtype=torch.float64)
    w, V = torch.linalg.eigh(Dm)
    S = V @ torch.diag(w.clamp_min(1e-300).rsqrt()) @ V.T
    return S @ L @ S


def dense_step(conv, x, L):
    D, C = conv.total_stalk_dim, conv.channels
    n = x.shape[0]
    h = (conv.left @ x.reshape(n, D, C) @ conv.right).reshape(n * D, C)
    h = torch.nn.functional.elu(L @ h)
    eps = (1 + torch.tanh(conv.epsilon)).repeat(n)[:, None]
    return (eps * x.reshape(n * D, C) - h).reshape(n, D * C)


def _randomise(conv):
    with torch.no_grad():
        conv.left.add_(0.3 * torch.randn_like(conv.left))
        conv.epsilon.copy_(torch.randn_like(conv.epsilon))


CONFIGS = [
    dict(maps="diagonal"),
    dict(maps="general"),
    dict(maps="orthogonal", orthogonal="householder"),
    dict(maps="orthogonal", orthogonal="cayley", edge_weights=True),
    dict(maps="diagonal", add_lp=True, add_hp=True),
    dict(maps="orthogonal", orthogonal="matrix_exp", add_lp=True),
]


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: "-".join(map(str, c.values())))
def test_sheaf_conv_matches_dense(cfg):
    torch.manual_seed(0)
    conv = SheafConv(3, 3, **cfg).double().eval()
    _randomise(conv)
    D = conv.total_stalk_dim
    x = torch.randn(N, D * 3, dtype=torch.float64)
    maps = conv.restriction_maps(x, EDGES)
    diagonal = cfg["maps"] == "diagonal"
    assert maps.shape == ((14, D) if diagonal else (14, D, D))
    w = None
    if conv.weight_learner is not None:
        rev = conv._cache.get(EDGES, N, D, "orthogonal")[1]
        w = conv._weights(conv.weight_learner, x, EDGES, rev)
        assert torch.all(w > 0) and torch.allclose(w, w[rev])
    L = dense_laplacian(EDGES, _full(maps, diagonal), N, w)
    out = conv(x, EDGES)
    ref = dense_step(conv, x, L)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(
        conv.laplacian(x, EDGES).to_dense().detach().numpy(), L.numpy(), atol=1e-12
    )
    if cfg["maps"] == "orthogonal":
        F = maps.detach()
        np.testing.assert_allclose(
            (F.transpose(1, 2) @ F).numpy(),
            np.broadcast_to(np.eye(D), F.shape),
            atol=1e-12,
        )


@pytest.mark.parametrize(
    "cfg", CONFIGS[:4], ids=lambda c: "-".join(map(str, c.values()))
)
def test_sheaf_conv_gradcheck(cfg):
    torch.manual_seed(1)
    conv = SheafConv(2, 2, **cfg).double().eval()
    _randomise(conv)
    x = torch.randn(N, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: conv(x, EDGES), (x,), atol=1e-6)
    conv(x, EDGES).square().sum().backward()
    for name, p in conv.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    assert conv.sheaf_learner.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("maps", ["diagonal", "orthogonal", "general"])
def test_permutation_equivariance(maps):
    torch.manual_seed(2)
    conv = SheafConv(3, 2, maps=maps, edge_weights=maps == "orthogonal").double().eval()
    _randomise(conv)
    x = torch.randn(N, 6, dtype=torch.float64)
    perm = torch.tensor([3, 0, 4, 1, 2])  # new node i is old node perm[i]
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(N)
    ei2 = inv[EDGES]
    col = torch.randperm(EDGES.shape[1])  # and shuffle the edge order
    out = conv(x, EDGES)
    out2 = conv(x[perm], ei2[:, col])
    np.testing.assert_allclose(
        out2.detach().numpy(), out[perm].detach().numpy(), atol=1e-12
    )


def test_connection_conv_fixed_maps_and_identity():
    torch.manual_seed(3)
    feats = torch.randn(N, 6, dtype=torch.float64)
    maps = connection_maps(feats, EDGES, 2)
    assert maps.dtype == torch.float64 and maps.shape == (14, 2, 2)
    # they realise the Procrustes transports of ConnectionLaplacian
    L_ref = dense_laplacian(EDGES, maps, N)
    import scipy.sparse as sp

    A = sp.csr_array((np.ones(14), tuple(EDGES.numpy())), shape=(N, N))
    cl = ConnectionLaplacian(graph=A, dimension=2, normalization="augmented").fit(
        feats.numpy()
    )
    np.testing.assert_allclose(L_ref.numpy(), cl.laplacian_.toarray(), atol=1e-12)
    conv = ConnectionSheafConv(3, 2, edge_weights=False).double().eval()
    _randomise(conv)
    x = torch.randn(N, 6, dtype=torch.float64)
    out = conv(x, EDGES, maps)
    np.testing.assert_allclose(
        out.detach().numpy(), dense_step(conv, x, L_ref).detach().numpy(), atol=1e-12
    )
    # identity maps: D copies of the augmented normalized graph Laplacian
    eye = torch.eye(2, dtype=torch.float64).expand(14, 2, 2)
    deg = torch.bincount(EDGES[0]).double()
    A_dense = torch.zeros(N, N, dtype=torch.float64)
    A_dense[EDGES[0], EDGES[1]] = 1
    s = (deg + 1).rsqrt()
    Lg = s[:, None] * (torch.diag(deg) - A_dense) * s[None, :]
    np.testing.assert_allclose(
        dense_step(conv, x, torch.kron(Lg, torch.eye(2, dtype=torch.float64)))
        .detach()
        .numpy(),
        conv(x, EDGES, eye).detach().numpy(),
        atol=1e-12,
    )
    # without maps: computed from x once, then reused for the same graph
    out_a = conv(feats, EDGES)
    assert conv._maps_cache is not None
    np.testing.assert_allclose(conv._maps_cache[1].numpy(), maps.numpy(), atol=1e-12)
    out_b = conv(feats + 1.0, EDGES)  # cached maps: not recomputed from new x
    np.testing.assert_allclose(conv._maps_cache[1].numpy(), maps.numpy(), atol=1e-12)
    assert out_a.shape == out_b.shape
    # gradients with learned edge weights
    conv_w = ConnectionSheafConv(2, 2, edge_weights=True).double().eval()
    xg = torch.randn(N, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: conv_w(x, EDGES, maps), (xg,), atol=1e-6)


def test_orthogonal_parametrisations():
    torch.manual_seed(4)
    p = torch.randn(50, 6, dtype=torch.float64)
    for method in ("householder", "cayley", "matrix_exp"):
        Q = orthogonal_from_params(p, 4, method)
        np.testing.assert_allclose(
            (Q.transpose(1, 2) @ Q).numpy(),
            np.broadcast_to(np.eye(4), Q.shape),
            atol=1e-12,
        )
        det = torch.linalg.det(Q)
        if method == "householder":  # 4 reflections: det = +1; d = 3: -1
            assert torch.allclose(det, torch.ones(50, dtype=torch.float64))
        else:
            assert torch.allclose(det, torch.ones(50, dtype=torch.float64))
    Q3 = orthogonal_from_params(
        torch.randn(5, 3, dtype=torch.float64), 3, "householder"
    )
    assert torch.allclose(torch.linalg.det(Q3), -torch.ones(5, dtype=torch.float64))
    # distinct parameters give distinct matrices (not a constant map)
    assert (Q[0] - Q[1]).abs().max() > 1e-3
    with pytest.raises(ValueError, match="params must have shape"):
        orthogonal_from_params(torch.randn(5, 4), 3, "cayley")
    with pytest.raises(ValueError, match="method"):
        orthogonal_from_params(torch.randn(5, 3), 3, "qr")


def test_add_connection_laplacian_transform():
    pytest.importorskip("torch_geometric")
    from torch_geometric.data import Data

    torch.manual_seed(5)
    # one direction only, a self-loop and a duplicate: the transport handles them
    ei = torch.tensor([[0, 1, 2, 3, 4, 0, 1, 2, 2], [1, 2, 3, 4, 0, 2, 3, 2, 3]])
    data = Data(x=torch.randn(N, 6, dtype=torch.float64), edge_index=ei)
    t = AddConnectionLaplacian(stalk_dim=2)
    assert repr(t) == "AddConnectionLaplacian(stalk_dim=2, normalization='augmented')"
    out = t(data)
    assert torch.equal(data.edge_index, ei) and "sheaf_maps" not in data  # untouched
    assert out.edge_index.shape == (2, 14) and out.sheaf_maps.shape == (14, 2, 2)
    L = torch.sparse_coo_tensor(out.laplacian_index, out.laplacian_weight, (10, 10))
    ref = sheaf_laplacian(
        out.edge_index,
        out.sheaf_maps,
        N,
        map_type="orthogonal",
        normalization="augmented",
    )
    np.testing.assert_allclose(L.to_dense().numpy(), ref.to_dense().numpy(), atol=1e-12)
    same = connection_maps(data.x, out.edge_index, 2)
    np.testing.assert_allclose(same.numpy(), out.sheaf_maps.numpy(), atol=1e-12)
    with pytest.raises(ValueError, match="data.x"):
        t(Data(edge_index=ei, num_nodes=5))


def test_bad_inputs():
    conv = SheafConv(4, 2)
    with pytest.raises(ValueError, match=r"x must have shape \(n_nodes"):
        conv(torch.randn(5, 7), EDGES)
    with pytest.raises(ValueError, match="outside"):
        conv(torch.randn(3, 8), EDGES)
    with pytest.raises(TypeError, match="edge_index must be a torch.Tensor"):
        conv(torch.randn(5, 8), EDGES.numpy())
    with pytest.raises(ValueError, match="not symmetric"):
        conv(torch.randn(5, 8), EDGES[:, :7])
    with pytest.raises(ValueError, match="maps must be one of"):
        SheafConv(4, 2, maps="dense")
    with pytest.raises(ValueError, match="channels"):
        SheafConv(0, 2)
    with pytest.raises(ValueError, match="dropout"):
        SheafConv(4, 2, dropout=1.5)
    with pytest.raises(ValueError, match="maps must be a tensor of shape"):
        ConnectionSheafConv(4, 2)(torch.randn(5, 8), EDGES, torch.randn(14, 3, 3))


def test_fixed_low_and_high_pass_coordinates():
    """add_lp: the extra coordinate carries the graph Laplacian D - A; add_hp:
    the signless Laplacian D + A (both augmented-normalized)."""
    torch.manual_seed(6)
    x = torch.randn(N, 3 * 2, dtype=torch.float64)
    deg = torch.bincount(EDGES[0]).double()
    A = torch.zeros(N, N, dtype=torch.float64)
    A[EDGES[0], EDGES[1]] = 1
    s = (deg + 1).rsqrt()
    for flag, sign in (("add_lp", -1.0), ("add_hp", 1.0)):
        conv = SheafConv(2, 2, maps="diagonal", **{flag: True}).double()
        L = conv.laplacian(x, EDGES).to_dense()
        block = L[2::3, 2::3]  # the fixed (third) stalk coordinate of each node
        ref = s[:, None] * (torch.diag(deg) + sign * A) * s[None, :]
        np.testing.assert_allclose(block.detach().numpy(), ref.numpy(), atol=1e-12)
