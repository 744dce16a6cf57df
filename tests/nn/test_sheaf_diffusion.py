"""SheafDiffusion against a dense re-implementation of the NSD update."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from manigeo import ConnectionLaplacian  # noqa: E402
from manigeo.datasets import make_sphere  # noqa: E402
from manigeo.nn import SheafDiffusion  # noqa: E402
from manigeo.sheaf import sheaf_laplacian  # noqa: E402

EDGES = torch.tensor([[0, 1, 1, 2, 2, 3, 3, 0, 0, 2], [1, 0, 2, 1, 3, 2, 0, 3, 2, 0]])


def _dense_update(layer, x, L):
    N = x.shape[0] // layer.stalk_dim
    big_w1 = torch.kron(torch.eye(N, dtype=x.dtype), layer.W1)
    h = L.to_dense() @ (big_w1 @ x @ layer.W2)
    eps = torch.tanh(layer.epsilon).repeat(N)[:, None]
    return (1 + eps) * x - torch.nn.functional.elu(h)


def test_fixed_laplacian_matches_dense(device):
    X, _ = make_sphere(60, random_state=0)
    cl = ConnectionLaplacian(n_neighbors=6, dimension=2).fit(X)
    L = cl.to_torch(dtype=torch.float64, device=device)
    torch.manual_seed(0)
    layer = SheafDiffusion(2, 5).double().to(device)
    with torch.no_grad():
        layer.W1.copy_(torch.randn(2, 2))
        layer.epsilon.copy_(torch.randn(2))
    x = torch.randn(120, 5, dtype=torch.float64, device=device)
    out = layer(x, laplacian=L)
    ref = _dense_update(layer.cpu(), x.cpu(), L.cpu())
    np.testing.assert_allclose(
        out.detach().cpu().numpy(), ref.detach().numpy(), atol=1e-12
    )
    # (N, d, C) input gives the same result in the same shape
    out3 = layer.cpu()(x.cpu().reshape(60, 2, 5), laplacian=L.cpu())
    assert out3.shape == (60, 2, 5)
    np.testing.assert_allclose(
        out3.reshape(120, 5).detach().numpy(), ref.detach().numpy(), atol=1e-12
    )
    # float32 features: the float64 Laplacian is cast
    out32 = SheafDiffusion(2, 5)(x.float().cpu(), laplacian=L.cpu())
    assert out32.dtype == torch.float32


@pytest.mark.parametrize("maps", ["general", "diagonal", "orthogonal"])
def test_learned_maps(maps):
    torch.manual_seed(1)
    layer = SheafDiffusion(3, 4, maps=maps).double()
    x = torch.randn(4 * 3, 4, dtype=torch.float64)
    F = layer.restriction_maps(x, EDGES)
    if maps == "orthogonal":
        eye = F.transpose(1, 2) @ F
        np.testing.assert_allclose(
            eye.detach().numpy(), np.broadcast_to(np.eye(3), eye.shape), atol=1e-12
        )
        assert np.all(np.linalg.det(F.detach().numpy()) > 0)
    L = sheaf_laplacian(EDGES, F, 4, map_type=maps, normalization="augmented")
    out = layer(x, edge_index=EDGES)
    ref = _dense_update(layer, x, L)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), atol=1e-12)
    out.square().sum().backward()
    g = layer.sheaf_learner.weight.grad
    assert g is not None and torch.isfinite(g).all() and g.abs().sum() > 0
    assert layer.W1.grad is not None and layer.epsilon.grad is not None


def test_linear_diffusion_converges_to_global_sections():
    """With sigma = identity, W1 = W2 = I and eps = 0, iterating the layer is
    x <- (I - Delta) x, which converges to the projection onto ker Delta."""
    ei = EDGES
    maps = torch.ones(ei.shape[1], 1, 1, dtype=torch.float64)
    L = sheaf_laplacian(ei, maps, 4, normalization="augmented")
    layer = SheafDiffusion(1, 2, activation=lambda h: h).double()
    with torch.no_grad():
        layer.W2.copy_(torch.eye(2))
    x = torch.randn(4, 2, dtype=torch.float64)
    y = x
    for _ in range(300):
        y = layer(y, laplacian=L)
    w, V = np.linalg.eigh(L.to_dense().numpy())
    k = V[:, w < 1e-12]
    assert k.shape[1] == 1
    np.testing.assert_allclose(y.detach().numpy(), k @ (k.T @ x.numpy()), atol=1e-10)


def test_bad_inputs():
    with pytest.raises(ValueError, match="stalk_dim"):
        SheafDiffusion(0, 4)
    with pytest.raises(ValueError, match="maps"):
        SheafDiffusion(2, 4, maps="householder")
    with pytest.raises(ValueError, match="normalization"):
        SheafDiffusion(2, 4, normalization="rw")
    layer = SheafDiffusion(2, 4)
    with pytest.raises(ValueError, match="laplacian="):
        layer(torch.randn(8, 4))
    with pytest.raises(ValueError, match="x must have shape"):
        layer(torch.randn(7, 4), laplacian=torch.eye(7))
    with pytest.raises(ValueError, match="laplacian must have shape"):
        layer(torch.randn(8, 4), laplacian=torch.eye(6))
    with pytest.raises(ValueError, match="edge_index is required"):
        SheafDiffusion(2, 4, maps="diagonal")(torch.randn(8, 4))
