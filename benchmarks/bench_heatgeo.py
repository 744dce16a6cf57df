"""Heat-geodesic distances and embedding: manigeo vs heatgeo, PHATE, UMAP, Isomap.

Every method runs in this process on the very same ``X``; peers are imported
normally and skipped with a message when not installed.  heatgeo 0.0.1 pins
old numpy / scikit-learn but imports and runs beside numpy 2.3 when installed
with ``pip install --no-deps heatgeo s-gd2 kneed pygsp graphtools deprecated
wrapt tasklogger future`` (PHATE: ``phate``, UMAP: ``umap-learn pynndescent``).

Scores: Spearman between exact geodesic distances and (a) each method's
*distance matrix* (manigeo heat-geodesic distances, heatgeo's ``dist``, Isomap
graph shortest paths, raw Euclidean chords) and (b) pairwise distances of each
2-D *embedding*, over all pairs of a fixed random subset of samples (the same
for every method).  Times are ``fit_transform`` wall times.

Usage::

    python benchmarks/bench_heatgeo.py --speed      # n = 500 ... 4000: time ratios
    python benchmarks/bench_heatgeo.py --heldout    # issue-16 held-out cases
    python benchmarks/bench_heatgeo.py --unseen     # sphere, torus, holey roll
    python benchmarks/bench_heatgeo.py --large 100000   # manigeo alone
    # this checkout vs round 1, each fit in a fresh process (peak RSS per fit)
    python benchmarks/bench_heatgeo.py --large 10000,100000 --compare-commit c1d64b5
    # landmark mode below the coarse path, other data (scurve, sphere, tree)
    python benchmarks/bench_heatgeo.py --large 2500,3000,4000,6000 \
        --kinds embedding --large-case sphere --compare-commit c1d64b5 --repeat 2
    # seconds per stage of the embedding fit, this checkout and another commit
    python benchmarks/bench_heatgeo.py --stages 100000 --compare-commit <commit>
    python benchmarks/bench_heatgeo.py --stages 100000 --large-case sphere
    python benchmarks/bench_heatgeo.py --vs-full 20000  # landmark vs full mode
    python benchmarks/bench_heatgeo.py --coarse-check 20000  # coarse vs exact path
"""

import argparse
import importlib
import time
import warnings

import numpy as np
from scipy.spatial.distance import cdist, pdist, squareform
from scipy.stats import spearmanr

from manigeo.datasets import make_swiss_roll, make_tree

warnings.filterwarnings("ignore")


def _peer(module):
    try:
        return importlib.import_module(module)
    except Exception as e:  # not installed, or broken beside this stack
        print(f"  peer {module!r} skipped: {e!r}"[:160])
        return None


# -- data -------------------------------------------------------------------------


def scurve(n=3000, noise=0.1, seed=0):
    """scikit-learn's S-curve; exact geodesics are Euclidean in (t, height)."""
    from sklearn.datasets import make_s_curve

    X, t = make_s_curve(n, noise=0.0, random_state=seed)
    U = np.column_stack([t, X[:, 1]])
    X = X + noise * np.random.default_rng(seed + 1).normal(size=X.shape)
    return X, lambda A, B: cdist(U[A], U[B])


def vmf_sphere(n=3000, noise=0.05, seed=0, kappa=4.0):
    """Half a von Mises-Fisher cap (kappa) + half uniform on S^2, noisy."""
    from scipy.stats import vonmises_fisher

    rng = np.random.default_rng(seed)
    A = vonmises_fisher([0.0, 0.0, 1.0], kappa).rvs(n // 2, random_state=rng)
    B = rng.normal(size=(n - n // 2, 3))
    P = np.vstack([A, B / np.linalg.norm(B, axis=1, keepdims=True)])
    X = P + noise * rng.normal(size=P.shape)
    return X, lambda A, B: np.arccos(np.clip(P[A] @ P[B].T, -1.0, 1.0))


def tree(n=2400, dim=50, noise=0.02, seed=0):
    """Branching tree in 50-D with exact path distances (manigeo.datasets)."""
    return make_tree(n, n_branches=10, dim=dim, noise=noise, random_state=seed)


def swiss(n, noise=0.5, seed=0):
    X, geo = make_swiss_roll(n, noise=noise, random_state=seed)
    return X, lambda S: geo(S, S)


# -- methods (each returns (seconds, embedding, distances or None)) ---------------


def m_manigeo(X, **kw):
    from manigeo import HeatGeodesicEmbedding

    t0 = time.perf_counter()
    est = HeatGeodesicEmbedding(random_state=0, **kw)
    Y = est.fit_transform(X)
    return time.perf_counter() - t0, Y, est


def m_heatgeo(X):
    mod = _peer("heatgeo.embedding")
    if mod is None:
        return None
    t0 = time.perf_counter()
    est = mod.HeatGeo(knn=10)
    Y = est.fit_transform(X)
    return time.perf_counter() - t0, Y, np.asarray(est.dist)


def m_isomap(X):
    from sklearn.manifold import Isomap

    t0 = time.perf_counter()
    est = Isomap(n_neighbors=10, n_components=2)
    Y = est.fit_transform(X)
    return time.perf_counter() - t0, Y, est.dist_matrix_


def m_phate(X):
    mod = _peer("phate")
    if mod is None:
        return None
    t0 = time.perf_counter()
    Y = mod.PHATE(knn=10, random_state=0, verbose=0, n_jobs=1).fit_transform(X)
    return time.perf_counter() - t0, Y, None


def m_umap(X):
    mod = _peer("umap")
    if mod is None:
        return None
    t0 = time.perf_counter()
    Y = mod.UMAP(n_neighbors=10, random_state=0).fit_transform(X)
    return time.perf_counter() - t0, Y, None


def _sp(G, D):
    iu = np.triu_indices(G.shape[0], 1)
    return spearmanr(G[iu], D[iu]).statistic


# -- modes -------------------------------------------------------------------------


def speed(ns=(500, 1000, 2000, 2001, 4000)):
    """Swiss roll (noise 0.5): time of manigeo vs heatgeo and Isomap, one run."""
    print("Swiss roll, noise 0.5: fit_transform seconds; ratio = peer / manigeo")
    for n in ns:
        X, geo = swiss(n)
        S = np.sort(np.random.default_rng(1).choice(n, min(n, 1000), replace=False))
        G = geo(S)
        tm, Ym, _ = m_manigeo(X)
        line = (
            f"n={n:5d} manigeo {tm:6.2f} s (emb {_sp(G, squareform(pdist(Ym[S]))):.3f})"
        )
        for name, fn in (("heatgeo", m_heatgeo), ("isomap", m_isomap)):
            r = fn(X)
            if r is None:
                continue
            emb = _sp(G, squareform(pdist(r[1][S])))
            line += f" | {name} {r[0]:6.2f} s (emb {emb:.3f}) ratio {r[0] / tm:5.2f}"
        print(line, flush=True)


def _sp_pairs(G, D):
    """Spearman over all entries of two (rows, cols) distance blocks."""
    return spearmanr(G.ravel(), D.ravel()).statistic


def heldout(
    n_eval=1500, seed=0, kappa=4.0, peers=("heatgeo", "isomap", "phate", "umap")
):
    """Issue-16 held-out cases: distance and embedding Spearman, all methods.

    manigeo runs twice: full mode (every sample a landmark, exact n x n heat
    kernel) and the default landmark mode (500 farthest-point landmarks above
    2000 samples).  Distances are scored on two sets of pairs: S x S (the
    evaluation subset; not available in landmark mode, which only has
    distances to landmarks) and S x L (the subset against the landmarks of the
    landmark-mode run; every method that has distances is scored there too).
    """
    cases = {
        "scurve n=3000 noise 0.1": lambda: scurve(seed=seed),
        f"sphere n=3000 vMF({kappa:g})+uniform noise 0.05": lambda: vmf_sphere(
            seed=seed, kappa=kappa
        ),
        "tree n=2400 50-D noise 0.02": lambda: tree(seed=seed),
    }
    for name, make in cases.items():
        X, geo = make()
        n = X.shape[0]
        S = np.sort(np.random.default_rng(seed).choice(n, n_eval, replace=False))
        G = geo(S, S)
        print(f"== {name} (seed {seed})", flush=True)
        print(
            f"  {'method':18s} {'time':>7s}  {'embedding':>9s}  "
            f"{'dist SxS':>8s}  {'dist SxL':>8s}  (Spearman vs exact geodesics)"
        )

        def row(label, el, emb=None, dss=None, dsl=None, extra=""):
            f = lambda v: f"{v:9.4f}" if v is not None else f"{'-':>9s}"  # noqa: E731
            t = f"{el:6.1f}s" if el is not None else f"{'-':>7s}"
            print(f"  {label:18s} {t}  {f(emb)} {f(dss)} {f(dsl)}{extra}", flush=True)

        el, Y, est = m_manigeo(X)
        L = est.landmarks_
        GL = geo(S, L)
        D = est.distance_.transform(X[S])
        row(
            "manigeo landmarks",
            el,
            _sp(G, squareform(pdist(Y[S]))),
            None,
            _sp_pairs(GL, D),
            f"  t_={est.t_:g}, m={len(L)}",
        )
        el, Y, est = m_manigeo(X, n_landmarks=None)
        D = est.distance_.transform(X[S])  # exact rows of the full kernel
        Dss = 0.5 * (D[:, S] + D[:, S].T)
        row(
            "manigeo full",
            el,
            _sp(G, squareform(pdist(Y[S]))),
            _sp(G, Dss),
            _sp_pairs(GL, D[:, L]),
            f"  t_={est.t_:g}",
        )
        row(
            "raw chords",
            None,
            None,
            _sp(G, squareform(pdist(X[S]))),
            _sp_pairs(GL, cdist(X[S], X[L])),
        )
        for label, fn in (
            ("heatgeo", m_heatgeo),
            ("isomap", m_isomap),
            ("phate", m_phate),
            ("umap", m_umap),
        ):
            if label not in peers:
                continue
            r = fn(X)
            if r is None:
                continue
            el, Y, Dm = r
            emb = _sp(G, squareform(pdist(Y[S])))
            if Dm is None:
                row(label, el, emb)
            else:
                Dm = np.asarray(Dm)
                row(
                    label, el, emb, _sp(G, Dm[np.ix_(S, S)]), _sp_pairs(GL, Dm[S][:, L])
                )
    if "digits" in peers:
        digits()


def _graph_geodesics(P, k, sample):
    """Shortest paths of a dense kNN graph of the noiseless points ``P`` between
    the rows ``sample`` (a reference where no closed form exists)."""
    from scipy.sparse.csgraph import dijkstra
    from sklearn.neighbors import kneighbors_graph

    G = kneighbors_graph(P, k, mode="distance")
    cache = {}

    def geo(A, B):
        key = tuple(np.asarray(A)[:3])
        if key not in cache:
            cache[key] = dijkstra(G, directed=False, indices=sample[A])
        return cache[key][:, sample[B]]

    return geo


def unseen(n_eval=1000, seed=0):
    """Cases no default was tuned on: distance Spearman, full S x S and
    landmark S x L, against Isomap.  Uniform noisy sphere (exact arc lengths),
    torus (R = 2, r = 1, uniform in the angles; reference: shortest paths of a
    12-NN graph of 20 000 noiseless points), Swiss roll with two holes
    (reference: shortest paths of a 15-NN graph in the unrolled plane)."""
    from sklearn.manifold import Isomap

    from manigeo.heat import HeatGeodesicDistance

    rng = np.random.default_rng(seed)
    P = rng.normal(size=(2500, 3))
    P /= np.linalg.norm(P, axis=1, keepdims=True)
    cases = {
        "uniform sphere n=2500 noise 0.05": (
            P + 0.05 * rng.normal(size=P.shape),
            lambda A, B, P=P: np.arccos(np.clip(P[A] @ P[B].T, -1.0, 1.0)),
        )
    }
    u, v = rng.uniform(0, 2 * np.pi, (2, 20000))
    Q = np.column_stack(
        [(2 + np.cos(v)) * np.cos(u), (2 + np.cos(v)) * np.sin(u), np.sin(v)]
    )
    cases["torus n=3000 noise 0.05"] = (
        Q[:3000] + 0.05 * rng.normal(size=(3000, 3)),
        _graph_geodesics(Q, 12, np.arange(3000)),
    )
    t = 1.5 * np.pi * (1 + 2 * rng.uniform(size=12000))
    h = 21 * rng.uniform(size=12000)
    hole = ((t > 7) & (t < 9) & (h > 6) & (h < 12)) | (
        (t > 11) & (t < 12.5) & (h > 12) & (h < 18)
    )
    t, h = t[~hole][:3000], h[~hole][:3000]
    X = np.column_stack([t * np.cos(t), h, t * np.sin(t)])
    s_ = 0.5 * (t * np.sqrt(1 + t**2) + np.arcsinh(t))
    cases["swiss roll with 2 holes n=3000 noise 0.3"] = (
        X + 0.3 * rng.normal(size=X.shape),
        _graph_geodesics(np.column_stack([s_, h]), 15, np.arange(3000)),
    )
    print("unseen cases: distance Spearman vs reference geodesics")
    for name, (X, geo) in cases.items():
        n = X.shape[0]
        S = np.sort(np.random.default_rng(seed).choice(n, n_eval, replace=False))
        G = geo(S, S)
        iu = np.triu_indices(n_eval, 1)
        est = HeatGeodesicDistance(n_landmarks=500, random_state=0).fit(X)
        L = est.landmarks_
        GL = geo(S, L)
        d_sl = _sp_pairs(GL, est.transform(X[S]))
        full = HeatGeodesicDistance(n_landmarks=None, t=est.t_, random_state=0)
        D = full.fit(X).transform(X[S])[:, S]
        iso = Isomap(n_neighbors=10).fit(X).dist_matrix_
        print(
            f"  {name}: t_={est.t_:g} manigeo full SxS "
            f"{spearmanr(D[iu], G[iu]).statistic:.4f} landmark SxL {d_sl:.4f} | "
            f"isomap SxS {spearmanr(iso[np.ix_(S, S)][iu], G[iu]).statistic:.4f} "
            f"SxL {_sp_pairs(GL, iso[S][:, L]):.4f}",
            flush=True,
        )


def digits():
    from sklearn.datasets import load_digits
    from sklearn.manifold import trustworthiness
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    X, y = load_digits(return_X_y=True)
    print("== load_digits (n=1797): trustworthiness(10), 10-NN accuracy (5-fold)")
    for label, fn in (
        ("manigeo", m_manigeo),
        ("heatgeo", m_heatgeo),
        ("isomap", m_isomap),
        ("phate", m_phate),
        ("umap", m_umap),
    ):
        r = fn(X)
        if r is None:
            continue
        Y = r[1]
        tw = trustworthiness(X, Y, n_neighbors=10)
        acc = cross_val_score(KNeighborsClassifier(10), Y, y, cv=5).mean()
        print(
            f"  {label:10s} {r[0]:6.1f} s  trustworthiness {tw:.4f}  "
            f"10-NN acc {acc:.4f}",
            flush=True,
        )


#: data of --large (--large-case): noiseless Swiss roll (the default), noisy
#: S-curve, non-uniform noisy sphere (half a vMF cap, half uniform), the
#: branching tree in 50-D (exact path distances)
LARGE_CASES = ("swiss", "scurve", "sphere", "tree")


def _large_data(case, n):
    if case == "scurve":
        return scurve(n=n, seed=0)
    if case == "sphere":
        return vmf_sphere(n=n, seed=0)
    if case == "tree":
        return tree(n=n, seed=0)
    return make_swiss_roll(n, noise=0.0, random_state=0)


def _child(kind, n, case="swiss"):
    """One fit in this process (also run on another commit's checkout): JSON."""
    import json
    import resource

    from manigeo import HeatGeodesicEmbedding

    try:
        from manigeo.heat import HeatGeodesicDistance
    except ImportError:  # round 1 (c1d64b5) kept it in manigeo.embedding
        from manigeo.embedding import HeatGeodesicDistance
    X, geo = _large_data(case, n)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    t0 = time.perf_counter()
    if kind == "embedding":
        est = HeatGeodesicEmbedding(random_state=0).fit(X)
        Y = est.embedding_
    else:
        est = HeatGeodesicDistance(random_state=0)
        Y = est.fit_transform(X)
    el = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    S = np.sort(np.random.default_rng(1).choice(n, 1000, replace=False))
    if kind == "embedding":
        score = _sp(geo(S, S), squareform(pdist(Y[S])))
    else:  # distances from the sampled rows to the landmarks (or anchors)
        lm = getattr(est, "landmarks_", None)
        lm = np.arange(n) if lm is None else np.asarray(lm)
        score = spearmanr(Y[S].ravel(), geo(S, lm).ravel()).statistic
    print(
        json.dumps(
            {
                "seconds": el,
                "peak_gib": peak,
                "before_gib": before,
                "t": float(est.t_),
                "spearman": float(score),
                "path": getattr(getattr(est, "geometry_", None), "path_", "-"),
            }
        )
    )


#: stages of HeatGeodesicEmbedding.fit timed by --stages: (module, attribute,
#: label); a stage missing from a checkout (another commit) is skipped
_STAGES = (
    ("manigeo.heat._geodesic", "_Affinity.fit", "kNN + radius graph, affinity"),
    ("manigeo.heat._geodesic", "_place_landmarks", "landmark choice"),
    ("manigeo.heat._coarse", "_CoarseDiffusion.__init__", "coarse graph, spread"),
    ("manigeo.heat._geodesic", "_select_t_coarse", "t='auto' scan (coarse)"),
    ("manigeo.heat._coarse", "_CoarseDiffusion.columns", "coarse landmark columns"),
    ("manigeo.heat._geodesic", "HeatGeometry.fit", "= heat geometry, total"),
    ("manigeo.heat._geodesic", "HeatGeometry.train_distances", "(n, m) distances"),
    ("manigeo.embedding._heat_geodesic", "_cell_sizes", "cell sizes"),
    ("manigeo.embedding._heat_geodesic", "smacof", "landmark SMACOF"),
    ("manigeo.embedding._heat_geodesic", "_place", "placement"),
)


def _stages_child(n, case="swiss"):
    """Seconds per stage of one embedding fit (wrapped functions): JSON."""
    import functools
    import json

    from manigeo import HeatGeodesicEmbedding

    spent = {}
    for modname, attr, label in _STAGES:
        try:
            owner = importlib.import_module(modname)
            *path, name = attr.split(".")
            for part in path:
                owner = getattr(owner, part)
            func = getattr(owner, name)
        except (ImportError, AttributeError):
            continue

        def timed(*a, _f=func, _label=label, **k):
            t0 = time.perf_counter()
            try:
                return _f(*a, **k)
            finally:
                spent[_label] = spent.get(_label, 0.0) + time.perf_counter() - t0

        setattr(owner, name, functools.wraps(func)(timed))
    X, geo = _large_data(case, n)
    t0 = time.perf_counter()
    est = HeatGeodesicEmbedding(random_state=0).fit(X)
    spent["= embedding fit, total"] = time.perf_counter() - t0
    S = np.sort(np.random.default_rng(1).choice(n, 1000, replace=False))
    score = _sp(geo(S, S), squareform(pdist(est.embedding_[S])))
    print(json.dumps({"stages": spent, "spearman": float(score)}))


def _checkouts(commit=None):
    """``({name: source tree}, tempdir)``: this checkout, and with ``commit``
    that commit's code extracted by ``git archive`` into a temporary directory
    (kept alive by the returned handle)."""
    import os
    import subprocess
    import tempfile

    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    trees = {"this": here}
    tmp = None
    if commit:
        tmp = tempfile.TemporaryDirectory()
        arch = subprocess.run(
            ["git", "-C", here, "archive", commit], capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", tmp.name], input=arch, check=True)
        trees[commit[:7]] = tmp.name
    return trees, tmp


def stages(n, commit=None, repeat=1, case="swiss"):
    """Seconds per stage of the embedding fit at n (data of ``--large-case``:
    the Swiss roll, noise 0, by default), each fit in a fresh process; with
    ``commit`` also that commit's, interleaved, best of ``repeat`` per stage."""
    import json
    import os
    import subprocess
    import sys

    trees, tmp = _checkouts(commit)
    best = {name: {} for name in trees}
    sps = {}
    for _ in range(repeat):
        for name, path in trees.items():
            out = subprocess.run(
                [sys.executable, __file__, "--child", "stages", "--stages", str(n)]
                + ["--large-case", case],
                env=dict(os.environ, PYTHONPATH=path),
                capture_output=True,
                text=True,
                check=True,
            )
            r = json.loads(out.stdout.strip().splitlines()[-1])
            sps[name] = r["spearman"]
            for k, v in r["stages"].items():
                best[name][k] = min(v, best[name].get(k, np.inf))
    labels = [label for _, _, label in _STAGES] + ["= embedding fit, total"]
    print(f"{case} n={n}: seconds per stage (best of {repeat}, fresh process each)")
    print("  " + f"{'stage':32s}" + "".join(f"{name:>10s}" for name in trees))
    for label in labels:
        vals = [best[name].get(label) for name in trees]
        if all(v is None for v in vals):
            continue
        cells = "".join(f"{v:10.2f}" if v is not None else f"{'-':>10s}" for v in vals)
        print(f"  {label:32s}{cells}")
    print(
        "  " + f"{'embedding Spearman':32s}" + "".join(f"{sps[k]:10.4f}" for k in trees)
    )
    if tmp is not None:
        tmp.cleanup()


def _run_child(kind, n, pythonpath, case="swiss"):
    import json
    import os
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=pythonpath)
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            kind,
            "--large",
            str(n),
            "--large-case",
            case,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def large(ns, commit=None, repeat=1, kinds=("distance", "embedding"), case="swiss"):
    """Fit seconds and peak RSS, each fit in a fresh process; Swiss roll (noise
    0) or another ``case`` of :data:`LARGE_CASES`.

    With ``commit`` the same fits run on that commit's code (``git archive`` into
    a temporary directory), interleaved with this checkout's, best of
    ``repeat``; ratio = that commit's seconds / this checkout's.
    """

    trees, tmp = _checkouts(commit)
    for n in ns:
        for kind in kinds:
            best = {}
            for _ in range(repeat):
                for name, path in trees.items():
                    r = _run_child(kind, n, path, case)
                    if name not in best or r["seconds"] < best[name]["seconds"]:
                        best[name] = r
            line = f"{case} n={n} {kind:9s}"
            for name, r in best.items():
                line += (
                    f" | {name} {r['seconds']:6.1f} s peak {r['peak_gib']:.2f} GiB "
                    f"t_={r['t']:g} sp {r['spearman']:.4f} ({r['path']})"
                )
            if commit:
                ratio = best[commit[:7]]["seconds"] / best["this"]["seconds"]
                line += f" | ratio {commit[:7]}/this {ratio:.2f}"
            print(line, flush=True)
    if tmp is not None:
        tmp.cleanup()


def vs_full(n, small=(2500, 4000)):
    """Landmark mode at n against full mode, timed at ``small`` sizes (the dense
    n x n kernel does not fit at n = 20000) and extrapolated by the fitted power
    of n; Swiss roll, noise 0.5, distances (``HeatGeodesicDistance.fit``)."""
    from manigeo.heat import HeatGeodesicDistance

    def fit(size, lm):
        X, _ = swiss(size)
        t0 = time.perf_counter()
        est = HeatGeodesicDistance(n_landmarks=lm, random_state=0).fit(X)
        return time.perf_counter() - t0, est

    t_lm, est = fit(n, "auto")
    full = [fit(k, None)[0] for k in small]
    power = np.log(full[1] / full[0]) / np.log(small[1] / small[0])
    est_full = full[1] * (n / small[1]) ** power
    print(
        f"swiss n={n}: landmark mode {t_lm:.1f} s ({est.geometry_.path_} path, "
        f"{len(est.landmarks_)} landmarks, t_={est.t_:g}); full mode "
        + ", ".join(f"n={k} {v:.1f} s" for k, v in zip(small, full, strict=True))
        + f" -> n^{power:.2f} -> {est_full:.0f} s at n={n} (extrapolated); "
        f"ratio full/landmark {est_full / t_lm:.0f}"
    )


def coarse_check(n, cases=("scurve", "sphere"), t=128.0):
    """The coarse path against the exact columns on the same data, landmarks and
    t (the private budget forced both ways): Spearman of the landmark distances
    against exact geodesics, seconds, median coarse/exact distance ratio."""
    import manigeo.heat._geodesic as geodesic
    from manigeo.heat import HeatGeodesicDistance

    makers = {"scurve": scurve, "sphere": vmf_sphere, "tree": tree}
    budget = geodesic._EXACT_BUDGET
    for name in cases:
        X, geo = makers[name](n)
        out = {}
        for path, b in (("exact", np.inf), ("coarse", 0.0)):
            geodesic._EXACT_BUDGET = b
            t0 = time.perf_counter()
            est = HeatGeodesicDistance(n_landmarks=500, t=t, random_state=0).fit(X)
            out[path] = (time.perf_counter() - t0, est)
        geodesic._EXACT_BUDGET = budget
        L = out["exact"][1].landmarks_
        iu = np.triu_indices(len(L), 1)
        G = geo(L, L)[iu]
        a, c = (out[p][1].heat_distances_[iu] for p in ("exact", "coarse"))
        print(
            f"{name} n={n} t={t:g}: exact {out['exact'][0]:.1f} s spearman "
            f"{spearmanr(a, G).statistic:.4f} | coarse {out['coarse'][0]:.1f} s "
            f"spearman {spearmanr(c, G).statistic:.4f} | coarse/exact distance "
            f"{np.median(c / a):.3f}",
            flush=True,
        )


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--speed", action="store_true")
    p.add_argument("--heldout", action="store_true")
    p.add_argument("--unseen", action="store_true", help="cases tuned on by no one")
    p.add_argument("--large", default="", help="sizes, e.g. 10000,100000")
    p.add_argument(
        "--compare-commit", default=None, help="with --large: also time this commit"
    )
    p.add_argument("--repeat", type=int, default=1, help="with --large: best of k")
    p.add_argument(
        "--kinds", default="distance,embedding", help="with --large: what to fit"
    )
    p.add_argument(
        "--large-case", default="swiss", choices=LARGE_CASES, help="data of --large"
    )
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    p.add_argument(
        "--stages", type=int, default=0, help="seconds per embedding stage at this n"
    )
    p.add_argument(
        "--coarse-check", type=int, default=0, help="coarse vs exact path at this n"
    )
    p.add_argument("--coarse-cases", default="scurve,sphere")
    p.add_argument(
        "--vs-full", type=int, default=0, help="landmark vs full mode at this n"
    )
    p.add_argument("--n", default="500,1000,2000,2001,4000", help="sizes of --speed")
    p.add_argument("--seed", type=int, default=0, help="data seed of --heldout")
    p.add_argument("--kappa", type=float, default=4.0, help="vMF cap of --heldout")
    p.add_argument(
        "--peers",
        default="heatgeo,isomap,phate,umap,digits",
        help="with --heldout: peers to run (and 'digits' for load_digits)",
    )
    a = p.parse_args(argv)
    if a.child == "stages":
        _stages_child(a.stages, a.large_case)
        return
    if a.child:
        _child(a.child, int(a.large), a.large_case)
        return
    if a.stages:
        stages(a.stages, a.compare_commit, a.repeat, a.large_case)
    if a.large:
        large(
            [int(v) for v in a.large.split(",")],
            a.compare_commit,
            a.repeat,
            tuple(a.kinds.split(",")),
            a.large_case,
        )
    if a.vs_full:
        vs_full(a.vs_full)
    if a.coarse_check:
        coarse_check(a.coarse_check, tuple(a.coarse_cases.split(",")))
    if a.unseen:
        unseen(seed=a.seed)
    if a.heldout:
        heldout(seed=a.seed, kappa=a.kappa, peers=tuple(a.peers.split(",")))
    if a.speed or not (
        a.large or a.heldout or a.unseen or a.vs_full or a.coarse_check or a.stages
    ):
        speed(tuple(int(v) for v in a.n.split(",")))


if __name__ == "__main__":
    main()
