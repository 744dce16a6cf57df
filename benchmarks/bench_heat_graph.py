"""Heat kernel graph, landmarks and coarse cells: this checkout against a commit.

For each case the kernel graph (``_Affinity.fit``), the farthest-point
landmarks (``_place_landmarks``) and, from 3000 samples on, the coarse cells
(``_CoarseDiffusion``) are built by this checkout and by another commit's code
(``git archive``), each in a fresh process, interleaved, best of ``--repeat``
seconds per stage; then the results are compared: the same edges, the largest
relative weight difference, the same landmarks and cells, the largest relative
difference of the coarse Laplacian, spread and time scale.

With ``--outputs`` each child also fits ``HeatGeodesicDistance(random_state=0)``
and the line reports whether the two commits chose the same ``t_``, the
largest difference of ``t_scores_`` and the largest relative difference of
``transform`` on (up to) 2000 training rows.

Usage::

    python benchmarks/bench_heat_graph.py --compare-commit main
    python benchmarks/bench_heat_graph.py --compare-commit main --cases swiss --repeat 3
    python benchmarks/bench_heat_graph.py --compare-commit main --outputs
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import scipy.sparse as sp

HERE = os.path.dirname(os.path.abspath(__file__))


def _cases():
    """name -> (maker, n_neighbors): S-curve noise 0.1, non-uniform sphere
    (n = 2e4; 1e4 and 1e5, vMF cap kappa = 4 and 10),
    10-D blob, anisotropic 12-D blob (k-d tree up to 12 features), 50-D tree
    (scikit-learn's searches), duplicates, small n, Swiss roll n = 1e5."""
    sys.path.insert(0, HERE)
    import bench_heatgeo as b

    from manigeo.datasets import make_swiss_roll

    rng = np.random.default_rng(5)
    d = rng.normal(size=(200, 3))
    return {
        "swiss": lambda: make_swiss_roll(100000, noise=0.0, random_state=0)[0],
        "scurve": lambda: b.scurve(20000)[0],
        "sphere": lambda: b.vmf_sphere(20000)[0],
        "sph1e4": lambda: b.vmf_sphere(10000)[0],
        "sph1e4k10": lambda: b.vmf_sphere(10000, kappa=10.0)[0],
        "sph1e5": lambda: b.vmf_sphere(100000)[0],
        "sph1e5k10": lambda: b.vmf_sphere(100000, kappa=10.0)[0],
        "blob10": lambda: rng.normal(size=(5000, 10)),
        "blob12": lambda: (
            rng.normal(size=(5000, 12)) * np.r_[np.ones(4), 0.2 * np.ones(8)]
        ),
        "tree50": lambda: b.tree(2400)[0],
        "dups": lambda: np.vstack([d, d[:50], d[:20], np.repeat(d[:1], 15, 0)]),
        "small": lambda: rng.normal(size=(30, 2)),
        # two S-curves 20 apart: a disconnected graph (coarse path)
        "apart": lambda: np.vstack([b.scurve(6000)[0], b.scurve(6000, seed=3)[0] + 20]),
    }


def _child(case, out, outputs=False):
    """Build the graph, landmarks and cells of one case (and with ``outputs``
    the estimator's outputs); save them to ``out``."""
    from manigeo.heat import _coarse as c
    from manigeo.heat import _geodesic as g

    X = np.ascontiguousarray(_cases()[case](), dtype=np.float64)
    n = X.shape[0]
    res, secs = {}, {}
    t0 = time.perf_counter()
    aff = g._Affinity(10, "gaussian", 40.0, "normalize").fit(X)
    secs["affinity"] = time.perf_counter() - t0
    W = sp.csr_array(aff.W_)
    W.sort_indices()
    res.update(W_indptr=W.indptr, W_indices=W.indices, W_data=W.data)
    if n >= 3000:
        rng = np.random.RandomState(0)
        t0 = time.perf_counter()
        res["landmarks"] = g._place_landmarks(X, 500, rng)
        secs["landmarks"] = time.perf_counter() - t0
        extra = {}
        if getattr(aff, "lengths_", None) is not None:
            extra = {"lengths": aff.lengths_}
        t0 = time.perf_counter()
        cd = c._CoarseDiffusion(
            X, aff.W_, g._n_cells(n), rng, g.farthest_points, aff.slow_, **extra
        )
        secs["coarse"] = time.perf_counter() - t0
        res["cell"] = cd.cell
        res["scale"] = np.array([cd.time_scale, cd.time_shift])
        for name, M in (("L", cd.L), ("S", cd.spread)):
            M = sp.csr_array(M)
            M.sort_indices()
            res.update({f"{name}_indices": M.indices, f"{name}_data": M.data})
    if outputs:
        import warnings

        from manigeo.heat import HeatGeodesicDistance

        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a disconnected graph warns
            est = HeatGeodesicDistance(random_state=0).fit(X)
        secs["fit"] = time.perf_counter() - t0
        ts = sorted(est.t_scores_)
        res.update(
            t=np.array(est.t_),
            score_t=np.array(ts),
            score=np.array([est.t_scores_[t] for t in ts]),
            D=est.transform(X[:2000]),
        )
    np.savez(out, **res)
    print(json.dumps(secs))


def _rel(a, b):
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-300), initial=0.0))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--compare-commit", default="main")
    p.add_argument("--cases", default=",".join(_cases()))
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument(
        "--outputs", action="store_true", help="also compare t_, t_scores_, transform"
    )
    p.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        _child(*a.child, outputs=a.outputs)
        return
    root = os.path.dirname(HERE)
    with tempfile.TemporaryDirectory() as tmp:
        arch = subprocess.run(
            ["git", "-C", root, "archive", a.compare_commit],
            capture_output=True,
            check=True,
        ).stdout
        other = os.path.join(tmp, "other")
        os.mkdir(other)
        subprocess.run(["tar", "-x", "-C", other], input=arch, check=True)
        trees = {"this": root, a.compare_commit[:7]: other}
        print(f"seconds: this / {a.compare_commit[:7]} (best of {a.repeat})")
        for case in a.cases.split(","):
            best, files = {}, {}
            for _ in range(a.repeat):
                for name, path in trees.items():
                    files[name] = os.path.join(tmp, f"{case}-{name}.npz")
                    out = subprocess.run(
                        [sys.executable, __file__, "--child", case, files[name]]
                        + (["--outputs"] if a.outputs else []),
                        env=dict(os.environ, PYTHONPATH=path),
                        capture_output=True,
                        text=True,
                        check=True,
                    )
                    secs = json.loads(out.stdout.strip().splitlines()[-1])
                    for k, v in secs.items():
                        best[name, k] = min(v, best.get((name, k), np.inf))
            r, o = (np.load(files[name]) for name in trees)
            times = "  ".join(
                f"{k} {best['this', k]:.3f} / {best[n2, k]:.3f} "
                f"({best[n2, k] / best['this', k]:.1f}x)"
                for n2 in list(trees)[1:]
                for k in ("affinity", "landmarks", "coarse", "fit")
                if ("this", k) in best
            )
            same = all(np.array_equal(r[k], o[k]) for k in ("W_indptr", "W_indices"))
            line = (
                f"{case:8s} {times} | edges same {same}, "
                f"weights {_rel(r['W_data'], o['W_data']) if same else np.nan:.1e}"
            )
            if "cell" in r.files:
                line += (
                    f", landmarks same {np.array_equal(r['landmarks'], o['landmarks'])}"
                    f", cells same {np.array_equal(r['cell'], o['cell'])}"
                    f", L/spread/scale {_rel(r['L_data'], o['L_data']):.0e}"
                    f"/{_rel(r['S_data'], o['S_data']):.0e}"
                    f"/{_rel(r['scale'], o['scale']):.0e}"
                )
            if "D" in r.files:
                same_t = r["t"] == o["t"]
                grid = np.array_equal(r["score_t"], o["score_t"])
                ds = (
                    np.max(np.abs(r["score"] - o["score"]), initial=0.0)
                    if grid
                    else np.nan
                )
                line += (
                    f" | t_ same {same_t} ({float(r['t']):g}), t_scores_ "
                    f"{ds:.0e}, transform {_rel(r['D'], o['D']):.0e}"
                )
            print(line, flush=True)


if __name__ == "__main__":
    main()
