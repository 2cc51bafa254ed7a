"""The benchmark scripts run, and what they print adds up (their timings are not asserted)."""
from __future__ import annotations

import re
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
    rows = re.findall(r"^\| (.+?), (\d+) \| ([\d.]+) \| (1 thread|default) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|$",
                      out, flags=re.M)
    assert len(rows) == 8, out
    for name, batch, product, rule, one, default, ratio in rows:
        one, default, ratio = float(one), float(default), float(ratio)  # each printed to 2 decimals
        low, high = (default - 0.005) / (one + 0.005), (default + 0.005) / (one - 0.005)
        assert one > 0.005 and low - 0.005 <= ratio <= high + 0.005  # the ratio of the unrounded times
        assert (rule == "1 thread") == (float(product) < 4.0)  # the rule: one thread under 4 million
    assert (tmp_path / "busy_machine_sweep.json").is_file()
