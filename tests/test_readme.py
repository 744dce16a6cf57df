"""Run every ```python block of README.md (copy-paste runnable, issue 13)."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
_OPTIONAL = ("torch", "torch_geometric", "dask", "distributed", "geomstats", "hnswlib")
#: parts whose examples need an optional dependency besides their imports
_NEEDS = {"LieGroupStandardScaler": "geomstats"}


def readme_blocks(text: str) -> list[str]:
    """Source of every fenced python block."""
    return [m.group(1) for m in _BLOCK.finditer(text)]


def test_readme_has_an_example_per_part():
    code = "\n".join(readme_blocks(README.read_text(encoding="utf-8")))
    for part in (
        "graphs",
        "geodesics",
        "RGGMetric",
        "HeatGeodesicEmbedding",
        "spd",
        "LieGroupStandardScaler",
        "ConnectionLaplacian",
        "nn",
    ):
        assert part in code, f"README has no Python example using {part}"


def test_block_extraction():
    text = "x\n```python\na = 1\n```\n```bash\nls\n```\n```python\nb = 2\n```\n"
    assert readme_blocks(text) == ["a = 1\n", "b = 2\n"]


@pytest.mark.parametrize(
    "code",
    [
        pytest.param(code, id=f"block{i}")
        for i, code in enumerate(readme_blocks(README.read_text(encoding="utf-8")))
    ],
)
def test_readme_example_runs(code, capsys):
    for module in _OPTIONAL:
        if re.search(rf"^\s*(import|from) {module}\b", code, re.MULTILINE):
            pytest.importorskip(module)
    for name, module in _NEEDS.items():
        if name in code:
            pytest.importorskip(module)
    assert len(code.strip().splitlines()) <= 12, "README examples stay about ten lines"
    exec(compile(code, str(README), "exec"), {"__name__": "readme"})  # noqa: S102
    assert capsys.readouterr().out.strip(), "every example prints its result"
