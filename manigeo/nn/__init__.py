"""PyTorch layers (imports torch): Lie-group batch normalization for SPD matrices,
sheaf diffusion."""

import importlib

_LAZY = {
    "BiMap": "manigeo.nn._spdnet",
    "ExpEig": "manigeo.nn._spdnet",
    "LieBatchNormSPD": "manigeo.nn._liebn",
    "LogEig": "manigeo.nn._spdnet",
    "ReEig": "manigeo.nn._spdnet",
    "SheafDiffusion": "manigeo.nn._sheaf_diffusion",
    "StiefelSGD": "manigeo.nn._spdnet",
    "SheafConv": "manigeo.nn._sheaf_conv",
    "ConnectionSheafConv": "manigeo.nn._sheaf_conv",
    "AddConnectionLaplacian": "manigeo.nn._sheaf_conv",
    "connection_maps": "manigeo.nn._sheaf_conv",
    "orthogonal_from_params": "manigeo.nn._sheaf_conv",
}

__all__ = list(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'manigeo.nn' has no attribute {name!r}")
