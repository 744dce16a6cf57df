"""Neural sheaf diffusion node classifier (discrete NSD / Conn-NSD), a thin model
over :class:`SheafConv` and :class:`ConnectionSheafConv`."""

import torch
from torch import nn
from torch.nn import functional as F

from ._sheaf_conv import (
    ConnectionSheafConv,
    SheafConv,
    _check_dropout,
    _check_edge_index_tensor,
    _check_positive_int,
    _same_graph,
    connection_maps,
)

_SHEAVES = ("diagonal", "orthogonal", "general", "connection", "identity")


class SheafDiffusion(nn.Module):
    r"""Discrete neural sheaf diffusion network for node classification.

    ``Linear -> ELU -> [sheaf diffusion step] x num_layers -> Linear``, as in the
    reference implementation of Neural Sheaf Diffusion (Bodnar et al.): the
    input is mapped to ``D * hidden_channels`` features, read as ``D`` stalk
    coordinates of ``hidden_channels`` channels per node, diffused by
    ``num_layers`` steps, and mapped to ``out_channels`` logits.

    The sheaf is

    * learned from the hidden features at every layer
      (``"diagonal"``, ``"orthogonal"``, ``"general"``: NSD, :class:`SheafConv`),
    * the fixed connection sheaf of the *input* features, computed once per
      graph by local PCA + Procrustes (``"connection"``: Conn-NSD, Barbero et
      al., :class:`ConnectionSheafConv`), or
    * the identity sheaf (``"identity"``: ``D`` copies of the normalized graph
      Laplacian, the baseline of fixed trivial maps).

    Parameters
    ----------
    in_channels : int
        Input features.
    out_channels : int
        Classes.
    sheaf : str, default="diagonal"
        One of ``"diagonal"``, ``"orthogonal"``, ``"general"``,
        ``"connection"``, ``"identity"`` (see above).
    stalk_dim : int, default=3
        Stalk dimension ``d`` (learned or connection part).
    hidden_channels : int, default=16
        Channels per stalk coordinate.
    num_layers : int, default=2
        Diffusion steps (a new sheaf is predicted at each, for learned sheaves).
    dropout : float, default=0.0
        Dropout on the hidden features (and on the sheaf learner's input after
        the first layer).
    input_dropout : float, default=0.0
        Dropout on the input features.
    orthogonal : {"householder", "cayley", "matrix_exp"}, default="householder"
        Parametrisation of learned orthogonal maps.
    edge_weights : bool or None, default=None
        Learn edge weights; None: True for ``"orthogonal"`` and
        ``"connection"`` (NSD's default for O(d) sheaves), else False.
    add_lp, add_hp : bool, default=False
        Fixed extra low-pass / high-pass stalk coordinates (NSD).
    normalization : {"augmented", "sym", None}, default="augmented"
        Normalisation of the sheaf Laplacian.
    use_act : bool, default=True
        ELU after the input layer and in each diffusion step.

    Examples
    --------
    >>> import torch
    >>> from manigeo.nn import SheafDiffusion
    >>> edge_index = torch.tensor([[0, 1, 1, 2, 2, 0], [1, 0, 2, 1, 0, 2]])
    >>> model = SheafDiffusion(5, 2, sheaf="orthogonal", stalk_dim=2)
    >>> model(torch.randn(3, 5), edge_index).shape
    torch.Size([3, 2])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        sheaf: str = "diagonal",
        stalk_dim: int = 3,
        hidden_channels: int = 16,
        num_layers: int = 2,
        dropout: float = 0.0,
        input_dropout: float = 0.0,
        orthogonal: str = "householder",
        edge_weights: bool | None = None,
        add_lp: bool = False,
        add_hp: bool = False,
        normalization: str | None = "augmented",
        use_act: bool = True,
    ):
        super().__init__()
        if sheaf not in _SHEAVES:
            raise ValueError(f"sheaf must be one of {_SHEAVES}, got {sheaf!r}")
        _check_positive_int(in_channels, "in_channels")
        _check_positive_int(out_channels, "out_channels")
        _check_positive_int(num_layers, "num_layers")
        self.sheaf, self.stalk_dim = sheaf, _check_positive_int(stalk_dim, "stalk_dim")
        self.hidden_channels = _check_positive_int(hidden_channels, "hidden_channels")
        self.dropout = _check_dropout(dropout, "dropout")
        self.input_dropout = _check_dropout(input_dropout, "input_dropout")
        self.use_act = bool(use_act)
        if edge_weights is None:
            edge_weights = sheaf in ("orthogonal", "connection")
        D = stalk_dim + bool(add_lp) + bool(add_hp)
        self.total_stalk_dim = D
        self.lin1 = nn.Linear(in_channels, D * hidden_channels)
        self.lin2 = nn.Linear(D * hidden_channels, out_channels)
        common = dict(
            normalization=normalization,
            edge_weights=edge_weights,
            add_lp=add_lp,
            add_hp=add_hp,
            dropout=dropout,
            use_act=use_act,
        )
        if sheaf in ("connection", "identity"):
            self.convs = nn.ModuleList(
                ConnectionSheafConv(hidden_channels, stalk_dim, **common)
                for _ in range(num_layers)
            )
        else:
            self.convs = nn.ModuleList(
                SheafConv(
                    hidden_channels,
                    stalk_dim,
                    maps=sheaf,
                    orthogonal=orthogonal,
                    sheaf_dropout=dropout if i else 0.0,
                    **common,
                )
                for i in range(num_layers)
            )
        self._maps_cache = None

    def extra_repr(self) -> str:
        return f"sheaf={self.sheaf!r}, stalk_dim={self.stalk_dim}"

    def fixed_maps(self, x: torch.Tensor, edge_index: torch.Tensor):
        """The fixed maps of ``"connection"`` / ``"identity"`` sheaves (computed
        from the input features once per graph), None for learned sheaves."""
        if self.sheaf not in ("connection", "identity"):
            return None
        c = self._maps_cache
        if c is None or not _same_graph(c[0], edge_index):
            d, E = self.stalk_dim, edge_index.shape[1]
            if self.sheaf == "identity":
                m = torch.eye(d, dtype=x.dtype, device=x.device).expand(E, d, d)
            else:
                m = connection_maps(x, edge_index, d)
            self._maps_cache = (edge_index.detach().clone(), m)
        return self._maps_cache[1]

    def forward(
        self,
        x: torch.Tensor,
        edge_index: torch.Tensor,
        maps: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Class logits.

        Parameters
        ----------
        x : torch.Tensor of shape (N, in_channels)
        edge_index : torch.Tensor of shape (2, E)
            Bidirectional, no duplicates or self-loops.
        maps : torch.Tensor of shape (E, d, d), default=None
            Fixed maps for ``"connection"`` (e.g. ``data.sheaf_maps`` from
            :class:`AddConnectionLaplacian`); computed from ``x`` when None.

        Returns
        -------
        logits : torch.Tensor of shape (N, out_channels)
        """
        if x.dim() != 2 or x.shape[1] != self.lin1.in_features:
            raise ValueError(
                f"x must have shape (N, {self.lin1.in_features}), got {tuple(x.shape)}"
            )
        edge_index = _check_edge_index_tensor(edge_index, x.shape[0])
        if maps is None:
            maps = self.fixed_maps(x, edge_index)
        h = F.dropout(x, self.input_dropout, self.training)
        h = self.lin1(h)
        if self.use_act:
            h = F.elu(h)
        h = F.dropout(h, self.dropout, self.training)
        for conv in self.convs:
            h = conv(h, edge_index) if maps is None else conv(h, edge_index, maps)
        return self.lin2(h)
