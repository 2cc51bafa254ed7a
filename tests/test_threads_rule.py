"""The BLAS thread rule through ``fit`` itself: the load probe's reuse, and a BLAS loaded late.

tests/test_threads.py checks the rule with the load given as ``busy=``; here the load
comes from the probe, as in a user's ``fit``, and the limit is read from inside the loop.
"""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from minivae import VAE, Adam
from minivae import threads

threadpoolctl = pytest.importorskip("threadpoolctl")


def blas_threads():
    return max(p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas")


@pytest.fixture
def busy_machine(monkeypatch):
    """Two cores with one kept busy by another process: the probe's calls are counted."""
    probes = []

    def one_core_busy(seconds=threads.PROBE_SECONDS):
        probes.append(seconds)
        return 1.0

    monkeypatch.delenv(threads.ENV, raising=False)
    monkeypatch.setattr(threads, "_usable_cpus", lambda: 2)
    monkeypatch.setattr(threads, "busy_cores", one_core_busy)
    monkeypatch.setattr(threads, "_last_probe", [float("-inf"), None])  # no measurement yet
    return probes


def fit_large_once():
    """One step of a 784-400-20 VAE (a large product); the BLAS thread counts seen inside the loop."""
    model = VAE(784, hidden_dims=(400,), latent_dim=20, seed=0)
    assert threads.largest_product(model, 32) >= threads.SMALL_PRODUCT
    seen = []
    inner = model.loss_terms_and_grads

    def recording(*args, **kwargs):
        seen.append(blas_threads())
        return inner(*args, **kwargs)

    model.loss_terms_and_grads = recording
    X = np.random.default_rng(0).random((32, 784)).astype(np.float32)
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        model.fit(X, epochs=1, batch_size=32, optimizer=Adam(), verbose=False)
    return seen


def test_a_busy_machine_measured_by_the_probe_gets_one_thread_and_the_probe_is_reused(busy_machine):
    assert fit_large_once() == [1]   # measured: one core of two busy -> one thread
    assert fit_large_once() == [1]   # a second fit within PROBE_REUSE_SECONDS ...
    assert len(busy_machine) == 1    # ... reuses the measurement


def test_an_old_measurement_is_taken_again(busy_machine, monkeypatch):
    monkeypatch.setattr(threads, "PROBE_REUSE_SECONDS", 0.0)  # every measurement is already old
    assert fit_large_once() == [1]
    assert fit_large_once() == [1]
    assert len(busy_machine) == 2


LATE_BLAS = textwrap.dedent("""
    import json
    import numpy as np
    import threadpoolctl
    from minivae import Adam, Autoencoder

    def blas():
        return sorted(p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas")

    X = np.random.default_rng(0).random((64, 64)).astype(np.float32)
    Autoencoder(64, (16,), 4, seed=0).fit(X, epochs=1, batch_size=32, verbose=False)  # pools found: NumPy's
    import scipy.linalg  # SciPy's own OpenBLAS arrives after the first fit

    model = Autoencoder(64, (16,), 4, seed=0)  # tiny: the rule says one thread
    seen, inner = [], model.loss_terms_and_grads
    model.loss_terms_and_grads = lambda *a, **k: seen.append(blas()) or inner(*a, **k)
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        model.fit(X, epochs=1, batch_size=32, verbose=False)
        after = blas()
    print(json.dumps({"libraries": len(after), "seen": seen, "after": after}))
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SciPy's OpenBLAS beside NumPy's (Linux wheels)")
def test_a_blas_loaded_after_the_first_fit_is_limited_too():
    """The order bug of issue 23: the pools found by the first fit missed SciPy's OpenBLAS."""
    pytest.importorskip("scipy.linalg")
    done = subprocess.run([sys.executable, "-c", LATE_BLAS], capture_output=True, text=True, timeout=120,
                          env={**os.environ, threads.ENV: "auto"})
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["libraries"] < 2:
        pytest.skip("SciPy shares NumPy's BLAS here: no second library to miss")
    assert result["seen"] == [[1] * result["libraries"]] * 2, result  # every library limited, both steps
    assert result["after"] == [2] * result["libraries"], result      # and every one put back


def test_the_blas_pools_are_looked_for_again_only_after_an_import(monkeypatch):
    """Looking costs ~2 ms and the demos fit some 200 times: once, until a module is imported."""
    looks = []

    class Counted(threadpoolctl.ThreadpoolController):
        def __init__(self, *args, **kwargs):
            looks.append(1)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(threadpoolctl, "ThreadpoolController", Counted)
    monkeypatch.setitem(sys.modules, "minivae_test_fresh_import", None)  # as if a module was imported
    for _ in range(3):
        with threads.at_most(1):
            pass
    assert len(looks) == 1
    monkeypatch.setitem(sys.modules, "minivae_test_another_import", None)
    with threads.at_most(1):
        pass
    assert len(looks) == 2
