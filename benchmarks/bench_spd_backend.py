"""torch (CPU, float64) vs numpy for the SPD matrix functions, distances, means.

Both backends run in this process, one thread each (threadpoolctl for numpy's
BLAS/LAPACK, ``torch.set_num_threads(1)``), alternating, best of ``--repeat``;
the script prints the torch/numpy time ratio per operation (issue 14 asks for
0.8-1.2).  Usage::

    python benchmarks/bench_spd_backend.py [--repeat 5]
"""

import argparse
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from manigeo import spd


def random_spd(rng, n, p, cond):
    Q, _ = np.linalg.qr(rng.normal(size=(n, p, p)))
    w = np.exp(rng.uniform(0, np.log(cond), size=(n, p)))
    return (Q * w[:, None, :]) @ np.swapaxes(Q, -1, -2)


def best_pair(f, g, repeat):
    """Best-of-``repeat`` times of f and g, run alternately (load drifts hit both)."""
    tf, tg = [], []
    for _ in range(repeat):
        for fn, times in ((f, tf), (g, tg)):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    return min(tf), min(tg)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    cases = [(200, 30, 1e4), (50, 64, 1e4)]
    print(f"{'operation':34s} {'numpy [ms]':>11s} {'torch [ms]':>11s} {'ratio':>6s}")
    ratios = []
    with threadpool_limits(1):
        for n, p, cond in cases:
            X = random_spd(rng, n, p, cond)
            M = spd.mean(X, "logeuclid")
            Xt, Mt = torch.tensor(X), torch.tensor(M)
            ops = {
                "logm": lambda X, M: spd.logm(X),
                "sqrtm": lambda X, M: spd.sqrtm(X),
                "powm(0.3)": lambda X, M: spd.powm(X, 0.3),
                "distance affine": lambda X, M: spd.distance(X, M),
                "distance logeuclid": lambda X, M: spd.distance(X, M, "logeuclid"),
                "distance logcholesky": lambda X, M: spd.distance(X, M, "logcholesky"),
                "distance bures-wasserstein": lambda X, M: spd.distance(
                    X, M, "bures-wasserstein"
                ),
                "mean affine (10 iterations)": lambda X, M: spd.mean(
                    X, tol=0.0, max_iter=10
                ),
                "mean logcholesky": lambda X, M: spd.mean(X, "logcholesky"),
            }
            for name, op in ops.items():
                op(X, M), op(Xt, Mt)  # warm-up
                tn, tt = best_pair(
                    lambda op=op: op(X, M), lambda op=op: op(Xt, Mt), args.repeat
                )
                ratios.append(tt / tn)
                label = f"{name} {n}x{p}x{p}"
                print(f"{label:34s} {1e3 * tn:11.2f} {1e3 * tt:11.2f} {tt / tn:6.2f}")
    r = np.array(ratios)
    print(
        f"torch/numpy ratio: median {np.median(r):.2f}, "
        f"range {r.min():.2f}-{r.max():.2f}"
    )


if __name__ == "__main__":
    main()
