"""Bad input to the SPD functions and scalers: each reproduction of issue 13
is a test (named errors on both backends, no silent wrong answers)."""

import numpy as np
import pytest
import torch

from manigeo import spd
from manigeo.spd import SPDRecenter, SPDStandardScaler

from ._spd_data import random_spd

NONSYM = np.array([[1.0, 0.5], [0.1, 2.0]])


@pytest.mark.parametrize("fn", [spd.logm, spd.sqrtm, spd.invsqrtm, spd.expm])
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_matrix_functions_refuse_non_symmetric(fn, backend):
    X = NONSYM if backend == "numpy" else torch.tensor(NONSYM)
    with pytest.raises(ValueError, match="not symmetric"):
        fn(X)
    with pytest.raises(ValueError, match="not symmetric"):
        spd.powm(X, 0.5)


def test_round_off_asymmetry_is_accepted_and_symmetrised(rng):
    X = random_spd(rng, 3, 4)
    Xn = X + 1e-13 * rng.normal(size=X.shape)
    L = spd.logm(Xn)
    np.testing.assert_array_equal(L, np.swapaxes(L, -1, -2))
    np.testing.assert_allclose(L, spd.logm(X), atol=1e-11)


def test_torch_logm_refuses_negative_eigenvalues_like_numpy():
    A = np.diag([1.0, -1.0])
    with pytest.raises(ValueError, match="smallest eigenvalue -1"):
        spd.logm(A)
    for dtype in (torch.float64, torch.float32):
        with pytest.raises(ValueError, match="smallest eigenvalue -1"):
            spd.logm(torch.tensor(A, dtype=dtype))
    with pytest.raises(ValueError, match="positive definite"):
        spd.sqrtm(torch.tensor(np.diag([2.0, -0.5])))


def test_exp_overflow_is_an_error_not_nan():
    with pytest.raises(ValueError, match="overflows"):
        spd.exp(np.eye(2), 1e3 * np.eye(2))
    with pytest.raises(ValueError, match="overflows"):
        spd.expm(torch.tensor(1e3 * np.eye(2)))
    with pytest.raises(ValueError, match="overflows"):
        spd.powm(np.diag([1e-300, 1.0]), -2.0)
    np.testing.assert_allclose(
        spd.exp(np.eye(2), 700 * np.eye(2)), np.exp(700) * np.eye(2)
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda X: spd.logm(X),
        lambda X: spd.distance(X, X),
        lambda X: spd.mean(
            [X, X] if isinstance(X, np.ndarray) else torch.stack([X, X])
        ),
    ],
)
def test_complex_input_refused(call):
    X = np.eye(3, dtype=complex)
    with pytest.raises(TypeError, match="complex"):
        call(X)
    with pytest.raises(TypeError, match="complex"):
        call(torch.tensor(X))


def test_distance_mismatched_batch_sizes(rng):
    X = random_spd(rng, 4, 3)
    with pytest.raises(ValueError, match="different numbers of matrices"):
        spd.distance(X[:3], X)
    with pytest.raises(ValueError, match="different numbers of matrices"):
        spd.log(X[:2], X[:3])
    # one matrix against a batch still broadcasts
    assert spd.distance(X[:1], X).shape == (4,)
    assert spd.distance(X[0], X).shape == (4,)


def test_degenerate_dispersion_standard_scaler():
    X = np.tile(np.diag([1.0, 2.0, 3.0]), (5, 1, 1))
    for metric in ("affine", "logeuclid", "logcholesky"):
        with pytest.raises(ValueError, match="with_std=False"):
            SPDStandardScaler(metric=metric).fit(X)
    # centring alone is well defined
    Y = SPDStandardScaler(with_std=False).fit_transform(X)
    np.testing.assert_allclose(Y, np.broadcast_to(np.eye(3), Y.shape), atol=1e-12)


def test_degenerate_dispersion_recenter_one_matrix_group(rng):
    X = random_spd(rng, 6, 3)
    groups = np.array([0, 0, 0, 0, 0, 1])
    with pytest.raises(ValueError, match="group 1 .*rescale=False"):
        SPDRecenter(rescale=True).fit(X, groups=groups)
    Y = SPDRecenter().fit_transform(X, groups=groups)
    np.testing.assert_allclose(Y[5], np.eye(3), atol=1e-12)


def test_recenter_nan_group_labels(rng):
    X = random_spd(rng, 4, 3)
    with pytest.raises(ValueError, match="missing labels"):
        SPDRecenter().fit(X, groups=[0.0, 1.0, np.nan, 1.0])
    with pytest.raises(ValueError, match="missing labels"):
        SPDRecenter().fit(X, groups=np.array(["a", None, "b", "a"], dtype=object))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("metric", ["affine", "logeuclid", "logcholesky"])
def test_float32_torch_means_are_computed_in_float64(rng, metric):
    X = random_spd(rng, 20, 6, cond=1e8).astype(np.float32)
    M32 = spd.mean(torch.tensor(X), metric, tol=1e-6, max_iter=60)
    assert M32.dtype == torch.float32
    ref = spd.mean(X.astype(np.float64), metric, tol=1e-6, max_iter=60)
    # only the float32 rounding of the output remains (was 0.64-7.3)
    assert spd.distance(M32.double().numpy(), ref) < 0.05
    d = spd.distance(torch.tensor(X), M32, metric)
    assert d.dtype == torch.float32 and torch.isfinite(d).all()


def test_torch_float32_logcholesky_has_no_bare_linalg_error():
    X = torch.tensor(np.diag([1.0, 1e-9, 1e9]), dtype=torch.float32)
    # computed in float64: fine
    assert torch.isfinite(spd.distance(X, X, "logcholesky"))
    with pytest.raises(ValueError, match="positive definite"):
        spd.distance(torch.tensor(np.diag([1.0, -1.0]), dtype=torch.float32), X[:2, :2])


def test_torch_input_is_validated_without_host_copy(monkeypatch, rng):
    X = torch.tensor(random_spd(rng, 3, 3))

    def boom(self, *a, **k):
        raise AssertionError("host copy")

    monkeypatch.setattr(torch.Tensor, "numpy", boom)
    monkeypatch.setattr(torch.Tensor, "cpu", boom)
    assert spd.distance(X, X).shape == (3,)
    spd.logm(X)


def test_inputs_not_modified(rng):
    X = random_spd(rng, 5, 3)
    X0 = X.copy()
    Xt = torch.tensor(X, dtype=torch.float32)
    Xt0 = Xt.clone()
    spd.mean(X)
    spd.mean(Xt)
    SPDStandardScaler().fit_transform(X)
    np.testing.assert_array_equal(X, X0)
    assert torch.equal(Xt, Xt0)
