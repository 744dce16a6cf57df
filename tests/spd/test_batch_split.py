"""The batched factorisations split over threads give the unsplit results bit
for bit (numpy and torch), the batch-vectorised Cholesky of small matrices
agrees with LAPACK and refuses the same matrices, and the fused symmetry test
of check_spd keeps the full checks' answers."""

import numpy as np
import pytest
import torch

from manigeo import _backend as B
from manigeo import spd
from manigeo._validation import check_spd
from manigeo.spd._metrics import logchol_coords

from ._spd_data import lapack_accepts, random_spd, with_spectra


@pytest.mark.parametrize("workers", [2, 3])
def test_split_eigh_and_cholesky_equal_the_unsplit_calls_numpy(rng, workers):
    X = random_spd(rng, 23, 7, cond=1e6)
    w, U = B.eigh(X, workers=workers)
    w0, U0 = np.linalg.eigh(X)
    np.testing.assert_array_equal(w, w0)
    np.testing.assert_array_equal(U, U0)
    np.testing.assert_array_equal(
        B.cholesky_lower(X, workers=workers), np.linalg.cholesky(X)
    )
    # a matrix that is not positive definite in the last chunk: the same error
    bad = X.copy()
    bad[-1] = -bad[-1]
    with pytest.raises(np.linalg.LinAlgError):
        B.cholesky_lower(bad, workers=workers)
    nan = X.copy()
    nan[-1, 1, 1] = np.nan
    with pytest.raises(np.linalg.LinAlgError):  # NaN pivot: refused too
        B.cholesky_lower(nan, workers=workers)


@pytest.mark.parametrize("workers", [2, 3])
def test_split_eigh_and_cholesky_equal_the_unsplit_calls_torch(rng, workers):
    Xt = torch.tensor(random_spd(rng, 23, 7, cond=1e6))
    w, U = B.eigh(Xt, workers=workers)
    w0, U0 = torch.linalg.eigh(Xt)
    assert torch.equal(w, w0) and torch.equal(U, U0)
    assert U.stride() == U0.stride()  # column-major, as torch's own result
    # torch's own batched Cholesky (float32: not routed through numpy)
    X32 = Xt.to(torch.float32)
    L = B.chol_lower_torch(X32, workers=workers)
    L0 = torch.linalg.cholesky(X32, upper=True).mT
    assert torch.equal(L, L0) and L.is_contiguous()
    bad = X32.clone()
    bad[-1] = -bad[-1]
    L, info = B.chol_lower_torch(bad, ex=True, workers=workers)
    assert info.tolist() == [0] * 22 + [int(info[-1])] and int(info[-1]) != 0
    with pytest.raises(torch.linalg.LinAlgError):
        B.chol_lower_torch(bad, workers=workers)
    # float64 CPU: numpy's LAPACK on a zero-copy view, the same decisions
    L, info = B.chol_lower_torch(-Xt, ex=True, workers=workers)
    assert bool((info != 0).all())
    L64 = B.chol_lower_torch(Xt, workers=workers)
    np.testing.assert_array_equal(L64.numpy(), np.linalg.cholesky(Xt.numpy()))


def test_batch_workers_follow_the_thread_settings(rng):
    from threadpoolctl import threadpool_limits

    X = random_spd(rng, 400, 30)
    with threadpool_limits(1):
        assert B.batch_workers(X) == 1
    assert B.batch_workers(X[:1]) == 1  # a single matrix
    assert B.batch_workers(random_spd(rng, 4, 3)) == 1  # too little work
    Xt = torch.tensor(X)
    n = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        assert B.batch_workers(Xt) == 2
        assert B.batch_workers(Xt.requires_grad_()) == 1  # in a graph
    finally:
        torch.set_num_threads(n)


def test_public_functions_give_the_same_bits_split_or_not(rng, monkeypatch):
    X = random_spd(rng, 600, 20, cond=1e6)  # large enough to split the GEMMs
    Xt = torch.tensor(X)

    def grad(A):  # the split inside the autograd forward (workers: no graph)
        if not torch.is_tensor(A):
            return np.zeros(1)
        A = A.clone().requires_grad_()
        spd.sqrtm(A).sum().backward()
        return A.grad

    calls = {
        "logm": lambda A: spd.logm(A),
        "mean logeuclid": lambda A: spd.mean(A, "logeuclid"),
        "mean logcholesky": lambda A: spd.mean(A, "logcholesky"),
        "distance affine": lambda A: spd.distance(A, A[0]),
        "sqrtm gradient": grad,
    }
    monkeypatch.setattr(B, "blas_threads", lambda: 1)
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert B.batch_workers(X) == 1 and B.batch_workers(Xt) == 1
        ref = {k: (f(X), f(Xt)) for k, f in calls.items()}
        monkeypatch.setattr(B, "blas_threads", lambda: 3)
        torch.set_num_threads(3)
        assert B.batch_workers(X) == 3 and B.batch_workers(Xt) == 3
        assert B.batch_workers(X, "gemm") == 3
        for k, f in calls.items():
            np.testing.assert_array_equal(f(X), ref[k][0], err_msg=k)
            assert torch.equal(f(Xt), ref[k][1]), k
    finally:
        torch.set_num_threads(n)


@pytest.mark.parametrize("p", [1, 2, 3, 4])
def test_small_cholesky_matches_lapack(rng, p):
    X = random_spd(rng, 300, p, cond=1e4)
    L = B._cholesky_small(X)
    L0 = np.linalg.cholesky(X)
    np.testing.assert_allclose(L, L0, rtol=0, atol=1e-13 * np.abs(L0).max())
    assert L.flags.c_contiguous
    np.testing.assert_array_equal(L, np.tril(L))
    # the public entry point takes this path (large batch, p <= 4)
    np.testing.assert_array_equal(B.cholesky_lower(X), L)


def test_small_cholesky_refuses_what_lapack_refuses(rng):
    # smallest eigenvalue from clearly positive through round-off to negative,
    # 40 matrices each: a batch the vectorised path accepts is accepted by
    # LAPACK matrix by matrix; a borderline or indefinite one goes to LAPACK
    for ratio in [1e-3, 1e-10, 1e-14, 1e-16, 0.0, -1e-16, -1e-12, -1e-3]:
        lams = np.array([1.0, 0.5, 0.1, ratio])
        X = with_spectra(rng, 40, lams)
        L = B._cholesky_small(X)
        lapack_ok = lapack_accepts(X)
        if L is not None:
            assert all(lapack_ok), ratio
        try:
            B.cholesky_lower(X)
            assert all(lapack_ok), ratio
        except np.linalg.LinAlgError:
            assert not all(lapack_ok), ratio
    assert B._cholesky_small(with_spectra(rng, 40, [1.0, 0.5, 0.1, -1e-3])) is None
    assert B._cholesky_small(with_spectra(rng, 40, [1.0, 0.5, 0.1, 1e-3])) is not None


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_fused_symmetry_check_keeps_the_full_checks(rng, backend):
    conv = (lambda A: A) if backend == "numpy" else torch.tensor
    X = with_spectra(rng, 64, [3.0, 2.0, 1.0])  # exactly symmetric, p = 3
    S, L = check_spd(conv(X), return_cholesky=True, copy=False)
    np.testing.assert_allclose(np.asarray(L), np.linalg.cholesky(X), atol=1e-14)
    for value, where in [(np.nan, (5, 0, 1)), (np.inf, (9, 2, 1)), (np.inf, (9, 1, 1))]:
        bad = X.copy()
        i, j, k = where
        bad[i, j, k] = bad[i, k, j] = value
        with pytest.raises(ValueError, match="NaN or infinite"):
            check_spd(conv(bad), return_cholesky=True)
    asym = X.copy()
    asym[7, 0, 2] += 1e-3
    with pytest.raises(ValueError, match="not symmetric"):
        check_spd(conv(asym), return_cholesky=True)
    # round-off asymmetry: factor of the lower triangle only when the caller
    # uses nothing else (factor_only, copy=False), else of the symmetric part
    off = X.copy()
    off[3, 2, 0] *= 1 + 2e-16
    S, L = check_spd(off, return_cholesky=True, copy=False, factor_only=True)
    assert S is off
    S, L = check_spd(off, return_cholesky=True)
    np.testing.assert_array_equal(S, np.swapaxes(S, -1, -2))
    with pytest.raises(ValueError, match="not positive definite"):
        check_spd(conv(-X), return_cholesky=True)
    assert not np.isnan(X).any()  # input untouched


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_logcholesky_distance_from_the_validation_factors(rng, backend):
    conv = (lambda A: A) if backend == "numpy" else torch.tensor
    X, Y = random_spd(rng, 6, 5, cond=1e3), random_spd(rng, 6, 5, cond=1e3)
    ref = np.linalg.norm(logchol_coords(X) - logchol_coords(Y), axis=(1, 2))
    for A, Bm, r in [(X, Y, ref), (X, Y[0], None)]:
        d = spd.distance(conv(A), conv(Bm), "logcholesky")
        if r is None:
            r = np.linalg.norm(logchol_coords(A) - logchol_coords(Bm), axis=(1, 2))
        np.testing.assert_allclose(np.asarray(d), r, rtol=1e-12)
    d2 = spd.distance(conv(X), conv(Y), "logcholesky", squared=True)
    np.testing.assert_allclose(np.asarray(d2), ref**2, rtol=1e-12)
    Xin = conv(X.copy())
    spd.distance(Xin, conv(Y), "logcholesky")
    np.testing.assert_array_equal(np.asarray(Xin), X)  # inputs untouched


def test_tiled_asymmetry_pass_sees_every_entry(rng):
    from manigeo._validation import _max_asymmetry, check_symmetric

    p = 100  # tiles of 32: a partial last tile
    X = random_spd(rng, 2, p)
    X = 0.5 * (X + np.swapaxes(X, -1, -2))
    np.testing.assert_array_equal(check_symmetric(X), X)
    assert _max_asymmetry(X, np.swapaxes(X, -1, -2)) == 0
    Y = X.copy()
    Y[0, 99, 0] += 1e-3
    assert _max_asymmetry(Y, np.swapaxes(Y, -1, -2)) == Y[0, 99, 0] - Y[0, 0, 99]
    for i, j in [(99, 0), (0, 99), (40, 70), (97, 98)]:
        bad = X.copy()
        bad[1, i, j] += 1e-3
        with pytest.raises(ValueError, match="not symmetric"):
            check_symmetric(bad)
        for value in (np.nan, np.inf):
            bad = X.copy()
            bad[1, i, j] = value
            with pytest.raises(ValueError, match="NaN or infinite"):
                check_symmetric(bad)


def test_split_runs_blas_single_threaded_and_restores_it(rng, monkeypatch):
    from threadpoolctl import threadpool_info, threadpool_limits

    def blas():
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    X = random_spd(rng, 9, 6)
    seen = []
    real = B._umath_linalg()
    if real is None or not blas():  # pragma: no cover - no reachable BLAS
        pytest.skip("numpy's BLAS is not visible to threadpoolctl")

    class Spy:  # records the BLAS threads while the chunks run
        def __getattr__(self, name):
            return getattr(real, name)

        def eigh_lo(self, *a, **k):
            seen.append(max(blas()))
            return real.eigh_lo(*a, **k)

    monkeypatch.setitem(B._POOL, "ul", Spy())
    with threadpool_limits(3):
        before = blas()
        w, U = B.eigh(X, workers=3)
        assert blas() == before  # restored
    assert seen == [1, 1, 1]
    np.testing.assert_array_equal(w, np.linalg.eigh(X)[0])


def test_split_check_spd_runs_the_symmetry_test_in_each_chunk(rng, monkeypatch):
    monkeypatch.setattr(B, "blas_threads", lambda: 3)
    X = random_spd(rng, 1000, 20, cond=1e6)  # round-off asymmetric
    assert B.batch_workers(X, "cholesky") == 3
    S, L = check_spd(X, return_cholesky=True, copy=False, factor_only=True)
    assert S is X
    np.testing.assert_array_equal(L, np.linalg.cholesky(X))
    S, L = check_spd(X, return_cholesky=True)  # symmetrised, then factorised
    np.testing.assert_array_equal(S, 0.5 * (X + np.swapaxes(X, -1, -2)))
    np.testing.assert_array_equal(L, np.linalg.cholesky(S))
    for value in (np.nan, np.inf):
        bad = X.copy()
        bad[999, 3, 1] = value  # in the last chunk
        with pytest.raises(ValueError, match="NaN or infinite"):
            check_spd(bad, return_cholesky=True, copy=False, factor_only=True)
    bad = X.copy()
    bad[500, 0, 5] += 1e-3 * np.abs(X).max()
    with pytest.raises(ValueError, match="not symmetric"):
        check_spd(bad, return_cholesky=True, copy=False, factor_only=True)
    bad = X.copy()
    bad[700] = -bad[700]
    with pytest.raises(ValueError, match="not positive definite"):
        check_spd(bad, return_cholesky=True, copy=False, factor_only=True)
