"""RGGMetric accuracy vs n, against exact geodesics and the hop-count baseline.

For each manifold (unit sphere S^2, flat tori T^2 and T^3) and size n, sample a
hard-threshold random geometric graph with the reference scaling
``r = c n^(-1/(d+2))`` (c = 2.5 on S^2, 1 on the tori), keep each edge with
probability ``--keep``, fit ``RGGMetric`` on the adjacency matrix alone
(``radius`` given so errors are absolute) and compare geodesic distances from
``--n-sources`` random sources to every node with the exact ones.  The
baseline is hop count x r on the same graph, in the same run.  Prints a table
and the fitted log-log slopes of the median error against n.

``--million`` instead runs one fit on n = 10^6 points of the flat T^3 with a
given mean degree (landmarks), printing time, peak memory and the error over
sampled pairs.

Examples::

    python benchmarks/bench_rgg.py --manifolds S2 T2 T3 --sizes 2000 4000 8000 16000
    python benchmarks/bench_rgg.py --manifolds S2 --sizes 4000 16000 --keep 0.5
    python benchmarks/bench_rgg.py --million --mean-degree 80
"""

import argparse
import resource
import time

import numpy as np

from manigeo.datasets import make_sphere, make_torus, sample_rgg
from manigeo.geodesics import shortest_paths
from manigeo.rgg import RGGMetric

DIMS = {"S2": 2, "T2": 2, "T3": 3}
CONSTANTS = {"S2": 2.5, "T2": 1.0, "T3": 1.0}


def _peak_gb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def make_graph(name, n, keep, seed, radius=None):
    d = DIMS[name]
    r = radius if radius is not None else CONSTANTS[name] * n ** (-1 / (d + 2))
    if name == "S2":
        X, geo = make_sphere(n, random_state=seed)
        A = sample_rgg(X, r, geodesic=geo, keep=keep, random_state=seed)
    else:
        _, geo = make_torus(n, kind="flat", dim=d, random_state=seed)
        # periodic Euclidean distance in torus coordinates = flat geodesic (r < 1/2)
        A = sample_rgg(geo.coordinates, r, boxsize=1.0, keep=keep, random_state=seed)
    return A, geo, r


def run_one(name, n, keep, args, radius=None):
    A, geo, r = make_graph(name, n, keep, args.seed, radius)
    rng = np.random.default_rng(args.seed + 1)
    sources = rng.choice(n, size=args.n_sources, replace=False)
    t0 = time.perf_counter()
    est = RGGMetric(
        dimension=DIMS[name] if not args.auto_dimension else "auto",
        radius=r,
        n_landmarks=args.n_landmarks,
        n_components=DIMS[name] + 1,
        random_state=args.seed,
        verbose=args.verbose,
    )
    est.fit(A)
    t_fit = time.perf_counter() - t0
    D_est = est.geodesic_distances(sources)
    D = geo(sources, None)
    mask = D > 0
    err = np.abs(D_est - D)[mask]
    far = D > 0.25 * D.max()
    bias = float(np.mean((D_est[far] - D[far]) / D[far]))
    hop = shortest_paths(A, sources, unweighted=True) * r
    hop_med = float(np.median(np.abs(hop - D)[mask]))
    row = {
        "manifold": name,
        "n": n,
        "keep": keep,
        "r": r,
        "kbar": A.nnz / n,
        "d_hat": est.dimension_,
        "q_hat": est.edge_keep_rate_,
        "rule": est.local_rule,
        "raw_bias": est.calibration_bias_,
        "median": float(np.median(err)),
        "p95": float(np.percentile(err, 95)),
        "max": float(err.max()),
        "bias": bias,
        "hop": hop_med,
        "ratio": hop_med / float(np.median(err)),
        "fit_s": t_fit,
        "peak_gb": _peak_gb(),
    }
    print(
        f"{name:3s} n={n:7d} q={keep:.2f} r={r:.4f} kbar={row['kbar']:6.1f} "
        f"d={row['d_hat']} q^={row['q_hat']:.3f} {row['rule']:9s} "
        f"raw {row['raw_bias']:+.3f} | med {row['median']:.4f} p95 {row['p95']:.4f} "
        f"max {row['max']:.4f} bias {row['bias']:+.4f} | hop {hop_med:.4f} "
        f"({row['ratio']:.1f}x) | fit {t_fit:.1f}s peak {row['peak_gb']:.2f}GB",
        flush=True,
    )
    return row


def slope(ns, vals):
    return float(np.polyfit(np.log(ns), np.log(vals), 1)[0])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument(
        "--manifolds", nargs="+", default=["S2", "T2", "T3"], choices=sorted(DIMS)
    )
    p.add_argument("--sizes", nargs="+", type=int, default=[2000, 4000, 8000, 16000])
    p.add_argument("--keep", type=float, default=1.0)
    p.add_argument("--n-sources", type=int, default=25)
    p.add_argument("--n-landmarks", type=int, default=32)
    p.add_argument("--auto-dimension", action="store_true")
    p.add_argument(
        "--million",
        action="store_true",
        help="one fit on n=10^6 points of the flat T^3",
    )
    p.add_argument("--n", type=int, default=1_000_000, help="size for --million")
    p.add_argument(
        "--mean-degree",
        type=float,
        default=80.0,
        help="mean degree for --million (sets r)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args(argv)

    if args.million:
        n = args.n
        r = (args.mean_degree / (n * 4 / 3 * np.pi)) ** (1 / 3)
        t0 = time.perf_counter()
        row = run_one("T3", n, args.keep, args, radius=r)
        print(
            f"whole run {time.perf_counter() - t0:.1f}s (fit {row['fit_s']:.1f}s), "
            f"peak RSS {row['peak_gb']:.2f} GB, median {row['median']:.4f}, "
            f"max {row['max']:.4f} over {args.n_sources} x {n} pairs"
        )
        return
    for name in args.manifolds:
        rows = [run_one(name, n, args.keep, args) for n in args.sizes]
        if len(rows) >= 2:
            ns = [r_["n"] for r_ in rows]
            print(
                f"{name}: slope median "
                f"{slope(ns, [r_['median'] for r_ in rows]):+.3f}, "
                f"p95 {slope(ns, [r_['p95'] for r_ in rows]):+.3f}, "
                f"hop {slope(ns, [r_['hop'] for r_ in rows]):+.3f} "
                f"(-1/(d+2) = {-1 / (DIMS[name] + 2):+.3f}); "
                f"min ratio vs hop {min(r_['ratio'] for r_ in rows):.1f}x",
                flush=True,
            )


if __name__ == "__main__":
    main()
