"""
==========================================
The connection Laplacian of the sphere S^2
==========================================

:class:`manigeo.ConnectionLaplacian` estimates a tangent frame at every sample
by local PCA and an orthogonal transport along every kNN edge (Procrustes
alignment of the two frames).  The resulting O(2)-bundle Laplacian approximates
the connection Laplacian :math:`\\nabla^*\\nabla` on vector fields, whose
spectrum on the unit sphere is :math:`\\ell(\\ell+1) - 1` with multiplicity
:math:`2(2\\ell+1)` (6, 10, 14, ...), while the graph Laplacian of the same
graph approximates the Laplace-Beltrami operator on functions,
:math:`\\ell(\\ell+1)` with multiplicity :math:`2\\ell+1` (1, 3, 5, 7, ...).
"""

# License: BSD-3-Clause

import matplotlib.pyplot as plt
import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import eigsh

from manigeo import ConnectionLaplacian
from manigeo.datasets import make_sphere
from manigeo.graphs import laplacian

rs = np.random.RandomState(17)

# %%
# Frames, transports and the Laplacian
# ------------------------------------
X, _ = make_sphere(4000, random_state=rs)
cl = ConnectionLaplacian(n_neighbors=10, random_state=0).fit(X)
n, d = X.shape[0], cl.dimension_
print(
    f"estimated dimension {d}; Laplacian {cl.laplacian_.shape}, nnz {cl.laplacian_.nnz}"
)
print(
    f"reflections among the transports: "
    f"{np.mean(np.linalg.det(cl.transports_) < 0):.0%} (PCA frames have "
    "arbitrary orientation)"
)
print(
    f"orientability score {cl.orientability_.score:.1e} -> orientable: "
    f"{cl.orientability_.is_orientable}"
)

# %%
# Low spectra: vector fields and functions
# ----------------------------------------
v0 = np.ones(n * d)
lam_vec, U = eigsh(sp.csc_matrix(cl.laplacian_), k=30, sigma=-1e-3, v0=v0)
W = sp.csr_array((cl.edge_weight_, tuple(cl.edge_index_)), shape=(n, n))
lam_fun = eigsh(
    sp.csc_matrix(laplacian(W, "symmetric")),
    k=16,
    sigma=-1e-3,
    v0=np.ones(n),
    return_eigenvectors=False,
)
lam_vec, lam_fun = np.sort(lam_vec), np.sort(lam_fun)

ell = np.arange(1, 4)
theory_vec = np.repeat(ell * (ell + 1) - 1, 2 * (2 * ell + 1))
ell0 = np.arange(0, 4)
theory_fun = np.repeat(ell0 * (ell0 + 1), 2 * ell0 + 1)

fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
axes[0].plot(lam_vec / lam_vec[:6].mean(), "o", label="connection Laplacian")
axes[0].plot(theory_vec, "k_", ms=12, label=r"$\ell(\ell+1)-1$")
axes[0].set_title("vector fields: 6, 10, 14")
axes[1].plot(
    lam_fun / lam_fun[1:4].mean() * 2, "o", color="C1", label="graph Laplacian"
)
axes[1].plot(theory_fun, "k_", ms=12, label=r"$\ell(\ell+1)$")
axes[1].set_title("functions: 1, 3, 5, 7")
for ax in axes:
    ax.set_xlabel("index")
    ax.legend()
axes[0].set_ylabel("eigenvalue (scaled to the first cluster)")
fig.tight_layout()

# %%
# A low-frequency vector field
# ----------------------------
# Eigenvectors of the connection Laplacian hold frame coordinates; mapping them
# through the frames gives tangent vectors in R^3.  The lowest ones are the
# gradient and rotated-gradient fields of the l = 1 harmonics.
coords = U[:, np.argsort(lam_vec)[0]].reshape(n, d)
V = np.einsum("npa,na->np", cl.frames_, coords)
V *= 0.2 / np.linalg.norm(V, axis=1).max()
keep = rs.choice(n, 500, replace=False)
fig = plt.figure(figsize=(5, 5))
ax = fig.add_subplot(projection="3d")
ax.scatter(*X[keep].T, s=2, color="0.6")
ax.quiver(*X[keep].T, *V[keep].T, linewidth=0.8)
ax.set_box_aspect((1, 1, 1))
ax.set_title("lowest eigenvector as a tangent field")
ax.set_axis_off()
plt.show()

# %%
# Vector diffusion map
# --------------------
# :meth:`~manigeo.ConnectionLaplacian.spectral_embedding` returns the vector
# diffusion map of Singer and Wu; its top eigenvalues come in the same
# clusters.
emb, mu = cl.spectral_embedding(6, return_eigenvalues=True)
print("top eigenvalues of D^-1/2 S D^-1/2:", np.round(mu, 4))
print("embedding shape:", emb.shape)
