"""Run the docstring Examples of every ``manigeo`` module as doctests.

One test per module.  A module whose import needs a missing optional
dependency (torch, dask, geomstats, ...) is skipped, and so is a docstring
whose Examples import one.
"""

import doctest
import importlib
import importlib.util
import pkgutil
import re

import pytest

import manigeo

_OPTIONAL = ("torch", "torch_geometric", "dask", "distributed", "geomstats", "hnswlib")
_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _modules():
    """Modules whose source contains a ``>>>`` prompt (found without importing)."""
    names = []
    for info in pkgutil.walk_packages(manigeo.__path__, prefix="manigeo."):
        try:
            spec = importlib.util.find_spec(info.name)
        except ImportError:  # its package needs a missing optional dependency
            names.append(info.name)
            continue
        origin = spec.origin if spec else None
        if origin and origin.endswith(".py"):
            with open(origin, encoding="utf-8") as f:
                if ">>>" in f.read():
                    names.append(info.name)
    return sorted(names)


def _missing(source):
    for module in _OPTIONAL:
        if re.search(rf"\b(import|from) {module}\b", source):
            if importlib.util.find_spec(module) is None:
                return module
    return None


class _MissingExtra(Exception):
    """A docstring example needs an optional dependency that is not installed."""


class _Runner(doctest.DocTestRunner):
    """Stops a docstring at the ImportError that names a missing manigeo extra."""

    def report_unexpected_exception(self, out, test, example, exc_info):
        exc = exc_info[1]
        if isinstance(exc, ImportError) and "pip install 'manigeo[" in str(exc):
            raise _MissingExtra(str(exc))
        super().report_unexpected_exception(out, test, example, exc_info)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        pytest.skip(f"{name} needs an optional dependency: {exc}")
    finder = doctest.DocTestFinder(exclude_empty=True)
    tests = [t for t in finder.find(module, name) if t.examples]
    assert tests, f"{name} has '>>>' in its source but no doctest was found"
    runner = _Runner(optionflags=_FLAGS)
    ran = 0
    for test in tests:
        source = "".join(ex.source for ex in test.examples)
        if _missing(source):
            continue
        test.globs = dict(module.__dict__)
        try:
            runner.run(test, clear_globs=True)
        except _MissingExtra:
            continue
        ran += 1
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} doctest example(s) failed in {name}"
    if ran == 0:
        pytest.skip(f"every example of {name} needs an optional dependency")
