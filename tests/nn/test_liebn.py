import numpy as np
import pytest
import torch

from manigeo.nn import LieBatchNormSPD
from manigeo.spd import dispersion, mean


@pytest.fixture(autouse=True, scope="module")
def _single_torch_thread():
    """Tiny matrices: intra-op threads only add overhead (15x on a loaded
    2-core machine); restore the setting afterwards."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


CONFIGS = [
    ("affine", 1.0),
    ("affine", 1.5),
    ("affine", -0.5),
    ("logeuclid", 1.0),
    ("logcholesky", 1.0),
    ("logcholesky", 0.5),
]


def _batch(n=24, p=5, dtype=torch.float64, device="cpu", seed=0):
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(n, p, p, generator=g, dtype=torch.float64)
    X = A @ A.mT + 0.3 * torch.eye(p, dtype=torch.float64)
    return X.to(device=device, dtype=dtype)


def _layer(metric, theta, p=5, scale=0.7, seed=1, **kw):
    bn = LieBatchNormSPD(p, metric=metric, theta=theta, dtype=torch.float64, **kw)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        bn.bias_log.copy_(0.3 * torch.randn(p, p, generator=g, dtype=torch.float64))
        bn.log_scale.fill_(np.log(scale))
    return bn


@pytest.mark.parametrize("metric,theta", CONFIGS)
def test_output_mean_is_bias_and_variance_rescaled(metric, theta):
    X = _batch()
    bn = _layer(metric, theta, karcher_steps=50)
    Y = bn(X).detach().numpy()
    B = bn.bias.detach().numpy()
    M = mean(Y, metric, theta=theta, tol=1e-13)
    assert np.abs(M - B).max() < 1e-6
    v_in = dispersion(X.numpy(), metric=metric, theta=theta)
    v_out = dispersion(Y, B, metric, theta=theta)
    np.testing.assert_allclose(v_out, 0.49 * v_in / (v_in + bn.eps), rtol=1e-8)


def test_alpha_beta_variance():
    X = _batch()
    bn = _layer("affine", 1.0, alpha=2.0, beta=0.1, karcher_steps=50)
    Y = bn(X).detach().numpy()
    v_in = dispersion(X.numpy(), alpha=2.0, beta=0.1)
    v_out = dispersion(Y, bn.bias.detach().numpy(), alpha=2.0, beta=0.1)
    np.testing.assert_allclose(v_out, 0.49 * v_in / (v_in + 1e-5), rtol=1e-8)


def test_one_karcher_step_is_only_approximate():
    X = _batch(n=40, p=6)
    exact = _layer("affine", 1.0, p=6, karcher_steps=50)(X).detach().numpy()
    one = _layer("affine", 1.0, p=6, karcher_steps=1)(X).detach().numpy()
    assert np.abs(one - exact).max() > 1e-6


@pytest.mark.parametrize("metric,theta", CONFIGS)
def test_every_parameter_gets_a_gradient(metric, theta):
    X = _batch().requires_grad_(True)
    bn = _layer(metric, theta)
    target = _batch(seed=5)
    ((bn(X) - target) ** 2).sum().backward()
    for name, prm in bn.named_parameters():
        assert prm.grad is not None, name
        assert torch.isfinite(prm.grad).all(), name
        assert prm.grad.abs().sum() > 0, name
    assert torch.isfinite(X.grad).all()


def test_scale_gradient_under_affine_matches_finite_difference():
    """The 2025 toolbox returns None for the exponent's gradient under AIM."""
    X = _batch(n=10, p=4)
    target = _batch(n=10, p=4, seed=7)
    bn = _layer("affine", 1.0, p=4, karcher_steps=20)

    def loss(ls):
        with torch.no_grad():
            bn.log_scale.fill_(ls)
        return ((bn(X) - target) ** 2).sum()

    ls0 = float(np.log(0.7))
    bn.zero_grad()
    loss(ls0).backward()
    g = bn.log_scale.grad.item()
    h = 1e-6
    with torch.no_grad():
        fd = (loss(ls0 + h) - loss(ls0 - h)).item() / (2 * h)
    np.testing.assert_allclose(g, fd, rtol=1e-5)


@pytest.mark.parametrize(
    "metric,theta",
    [("affine", 1.0), ("affine", -0.5), ("logeuclid", 1.0), ("logcholesky", 0.5)],
)
def test_gradcheck_float64(metric, theta):
    """Exact gradients: w.r.t. the parameters in train mode (the batch mean is
    detached by design, as in the reference, so the input gradient is checked
    in eval mode where the statistics are constants)."""
    from torch.func import functional_call

    bn = _layer(metric, theta, p=3, karcher_steps=3, momentum=0.0)
    X = _batch(n=3, p=3)
    bias0 = bn.bias_log.detach().clone().requires_grad_(True)
    ls0 = bn.log_scale.detach().clone().requires_grad_(True)

    def f(b, s):
        return functional_call(bn, {"bias_log": b, "log_scale": s}, (X,))

    assert torch.autograd.gradcheck(f, (bias0, ls0), atol=1e-6, rtol=1e-5)
    with torch.no_grad():
        bn.running_mean.copy_(torch.as_tensor(mean(X.numpy(), metric, theta=theta)))
        bn.running_var.fill_(0.8)
    bn.eval()
    Xg = X.clone().requires_grad_(True)
    # gradcheck perturbs single entries; the layer refuses non-symmetric input
    assert torch.autograd.gradcheck(
        lambda X: bn(0.5 * (X + X.mT)), (Xg,), atol=1e-6, rtol=1e-5
    )
    assert torch.autograd.gradcheck(f, (bias0, ls0), atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("metric,theta", CONFIGS)
def test_running_statistics_and_eval(metric, theta):
    X = _batch()
    bn = _layer(metric, theta, momentum=1.0, karcher_steps=50)
    Ytrain = bn(X)
    np.testing.assert_allclose(
        bn.running_mean.numpy(),
        mean(X.numpy(), metric, theta=theta, tol=1e-13),
        atol=1e-9,
    )
    v = dispersion(X.numpy(), metric=metric, theta=theta)
    np.testing.assert_allclose(bn.running_var.item(), v, rtol=1e-9)
    bn.eval()
    np.testing.assert_allclose(
        bn(X).detach().numpy(), Ytrain.detach().numpy(), atol=1e-8
    )
    # eval does not update the running statistics
    rm = bn.running_mean.clone()
    bn(_batch(seed=3))
    assert torch.equal(rm, bn.running_mean)


def test_momentum_geodesic_update():
    X = _batch()
    bn = _layer("affine", 1.5, momentum=0.1, karcher_steps=50)
    bn(X)
    from manigeo.spd import geodesic

    Mb = mean(X.numpy(), "affine", theta=1.5, tol=1e-13)
    want = geodesic(np.eye(5), Mb, 0.1, "affine", theta=1.5)
    np.testing.assert_allclose(bn.running_mean.numpy(), want, atol=1e-9)
    np.testing.assert_allclose(
        bn.running_var.item(), 0.9 + 0.1 * dispersion(X.numpy(), theta=1.5), rtol=1e-9
    )


@pytest.mark.parametrize("metric", ["affine", "logeuclid", "logcholesky"])
def test_float32_and_device(metric, device):
    X = _batch(dtype=torch.float32, device=device)
    bn = LieBatchNormSPD(5, metric=metric, device=device, dtype=torch.float32)
    Y = bn(X)
    assert Y.dtype == torch.float32 and Y.device.type == device
    Y.sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in bn.parameters())
    Y64 = _layer(metric, 1.0, scale=1.0)
    with torch.no_grad():
        Y64.bias_log.zero_()
    ref = Y64(_batch()).detach().numpy()
    np.testing.assert_allclose(Y.detach().cpu().numpy(), ref, rtol=2e-3, atol=2e-3)


def test_leading_batch_shape_and_state_dict():
    X = _batch(n=12).reshape(3, 4, 5, 5)
    bn = _layer("logeuclid", 1.0)
    assert bn(X).shape == (3, 4, 5, 5)
    sd = bn.state_dict()
    assert set(sd) == {"bias_log", "log_scale", "running_mean", "running_var"}
    bn2 = LieBatchNormSPD(5, metric="logeuclid", dtype=torch.float64)
    bn2.load_state_dict(sd)
    bn.eval()
    bn2.eval()
    torch.testing.assert_close(bn(X), bn2(X))


def test_bias_stays_spd_after_optimizer_steps():
    bn = _layer("affine", 1.0, p=4)
    opt = torch.optim.SGD(bn.parameters(), lr=1.0)
    for seed in range(3):
        opt.zero_grad()
        (bn(_batch(n=8, p=4, seed=seed)) ** 2).sum().backward()
        opt.step()
    assert torch.linalg.eigvalsh(bn.bias).min() > 0
    assert bn.scale.item() > 0


def test_constructor_and_input_errors():
    with pytest.raises(ValueError, match="Lie-group structure"):
        LieBatchNormSPD(3, metric="bures-wasserstein")
    with pytest.raises(ValueError, match="unknown metric"):
        LieBatchNormSPD(3, metric="nope")
    with pytest.raises(ValueError, match="momentum"):
        LieBatchNormSPD(3, momentum=1.5)
    with pytest.raises(ValueError, match="karcher_steps"):
        LieBatchNormSPD(3, karcher_steps=0)
    with pytest.raises(ValueError, match="theta"):
        LieBatchNormSPD(3, theta=0.0)
    with pytest.raises(ValueError, match="beta must be > -alpha"):
        LieBatchNormSPD(3, beta=-0.5)
    with pytest.raises(ValueError, match="no \\(alpha, beta\\) family"):
        LieBatchNormSPD(3, metric="logcholesky", alpha=2.0)
    bn = LieBatchNormSPD(3)
    with pytest.raises(ValueError, match="shape"):
        bn(torch.eye(3))
    with pytest.raises(ValueError, match="shape"):
        bn(torch.eye(4).expand(2, 4, 4))
    with pytest.raises(TypeError, match="torch.Tensor"):
        bn(np.eye(3)[None])


def test_bad_input_named_errors():
    bn = LieBatchNormSPD(3, dtype=torch.float64)
    eye = torch.eye(3, dtype=torch.float64)
    with pytest.raises(ValueError, match="not positive definite"):
        bn(torch.stack([eye, -eye]))  # was: silently returned identities
    with pytest.raises(ValueError, match="NaN"):
        bn(torch.full((2, 3, 3), float("nan"), dtype=torch.float64))
    with pytest.raises(ValueError, match="empty batch"):
        bn(torch.zeros(0, 3, 3, dtype=torch.float64))
    with pytest.raises(TypeError, match="dtype torch.float32 but .*float64"):
        bn(torch.eye(3, dtype=torch.float32)[None])
    with pytest.raises(ValueError, match="not symmetric"):
        bn((eye + torch.triu(torch.ones(3, 3, dtype=torch.float64), 1))[None])
    with pytest.raises(TypeError, match="complex"):
        bn(eye.to(torch.complex128)[None])
    with pytest.raises(TypeError, match="mean_grad"):
        LieBatchNormSPD(3, mean_grad=1)
    X = _batch(n=4, p=3)
    X0 = X.clone()
    bn(X)
    assert torch.equal(X, X0)


@pytest.mark.parametrize("metric,theta", CONFIGS)
def test_layer_uses_the_metric_group_actions(metric, theta):
    """Eval mode = bias(stretch(transport_to_identity(X, M), f), B) with the
    public metric methods that SPDStandardScaler also uses (numpy)."""
    from manigeo.spd import get_metric

    X = _batch(n=6)
    bn = _layer(metric, theta, momentum=0.0)
    M = mean(X.numpy(), metric, theta=theta)
    with torch.no_grad():
        bn.running_mean.copy_(torch.as_tensor(M))
        bn.running_var.fill_(0.8)
    bn.eval()
    Y = bn(X).detach().numpy()
    g = get_metric(metric, theta)
    f = 0.7 / np.sqrt(0.8 + bn.eps)
    Xc = g.transport_to_identity(X.numpy(), M)
    want = g.bias(g.stretch(Xc, f), bn.bias.detach().numpy())
    np.testing.assert_allclose(Y, want, rtol=1e-9, atol=1e-10)
    # centring moves the mean to I and keeps distances (group action)
    np.testing.assert_allclose(mean(Xc, metric, theta=theta), np.eye(5), atol=1e-8)


@pytest.mark.parametrize(
    "metric,theta",
    [("affine", 1.0), ("affine", 1.5), ("logeuclid", 1.0), ("logcholesky", 0.5)],
)
def test_mean_grad_backpropagates_through_the_batch_mean(metric, theta):
    X = _batch(n=4, p=3)
    bn = _layer(metric, theta, p=3, karcher_steps=3, momentum=0.0, mean_grad=True)
    Xg = X.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda X: bn(0.5 * (X + X.mT)), (Xg,), atol=1e-6, rtol=1e-5
    )
    # the detached default differs: the mean's dependence on X is dropped
    target = _batch(n=4, p=3, seed=9)
    grads = []
    for flag in (True, False):
        layer = _layer(metric, theta, p=3, karcher_steps=3, mean_grad=flag)
        Xg = X.clone().requires_grad_(True)
        ((layer(Xg) - target) ** 2).sum().backward()
        grads.append(Xg.grad)
    assert (grads[0] - grads[1]).abs().max() > 1e-6
    # same forward values either way
    a = _layer(metric, theta, p=3, mean_grad=True)(X)
    b = _layer(metric, theta, p=3, mean_grad=False)(X)
    torch.testing.assert_close(a, b)


@pytest.mark.parametrize("metric", ["affine", "logeuclid", "logcholesky"])
def test_float32_is_computed_in_float64_at_high_condition_number(metric):
    rng = np.random.default_rng(3)
    Q, _ = np.linalg.qr(rng.normal(size=(16, 5, 5)))
    w = np.exp(rng.uniform(0, np.log(1e7), size=(16, 5)))
    X32 = torch.tensor((Q * w[:, None, :]) @ np.swapaxes(Q, -1, -2)).float()
    X32 = 0.5 * (X32 + X32.mT)
    bn32 = LieBatchNormSPD(5, metric=metric, karcher_steps=5, dtype=torch.float32)
    bn64 = LieBatchNormSPD(5, metric=metric, karcher_steps=5, dtype=torch.float64)
    Y32, Y64 = bn32(X32), bn64(X32.double())
    assert Y32.dtype == torch.float32
    # only the output rounding separates them
    err = np.abs(Y32.detach().double().numpy() - Y64.detach().numpy()).max()
    assert err <= 1e-6 * np.abs(Y64.detach().numpy()).max()


def test_bias_spd_by_construction_at_extreme_spread():
    # an eigenvalue of bias_log at -67 (e^-67 ~ 1e-29, below the round-off of
    # forming the matrix): the bias is floored to condition 1 / (100 n eps)
    # and its computed eigenvalues stay positive whatever the rotation
    bn = _layer("affine", 1.0, p=4)
    g = torch.Generator().manual_seed(0)
    for _ in range(5):
        Q, _ = torch.linalg.qr(torch.randn(4, 4, generator=g, dtype=torch.float64))
        w = torch.tensor([-67.0, -18.0, -13.7, -13.0], dtype=torch.float64)
        with torch.no_grad():
            bn.bias_log.copy_((Q * w) @ Q.mT)
        lam = torch.linalg.eigvalsh(bn.bias.detach())
        assert lam.min() > 0
        cap = 1.0 / (100 * 4 * torch.finfo(torch.float64).eps)
        assert lam.max() / lam.min() == pytest.approx(cap, rel=1e-2)
    # within the cap the bias is expm(sym(bias_log)) to round-off
    with torch.no_grad():
        bn.bias_log.copy_(0.3 * torch.randn(4, 4, generator=g, dtype=torch.float64))
    want = torch.linalg.matrix_exp(0.5 * (bn.bias_log + bn.bias_log.mT))
    torch.testing.assert_close(bn.bias.detach(), want, rtol=1e-12, atol=0)
