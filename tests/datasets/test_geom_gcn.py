"""fetch_geom_gcn on the shared Geom-GCN files; offline and download paths."""

import os
from pathlib import Path

import numpy as np
import pytest

from manigeo.datasets import _geom_gcn, fetch_geom_gcn, get_data_home

ROOT = Path(__file__).resolve().parents[2]


def _shared_data():
    """``../shared/data/geom-gcn`` beside the repository, else ``$MANIGEO_DATA``."""
    candidates = [ROOT / ".." / "shared" / "data" / "geom-gcn"]
    if os.environ.get("MANIGEO_DATA"):
        candidates.append(Path(os.environ["MANIGEO_DATA"]))
    for c in candidates:
        if (c / "texas" / "out1_graph_edges.txt").is_file():
            return c.resolve()
    return None


DATA = _shared_data()
needs_data = pytest.mark.skipif(DATA is None, reason="shared Geom-GCN data absent")


@needs_data
@pytest.mark.parametrize(
    "name, n, m", [("texas", 183, 279), ("wisconsin", 251, 450), ("cornell", 183, 277)]
)
def test_shared_files(name, n, m):
    b = fetch_geom_gcn(name, data_home=DATA, download_if_missing=False)
    A = b.adjacency
    assert A.shape == (n, n) and A.format == "csr"
    assert (A != A.T).nnz == 0  # symmetric
    assert A.diagonal().sum() == 0 and np.all(A.data == 1)
    assert A.nnz == 2 * m
    assert b.X.shape == (n, 1703) and b.X.dtype == np.float32
    assert set(np.unique(b.X)) <= {0.0, 1.0}
    assert b.y.shape == (n,) and set(np.unique(b.y)) == set(range(5))
    for masks in (b.train_masks, b.val_masks, b.test_masks):
        assert masks.shape == (10, n) and masks.dtype == bool
    # 48 / 32 / 20 %, disjoint, covering every node
    np.testing.assert_allclose(b.train_masks.sum(1) / n, 0.48, atol=0.01)
    np.testing.assert_allclose(b.val_masks.sum(1) / n, 0.32, atol=0.01)
    np.testing.assert_allclose(b.test_masks.sum(1) / n, 0.20, atol=0.01)
    total = b.train_masks.astype(int) + b.val_masks + b.test_masks
    assert np.all(total == 1)
    assert not np.array_equal(b.train_masks[0], b.train_masks[1])
    assert "Geom-GCN" in b.DESCR and "Licence" in b.DESCR
    # the edge file lists every hyperlink: node 56 links to 84 in Texas
    if name == "texas":
        assert A[56, 84] == 1 and A[84, 56] == 1


@needs_data
def test_to_pyg():
    torch = pytest.importorskip("torch")
    pytest.importorskip("torch_geometric")
    from torch_geometric.utils import is_undirected

    b = fetch_geom_gcn("Texas", data_home=DATA)
    data = b.to_pyg(3)
    assert data.num_nodes == 183 and data.x.dtype == torch.float32
    assert is_undirected(data.edge_index) and data.edge_index.shape[1] == 2 * 279
    assert not (data.edge_index[0] == data.edge_index[1]).any()
    np.testing.assert_array_equal(data.train_mask.numpy(), b.train_masks[3])
    np.testing.assert_array_equal(data.y.numpy(), b.y)
    with pytest.raises(ValueError, match="split must be in"):
        b.to_pyg(10)


def test_missing_offline_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="download_if_missing=False"):
        fetch_geom_gcn(
            "texas", data_home=tmp_path / "nothing", download_if_missing=False
        )
    with pytest.raises(ValueError, match="name must be one of"):
        fetch_geom_gcn("squirrel", data_home=tmp_path)


def test_unreachable_url(tmp_path, monkeypatch):
    # port 9 on the loopback refuses at once: no real network is touched
    monkeypatch.setattr(_geom_gcn, "_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setattr(_geom_gcn, "_TIMEOUT", 2.0)
    with pytest.raises(OSError, match="could not download .*offline"):
        fetch_geom_gcn("cornell", data_home=tmp_path)
    assert not list((tmp_path / "cornell").glob(".part-*"))  # no partial files


@needs_data
def test_download_from_mirror(tmp_path, monkeypatch):
    """The download path, from a file:// mirror laid out like the origin."""
    mirror = tmp_path / "mirror"
    (mirror / "new_data" / "texas").mkdir(parents=True)
    (mirror / "splits").mkdir()
    for f in (DATA / "texas").iterdir():
        sub = "splits" if f.suffix == ".npz" else "new_data/texas"
        (mirror / sub / f.name).write_bytes(f.read_bytes())
    monkeypatch.setattr(_geom_gcn, "_BASE_URL", mirror.as_uri())
    monkeypatch.setenv("MANIGEO_DATA", str(tmp_path / "home"))
    b = fetch_geom_gcn("texas")
    ref = fetch_geom_gcn("texas", data_home=DATA)
    assert (tmp_path / "home" / "texas" / "texas_split_0.6_0.2_9.npz").is_file()
    assert (b.adjacency != ref.adjacency).nnz == 0
    np.testing.assert_array_equal(b.test_masks, ref.test_masks)


def test_get_data_home(monkeypatch, tmp_path):
    monkeypatch.setenv("MANIGEO_DATA", str(tmp_path))
    assert get_data_home() == tmp_path
    monkeypatch.delenv("MANIGEO_DATA")
    assert get_data_home() == Path.home() / "manigeo_data"
    with pytest.raises(TypeError, match="data_home"):
        get_data_home(3)
