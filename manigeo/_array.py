"""Array helpers shared by the numpy/scipy and torch code paths.

Dispatch is per call, from the input's type: there is no global backend.
torch is imported lazily so that numpy-only users never pay for it.
"""

import sys

import numpy as np


def is_torch(x):
    """Return True when ``x`` is a torch tensor (without importing torch)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def import_torch():
    """Import torch, with an error that says how to install it."""
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - torch is a dependency
        raise ImportError(
            "this function needs PyTorch; install a CPU build with "
            "`pip install torch==2.13.0` or a CUDA build from pytorch.org"
        ) from exc
    return torch


def to_numpy(x):
    """Return ``x`` as a numpy array (detaching and moving torch tensors to CPU)."""
    if is_torch(x):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def resolve_device(device):
    """Return a ``torch.device`` for ``device`` ("cpu", "cuda", "cuda:1", None).

    ``None`` means CUDA when available, else CPU.  Asking for CUDA on a machine
    without it raises a ValueError instead of failing deep inside torch.
    """
    torch = import_torch()
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={str(device)!r} was requested but CUDA is not available; "
            "use device='cpu'"
        )
    return device
