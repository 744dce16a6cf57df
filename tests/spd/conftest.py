import pytest

from manigeo import _backend


@pytest.fixture(autouse=True, scope="package")
def _single_torch_thread():
    """Tiny matrices: intra-op threads only add overhead (15x on a loaded
    2-core machine); restore the setting afterwards."""
    torch = pytest.importorskip("torch")
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of a few matrices for the fused block drivers: every batch of a
    test spans several blocks."""
    monkeypatch.setattr(_backend, "_CHOL_BLOCK_BYTES", 3 * 8 * 10 * 10)
