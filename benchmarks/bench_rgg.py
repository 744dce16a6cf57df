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
    python benchmarks/bench_rgg.py --families T2 S2 S3 square ER SBM
    python benchmarks/bench_rgg.py --timing 1 2 3 4 5 6 7 8

``--families`` builds the graphs of issue 11 here, with ``scipy.spatial.cKDTree``
on independent samplers (flat tori, spheres S^2-S^4, S^2 x S^1, a von
Mises-Fisher density on S^2, square, disc, hemisphere; Erdos-Renyi and a
block model as negatives), gives the estimator only the adjacency and
``radius=r``, and prints the median absolute error over pairs farther than
half the diameter (default, ``calibrate=False``, hop count x r) and by
distance band.
"""

import argparse
import resource
import time

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

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


# ----------------------------------------------------------------------------
# Off the ideal model (issue 11): graphs built here with scipy's cKDTree on
# independent samplers; the estimator only sees the adjacency (and radius=r).
# ----------------------------------------------------------------------------
def _adjacency(pairs, n, keep, rng):
    if keep < 1:
        pairs = pairs[rng.uniform(size=len(pairs)) < keep]
    i, j = pairs[:, 0], pairs[:, 1]
    A = sp.csr_array(
        (np.ones(2 * len(i)), (np.concatenate([i, j]), np.concatenate([j, i]))),
        shape=(n, n),
    )
    A.sort_indices()
    return A


def _sphere_points(n, k, rng):
    X = rng.normal(size=(n, k + 1))
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def _vmf_s2(n, kappa, rng):
    """von Mises-Fisher on S^2 around the north pole (exact inversion)."""
    u = rng.uniform(size=n)
    w = 1.0 + np.log(u + (1.0 - u) * np.exp(-2.0 * kappa)) / kappa
    phi = rng.uniform(0, 2 * np.pi, size=n)
    rho = np.sqrt(np.maximum(1.0 - w * w, 0.0))
    return np.column_stack([rho * np.cos(phi), rho * np.sin(phi), w])


def _sphere_geo(X):
    return lambda rows: np.arccos(np.clip(X[rows] @ X.T, -1.0, 1.0))


def _euclid_geo(X):
    return lambda rows: np.linalg.norm(X[rows][:, None, :] - X[None], axis=2)


def _torus_geo(X):
    def geo(rows):
        D = np.abs(X[rows][:, None, :] - X[None])
        D = np.minimum(D, 1.0 - D)
        return np.sqrt((D * D).sum(axis=2))

    return geo


def _radius_for(n, degree, d, volume):
    return (degree * volume / (n * _ball(d))) ** (1.0 / d)


def _ball(d):
    from scipy.special import gammaln

    return float(np.exp(0.5 * d * np.log(np.pi) - gammaln(0.5 * d + 1)))


def _sphere_volume(k):
    return 2 * np.pi ** ((k + 1) / 2) / np.exp(__import__("math").lgamma((k + 1) / 2))


def family_graph(name, n, degree, keep, rng):
    """(A, geo(rows) -> exact distances, r, dimension) for one family."""
    full = degree / keep  # degree before edge deletion
    if name.startswith("T"):  # flat torus T^d, unit side
        d = int(name[1:])
        X = rng.uniform(size=(n, d))
        r = _radius_for(n, full, d, 1.0)
        pairs = cKDTree(X, boxsize=1.0).query_pairs(r, output_type="ndarray")
        return _adjacency(pairs, n, keep, rng), _torus_geo(X), r, d
    if name in ("S2", "S3", "S4", "hemisphere"):
        d = 2 if name == "hemisphere" else int(name[1:])
        X = _sphere_points(n, d, rng)
        vol = _sphere_volume(d)
        if name == "hemisphere":
            X[:, -1] = np.abs(X[:, -1])
            vol /= 2
        r = _radius_for(n, full, d, vol)
        pairs = cKDTree(X).query_pairs(2 * np.sin(r / 2), output_type="ndarray")
        return _adjacency(pairs, n, keep, rng), _sphere_geo(X), r, d
    if name.startswith("S2vmf"):  # half uniform, half a von Mises-Fisher cap
        kappa = float(name[5:])
        m = n // 2
        X = np.vstack([_sphere_points(n - m, 2, rng), _vmf_s2(m, kappa, rng)])
        r = _radius_for(n, full, 2, 4 * np.pi)  # same r as the uniform control
        pairs = cKDTree(X).query_pairs(2 * np.sin(r / 2), output_type="ndarray")
        return _adjacency(pairs, n, keep, rng), _sphere_geo(X), r, 2
    if name == "S2xS1":  # unit S^2 times a circle of radius 0.5
        Y = _sphere_points(n, 2, rng)
        phi = rng.uniform(0, 2 * np.pi, size=n)
        rho = 0.5
        X = np.column_stack([Y, rho * np.cos(phi), rho * np.sin(phi)])
        r = _radius_for(n, full, 3, 4 * np.pi * 2 * np.pi * rho)

        def geo(rows):
            a = np.arccos(np.clip(Y[rows] @ Y.T, -1, 1))
            b = np.abs(phi[rows][:, None] - phi[None])
            b = rho * np.minimum(b, 2 * np.pi - b)
            return np.sqrt(a * a + b * b)

        pairs = cKDTree(X).query_pairs(r, output_type="ndarray")
        i, j = pairs[:, 0], pairs[:, 1]
        a = np.arccos(np.clip(np.sum(Y[i] * Y[j], axis=1), -1, 1))
        b = np.abs(phi[i] - phi[j])
        b = rho * np.minimum(b, 2 * np.pi - b)
        pairs = pairs[a * a + b * b <= r * r]
        return _adjacency(pairs, n, keep, rng), geo, r, 3
    if name in ("square", "disc"):
        if name == "square":
            X = rng.uniform(size=(n, 2))
            vol = 1.0
        else:
            t = rng.uniform(0, 2 * np.pi, n)
            rad = np.sqrt(rng.uniform(size=n))
            X = np.column_stack([rad * np.cos(t), rad * np.sin(t)])
            vol = np.pi
        r = _radius_for(n, full, 2, vol)
        pairs = cKDTree(X).query_pairs(r, output_type="ndarray")
        return _adjacency(pairs, n, keep, rng), _euclid_geo(X), r, 2
    if name in ("ER", "SBM"):
        m = int(n * degree / 2)
        i = rng.integers(0, n, m)
        if name == "ER":
            j = rng.integers(0, n, m)
        else:  # 8 blocks, 90 % of the edges inside a block
            blocks = 8
            label = np.arange(n) % blocks
            j = rng.integers(0, n, m)
            inside = rng.uniform(size=m) < 0.9
            j[inside] = (j[inside] // blocks) * blocks + label[i[inside]]
            j = np.minimum(j, n - 1)
        ok = i != j
        pairs = np.unique(np.sort(np.column_stack([i[ok], j[ok]]), axis=1), axis=0)
        return _adjacency(pairs, n, 1.0, rng), None, 1.0, None
    raise ValueError(f"unknown family {name}")


#: family -> (n, mean degree, keep), the cases of issue 11
FAMILIES = {
    "T2": (6000, 25, 1.0),
    "S2": (8000, 30, 1.0),
    "S2vmf3": (8000, 30, 1.0),
    "S2vmf4": (8000, 30, 1.0),
    "square": (6000, 25, 1.0),
    "disc": (6000, 25, 1.0),
    "hemisphere": (6000, 25, 1.0),
    "T3": (8000, 40, 0.8),
    "S3": (8000, 40, 0.8),
    "S2xS1": (8000, 40, 0.8),
    "T4": (8000, 40, 0.8),
    "S4": (8000, 40, 0.8),
    "ER": (3000, 30, 1.0),
    "SBM": (3000, 30, 1.0),
}
BANDS = (0, 5, 10, 20, 40, np.inf)


def run_family(name, args):
    n, degree, keep = FAMILIES[name]
    rng = np.random.default_rng(args.seed)
    A, geo, r, d = family_graph(name, n, degree, keep, rng)
    if geo is None:  # not geometric: the estimator must refuse it
        t0 = time.perf_counter()
        try:
            RGGMetric(n_landmarks=8, random_state=args.seed).fit(A)
            verdict = "FITTED (no refusal!)"
        except ValueError as exc:
            verdict = f"raises ValueError: {str(exc)[:150]}..."
        print(
            f"{name:10s} n={n} kbar={A.nnz / n:.1f}: {verdict} "
            f"({time.perf_counter() - t0:.1f}s)",
            flush=True,
        )
        return None
    sources = rng.choice(n, size=args.n_sources, replace=False)
    D = geo(sources)
    hop = shortest_paths(A, sources, unweighted=True, on_disconnected="inf") * r
    out = {}
    for label, kw in (("default", {}), ("cal=False", {"calibrate": False})):
        t0 = time.perf_counter()
        est = RGGMetric(
            dimension=d,
            radius=r,
            random_state=args.seed,
            on_disconnected="largest",
            n_jobs=args.n_jobs,
            **kw,
        ).fit(A)
        t_fit = time.perf_counter() - t0
        keep_nodes = est.component_
        if keep_nodes is None:
            src, cols = sources, slice(None)
        else:
            pos = np.full(n, -1)
            pos[keep_nodes] = np.arange(len(keep_nodes))
            src, cols = pos[sources[pos[sources] >= 0]], keep_nodes
        out[label] = (est, est.geodesic_distances(src), t_fit, cols)
    est, Dh, t_fit, cols = out["default"]
    Dt = D[: Dh.shape[0]][:, cols] if cols is not slice(None) else D
    Dc = out["cal=False"][1]
    Hp = hop[: Dh.shape[0]][:, cols] if cols is not slice(None) else hop
    far = Dt > 0.5 * Dt.max()
    med = float(np.median(np.abs(Dh - Dt)[far]))
    med_c = float(np.median(np.abs(Dc - Dt)[far]))
    med_h = float(np.median(np.abs(Hp - Dt)[far & np.isfinite(Hp)]))
    bias = float(np.mean((Dh[far] - Dt[far]) / Dt[far]))
    stats = est.fit_statistics_
    info = est.calibration_info_ or {}
    curv = info.get("curvature_estimate", {})
    print(
        f"{name:10s} n={n} kbar={A.nnz / n:5.1f} r={r:.4f} diam/r={Dt.max() / r:5.1f} "
        f"q^={est.edge_keep_rate_:.3f} disp={stats['lens_dispersion']:.2f} | "
        f"far-pair median: default {med:.4f} (bias {bias:+.3f}), "
        f"cal=False {med_c:.4f}, hop*r {med_h:.4f} | "
        f"{info.get('space', 'torus')} n={info.get('n_sim', 0)} "
        f"reach {info.get('reach', 0):.1f}r penalty {info.get('penalty', 0):g} "
        f"curvature {curv.get('curvature', 0):+.3f}"
        f"+-{curv.get('standard_error', 0):.3f}/r^2 "
        f"(matched {curv.get('matched', 0):.3f}) | fit {t_fit:.1f}s",
        flush=True,
    )
    bands = []
    for lo, hi in zip(BANDS[:-1], BANDS[1:], strict=True):
        sel = (Dt >= lo * r) & (Dt < hi * r) & (Dt > 0)
        if sel.sum() < 50:
            continue
        bands.append(
            f"[{lo},{hi})r: {np.median(np.abs(Dh - Dt)[sel]):.4f}/"
            f"{np.median(np.abs(Dc - Dt)[sel]):.4f}/"
            f"{np.median(np.abs(Hp - Dt)[sel & np.isfinite(Hp)]):.4f}"
        )
    print(f"{'':10s} by band (default/cal=False/hop): " + "  ".join(bands), flush=True)
    return med, med_c, med_h


def run_timing(args):
    """dimension 1..8 on 2000-node spheres S^d (mean degree 30): fit time."""
    for d in args.timing:
        rng = np.random.default_rng(args.seed + d)
        X = _sphere_points(2000, d, rng)
        r = _radius_for(2000, 30, d, _sphere_volume(d))
        r = min(r, 3.0)
        A = _adjacency(
            cKDTree(X).query_pairs(2 * np.sin(r / 2), output_type="ndarray"),
            2000,
            1.0,
            rng,
        )
        t0, c0 = time.perf_counter(), time.process_time()
        est = RGGMetric(dimension=d, random_state=0, on_misfit="warn").fit(A)
        info = est.calibration_info_ or {}
        print(
            f"S^{d} n=2000 kbar={A.nnz / 2000:.1f}: fit {time.perf_counter() - t0:.1f}s"
            f" wall, {time.process_time() - c0:.1f}s CPU"
            f", torus n={info.get('n_sim', 0)} {info.get('skipped', '')[:60]} "
            f"peak {_peak_gb():.2f}GB",
            flush=True,
        )


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
    p.add_argument(
        "--families",
        nargs="+",
        choices=sorted(FAMILIES),
        help="issue-11 families (own cKDTree samplers): error by distance band "
        "vs calibrate=False and hop count x r",
    )
    p.add_argument(
        "--timing",
        nargs="+",
        type=int,
        help="fit time for these dimensions on 2000-node spheres S^d",
    )
    p.add_argument("--n-jobs", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args(argv)

    if args.families:
        for name in args.families:
            run_family(name, args)
        return
    if args.timing:
        run_timing(args)
        return
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
