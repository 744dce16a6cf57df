"""Heat kernel operators: Chebyshev filter and squaring vs exact references."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.linalg import expm
from scipy.special import ive

from manigeo.graphs import knn_graph, laplacian
from manigeo.heat import (
    chebyshev_coefficients,
    chebyshev_order,
    heat_kernel,
    heat_kernel_exact,
    spectrum_bound,
)
from manigeo.heat._squaring import heat_doubling


def _cycle(n):
    i = np.arange(n)
    A = sp.csr_array((np.ones(n), (i, (i + 1) % n)), shape=(n, n))
    return A + A.T


@pytest.fixture(scope="module")
def graph():
    X = np.random.default_rng(0).normal(size=(150, 3))
    return knn_graph(X, 6)


@pytest.mark.parametrize("kind", ["symmetric", "combinatorial"])
@pytest.mark.parametrize("order", [5, 15, 40])
def test_chebyshev_error_within_bound(graph, kind, order):
    L = laplacian(graph, kind=kind)
    ts = np.array([0.3, 1.0, 4.0])
    src = [0, 7, 42]
    H, bound = heat_kernel(L, ts, order=order, sources=src, return_bound=True)
    ref = heat_kernel_exact(L, ts, sources=src)
    assert H.shape == ref.shape == (3, 150, 3)
    for k in range(len(ts)):
        # columns of unit vectors: ||(p(L) - exp(-tL)) e_j||_2 <= sup-norm bound
        err = np.linalg.norm(H[k] - ref[k], axis=0).max()
        assert err <= bound[k] * (1 + 1e-6) + 1e-13
    # the bound is informative: high order is accurate to ~machine precision
    if order == 40 and kind == "symmetric":
        assert np.abs(H - ref).max() < 1e-12


def test_bound_decreases_and_order_auto(graph):
    L = laplacian(graph, kind="symmetric")
    _, b1 = chebyshev_coefficients(5.0, 10, 2.0)
    _, b2 = chebyshev_coefficients(5.0, 20, 2.0)
    assert b2[0] < b1[0]
    k = chebyshev_order(5.0, 2.0, tol=1e-10)
    _, b = chebyshev_coefficients(5.0, k, 2.0)
    _, bprev = chebyshev_coefficients(5.0, k - 1, 2.0)
    assert b[0] <= 1e-10 < bprev[0]
    H = heat_kernel(L, 5.0, order="auto", sources=3)
    assert H.shape == (150,)
    np.testing.assert_allclose(H, heat_kernel_exact(L, 5.0, sources=3), atol=1e-13)


def test_cycle_closed_form():
    """exp(-tL) on the cycle C_n from its Fourier eigen-decomposition."""
    n, t = 64, 3.0
    L = laplacian(_cycle(n))
    lam = 2 - 2 * np.cos(2 * np.pi * np.arange(n) / n)
    j = np.arange(n)
    exact = (
        np.exp(-t * lam)[None, :] * np.cos(2 * np.pi * np.outer(j, np.arange(n)) / n)
    ).sum(1) / n
    H = heat_kernel(L, t, order="auto", sources=0)
    np.testing.assert_allclose(H, exact, atol=1e-13)


def test_full_kernel_and_block(graph):
    L = laplacian(graph, kind="symmetric")
    H = heat_kernel(L, 2.0, order=60)
    np.testing.assert_allclose(H, expm(-2.0 * L.toarray()), atol=1e-12)
    B = np.random.default_rng(1).normal(size=(150, 4))
    np.testing.assert_allclose(
        heat_kernel(L, 2.0, order=60, block=B), H @ B, atol=1e-11
    )
    # t = 0 is the identity
    np.testing.assert_allclose(heat_kernel(L, 0.0, sources=[5])[:, 0], np.eye(150)[5])


def test_squaring_relative_accuracy_far_entries():
    """Uniformization + squaring keeps tiny entries to relative precision.

    On a long cycle the kernel of the combinatorial Laplacian is
    exp(-2t) sum_m I_{j + m n}(2t) (lattice Bessel form); far entries reach
    1e-40 where absolute-error methods (Chebyshev, expm) return noise.
    """
    n, t = 120, 2.0
    L = laplacian(_cycle(n))
    j = np.arange(n)
    exact = sum(ive(np.abs(j + m * n), 2 * t) for m in range(-3, 4))
    ((tt, H),) = list(heat_doubling(L, t, 1))
    assert tt == pytest.approx(t)
    near = exact > 1e-45
    assert exact[near].min() < 1e-40
    np.testing.assert_allclose(H[0, near], exact[near], rtol=1e-7)
    assert np.all(H >= 0)
    # a polynomial filter only has absolute accuracy there
    cheb = heat_kernel(L, t, order="auto", sources=0)
    assert np.abs(cheb[near] / exact[near] - 1).max() > 1e-3
    # doubling levels: exp(-2t L) = exp(-tL)^2
    levels = list(heat_doubling(L, 0.5, 3))
    assert [round(s, 12) for s, _ in levels] == [0.5, 1.0, 2.0]
    np.testing.assert_allclose(levels[-1][1], expm(-2.0 * L.toarray()), atol=1e-13)


def test_heat_kernel_squaring_matches(graph):
    L = laplacian(graph, kind="symmetric")
    ((t, H),) = list(heat_doubling(L, 7.0, 1))
    np.testing.assert_allclose(H, heat_kernel(L, 7.0, order="auto"), atol=1e-12)


def test_spectrum_bound(graph):
    for kind in ("symmetric", "combinatorial"):
        L = laplacian(graph, kind=kind)
        lmax = np.linalg.eigvalsh(L.toarray()).max()
        for method in ("auto", "gershgorin", "lanczos"):
            assert spectrum_bound(L, method=method) >= lmax - 1e-10
    assert spectrum_bound(laplacian(graph, kind="symmetric")) <= 2.0


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        ({"t": -1.0}, ValueError, "non-negative"),
        ({"t": np.nan}, ValueError, "finite"),
        ({"t": "x"}, TypeError, "t must be"),
        ({"t": 1.0, "sources": [0, 500]}, ValueError, "outside"),
        ({"t": 1.0, "sources": [0.5]}, TypeError, "integer"),
        ({"t": 1.0, "sources": [0], "block": np.ones((150, 1))}, ValueError, "either"),
        ({"t": 1.0, "block": np.ones((10, 1))}, ValueError, "rows"),
        ({"t": 1.0, "order": 0}, ValueError, "order"),
        ({"t": 1.0, "order": "big"}, ValueError, "order"),
        ({"t": 1.0, "lmax": -1.0}, ValueError, "lmax"),
    ],
)
def test_bad_inputs(graph, kwargs, err, match):
    L = laplacian(graph, kind="symmetric")
    with pytest.raises(err, match=match):
        heat_kernel(L, **kwargs)


def test_bad_laplacian():
    with pytest.raises(ValueError, match="square"):
        heat_kernel(np.ones((3, 4)), 1.0)
    bad = np.eye(3)
    bad[0, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        heat_kernel(bad, 1.0)
    with pytest.raises(ValueError, match="symmetric"):
        heat_kernel(np.array([[1.0, -1.0], [0.0, 1.0]]), 1.0)
    with pytest.raises(ValueError, match="dense"):
        heat_kernel(sp.eye_array(4, format="csr"), 1.0, max_dense_bytes=8)


@pytest.mark.parametrize("n", [1, 5, 130, 300])
def test_square_sym_is_the_product(n):
    """One SYRK and a blocked mirror: the exact symmetric square."""
    from manigeo.heat._squaring import _square_sym

    A = np.random.default_rng(n).random((n, n))
    A = A + A.T
    S = _square_sym(A)
    np.testing.assert_allclose(S, A @ A, rtol=1e-12)
    assert np.array_equal(S, S.T)


def test_columns_chunks_and_times(graph, monkeypatch):
    """The series summed in chunks of 5 or 32 terms or term by term gives the
    same columns (in place axpys for large blocks), for times yielded in any
    order of completion."""
    import manigeo.heat._squaring as squaring

    L = laplacian(graph, kind="symmetric")
    B = np.eye(L.shape[0])[:, :7]
    times = [0.5, 2.0, 8.0, 8.0]
    terms = [60, 25, 80, 90]  # not increasing: 2.0 completes first
    lam, V = np.linalg.eigh(L.toarray())
    ref = {t: (V * np.exp(-t * lam)) @ V[:7].T for t in times}
    for chunk_bytes in (1, 8 * B.size * 5, squaring._CHUNK_BYTES):
        monkeypatch.setattr(squaring, "_CHUNK_BYTES", chunk_bytes)
        got = list(squaring._columns(L, B, times, n_terms=terms))
        assert [t for t, _ in got] == [2.0, 0.5, 8.0, 8.0]
        for t, H in got:
            np.testing.assert_allclose(H, ref[t], rtol=1e-10, atol=1e-14)


def test_columns_at_horner(monkeypatch):
    """One time by Horner's rule: the lattice Bessel kernel of a cycle to
    relative precision, in blocks of any width; float32 within 2e-6 where the
    lifted entries stay in its range (n = 80: entries of 3e-38, below float32's
    smallest normal number without the lift), else recomputed in float64
    (n = 160: far entries of 3e-97)."""
    import manigeo.heat._squaring as squaring

    t, src = 2.0, np.array([0, 7, 33])
    for n, single, rtol in ((160, False, 1e-10), (160, True, 1e-10), (80, True, 2e-6)):
        L = laplacian(_cycle(n))
        j = np.arange(n)
        exact = sum(ive(np.abs(j + m * n), 2 * t) for m in range(-3, 4))
        ref = np.stack([np.roll(exact, s) for s in src], axis=1)
        for width in (2, 128):
            monkeypatch.setattr(squaring, "_HORNER_WIDTH", width)
            H = squaring._columns_at(L, src, t, 120, single=single)
            np.testing.assert_allclose(H, ref, rtol=rtol)
            if rtol > 1e-10:  # float32 did run
                assert np.abs(H / ref - 1).max() > 1e-9
    assert ref.min() < 1e-37
