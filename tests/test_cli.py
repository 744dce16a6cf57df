import subprocess
import sys

from manigeo.cli import main


def test_demo_runs_and_reports_errors(capsys):
    assert main(["demo", "--n-samples", "600", "--n-sources", "5"]) == 0
    out = capsys.readouterr().out
    assert "sphere RGG: n=600" in out and "median abs error" in out


def test_demo_bad_input(capsys):
    assert main(["demo", "--n-samples", "600", "--keep", "0"]) == 2
    assert "keep must be in (0, 1]" in capsys.readouterr().err


def test_module_entry_point():
    res = subprocess.run(
        [sys.executable, "-m", "manigeo.cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert res.stdout.startswith("manigeo ")
