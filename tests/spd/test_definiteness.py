"""One definiteness rule for both validation paths of the closed-form means
(Cholesky for log-Cholesky, eigh for log-Euclidean), the round-off symmetry
shortcut (``factor_only``), the chunked asymmetry pass, and inputs left
untouched."""

import numpy as np
import pytest
import torch

from manigeo import spd
from manigeo._validation import check_spd, check_symmetric, spd_eig_tol

from ._spd_data import pyriemann_geometry, random_spd

BACKENDS = ["numpy", "torch"]


def _conv(backend):
    return (lambda A: A) if backend == "numpy" else torch.tensor


def _with_spectrum(rng, lams):
    """One matrix Q diag(lams) Qᵀ, symmetrised exactly."""
    p = len(lams)
    Q, _ = np.linalg.qr(rng.normal(size=(p, p)))
    X = (Q * np.asarray(lams)) @ Q.T
    return 0.5 * (X + X.T)


def _accepts(fn):
    try:
        fn()
    except ValueError as exc:
        return False, str(exc)
    return True, ""


@pytest.mark.parametrize("backend", BACKENDS)
def test_eigh_and_cholesky_paths_share_one_definiteness_rule(rng, backend):
    # smallest eigenvalue from clearly positive down through round-off to
    # clearly negative: the eigenvalue path accepts exactly what Cholesky
    # accepts, except a matrix whose computed smallest eigenvalue is <= 0,
    # which it refuses as numerically singular (and only then)
    conv = _conv(backend)
    p = 12
    seen = set()
    for ratio in [1e-3, 1e-9, 1e-13, 1e-15, 1e-16, 1e-17, 0.0, -1e-17, -1e-15, -1e-6]:
        for _ in range(4):
            lams = np.geomspace(1.0, 1e-2, p)
            lams[-1] = ratio
            X = conv(_with_spectrum(rng, lams)[None])
            chol_ok, chol_msg = _accepts(lambda X=X: check_spd(X, return_cholesky=True))
            eig_ok, eig_msg = _accepts(lambda X=X: check_spd(X, return_eigh=True))
            if eig_ok:
                assert chol_ok, ratio
                lam = check_spd(X, return_eigh=True)[1]
                assert float(lam.min()) > 0
                seen.add("both")
            elif not chol_ok:
                assert "not positive definite" in eig_msg, eig_msg
                assert "not positive definite" in chol_msg
                seen.add("neither")
            else:
                assert "numerically singular" in eig_msg, eig_msg
                seen.add("singular")
    assert {"both", "neither"} <= seen
    # the same rule through the public closed-form means
    bad = conv(_with_spectrum(rng, [1.0, 0.5, -1e-3])[None].repeat(2, 0))
    for metric in ("logeuclid", "logcholesky"):
        with pytest.raises(ValueError, match="not positive definite"):
            spd.mean(bad, metric)


def test_eigenvalue_margin_implies_cholesky_succeeds(rng):
    # λ_min > τ λ_max (τ = 2 (p+1)² eps) is the fast acceptance of the eigh
    # path; Cholesky must succeed on every such matrix
    eps = np.finfo(np.float64).eps
    for p in (2, 8, 30):
        tau = spd_eig_tol(p, eps)
        for _ in range(10):
            lams = np.geomspace(1.0, 1.01 * tau, p)
            X = _with_spectrum(rng, lams)
            np.linalg.cholesky(X)  # raises LinAlgError if the claim is wrong
            lam = check_spd(X, return_eigh=True)[1]
            assert lam.min() > 0


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("metric", ["logeuclid", "logcholesky"])
def test_closed_form_means_refuse_non_symmetric_and_nonfinite(rng, backend, metric):
    conv = _conv(backend)
    X = random_spd(rng, 4, 5)
    bad = X.copy()
    bad[2, 0, 3] += 1e-3 * np.abs(X).max()
    with pytest.raises(ValueError, match="not symmetric"):
        spd.mean(conv(bad), metric)
    bad = X.copy()
    bad[1, 2, 2] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        spd.mean(conv(bad), metric)
    bad = X.copy()
    bad[3, 1, 4] = bad[3, 4, 1] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite"):
        spd.mean(conv(bad), metric)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("metric", ["logeuclid", "logcholesky"])
def test_closed_form_means_leave_the_input_untouched(rng, backend, metric):
    X = random_spd(rng, 6, 4, cond=1e6)  # round-off asymmetric
    assert not np.array_equal(X, np.swapaxes(X, -1, -2))
    Xc = X.copy() if backend == "numpy" else torch.tensor(X)
    spd.mean(Xc, metric)
    np.testing.assert_array_equal(np.asarray(Xc), X)


@pytest.mark.parametrize("backend", BACKENDS)
def test_factor_only_skips_round_off_symmetrisation_only(rng, backend):
    conv = _conv(backend)
    X = random_spd(rng, 3, 5, cond=1e3)
    S = 0.5 * (X + np.swapaxes(X, -1, -2))
    E = rng.normal(size=X.shape)
    E = E - np.swapaxes(E, -1, -2)  # antisymmetric
    scale = np.abs(S).max()
    eps = np.finfo(np.float64).eps
    # round-off asymmetry: returned as is, factorised from one triangle
    tiny = conv(S + (eps * scale / np.abs(E).max()) * E)
    assert check_symmetric(tiny, copy=False, factor_only=True) is tiny
    out = check_symmetric(tiny, copy=False)  # default: symmetrised
    assert out is not tiny
    np.testing.assert_array_equal(np.asarray(out), np.swapaxes(np.asarray(out), 1, 2))
    # a larger asymmetry within the tolerance is still symmetrised, so the
    # mean is the mean of the symmetric part, not of one triangle
    small = S + (1e-10 * scale / np.abs(E).max()) * E
    out = check_symmetric(conv(small), copy=False, factor_only=True)
    np.testing.assert_array_equal(np.asarray(out), np.swapaxes(np.asarray(out), 1, 2))
    for metric in ("logeuclid", "logcholesky"):
        got = np.asarray(spd.mean(conv(small), metric))
        ref = np.asarray(
            spd.mean(conv(0.5 * (small + np.swapaxes(small, 1, 2))), metric)
        )
        np.testing.assert_allclose(got, ref, rtol=1e-13, atol=0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_chunked_asymmetry_pass_sees_the_last_chunk(rng, backend):
    # 40 matrices 48 x 48 = 92160 entries: more than one 65536-entry chunk
    conv = _conv(backend)
    X = np.tile(np.eye(48), (40, 1, 1))
    bad = X.copy()
    bad[-1, 5, 7] = 1e-3
    with pytest.raises(ValueError, match="not symmetric"):
        check_spd(conv(bad))
    bad = X.copy()
    bad[-1, 5, 7] = bad[-1, 7, 5] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        check_spd(conv(bad))
    assert check_spd(conv(X), copy=False) is not None


def test_log_euclidean_weighted_mean_matches_the_definition(rng):
    mean_mod, _, _ = pyriemann_geometry()
    # eigenvalues on both sides of 1 (negative logs: the shifted syrk) and
    # all above 1 (no shift), with zero weights
    for low, high in ((1e-4, 1e4), (2.0, 50.0)):
        X = random_spd(rng, 9, 6, cond=high / low) * low
        w = rng.uniform(size=9)
        w[[1, 4]] = 0.0
        ref = mean_mod.mean_logeuclid(X, sample_weight=w / w.sum())
        got = spd.mean(X, "logeuclid", weights=w)
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())
        np.testing.assert_array_equal(got, got.T)
