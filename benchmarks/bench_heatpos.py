"""CPU seconds of the n x m distances and the placement of HeatGeodesicEmbedding.

The part of ``HeatGeodesicEmbedding.fit`` after the heat geometry and the
landmark SMACOF: the distances of the non-landmark samples to the landmarks,
the cell sizes (nearest landmark of each sample) and the placement of every
non-landmark sample.  Each checkout runs in a fresh process, interleaved, best
of ``--repeat``; the geometry and the landmark embedding are fitted first (not
timed), then the part is timed in CPU seconds of the process (user + system:
less sensitive than wall time to other jobs on a shared machine) and in wall
seconds.  The embeddings of the checkouts are compared (largest difference
over the extent).

Usage::

    python benchmarks/bench_heatpos.py --n 100000 --compare-commit main --repeat 3
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np


def _child(n, out):
    from manigeo import HeatGeodesicDistance
    from manigeo.datasets import make_swiss_roll
    from manigeo.embedding import _heat_geodesic as heg
    from manigeo.embedding import smacof

    X, _ = make_swiss_roll(n, noise=0.0, random_state=0)
    est = heg.HeatGeodesicEmbedding(random_state=0)
    dist = HeatGeodesicDistance(**est._distance_params()).fit(X)
    geom = dist.geometry_
    lm = dist.landmarks_
    m = len(lm)
    rest = np.setdiff1d(np.arange(n), lm)
    blockwise = hasattr(geom, "distance_blocks")

    def clock():
        r = resource.getrusage(resource.RUSAGE_SELF)
        return np.array([time.perf_counter(), r.ru_utime + r.ru_stime])

    # the cell sizes are needed by the SMACOF before the placement: time them
    # with it, the SMACOF's own seconds taken off
    a = clock()
    if blockwise:
        masses = heg._cell_sizes(geom, m)
    else:
        D = geom.train_distances()
        masses = heg._cell_sizes(D, lm)
    b = clock()
    Y = smacof(dist.heat_distances_, 2, weights=masses)
    c = clock()
    if blockwise:
        emb = heg._place(geom.distance_blocks(rest), Y, masses, rows=rest)
    else:
        emb = heg._place(D, Y, masses, rows=rest)
    d = clock()
    np.save(out, emb)
    wall, cpu = (b - a) + (d - c)
    print(json.dumps({"wall": float(wall), "cpu": float(cpu)}))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=100000)
    p.add_argument("--compare-commit", default=None)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        _child(a.n, a.child)
        return
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    trees = {"this": here}
    tmp = tempfile.TemporaryDirectory()
    if a.compare_commit:
        arch = subprocess.run(
            ["git", "-C", here, "archive", a.compare_commit],
            capture_output=True,
            check=True,
        ).stdout
        src = os.path.join(tmp.name, "src")
        os.makedirs(src)
        subprocess.run(["tar", "-x", "-C", src], input=arch, check=True)
        trees[a.compare_commit[:7]] = src
    best = {name: {"wall": np.inf, "cpu": np.inf} for name in trees}
    for _ in range(a.repeat):
        for name, path in trees.items():
            out = os.path.join(tmp.name, f"{name}.npy")
            r = subprocess.run(
                [sys.executable, __file__, "--n", str(a.n), "--child", out],
                env=dict(os.environ, PYTHONPATH=path),
                capture_output=True,
                text=True,
                check=True,
            )
            res = json.loads(r.stdout.strip().splitlines()[-1])
            for k in ("wall", "cpu"):
                best[name][k] = min(best[name][k], res[k])
    print(f"swiss n={a.n}: distances + cell sizes + placement (best of {a.repeat})")
    for name, v in best.items():
        print(f"  {name:8s} cpu {v['cpu']:6.2f} s  wall {v['wall']:6.2f} s")
    if a.compare_commit:
        this, other = (best[k] for k in trees)
        print(
            f"  ratio this/{a.compare_commit[:7]}: cpu {this['cpu'] / other['cpu']:.2f}"
            f"  wall {this['wall'] / other['wall']:.2f}"
        )
        e = [np.load(os.path.join(tmp.name, f"{k}.npy")) for k in trees]
        ext = np.ptp(e[1], axis=0).max()
        print(f"  embeddings: largest difference {np.abs(e[0] - e[1]).max() / ext:.1e}")
    tmp.cleanup()


if __name__ == "__main__":
    main()
