"""``benchmarks/gpu_check.py``, the one call for the first GPU, runs here as far as it can.

Without a GPU it must stop with one line saying so; on the CuPy stand-in it runs its
checks (small) and passes, and a planted host read in every training step fails its
last check. Its timings are printed, never asserted.
"""
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

import minivae

from minivae.backend import cupy_available
from tests.conftest import use_fakecupy
from tests.kernel_harness import CXX

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_check.py"


def _load():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(cupy_available()[0], reason="a GPU is here: run the script itself")
def test_without_a_gpu_it_says_so_in_one_line():
    done = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert done.returncode == 2
    assert done.stdout == "" and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("gpu_check: no usable GPU here, nothing checked: the 'cupy' backend needs")


@pytest.mark.skipif(CXX is None, reason="the CuPy stand-in needs a C++ compiler")
def test_on_the_stand_in_every_check_passes(monkeypatch, capsys):
    use_fakecupy(monkeypatch)
    assert _load().main(["--stand-in", "--n", "256", "--hidden", "32"]) == 0
    out = capsys.readouterr().out
    assert out.count("[ok]") == 5 and "[FAIL]" not in out, out
    assert "launched: bce_with_logits, kl_standard_normal, reparameterize" in out
    assert "5 of 5 checks passed" in out


@pytest.mark.skipif(CXX is None, reason="the CuPy stand-in needs a C++ compiler")
def test_a_host_read_in_every_step_fails_the_last_check(monkeypatch):
    from minivae import Adam

    step = Adam.step

    def reading_step(self, *args, **kw):
        grads = args[-1]
        float(next(iter(grads.values())).sum())  # a careless read of the gradient's size
        return step(self, *args, **kw)

    monkeypatch.setattr(Adam, "step", reading_step)
    fake = use_fakecupy(monkeypatch)
    minivae.set_backend("cupy")  # undone by use_fakecupy's monkeypatch
    with pytest.raises(fake.HostReadForbidden):
        _load().no_sync_between_reads(fake, fake.forbid_host_reads)
