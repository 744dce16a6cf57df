"""Optional dependencies: import them with an error that names the extra.

torch, python-graphblas, geomstats, dask/distributed, hnswlib and
torch_geometric are extras of manigeo (``pip install 'manigeo[all]'`` has them
all).  Every part that needs one imports it through :func:`import_optional`, so
a missing package raises an ``ImportError`` that says which extra to install
instead of a bare ``ModuleNotFoundError`` deep inside a call.
"""

from __future__ import annotations

import importlib
from types import ModuleType

#: extra name -> the PyPI packages it installs (kept in sync with setup.cfg by
#: ``tests/test_layout.py``).
EXTRAS: dict[str, tuple[str, ...]] = {
    "torch": ("torch",),
    "graphblas": ("python-graphblas",),
    "lie": ("geomstats",),
    "dask": ("dask[dataframe]", "distributed"),
    "hnsw": ("hnswlib",),
    "pyg": ("torch_geometric",),
}


def import_optional(
    module: str, extra: str, *, purpose: str | None = None
) -> ModuleType:
    """Import an optional dependency or raise an ImportError naming the extra.

    Parameters
    ----------
    module : str
        Module to import, e.g. ``"graphblas"`` or
        ``"geomstats.geometry.special_orthogonal"``.
    extra : str
        The manigeo extra that installs it (a key of :data:`EXTRAS`).
    purpose : str or None, default=None
        What needs it, for the message (e.g. ``"backend='graphblas'"``).

    Returns
    -------
    module : module
        The imported module.

    Raises
    ------
    ImportError
        When ``module`` cannot be imported; the message says
        ``pip install 'manigeo[<extra>]'``.

    Examples
    --------
    >>> from manigeo._optional import import_optional
    >>> import_optional("json", "torch").__name__
    'json'
    >>> import_optional("no_such_module_xyz", "lie")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ImportError: no_such_module_xyz is not installed; ... 'manigeo[lie]'
    """
    if extra not in EXTRAS:
        raise ValueError(f"unknown extra {extra!r}; expected one of {sorted(EXTRAS)}")
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        who = f"{purpose} needs {module}, which" if purpose else module
        raise ImportError(
            f"{who} is not installed; install it with pip install 'manigeo[{extra}]'"
        ) from exc
