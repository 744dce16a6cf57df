"""Heat-geodesic embedding: manigeo vs heatgeo, PHATE, Isomap and UMAP.

For every (dataset, noise) cell, every method embeds the same points in 2-D;
the score is the Spearman / Pearson correlation between pairwise embedding
distances and the exact geodesic distances of the clean manifold, over the
pairs of a fixed random subset of 1000 points (the same for every method).
Wall time is that of ``fit_transform`` only (imports excluded).

Peers: ``heatgeo`` 0.0.1 pins numpy 1.23 / scikit-learn 1.2 / PyGSP 0.5 and
cannot be imported beside manigeo's stack, so heatgeo, PHATE and UMAP run in a
subprocess of a separate virtual environment (``--peer-python``, default
``/work/venvs/heatgeo/bin/python``; install there ``pip install --no-deps
heatgeo`` plus ``s-gd2 kneed pygsp graphtools phate umap-learn "numpy<2.4"``).
They get the very same ``X`` (written to a temporary .npy file).  Isomap
(scikit-learn) and manigeo run in this process.  Peers at their defaults:
``HeatGeo(knn=10)``, ``PHATE(knn=10)``, ``Isomap(n_neighbors=10)``,
``UMAP(n_neighbors=10)``; manigeo ``HeatGeodesicEmbedding()`` (n_neighbors=10).

Datasets (``manigeo.datasets`` plus an S-curve with exact geodesics):

* swiss roll (area-uniform, 3-D, radius 4.7..14, layer gap 2 pi), noise
  std = level x 0.5.  At std 1.0 (scikit-learn's habit) the layers merge in
  every kNN graph and all methods fall to Spearman 0.31..0.37 (measured:
  manigeo 0.364, heatgeo 0.370, PHATE 0.329, Isomap 0.307), which says nothing
  about the methods;
* S-curve (scikit-learn's, unit-speed curve so the geodesic is Euclidean in
  (t, height)), noise std = level x 0.1 (the curve has radius 1);
* sphere S^2 (radius 1), noise std = level x 0.1;
* flat torus T^2 (Clifford torus in R^4, circumference 1 per circle, exact
  geodesics), noise std = level x 0.02 (tube radius 1/(2 pi) = 0.16);
* branching tree (10 branches of length 1 in R^10), noise std = level x 0.05.

Noise levels 0 / 0.5 / 1.0 thus range from clean to about the nearest-neighbour
spacing of the manifold at n = 2000 (larger noise short-circuits every graph).

Usage::

    python benchmarks/bench_heatgeo.py                   # n=2000, noise 0, all datasets
    python benchmarks/bench_heatgeo.py --full            # noise 0, 0.5, 1.0, with UMAP
    python benchmarks/bench_heatgeo.py --target          # n=4000 Swiss roll vs heatgeo
    python benchmarks/bench_heatgeo.py --large 100000    # manigeo only, time + peak RSS
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from scipy.spatial.distance import pdist, squareform
from scipy.stats import pearsonr, spearmanr

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from manigeo.datasets import make_sphere, make_swiss_roll, make_torus, make_tree  # noqa: E402
from manigeo.embedding import HeatGeodesicEmbedding  # noqa: E402

NOISE_SCALE = {"swiss": 0.5, "scurve": 0.1, "sphere": 0.1, "torus": 0.02, "tree": 0.05}

PEER_CODE = r"""
import json, sys, time, warnings
import numpy as np
warnings.filterwarnings("ignore")
X = np.load(sys.argv[1]); methods = sys.argv[2].split(","); out = {}
for m in methods:
    t0 = time.perf_counter()
    try:
        if m == "heatgeo":
            from heatgeo.embedding import HeatGeo
            t0 = time.perf_counter()
            Y = HeatGeo(knn=10).fit_transform(X)
        elif m == "phate":
            import phate
            t0 = time.perf_counter()
            ph = phate.PHATE(knn=10, random_state=0, verbose=0, n_jobs=1)
            Y = ph.fit_transform(X)
        elif m == "umap":
            import umap
            t0 = time.perf_counter()
            Y = umap.UMAP(n_neighbors=10, random_state=0).fit_transform(X)
        el = time.perf_counter() - t0
        np.save(sys.argv[3] + "_" + m + ".npy", np.asarray(Y, dtype=float))
        out[m] = el
    except Exception as e:
        out[m] = "error: " + repr(e)[:200]
print("RESULT" + json.dumps(out))
"""


def make_scurve(n, noise, random_state):
    """scikit-learn's S-curve with exact geodesics (unit-speed profile curve)."""
    from sklearn.datasets import make_s_curve

    X, t = make_s_curve(n, noise=0.0, random_state=random_state)
    U = np.column_stack([t, X[:, 1]])
    rng = np.random.default_rng(random_state + 1)
    if noise > 0:
        X = X + noise * rng.normal(size=X.shape)
    return X, lambda S: squareform(pdist(U[S]))


def make_data(name, n, level, seed=0):
    noise = level * NOISE_SCALE[name]
    if name == "scurve":
        return make_scurve(n, noise, seed)
    if name == "swiss":
        X, geo = make_swiss_roll(n, noise=noise, random_state=seed)
    elif name == "sphere":
        X, geo = make_sphere(n, noise=noise, random_state=seed)
    elif name == "torus":
        X, geo = make_torus(n, kind="flat", noise=noise, random_state=seed)
    elif name == "tree":
        X, geo = make_tree(n, n_branches=10, dim=10, noise=noise, random_state=seed)
    else:
        raise ValueError(name)
    return X, lambda S: geo(S, S)


def score(G, Y, S):
    iu = np.triu_indices(len(S), 1)
    E = squareform(pdist(Y[S]))[iu]
    g = G[iu]
    return spearmanr(g, E).statistic, pearsonr(g, E).statistic


def run_peers(X, methods, peer_python):
    if not methods:
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        xf = os.path.join(tmp, "X.npy")
        np.save(xf, X)
        code = os.path.join(tmp, "peer.py")
        with open(code, "w") as f:
            f.write(PEER_CODE)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        proc = subprocess.run(
            [peer_python, code, xf, ",".join(methods), os.path.join(tmp, "Y")],
            capture_output=True,
            text=True,
            env=env,
            timeout=1800,
        )
        line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")]
        if not line:
            return {m: "error: " + proc.stderr[-300:] for m in methods}
        times = json.loads(line[-1][6:])
        res = {}
        for m, el in times.items():
            if isinstance(el, str):
                res[m] = el
            else:
                res[m] = (el, np.load(os.path.join(tmp, f"Y_{m}.npy")))
        return res


def run_cell(name, n, level, peers, peer_python, n_eval=1000, lm=0):
    X, geo = make_data(name, n, level)
    S = np.sort(np.random.default_rng(123).choice(n, min(n, n_eval), replace=False))
    G = geo(S)
    rows = []
    t0 = time.perf_counter()
    Y = HeatGeodesicEmbedding(random_state=0).fit_transform(X)
    rows.append(("manigeo", time.perf_counter() - t0, *score(G, Y, S)))
    if lm and n > lm:
        t0 = time.perf_counter()
        Y = HeatGeodesicEmbedding(n_landmarks=lm, random_state=0).fit_transform(X)
        rows.append((f"mg-lm{lm}", time.perf_counter() - t0, *score(G, Y, S)))
    from sklearn.manifold import Isomap

    t0 = time.perf_counter()
    try:
        Y = Isomap(n_neighbors=10, n_components=2).fit_transform(X)
        rows.append(("isomap", time.perf_counter() - t0, *score(G, Y, S)))
    except Exception as e:  # disconnected kNN graph under noise, etc.
        rows.append(("isomap", float("nan"), float("nan"), float("nan")))
        print(f"  isomap failed: {e!r}"[:200])
    for m, r in run_peers(X, peers, peer_python).items():
        if isinstance(r, str):
            print(f"  {m}: {r}")
            rows.append((m, float("nan"), float("nan"), float("nan")))
        else:
            rows.append((m, r[0], *score(G, r[1], S)))
    return rows


def print_rows(name, n, level, rows):
    base = dict((r[0], r) for r in rows)
    for m, el, sp, pe in rows:
        ratio = ""
        if m != "manigeo" and np.isfinite(el):
            ratio = f"  (manigeo {el / base['manigeo'][1]:5.1f}x faster)"
        print(
            f"{name:7s} n={n:<6d} noise={level:<4} {m:10s} {el:7.2f} s  "
            f"spearman {sp:.4f}  pearson {pe:.4f}{ratio}",
            flush=True,
        )


def large(n):
    """manigeo only at large n: wall time and peak resident memory (this process)."""
    import resource

    X, geo = make_swiss_roll(n, random_state=0)
    t0 = time.perf_counter()
    est = HeatGeodesicEmbedding(random_state=0)
    Y = est.fit_transform(X)
    el = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    S = np.sort(np.random.default_rng(123).choice(n, 1000, replace=False))
    sp, pe = score(geo(S, S), Y, S)
    print(
        f"swiss   n={n} manigeo {el:.1f} s, peak RSS {peak:.2f} GiB, "
        f"landmarks {len(est.landmarks_) if est.landmarks_ is not None else n}, "
        f"t_={est.t_:g}, spearman {sp:.4f}, pearson {pe:.4f}"
    )


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--datasets", default="swiss,scurve,sphere,torus,tree")
    p.add_argument("--noise", default="0", help="comma-separated noise levels")
    p.add_argument("--full", action="store_true", help="noise 0,0.5,1 and UMAP")
    p.add_argument(
        "--peers", default="heatgeo,phate", help="peers run in the peer venv"
    )
    p.add_argument("--umap", action="store_true", help="add UMAP to the peers")
    p.add_argument(
        "--peer-python",
        default=os.environ.get("HEATGEO_PYTHON", "/work/venvs/heatgeo/bin/python"),
    )
    p.add_argument(
        "--landmarks",
        type=int,
        default=1000,
        help="also run manigeo with this many landmarks (0: no)",
    )
    p.add_argument("--target", action="store_true", help="n=4000 Swiss roll vs heatgeo")
    p.add_argument("--large", type=int, default=0, help="manigeo alone at this n")
    a = p.parse_args(argv)
    if a.large:
        large(a.large)
        return
    peers = [m for m in a.peers.split(",") if m]
    if a.umap or a.full:
        peers.append("umap")
    if not os.path.exists(a.peer_python):
        print(f"peer python {a.peer_python} not found: peers skipped")
        peers = []
    if a.target:
        rows = run_cell("swiss", 4000, 0.0, ["heatgeo"], a.peer_python)
        print_rows("swiss", 4000, 0.0, rows)
        return
    levels = [0.0, 0.5, 1.0] if a.full else [float(v) for v in a.noise.split(",")]
    for name in a.datasets.split(","):
        for level in levels:
            rows = run_cell(name, a.n, level, peers, a.peer_python, lm=a.landmarks)
            print_rows(name, a.n, level, rows)


if __name__ == "__main__":
    main()
