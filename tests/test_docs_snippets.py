"""Run the Python code blocks of the user guide.

Each page's ``.. code-block:: python`` / ``.. code:: python`` blocks are run in
order in one namespace, so every page must define the variables it uses.
Pages that need an optional dependency skip when it is missing.
"""

import importlib.util
import re
import textwrap
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "user_guide"
PAGES = sorted(GUIDE.glob("*.rst"))

#: pages whose snippets fail on this branch, with the reason; the engineers who
#: own these pages fix them on their branches; the lead clears this list at merge.
KNOWN_FAILURES: dict[str, str] = {}

#: pages whose snippets need resources a test run cannot have (a SLURM or
#: Kubernetes cluster, edge lists on disk); the same calls run in
#: tests/graphs/test_dask.py and benchmarks/bench_dask.py
NOT_RUNNABLE: dict[str, str] = {
    "scaling.rst": "cluster recipes and parquet files on disk",
}

_OPTIONAL = ("torch", "torch_geometric", "dask", "distributed", "geomstats", "hnswlib")

_DIRECTIVE = re.compile(r"^(\s*)\.\. (?:code-block|code|sourcecode):: python\s*$")


def extract_blocks(text: str) -> list[str]:
    """Return the source of every python code block of an reST document."""
    lines = text.splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        m = _DIRECTIVE.match(lines[i])
        if not m:
            i += 1
            continue
        indent = len(m.group(1))
        i += 1
        # skip directive options (":linenos:", ...) and blank lines
        while i < len(lines) and (
            not lines[i].strip() or lines[i].strip().startswith(":")
        ):
            i += 1
        body = []
        while i < len(lines):
            line = lines[i]
            if line.strip() and len(line) - len(line.lstrip()) <= indent:
                break
            body.append(line)
            i += 1
        blocks.append(textwrap.dedent("\n".join(body)).strip("\n"))
    return blocks


def test_extract_blocks():
    text = (
        "Title\n\n.. code-block:: python\n   :caption: x\n\n   a = 1\n\n"
        "   b = a + 1\n\ntext\n\n.. code:: python\n\n    c = 3\n"
        ".. code-block:: bash\n\n   ls\n"
    )
    assert extract_blocks(text) == ["a = 1\n\nb = a + 1", "c = 3"]


def _marks(page):
    marks = []
    if page.name in NOT_RUNNABLE:
        marks.append(pytest.mark.skip(reason=NOT_RUNNABLE[page.name]))
    if page.name in KNOWN_FAILURES:
        marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[page.name]))
    return marks


@pytest.mark.parametrize(
    "page",
    [
        pytest.param(p, id=p.name, marks=_marks(p))
        for p in PAGES
        if extract_blocks(p.read_text())
    ],
)
def test_user_guide_page_runs(page):
    code = "\n\n".join(extract_blocks(page.read_text()))
    for module in _OPTIONAL:
        uses = re.search(rf"^\s*(import|from) {module}\b", code, re.MULTILINE)
        if uses and importlib.util.find_spec(module) is None:
            pytest.skip(f"{page.name} needs {module}")
    if "matplotlib" in code:
        pytest.importorskip("matplotlib")
    namespace = {"__name__": f"user_guide_{page.stem}"}
    exec(compile(code, str(page), "exec"), namespace)  # noqa: S102
