import numpy as np
import pytest


def _cuda_available():
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


CUDA = _cuda_available()


@pytest.fixture
def rng():
    """A seeded generator: every test is repeatable."""
    return np.random.default_rng(20261123)


@pytest.fixture(
    params=[
        "cpu",
        pytest.param(
            "cuda",
            marks=[
                pytest.mark.gpu,
                pytest.mark.skipif(not CUDA, reason="CUDA not available"),
            ],
        ),
    ]
)
def device(request):
    """Torch device: always CPU, plus CUDA (marked ``gpu``) when present."""
    return request.param


@pytest.fixture(scope="session")
def dask_client():
    """A 2-worker in-process Dask cluster shared by the session's Dask tests.

    Threads, not processes (``processes=False``): starts in a fraction of a
    second and keeps the tests fast.  Skips when dask/distributed is absent.
    """
    pytest.importorskip("dask.dataframe")
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        dashboard_address=None,
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()
