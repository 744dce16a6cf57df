import warnings

import numpy as np
import pytest
import scipy.linalg as sla
import torch

from manigeo._backend import loewner
from manigeo.spd import expm, invsqrtm, logm, powm, sqrtm

from ._spd_data import random_spd

FUNCS = {
    "logm": (logm, sla.logm),
    "expm": (expm, sla.expm),
    "sqrtm": (sqrtm, sla.sqrtm),
    "invsqrtm": (invsqrtm, lambda A: sla.inv(sla.sqrtm(A))),
    "powm": (lambda X: powm(X, 0.37), lambda A: sla.fractional_matrix_power(A, 0.37)),
}


@pytest.mark.parametrize("name", FUNCS)
def test_numpy_matches_scipy_on_batches(rng, name):
    ours, ref = FUNCS[name]
    X = random_spd(rng, 6, 5, cond=100).reshape(2, 3, 5, 5)
    Y = ours(X)
    assert Y.shape == X.shape
    for idx in np.ndindex(2, 3):
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            want = np.real(ref(X[idx]))
        np.testing.assert_allclose(Y[idx], want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", FUNCS)
def test_torch_matches_numpy_and_keeps_dtype(rng, name):
    ours, _ = FUNCS[name]
    X = random_spd(rng, 4, 6)
    for dtype, tol in [(torch.float64, 1e-12), (torch.float32, 1e-4)]:
        Xt = torch.as_tensor(X, dtype=dtype)
        Yt = ours(Xt)
        assert isinstance(Yt, torch.Tensor) and Yt.dtype == dtype
        np.testing.assert_allclose(Yt.numpy(), ours(X), rtol=tol, atol=tol)


def test_round_trips(rng):
    X = random_spd(rng, 5, 4, cond=1e3)
    np.testing.assert_allclose(expm(logm(X)), X, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(sqrtm(X) @ sqrtm(X), X, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(
        invsqrtm(X) @ X @ invsqrtm(X), np.broadcast_to(np.eye(4), X.shape), atol=1e-10
    )
    np.testing.assert_allclose(powm(powm(X, 2.5), 1 / 2.5), X, rtol=1e-9, atol=1e-9)


def test_per_matrix_exponent(rng):
    X = random_spd(rng, 3, 4)
    p = np.array([0.5, 2.0, -1.0])
    Y = powm(X, p)
    np.testing.assert_allclose(Y[0], sqrtm(X[0]), atol=1e-12)
    np.testing.assert_allclose(Y[1], X[1] @ X[1], rtol=1e-10)
    np.testing.assert_allclose(Y[2], np.linalg.inv(X[2]), rtol=1e-10)


def test_numpy_rejects_bad_input():
    with pytest.raises(ValueError, match="positive definite"):
        logm(np.diag([1.0, -1.0]))
    with pytest.raises(ValueError, match="NaN"):
        sqrtm(np.array([[1.0, np.nan], [np.nan, 1.0]]))
    with pytest.raises(ValueError, match="square"):
        logm(np.ones((2, 3)))


def test_loewner_against_pyriemann_divided_difference(rng):
    from pyriemann.geometry.base import _first_divided_difference

    w = np.array([0.5, 0.5, 1.0, 2.0, 2.0 + 1e-13, 7.0])
    K = loewner(w, np.log(w), 1.0 / w)
    ref = _first_divided_difference(
        w, np.log, lambda x: 1.0 / x, atol=1e-12, rtol=1e-12
    )
    np.testing.assert_allclose(K, ref, rtol=1e-9)


REPEATED = [
    np.eye(5),
    np.diag([1.0, 1.0, 2.0, 3.0, 3.0]),
]


@pytest.mark.parametrize("which", ["identity", "diag11233", "random"])
@pytest.mark.parametrize("name", FUNCS)
def test_gradcheck_float64_including_repeated_eigenvalues(rng, which, name):
    ours, _ = FUNCS[name]
    if which == "random":
        X0 = random_spd(rng, 2, 4)
    else:
        X0 = REPEATED[which == "diag11233"]
    X = torch.tensor(X0, dtype=torch.float64, requires_grad=True)
    # gradcheck perturbs single entries, i.e. off the symmetric matrices that
    # the functions accept: check F(sym(X)), the same gradient on symmetric X
    assert torch.autograd.gradcheck(
        lambda X: ours(0.5 * (X + X.mT)), (X,), eps=1e-6, atol=1e-6, rtol=1e-5
    )


@pytest.mark.parametrize("X0", REPEATED, ids=["identity", "diag11233"])
def test_gradient_finite_and_exact_where_eigh_autograd_fails(X0):
    X = torch.tensor(X0, requires_grad=True)
    G = torch.tensor(np.arange(25.0).reshape(5, 5))
    (logm(X) * G).sum().backward()
    assert torch.isfinite(X.grad).all()
    # closed form: U (K ∘ Uᵀ sym(G) U) Uᵀ with the eigenbasis of a diagonal X
    w = np.diag(X0)
    K = loewner(w, np.log(w), 1.0 / w)
    np.testing.assert_allclose(X.grad.numpy(), K * 0.5 * (G + G.T).numpy(), rtol=1e-12)
    # autograd through torch.linalg.eigh is not finite here (why the custom
    # backward exists)
    Y = X.detach().clone().requires_grad_(True)
    w_, U = torch.linalg.eigh(Y)
    ((U @ torch.diag_embed(w_.log()) @ U.mT) * G).sum().backward()
    assert not torch.isfinite(Y.grad).all()


@pytest.mark.parametrize("X0", [np.eye(3), np.diag([1.0, 1.0, 2.5])], ids=["I", "rep"])
def test_learnable_exponent_gradient(rng, X0):
    X = torch.tensor(random_spd(rng, 3, 3), requires_grad=True)
    p = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda X, p: powm(0.5 * (X + X.mT), p), (X, p))
    # per-matrix exponents and a repeated-eigenvalue input
    Xr = torch.tensor(np.stack([X0, 2 * X0]), requires_grad=True)
    pv = torch.tensor([0.3, -1.2], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda X, p: powm(0.5 * (X + X.mT), p), (Xr, pv))
    # explicit formula: d/dp sum(G * X^p) = sum_i (UᵀGU)_ii λ_i^p log λ_i
    G = torch.tensor(rng.normal(size=(3, 3)))
    Xs = torch.tensor(random_spd(rng, 1, 3)[0])
    q = torch.tensor(1.3, dtype=torch.float64, requires_grad=True)
    (powm(Xs, q) * G).sum().backward()
    w, U = np.linalg.eigh(Xs.numpy())
    Gt = U.T @ (0.5 * (G + G.T)).numpy() @ U
    np.testing.assert_allclose(
        q.grad.item(), np.sum(np.diag(Gt) * w**1.3 * np.log(w)), rtol=1e-12
    )


def test_float32_eigenvalue_floor_keeps_log_finite():
    X = torch.diag(torch.tensor([1.0, 1e-9, 1e-30], dtype=torch.float32))
    X.requires_grad_(True)
    Y = logm(X)
    assert torch.isfinite(Y).all()
    Y.sum().backward()
    assert torch.isfinite(X.grad).all()
