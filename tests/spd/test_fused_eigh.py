"""The fused symmetry test + eigendecomposition (``eigh_blocks``) and the
log-Euclidean mean built on it (``LogEuclidean.mean_checked``) give
``numpy.linalg.eigh``'s eigenpairs and refuse exactly the matrices the full
checks refuse (the caller's full path then raises its usual error)."""

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits

from manigeo import _backend as B
from manigeo import spd
from manigeo._validation import check_spd, check_symmetric, spd_eig_tol
from manigeo.spd._metrics import LogEuclidean

from ._spd_data import (
    lapack_accepts,
    pyriemann_geometry,
    random_spd,
    with_spectra,
)

EPS = np.finfo(np.float64).eps


def _blocks_eigh(X, **kw):
    """``(lam, U)`` from ``eigh_blocks`` (None when it refuses X)."""
    p = X.shape[-1]
    lam, U = np.empty(X.shape[:2]), np.empty(X.shape)

    def store(s, e, lb, Vt):
        lam[s:e] = lb
        U[s:e] = np.swapaxes(Vt, 1, 2)  # rows of Vt: the eigenvectors
        return e - s

    kw.setdefault("tau", spd_eig_tol(p, EPS))
    sizes = B.eigh_blocks(X, store, **kw)
    if sizes is None:
        return None
    assert sum(sizes) == len(X)
    return lam, U


def _close(M, ref):
    """Equal to round-off: 1e-13 of the largest entry."""
    np.testing.assert_allclose(M, ref, rtol=0, atol=1e-13 * np.abs(ref).max())


def _mean_full(X, w):
    """The log-Euclidean mean of the unfused path: eigh, then the sum."""
    lam, U = np.linalg.eigh(X)
    return LogEuclidean._mean_from_eigh(lam, U, w)[0]


@pytest.mark.parametrize("p", [5, 12, 30, 130])
def test_eigh_blocks_give_numpy_eigh_split_or_not(rng, p, small_blocks):
    # the same LAPACK call on the same values (X's lower triangle): bit for
    # bit, at one BLAS thread (a split runs one per chunk)
    n = 4 if p == 130 else 11
    X = with_spectra(rng, n, np.geomspace(1.0, 1e-6, p))  # exactly symmetric
    X0 = X.copy()
    with threadpool_limits(1):
        lam0, U0 = np.linalg.eigh(X)
        for k in (1, 2, 3):
            lam, U = _blocks_eigh(X, workers=k)
            np.testing.assert_array_equal(lam, lam0)
            np.testing.assert_array_equal(U, U0)
        np.testing.assert_array_equal(X, X0)  # input untouched
        # round-off asymmetry: the eigenpairs of the lower triangle, with
        # roundoff_ok only
        off = X.copy()
        off[-1, 0, p - 1] += 2 * EPS * abs(off[-1, 0, p - 1])  # upper part
        assert _blocks_eigh(off) is None
        lam, U = _blocks_eigh(off, roundoff_ok=True)
        ref = np.linalg.eigh(off)
        np.testing.assert_array_equal(lam, ref[0])
        np.testing.assert_array_equal(U, ref[1])


def test_fused_logeuclid_mean_refuses_what_the_full_checks_refuse(rng, small_blocks):
    p, n = 12, 9
    X = with_spectra(rng, n, np.geomspace(2.0, 1e-3, p))
    w = np.full(n, 1 / n)
    scale = np.abs(np.diagonal(X, axis1=1, axis2=2)).max()
    b = X[-1, 5, 0]
    # asymmetry one step beyond the round-off rule max|X - Xᵀ| <= 4 eps scale
    # in the last block: refused; at the rule: accepted (as check_symmetric)
    bound = 4 * EPS * scale
    hi = b + bound
    while hi - b > bound:
        hi = np.nextafter(hi, -np.inf)
    for value, accepted in ((hi, True), (np.nextafter(hi, np.inf), False)):
        bad = X.copy()
        bad[-1, 0, 5] = value
        assert (LogEuclidean.mean_checked(bad, w) is not None) == accepted
        as_is = check_symmetric(bad, copy=False, factor_only=True) is bad
        assert as_is == accepted
        if accepted:  # the lower triangle's mean, as the full path's
            _close(LogEuclidean.mean_checked(bad, w), _mean_full(bad, w))
    # NaN or inf in the triangle the decomposition does not read (upper)
    for value in (np.nan, np.inf, -np.inf):
        bad = X.copy()
        bad[4, 2, 7] = value
        assert LogEuclidean.mean_checked(bad, w) is None
        with pytest.raises(ValueError, match="NaN or infinite"):
            spd.mean(bad, "logeuclid")
    # beyond the tolerance: the full path's message
    bad = X.copy()
    bad[3, 0, 4] += 1e-3 * np.abs(X).max()
    assert LogEuclidean.mean_checked(bad, w) is None
    with pytest.raises(ValueError, match="not symmetric"):
        spd.mean(bad, "logeuclid")
    # a zero and a negative pivot (leading minors)
    for i, value in ((3, 0.0), (6, -1.0)):
        bad = X.copy()
        bad[i, 0, 0] = value
        assert LogEuclidean.mean_checked(bad, w) is None
        with pytest.raises(ValueError, match="not positive definite"):
            spd.mean(bad, "logeuclid")


@pytest.mark.parametrize("p", [5, 12])
def test_fused_logeuclid_mean_decides_definiteness_as_the_full_path(
    rng, p, small_blocks
):
    # spectra from clearly positive through round-off to clearly negative:
    # the fused path accepts only beyond the eigenvalue margin, where
    # Cholesky succeeds; otherwise the full path decides (and raises)
    tau = spd_eig_tol(p, EPS)
    seen = set()
    for ratio in [1e-3, 1e-10, 1e-13, 1e-14, 1e-16, 0.0, -1e-16, -1e-12, -1e-3]:
        lams = np.geomspace(1.0, 0.1, p)
        lams[-1] = ratio
        X = with_spectra(rng, 30, lams)
        w = rng.uniform(size=30)
        w /= w.sum()
        M = LogEuclidean.mean_checked(X, w)
        lam = np.linalg.eigvalsh(X)
        if M is not None:
            assert (lam[:, 0] > tau * lam[:, -1]).all(), ratio
            assert all(lapack_accepts(X))
            _close(M, _mean_full(X, w))
            seen.add("fused")
        else:
            assert not (lam[:, 0] > tau * lam[:, -1]).all(), ratio
            try:
                full = check_spd(X, return_eigh=True)
            except ValueError as exc:
                with pytest.raises(ValueError, match=str(exc)[:20]):
                    spd.mean(X, "logeuclid", weights=w)
                seen.add("refused")
            else:  # decided by Cholesky on the full path, and accepted
                ref = LogEuclidean._mean_from_eigh(full[1], full[2], w)[0]
                _close(spd.mean(X, "logeuclid", weights=w), ref)
                seen.add("full")
    assert {"fused", "refused"} <= seen


@pytest.mark.parametrize("n, p", [(600, 4), (40, 6), (30, 12), (7, 40)])
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_fused_logeuclid_mean_equals_the_definition(rng, n, p, backend):
    mean_mod, _, _ = pyriemann_geometry()
    X = random_spd(rng, n, p, cond=1e6)  # round-off asymmetric
    X[: n // 2] *= 1e-3  # logs of both signs: the blocks' own shifts
    w = rng.uniform(size=n)
    w[[1, 3]] = 0.0
    ref = mean_mod.mean_logeuclid(X, sample_weight=w / w.sum())
    Xc = X if backend == "numpy" else torch.tensor(X)
    M = spd.mean(Xc, "logeuclid", weights=w)
    assert type(M) is type(Xc)
    M = np.asarray(M)
    np.testing.assert_allclose(M, ref, rtol=0, atol=1e-12 * np.abs(ref).max())
    np.testing.assert_array_equal(M, M.T)
    # the same numbers as the decompose-then-sum path
    _close(M, _mean_full(X, w / w.sum()))
    assert LogEuclidean.mean_checked(X, w / w.sum()) is not None  # fused
    np.testing.assert_array_equal(np.asarray(Xc), X)  # input untouched


def test_fused_logeuclid_mean_is_the_same_split_or_not(rng, monkeypatch):
    X = random_spd(rng, 400, 10, cond=1e4)
    w = np.full(400, 1 / 400)
    monkeypatch.setattr(B, "blas_threads", lambda: 1)
    ref = LogEuclidean.mean_checked(X, w)
    monkeypatch.setattr(B, "blas_threads", lambda: 3)
    assert B.batch_workers(X) == 3
    np.testing.assert_array_equal(LogEuclidean.mean_checked(X, w), ref)
