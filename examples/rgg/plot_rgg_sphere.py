"""
=====================================================
Geodesic distances on the sphere from adjacency alone
=====================================================

Sample points on the unit sphere, join those closer than ``r`` (a random
geometric graph), forget the points, and recover the great-circle distances
from the adjacency matrix with :class:`manigeo.RGGMetric`.  A second graph
loses 40 % of its edges at random (the keep rate is estimated, not given).
Hop count times ``r`` is the classical baseline.
"""

# %%
# Two graphs on the same points
# -----------------------------
import matplotlib.pyplot as plt
import numpy as np

from manigeo import RGGMetric
from manigeo.datasets import make_sphere, sample_rgg
from manigeo.geodesics import shortest_paths

n = 3000
r = 2.5 * n**-0.25  # reference scaling r = c n^(-1/(d+2))
X, geo = make_sphere(n, random_state=0)
graphs = {
    "all edges": sample_rgg(X, r, geodesic=geo, random_state=0),
    "40 % of edges missing": sample_rgg(X, r, geodesic=geo, keep=0.6, random_state=0),
}
rng = np.random.default_rng(0)
sources = rng.choice(n, size=10, replace=False)
D_true = geo(sources, None)

# %%
# Fit on the adjacency matrix only
# --------------------------------
# ``radius=r`` only sets the unit of the output; without it distances come in
# units of r.  The dimension is estimated from the common-neighbour counts.
results = {}
for name, A in graphs.items():
    est = RGGMetric(radius=r, n_landmarks=32, random_state=0).fit(A)
    D_est = est.geodesic_distances(sources)
    D_hop = shortest_paths(A, sources, unweighted=True) * r
    results[name] = (D_est, D_hop)
    err = np.abs(D_est - D_true)[D_true > 0]
    hop = np.abs(D_hop - D_true)[D_true > 0]
    print(
        f"{name}: mean degree {A.nnz / n:.0f}, dimension {est.dimension_}, "
        f"keep rate {est.edge_keep_rate_:.3f}, median error {np.median(err):.4f} "
        f"(hop count {np.median(hop):.4f})"
    )

# %%
# Estimated against exact distances
# ---------------------------------
fig, axes = plt.subplots(1, 2, figsize=(10, 4.6), sharey=True)
pick = rng.choice(D_true.size, size=6000, replace=False)
for ax, (name, (D_est, D_hop)) in zip(axes, results.items(), strict=False):
    ax.scatter(
        D_true.ravel()[pick], D_hop.ravel()[pick], s=2, c="0.7", label="hop count x r"
    )
    ax.scatter(
        D_true.ravel()[pick], D_est.ravel()[pick], s=2, c="C0", label="RGGMetric"
    )
    ax.plot([0, np.pi], [0, np.pi], "k--", lw=1)
    ax.set_title(name)
    ax.set_xlabel("exact great-circle distance")
    ax.legend(loc="upper left", markerscale=4)
axes[0].set_ylabel("estimated distance")
fig.tight_layout()
plt.show()
