"""Sheaf Laplacian ``L_F = delta^T delta`` of a cellular sheaf on a graph.

Block formula (node-major layout: row ``v * d + a`` is stalk coordinate ``a`` of
node ``v``)::

    L_vv = sum_{e = (v, u)} w_e F_{v<e}^T F_{v<e}
    L_vu = -w_e F_{v<e}^T F_{u<e}

The numpy path writes the CSR arrays directly (no COO round trip); the torch
path gathers differentiable block values into the same, precomputed, sparsity
pattern, so learned restriction maps can be trained through it.
"""

import numpy as np
import scipy.sparse as sp

from .._backend import get_namespace, import_torch, is_torch, spectral_function
from .._validation import check_int
from ._edges import check_edge_index

_NORMALIZATIONS = (None, "sym", "augmented")
_MAP_TYPES = ("general", "diagonal", "orthogonal")
_OUTPUTS = (None, "scipy", "torch")


# ----------------------------------------------------------------------------
# sparsity pattern
# ----------------------------------------------------------------------------
class _Pattern:
    """CSR pattern of a sheaf Laplacian and where each stored entry comes from.

    ``edge_full`` / ``node_full``: whether off-diagonal / diagonal blocks are
    full ``d x d`` (general maps) or diagonal (diagonal maps; orthogonal maps
    have full off-diagonal blocks and ``deg * I`` diagonal blocks).
    """

    def __init__(self, src, dst, order, n, d, edge_full, node_full):
        E = src.shape[0]
        self.n, self.d, self.E = n, d, E
        self.edge_full, self.node_full = edge_full, node_full
        self.be = d * d if edge_full else d  # stored values per edge block
        self.bn = d * d if node_full else d  # stored values per node block
        eid = np.arange(E, dtype=np.int64) if order is None else order
        s_src, s_dst = src[eid], dst[eid]
        deg = np.bincount(s_src, minlength=n).astype(np.int64)
        cnt_lt = np.bincount(s_src[s_dst < s_src], minlength=n).astype(np.int64)
        start = np.zeros(n, dtype=np.int64)
        np.cumsum(deg[:-1], out=start[1:])
        ee = d if edge_full else 1
        ne = d if node_full else 1
        rowlen = deg * ee + ne
        nnz_start = np.zeros(n, dtype=np.int64)
        np.cumsum(d * rowlen[:-1], out=nnz_start[1:])
        self.nnz = int(d * rowlen.sum())
        self.indptr = np.zeros(n * d + 1, dtype=np.int64)
        np.cumsum(np.repeat(rowlen, d), out=self.indptr[1:])
        # offset (within its row) of the first entry of each block
        j = np.arange(E, dtype=np.int64) - start[s_src]
        self._edge_off = j * ee + np.where(s_dst > s_src, ne, 0)
        self._node_off = cnt_lt * ee
        self._eid, self._s_src, self._s_dst = eid, s_src, s_dst
        self._rowlen, self._nnz_start = rowlen, nnz_start
        self.idx_dtype = np.int32 if max(self.nnz, n * d) < 2**31 - 1 else np.int64
        self.indptr = self.indptr.astype(self.idx_dtype)
        self.indices = None

    def _entries(self):
        """Yield ``(pos, is_edge, value_index, column)`` for every stored entry."""
        d, n = self.d, self.n
        u = np.arange(n, dtype=np.int64)
        start_e = np.take(self._nnz_start, self._s_src) + self._edge_off
        rowlen_e = np.take(self._rowlen, self._s_src)
        col_e = self._s_dst * d
        vid_e = self._eid * self.be
        for a in range(d):
            base = start_e + a * rowlen_e
            if self.edge_full:
                for c in range(d):
                    yield base + c, True, vid_e + (a * d + c), col_e + c
            else:
                yield base, True, vid_e + a, col_e + a
            rs_n = self._nnz_start + a * self._rowlen + self._node_off
            if self.node_full:
                for c in range(d):
                    yield rs_n + c, False, u * (d * d) + a * d + c, u * d + c
            else:
                yield rs_n, False, u * d + a, u * d + a

    def fill(self, edge_values, node_values):
        """CSR data (and, the first time, indices) from flat block values."""
        data = np.empty(self.nnz, dtype=np.result_type(edge_values, node_values))
        indices = (
            np.empty(self.nnz, dtype=self.idx_dtype) if self.indices is None else None
        )
        for pos, is_edge, vidx, col in self._entries():
            data[pos] = np.take(edge_values if is_edge else node_values, vidx)
            if indices is not None:
                indices[pos] = col
        if indices is not None:
            self.indices = indices
        return data

    def permutation(self):
        """Index into ``concat(edge_values, node_values)`` for each CSR entry."""
        perm = np.empty(self.nnz, dtype=np.int64)
        indices = np.empty(self.nnz, dtype=self.idx_dtype)
        offset = self.E * self.be
        for pos, is_edge, vidx, col in self._entries():
            perm[pos] = vidx if is_edge else vidx + offset
            indices[pos] = col
        self.indices = indices
        return perm

    def coo_indices(self):
        rows = np.repeat(
            np.arange(self.n * self.d, dtype=np.int64),
            np.diff(self.indptr.astype(np.int64)),
        )
        return np.vstack([rows, self.indices.astype(np.int64)])


# ----------------------------------------------------------------------------
# validation
# ----------------------------------------------------------------------------
def _check_maps(maps, n_edges, map_type):
    torch_in = is_torch(maps)
    if not torch_in:
        maps = np.asarray(maps)
        if maps.dtype == object or not (
            np.issubdtype(maps.dtype, np.number) or maps.dtype == bool
        ):
            raise TypeError(f"maps must be numeric, got dtype {maps.dtype}")
        maps = maps.astype(np.float64, copy=False)
    want = "(n_edges, d)" if map_type == "diagonal" else "(n_edges, d, d)"
    ndim = 2 if map_type == "diagonal" else 3
    shape = tuple(maps.shape)
    if (
        len(shape) != ndim
        or shape[0] != n_edges
        or (ndim == 3 and shape[1] != shape[2])
        or shape[1] < 1
    ):
        raise ValueError(
            f"maps must have shape {want} for map_type={map_type!r} with "
            f"n_edges={n_edges} (one map per directed edge, aligned with "
            f"edge_index), got {shape}"
        )
    finite = bool(maps.isfinite().all()) if torch_in else bool(np.isfinite(maps).all())
    if not finite:
        raise ValueError("maps contain NaN or infinite values")
    if map_type == "orthogonal" and n_edges:
        if torch_in:
            import torch

            with torch.no_grad():
                M = maps.detach().to(torch.float64)
                err = M.transpose(1, 2) @ M - torch.eye(
                    shape[1], dtype=M.dtype, device=M.device
                )
                err = float(err.abs().max())
            tol = (
                1e-4
                if maps.dtype in (torch.float32, torch.float16, torch.bfloat16)
                else 1e-6
            )
        else:
            err = float(
                np.abs(
                    np.matmul(maps.transpose(0, 2, 1), maps) - np.eye(shape[1])
                ).max()
            )
            tol = 1e-6
        if err > tol:
            raise ValueError(
                f"maps are not orthogonal (max |F^T F - I| = {err:.2g}); pass "
                "map_type='general'"
            )
    return maps, shape[1]


def _check_weight(edge_weight, n_edges, rev):
    if edge_weight is None:
        return None
    torch_in = is_torch(edge_weight)
    w = (
        edge_weight.detach().cpu().numpy()
        if torch_in
        else np.asarray(edge_weight, dtype=np.float64)
    )
    if w.shape != (n_edges,):
        raise ValueError(
            f"edge_weight must have shape (n_edges,) = ({n_edges},), got {w.shape}"
        )
    if not np.all(np.isfinite(w)):
        raise ValueError("edge_weight contains NaN or infinite values")
    if np.any(w < 0):
        raise ValueError("edge_weight contains negative weights")
    if np.any(np.abs(w - w[rev]) > 1e-12 * max(np.abs(w).max(), 1e-300)):
        raise ValueError(
            "edge_weight is not symmetric: the weight of (u, v) must equal the "
            "weight of (v, u)"
        )
    return edge_weight if torch_in else w


# ----------------------------------------------------------------------------
# numpy blocks
# ----------------------------------------------------------------------------
def _bmm(A, B, transpose_a=False):
    """Batched ``A @ B`` (or ``A^T @ B``) of small square matrices: unrolled
    over the d x d entries for d <= 4 (numpy's matmul loops per matrix)."""
    d = A.shape[-1]
    if d > 4:
        return np.matmul(A.transpose(0, 2, 1) if transpose_a else A, B)
    out = np.empty(A.shape[:1] + (d, d), dtype=np.result_type(A, B))
    for a in range(d):
        for c in range(d):
            if transpose_a:
                acc = A[:, 0, a] * B[:, 0, c]
                for b in range(1, d):
                    acc += A[:, b, a] * B[:, b, c]
            else:
                acc = A[:, a, 0] * B[:, 0, c]
                for b in range(1, d):
                    acc += A[:, a, b] * B[:, b, c]
            out[:, a, c] = acc
    return out


def _inv_sqrt_psd_numpy(D):
    """Batched pseudo-inverse square root of symmetric PSD matrices (n, d, d)."""
    return spectral_function(D, _pinv_sqrt_eigen)


def _mirror(P, hi, hr, E, transpose):
    """Per-edge array from the values ``P`` on the edges ``hi`` (src < dst):
    ``P`` on ``hi``, ``P`` (transposed if asked) on their reverses ``hr``.
    Built by one gather (``np.take``), much faster than fancy-index scatters of
    (E, d, d) arrays."""
    where = _mirror_index(hi, hr, E)
    other = P.transpose(0, 2, 1) if transpose else P
    return np.take(np.concatenate([P, other]), where, axis=0)


def _mirror_index(hi, hr, E):
    where = np.empty(E, dtype=np.int64)
    where[hi] = np.arange(hi.shape[0])
    where[hr] = np.arange(hi.shape[0], 2 * hi.shape[0])
    return where


def _blocks_numpy(maps, src, dst, rev, w, n, d, map_type, normalization):
    E = src.shape[0]
    hi = np.flatnonzero(src < dst)
    hr = rev[hi]
    ones = w if w is not None else np.ones(E)
    if map_type == "diagonal":
        P = np.take(maps, hi, axis=0) * np.take(maps, hr, axis=0)
        if w is not None:
            P *= w[hi, None]
        off = -np.take(np.concatenate([P, P]), _mirror_index(hi, hr, E), axis=0)
        node = np.empty((n, d))
        for a in range(d):
            node[:, a] = np.bincount(src, weights=ones * maps[:, a] ** 2, minlength=n)
    else:
        P = _bmm(np.take(maps, hi, axis=0), np.take(maps, hr, axis=0), transpose_a=True)
        if w is not None:
            P *= w[hi, None, None]
        np.negative(P, out=P)
        off = _mirror(P, hi, hr, E, transpose=True)
        del P
        if map_type == "orthogonal":
            deg = np.bincount(src, weights=ones, minlength=n)
            node = np.repeat(deg[:, None], d, axis=1)
        else:
            G = _bmm(maps, maps, transpose_a=True)
            node = np.empty((n, d, d))
            for a in range(d):
                for c in range(a, d):
                    node[:, a, c] = np.bincount(
                        src, weights=ones * G[:, a, c], minlength=n
                    )
                    node[:, c, a] = node[:, a, c]
    if normalization is not None:
        if node.ndim == 2:  # diagonal degree blocks
            Dv = node + 1.0 if normalization == "augmented" else node
            s = np.zeros_like(Dv)
            s[Dv > 0] = 1.0 / np.sqrt(Dv[Dv > 0])
            s_src, s_dst = np.take(s, src, axis=0), np.take(s, dst, axis=0)
            if off.ndim == 2:
                off *= s_src * s_dst
            else:
                off *= s_src[:, :, None]
                off *= s_dst[:, None, :]
            node = node * s * s
        else:
            Dm = node + np.eye(d) if normalization == "augmented" else node
            S = _inv_sqrt_psd_numpy(Dm)
            off = _bmm(_bmm(np.take(S, src, axis=0), off), np.take(S, dst, axis=0))
            node = _bmm(_bmm(S, node), S)
    return off, node


# ----------------------------------------------------------------------------
# torch blocks (differentiable)
# ----------------------------------------------------------------------------
def _pinv_sqrt_eigen(w, p=None):
    """``f(w) = w^{-1/2}`` on the numerically positive eigenvalues, 0 elsewhere
    (pseudo-inverse square root of a PSD degree block), with ``f'``; numpy or
    torch eigenvalues."""
    xp = get_namespace(w)
    top = xp.max(xp.abs(w), axis=-1, keepdims=True)
    ok = w > 1e-12 * xp.maximum(top, xp.full_like(top, 1e-300))
    ws = xp.where(ok, w, xp.ones_like(w))
    f = xp.where(ok, 1.0 / xp.sqrt(ws), xp.zeros_like(w))
    fp = xp.where(ok, -0.5 * f / ws, xp.zeros_like(w))
    return f, fp, None


def _torch_inv_sqrt(A):
    """Pseudo-inverse square root of symmetric PSD blocks, differentiable with the
    package's Daleckii-Krein backward (finite on repeated eigenvalues)."""
    return spectral_function(0.5 * (A + A.transpose(-1, -2)), _pinv_sqrt_eigen)


def _blocks_torch(maps, src, dst, rev, w, n, d, map_type, normalization):
    torch = import_torch()
    dev = maps.device
    E = src.shape[0]
    src_t, dst_t, rev_t = (torch.as_tensor(a, device=dev) for a in (src, dst, rev))
    if w is not None:
        w = torch.as_tensor(w, dtype=maps.dtype, device=dev)
    if map_type == "diagonal":
        off = -(maps * maps[rev_t])
        if w is not None:
            off = off * w[:, None]
        sq = maps * maps if w is None else maps * maps * w[:, None]
        node = torch.zeros(n, d, dtype=maps.dtype, device=dev).index_add(0, src_t, sq)
    else:
        off = -(maps.transpose(1, 2) @ maps[rev_t])
        if w is not None:
            off = off * w[:, None, None]
        if map_type == "orthogonal":
            ones = w if w is not None else torch.ones(E, dtype=maps.dtype, device=dev)
            deg = torch.zeros(n, dtype=maps.dtype, device=dev).index_add(0, src_t, ones)
            node = deg[:, None].expand(n, d)
        else:
            G = maps.transpose(1, 2) @ maps
            if w is not None:
                G = G * w[:, None, None]
            node = torch.zeros(n, d, d, dtype=maps.dtype, device=dev).index_add(
                0, src_t, G
            )
    if normalization is not None:
        if node.dim() == 2:
            Dv = node + 1.0 if normalization == "augmented" else node
            pos = Dv > 0
            s = torch.where(
                pos,
                torch.where(pos, Dv, torch.ones_like(Dv)).rsqrt(),
                torch.zeros_like(Dv),
            )
            if off.dim() == 2:
                off = off * s[src_t] * s[dst_t]
            else:
                off = off * s[src_t][:, :, None] * s[dst_t][:, None, :]
            node = node * s * s
        else:
            eye = torch.eye(d, dtype=maps.dtype, device=dev)
            Dm = node + eye if normalization == "augmented" else node
            S = _torch_inv_sqrt(Dm)
            off = S[src_t] @ off @ S[dst_t]
            node = S @ node @ S
    return off, node


# ----------------------------------------------------------------------------
# public function
# ----------------------------------------------------------------------------
def sheaf_laplacian(
    edge_index,
    maps,
    n_nodes,
    *,
    normalization=None,
    map_type="general",
    edge_weight=None,
    output=None,
):
    r"""Sheaf Laplacian :math:`L_F = \delta^T \delta` of a cellular sheaf on a graph.

    Parameters
    ----------
    edge_index : array-like or torch.Tensor of shape (2, n_edges)
        Directed edges in PyTorch Geometric's convention: every undirected edge
        ``{u, v}`` appears as both ``(u, v)`` and ``(v, u)``, no duplicates, no
        self-loops (``to_undirected`` + ``coalesce``).  Any order is accepted.
    maps : array-like or torch.Tensor
        Restriction maps, one per directed edge: ``maps[e]`` is
        :math:`F_{\mathrm{src}(e) \trianglelefteq e}`, the map from the stalk of
        the *source* node of edge ``e`` to the stalk of the undirected edge.
        Shape ``(n_edges, d, d)`` for ``map_type="general"`` and
        ``"orthogonal"``, ``(n_edges, d)`` (the diagonals) for ``"diagonal"``.
        This is what NSD's sheaf learners output for a coalesced edge_index.
    n_nodes : int
        Number of nodes.
    normalization : {None, "sym", "augmented"}, default=None
        ``None``: :math:`L_F`.  ``"sym"``: :math:`D^{-1/2} L_F D^{-1/2}` with
        :math:`D` the block diagonal of :math:`L_F` (pseudo-inverse square root
        where a block is singular, e.g. isolated nodes).  ``"augmented"``:
        :math:`(D + I)^{-1/2} L_F (D + I)^{-1/2}`, the default of Neural Sheaf
        Diffusion.
    map_type : {"general", "diagonal", "orthogonal"}, default="general"
        Structure of the maps.  Orthogonal maps give diagonal blocks
        :math:`\deg(v) I_d` and are checked (``|F^T F - I| <= 1e-6``).
    edge_weight : array-like or torch.Tensor of shape (n_edges,), default=None
        Non-negative symmetric weights :math:`w_e` (the same for ``(u, v)`` and
        ``(v, u)``); the quadratic form becomes
        :math:`\sum_e w_e \|F_{v \trianglelefteq e} x_v
        - F_{u \trianglelefteq e} x_u\|^2`.
    output : {None, "scipy", "torch"}, default=None
        ``"scipy"``: :class:`scipy.sparse.csr_array`; ``"torch"``: a coalesced
        torch sparse COO tensor.  ``None`` picks ``"torch"`` when ``maps`` is a
        torch tensor (then the result is differentiable with respect to
        ``maps`` and ``edge_weight`` and lives on their device) and
        ``"scipy"`` otherwise.

    Returns
    -------
    L : scipy.sparse.csr_array or torch.Tensor of shape (n_nodes * d, n_nodes * d)
        Node-major layout: row ``v * d + a`` is coordinate ``a`` of the stalk of
        node ``v``.  Blocks :math:`L_{vv} = \sum_{e \ni v} w_e F_{v \trianglelefteq e}^T
        F_{v \trianglelefteq e}` and :math:`L_{vu} = -w_e F_{v \trianglelefteq e}^T
        F_{u \trianglelefteq e}`.  With orthogonal maps :math:`L_{vu} = -w_e O_{vu}`
        where :math:`O_{vu}` transports the stalk of ``u`` to that of ``v``.
        Full ``d x d`` blocks are stored (explicit zeros included) except for
        diagonal maps and the ``deg * I`` blocks of orthogonal maps.

    See Also
    --------
    manigeo.ConnectionLaplacian : orthogonal maps from local PCA of a point cloud.

    References
    ----------
    .. [1] J. Hansen and R. Ghrist, "Toward a spectral theory of cellular
       sheaves", J. Appl. Comput. Topol., 2019.
    .. [2] C. Bodnar, F. Di Giovanni, B. P. Chamberlain, P. Lio and M. Bronstein,
       "Neural Sheaf Diffusion", NeurIPS 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from manigeo.sheaf import sheaf_laplacian
    >>> edge_index = np.array([[0, 1], [1, 0]])
    >>> maps = np.ones((2, 1, 1))
    >>> sheaf_laplacian(edge_index, maps, 2).toarray()
    array([[ 1., -1.],
           [-1.,  1.]])
    """
    if normalization not in _NORMALIZATIONS:
        raise ValueError(
            f"normalization must be one of {_NORMALIZATIONS}, got {normalization!r}"
        )
    if map_type not in _MAP_TYPES:
        raise ValueError(f"map_type must be one of {_MAP_TYPES}, got {map_type!r}")
    if output not in _OUTPUTS:
        raise ValueError(f"output must be one of {_OUTPUTS}, got {output!r}")
    src, dst, rev, order = check_edge_index(edge_index, n_nodes)
    n, E = int(n_nodes), src.shape[0]
    maps, d = _check_maps(maps, E, map_type)
    w = _check_weight(edge_weight, E, rev)
    if output is None:
        output = "torch" if is_torch(maps) else "scipy"
    return _assemble(
        src, dst, rev, order, n, maps, d, w, map_type, normalization, output
    )


def _assemble(src, dst, rev, order, n, maps, d, w, map_type, normalization, output):
    """Build the Laplacian from validated inputs (see :func:`sheaf_laplacian`)."""
    torch_maps = is_torch(maps)
    if output is None:
        output = "torch" if torch_maps else "scipy"
    if torch_maps and output == "scipy":
        maps = maps.detach().cpu().numpy().astype(np.float64)
        torch_maps = False
    if is_torch(w) and not torch_maps:
        w = w.detach().cpu().numpy().astype(np.float64)
    pattern = _Pattern(
        src,
        dst,
        order,
        n,
        d,
        edge_full=map_type != "diagonal",
        node_full=map_type == "general",
    )
    shape = (n * d, n * d)
    if not torch_maps:
        off, node = _blocks_numpy(maps, src, dst, rev, w, n, d, map_type, normalization)
        data = pattern.fill(off.reshape(-1), node.reshape(-1))
        del off, node
        if output == "scipy":
            L = sp.csr_array((data, pattern.indices, pattern.indptr), shape=shape)
            L.has_sorted_indices = True
            return L
        torch = import_torch()
        return torch.sparse_coo_tensor(
            torch.from_numpy(pattern.coo_indices()),
            torch.from_numpy(data),
            shape,
            is_coalesced=True,
            check_invariants=False,
        )
    return _TorchBuilder(src, dst, rev, order, n, d, map_type, pattern)(
        maps, normalization, w
    )


class _TorchBuilder:
    """Differentiable sheaf Laplacian on a fixed graph: the sparsity pattern and
    index tensors are computed once (used by :class:`manigeo.nn.SheafDiffusion`
    to rebuild a learned Laplacian at every forward pass)."""

    def __init__(self, src, dst, rev, order, n, d, map_type, pattern=None):
        self.n, self.d, self.map_type = n, d, map_type
        self.E = src.shape[0]
        self.pattern = pattern or _Pattern(
            src,
            dst,
            order,
            n,
            d,
            edge_full=map_type != "diagonal",
            node_full=map_type == "general",
        )
        self._numpy = (
            src,
            dst,
            rev,
            self.pattern.permutation(),
            self.pattern.coo_indices(),
        )
        self._device_cache = {}

    @classmethod
    def from_edge_index(cls, edge_index, n, d, map_type):
        src, dst, rev, order = check_edge_index(edge_index, n)
        return cls(src, dst, rev, order, n, d, map_type)

    def _tensors(self, device):
        key = str(device)
        if key not in self._device_cache:
            torch = import_torch()
            self._device_cache[key] = tuple(
                torch.as_tensor(a, device=device) for a in self._numpy
            )
        return self._device_cache[key]

    def entries(self, maps, normalization, edge_weight=None):
        """``(indices (2, nnz), values (nnz,))`` in coalesced order."""
        torch = import_torch()
        src, dst, rev, perm, idx = self._tensors(maps.device)
        off, node = _blocks_torch(
            maps,
            src,
            dst,
            rev,
            edge_weight,
            self.n,
            self.d,
            self.map_type,
            normalization,
        )
        return idx, torch.cat([off.reshape(-1), node.reshape(-1)])[perm]

    def __call__(self, maps, normalization, edge_weight=None):
        torch = import_torch()
        idx, values = self.entries(maps, normalization, edge_weight)
        size = self.n * self.d
        return torch.sparse_coo_tensor(
            idx, values, (size, size), is_coalesced=True, check_invariants=False
        )


class SheafLaplacianBuilder:
    r"""Differentiable sheaf Laplacian on a fixed graph, for torch layers.

    The sparsity pattern and index tensors of :func:`sheaf_laplacian` depend
    only on the graph: they are computed once here, and each call gathers the
    blocks of new restriction maps (and edge weights) into them, with
    gradients flowing to both.  This is what :class:`manigeo.nn.SheafConv`
    calls at every forward pass.

    Parameters
    ----------
    edge_index : array-like or torch.Tensor of shape (2, n_edges)
        Bidirectional edges, no duplicates or self-loops (see
        :func:`sheaf_laplacian`).
    n_nodes : int
        Number of nodes.
    stalk_dim : int
        Stalk dimension ``d``.
    map_type : {"general", "diagonal", "orthogonal"}, default="general"
        Structure of the maps passed to :meth:`entries`.

    Examples
    --------
    >>> import torch
    >>> from manigeo.sheaf import SheafLaplacianBuilder, sheaf_laplacian
    >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    >>> builder = SheafLaplacianBuilder(edge_index, 3, 2, map_type="diagonal")
    >>> maps = torch.rand(4, 2, requires_grad=True)
    >>> L = builder(maps, normalization="augmented")
    >>> ref = sheaf_laplacian(edge_index, maps, 3, map_type="diagonal",
    ...                       normalization="augmented")
    >>> bool(torch.allclose(L.to_dense(), ref.to_dense()))
    True
    """

    def __init__(
        self,
        edge_index,
        n_nodes: int,
        stalk_dim: int,
        map_type: str = "general",
    ):
        if map_type not in _MAP_TYPES:
            raise ValueError(f"map_type must be one of {_MAP_TYPES}, got {map_type!r}")
        stalk_dim = check_int(stalk_dim, "stalk_dim", minimum=1)
        src, dst, rev, order = check_edge_index(edge_index, n_nodes)
        self.n_nodes, self.stalk_dim, self.map_type = int(n_nodes), stalk_dim, map_type
        self.n_edges = src.shape[0]
        self._builder = _TorchBuilder(
            src, dst, rev, order, int(n_nodes), stalk_dim, map_type
        )
        self.reverse = rev

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(n_nodes={self.n_nodes}, n_edges={self.n_edges}, "
            f"stalk_dim={self.stalk_dim}, map_type={self.map_type!r})"
        )

    def entries(self, maps, normalization: str | None = None, edge_weight=None):
        """Coalesced ``(indices, values)`` of the Laplacian.

        Parameters
        ----------
        maps : torch.Tensor of shape (n_edges, d, d) or (n_edges, d)
            ``maps[e]`` is :math:`F_{\\mathrm{src}(e) \\trianglelefteq e}`.
        normalization : {None, "sym", "augmented"}, default=None
        edge_weight : torch.Tensor of shape (n_edges,), default=None
            Non-negative weights, equal on ``(u, v)`` and ``(v, u)``.

        Returns
        -------
        indices : torch.Tensor of shape (2, nnz), int64
        values : torch.Tensor of shape (nnz,)
        """
        if normalization not in _NORMALIZATIONS:
            raise ValueError(
                f"normalization must be one of {_NORMALIZATIONS}, got {normalization!r}"
            )
        if not is_torch(maps):
            raise TypeError(f"maps must be a torch tensor, got {type(maps).__name__}")
        ndim = 2 if self.map_type == "diagonal" else 3
        want = (self.n_edges,) + (self.stalk_dim,) * (ndim - 1)
        if tuple(maps.shape) != want:
            raise ValueError(
                f"maps must have shape {want} for map_type={self.map_type!r}, got "
                f"{tuple(maps.shape)}"
            )
        if edge_weight is not None and tuple(edge_weight.shape) != (self.n_edges,):
            raise ValueError(
                f"edge_weight must have shape ({self.n_edges},), got "
                f"{tuple(edge_weight.shape)}"
            )
        return self._builder.entries(maps, normalization, edge_weight)

    def __call__(self, maps, normalization: str | None = None, edge_weight=None):
        """The Laplacian, a coalesced torch sparse COO tensor (see :meth:`entries`)."""
        torch = import_torch()
        idx, values = self.entries(maps, normalization, edge_weight)
        size = self.n_nodes * self.stalk_dim
        return torch.sparse_coo_tensor(
            idx, values, (size, size), is_coalesced=True, check_invariants=False
        )
