"""ConnectionLaplacian: the graph connection Laplacian of a point cloud or of a
graph with node features (Singer-Wu vector diffusion maps, Barbero et al.'s
Conn-NSD sheaf)."""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._backend import import_torch
from .._validation import check_adjacency, check_int, check_random_state
from ..graphs import knn_graph
from ._edges import adjacency_to_edge_index, reverse_edges_csr
from ._frames import _local_pca, _transports, estimate_dimension
from ._laplacian import _assemble, _mirror_index
from ._orientability import _smallest, orientability


class ConnectionLaplacian(BaseEstimator):
    """Graph connection Laplacian from local PCA frames and Procrustes transports.

    Each point (node) gets an orthonormal tangent frame :math:`O_i` from local
    PCA of its neighbourhood; each edge the orthogonal transport
    :math:`O_{ij} = U V^T`, :math:`O_i^T O_j = U \\Sigma V^T`.  The connection
    Laplacian is the sheaf Laplacian of this O(d)-bundle: blocks
    :math:`L_{ii} = \\deg(i) I_d`, :math:`L_{ij} = -w_{ij} O_{ij}`, normalized
    as :math:`I - D^{-1/2} S D^{-1/2}` by default (Singer and Wu).  With
    ``graph=`` and node features it is the fixed sheaf of Conn-NSD (Barbero et
    al.): local PCA on 1-hop graph neighbourhoods.

    Read more in the :ref:`User Guide <sheaf>`.

    Parameters
    ----------
    n_neighbors : int, default=10
        Without ``graph``: the PCA neighbourhood of each point is its
        ``n_neighbors`` nearest neighbours, and the graph is the union-symmetrized
        kNN graph.  Ignored when ``graph`` is given.
    dimension : "auto" or int, default="auto"
        Stalk (tangent) dimension ``d``.  ``"auto"``: for each point the
        smallest ``d`` whose local PCA eigenvalues explain
        ``variance_threshold`` of the neighbourhood variance; the median over
        points, rounded up (Singer and Wu).
    variance_threshold : float, default=0.9
        Explained-variance fraction used by ``dimension="auto"``.
    weights : {"uniform", "gaussian", "graph"}, default="uniform"
        Edge weights :math:`w_{ij}`: 1 (Barbero et al.);
        :math:`\\exp(-\\|x_i - x_j\\|^2 / \\varepsilon)` with
        :math:`\\varepsilon` the median squared edge length; or the weights
        stored in ``graph``.
    graph : sparse matrix, array-like, networkx graph or torch tensor, default=None
        A graph on the samples, shape ``(n_samples, n_samples)``
        (symmetrized by the element-wise max).  Local
        PCA then runs on each node's 1-hop neighbourhood, padded by the
        Euclidean-nearest non-neighbours when it has fewer than ``d`` nodes.
        For a PyG ``edge_index`` use
        ``torch_geometric.utils.to_scipy_sparse_matrix(edge_index)``.
    normalization : {"sym", "augmented"} or None, default="sym"
        Normalization of :attr:`laplacian_` (see :func:`sheaf_laplacian`).
    random_state : int, RandomState instance or None, default=None
        Start vectors of the sparse eigensolvers (orientability,
        :meth:`spectral_embedding`).
    n_jobs : int or None, default=None
        Parallel jobs (joblib) of the nearest-neighbour search, the local PCA
        (over blocks of nodes) and the Procrustes transports (over blocks of
        edges).  ``None`` means 1 unless in a :func:`joblib.parallel_backend`
        context; ``-1`` uses all processors.  Results do not depend on it.

    Attributes
    ----------
    dimension_ : int
        Stalk dimension used (written ``d`` in the shapes below).
    frames_ : ndarray of shape (n_samples, n_features, d)
        Local PCA frames (columns orthonormal; orientations arbitrary).
    local_variances_ : ndarray of shape (n_samples, r)
        Local PCA eigenvalues, decreasing.
    edge_index_ : ndarray of shape (2, n_edges)
        Bidirectional, coalesced (sorted by source then target) int64 edges.
    edge_weight_ : ndarray of shape (n_edges,)
    transports_ : ndarray of shape (n_edges, d, d)
        ``transports_[e]`` is :math:`O_{uv}` for ``e = (u, v)``: it maps the
        frame coordinates of ``v`` to those of ``u``; in O(d) (reflections
        occur whenever two frames have opposite orientations).
    maps_ : ndarray of shape (n_edges, d, d)
        Restriction maps in PyG/NSD convention (``maps_[e]`` is
        :math:`F_{u \\trianglelefteq e}` for ``e = (u, v)``), see
        :func:`transport_maps`.
    laplacian_ : scipy.sparse.csr_array of shape (n_samples * d, n_samples * d)
        Node-major connection Laplacian.
    orientability_ : Orientability
        Singer-Wu orientability test ``(score, is_orientable, signs)``, computed
        on first access (two small sparse eigenproblems).
    n_features_in_ : int

    See Also
    --------
    sheaf_laplacian : the Laplacian of any cellular sheaf.
    manigeo.nn.ConnectionSheafConv : diffusion layer on this sheaf (Conn-NSD).

    References
    ----------
    .. [1] A. Singer and H.-T. Wu, "Vector diffusion maps and the connection
       Laplacian", Comm. Pure Appl. Math. 65(8), 2012.
    .. [2] F. Barbero, C. Bodnar, H. S. de Ocariz Borde, M. Bronstein,
       P. Velickovic and P. Lio, "Sheaf neural networks with connection
       Laplacians", ICML Topological, Algebraic and Geometric Learning
       Workshops, 2022.

    Examples
    --------
    >>> from manigeo import ConnectionLaplacian
    >>> from manigeo.datasets import make_sphere
    >>> X, _ = make_sphere(500, random_state=0)
    >>> cl = ConnectionLaplacian(n_neighbors=10).fit(X)
    >>> cl.dimension_, cl.laplacian_.shape
    (2, (1000, 1000))
    """

    _parameter_constraints: dict = {
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "dimension": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "variance_threshold": [Interval(Real, 0, 1, closed="right")],
        "weights": [StrOptions({"uniform", "gaussian", "graph"})],
        "graph": "no_validation",
        "normalization": [StrOptions({"sym", "augmented"}), None],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        *,
        n_neighbors=10,
        dimension="auto",
        variance_threshold=0.9,
        weights="uniform",
        graph=None,
        normalization="sym",
        random_state=None,
        n_jobs=None,
    ):
        self.n_neighbors = n_neighbors
        self.dimension = dimension
        self.variance_threshold = variance_threshold
        self.weights = weights
        self.graph = graph
        self.normalization = normalization
        self.random_state = random_state
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ fit
    def _neighbourhoods(self, X):
        """(adjacency, PCA neighbourhood rows) from kNN or the given graph."""
        n = X.shape[0]
        if self.graph is None:
            if self.n_neighbors >= n:
                raise ValueError(
                    f"n_neighbors={self.n_neighbors} must be smaller than n_samples={n}"
                )
            G = knn_graph(X, self.n_neighbors, symmetrize="none", n_jobs=self.n_jobs)
            A = sp.csr_array(G.maximum(G.T))
            A.sort_indices()
            return A, G
        A = check_adjacency(self.graph, name="graph", symmetric="max")
        if A.shape[0] != n:
            raise ValueError(f"graph has {A.shape[0]} nodes but X has n_samples={n}")
        return A, A

    def _edge_weight(self, X, A, src, dst):
        if self.weights == "uniform":
            return np.ones(src.shape[0])
        if self.weights == "graph":
            return A.data.astype(np.float64).copy()
        d2 = np.sum((X[src] - X[dst]) ** 2, axis=1)
        eps = np.median(d2[d2 > 0]) if np.any(d2 > 0) else 1.0
        return np.exp(-d2 / eps)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Compute frames, transports and the connection Laplacian.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Points, or node features when ``graph`` is given.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : ConnectionLaplacian
            Fitted estimator.
        """
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=2)
        n, p = X.shape
        A, nbr = self._neighbourhoods(X)
        nbr.sort_indices()
        indptr = nbr.indptr.astype(np.int64)
        indices = nbr.indices.astype(np.int64)
        if self.dimension == "auto":
            _, var = _local_pca(X, indptr, indices, 0, self.n_jobs)
            d, _ = estimate_dimension(var, self.variance_threshold)
        else:
            d = self.dimension
            if d > p:
                raise ValueError(f"dimension={d} must not exceed n_features={p}")
        frames, var = _local_pca(X, indptr, indices, d, self.n_jobs)
        edge_index = adjacency_to_edge_index(A)
        src, dst = edge_index
        rev, order = reverse_edges_csr(A), None
        half = np.flatnonzero(src < dst)
        O_half = _transports(frames, src[half], dst[half], self.n_jobs)
        where = _mirror_index(half, rev[half], src.shape[0])
        transports = np.take(
            np.concatenate([O_half, O_half.transpose(0, 2, 1)]), where, axis=0
        )
        # restriction maps (see transport_maps): I at the src < dst end, O_uv at
        # the other, so that F_u^T F_v = O_uv
        maps = np.take(
            np.concatenate([np.broadcast_to(np.eye(d), O_half.shape), O_half]),
            where,
            axis=0,
        )
        del O_half, where
        w = self._edge_weight(X, A, src, dst)
        self.dimension_ = int(d)
        self.frames_ = frames
        self.local_variances_ = var
        self.edge_index_ = edge_index
        self.edge_weight_ = w
        self.transports_ = transports
        self.maps_ = maps
        self._edges = (src, dst, rev, order)
        self.laplacian_ = _assemble(
            src,
            dst,
            rev,
            order,
            n,
            maps,
            d,
            w,
            "orthogonal",
            self.normalization,
            "scipy",
        )
        self._orientability = None
        return self

    # ------------------------------------------------------------ outputs
    @property
    def orientability_(self):
        check_is_fitted(self, "laplacian_")
        if getattr(self, "_orientability", None) is None:
            self._orientability = orientability(
                self.edge_index_,
                self.transports_,
                self.frames_.shape[0],
                edge_weight=self.edge_weight_,
                random_state=self.random_state,
            )
        return self._orientability

    def to_torch(self, *, dtype=None, device=None):
        """The fitted Laplacian as a coalesced torch sparse COO tensor.

        Parameters
        ----------
        dtype : torch.dtype, default=None
            ``torch.float64`` when None.
        device : str or torch.device, default=None
            CPU when None.

        Returns
        -------
        L : torch.Tensor of shape (n_samples * d, n_samples * d), sparse COO
        """
        check_is_fitted(self, "laplacian_")
        torch = import_torch()
        L = self.laplacian_.tocoo()
        idx = torch.from_numpy(np.vstack([L.row, L.col]).astype(np.int64))
        val = torch.from_numpy(L.data)
        T = torch.sparse_coo_tensor(
            idx, val, L.shape, is_coalesced=True, check_invariants=False
        )
        return T.to(dtype=dtype or torch.float64, device=device)

    def to_pyg(self, x=None):
        """The fitted sheaf as a :class:`torch_geometric.data.Data`.

        Parameters
        ----------
        x : array-like of shape (n_samples, n_channels), default=None
            Node features to attach (float32).

        Returns
        -------
        data : torch_geometric.data.Data
            ``edge_index`` (int64, ``[2, E]``), ``maps`` (``[E, d, d]``,
            :math:`F_{\\mathrm{src} \\trianglelefteq e}`, the input of NSD's
            Laplacian builders and of :func:`sheaf_laplacian`),
            ``transports`` (``[E, d, d]``), ``edge_weight`` (``[E]``),
            ``num_nodes`` and ``x`` when given; float32 tensors.
        """
        check_is_fitted(self, "laplacian_")
        torch = import_torch()
        try:
            from torch_geometric.data import Data
        except ImportError as exc:
            raise ImportError(
                "to_pyg needs PyTorch Geometric: `pip install torch_geometric`"
            ) from exc
        f32 = torch.float32
        data = Data(
            edge_index=torch.from_numpy(self.edge_index_.copy()),
            maps=torch.from_numpy(self.maps_).to(f32),
            transports=torch.from_numpy(self.transports_).to(f32),
            edge_weight=torch.from_numpy(self.edge_weight_).to(f32),
            num_nodes=int(self.frames_.shape[0]),
        )
        if x is not None:
            x = torch.as_tensor(np.asarray(x), dtype=f32)
            if x.shape[0] != data.num_nodes:
                raise ValueError(
                    f"x has {x.shape[0]} rows but the sheaf has {data.num_nodes} nodes"
                )
            data.x = x
        return data

    def spectral_embedding(self, n_components=10, *, t=1.0, return_eigenvalues=False):
        """Vector diffusion map (Singer and Wu) of the fitted points.

        With :math:`\\mu_l, u_l` the ``n_components`` largest eigenpairs of
        :math:`D^{-1/2} S D^{-1/2}` (the smallest of the ``"sym"`` connection
        Laplacian) and :math:`v_l = D^{-1/2} u_l`, point ``i`` maps to
        :math:`((\\mu_l \\mu_r)^t \\langle v_l(i), v_r(i) \\rangle)_{l \\le r}`
        (off-diagonal entries times :math:`\\sqrt 2`, so Euclidean distances
        equal the vector diffusion distances of the full ``k x k`` map).

        Parameters
        ----------
        n_components : int, default=10
            Number of eigenvectors ``k``.
        t : float, default=1.0
            Diffusion time.
        return_eigenvalues : bool, default=False
            Also return :math:`\\mu_l`.

        Returns
        -------
        embedding : ndarray of shape (n_samples, k * (k + 1) / 2)
        eigenvalues : ndarray of shape (k,), only if ``return_eigenvalues``
            Decreasing.
        """
        check_is_fitted(self, "laplacian_")
        n, d = self.frames_.shape[0], self.dimension_
        k = check_int(n_components, "n_components", minimum=1, maximum=n * d - 1)
        src, dst, rev, order = self._edges
        L = _assemble(
            src,
            dst,
            rev,
            order,
            n,
            self.maps_,
            d,
            self.edge_weight_,
            "orthogonal",
            "sym",
            "scipy",
        )
        rng = check_random_state(self.random_state)
        lam, U = _smallest(L, k, rng)
        mu = 1.0 - lam
        deg = np.bincount(src, weights=self.edge_weight_, minlength=n)
        inv = np.where(deg > 0, 1.0 / np.sqrt(np.where(deg > 0, deg, 1.0)), 0.0)
        V = U.reshape(n, d, k) * inv[:, None, None]
        G = np.einsum("nal,nar->nlr", V, V)
        iu, ju = np.triu_indices(k)
        scale = np.where(iu == ju, 1.0, np.sqrt(2.0))
        emb = G[:, iu, ju] * scale * (mu[iu] * mu[ju]) ** t
        return (emb, mu) if return_eigenvalues else emb

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags
