"""PyG-style sheaf convolutions: learned sheaves (NSD, Bodnar et al. 2022) and the
fixed connection sheaf of the node features (Conn-NSD, Barbero et al. 2022), and
the ``AddConnectionLaplacian`` transform."""

import copy
import math

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn
from torch.nn import functional as F

from ..sheaf import ConnectionLaplacian, SheafLaplacianBuilder

_MAP_TYPES = ("diagonal", "orthogonal", "general")
_ORTHOGONAL = ("householder", "cayley", "matrix_exp")
_NORMALIZATIONS = ("augmented", "sym", None)


# ----------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------
def _check_positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def _check_dropout(value, name):
    if not isinstance(value, int | float) or not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")
    return float(value)


def _check_edge_index_tensor(edge_index, n_nodes):
    if not isinstance(edge_index, torch.Tensor):
        raise TypeError(
            f"edge_index must be a torch.Tensor, got {type(edge_index).__name__}"
        )
    if edge_index.dim() != 2 or edge_index.shape[0] != 2:
        raise ValueError(
            f"edge_index must have shape (2, n_edges), got {tuple(edge_index.shape)}"
        )
    if edge_index.dtype not in (torch.int64, torch.int32):
        raise TypeError(f"edge_index must hold integers, got dtype {edge_index.dtype}")
    if edge_index.numel() and (
        int(edge_index.min()) < 0 or int(edge_index.max()) >= n_nodes
    ):
        raise ValueError(
            f"edge_index holds node indices outside [0, {n_nodes}) (x has {n_nodes} "
            "rows)"
        )
    return edge_index.long()


def orthogonal_from_params(params: torch.Tensor, d: int, method: str) -> torch.Tensor:
    """Orthogonal ``d x d`` matrices from ``d (d - 1) / 2`` parameters each.

    Parameters
    ----------
    params : torch.Tensor of shape (m, d * (d - 1) // 2)
        Free parameters (the strictly lower triangle, row by row).
    d : int
        Matrix size.
    method : {"householder", "cayley", "matrix_exp"}
        ``"householder"``: the product of ``d`` Householder reflections
        :math:`H_i = I - 2 v_i v_i^T / \\|v_i\\|^2` whose vectors ``v_i`` have a
        unit ``i``-th entry, zeros above and the parameters below (LAPACK's
        ``orgqr``, the default of Neural Sheaf Diffusion; O(d), reflections
        included).  ``"cayley"``: :math:`(I + A)^{-1}(I - A)` and
        ``"matrix_exp"``: :math:`\\exp(A)`, with :math:`A` skew-symmetric
        (SO(d)).

    Returns
    -------
    Q : torch.Tensor of shape (m, d, d)

    Examples
    --------
    >>> import torch
    >>> from manigeo.nn import orthogonal_from_params
    >>> Q = orthogonal_from_params(torch.randn(5, 3), 3, "cayley")
    >>> bool(torch.allclose(Q.transpose(1, 2) @ Q, torch.eye(3), atol=1e-6))
    True
    """
    if method not in _ORTHOGONAL:
        raise ValueError(f"method must be one of {_ORTHOGONAL}, got {method!r}")
    m = params.shape[0]
    if tuple(params.shape) != (m, d * (d - 1) // 2):
        raise ValueError(
            f"params must have shape (m, {d * (d - 1) // 2}) for d={d}, got "
            f"{tuple(params.shape)}"
        )
    il = torch.tril_indices(d, d, offset=-1, device=params.device)
    A = params.new_zeros(m, d, d)
    A[:, il[0], il[1]] = params
    if method == "householder":
        tau = 2.0 / (1.0 + A.square().sum(dim=1))
        return torch.linalg.householder_product(A, tau)
    S = A - A.transpose(1, 2)
    if method == "matrix_exp":
        return torch.linalg.matrix_exp(S)
    eye = torch.eye(d, dtype=params.dtype, device=params.device).expand(m, d, d)
    return torch.linalg.solve(eye + S, eye - S)


def _extra_maps(maps, edge_index, add_lp, add_hp, diagonal):
    """Append fixed stalk coordinates to the maps: +1 at both ends (a low-pass,
    graph-Laplacian channel) and -1 / +1 (a high-pass, signless channel)."""
    if not (add_lp or add_hp):
        return maps
    E = maps.shape[0]
    cols = []
    if add_lp:
        cols.append(maps.new_ones(E))
    if add_hp:
        sign = torch.where(edge_index[0] < edge_index[1], -1.0, 1.0)
        cols.append(sign.to(maps.dtype))
    extra = torch.stack(cols, dim=1)  # (E, k)
    if diagonal:
        return torch.cat([maps, extra], dim=1)
    d, k = maps.shape[1], extra.shape[1]
    out = F.pad(maps, (0, k, 0, k))
    idx = torch.arange(d, d + k, device=maps.device)
    out[:, idx, idx] = extra
    return out


def _same_graph(cached, edge_index):
    """True when ``cached`` (an edge_index kept by a cache) equals ``edge_index``."""
    return (
        cached is not None
        and cached.shape == edge_index.shape
        and cached.device == edge_index.device
        and torch.equal(cached, edge_index)
    )


class _BuilderCache:
    """One :class:`SheafLaplacianBuilder` per graph, compared by value."""

    def __init__(self):
        self.key = None
        self.builder = None

    def get(self, edge_index, n, d, map_type):
        key = self.key
        if (
            key is None
            or key[0] != (n, d, map_type)
            or not _same_graph(key[1], edge_index)
        ):
            self.builder = SheafLaplacianBuilder(edge_index, n, d, map_type)
            rev = torch.as_tensor(self.builder.reverse, device=edge_index.device)
            self.key = ((n, d, map_type), edge_index.detach().clone(), rev)
        return self.builder, self.key[2]


# ----------------------------------------------------------------------------
# the diffusion step shared by both convolutions
# ----------------------------------------------------------------------------
class _SheafDiffusionStep(nn.Module):
    def __init__(self, channels, stalk_dim, normalization, dropout, use_act, act):
        super().__init__()
        self.channels = _check_positive_int(channels, "channels")
        self.stalk_dim = _check_positive_int(stalk_dim, "stalk_dim")
        if normalization not in _NORMALIZATIONS:
            raise ValueError(
                f"normalization must be one of {_NORMALIZATIONS}, got {normalization!r}"
            )
        self.normalization = normalization
        self.dropout = _check_dropout(dropout, "dropout")
        self.use_act = bool(use_act)
        self.act = act
        D, C = self.total_stalk_dim, channels
        self.left = nn.Parameter(torch.eye(D))  # W1, acts on each stalk
        self.right = nn.Parameter(nn.init.orthogonal_(torch.empty(C, C)))  # W2
        self.epsilon = nn.Parameter(torch.zeros(D))
        self._cache = _BuilderCache()

    @property
    def total_stalk_dim(self):
        """Learned stalk coordinates plus the fixed low-/high-pass ones."""
        return self.stalk_dim + self.add_lp + self.add_hp

    def _stalks(self, x):
        D, C = self.total_stalk_dim, self.channels
        if x.dim() != 2 or x.shape[1] != D * C:
            raise ValueError(
                f"x must have shape (n_nodes, stalk_dim * channels) = (N, {D * C}), "
                f"got {tuple(x.shape)}"
            )
        return x.reshape(-1, D, C)

    def _diffuse(self, x, idx, values):
        """``x - sigma(Delta (I x W1) x W2)`` with learned per-coordinate decay."""
        N, D, C = x.shape[0], self.total_stalk_dim, self.channels
        h = F.dropout(x, self.dropout, self.training).reshape(N, D, C)
        h = (self.left @ h @ self.right).reshape(N * D, C)
        h = torch.zeros_like(h).index_add(0, idx[0], values[:, None] * h[idx[1]])
        if self.use_act:
            h = self.act(h)
        coeff = (1 + torch.tanh(self.epsilon)).repeat(N)[:, None]
        return (coeff * x.reshape(N * D, C) - h).reshape(N, D * C)

    def _weights(self, learner, x, edge_index, rev):
        if learner is None:
            return None
        s = torch.sigmoid(learner(torch.cat([x[edge_index[0]], x[edge_index[1]]], 1)))
        w = s[:, 0] * s[rev, 0]
        return w * w  # maps scaled by w at both ends: weight w^2 (as in NSD)


# ----------------------------------------------------------------------------
# learned sheaf
# ----------------------------------------------------------------------------
class SheafConv(_SheafDiffusionStep):
    r"""Neural sheaf diffusion layer with restriction maps learned from the features.

    One discrete step of Neural Sheaf Diffusion (Bodnar et al.):

    .. math::

        X \leftarrow (1 + \tanh\varepsilon) \odot X
        - \sigma\big(\Delta_{F(X)} (I_N \otimes W_1) X W_2\big),

    where every directed edge :math:`e = (v, u)` gets the restriction map
    :math:`F_{v \trianglelefteq e} = \Phi(\tanh(W [x_v \| x_u]))` (diagonal,
    orthogonal or general), :math:`\Delta_F` is the normalized sheaf Laplacian
    assembled by :class:`manigeo.sheaf.SheafLaplacianBuilder`,
    :math:`W_1 \in \mathbb{R}^{D \times D}` (identity at init),
    :math:`W_2 \in \mathbb{R}^{C \times C}` (orthogonal at init), a learned
    :math:`\varepsilon` per stalk coordinate and :math:`\sigma` = ELU.

    Called like PyTorch Geometric's convolutions, ``conv(x, edge_index)``, with
    ``x`` of shape ``(N, D * C)`` in stalk layout (``x[v, a * C:(a + 1) * C]``
    is stalk coordinate ``a`` of node ``v``) and a bidirectional
    ``edge_index`` without duplicates or self-loops.

    Parameters
    ----------
    channels : int
        Channels ``C`` per stalk coordinate.
    stalk_dim : int
        Learned stalk dimension ``d``.
    maps : {"diagonal", "orthogonal", "general"}, default="diagonal"
        Restriction maps: ``d`` values, an element of O(d) (parametrised by
        ``orthogonal``) or a full ``d x d`` matrix per edge.
    orthogonal : {"householder", "cayley", "matrix_exp"}, default="householder"
        Parametrisation of orthogonal maps (see :func:`orthogonal_from_params`).
    normalization : {"augmented", "sym", None}, default="augmented"
        :math:`(D + I)^{-1/2} L (D + I)^{-1/2}` (NSD), :math:`D^{-1/2} L D^{-1/2}`
        or the plain Laplacian.
    edge_weights : bool, default=False
        Also learn symmetric edge weights
        :math:`w_e = (\sigma(W' [x_v \| x_u]) \sigma(W' [x_u \| x_v]))^2`
        (NSD's option for orthogonal maps).
    add_lp, add_hp : bool, default=False
        Append a fixed stalk coordinate with maps +1 (low-pass: the graph
        Laplacian) or with maps of opposite sign (high-pass), so the total stalk
        dimension is ``D = d + add_lp + add_hp``.
    dropout : float, default=0.0
        Dropout on ``x`` before the diffusion.
    sheaf_dropout : float, default=0.0
        Dropout on the input of the sheaf learner.
    use_act : bool, default=True
        Apply :math:`\sigma`.

    Examples
    --------
    >>> import torch
    >>> from manigeo.nn import SheafConv
    >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    >>> conv = SheafConv(4, 2, maps="orthogonal")
    >>> conv(torch.randn(3, 2 * 4), edge_index).shape
    torch.Size([3, 8])
    """

    def __init__(
        self,
        channels: int,
        stalk_dim: int,
        *,
        maps: str = "diagonal",
        orthogonal: str = "householder",
        normalization: str | None = "augmented",
        edge_weights: bool = False,
        add_lp: bool = False,
        add_hp: bool = False,
        dropout: float = 0.0,
        sheaf_dropout: float = 0.0,
        use_act: bool = True,
    ):
        if maps not in _MAP_TYPES:
            raise ValueError(f"maps must be one of {_MAP_TYPES}, got {maps!r}")
        if orthogonal not in _ORTHOGONAL:
            raise ValueError(
                f"orthogonal must be one of {_ORTHOGONAL}, got {orthogonal!r}"
            )
        self.add_lp, self.add_hp = bool(add_lp), bool(add_hp)
        super().__init__(channels, stalk_dim, normalization, dropout, use_act, F.elu)
        self.map_type, self.orthogonal = maps, orthogonal
        self.sheaf_dropout = _check_dropout(sheaf_dropout, "sheaf_dropout")
        d, D, C = stalk_dim, self.total_stalk_dim, channels
        out = {"general": d * d, "diagonal": d, "orthogonal": d * (d - 1) // 2}[maps]
        self.sheaf_learner = (
            nn.Linear(2 * D * C, out, bias=False) if out else None
        )  # d = 1 orthogonal maps are +-1: nothing to learn
        if self.sheaf_learner is not None:
            bound = 1.0 / math.sqrt(2 * D * C)
            nn.init.uniform_(self.sheaf_learner.weight, -bound, bound)
        self.weight_learner = nn.Linear(2 * D * C, 1) if edge_weights else None

    def extra_repr(self) -> str:
        return (
            f"channels={self.channels}, stalk_dim={self.stalk_dim}, "
            f"maps={self.map_type!r}, normalization={self.normalization!r}, "
            f"edge_weights={self.weight_learner is not None}"
        )

    def restriction_maps(self, x: torch.Tensor, edge_index: torch.Tensor):
        """Learned maps ``F_{src <| e}`` per directed edge, fixed extra coordinates
        included: shape ``(E, D, D)``, or ``(E, D)`` for diagonal maps."""
        d = self.stalk_dim
        E = edge_index.shape[1]
        if self.sheaf_learner is None:
            z = x.new_ones(E, 1, 1)
        else:
            z = torch.tanh(
                self.sheaf_learner(torch.cat([x[edge_index[0]], x[edge_index[1]]], 1))
            )
            if self.map_type == "general":
                z = z.reshape(E, d, d)
            elif self.map_type == "orthogonal":
                z = orthogonal_from_params(z, d, self.orthogonal)
        return _extra_maps(
            z, edge_index, self.add_lp, self.add_hp, self.map_type == "diagonal"
        )

    def laplacian(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        """The learned normalized sheaf Laplacian, sparse ``(N D) x (N D)``."""
        idx, values = self._entries(x, _check_edge_index_tensor(edge_index, len(x)))
        size = x.shape[0] * self.total_stalk_dim
        return torch.sparse_coo_tensor(
            idx, values, (size, size), is_coalesced=True, check_invariants=False
        )

    def _entries(self, x, edge_index):
        self._stalks(x)
        builder, rev = self._cache.get(
            edge_index, x.shape[0], self.total_stalk_dim, self.map_type
        )
        xs = F.dropout(x, self.sheaf_dropout, self.training)
        maps = self.restriction_maps(xs, edge_index)
        w = self._weights(self.weight_learner, xs, edge_index, rev)
        return builder.entries(maps, self.normalization, w)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        """One diffusion step.

        Parameters
        ----------
        x : torch.Tensor of shape (N, D * C)
        edge_index : torch.Tensor of shape (2, E)

        Returns
        -------
        out : torch.Tensor of shape (N, D * C)
        """
        edge_index = _check_edge_index_tensor(edge_index, x.shape[0])
        idx, values = self._entries(x, edge_index)
        return self._diffuse(x, idx, values)


# ----------------------------------------------------------------------------
# fixed connection sheaf
# ----------------------------------------------------------------------------
def _edge_positions(edge_index, ref, n):
    """Position in ``ref`` of each column of ``edge_index`` (both (2, E))."""
    key = edge_index[0].astype(np.int64) * n + edge_index[1]
    rkey = ref[0].astype(np.int64) * n + ref[1]
    order = np.argsort(rkey)
    pos = np.searchsorted(rkey[order], key)
    pos = np.minimum(pos, len(rkey) - 1)
    if len(key) != len(rkey) or np.any(rkey[order][pos] != key):
        raise ValueError("edge_index does not match the graph of the sheaf maps")
    return order[pos]


def connection_maps(
    x, edge_index: torch.Tensor, stalk_dim: int, n_nodes: int | None = None
) -> torch.Tensor:
    """Conn-NSD restriction maps of a graph with node features.

    Local PCA of each node's 1-hop neighbourhood in feature space and
    orthogonal Procrustes transports (:class:`manigeo.ConnectionLaplacian`
    with ``graph=``), as restriction maps aligned with ``edge_index``
    (``F = I`` at the smaller node, the transport at the other,
    :func:`manigeo.sheaf.transport_maps`).

    Parameters
    ----------
    x : array-like or torch.Tensor of shape (N, n_features)
        Node features (``n_features >= stalk_dim``).
    edge_index : torch.Tensor of shape (2, E)
        Bidirectional, no duplicates or self-loops.
    stalk_dim : int
        Stalk (tangent) dimension ``d``.
    n_nodes : int, default=None
        ``len(x)`` when None.

    Returns
    -------
    maps : torch.Tensor of shape (E, d, d), dtype of ``x`` (float32 for numpy)
        Orthogonal; ``maps[e]`` is :math:`F_{\\mathrm{src}(e) \\trianglelefteq e}`.

    Examples
    --------
    >>> import torch
    >>> from manigeo.nn import connection_maps
    >>> edge_index = torch.tensor([[0, 1, 1, 2, 2, 0], [1, 0, 2, 1, 0, 2]])
    >>> maps = connection_maps(torch.randn(3, 5), edge_index, 2)
    >>> maps.shape
    torch.Size([6, 2, 2])
    """
    dtype = x.dtype if isinstance(x, torch.Tensor) else torch.float32
    X = x.detach().cpu().double().numpy() if isinstance(x, torch.Tensor) else x
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0] if n_nodes is None else int(n_nodes)
    ei = _check_edge_index_tensor(edge_index, n).cpu().numpy()
    A = sp.csr_array((np.ones(ei.shape[1]), (ei[0], ei[1])), shape=(n, n))
    cl = ConnectionLaplacian(graph=A, dimension=stalk_dim, normalization=None).fit(X)
    pos = _edge_positions(ei, cl.edge_index_, n)
    maps = torch.from_numpy(np.ascontiguousarray(cl.maps_[pos]))
    device = edge_index.device
    return maps.to(dtype=dtype, device=device)


class ConnectionSheafConv(_SheafDiffusionStep):
    r"""Sheaf diffusion with the fixed connection sheaf of the node features (Conn-NSD).

    The diffusion step of :class:`SheafConv` with orthogonal restriction maps
    that are not learned: computed once from node features by local PCA on
    1-hop neighbourhoods and Procrustes transports (Barbero et al.), with
    :class:`manigeo.ConnectionLaplacian` (see :func:`connection_maps`).  Pass
    them as ``conv(x, edge_index, maps)`` (e.g. ``data.sheaf_maps`` from
    :class:`AddConnectionLaplacian`); with ``conv(x, edge_index)`` they are
    computed from ``x`` at the first call on a graph and reused after.
    Identity maps give the "identity sheaf" baseline (``D`` copies of the
    graph Laplacian).

    Parameters
    ----------
    channels : int
        Channels ``C`` per stalk coordinate.
    stalk_dim : int
        Stalk dimension ``d`` of the given maps.
    normalization : {"augmented", "sym", None}, default="augmented"
    edge_weights : bool, default=False
        Learn symmetric edge weights from the features (as NSD's O(d) model).
    add_lp, add_hp : bool, default=False
        Fixed extra stalk coordinates (see :class:`SheafConv`).
    dropout : float, default=0.0
        Dropout on ``x`` before the diffusion.
    use_act : bool, default=True
        Apply ELU.

    Examples
    --------
    >>> import torch
    >>> from manigeo.nn import ConnectionSheafConv
    >>> edge_index = torch.tensor([[0, 1, 1, 2, 2, 0], [1, 0, 2, 1, 0, 2]])
    >>> conv = ConnectionSheafConv(3, 2)
    >>> conv(torch.randn(3, 2 * 3), edge_index).shape
    torch.Size([3, 6])
    """

    def __init__(
        self,
        channels: int,
        stalk_dim: int,
        *,
        normalization: str | None = "augmented",
        edge_weights: bool = False,
        add_lp: bool = False,
        add_hp: bool = False,
        dropout: float = 0.0,
        use_act: bool = True,
    ):
        self.add_lp, self.add_hp = bool(add_lp), bool(add_hp)
        super().__init__(channels, stalk_dim, normalization, dropout, use_act, F.elu)
        D = self.total_stalk_dim
        self.weight_learner = nn.Linear(2 * D * channels, 1) if edge_weights else None
        self._maps_cache = None

    def extra_repr(self) -> str:
        return (
            f"channels={self.channels}, stalk_dim={self.stalk_dim}, "
            f"normalization={self.normalization!r}, "
            f"edge_weights={self.weight_learner is not None}"
        )

    def _maps(self, x, edge_index, maps):
        d = self.stalk_dim
        if maps is None:
            c = self._maps_cache
            if c is None or not _same_graph(c[0], edge_index):
                m = connection_maps(x, edge_index, d)
                self._maps_cache = (edge_index.detach().clone(), m)
            maps = self._maps_cache[1]
        E = edge_index.shape[1]
        if not isinstance(maps, torch.Tensor) or tuple(maps.shape) != (E, d, d):
            raise ValueError(
                f"maps must be a tensor of shape (n_edges, d, d) = ({E}, {d}, {d}), "
                f"got {getattr(maps, 'shape', type(maps).__name__)}"
            )
        maps = maps.to(dtype=x.dtype, device=x.device)
        return _extra_maps(maps, edge_index, self.add_lp, self.add_hp, False)

    def forward(
        self,
        x: torch.Tensor,
        edge_index: torch.Tensor,
        maps: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """One diffusion step.

        Parameters
        ----------
        x : torch.Tensor of shape (N, D * C)
        edge_index : torch.Tensor of shape (2, E)
        maps : torch.Tensor of shape (E, d, d), default=None
            Fixed orthogonal maps ``F_{src <| e}``; computed from ``x`` (and
            cached) when None.

        Returns
        -------
        out : torch.Tensor of shape (N, D * C)
        """
        edge_index = _check_edge_index_tensor(edge_index, x.shape[0])
        self._stalks(x)
        builder, rev = self._cache.get(
            edge_index, x.shape[0], self.total_stalk_dim, "orthogonal"
        )
        F_maps = self._maps(x, edge_index, maps)
        w = self._weights(self.weight_learner, x, edge_index, rev)
        idx, values = builder.entries(F_maps, self.normalization, w)
        return self._diffuse(x, idx, values)


# ----------------------------------------------------------------------------
# transform
# ----------------------------------------------------------------------------
def _base_transform():
    try:
        from torch_geometric.transforms import BaseTransform
    except ImportError:  # torch_geometric is optional

        class BaseTransform:
            def __call__(self, data):
                return self.forward(copy.copy(data))

            def __repr__(self):
                return f"{type(self).__name__}()"

    return BaseTransform


class AddConnectionLaplacian(_base_transform()):
    r"""Add the Conn-NSD connection sheaf of ``data.x`` to a PyG ``Data``.

    Thin wrapper over :class:`manigeo.ConnectionLaplacian` (``graph`` = the
    data's graph, local PCA of ``data.x`` on 1-hop neighbourhoods).  The input
    is not modified: a shallow copy gets ``edge_index`` (coalesced,
    bidirectional, no self-loops), ``sheaf_maps`` (``[E, d, d]``, for
    :class:`ConnectionSheafConv`), ``sheaf_transports`` (``[E, d, d]``) and the
    normalized Laplacian as ``laplacian_index`` (``[2, nnz]``) and
    ``laplacian_weight`` (``[nnz]``), node-major ``(N d) x (N d)``.

    Parameters
    ----------
    stalk_dim : int, default=3
        Stalk dimension ``d``.
    normalization : {"augmented", "sym"} or None, default="augmented"
        Normalization of the stored Laplacian.
    attr_prefix : str, optional
        Prefix of the map attributes (default ``"sheaf_"``).

    Examples
    --------
    >>> import torch
    >>> from torch_geometric.data import Data
    >>> from manigeo.nn import AddConnectionLaplacian
    >>> data = Data(x=torch.randn(4, 5),
    ...             edge_index=torch.tensor([[0, 1, 2, 3, 0], [1, 2, 3, 0, 2]]))
    >>> out = AddConnectionLaplacian(stalk_dim=2)(data)
    >>> out.sheaf_maps.shape, out.laplacian_index.shape[0], "sheaf_maps" in data
    (torch.Size([10, 2, 2]), 2, False)
    """

    def __init__(
        self,
        stalk_dim: int = 3,
        normalization: str | None = "augmented",
        attr_prefix: str = "sheaf_",
    ):
        self.stalk_dim = _check_positive_int(stalk_dim, "stalk_dim")
        if normalization not in ("augmented", "sym", None):
            raise ValueError(
                "normalization must be 'augmented', 'sym' or None, got "
                f"{normalization!r}"
            )
        self.normalization = normalization
        self.attr_prefix = attr_prefix

    def forward(self, data):
        x = getattr(data, "x", None)
        if x is None:
            raise ValueError("AddConnectionLaplacian needs node features data.x")
        n = data.num_nodes
        ei = data.edge_index.detach().cpu().numpy()
        keep = ei[0] != ei[1]
        A = sp.csr_array(
            (
                np.ones(2 * keep.sum()),
                (np.r_[ei[0][keep], ei[1][keep]], np.r_[ei[1][keep], ei[0][keep]]),
            ),
            shape=(n, n),
        )
        A.data[:] = 1.0
        X = x.detach().cpu().double().numpy()
        cl = ConnectionLaplacian(
            graph=A, dimension=self.stalk_dim, normalization=self.normalization
        ).fit(X)
        L = cl.laplacian_.tocoo()
        dev, dt = data.edge_index.device, x.dtype if x.is_floating_point() else None
        data.edge_index = torch.from_numpy(cl.edge_index_.copy()).to(dev)
        setattr(data, f"{self.attr_prefix}maps", torch.from_numpy(cl.maps_).to(dev, dt))
        setattr(
            data,
            f"{self.attr_prefix}transports",
            torch.from_numpy(cl.transports_).to(dev, dt),
        )
        data.laplacian_index = torch.from_numpy(
            np.vstack([L.row, L.col]).astype(np.int64)
        ).to(dev)
        data.laplacian_weight = torch.from_numpy(L.data).to(dev, dt)
        return data

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(stalk_dim={self.stalk_dim}, "
            f"normalization={self.normalization!r})"
        )
