"""Build time and memory of the connection Laplacian, manigeo vs plain numpy.

For n points uniform on the sphere S^d in R^(d+1), k nearest neighbours and
stalk dimension d, time ``ConnectionLaplacian(n_neighbors=k, dimension=d).fit``
(kNN, local PCA, Procrustes transports, normalized CSR assembly) and a plain
numpy reference doing the same steps the obvious way (sklearn kNN, batched
``np.linalg.svd`` for the frames and the transports, COO -> CSR assembly,
diagonal scaling), in the same process.  Peak memory is the tracemalloc peak
(numpy and scipy allocations) during the build.

At the smallest size both Laplacians are checked to have the same low
spectrum (they differ by a change of frames, a gauge transformation).

Usage::

    python benchmarks/bench_sheaf.py          # 1e4, 1e5 (d = 2..4), 1e6 (d = 2)
    python benchmarks/bench_sheaf.py --full   # also d = 3, 4 and numpy at 1e6
    python benchmarks/bench_sheaf.py --sizes 10000 --dims 2
"""

import argparse
import gc
import time
import tracemalloc

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import eigsh
from sklearn.neighbors import NearestNeighbors

from manigeo import ConnectionLaplacian
from manigeo.datasets import make_sphere


def reference_connection_laplacian(X, k, d, n_jobs=None):
    """Plain numpy/scipy connection Laplacian I - D^-1/2 S D^-1/2 (uniform weights)."""
    n = X.shape[0]
    nn = NearestNeighbors(n_neighbors=k + 1, n_jobs=n_jobs).fit(X)
    _, ind = nn.kneighbors(X)
    ind = ind[:, 1:]
    Y = X[ind] - X[:, None, :]  # (n, k, p)
    U, _, _ = np.linalg.svd(Y.transpose(0, 2, 1), full_matrices=False)
    frames = U[:, :, :d]  # (n, p, d)
    A = sp.csr_matrix(
        (np.ones(n * k), (np.repeat(np.arange(n), k), ind.ravel())), shape=(n, n)
    )
    A = A.maximum(A.T).tocoo()
    i, j = A.row, A.col
    M = np.matmul(frames[i].transpose(0, 2, 1), frames[j])
    Uo, _, Vto = np.linalg.svd(M)
    Q = np.matmul(Uo, Vto)  # (E, d, d)
    deg = np.bincount(i, minlength=n).astype(float)
    a = np.arange(d)
    rows = (i[:, None, None] * d + a[None, :, None]) + 0 * a[None, None, :]
    cols = (j[:, None, None] * d + a[None, None, :]) + 0 * a[None, :, None]
    diag = np.arange(n * d)
    L = sp.coo_matrix(
        (
            np.concatenate([-Q.ravel(), np.repeat(deg, d)]),
            (
                np.concatenate([rows.ravel(), diag]),
                np.concatenate([cols.ravel(), diag]),
            ),
        ),
        shape=(n * d, n * d),
    ).tocsr()
    s = sp.diags(1.0 / np.sqrt(np.repeat(deg, d)))
    return (s @ L @ s).tocsr()


def measure(fn):
    gc.collect()
    tracemalloc.start()
    t0 = time.perf_counter()
    out = fn()
    elapsed = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return out, elapsed, peak / 2**20


def lowest(L, m=12):
    return np.sort(
        eigsh(
            sp.csc_matrix(L),
            k=m,
            sigma=-1e-3,
            v0=np.ones(L.shape[0]),
            return_eigenvectors=False,
        )
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000]
    )
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 3, 4])
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument(
        "--full",
        action="store_true",
        help="d = 3, 4 and the numpy reference also at n >= 1e6",
    )
    args = parser.parse_args()
    print(f"k = {args.k}, n_jobs = {args.n_jobs}; times in s, peak memory in MiB")
    print(
        f"{'n':>9} {'d':>2} {'p':>2} {'edges':>9} {'nnz':>10} | {'manigeo':>8} "
        f"{'MiB':>7} | {'numpy':>8} {'MiB':>7} | {'speed-up':>8}"
    )
    for n in args.sizes:
        for d in args.dims:
            if n >= 1_000_000 and d > 2 and not args.full:
                continue
            X, _ = make_sphere(n, dim=d, random_state=0)
            est = ConnectionLaplacian(
                n_neighbors=args.k, dimension=d, n_jobs=args.n_jobs
            )
            est, t_ours, mem_ours = measure(lambda: est.fit(X))
            L = est.laplacian_
            row = (
                f"{n:>9} {d:>2} {X.shape[1]:>2} {est.edge_index_.shape[1]:>9} "
                f"{L.nnz:>10} | {t_ours:>8.2f} {mem_ours:>7.0f} |"
            )
            if n < 1_000_000 or args.full:
                L_ref, t_ref, mem_ref = measure(
                    lambda: reference_connection_laplacian(X, args.k, d, args.n_jobs)
                )
                row += f" {t_ref:>8.2f} {mem_ref:>7.0f} | {t_ref / t_ours:>7.2f}x"
                if n == min(args.sizes) and d == 2:  # shift-invert is cheap at d = 2
                    w_ours, w_ref = lowest(L), lowest(L_ref)
                    err = np.abs(w_ours - w_ref).max() / w_ref.max()
                    assert err < 1e-8, err
                    row += f"  (same spectrum: rel. err {err:.1e})"
                del L_ref
            else:
                row += f" {'-':>8} {'-':>7} | {'-':>8}"
            print(row, flush=True)
            del L


if __name__ == "__main__":
    main()
