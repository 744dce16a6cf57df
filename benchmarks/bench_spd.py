"""Time manigeo.spd against pyRiemann and geomstats in one process.

Batches of 1000 SPD matrices of size 20x20 and 30x30 (condition number <= 100):

* Fréchet means: affine (manigeo Karcher to tol 1e-10 vs pyRiemann
  ``mean_riemann`` defaults vs geomstats ``FrechetMean`` defaults), log-Euclidean
  and log-Cholesky (closed forms, vs pyRiemann);
* re-centring + rescaling one domain: ``SPDStandardScaler`` vs pyRiemann
  ``TLCenter`` + ``TLScale``;
* ``LieBatchNormSPD`` forward+backward (affine, 1 and 10 Karcher steps; LEM;
  LCM) in float64 on CPU, next to the numpy normalisations above.

Each timing is the best of ``--repeat`` runs; ratios are
``peer time / manigeo time`` (> 1: manigeo faster).  The accuracy column is
the AIM distance to a tightly converged reference mean.

Usage::

    PYTHONPATH=. python benchmarks/bench_spd.py [--sizes 20 30] [--n 1000] [--repeat 3]
"""

import argparse
import time
import warnings

import numpy as np


def best_of(fn, repeat):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def random_spd(rng, n, p, cond=100.0):
    Q, _ = np.linalg.qr(rng.normal(size=(n, p, p)))
    w = np.exp(rng.uniform(0, np.log(cond), size=(n, p)))
    return (Q * w[:, None, :]) @ np.swapaxes(Q, -1, -2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[20, 30])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-geomstats", action="store_true")
    ap.add_argument(
        "--torch-threads",
        type=int,
        default=1,
        help="torch intra-op threads (1: small matrices; more "
        "threads were 10x slower on a loaded 2-core machine)",
    )
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.torch_threads)

    from manigeo.lie._groups import import_geomstats_groups
    from manigeo.nn import LieBatchNormSPD
    from manigeo.spd import SPDStandardScaler, distance, mean

    import_geomstats_groups()  # numpy >= 2.4 shim before geomstats
    try:
        from pyriemann.geometry.mean import mean_logchol, mean_logeuclid, mean_riemann
    except ImportError:  # pragma: no cover - pyriemann < 0.12
        from pyriemann.utils.mean import mean_logchol, mean_logeuclid, mean_riemann
    from pyriemann.transfer import TLCenter, TLScale, encode_domains

    rng = np.random.default_rng(0)
    print(
        f"torch {torch.__version__}, threads={torch.get_num_threads()}, "
        f"n={args.n}, repeat={args.repeat}"
    )
    rows = []
    for p in args.sizes:
        X = random_spd(rng, args.n, p)
        ref = mean(X, tol=1e-12, max_iter=200)

        t_ours, M = best_of(lambda: mean(X), args.repeat)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_pr, Mpr = best_of(lambda: mean_riemann(X), args.repeat)
        rows.append(
            (
                p,
                "mean affine (tol 1e-10)",
                t_ours,
                "pyriemann mean_riemann",
                t_pr,
                distance(M, ref),
                distance(Mpr, ref),
            )
        )
        t8, M8 = best_of(lambda: mean(X, tol=1e-8), args.repeat)
        rows.append(
            (
                p,
                "mean affine (tol 1e-8, as peer)",
                t8,
                "pyriemann mean_riemann",
                t_pr,
                distance(M8, ref),
                distance(Mpr, ref),
            )
        )
        if not args.skip_geomstats:
            from geomstats.geometry.spd_matrices import SPDMatrices
            from geomstats.learning.frechet_mean import FrechetMean

            space = SPDMatrices(p)
            t_gs, est = best_of(lambda: FrechetMean(space).fit(X), 1)
            rows.append(
                (
                    p,
                    "mean affine (tol 1e-10)",
                    t_ours,
                    "geomstats FrechetMean",
                    t_gs,
                    distance(M, ref),
                    distance(est.estimate_, ref),
                )
            )
        t_ours, _ = best_of(lambda: mean(X, "logeuclid"), args.repeat)
        t_pr, _ = best_of(lambda: mean_logeuclid(X), args.repeat)
        rows.append(
            (
                p,
                "mean logeuclid",
                t_ours,
                "pyriemann mean_logeuclid",
                t_pr,
                np.nan,
                np.nan,
            )
        )
        t_ours, _ = best_of(lambda: mean(X, "logcholesky"), args.repeat)
        t_pr, _ = best_of(lambda: mean_logchol(X), args.repeat)
        rows.append(
            (
                p,
                "mean logcholesky",
                t_ours,
                "pyriemann mean_logchol",
                t_pr,
                np.nan,
                np.nan,
            )
        )

        # one-domain re-centring + rescaling to dispersion 1
        Xd, yd = encode_domains(
            X.copy(), np.zeros(args.n, int), np.array(["d"] * args.n)
        )

        def tl():
            Xc = TLCenter(target_domain="d").fit_transform(Xd.copy(), yd)
            return TLScale(target_domain="d", centered_data=True).fit_transform(Xc, yd)

        t_ours, _ = best_of(lambda: SPDStandardScaler().fit_transform(X), args.repeat)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_pr, _ = best_of(tl, args.repeat)
        rows.append(
            (
                p,
                "SPDStandardScaler",
                t_ours,
                "pyriemann TLCenter+TLScale",
                t_pr,
                np.nan,
                np.nan,
            )
        )

        # LieBN forward + backward on the same batch (float64, CPU)
        Xt = torch.tensor(X)
        for metric, steps in [
            ("affine", 1),
            ("affine", 10),
            ("logeuclid", 1),
            ("logcholesky", 1),
        ]:
            bn = LieBatchNormSPD(
                p, metric=metric, karcher_steps=steps, dtype=torch.float64
            )

            def step():
                bn.zero_grad()
                Xg = Xt.clone().requires_grad_(True)
                bn(Xg).square().sum().backward()

            t_bn, _ = best_of(step, args.repeat)
            rows.append(
                (
                    p,
                    f"LieBN {metric} k={steps} fwd+bwd",
                    t_bn,
                    "pyriemann TLCenter+TLScale (no grad)",
                    t_pr,
                    np.nan,
                    np.nan,
                )
            )

    print(
        f"\n{'p':>3} {'manigeo':34} {'time s':>8} {'peer':38} {'time s':>8} "
        f"{'ratio':>7} {'err ours':>9} {'err peer':>9}"
    )
    for p, ours, t1, peer, t2, e1, e2 in rows:
        print(
            f"{p:>3} {ours:34} {t1:8.3f} {peer:38} {t2:8.3f} {t2 / t1:7.2f} "
            f"{e1:9.1e} {e2:9.1e}"
        )


if __name__ == "__main__":
    main()
