"""
=========================================
Heat-geodesic embedding of a Swiss roll
=========================================

:class:`~manigeo.HeatGeodesicEmbedding` diffuses heat on a kNN graph, reads
geodesic distances off the heat kernel with Varadhan's formula
``d_t^2 = -4t log(H_t(i, j) / sqrt(H_t(i, i) H_t(j, j)))`` and embeds them by
metric MDS (SMACOF).  We unroll a Swiss roll, check how well the embedding
preserves the exact geodesic distances, look at the automatic choice of the
diffusion time, and run the landmark mode on a larger sample.
"""

# %%
# Data and embedding
# ------------------
# ``make_swiss_roll`` returns the points and their exact geodesic distances
# (the roll is isometric to a rectangle).
import time

import matplotlib.pyplot as plt
import numpy as np
from scipy.spatial.distance import pdist, squareform

from manigeo import HeatGeodesicEmbedding
from manigeo.datasets import make_swiss_roll
from manigeo.metrics import geodesic_correlation

X, geo = make_swiss_roll(1000, random_state=0)
est = HeatGeodesicEmbedding(n_neighbors=10, random_state=0)
Y = est.fit_transform(X)
s = geo.coordinates[:, 0]
print(f"t_ = {est.t_:g}, SMACOF stress-1 = {est.stress_:.3f}")

fig = plt.figure(figsize=(10, 4))
ax = fig.add_subplot(1, 2, 1, projection="3d")
ax.scatter(*X.T, c=s, s=4, cmap="viridis")
ax.set_title("Swiss roll (colour: arc length)")
ax = fig.add_subplot(1, 2, 2)
ax.scatter(*Y.T, c=s, s=4, cmap="viridis")
ax.set_aspect("equal")
ax.set_title("heat-geodesic embedding")
plt.tight_layout()

# %%
# Geodesic preservation
# ---------------------
# Spearman correlation between embedding distances and exact geodesics, for
# the heat distances themselves and for the 2-D embedding.
G = geo(None, None)
print("heat distances :", round(geodesic_correlation(G, est.heat_distances_), 4))
print("2-D embedding  :", round(geodesic_correlation(G, squareform(pdist(Y))), 4))

# %%
# Choice of the diffusion time
# ----------------------------
# ``t="auto"`` doubles ``t`` and scores each time by the linearity (Pearson)
# between heat distances and graph path lengths between 48 probe points.
# Too small a ``t`` gives hop-count-like distances, too large a ``t`` mixes
# the whole graph and saturates far distances.
ts = np.array(sorted(est.t_scores_))
plt.figure(figsize=(5, 3))
plt.semilogx(ts, [est.t_scores_[t] for t in ts], "o-", base=2)
plt.axvline(est.t_, color="k", ls="--", label=f"t_ = {est.t_:g}")
plt.xlabel("diffusion time t")
plt.ylabel("linearity score")
plt.legend()
plt.tight_layout()

# %%
# Landmark mode
# -------------
# Above 2000 samples the heat kernel is diffused from 500 farthest-point
# landmarks on the full graph (exact columns, so the distances to the
# landmarks are those of the full mode); SMACOF embeds the landmarks and every
# other sample is placed by its own stress against them.  No ``n x n`` array
# is formed.
X2, geo2 = make_swiss_roll(3000, random_state=1)
t0 = time.perf_counter()
Y2 = HeatGeodesicEmbedding(random_state=0).fit_transform(X2)
print(f"n = 3000: {time.perf_counter() - t0:.1f} s")
sub = np.random.default_rng(0).choice(len(X2), 1500, replace=False)
print(
    "Spearman on 1500 random points:",
    round(geodesic_correlation(geo2(sub, sub), squareform(pdist(Y2[sub]))), 4),
)
plt.figure(figsize=(5, 3))
plt.scatter(*Y2.T, c=geo2.coordinates[:, 0], s=1, cmap="viridis")
plt.gca().set_aspect("equal")
plt.title("n = 3000, landmark mode")
plt.tight_layout()
plt.show()
