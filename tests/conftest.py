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
