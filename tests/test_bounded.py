"""No test can wait forever: a per-test ceiling (pytest-timeout, set in setup.cfg) turns a
hang into the failure of the one test that hung, and the run goes on."""
import configparser
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PLANTED = textwrap.dedent("""
    import time

    def test_before():
        pass

    def test_planted_hang():
        time.sleep(10**6)

    def test_after():
        pass
""")


def test_the_suite_has_a_ceiling_above_every_subprocess_timeout_and_the_plugins_in_its_test_extra():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    assert 120 < int(cfg["tool:pytest"]["timeout"]) <= 600  # the subprocess timeouts (120 s) fire first
    extra = cfg["options.extras_require"]["test"]
    assert "pytest-timeout" in extra and "pytest-random-order" in extra


def test_a_planted_hang_fails_that_test_within_the_ceiling_and_the_others_run(tmp_path):
    pytest.importorskip("pytest_timeout")
    (tmp_path / "test_planted.py").write_text(PLANTED)
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-c", str(ROOT / "setup.cfg"), "--rootdir",
                           str(tmp_path), "-o", "timeout=1", "test_planted.py"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    seconds = time.monotonic() - start
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Failed: Timeout (>1.0s) from pytest-timeout" in done.stdout, done.stdout
    assert "FAILED test_planted.py::test_planted_hang" in done.stdout, done.stdout
    assert "1 failed, 2 passed" in done.stdout, done.stdout
    assert seconds < 60  # 1 s of ceiling + pytest's start; without it: 10**6 s, or the subprocess timeout
