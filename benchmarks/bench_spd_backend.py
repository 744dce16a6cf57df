"""torch (CPU, float64) vs numpy for the SPD matrix functions, distances, means
and scalers.

Both backends run in this process, one thread each (threadpoolctl for numpy's
BLAS/LAPACK, ``torch.set_num_threads(1)``), alternating, best of ``--repeat``;
more runs for fast operations (see ``best_pair``);
the script prints the torch/numpy time ratio per operation (issue 14 asks for
0.8-1.2), then the median and range per group (matrix functions, distances,
means, scalers).  The means run at their defaults (``tol=1e-10``) on sets with
condition numbers up to 1e4 (``--cond``); the scalers are ``fit_transform`` of
``SPDStandardScaler`` and of ``SPDRecenter`` with two groups.  Usage::

    python benchmarks/bench_spd_backend.py [--repeat 5] [--cond 1e4] [--blocked]
        [--ops logcholesky "distance affine"]

The last two columns are the minor page faults per call (fresh memory
pages touched).  The millisecond rows are sensitive to the allocator:
torch's large temporaries often get fresh pages from glibc where numpy's
reuse freed ones (in a back-to-back loop of log-Cholesky ``fit_transform``
on 200 x 30 x 30: about 1000 faults per call for torch, 3 for numpy, and
2.4x the time), and how often depends on the allocation history, so those
rows move between runs; ``MALLOC_ARENA_MAX=1`` in the environment removed
the difference in the runs measured.  ``--blocked`` is noisier on a loaded
machine (a load drift hits one backend only).
"""

import argparse
import resource
import time

import numpy as np
import torch
from threadpoolctl import threadpool_info, threadpool_limits

from manigeo import spd
from manigeo.spd import SPDRecenter, SPDStandardScaler


def random_spd(rng, n, p, cond):
    Q, _ = np.linalg.qr(rng.normal(size=(n, p, p)))
    w = np.exp(rng.uniform(0, np.log(cond), size=(n, p)))
    return (Q * w[:, None, :]) @ np.swapaxes(Q, -1, -2)


def best_pair(f, g, repeat, budget=0.5, blocked=False):
    """Best-of-k times of f and g, run alternately (load drifts hit both).

    ``k`` is at least ``repeat`` and grows for fast operations until about
    ``budget`` seconds are spent on each (at most 200 runs): a best-of-5 of a
    2 ms call on a loaded machine is mostly noise.  ``blocked``: all ``k``
    runs of f, then all of g (a torch-only or numpy-only loop, as in a
    pipeline: the allocator state is each backend's own).
    """
    t0 = time.perf_counter()
    f(), g()
    once = max(time.perf_counter() - t0, 1e-6) / 2
    k = int(min(200, max(repeat, budget / once)))
    tf, tg = [], []
    faults = {id(tf): 0, id(tg): 0}
    if blocked:
        order = [(f, tf)] * k + [(g, tg)] * k
    else:
        order = [(fn, times) for _ in range(k) for fn, times in ((f, tf), (g, tg))]
    for fn, times in order:
        r0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        faults[id(times)] += resource.getrusage(resource.RUSAGE_SELF).ru_minflt - r0
    return min(tf), min(tg), faults[id(tf)] / k, faults[id(tg)] / k


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--cond", type=float, default=1e4)
    ap.add_argument(
        "--blocked",
        action="store_true",
        help="time each backend in its own loop instead of alternating calls",
    )
    ap.add_argument(
        "--ops",
        nargs="+",
        default=None,
        help="time only the operations whose name contains one of these strings",
    )
    args = ap.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    cases = [(200, 30, args.cond), (50, 64, args.cond)]
    print(
        f"{'operation':38s} {'numpy [ms]':>11s} {'torch [ms]':>11s} {'ratio':>6s} "
        f"{'faults/call numpy, torch':>17s}"
    )
    ratios = {}
    with threadpool_limits(1):
        blas = ", ".join(
            f"{i['internal_api']} {i['num_threads']}" for i in threadpool_info()
        )
        print(f"threads: torch {torch.get_num_threads()}; numpy/BLAS pools: {blas}")
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
                "mean affine": lambda X, M: spd.mean(X),
                "mean bures-wasserstein": lambda X, M: spd.mean(X, "bures-wasserstein"),
                "mean logeuclid": lambda X, M: spd.mean(X, "logeuclid"),
                "mean logcholesky": lambda X, M: spd.mean(X, "logcholesky"),
                "scaler affine": lambda X, M: SPDStandardScaler().fit_transform(X),
                "scaler logeuclid": lambda X, M: SPDStandardScaler(
                    metric="logeuclid"
                ).fit_transform(X),
                "scaler logcholesky": lambda X, M: SPDStandardScaler(
                    metric="logcholesky"
                ).fit_transform(X),
                "recenter affine (2 groups)": lambda X, M: SPDRecenter(
                    rescale=True
                ).fit_transform(X, groups=np.arange(len(X)) % 2),
            }
            for name, op in ops.items():
                if args.ops and not any(o in name for o in args.ops):
                    continue
                op(X, M), op(Xt, Mt)  # warm-up
                tn, tt, fn_, ft_ = best_pair(
                    lambda op=op: op(X, M),
                    lambda op=op: op(Xt, Mt),
                    args.repeat,
                    blocked=args.blocked,
                )
                group = name.split()[0].replace("recenter", "scaler")
                group = group if group in ("distance", "mean", "scaler") else "matfun"
                ratios.setdefault(group, []).append(tt / tn)
                label = f"{name} {n}x{p}x{p}"
                print(
                    f"{label:38s} {1e3 * tn:11.2f} {1e3 * tt:11.2f} {tt / tn:6.2f} "
                    f"{fn_:8.0f} {ft_:8.0f}"
                )
    everything = np.concatenate([np.array(r) for r in ratios.values()])
    for group, r in list(ratios.items()) + [("all", everything)]:
        r = np.array(r)
        print(
            f"torch/numpy ratio {group:9s}: median {np.median(r):.2f}, "
            f"range {r.min():.2f}-{r.max():.2f}"
        )


if __name__ == "__main__":
    main()
