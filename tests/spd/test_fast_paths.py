"""The shortcuts of the SPD fast paths give the same answers as the long way:
the exact-symmetry test, the Cholesky factor kept from the validation, the
log-Euclidean mean as one GEMM, the float32 Hessian of the AIM Newton
iteration and the scaler's single-pass fit_transform."""

import numpy as np
import pytest
import torch

from manigeo import spd
from manigeo._validation import check_spd, check_symmetric
from manigeo.spd import SPDStandardScaler, get_metric
from manigeo.spd._metrics import karcher_newton, logchol_coords

from ._spd_data import random_spd


def _exactly_symmetric(X):
    return 0.5 * (X + np.swapaxes(X, -1, -2))


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_exactly_symmetric_input_keeps_nonfinite_and_copy_checks(rng, backend):
    X = _exactly_symmetric(random_spd(rng, 3, 4))
    conv = (lambda A: A) if backend == "numpy" else torch.tensor
    out = check_symmetric(conv(X))
    assert out is not conv(X)
    np.testing.assert_array_equal(np.asarray(out), X)
    # a NaN or a symmetric pair of infinities makes X - Xᵀ NaN, never 0
    for value, where in [(np.nan, (0, 1, 1)), (np.inf, (0, 0, 1))]:
        bad = X.copy()
        i, j, k = where
        bad[i, j, k] = bad[i, k, j] = value
        with pytest.raises(ValueError, match="NaN or infinite"):
            check_symmetric(conv(bad))
        with pytest.raises(ValueError, match="NaN or infinite"):
            check_spd(conv(bad))
    Y = check_spd(X, copy=False)
    assert Y is X  # exactly symmetric float64 input, only read
    assert check_spd(X) is not X


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_check_spd_returns_the_cholesky_factor(rng, backend):
    X = random_spd(rng, 5, 4, cond=1e6)  # round-off asymmetric
    Xc = X if backend == "numpy" else torch.tensor(X)
    S, L = check_spd(Xc, return_cholesky=True)
    S, L = np.asarray(S), np.asarray(L)
    np.testing.assert_array_equal(S, np.swapaxes(S, -1, -2))
    np.testing.assert_array_equal(L, np.tril(L))
    np.testing.assert_allclose(L @ np.swapaxes(L, -1, -2), S, rtol=1e-12, atol=0)
    np.testing.assert_allclose(logchol_coords(S, L), logchol_coords(S), rtol=1e-14)
    with pytest.raises(ValueError, match="not positive definite"):
        check_spd(-Xc, return_cholesky=True)


def test_logeuclid_mean_is_expm_of_mean_logm(rng):
    X = random_spd(rng, 20, 6, cond=1e8)
    ref = spd.expm(spd.logm(X).mean(0))
    np.testing.assert_allclose(spd.mean(X, "logeuclid"), ref, rtol=1e-11)
    # torch in a graph keeps the differentiable logm path; same value
    Xt = torch.tensor(X, requires_grad=True)
    M = spd.mean(Xt, "logeuclid")
    np.testing.assert_allclose(
        M.detach().numpy(), ref, rtol=1e-9, atol=1e-12 * np.abs(ref).max()
    )
    M.trace().backward()
    assert torch.isfinite(Xt.grad).all()


def test_logcholesky_mean_from_the_validation_factor(rng):
    pm = pytest.importorskip("pyriemann.geometry.mean")
    X = random_spd(rng, 20, 6, cond=1e8)
    np.testing.assert_allclose(
        spd.mean(X, "logcholesky"), pm.mean_logchol(X), rtol=1e-12
    )
    np.testing.assert_allclose(
        spd.mean(torch.tensor(X), "logcholesky").numpy(),
        pm.mean_logchol(X),
        rtol=1e-12,
    )


def test_float32_hessian_keeps_newton_quadratic(rng):
    # well-conditioned data: the float64 gradient can go to 1e-13, far below
    # the 1e-7 relative accuracy of the float32 Hessian products
    X = random_spd(rng, 30, 8, cond=1e3)
    w = np.full(30, 1 / 30)
    M, info = karcher_newton(X, w, tol=1e-13)
    assert info["grad_norm"] <= 1e-13 and info["n_iter"] <= 6
    Si = spd.invsqrtm(M)
    assert np.linalg.norm(spd.logm(Si @ X @ Si).mean(0)) <= 1e-12


@pytest.mark.parametrize("metric", ["affine", "logeuclid", "logcholesky"])
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_scaler_fit_transform_equals_fit_then_transform(rng, metric, backend):
    X = random_spd(rng, 12, 4, cond=1e3)
    Xc = X if backend == "numpy" else torch.tensor(X)
    a = SPDStandardScaler(metric=metric, theta=1.0)
    b = SPDStandardScaler(metric=metric, theta=1.0)
    Ya = np.asarray(a.fit_transform(Xc))
    Yb = np.asarray(b.fit(Xc).transform(Xc))
    np.testing.assert_allclose(Ya, Yb, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a.mean_, b.mean_, rtol=1e-12)
    np.testing.assert_allclose(
        a.mean_, get_metric(metric).mean(X), rtol=1e-9, atol=1e-12
    )
    assert a.dispersion_ == pytest.approx(b.dispersion_, rel=1e-12)


def test_newton_stops_at_the_whitening_rounding_level(rng):
    # all the weight on one ill-conditioned matrix: the whitened W_i are ~I,
    # so their eigenvalue spread hides the eps * cond(M) rounding of the
    # whitening itself; the iteration stopped only at max_iter with a warning
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    Q, _ = np.linalg.qr(rng.normal(size=(10, 10)))
    A = (Q * np.logspace(0, 8, 10)) @ Q.T
    X = np.stack([A, random_spd(rng, 1, 10)[0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        M, info = get_metric("affine").mean(X, weights=[1.0, 0.0], return_info=True)
    assert info["n_iter"] <= 3
    assert info["rounding_floor"] >= 1e-9
    assert spd.distance(M, A) < 1e-6


def _rel(A, B):
    """Largest per-matrix relative Frobenius difference."""
    num = np.linalg.norm(A - B, axis=(-2, -1))
    return float(np.max(num / np.linalg.norm(B, axis=(-2, -1))))


@pytest.mark.parametrize("metric", ["logeuclid", "logcholesky"])
@pytest.mark.parametrize("theta", [1.0, 0.5])
def test_scaler_in_place_centring_torch_equals_numpy_input_untouched(
    rng, metric, theta
):
    # the closed-form scalers overwrite the validation's Cholesky factors and
    # centre / stretch the coordinates in place: the same values as the
    # group actions, on both backends, and the input is never written
    X = random_spd(rng, 15, 5, cond=1e4)
    X0 = X.copy()
    Xt = torch.tensor(X)
    Xt0 = Xt.clone()
    for with_std in (True, False):
        kw = {"metric": metric, "theta": theta, "with_std": with_std}
        Yn = SPDStandardScaler(**kw).fit_transform(X)
        Yt = SPDStandardScaler(**kw).fit_transform(Xt)
        assert isinstance(Yt, torch.Tensor)
        assert _rel(Yt.numpy(), Yn) <= 1e-12
        # the long way: centre with the group action, stretch, map back
        m = get_metric(metric, theta)
        sc = SPDStandardScaler(**kw).fit(X)
        C = m.group_translate(m.to_group(X), m.to_group(sc.mean_), inverse=True)
        ref = m.from_group(m.group_stretch(C, sc.scale_))
        assert _rel(Yn, ref) <= 1e-12
    np.testing.assert_array_equal(X, X0)
    assert torch.equal(Xt, Xt0)


def test_fixed_step_karcher_flow_torch_equals_numpy(rng):
    # torch outside a graph whitens with two batch-wide GEMMs; in a graph
    # (layers) with the plain products: the same steps to round-off
    from manigeo.spd._metrics import karcher_affine

    X = random_spd(rng, 20, 6, cond=1e6)
    w = np.full(20, 1 / 20)
    Mn, info_n = karcher_affine(X, w, tol=0.0, max_iter=5)
    Mt, info_t = karcher_affine(torch.tensor(X), torch.tensor(w), tol=0.0, max_iter=5)
    Xg = torch.tensor(X, requires_grad=True)
    Mg, _ = karcher_affine(Xg, torch.tensor(w), tol=0.0, max_iter=5)
    assert _rel(Mt.numpy(), Mn) <= 1e-12
    assert _rel(Mg.detach().numpy(), Mn) <= 1e-12
    assert info_t["grad_norm"] == pytest.approx(info_n["grad_norm"], rel=1e-9)
    Mg.sum().backward()
    assert torch.isfinite(Xg.grad).all()


@pytest.mark.parametrize("theta", [1.0, 0.5])
def test_affine_group_translate_torch_batch_equals_numpy(rng, theta):
    # torch batches are translated with two batch-wide GEMMs; numpy with the
    # stacked products: the same values, and gradients still flow
    X = random_spd(rng, 12, 5, cond=1e4)
    M = random_spd(rng, 1, 5, cond=1e2)[0]
    g = get_metric("affine", theta)
    for inverse in (True, False):
        Cn, Mn = g.to_group(X), g.to_group(M)
        want = g.group_translate(Cn, Mn, inverse=inverse)
        Xt = torch.tensor(X, requires_grad=True)
        got = g.group_translate(g.to_group(Xt), g.to_group(torch.tensor(M)), inverse)
        assert _rel(got.detach().numpy(), want) <= 1e-12
        np.testing.assert_array_equal(got.detach().numpy(), got.detach().mT.numpy())
        got.sum().backward()
        assert torch.isfinite(Xt.grad).all()
    np.testing.assert_allclose(
        _recenter(X), _recenter(torch.tensor(X)).numpy(), rtol=1e-9, atol=1e-11
    )


def _recenter(X):
    from manigeo.spd import SPDRecenter

    return SPDRecenter(rescale=True).fit_transform(X, groups=np.arange(len(X)) % 2)
