"""
=========================================================
Sheaf diffusion vs GCN on a heterophilic synthetic graph
=========================================================

A contextual stochastic block model (CSBM) with three classes in which most
edges join *different* classes.  A GCN averages each node with its neighbours;
here the neighbourhood average of the class means cancels the node's own
signal, so the GCN can only use what survives the averaging.  Neural sheaf
diffusion (Bodnar et al., 2022) learns a restriction map per edge and can flip
or rescale what flows along it.  We train, on the same splits:

* an MLP (features only),
* a two-layer GCN (a few lines of plain torch),
* NSD with learned diagonal maps (:class:`manigeo.nn.SheafDiffusion`),
* Conn-NSD: the same layer with a *fixed* O(d) sheaf computed once from the
  node features by :class:`manigeo.ConnectionLaplacian` (Barbero et al.).
"""

# License: BSD-3-Clause

import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from manigeo import ConnectionLaplacian
from manigeo.nn import SheafDiffusion

rs = np.random.RandomState(17)
torch.manual_seed(17)
torch.set_num_threads(1)  # small graphs: one thread is fastest
warnings.filterwarnings("ignore", message="Sparse CSR tensor support")

# %%
# A heterophilic CSBM
# -------------------
# ``n`` nodes in ``C`` classes, expected degree ``deg``; a fraction ``h`` of each
# node's edges stays inside its class (``h = 1 / C`` would be random).  Features
# are the class mean plus Gaussian noise.  With ``deg = 10`` and ``h = 0.27``
# the class means of a node and of its neighbours sum to about zero, the case
# where mean aggregation hurts most.
n, C, deg, h, n_features = 900, 3, 10, 0.27, 16
y = rs.randint(C, size=n)
p_in = h * deg / (n / C)
p_out = (1 - h) * deg / (n - n / C)
same = y[:, None] == y[None, :]
upper = np.triu(rs.uniform(size=(n, n)) < np.where(same, p_in, p_out), 1)
A = (upper | upper.T).astype(float)
src, dst = np.nonzero(A)
means = rs.normal(size=(C, n_features))
means -= means.mean(axis=0)
means *= 0.9 / np.linalg.norm(means, axis=1, keepdims=True)
X = means[y] + rs.normal(scale=0.75, size=(n, n_features))
print(
    f"{n} nodes, {len(src) // 2} edges, edge homophily {np.mean(y[src] == y[dst]):.2f}"
)

perm = rs.permutation(n)
train, val, test = np.split(perm, [int(0.48 * n), int(0.80 * n)])

x_t = torch.tensor(X, dtype=torch.float32)
y_t = torch.tensor(y)
edge_index = torch.tensor(np.vstack([src, dst]))

# %%
# Models
# ------
# GCN: ``softmax(A_hat relu(A_hat X W1) W2)``, ``A_hat = D^-1/2 (A + I) D^-1/2``.
A_hat = A + np.eye(n)
dinv = 1 / np.sqrt(A_hat.sum(1))
A_hat = torch.tensor(dinv[:, None] * A_hat * dinv[None, :], dtype=torch.float32)
A_hat = A_hat.to_sparse()


class GCN(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.lin1 = nn.Linear(n_features, hidden)
        self.lin2 = nn.Linear(hidden, C)

    def forward(self, x):
        x = F.dropout(x, 0.5, self.training)
        x = torch.relu(torch.sparse.mm(A_hat, self.lin1(x)))
        x = F.dropout(x, 0.5, self.training)
        return torch.sparse.mm(A_hat, self.lin2(x))


class MLP(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.lin1 = nn.Linear(n_features, hidden)
        self.lin2 = nn.Linear(hidden, C)

    def forward(self, x):
        x = F.dropout(x, 0.5, self.training)
        return self.lin2(F.dropout(torch.relu(self.lin1(x)), 0.5, self.training))


class SheafNet(nn.Module):
    """lin -> stalks (N d, hidden) -> diffusion layers -> lin, as in NSD."""

    def __init__(self, d=3, hidden=8, layers=2, maps="diagonal", laplacian=None):
        super().__init__()
        self.d, self.hidden, self.laplacian = d, hidden, laplacian
        self.lin1 = nn.Linear(n_features, d * hidden)
        self.layers = nn.ModuleList(
            SheafDiffusion(d, hidden, maps=None if laplacian is not None else maps)
            for _ in range(layers)
        )
        self.lin2 = nn.Linear(d * hidden, C)

    def forward(self, x):
        x = F.dropout(x, 0.5, self.training)
        z = self.lin1(x).reshape(-1, self.hidden)
        for layer in self.layers:
            z = F.dropout(z, 0.2, self.training)
            z = layer(z, edge_index=edge_index, laplacian=self.laplacian)
        return self.lin2(F.elu(z.reshape(n, -1)))


def train_and_test(model, epochs=200):
    opt = torch.optim.Adam(model.parameters(), lr=0.02, weight_decay=5e-4)
    best_val, best_test = 0.0, 0.0
    for _ in range(epochs):
        model.train()
        opt.zero_grad()
        F.cross_entropy(model(x_t)[train], y_t[train]).backward()
        opt.step()
        model.eval()
        with torch.no_grad():
            pred = model(x_t).argmax(1)
        acc_val = (pred[val] == y_t[val]).float().mean().item()
        if acc_val > best_val:
            best_val = acc_val
            best_test = (pred[test] == y_t[test]).float().mean().item()
    return best_test


# %%
# Conn-NSD's fixed sheaf: graph-aware local PCA of the features on each node's
# 1-hop neighbourhood, Procrustes transports, augmented normalization.
t0 = time.perf_counter()
cl = ConnectionLaplacian(graph=A, dimension=3, normalization="augmented").fit(X)
L_conn = cl.to_torch(dtype=torch.float32).to_sparse_csr()  # CSR: faster products
print(f"connection Laplacian {tuple(L_conn.shape)} in {time.perf_counter() - t0:.2f} s")

# %%
# Train each model on the same split
results = {}
for name, make in [
    ("MLP", MLP),
    ("GCN", GCN),
    ("NSD (diagonal maps)", lambda: SheafNet(maps="diagonal")),
    ("Conn-NSD (fixed)", lambda: SheafNet(laplacian=L_conn)),
]:
    t0 = time.perf_counter()
    results[name] = train_and_test(make())
    print(
        f"{name:22s} test accuracy {results[name]:.3f} "
        f"({time.perf_counter() - t0:.1f} s)"
    )

# %%
# On this graph the GCN falls below the features-only MLP: mean aggregation
# mixes each node with neighbours of the other classes.  Learned diagonal
# restriction maps let NSD weigh (and flip) each edge's contribution and beat
# both.  The fixed connection sheaf of the features (Conn-NSD) is built for
# features that sample a low-dimensional manifold; on Gaussian class clouds it
# does not carry class information and Conn-NSD performs about like the MLP.
# Numbers vary with the seed; the ordering NSD > MLP > GCN is typical here.
fig, ax = plt.subplots(figsize=(6, 3))
ax.barh(list(results), list(results.values()), color="C0")
ax.axvline(1 / C, color="k", ls="--", lw=1, label="chance")
ax.set_xlabel("test accuracy")
ax.set_xlim(0, 1)
ax.legend(loc="lower right")
ax.set_title(f"CSBM, {C} classes, edge homophily {np.mean(y[src] == y[dst]):.2f}")
fig.tight_layout()
plt.show()
