"""SheafDiffusion: the NSD / Conn-NSD node classifier over the sheaf convolutions."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from manigeo.nn import (  # noqa: E402
    ConnectionSheafConv,
    SheafConv,
    SheafDiffusion,
    connection_maps,
)


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny graphs: one intra-op thread (thread hand-offs cost more than they
    gain, by ~100x on a loaded 2-core machine)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _two_class_graph(n=40, seed=0):
    """A heterophilous graph: every edge joins the two classes (bipartite)."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    src, dst = [], []
    for i in range(n):
        for j in (i + 1, i + 3):
            src.append(i)
            dst.append(j % n)
    ei = torch.tensor([src + dst, dst + src])
    x = torch.randn(n, 6, generator=g) + 0.3 * y[:, None].float()
    return x, ei, y


@pytest.mark.parametrize(
    "sheaf", ["diagonal", "orthogonal", "general", "connection", "identity"]
)
def test_model_layers_and_training(sheaf):
    torch.manual_seed(0)
    x, ei, y = _two_class_graph()
    model = SheafDiffusion(6, 2, sheaf=sheaf, stalk_dim=2, hidden_channels=4)
    conv_type = (
        ConnectionSheafConv if sheaf in ("connection", "identity") else SheafConv
    )
    assert len(model.convs) == 2 and all(isinstance(c, conv_type) for c in model.convs)
    out = model(x, ei)
    assert out.shape == (40, 2) and torch.isfinite(out).all()
    if sheaf == "connection":
        np.testing.assert_allclose(
            model.fixed_maps(x, ei).numpy(), connection_maps(x, ei, 2).numpy()
        )
    # a few Adam steps decrease the training loss
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    losses = []
    for _ in range(15):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x, ei), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0]


def test_model_equals_manual_stack():
    torch.manual_seed(1)
    x, ei, _ = _two_class_graph()
    model = SheafDiffusion(
        6, 3, sheaf="diagonal", stalk_dim=2, hidden_channels=4
    ).eval()
    h = torch.nn.functional.elu(model.lin1(x))
    for conv in model.convs:
        h = conv(h, ei)
    torch.testing.assert_close(model(x, ei), model.lin2(h))


def test_bad_inputs():
    x, ei, _ = _two_class_graph()
    with pytest.raises(ValueError, match="sheaf must be one of"):
        SheafDiffusion(6, 2, sheaf="bundle")
    with pytest.raises(ValueError, match="hidden_channels"):
        SheafDiffusion(6, 2, hidden_channels=0)
    with pytest.raises(ValueError, match=r"x must have shape \(N, 6\)"):
        SheafDiffusion(6, 2)(x[:, :5], ei)
    with pytest.raises(ValueError, match="dropout"):
        SheafDiffusion(6, 2, dropout=-0.1)
