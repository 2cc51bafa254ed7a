"""Every demo runs end to end in --quick mode and writes its figures."""
import importlib.util
import os
import re

import pytest

DEMO_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "demos")


def _load(name):
    spec = importlib.util.spec_from_file_location(f"demo_{name}", os.path.join(DEMO_DIR, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RUN_ALL = _load("run_all")


@pytest.mark.parametrize("name", RUN_ALL.DEMOS)
def test_demo_runs_quick_and_writes_figures(name, tmp_path, capsys):
    _load(name).main(["--quick", "--out", str(tmp_path)])
    pngs = [f for f in os.listdir(tmp_path) if f.endswith(".png")]
    assert pngs, f"demo {name} wrote no figure"
    for f in pngs:
        with open(tmp_path / f, "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    captured = capsys.readouterr()
    assert captured.out.strip(), f"demo {name} printed no headline numbers"
    # it shows which model it trains and how far along, on stderr (tqdm's "3/10 [...epoch/s")
    assert re.search(r"\w.*: +\d+%\|.*\| \d+/\d+ \[.*(epoch/s|s/epoch)", captured.err), \
        f"demo {name} showed no progress"
    if name in ("vae", "cvae"):
        assert (tmp_path / "explorer.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_quiet_demo_shows_no_progress(tmp_path, capsys):
    _load("sparse_contractive").main(["--quick", "--quiet", "--out", str(tmp_path)])
    captured = capsys.readouterr()
    assert captured.out.strip() and "epoch" not in captured.err, captured.err

