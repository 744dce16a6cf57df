"""Neural sheaf diffusion layer (Bodnar et al., discrete NSD update)."""

import math

import torch
from torch import nn
from torch.nn import functional as F

from ..sheaf._laplacian import _check_maps, _TorchBuilder

_MAP_TYPES = (None, "general", "diagonal", "orthogonal")
_NORMALIZATIONS = ("augmented", "sym", None)


def _spmm(L, h):
    """``L @ h``.  For a sparse COO ``L`` that requires grad (learned maps) the
    product is a gather/scatter over the stored entries: torch's sparse ``mm``
    backward would materialise a dense ``(N d) x (N d)`` gradient."""
    if L.layout == torch.sparse_coo and L.requires_grad:
        L = L.coalesce()
        idx, val = L.indices(), L.values()
        return torch.zeros_like(h).index_add(0, idx[0], val[:, None] * h[idx[1]])
    if L.layout == torch.sparse_coo:
        return torch.sparse.mm(L, h)
    return L @ h


class SheafDiffusion(nn.Module):
    r"""One step of discrete neural sheaf diffusion.

    .. math::

        X \leftarrow (1 + \tanh \varepsilon) \odot X
        - \sigma\big(\Delta_F (I_N \otimes W_1) X W_2\big)

    with :math:`X` of shape ``(N * d, C)`` in node-major stalk layout (row
    ``v * d + a`` is stalk coordinate ``a`` of node ``v``), :math:`W_1 \in
    \mathbb{R}^{d \times d}` (initialised to the identity), :math:`W_2 \in
    \mathbb{R}^{C \times C}` (orthogonal initialisation), a learned
    :math:`\varepsilon \in \mathbb{R}^d` per stalk coordinate (initialised to 0)
    and :math:`\sigma` = ELU, as in the reference implementation of Neural
    Sheaf Diffusion.

    The sheaf Laplacian :math:`\Delta_F` is either fixed (pass ``laplacian=``
    to :meth:`forward`, e.g. ``ConnectionLaplacian(...).fit(X).to_torch()``:
    Conn-NSD) or predicted from the features at every call (``maps=``):
    :math:`F_{v \trianglelefteq e} = \tanh(W [x_v \| x_u])` per directed edge,
    assembled by :func:`manigeo.sheaf.sheaf_laplacian` (differentiable).

    Parameters
    ----------
    stalk_dim : int
        Stalk dimension ``d``.
    channels : int
        Channels ``C`` per stalk coordinate.
    maps : {None, "general", "diagonal", "orthogonal"}, default=None
        ``None``: the Laplacian is given to :meth:`forward`.  Otherwise the type
        of learned restriction maps (orthogonal maps are ``exp`` of a learned
        skew-symmetric matrix, in SO(d)).
    normalization : {"augmented", "sym", None}, default="augmented"
        Normalization of the learned Laplacian (see
        :func:`~manigeo.sheaf.sheaf_laplacian`).
    activation : callable, default=torch.nn.functional.elu
        :math:`\sigma`.

    Examples
    --------
    >>> import torch
    >>> from manigeo.nn import SheafDiffusion
    >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    >>> layer = SheafDiffusion(2, 4, maps="diagonal")
    >>> x = torch.randn(3 * 2, 4)
    >>> layer(x, edge_index=edge_index).shape
    torch.Size([6, 4])
    """

    def __init__(
        self,
        stalk_dim,
        channels,
        *,
        maps=None,
        normalization="augmented",
        activation=F.elu,
    ):
        super().__init__()
        if (
            isinstance(stalk_dim, bool)
            or not isinstance(stalk_dim, int)
            or stalk_dim < 1
        ):
            raise ValueError(f"stalk_dim must be a positive integer, got {stalk_dim!r}")
        if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
            raise ValueError(f"channels must be a positive integer, got {channels!r}")
        if maps not in _MAP_TYPES:
            raise ValueError(f"maps must be one of {_MAP_TYPES}, got {maps!r}")
        if normalization not in _NORMALIZATIONS:
            raise ValueError(
                f"normalization must be one of {_NORMALIZATIONS}, got {normalization!r}"
            )
        d, C = stalk_dim, channels
        self.stalk_dim, self.channels = d, C
        self.map_type, self.normalization = maps, normalization
        self.activation = activation
        self.W1 = nn.Parameter(torch.eye(d))
        self.W2 = nn.Parameter(nn.init.orthogonal_(torch.empty(C, C)))
        self.epsilon = nn.Parameter(torch.zeros(d))
        if maps is not None:
            out = {"general": d * d, "diagonal": d, "orthogonal": d * (d - 1) // 2}[
                maps
            ]
            if out == 0:  # 1-D orthogonal maps are the identity
                self.sheaf_learner = None
            else:
                self.sheaf_learner = nn.Linear(2 * d * C, out, bias=False)
                bound = 1.0 / math.sqrt(2 * d * C)
                nn.init.uniform_(self.sheaf_learner.weight, -bound, bound)

    def extra_repr(self):
        return (
            f"stalk_dim={self.stalk_dim}, channels={self.channels}, "
            f"maps={self.map_type!r}, normalization={self.normalization!r}"
        )

    def restriction_maps(self, x, edge_index):
        """Learned maps ``F_{src <| e}`` for each directed edge, shape
        ``(E, d, d)`` (``(E, d)`` for diagonal maps)."""
        d, C = self.stalk_dim, self.channels
        N = x.shape[0] // d
        h = x.reshape(N, d * C)
        src, dst = edge_index[0], edge_index[1]
        E = src.shape[0]
        if self.sheaf_learner is None:
            return torch.ones(E, 1, 1, dtype=x.dtype, device=x.device)
        z = torch.tanh(self.sheaf_learner(torch.cat([h[src], h[dst]], dim=1)))
        if self.map_type == "diagonal":
            return z
        if self.map_type == "general":
            return z.reshape(E, d, d)
        A = torch.zeros(E, d, d, dtype=x.dtype, device=x.device)
        iu = torch.triu_indices(d, d, offset=1, device=x.device)
        A[:, iu[0], iu[1]] = z
        return torch.linalg.matrix_exp(A - A.transpose(1, 2))

    def laplacian(self, x, edge_index):
        """The learned (normalized) sheaf Laplacian for features ``x``."""
        idx, values = self._laplacian_entries(x, edge_index)
        size = x.shape[0]
        return torch.sparse_coo_tensor(
            idx, values, (size, size), is_coalesced=True, check_invariants=False
        )

    def _laplacian_entries(self, x, edge_index):
        maps = self.restriction_maps(x, edge_index)
        map_type = "general" if self.sheaf_learner is None else self.map_type
        n = x.shape[0] // self.stalk_dim
        cached = getattr(self, "_builder_graph", None)
        if (
            cached is None
            or cached[0] != n
            or cached[1].shape != edge_index.shape
            or cached[1].device != edge_index.device
            or not torch.equal(cached[1], edge_index)
        ):
            # the pattern of the Laplacian depends only on the graph: build it
            # once per graph (compared by value, so in-place edits are seen)
            self._builder = _TorchBuilder.from_edge_index(
                edge_index, n, maps.shape[1], map_type
            )
            self._builder_graph = (n, edge_index.detach().clone())
        _check_maps(maps, edge_index.shape[1], map_type)
        return self._builder.entries(maps, self.normalization)

    def forward(self, x, edge_index=None, laplacian=None):
        """Apply one diffusion step.

        Parameters
        ----------
        x : torch.Tensor of shape (N * d, C) or (N, d, C)
            Stalk features.
        edge_index : torch.Tensor of shape (2, E), default=None
            Bidirectional edges; required with learned maps.
        laplacian : torch.Tensor of shape (N * d, N * d), default=None
            Fixed sparse (or dense) sheaf Laplacian; required without learned
            maps, cast to the dtype of ``x``.

        Returns
        -------
        out : torch.Tensor, same shape as ``x``
        """
        d, C = self.stalk_dim, self.channels
        shape = x.shape
        if x.dim() == 3:
            if tuple(x.shape[1:]) != (d, C):
                raise ValueError(f"x must have shape (N, {d}, {C}), got {tuple(shape)}")
            x = x.reshape(-1, C)
        if x.dim() != 2 or x.shape[1] != C or x.shape[0] % d:
            raise ValueError(
                f"x must have shape (N * {d}, {C}) or (N, {d}, {C}), got {tuple(shape)}"
            )
        N = x.shape[0] // d
        if laplacian is None:
            if self.map_type is None:
                raise ValueError(
                    "pass laplacian= (e.g. ConnectionLaplacian().fit(X).to_torch()) "
                    "or build the layer with maps='general'|'diagonal'|'orthogonal'"
                )
            if edge_index is None:
                raise ValueError("edge_index is required with learned restriction maps")
            idx, values = self._laplacian_entries(x, edge_index)
            h = (self.W1 @ x.reshape(N, d, C)).reshape(N * d, C) @ self.W2
            h = torch.zeros_like(h).index_add(0, idx[0], values[:, None] * h[idx[1]])
            return self._update(x, h, N).reshape(shape)
        if tuple(laplacian.shape) != (N * d, N * d):
            raise ValueError(
                f"laplacian must have shape ({N * d}, {N * d}), got "
                f"{tuple(laplacian.shape)}"
            )
        if laplacian.dtype != x.dtype or laplacian.device != x.device:
            laplacian = laplacian.to(dtype=x.dtype, device=x.device)
        h = (self.W1 @ x.reshape(N, d, C)).reshape(N * d, C) @ self.W2
        h = _spmm(laplacian, h)
        return self._update(x, h, N).reshape(shape)

    def _update(self, x, h, N):
        coeff = (1 + torch.tanh(self.epsilon)).repeat(N)[:, None]
        return coeff * x - self.activation(h)
