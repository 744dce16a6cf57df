import numpy as np
import pytest
import scipy.linalg

torch = pytest.importorskip("torch")

from manigeo.nn import (  # noqa: E402
    BiMap,
    ExpEig,
    LieBatchNormSPD,
    LogEig,
    ReEig,
    StiefelSGD,
)
from manigeo.spd import expm, logm  # noqa: E402

F64 = torch.float64


@pytest.fixture(autouse=True, scope="module")
def _single_torch_thread():
    """Tiny matrices: intra-op threads only add overhead on a loaded machine."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _spd(batch, n, *, seed=0, spread=1.0, dtype=F64):
    """SPD matrices with eigenvalues in [exp(-spread), exp(spread)]."""
    g = torch.Generator().manual_seed(seed)
    Q, _ = torch.linalg.qr(torch.randn(*batch, n, n, generator=g, dtype=F64))
    w = torch.exp(spread * (2 * torch.rand(*batch, n, generator=g, dtype=F64) - 1))
    return ((Q * w[..., None, :]) @ Q.mT).to(dtype)


def _with_spectrum(w, seed=0):
    g = torch.Generator().manual_seed(seed)
    w = torch.as_tensor(w, dtype=F64)
    Q, _ = torch.linalg.qr(torch.randn(len(w), len(w), generator=g, dtype=F64))
    return (Q * w) @ Q.T


# Repeated eigenvalues: the identity and diag(1, 1, 2), in the eigenbasis and
# rotated.  Autograd through torch.linalg.eigh is not finite there.
REPEATED = {
    "identity": torch.eye(3, dtype=F64),
    "diag112": torch.diag(torch.tensor([1.0, 1.0, 2.0], dtype=F64)),
    "rotated112": _with_spectrum([1.0, 1.0, 2.0]),
    "random": _spd((), 4, seed=3),
}


def _sym(A):
    return 0.5 * (A + A.mT)


def _gradcheck(fn, X):
    # gradcheck perturbs single entries; the layers reject asymmetric input, so
    # the perturbation goes through sym() (the derivative along symmetric
    # directions is what the layers define)
    X = X.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda A: fn(_sym(A)), (X,), eps=1e-6, atol=1e-6, rtol=1e-5
    )


# ----------------------------------------------------------------- gradcheck


@pytest.mark.parametrize("name", list(REPEATED))
def test_gradcheck_logeig_expeig(name):
    X = REPEATED[name]
    _gradcheck(LogEig(), X)
    _gradcheck(LogEig(vectorize=True), X)
    _gradcheck(ExpEig(), X)
    _gradcheck(ExpEig(), torch.log(torch.tensor(2.0, dtype=F64)) * X)


@pytest.mark.parametrize("name", list(REPEATED))
def test_gradcheck_reeig_above_floor(name):
    # every eigenvalue above the floor: ReEig is the identity map locally
    X = REPEATED[name]
    _gradcheck(ReEig(eps=1e-4), X)
    G = torch.randn(*X.shape, dtype=F64, generator=torch.Generator().manual_seed(1))
    Xg = X.clone().requires_grad_(True)
    ReEig(eps=1e-4)(Xg).backward(G)
    assert torch.allclose(Xg.grad, 0.5 * (G + G.T), atol=1e-12)


def test_gradcheck_reeig_clamped_repeated_eigenvalues():
    # the repeated eigenvalue 1 is clamped to 1.5, the eigenvalue 2 is kept
    for X in (REPEATED["diag112"], REPEATED["rotated112"]):
        _gradcheck(ReEig(eps=1.5), X)
    # all clamped: the output is the constant 3 I, zero gradient
    X = REPEATED["rotated112"].clone().requires_grad_(True)
    ReEig(eps=3.0)(X).sum().backward()
    assert torch.count_nonzero(X.grad) == 0


def test_gradcheck_reeig_straddling_floor_and_against_eigh_autograd():
    X = _with_spectrum([0.05, 0.3, 1.0, 2.5, 4.0], seed=2)
    _gradcheck(ReEig(eps=0.6), X)
    # independent reference: autograd through eigh (fine for distinct eigenvalues)
    G = torch.randn(5, 5, dtype=F64, generator=torch.Generator().manual_seed(4))
    Xa = X.clone().requires_grad_(True)
    ReEig(eps=0.6)(Xa).backward(G)
    Xb = X.clone().requires_grad_(True)
    w, U = torch.linalg.eigh(0.5 * (Xb + Xb.T))
    ((U * w.clamp_min(0.6)) @ U.T).backward(G)
    assert torch.allclose(Xa.grad, Xb.grad, atol=1e-10)


def test_gradcheck_bimap_input_and_weight():
    torch.manual_seed(0)
    bimap = BiMap(5, 3, dtype=F64)
    X = _spd((2,), 5, seed=5).requires_grad_(True)
    W = bimap.weight.detach().clone().requires_grad_(True)

    def f(X, W):
        return torch.func.functional_call(bimap, {"weight": W}, (_sym(X),))

    assert torch.autograd.gradcheck(f, (X, W), eps=1e-6, atol=1e-6)


def test_gradcheck_spdnet_stack():
    torch.manual_seed(1)
    net = torch.nn.Sequential(
        BiMap(5, 4, dtype=F64), ReEig(eps=0.4), BiMap(4, 3, dtype=F64), LogEig(True)
    )
    _gradcheck(net, _spd((3,), 5, seed=6))


# --------------------------------------------------- values against references


def test_logeig_expeig_match_manigeo_spd_and_scipy():
    X = _spd((6,), 5, seed=7, spread=3.0)
    S = 0.7 * logm(_spd((6,), 5, seed=8))  # eigenvalues of either sign
    L, E = LogEig()(X), ExpEig()(S)
    for i in range(6):
        ref_log = scipy.linalg.logm(X[i].numpy())
        ref_exp = scipy.linalg.expm(S[i].numpy())
        np.testing.assert_allclose(L[i].numpy(), np.real(ref_log), atol=1e-10)
        np.testing.assert_allclose(E[i].numpy(), ref_exp, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(L.numpy(), logm(X.numpy()), atol=1e-12)
    np.testing.assert_allclose(E.numpy(), expm(S.numpy()), rtol=1e-12)
    np.testing.assert_allclose(ExpEig()(L).numpy(), X.numpy(), rtol=1e-9, atol=1e-12)


def test_logeig_vectorize_layout_and_norm():
    X = _spd((2, 3), 4, seed=9)
    v = LogEig(vectorize=True)(X)
    L = LogEig()(X)
    assert v.shape == (2, 3, 10)
    torch.testing.assert_close(v.norm(dim=-1), torch.linalg.matrix_norm(L))
    rows, cols = np.triu_indices(4)
    coef = np.where(rows == cols, 1.0, np.sqrt(2.0))
    np.testing.assert_allclose(v.numpy(), L.numpy()[..., rows, cols] * coef)


def test_reeig_matches_explicit_eigen_clamp():
    S = logm(_spd((8,), 6, seed=10, spread=2.0))  # symmetric, indefinite
    Y = ReEig(eps=0.2)(S)
    w, U = np.linalg.eigh(S.numpy())
    ref = (U * np.maximum(w, 0.2)[:, None, :]) @ np.swapaxes(U, -1, -2)
    np.testing.assert_allclose(Y.numpy(), ref, atol=1e-12)
    assert (w < 0.2).any() and (w > 0.2).any()  # the clamp is active and not
    assert torch.linalg.eigvalsh(Y).min() >= 0.2 - 1e-12


def test_bimap_shapes_values_and_seeding():
    torch.manual_seed(2)
    a = BiMap(6, 3, dtype=F64)
    torch.manual_seed(2)
    b = BiMap(6, 3, dtype=F64)
    assert torch.equal(a.weight, b.weight)
    W = a.weight.detach()
    torch.testing.assert_close(W.T @ W, torch.eye(3, dtype=F64))
    X = _spd((2, 4), 6, seed=11)
    Y = a(X)
    assert Y.shape == (2, 4, 3, 3)
    torch.testing.assert_close(Y, W.T @ X @ W)
    assert torch.linalg.eigvalsh(Y).min() > 0
    assert BiMap(4, 4)(torch.eye(4)).shape == (4, 4)


# ------------------------------------------------------------ Stiefel steps


@pytest.mark.parametrize("momentum", [0.0, 0.5])
def test_stiefel_sgd_stays_on_manifold_and_finds_top_subspace(momentum):
    # maximise tr(Wᵀ A W): the optimum is the sum of the p largest eigenvalues
    A = _with_spectrum([0.5, 1.0, 2.0, 3.0, 5.0, 6.0], seed=12)
    torch.manual_seed(3)
    bimap = BiMap(6, 2, dtype=F64)
    opt = StiefelSGD(bimap.parameters(), lr=0.05, momentum=momentum)
    losses = []
    for _ in range(150):
        opt.zero_grad()
        loss = -torch.trace(bimap(A))
        loss.backward()
        opt.step()
        W = bimap.weight.detach()
        assert (W.T @ W - torch.eye(2, dtype=F64)).abs().max() < 1e-10
        losses.append(loss.item())
    assert losses[-1] < losses[0] - 1.0
    assert losses[-1] == pytest.approx(-11.0, abs=1e-6)


def test_stiefel_sgd_step_is_tangent_projection_then_qr():
    torch.manual_seed(4)
    bimap = BiMap(5, 3, dtype=F64)
    W0 = bimap.weight.detach().clone()
    G = torch.randn(5, 3, dtype=F64, generator=torch.Generator().manual_seed(5))
    bimap.weight.grad = G.clone()
    StiefelSGD([bimap.weight], lr=0.1).step()
    xi = G - W0 @ (0.5 * (W0.T @ G + G.T @ W0))
    assert (W0.T @ xi + xi.T @ W0).abs().max() < 1e-12  # tangent at W0
    Q, R = np.linalg.qr((W0 - 0.1 * xi).numpy())
    ref = Q * np.sign(np.diag(R))
    np.testing.assert_allclose(bimap.weight.detach().numpy(), ref, atol=1e-12)
    assert torch.equal(bimap.weight.grad, G)  # the gradient is left untouched


def test_stiefel_sgd_rejects_non_stiefel_parameters():
    with pytest.raises(ValueError, match="orthonormal columns"):
        StiefelSGD(torch.nn.Linear(3, 3).parameters(), lr=0.1)
    with pytest.raises(ValueError, match="n >= p"):
        StiefelSGD([torch.nn.Parameter(torch.zeros(2, 3))], lr=0.1)
    opt = StiefelSGD(BiMap(3, 2).parameters(), lr=0.1)
    with pytest.raises(ValueError, match="orthonormal columns"):
        opt.add_param_group({"params": [torch.nn.Parameter(torch.ones(3, 2))]})
    with pytest.raises(ValueError, match="lr"):
        StiefelSGD(BiMap(3, 2).parameters(), lr=0.0)
    with pytest.raises(ValueError, match="momentum"):
        StiefelSGD(BiMap(3, 2).parameters(), lr=0.1, momentum=1.0)


# ------------------------------------------------------ validation, dtypes


@pytest.mark.parametrize(
    "layer", [BiMap(3, 2, dtype=F64), ReEig(), LogEig(), ExpEig()], ids=repr
)
def test_bad_inputs_raise_named_errors(layer):
    good = _spd((2,), 3)
    with pytest.raises(TypeError, match="torch.Tensor"):
        layer(good.numpy())
    for dtype in (torch.int64, torch.float16, torch.complex128):
        with pytest.raises(TypeError, match="floating-point"):
            layer(torch.eye(3, dtype=dtype))
    with pytest.raises(ValueError, match="square"):
        layer(torch.ones(2, 3, 4, dtype=F64))
    bad = good.clone()
    bad[0, 1, 1] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        layer(bad)
    asym = good.clone()
    asym[1, 0, 2] += 0.1
    with pytest.raises(ValueError, match="not symmetric"):
        layer(asym)
    copy = good.clone()
    layer(good)
    assert torch.equal(good, copy)  # input not modified


def test_logeig_rejects_non_spd_and_bimap_checks_size_and_dtype():
    X = torch.diag(torch.tensor([1.0, -0.5, 2.0], dtype=F64))
    with pytest.raises(ValueError, match="not positive definite.*-0.5"):
        LogEig()(X)
    LogEig()(ReEig()(X))  # fine after ReEig
    with pytest.raises(ValueError, match="size 4x4"):
        BiMap(4, 2, dtype=F64)(torch.eye(3, dtype=F64))
    with pytest.raises(TypeError, match="float32.*float64"):
        BiMap(3, 2, dtype=F64)(torch.eye(3, dtype=torch.float32))
    with pytest.raises(ValueError, match="out_size <= in_size"):
        BiMap(2, 3)
    with pytest.raises(ValueError, match="in_size"):
        BiMap(0, 0)
    with pytest.raises(ValueError, match="eps"):
        ReEig(eps=0.0)
    with pytest.raises(TypeError, match="vectorize"):
        LogEig(vectorize="yes")


@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_layers_keep_dtype_and_device(dtype, device):
    torch.manual_seed(5)
    net = torch.nn.Sequential(
        BiMap(6, 4, dtype=dtype, device=device),
        ReEig(),
        LieBatchNormSPD(4, dtype=dtype, device=device),
        BiMap(4, 3, dtype=dtype, device=device),
        ReEig(),
        LogEig(vectorize=True),
        torch.nn.Linear(6, 2, dtype=dtype, device=device),
    )
    X = _spd((8,), 6, seed=13, dtype=dtype).to(device)
    out = net(X)
    assert out.dtype == dtype and out.device.type == device and out.shape == (8, 2)
    out.square().sum().backward()
    for p in net.parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all()
    E = ExpEig()(LogEig()(X))
    assert E.dtype == dtype and E.device.type == device
    tol = 1e-4 if dtype == torch.float32 else 1e-10
    torch.testing.assert_close(E, X, rtol=tol, atol=tol)
