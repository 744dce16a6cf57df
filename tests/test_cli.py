import subprocess
import sys

import pytest

from manigeo.cli import build_parser, main


def test_demo_runs_and_explains(capsys):
    assert main(["demo", "--n-samples", "300", "--n-sources", "5"]) == 0
    out = capsys.readouterr().out
    assert "Sampled 300 random points on the unit sphere" in out
    assert "1. Counting hops" in out and "Typical error" in out
    # the RGGMetric step runs (it silently did not when its import broke)
    assert "2. RGGMetric re-estimated" in out and "times smaller" in out
    assert out.count("Next step:") == 1


def test_demo_tiny_graph_works(capsys):
    # issue 13: --n-samples 10 printed half its output, then failed
    assert main(["demo", "--n-samples", "10"]) == 0
    out = capsys.readouterr().out
    assert "1. Counting hops" in out
    assert "RGGMetric was skipped" in out and "Next step:" in out


@pytest.mark.parametrize("n", ["1", "0", "-5", "ten"])
def test_demo_refuses_bad_sample_count(n, capsys):
    with pytest.raises(SystemExit) as info:
        main(["demo", "--n-samples", n])
    assert info.value.code == 2
    assert "--n-samples" in capsys.readouterr().err


def test_demo_bad_input(capsys):
    assert main(["demo", "--n-samples", "300", "--keep", "0"]) == 2
    assert "keep must be in (0, 1]" in capsys.readouterr().err


def test_help_has_no_markup():
    parser = build_parser()
    texts = [parser.format_help()]
    texts += [
        a.format_help() for a in parser._subparsers._group_actions[0].choices.values()
    ]
    for text in texts:
        for markup in ("``", ":func:", ":class:", "^{", "\\"):
            assert markup not in text, (markup, text)


def test_module_entry_point():
    res = subprocess.run(
        [sys.executable, "-m", "manigeo.cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert res.stdout.startswith("manigeo ")
