"""
======================================================
Common-neighbour similarity vs edge length on a sphere
======================================================

In a random geometric graph two adjacent nodes share more neighbours the
closer they are: their neighbourhoods are balls whose overlap (a *lens*)
shrinks as the centres move apart.  We sample a hard-threshold RGG on the unit
sphere :math:`S^2`, compute the common-neighbour counts on the edges with the
masked product :func:`manigeo.graphs.common_neighbors` and the cosine
similarity with the pair removed,
:math:`s_{ij} = C_{ij}/\\sqrt{(k_i-1)(k_j-1)}`
(:func:`manigeo.graphs.neighbor_similarity`), and compare it with the
normalized lens area :math:`\\varphi_2(u) = \\bigl(2\\arccos(u/2) -
(u/2)\\sqrt{4-u^2}\\bigr)/\\pi` of two unit discs at distance :math:`u = t/r`.
"""

# License: BSD-3-Clause

import time

import matplotlib.pyplot as plt
import numpy as np

from manigeo.datasets import make_sphere, sample_rgg
from manigeo.graphs import common_neighbors, neighbor_similarity

rs = np.random.RandomState(3)

# %%
# A sphere RGG at the reference scaling ``r = 2.5 n^{-1/4}``
n = 6000
radius = 2.5 * n ** (-1 / 4)
X, geo = make_sphere(n, random_state=rs)
A = sample_rgg(X, radius, geodesic=geo, random_state=rs)
k = np.diff(A.indptr)
print(f"{n} nodes, {A.nnz // 2} edges, mean degree {k.mean():.1f}")

# %%
# Common-neighbour counts on the edges only: the output has exactly the
# pattern of ``A`` (edges without a common neighbour are explicit zeros), and
# the backends give the same integers (``backend="torch"`` as well, on CPU or
# CUDA; it is meant for GPUs and is the slowest of the three on a CPU).
for backend in ("graphblas", "scipy"):
    t0 = time.perf_counter()
    C = common_neighbors(A, mask="edges", backend=backend)
    print(
        f"{backend:>10}: {time.perf_counter() - t0:.3f} s, "
        f"{C.nnz} entries, total {C.data.sum():.0f}"
    )
assert np.array_equal(C.indices, A.indices)

# %%
# Cosine similarity with the pair removed, against the edge length ``t/r``.
S = neighbor_similarity(A, "cosine")
rows = np.repeat(np.arange(n), k)
u = geo.paired(rows, A.indices) / radius
bins = np.linspace(0, 1, 21)
centers = 0.5 * (bins[1:] + bins[:-1])
which = np.clip(np.digitize(u, bins) - 1, 0, len(centers) - 1)
mean_s = np.bincount(which, S.data, len(centers)) / np.bincount(
    which, minlength=len(centers)
)
grid = np.linspace(0, 1, 200)
lens = (2 * np.arccos(grid / 2) - grid / 2 * np.sqrt(4 - grid**2)) / np.pi

fig, ax = plt.subplots(1, 2, figsize=(10, 4))
pick = rs.choice(len(u), 4000, replace=False)
ax[0].scatter(u[pick], S.data[pick], s=3, alpha=0.3, label="edges")
ax[0].plot(centers, mean_s, "o-", color="C1", label="binned mean")
ax[0].plot(grid, lens, "k--", label=r"lens area $\varphi_2(t/r)$")
ax[0].set_xlabel("edge length t / r")
ax[0].set_ylabel("cosine similarity (pair removed)")
ax[0].legend()

# %%
# The distribution of the similarity over short and long edges.
ax[1].hist(S.data[u < 0.5], bins=40, alpha=0.6, density=True, label="t/r < 0.5")
ax[1].hist(S.data[u >= 0.5], bins=40, alpha=0.6, density=True, label="t/r >= 0.5")
ax[1].set_xlabel("cosine similarity")
ax[1].set_ylabel("density")
ax[1].legend()
fig.tight_layout()
plt.show()

# %%
# The binned means follow the lens curve (up to the curvature of the sphere,
# an :math:`O(r^2)` effect): inverting it gives an edge-length estimate, which
# is what :class:`manigeo.RGGMetric` does.
gap = np.abs(mean_s - np.interp(centers, grid, lens)).max()
print(f"max |binned mean - lens area|: {gap:.4f}")
