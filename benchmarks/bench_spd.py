"""Time manigeo.spd Fréchet means against pyRiemann 0.12 in one process.

Hard sets (issue 14): ``n`` SPD matrices ``p x p`` whose condition numbers are
log-uniform up to 1e8 (``--max-cond``; each matrix: random eigenvectors,
log-eigenvalues uniform in [0, log cond]); defaults 200 x 30x30, 50 x 64x64,
50 x 128x128.

For every set and mean, the script prints the wall time (best of ``--repeat``
interleaved runs) and the final gradient norm of both libraries, evaluated by
this script at the returned matrices with one formula for both:

* affine (AIM): ``‖sum_i w_i logm(M^{-1/2} X_i M^{-1/2})‖_F`` (pyRiemann's
  ``crit``);
* Bures–Wasserstein: ``‖sum_i w_i Log_M(X_i)‖_F`` with the BW logarithm
  (pyRiemann's ``crit`` of ``mean_wasserstein``).

For the closed forms (log-Euclidean, log-Cholesky) a second line times the
factorisation both libraries compute (``numpy.linalg.eigh`` of the batch,
``numpy.linalg.cholesky``) in the same interleaved loop and prints what each
library spends beyond it (validation, reduction, final map).

Rows "matched" run manigeo with ``tol`` set to the gradient norm pyRiemann
reached at its defaults (same stopping criterion for AIM), so the ratio is
at matched final gradient norm; rows "tol 1e-10" run both at ``tol=1e-10``
(pyRiemann with ``maxiter=200``).  ``ratio`` = pyRiemann time / manigeo time
(> 1: manigeo faster).  The last column block times the same manigeo means on
torch float64 CPU tensors: ``torch/numpy`` is torch time / numpy time.

BLAS and torch run single-threaded by default (``--threads``): on a shared,
loaded machine multithreaded BLAS on small matrices is both slower and far
noisier, for both libraries alike.  manigeo splits a large batched ``eigh`` /
Cholesky / spectral reconstruction over as many threads as BLAS (numpy) or
torch is allowed (``manigeo._backend.batch_workers``); pyRiemann's batched
calls run one matrix after another whatever the setting.  ``--threads 2``
(or more) therefore measures both libraries given the same cores; the
"factorisation alone" line stays the unsplit ``numpy.linalg`` call.  The
speed-up of the split needs idle cores: on a machine whose cores are busy
with other work it is nil.

``--seeds`` draws one set per seed and size; the last lines give, per set
size and row, the smallest and the median ratio over the seeds.  ``floor``
is manigeo's estimate of the float64 rounding level of the AIM gradient at
the mean (``info["rounding_floor"]``): gradient norms below about a tenth of
it are rounding noise for both libraries.

Usage::

    PYTHONPATH=. python benchmarks/bench_spd.py [--sets 1000x8 200x30 50x64 50x128]
        [--seeds 0 1 2] [--max-cond 1e8] [--repeat 3] [--threads 1]
        [--skip-torch]
        [--means affine bures-wasserstein logeuclid logcholesky]
"""

import argparse
import time
import warnings

import numpy as np


def hard_set(rng, n, p, max_cond=1e8):
    Q, _ = np.linalg.qr(rng.normal(size=(n, p, p)))
    cond = np.exp(rng.uniform(0, np.log(max_cond), size=(n, 1)))
    w = np.exp(rng.uniform(0, 1, size=(n, p)) * np.log(cond))
    return (Q * w[:, None, :]) @ np.swapaxes(Q, -1, -2)


def _eig_fun(X, f):
    w, U = np.linalg.eigh(X)
    return (U * f(w)[..., None, :]) @ np.swapaxes(U, -1, -2)


def grad_affine(M, X):
    Si = _eig_fun(M, lambda w: 1 / np.sqrt(w))
    return float(np.linalg.norm(_eig_fun(Si @ X @ Si, np.log).mean(0)))


def grad_bw(M, X):
    S = _eig_fun(M, np.sqrt)
    Si = _eig_fun(M, lambda w: 1 / np.sqrt(w))
    T = (Si @ _eig_fun(S @ X @ S, np.sqrt) @ Si).mean(0)
    R = 0.5 * (T + T.T) - np.eye(len(M))
    return float(np.linalg.norm(R @ M + M @ R))


def interleaved(fns, repeat):
    """Best-of-``repeat`` times of several callables, run round-robin."""
    best = [np.inf] * len(fns)
    outs = [None] * len(fns)
    for _ in range(repeat):
        for k, fn in enumerate(fns):
            t0 = time.perf_counter()
            outs[k] = fn()
            best[k] = min(best[k], time.perf_counter() - t0)
    return best, outs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", nargs="+", default=["200x30", "50x64", "50x128"])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--skip-torch", action="store_true")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--max-cond", type=float, default=1e8)
    ap.add_argument(
        "--means",
        nargs="+",
        default=["affine", "bures-wasserstein", "logeuclid", "logcholesky"],
    )
    args = ap.parse_args()

    import torch
    from threadpoolctl import threadpool_limits

    from manigeo.spd import get_metric, mean

    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore")  # pyRiemann warns at its iteration caps
    print(f"BLAS/torch threads={args.threads}, repeat={args.repeat} (interleaved)")
    head = (
        f"{'seed':>4} {'set':>9} {'mean':26} {'manigeo s':>9} {'grad':>8} "
        f"{'pyRiemann s':>11} {'grad':>8} {'ratio':>6} {'torch s':>8} "
        f"{'torch/numpy':>11}"
    )
    rows = []
    print(head)
    with threadpool_limits(args.threads):
        for seed in args.seeds:
            for spec in args.sets:
                bench_set(seed, spec, args, rows, torch, mean, get_metric)
    print("\nratio pyRiemann/manigeo over seeds " + " ".join(map(str, args.seeds)))
    for spec in args.sets:
        for label in dict.fromkeys(r[2] for r in rows):
            r = np.array([q[5] / q[3] for q in rows if q[1:3] == (spec, label)])
            if r.size:
                print(
                    f"{spec:>9} {label:26} min {r.min():6.2f} median "
                    f"{np.median(r):6.2f}"
                )


def bench_set(seed, spec, args, rows, torch, mean, get_metric):
    """Rows for one hard set (one seed, one size)."""
    from pyriemann.geometry.mean import (
        mean_logchol,
        mean_logeuclid,
        mean_riemann,
        mean_wasserstein,
    )

    n, p = (int(v) for v in spec.split("x"))
    # one stream per (seed, size): a set does not depend on the other sizes
    X = hard_set(np.random.default_rng([seed, n, p]), n, p, args.max_cond)
    Xt = torch.tensor(X)

    def row(label, ours, peer, grad, torch_fn=None, spec=spec, factor=None):
        if not label.startswith(tuple(args.means)):
            return
        fns = [ours, peer] + ([torch_fn] if torch_fn else [])
        # closed forms: also the factorisation alone and the symmetry /
        # finiteness test manigeo runs and pyRiemann does not
        fns += [factor, check] if factor else []
        # fast (closed-form) rows get more runs: best-of-3 of a 2 ms call on a
        # loaded machine is mostly noise
        t0 = time.perf_counter()
        ours()
        repeat = int(min(100, max(args.repeat, 0.3 / (time.perf_counter() - t0))))
        times, outs = interleaved(fns, repeat)
        g1 = grad(outs[0]) if grad else np.nan
        g2 = grad(outs[1]) if grad else np.nan
        tt = times[2] if torch_fn else np.nan
        rows.append((seed, spec, label, times[0], g1, times[1], g2, tt))
        r = rows[-1]
        print(
            f"{r[0]:>4} {r[1]:>9} {r[2]:26} {r[3]:9.3f} {r[4]:8.1e} "
            f"{r[5]:11.3f} {r[6]:8.1e} {r[5] / r[3]:6.2f} {r[7]:8.3f} "
            f"{r[7] / r[3]:11.2f}",
            flush=True,
        )
        if factor:
            # profile of a closed form: the factorisation both libraries
            # compute, and what each spends beyond it
            tf, tc = times[-2], times[-1]
            print(
                f"{'':>4} {'':>9} {'  factorisation alone':26} {tf:9.4f}"
                f"   manigeo +{1e3 * (r[3] - tf):.2f} ms, "
                f"pyRiemann +{1e3 * (r[5] - tf):.2f} ms",
                flush=True,
            )
            # pyRiemann plus the validation it does not do (manigeo's
            # symmetry and finiteness test, check_symmetric on X as is)
            rows.append((seed, spec, label + " +check", r[3], r[4], r[5] + tc))
            print(
                f"{'':>4} {'':>9} {'  symmetry check alone':26} {tc:9.4f}"
                f"   (pyRiemann + check) / manigeo {(r[5] + tc) / r[3]:6.2f}",
                flush=True,
            )

    tf = None if args.skip_torch else (lambda: mean(Xt, "affine"))
    # AIM at pyRiemann's defaults, manigeo stopped at the same gradient
    aim = any(m.startswith("affine") for m in args.means)
    g_pr = grad_affine(mean_riemann(X), X) if aim else 0.0
    if aim:
        info = get_metric("affine").mean(X, return_info=True)[1]
        print(f"{seed:>4} {spec:>9} AIM rounding floor {info['rounding_floor']:.1e}")
    row(
        "affine matched",
        lambda: mean(X, "affine", tol=g_pr),
        lambda: mean_riemann(X),
        lambda M: grad_affine(M, X),
    )
    row(
        "affine tol 1e-10",
        lambda: mean(X, "affine"),
        lambda: mean_riemann(X, tol=1e-10, maxiter=200),
        lambda M: grad_affine(M, X),
        tf,
    )
    tf = None if args.skip_torch else (lambda: mean(Xt, "bures-wasserstein"))
    row(
        "bures-wasserstein default",
        lambda: mean(X, "bures-wasserstein"),
        lambda: mean_wasserstein(X),
        lambda M: grad_bw(M, X),
    )
    row(
        "bures-wasserstein 1e-10",
        lambda: mean(X, "bures-wasserstein"),
        lambda: mean_wasserstein(X, tol=1e-10, maxiter=200),
        lambda M: grad_bw(M, X),
        tf,
    )
    from manigeo._validation import check_symmetric

    def check():
        return check_symmetric(X, copy=False, factor_only=True)

    tf = None if args.skip_torch else (lambda: mean(Xt, "logeuclid"))
    row(
        "logeuclid (closed form)",
        lambda: mean(X, "logeuclid"),
        lambda: mean_logeuclid(X),
        None,
        tf,
        factor=lambda: np.linalg.eigh(X),
    )
    tf = None if args.skip_torch else (lambda: mean(Xt, "logcholesky"))
    row(
        "logcholesky (closed form)",
        lambda: mean(X, "logcholesky"),
        lambda: mean_logchol(X),
        None,
        tf,
        factor=lambda: np.linalg.cholesky(X),
    )


if __name__ == "__main__":
    main()
