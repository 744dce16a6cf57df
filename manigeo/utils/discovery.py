"""Find every public estimator of manigeo (for tests and docs)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from sklearn.base import BaseEstimator


def all_estimators() -> list[tuple[str, type[BaseEstimator]]]:
    """Return ``[(name, class), ...]`` for every public ``BaseEstimator`` subclass.

    Walks all public ``manigeo`` submodules, skipping those whose import needs
    an optional dependency that is missing.

    Returns
    -------
    estimators : list of (str, type)
        Sorted by name.

    Examples
    --------
    >>> from manigeo.utils import all_estimators
    >>> names = [name for name, _ in all_estimators()]
    >>> "RGGMetric" in names and "HeatGeodesicEmbedding" in names
    True
    """
    import manigeo

    found = {}
    for info in pkgutil.walk_packages(manigeo.__path__, prefix="manigeo."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts[1:]) or "tests" in parts:
            continue
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # pragma: no cover - optional dependency missing
            continue
        # lazily exported names (PEP 562 ``__getattr__``) are not module
        # attributes until first access: resolve every name in ``__all__``
        members = dict(inspect.getmembers(module, inspect.isclass))
        for name in getattr(module, "__all__", ()):
            try:
                obj = getattr(module, name)
            except (AttributeError, ImportError):  # pragma: no cover
                continue
            if inspect.isclass(obj):
                members[name] = obj
        for name, obj in members.items():
            if (
                issubclass(obj, BaseEstimator)
                and obj.__module__.startswith("manigeo")
                and not name.startswith("_")
            ):
                found[name] = obj
    return sorted(found.items())
