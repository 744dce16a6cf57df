"""Geom-GCN node-classification data sets (WebKB: Texas, Wisconsin, Cornell)."""

import os
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.utils import Bunch

from .._backend import import_torch

# pinned origin: the Geom-GCN authors' repository (the files PyG's WebKB reads)
_BASE_URL = "https://raw.githubusercontent.com/graphdml-uiuc-jlu/geom-gcn/master"
_NAMES = ("texas", "wisconsin", "cornell")
_N_SPLITS = 10
_TIMEOUT = 30.0

_DESCR = """\
{title} (WebKB, Geom-GCN release)
{underline}

Web pages of the {title} computer science department collected by the CMU
WebKB project; edges are hyperlinks, features are 1703-dimensional binary
bag-of-words vectors, labels are 5 page classes (student, project, course,
staff, faculty).  A strongly heterophilous graph: most edges join pages of
different classes.

Nodes: {n}.  Undirected edges: {m} (the released directed hyperlinks,
symmetrised; self-loops and duplicates removed).  Splits: the 10 fixed
48/32/20 % train/validation/test masks released with Geom-GCN and used by the
heterophily literature (H2GCN, GPR-GNN, NSD, Conn-NSD).

Source: https://github.com/graphdml-uiuc-jlu/geom-gcn (``new_data/{name}``,
``splits/``), files read byte for byte.

Licence: the Geom-GCN repository carries no explicit data licence; the WebKB
pages were collected for research use by the CMU World Wide Knowledge Base
project.  Redistribute with the citations below.

Citation:
  H. Pei, B. Wei, K. C.-C. Chang, Y. Lei and B. Yang, "Geom-GCN: Geometric
  Graph Convolutional Networks", ICLR 2020.
  M. Craven, D. DiPasquo, D. Freitag, A. McCallum, T. Mitchell, K. Nigam and
  S. Slattery, "Learning to Extract Symbolic Knowledge from the World Wide
  Web", AAAI 1998.
"""


def get_data_home(data_home: str | os.PathLike | None = None) -> Path:
    """Folder holding manigeo's downloaded data.

    ``data_home`` when given, else ``$MANIGEO_DATA``, else ``~/manigeo_data``
    (user ``~`` expanded).  The folder is not created.

    Parameters
    ----------
    data_home : str or path-like, default=None

    Returns
    -------
    path : pathlib.Path

    Examples
    --------
    >>> from manigeo.datasets import get_data_home
    >>> str(get_data_home("/tmp/some_folder"))
    '/tmp/some_folder'
    """
    if data_home is None:
        data_home = os.environ.get("MANIGEO_DATA") or Path("~") / "manigeo_data"
    if not isinstance(data_home, str | os.PathLike):
        raise TypeError(
            f"data_home must be a str or path-like, got {type(data_home).__name__}"
        )
    return Path(data_home).expanduser()


def _file_names(name):
    raw = ["out1_node_feature_label.txt", "out1_graph_edges.txt"]
    splits = [f"{name}_split_0.6_0.2_{i}.npz" for i in range(_N_SPLITS)]
    return raw, splits


def _download(url, path):
    tmp = None
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT) as resp:
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(resp, out)
        os.replace(tmp, path)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        if tmp is not None and os.path.exists(tmp):
            os.remove(tmp)
        raise OSError(
            f"could not download {url} to {path} ({exc}); you may be offline: "
            "copy the Geom-GCN files into that folder by hand, or pass "
            "data_home= a folder that holds them"
        ) from exc


def _ensure_files(name, folder, download_if_missing):
    raw, splits = _file_names(name)
    missing = [f for f in raw + splits if not (folder / f).is_file()]
    if not missing:
        return
    if not download_if_missing:
        raise FileNotFoundError(
            f"Geom-GCN data set {name!r} not found in {folder} (missing "
            f"{len(missing)} file(s), e.g. {missing[0]!r}) and "
            "download_if_missing=False; pass data_home= the folder that holds "
            f"'{name}/', set $MANIGEO_DATA, or allow the download"
        )
    folder.mkdir(parents=True, exist_ok=True)
    for f in missing:
        sub = f"new_data/{name}" if f in raw else "splits"
        _download(f"{_BASE_URL}/{sub}/{f}", folder / f)


def _read_features(path):
    with open(path) as fh:
        lines = fh.read().strip().split("\n")[1:]
    ids = np.empty(len(lines), dtype=np.int64)
    y = np.empty(len(lines), dtype=np.int64)
    rows = []
    for k, line in enumerate(lines):
        node, feat, label = line.split("\t")
        ids[k], y[k] = int(node), int(label)
        rows.append(np.array(feat.split(","), dtype=np.float32))
    n = len(lines)
    if sorted(ids.tolist()) != list(range(n)):
        raise ValueError(f"{path}: node ids are not 0..{n - 1}")
    X = np.empty((n, rows[0].shape[0]), dtype=np.float32)
    X[ids] = np.stack(rows)
    labels = np.empty(n, dtype=np.int64)
    labels[ids] = y
    return X, labels


def _read_adjacency(path, n):
    E = np.loadtxt(path, skiprows=1, dtype=np.int64, ndmin=2)
    if E.size and (E.min() < 0 or E.max() >= n):
        raise ValueError(f"{path}: edge endpoints outside [0, {n})")
    src, dst = E[:, 0], E[:, 1]
    keep = src != dst  # drop self-loops
    src, dst = src[keep], dst[keep]
    A = sp.csr_array(
        (np.ones(2 * src.size), (np.r_[src, dst], np.r_[dst, src])), shape=(n, n)
    )
    A.sum_duplicates()
    A.data[:] = 1.0  # duplicates and reciprocal links count once
    A.sort_indices()
    return A


class GeomGCNBunch(Bunch):
    """A :class:`sklearn.utils.Bunch` of a Geom-GCN data set, with :meth:`to_pyg`."""

    def to_pyg(self, split: int = 0):
        """The graph and one split as a :class:`torch_geometric.data.Data`.

        Parameters
        ----------
        split : int, default=0
            Split index in ``[0, 10)``.

        Returns
        -------
        data : torch_geometric.data.Data
            ``x`` (float32), ``y`` (int64), ``edge_index`` (bidirectional,
            coalesced, no self-loops), ``train_mask``, ``val_mask``,
            ``test_mask`` (bool) of that split.
        """
        return to_pyg(self, split)


def to_pyg(bunch: Bunch, split: int = 0):
    """A Geom-GCN :class:`~sklearn.utils.Bunch` and one split as PyG ``Data``.

    Parameters
    ----------
    bunch : Bunch
        As returned by :func:`fetch_geom_gcn`.
    split : int, default=0
        Split index in ``[0, n_splits)``.

    Returns
    -------
    data : torch_geometric.data.Data
        ``x`` (float32), ``y`` (int64), ``edge_index`` (bidirectional,
        coalesced, no self-loops), ``train_mask``, ``val_mask``, ``test_mask``.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from manigeo.datasets import to_pyg
    >>> from sklearn.utils import Bunch
    >>> masks = np.ones((1, 2), dtype=bool)
    >>> b = Bunch(X=np.zeros((2, 3), np.float32), y=np.array([0, 1]),
    ...           adjacency=sp.csr_array(np.array([[0., 1.], [1., 0.]])),
    ...           train_masks=masks, val_masks=~masks, test_masks=~masks)
    >>> to_pyg(b, 0).edge_index.tolist()
    [[0, 1], [1, 0]]
    """
    torch = import_torch()
    try:
        from torch_geometric.data import Data
    except ImportError as exc:
        raise ImportError(
            "to_pyg needs PyTorch Geometric: `pip install torch_geometric`"
        ) from exc
    n_splits = bunch["train_masks"].shape[0]
    if isinstance(split, bool) or not isinstance(split, int | np.integer):
        raise TypeError(f"split must be an integer, got {type(split).__name__}")
    if not 0 <= split < n_splits:
        raise ValueError(f"split must be in [0, {n_splits}), got {split}")
    A = sp.csr_array(bunch["adjacency"])
    A.sort_indices()
    src = np.repeat(np.arange(A.shape[0], dtype=np.int64), np.diff(A.indptr))
    edge_index = np.vstack([src, A.indices.astype(np.int64)])
    return Data(
        x=torch.from_numpy(np.array(bunch["X"], dtype=np.float32)),
        y=torch.from_numpy(np.asarray(bunch["y"], dtype=np.int64).copy()),
        edge_index=torch.from_numpy(edge_index),
        train_mask=torch.from_numpy(bunch["train_masks"][split].copy()),
        val_mask=torch.from_numpy(bunch["val_masks"][split].copy()),
        test_mask=torch.from_numpy(bunch["test_masks"][split].copy()),
        num_nodes=int(A.shape[0]),
    )


def fetch_geom_gcn(
    name: str,
    data_home: str | os.PathLike | None = None,
    download_if_missing: bool = True,
) -> GeomGCNBunch:
    """Load a Geom-GCN heterophily benchmark graph with its 10 standard splits.

    Reads the original Geom-GCN files (``out1_graph_edges.txt``,
    ``out1_node_feature_label.txt``, ``<name>_split_0.6_0.2_<i>.npz``) from
    ``data_home/<name>/``, downloading them from the Geom-GCN repository when
    missing.  The directed hyperlinks are symmetrised, self-loops and
    duplicates removed.

    Read more in the :ref:`User Guide <sheaf>`.

    Parameters
    ----------
    name : {"texas", "wisconsin", "cornell"}
        Data set (case-insensitive).
    data_home : str or path-like, default=None
        Folder holding ``<name>/``; ``$MANIGEO_DATA`` or ``~/manigeo_data`` when
        None (see :func:`get_data_home`).
    download_if_missing : bool, default=True
        Download missing files (``urllib``, 30 s timeout).  When False, or
        when offline, missing files raise a clear error.

    Returns
    -------
    data : GeomGCNBunch
        A :class:`sklearn.utils.Bunch` with ``adjacency`` (symmetric 0/1
        :class:`scipy.sparse.csr_array`, zero diagonal), ``X`` (the raw 0/1
        bag-of-words, float32, shape ``(n_nodes, 1703)``; the heterophily
        literature row-normalises it), ``y`` (int64 labels in ``[0, 5)``),
        ``train_masks``, ``val_masks``, ``test_masks`` (bool, shape
        ``(10, n_nodes)``), ``DESCR`` and ``name``; ``data.to_pyg(split)``
        gives a PyG ``Data``.

    Raises
    ------
    FileNotFoundError
        Files missing and ``download_if_missing=False``.
    OSError
        Files missing and the download failed (e.g. offline).

    References
    ----------
    .. [1] H. Pei, B. Wei, K. C.-C. Chang, Y. Lei and B. Yang, "Geom-GCN:
       Geometric Graph Convolutional Networks", ICLR 2020.

    Examples
    --------
    With the files in ``data_home/texas/`` (e.g. ``$MANIGEO_DATA``)::

        data = fetch_geom_gcn("texas")
        data.X.shape, data.train_masks.shape   # ((183, 1703), (10, 183))
        data.to_pyg(0)                        # torch_geometric.data.Data

    Offline with nothing on disk, the error says what is missing:

    >>> from manigeo.datasets import fetch_geom_gcn
    >>> fetch_geom_gcn("texas", data_home="/nonexistent", download_if_missing=False)
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FileNotFoundError: Geom-GCN data set 'texas' not found in /nonexistent/texas ...
    """
    if not isinstance(name, str) or name.lower() not in _NAMES:
        raise ValueError(f"name must be one of {_NAMES}, got {name!r}")
    name = name.lower()
    folder = get_data_home(data_home) / name
    _ensure_files(name, folder, download_if_missing)
    raw, splits = _file_names(name)
    X, y = _read_features(folder / raw[0])
    n = X.shape[0]
    A = _read_adjacency(folder / raw[1], n)
    masks = {k: np.zeros((_N_SPLITS, n), dtype=bool) for k in ("train", "val", "test")}
    for i, f in enumerate(splits):
        with np.load(folder / f) as z:
            for k in masks:
                m = np.asarray(z[f"{k}_mask"])
                if m.shape != (n,):
                    raise ValueError(f"{folder / f}: {k}_mask has shape {m.shape}")
                masks[k][i] = m.astype(bool)
    title = name.capitalize()
    return GeomGCNBunch(
        adjacency=A,
        X=X,
        y=y,
        train_masks=masks["train"],
        val_masks=masks["val"],
        test_masks=masks["test"],
        name=name,
        DESCR=_DESCR.format(
            title=title,
            underline="=" * (len(title) + 28),
            name=name,
            n=n,
            m=A.nnz // 2,
        ),
    )
