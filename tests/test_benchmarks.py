"""The benchmark scripts run, and what they print adds up (their timings are not asserted)."""
from __future__ import annotations

import importlib.util
import json
import re
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_step_profile_parts_add_up_to_the_step():
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "step_profile.py"), "--steps", "30", "--batch-size", "16",
         "--hidden", "32"], capture_output=True, text=True, timeout=120, check=True).stdout
    rows = dict(re.findall(r"^\| ([^|*]+?) \| ([-\d.]+) \|", out, flags=re.M))
    whole = float(re.search(r"\*\*the whole step\*\* \| \*\*([\d.]+)\*\*", out).group(1))
    assert len(rows) == 7, out
    assert all(float(v) >= 0 for k, v in rows.items() if not k.startswith("the rest")), rows
    assert abs(sum(float(v) for v in rows.values()) - whole) <= 0.004, (rows, whole)
    assert float(rows["Adam (one step over the flat buffer)"]) > 0
    assert "The 14 matrix products alone" in out


def test_busy_machine_sweep_prints_one_row_per_model(tmp_path):
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "busy_machine.py"), "--sweep", "--quick", "--busy", "0",
         "--out", str(tmp_path)], capture_output=True, text=True, timeout=120, check=True).stdout
    rows = re.findall(r"^\| (.+?), (\d+) \| ([\d.]+) \| (1 thread|default) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+|—) \|$",
                      out, flags=re.M)
    assert len(rows) == 8, out
    # the ratio is checked against the unrounded medians the script saved, not against the rounded
    # cells it printed (whose quotient can miss the printed ratio by more on a fast or busy machine)
    steps = json.loads((tmp_path / "busy_machine_sweep.json").read_text())["ms_per_step"]
    for name, batch, product, rule, one, default, ratio in rows:
        one_ms, default_ms = (statistics.median(steps[f"{name} | busy 0 | {s}"]) for s in ("1", "blas"))
        assert one == f"{one_ms:.2f}" and default == f"{default_ms:.2f}"
        assert ratio == "—"  # one round (--quick): no ratio it could stand behind
        assert (rule == "1 thread") == (float(product) < 4.0)  # the rule: one thread under 4 million
    assert "measured once: run more rounds" in out
    assert (tmp_path / "busy_machine_sweep.json").is_file()


def _sanity():
    spec = importlib.util.spec_from_file_location("_sanity", ROOT / "benchmarks" / "_sanity.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_sanity_rule_refuses_measurements_that_contradict_each_other():
    """The three contradictions a busy machine printed, and the numbers of a quiet run, which pass."""
    problems = _sanity().problems
    # a part longer than the whole: "matrix products 142 % of the step"
    assert any("longer than the whole" in p for p in problems(parts={"products": 1.42}, whole=1.0))
    assert any("add up to" in p for p in problems(parts={"a": 0.6, "b": 0.6}, whole=1.0))
    # a floor longer than a total: a floor of 89.72 s against an epoch of 3.81 s
    assert any("floor" in p for p in problems(floor=89.72, totals={"minivae": 3.81, "PyTorch": 3.9}))
    # a peer 16x slower
    assert any("apart" in p for p in problems(peers=("minivae", 2.0, "PyTorch", 32.0)))
    # rounds that disagree, and a single round, cannot be vouched for
    assert any("range from" in p for p in problems(rounds={"minivae": [2.0, 3.5, 2.1]}))
    assert any("measured once" in p for p in problems(rounds={"minivae": [2.0]}))
    # the README's run (train_speed --repeats 5; step_profile) holds together
    assert problems(parts={"dense": 0.55, "Adam": 0.2, "BCE": 0.1}, whole=1.0) == []
    assert problems(floor=1.10, totals={"minivae": 2.04, "PyTorch": 2.03},
                    rounds={"minivae": [2.01, 2.04, 2.10], "PyTorch": [2.0, 2.03, 2.05], "floor": [1.1, 1.1, 1.12]},
                    peers=("minivae", 2.04, "PyTorch", 2.03)) == []


def test_conv_speed_prints_no_ratio_it_cannot_stand_behind():
    """One round (--quick) cannot show its times are stable: the ratios are withheld, and it says why."""
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "conv_speed.py"), "--quick", "--threads", "1"],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    assert re.search(r"^\| matmul floor \(\d+ products per step\) \| [\d.]+ \| — \|", out, flags=re.M), out
    assert "minivae was measured once" in out and "minivae / pytorch =" not in out
    shares = [int(s) for s in re.findall(r"^\| [^|]+ \| [\d.]+ \| (\d+)% \|$", out, flags=re.M)]
    assert len(shares) >= 3 and 95 <= sum(shares) <= 105  # the pieces of one epoch add up to the whole
