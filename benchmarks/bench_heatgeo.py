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
    python benchmarks/bench_heatgeo.py --large 100000   # manigeo alone
"""

import argparse
import importlib
import time
import warnings

import numpy as np
from scipy.spatial.distance import cdist, pdist, squareform
from scipy.stats import spearmanr

from manigeo import HeatGeodesicEmbedding
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


def heldout(n_eval=1500, seed=0, kappa=4.0):
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
    digits()


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


def large(n):
    """manigeo alone at large n: wall time and peak resident memory."""
    import resource

    X, geo = swiss(n, noise=0.0)
    el, Y, est = m_manigeo(X)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    S = np.sort(np.random.default_rng(1).choice(n, 1000, replace=False))
    print(
        f"swiss n={n}: manigeo {el:.1f} s, peak RSS {peak:.2f} GiB, t_={est.t_:g}, "
        f"embedding spearman {_sp(geo(S), squareform(pdist(Y[S]))):.4f}"
    )


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--speed", action="store_true")
    p.add_argument("--heldout", action="store_true")
    p.add_argument("--large", type=int, default=0)
    p.add_argument("--n", default="500,1000,2000,2001,4000", help="sizes of --speed")
    p.add_argument("--seed", type=int, default=0, help="data seed of --heldout")
    p.add_argument("--kappa", type=float, default=4.0, help="vMF cap of --heldout")
    a = p.parse_args(argv)
    if a.large:
        large(a.large)
    if a.heldout:
        heldout(seed=a.seed, kappa=a.kappa)
    if a.speed or not (a.large or a.heldout):
        speed(tuple(int(v) for v in a.n.split(",")))


if __name__ == "__main__":
    main()
