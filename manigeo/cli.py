"""The manigeo command line.

manigeo demo samples a random geometric graph on the unit sphere and measures
how far distances read off the graph are from the exact great-circle
distances: first by counting hops, then with RGGMetric (shared neighbours).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

import numpy as np

#: fewest nodes the demo accepts (below this a graph has no pairs to compare)
MIN_SAMPLES = 3

NEXT_STEP = (
    "Next step: reconstruct distances from your own graph's adjacency matrix A\n"
    '  python -c "from manigeo import RGGMetric; help(RGGMetric)"\n'
    "  (then RGGMetric(radius=r).fit(A).geodesic_distances([0, 1, 2]))"
)


def _positive_int(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected an integer, got {text!r}"
            ) from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def _demo(args: argparse.Namespace) -> int:
    from ._validation import largest_component
    from .datasets import make_sphere, sample_rgg
    from .geodesics import shortest_paths
    from .metrics import error_summary, geodesic_correlation
    from .rgg import RGGMetric

    t0 = time.perf_counter()
    n = args.n_samples
    # the reference scaling r = c n^{-1/(d+2)} for a d = 2 manifold
    radius = args.radius if args.radius is not None else 2.5 * n ** (-1 / 4)
    X, geo = make_sphere(n, random_state=args.seed)
    A = sample_rgg(X, radius, geodesic=geo, keep=args.keep, random_state=args.seed)
    giant, n_comp = largest_component(A)
    kept = ""
    if args.keep != 1:
        kept = f", then deleted each edge with probability {1 - args.keep:g}"
    print(
        f"Sampled {n} random points on the unit sphere and joined every pair "
        f"closer than r = {radius:.4f}{kept}.\n"
        f"The graph has {A.nnz // 2} edges, {A.nnz / n:.1f} neighbours per point "
        f"on average, {n_comp} connected piece(s); the largest has "
        f"{len(giant)} points."
    )
    if len(giant) < 2:
        print(
            "No two points are connected, so there is nothing to measure: "
            "use more points (--n-samples) or a larger --radius."
        )
        return 0
    rng = np.random.default_rng(args.seed)
    sources = rng.choice(giant, size=min(args.n_sources, len(giant)), replace=False)
    sub = A[giant][:, giant]
    pos = np.searchsorted(giant, sources)
    D_hop = radius * shortest_paths(sub, pos, unweighted=True)
    D_true = geo(sources, giant)
    far = D_true > 0
    s = error_summary(D_true[far], D_hop[far])
    rho = geodesic_correlation(D_true[far], D_hop[far])
    print(
        f"\n1. Counting hops: the distance between two points was estimated as "
        f"(edges on the shortest path) x r\n   and compared with the true distance "
        f"along the sphere for {far.sum()} pairs.\n"
        f"   Typical error {s['median_abs']:.4f} (median), 95% of errors below "
        f"{s['p95_abs']:.4f}, largest {s['max_abs']:.4f};\n"
        f"   on average the estimate is {abs(s['mean_signed_rel']):.1%} too "
        f"{'long' if s['mean_signed_rel'] >= 0 else 'short'}. Rank agreement with "
        f"the truth (Spearman, 1 = same order): {rho:.4f}."
    )
    est = RGGMetric(
        dimension=2,  # a sphere is a surface
        radius=radius,
        n_landmarks=min(len(giant), 64),
        random_state=args.seed,
    )
    try:
        est.fit(sub)
    except ValueError as exc:
        print(
            "\n2. RGGMetric was skipped: it needs a denser graph than this one "
            f"({exc}).\n   Try the default --n-samples 4000."
        )
    else:
        D_rgg = est.geodesic_distances(pos)
        s2 = error_summary(D_true[far], D_rgg[far])
        ratio = s["median_abs"] / max(s2["median_abs"], 1e-300)
        print(
            "\n2. RGGMetric re-estimated the same distances from the adjacency "
            "matrix alone (neighbours shared\n   by the two ends of each edge, "
            f"no coordinates): typical error {s2['median_abs']:.4f}, 95% below "
            f"{s2['p95_abs']:.4f},\n   {ratio:.1f} times smaller than counting "
            f"hops (estimated share of edges kept: {est.edge_keep_rate_:.2f})."
        )
    print(f"\nDone in {time.perf_counter() - t0:.1f} s.\n{NEXT_STEP}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``manigeo`` command.

    Examples
    --------
    >>> from manigeo.cli import build_parser
    >>> build_parser().parse_args(["demo", "--n-samples", "500"]).n_samples
    500
    """
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="manigeo",
        description="manigeo: geometry and manifold learning. "
        "Run 'manigeo demo' to see what it measures.",
    )
    parser.add_argument("--version", action="version", version=f"manigeo {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    demo = sub.add_parser(
        "demo",
        help="random geometric graph on the sphere: graph distances vs exact ones",
        description=" ".join(__doc__.split("\n\n")[1].split()),
    )
    demo.add_argument(
        "--n-samples",
        type=_positive_int(MIN_SAMPLES),
        default=4000,
        help=f"number of random points on the sphere, at least {MIN_SAMPLES} "
        "(default 4000)",
    )
    demo.add_argument(
        "--radius",
        type=float,
        default=None,
        help="connection radius: points closer than this are joined "
        "(default 2.5 / n to the power 1/4)",
    )
    demo.add_argument(
        "--keep",
        type=float,
        default=1.0,
        help="probability that each edge is kept, in (0, 1] (default 1)",
    )
    demo.add_argument(
        "--n-sources",
        type=_positive_int(1),
        default=50,
        help="points whose distances to all others are compared (default 50)",
    )
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.set_defaults(func=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``manigeo`` command.

    Parameters
    ----------
    argv : sequence of str or None, default=None
        Arguments (``None``: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 2 on bad input (with a message on stderr).

    Examples
    --------
    >>> from manigeo.cli import main
    >>> main(["demo", "--n-samples", "600", "--keep", "2"])
    2
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError) as exc:
        print(f"manigeo: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
