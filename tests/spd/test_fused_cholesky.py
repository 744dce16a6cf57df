"""The fused symmetry test + Cholesky factorisation (``cholesky_blocks``), the
batch-vectorised Cholesky up to p = 8 and the log-Cholesky mean built on them
give ``numpy.linalg.cholesky``'s factors and refuse exactly the matrices the
full checks refuse (the caller's full path then raises its usual error)."""

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits

from manigeo import _backend as B
from manigeo import spd
from manigeo._validation import check_spd, check_symmetric
from manigeo.spd._metrics import LogCholesky

from ._spd_data import (
    lapack_accepts,
    pyriemann_geometry,
    random_spd,
    with_spectra,
)

EPS = np.finfo(np.float64).eps


def _asymmetric_pair(a, bound):
    """``(b, b_next)``: ``b - a <= bound`` exactly, ``b_next - a`` one ulp beyond."""
    b = a + bound
    while b - a > bound:
        b = np.nextafter(b, -np.inf)
    b_next = np.nextafter(b, np.inf)
    assert b - a <= bound < b_next - a
    return b, b_next


def _blocks_lower(X, **kw):
    """Lower factors from ``cholesky_blocks`` (None when it refuses X)."""
    L = np.empty(X.shape)

    def store(s, e, U):
        assert np.array_equal(U, np.triu(U))  # upper factors, zeros below
        L[s:e] = np.swapaxes(U, 1, 2)
        return e - s

    sizes = B.cholesky_blocks(X, store, **kw)
    if sizes is None:
        return None
    assert sum(sizes) == len(X)
    return L


@pytest.mark.parametrize("p", [5, 12, 30, 130])
def test_blocks_give_the_lapack_factors_split_or_not(rng, p, small_blocks):
    # the same LAPACK call on the same values: bit for bit (at one BLAS
    # thread: a split runs one per chunk, and LAPACK's blocked p = 130
    # factorisation rounds differently on two)
    n = 4 if p == 130 else 11
    X = with_spectra(rng, n, np.geomspace(1.0, 1e-6, p))  # exactly symmetric
    X0 = X.copy()
    with threadpool_limits(1):
        ref = np.linalg.cholesky(X)
        for k in (1, 2, 3):
            np.testing.assert_array_equal(_blocks_lower(X, workers=k), ref)
        np.testing.assert_array_equal(X, X0)  # input untouched
        # round-off asymmetry: factor of the lower triangle, with roundoff_ok
        off = X.copy()
        off[-1, p - 1, 0] += 2 * EPS * abs(off[-1, p - 1, 0])
        assert _blocks_lower(off) is None
        L = _blocks_lower(off, roundoff_ok=True)
        np.testing.assert_array_equal(L, np.linalg.cholesky(off))
        # check_spd's fused path returns them too (C-contiguous)
        S, L = check_spd(X, return_cholesky=True, copy=False)
    np.testing.assert_array_equal(L, ref)
    assert L.flags.c_contiguous and S is X


def test_blocks_refuse_what_the_full_checks_refuse(rng, small_blocks):
    p = 12
    X = with_spectra(rng, 9, np.geomspace(2.0, 1e-3, p))
    scale = np.abs(np.diagonal(X, axis1=1, axis2=2)).max()
    # asymmetry one step beyond the round-off rule max|X - Xᵀ| <= 4 eps scale
    # in the last block: refused; at the rule: accepted
    pair = _asymmetric_pair(X[-1, 5, 0], 4 * EPS * scale)
    for value, accepted in zip(pair, (True, False), strict=True):
        bad = X.copy()
        bad[-1, 0, 5] = value
        assert (_blocks_lower(bad, roundoff_ok=True) is not None) == accepted
        # the rule of check_symmetric(factor_only=True): as is, or symmetrised
        as_is = check_symmetric(bad, copy=False, factor_only=True) is bad
        assert as_is == accepted
    # NaN or inf in the triangle the factorisation does not read (upper)
    for value in (np.nan, np.inf, -np.inf):
        bad = X.copy()
        bad[4, 2, 7] = value
        assert _blocks_lower(bad, roundoff_ok=True) is None
        with pytest.raises(ValueError, match="NaN or infinite"):
            check_spd(bad, return_cholesky=True, copy=False, factor_only=True)
        with pytest.raises(ValueError, match="NaN or infinite"):
            spd.mean(bad, "logcholesky")
    # a zero and a negative pivot (leading minors), and NaN in the lower part
    for i, j, value in ((3, 0, 0.0), (6, 0, -1.0), (7, 3, np.nan)):
        bad = X.copy()
        bad[i, j, j] = value
        assert _blocks_lower(bad, roundoff_ok=True) is None
    bad = X.copy()
    bad[5, 0, 0] = 0.0
    with pytest.raises(ValueError, match="not positive definite"):
        spd.mean(bad, "logcholesky")


@pytest.mark.parametrize("path", ["blocks", "vectorised"])
@pytest.mark.parametrize("p", [5, 12])
def test_blocks_and_vectorised_refuse_what_lapack_refuses(
    rng, p, path, small_blocks, monkeypatch
):
    # smallest eigenvalue from clearly positive through round-off to clearly
    # negative: accepted only when LAPACK accepts every matrix; the mean then
    # equals the full path's (which raises when LAPACK refuses)
    if path == "vectorised":  # the batch-vectorised mean, several chunks
        monkeypatch.setattr(B, "_VEC_CHOL_MIN_N", {p: 1})
        monkeypatch.setattr(B, "_VEC_CHOL_CHUNK", 15 * p * p)
        monkeypatch.setattr(B, "_VEC_CHOL_CHUNK_WIDE", 15 * p * p)
    assert B.vectorised_cholesky_applies(np.empty((40, p, p))) == (path == "vectorised")
    seen = set()
    for ratio in [1e-3, 1e-10, 1e-14, 1e-16, 0.0, -1e-16, -1e-12, -1e-3]:
        lams = np.geomspace(1.0, 0.1, p)
        lams[-1] = ratio
        X = with_spectra(rng, 40, lams)
        ok = all(lapack_accepts(X))
        for L in (
            _blocks_lower(X, roundoff_ok=True),
            B.cholesky_vectorised(X, check_symmetric=True, roundoff_ok=True),
        ):
            if L is not None:
                assert ok, ratio
        w = np.full(len(X), 1 / len(X))
        M = LogCholesky.mean_checked(X, w)
        if ok:
            ref = LogCholesky._mean_from_cholesky(np.linalg.cholesky(X), w)[0]
            if M is not None:
                np.testing.assert_allclose(M, ref, rtol=1e-12, atol=0)
            np.testing.assert_allclose(spd.mean(X, "logcholesky"), ref, rtol=1e-12)
            seen.add("accepted")
        else:
            assert M is None
            with pytest.raises(ValueError, match="not positive definite"):
                spd.mean(X, "logcholesky")
            seen.add("refused")
    assert seen == {"accepted", "refused"}


@pytest.mark.parametrize("p", [5, 6, 7, 8, 9, 10, 11, 12])
def test_vectorised_cholesky_matches_lapack_up_to_p12(rng, p):
    X = random_spd(rng, 300, p, cond=1e4)
    X0 = X.copy()
    L = B._cholesky_small(X)
    L0 = np.linalg.cholesky(X)
    np.testing.assert_allclose(L, L0, rtol=0, atol=1e-13 * np.abs(L0).max())
    np.testing.assert_array_equal(L, np.tril(L))
    assert L.flags.c_contiguous
    np.testing.assert_array_equal(X, X0)


def test_vectorised_cholesky_never_writes_the_input(rng):
    # p = 1: the batch-innermost layout of (n, 1, 1) is X's own memory
    X = rng.uniform(1.0, 4.0, size=(50, 1, 1))
    X0 = X.copy()
    L = B._cholesky_small(X)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_allclose(L, np.sqrt(X0), rtol=1e-15)


@pytest.mark.parametrize("n, p", [(600, 5), (40, 6), (30, 12), (7, 40)])
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_fused_logcholesky_mean_equals_the_definition(rng, n, p, backend):
    mean_mod, _, _ = pyriemann_geometry()
    X = random_spd(rng, n, p, cond=1e6)  # round-off asymmetric
    w = rng.uniform(size=n)
    w[[1, 3]] = 0.0
    ref = mean_mod.mean_logchol(X, sample_weight=w / w.sum())
    Xc = X if backend == "numpy" else torch.tensor(X)
    M = spd.mean(Xc, "logcholesky", weights=w)
    assert type(M) is type(Xc)
    M = np.asarray(M)
    np.testing.assert_allclose(M, ref, rtol=0, atol=1e-12 * np.abs(ref).max())
    np.testing.assert_array_equal(M, M.T)
    # the same numbers as the factor-then-average path
    Lw = LogCholesky._mean_from_cholesky(np.linalg.cholesky(X), w / w.sum())[0]
    np.testing.assert_allclose(M, Lw, rtol=0, atol=1e-13 * np.abs(Lw).max())
    np.testing.assert_array_equal(np.asarray(Xc), X)  # input untouched


def test_fused_mean_keeps_the_full_checks_messages(rng):
    X = random_spd(rng, 20, 6)
    bad = X.copy()
    bad[3, 0, 4] += 1e-3 * np.abs(X).max()
    with pytest.raises(ValueError, match="not symmetric"):
        spd.mean(bad, "logcholesky")
    with pytest.raises(ValueError, match="weights must be non-negative"):
        spd.mean(X, "logcholesky", weights=-np.ones(20))
    with pytest.raises(ValueError, match="max_iter"):
        spd.mean(X, "logcholesky", max_iter=0)
    with pytest.raises(ValueError, match="ndim"):
        spd.mean(X[0], "logcholesky")


@pytest.fixture
def vectorised_chunks(monkeypatch):
    """The batch-vectorised mean path on small batches, 10 matrices a chunk."""
    monkeypatch.setattr(B, "_VEC_CHOL_CHUNK", 10 * 6 * 6)
    monkeypatch.setattr(B, "_VEC_CHOL_CHUNK_WIDE", 10 * 11 * 11)
    monkeypatch.setattr(B, "_VEC_CHOL_MIN_N", {p: 1 for p in range(1, 13)})


@pytest.mark.parametrize("p", [6, 11])  # the chunks of p <= 8 and p >= 9
def test_vectorised_chunks_decide_the_symmetry_rule_over_all_chunks(
    rng, p, vectorised_chunks
):
    X = with_spectra(rng, 35, np.geomspace(1.0, 1e-4, p))
    X[:10] *= 1e-3  # the first chunk's diagonal scale: far below the batch's
    scale = np.abs(np.diagonal(X, axis1=1, axis2=2)).max()
    w = rng.uniform(size=35)
    w /= w.sum()
    ref = LogCholesky._mean_from_cholesky(np.linalg.cholesky(X), w)[0]
    M = LogCholesky.mean_checked(X, w)
    np.testing.assert_allclose(M, ref, rtol=0, atol=1e-13 * np.abs(ref).max())
    np.testing.assert_array_equal(M, M.T)

    def keep(s, e, T):
        return T.copy()

    runs = [B.cholesky_vectorised_chunks(X, keep, workers=k) for k in (1, 2, 3)]
    assert len(runs[0]) == 4
    for run in runs[1:]:
        for a, b in zip(run, runs[0], strict=True):
            np.testing.assert_array_equal(a, b)
    # round-off asymmetry in the small chunk, measured against the batch's
    # scale (the rule of the full checks), not the chunk's
    pair = _asymmetric_pair(X[3, 4, 0], 4 * EPS * scale)
    for value, accepted in zip(pair, (True, False), strict=True):
        bad = X.copy()
        bad[3, 0, 4] = value
        got = B.cholesky_vectorised_chunks(bad, keep, roundoff_ok=True)
        assert (got is not None) == accepted
        assert (LogCholesky.mean_checked(bad, w) is not None) == accepted
    assert B.cholesky_vectorised_chunks(bad, keep) is None  # exact only
    bad = X.copy()
    bad[22, 1, 5] = np.nan  # upper triangle, third chunk
    assert B.cholesky_vectorised_chunks(bad, keep, roundoff_ok=True) is None
    with pytest.raises(ValueError, match="NaN or infinite"):
        spd.mean(bad, "logcholesky")
    bad = X.copy()
    bad[31] = -bad[31]  # last chunk
    assert LogCholesky.mean_checked(bad, w) is None
    with pytest.raises(ValueError, match="not positive definite"):
        spd.mean(bad, "logcholesky")
    np.testing.assert_allclose(
        spd.mean(X, "logcholesky", weights=w), ref, rtol=0, atol=1e-13 * ref.max()
    )


def test_float64_cpu_tensors_take_the_numpy_checks_zero_copy(rng):
    X = with_spectra(rng, 30, np.geomspace(1.0, 1e-3, 7))
    Xt = torch.tensor(X)
    S, L = check_spd(Xt, return_cholesky=True, copy=False)
    assert S is Xt and torch.is_tensor(L) and L.dtype == torch.float64
    np.testing.assert_array_equal(L.numpy(), check_spd(X, return_cholesky=True)[1])
    S = check_spd(Xt)  # copy=True: a new tensor, not a view of the input
    assert torch.is_tensor(S) and S.data_ptr() != Xt.data_ptr()
    assert torch.equal(S, Xt)
    # in a graph: torch's own checks, and the factor carries the gradient
    Xg = Xt.clone().requires_grad_()
    _, Lg = check_spd(Xg, return_cholesky=True)
    Lg.diagonal(dim1=-2, dim2=-1).log().sum().backward()
    assert torch.isfinite(Xg.grad).all() and Xg.grad.abs().sum() > 0
    bad = Xt.clone()
    bad[4] = -bad[4]
    with pytest.raises(ValueError, match="not positive definite"):
        check_spd(bad, return_cholesky=True)


@pytest.mark.parametrize(
    "metric", ["affine", "bures-wasserstein", "logeuclid", "logcholesky"]
)
def test_float64_cpu_tensor_means_are_the_numpy_means(rng, metric):
    X = random_spd(rng, 12, 5, cond=1e4)
    w = rng.uniform(size=12)
    ref = spd.mean(X, metric, weights=w)
    M = spd.mean(torch.tensor(X), metric, weights=torch.tensor(w))
    assert torch.is_tensor(M) and M.dtype == torch.float64
    np.testing.assert_array_equal(M.numpy(), ref)  # the same computation
    # float32 and tensors in a graph keep the torch path (and its gradient)
    M32 = spd.mean(torch.tensor(X, dtype=torch.float32), metric, weights=w)
    assert M32.dtype == torch.float32
    np.testing.assert_allclose(M32.numpy(), ref, rtol=0, atol=1e-5 * np.abs(ref).max())
    if metric in ("logeuclid", "logcholesky"):
        Xg = torch.tensor(X, requires_grad=True)
        spd.mean(Xg, metric).trace().backward()
        assert torch.isfinite(Xg.grad).all() and Xg.grad.abs().sum() > 0
