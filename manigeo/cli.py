"""The ``manigeo`` command line.

``manigeo demo`` samples a random geometric graph on the unit sphere and prints
how far graph geodesics are from the exact great-circle distances.
"""

import argparse
import sys
import time

import numpy as np


def _demo(args):
    from ._validation import largest_component
    from .datasets import make_sphere, sample_rgg
    from .geodesics import shortest_paths
    from .metrics import error_summary, geodesic_correlation

    t0 = time.perf_counter()
    n = args.n_samples
    # the reference scaling r = c n^{-1/(d+2)} of ../shared/reference/rgg.md
    radius = args.radius if args.radius is not None else 2.5 * n ** (-1 / 4)
    X, geo = make_sphere(n, random_state=args.seed)
    A = sample_rgg(X, radius, geodesic=geo, keep=args.keep, random_state=args.seed)
    giant, n_comp = largest_component(A)
    print(
        f"sphere RGG: n={n} nodes, radius={radius:.4f}, keep={args.keep:g}, "
        f"{A.nnz // 2} edges, mean degree {A.nnz / n:.1f}, {n_comp} component(s)"
    )
    rng = np.random.default_rng(args.seed)
    sources = rng.choice(giant, size=min(args.n_sources, len(giant)), replace=False)
    sub = A[giant][:, giant]
    pos = np.searchsorted(giant, sources)
    hops = shortest_paths(sub, pos, unweighted=True)
    D_hop = radius * hops
    D_true = geo(sources, giant)
    far = D_true > 0
    s = error_summary(D_true[far], D_hop[far])
    print(
        f"hop-count x r geodesics vs exact great-circle distances over "
        f"{far.sum()} pairs from {len(sources)} sources:"
    )
    print(
        f"  median abs error {s['median_abs']:.4f}, p95 {s['p95_abs']:.4f}, "
        f"max {s['max_abs']:.4f}, mean relative bias {s['mean_signed_rel']:+.2%}"
    )
    print(f"  Spearman {geodesic_correlation(D_true[far], D_hop[far]):.4f}")
    try:
        from .metric import RGGMetric
    except ImportError:
        RGGMetric = None
    if RGGMetric is not None:
        est = RGGMetric(dimension=2, n_landmarks=min(n, 64), random_state=args.seed)
        est.fit(sub)
        D_rgg = est.geodesic_distances(pos) * radius
        s2 = error_summary(D_true[far], D_rgg[far])
        print(
            f"RGGMetric (common neighbours) geodesics: median abs error "
            f"{s2['median_abs']:.4f}, p95 {s2['p95_abs']:.4f}, "
            f"{s['median_abs'] / s2['median_abs']:.1f}x below hop count"
        )
    print(f"done in {time.perf_counter() - t0:.1f} s")
    return 0


def build_parser():
    """Return the argument parser of the ``manigeo`` command."""
    parser = argparse.ArgumentParser(prog="manigeo", description=__doc__.split("\n")[0])
    from . import __version__

    parser.add_argument("--version", action="version", version=f"manigeo {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="sphere RGG: graph vs exact geodesics")
    demo.add_argument("--n-samples", type=int, default=4000)
    demo.add_argument(
        "--radius",
        type=float,
        default=None,
        help="connection radius (default 2.5 n^{-1/4})",
    )
    demo.add_argument(
        "--keep", type=float, default=1.0, help="probability that each edge is kept"
    )
    demo.add_argument("--n-sources", type=int, default=50)
    demo.add_argument("--seed", type=int, default=0)
    demo.set_defaults(func=_demo)
    return parser


def main(argv=None):
    """Entry point of the ``manigeo`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError) as exc:
        print(f"manigeo: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
