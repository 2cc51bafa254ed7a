"""The BLAS thread rule of minivae/threads.py: one thread for small products or a busy machine.

Speed is measured in benchmarks/busy_machine.py, never here; these tests check the rule
itself (which limit for which model and load), that ``fit`` trains under it and puts the
BLAS back afterwards, and that the load probe sees another process's work.
"""
import subprocess
import sys

import numpy as np
import pytest

from minivae import VAE, Adam, Autoencoder
from minivae import threads

threadpoolctl = pytest.importorskip("threadpoolctl")


def blas_threads():
    return max(p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas")


@pytest.fixture
def auto(monkeypatch):
    monkeypatch.delenv(threads.ENV, raising=False)
    monkeypatch.setattr(threads, "_usable_cpus", lambda: 2)


def test_largest_product_is_batch_times_the_widest_weight():
    vae = VAE(784, hidden_dims=(400,), latent_dim=20)
    assert threads.largest_product(vae, 128) == 128 * 784 * 400  # 784-400 and 400-784 tie
    ae = Autoencoder(64, hidden_dims=(32,), latent_dim=8)
    assert threads.largest_product(ae, 10) == 10 * 64 * 32


def test_small_products_get_one_thread_whatever_the_load(auto):
    small = VAE(64, hidden_dims=(128,), latent_dim=8)  # 128 * 64 * 128 = 1.0 million
    assert threads.largest_product(small, 128) < threads.SMALL_PRODUCT
    assert threads.thread_limit(small, 128, busy=0.0) == 1
    assert threads.thread_limit(small, 128, busy=2.0) == 1


def test_large_products_keep_the_blas_threads_unless_the_machine_is_busy(auto, monkeypatch):
    large = VAE(784, hidden_dims=(400,), latent_dim=20)
    assert threads.largest_product(large, 128) >= threads.SMALL_PRODUCT
    assert threads.thread_limit(large, 128, busy=0.0) is None
    assert threads.thread_limit(large, 128, busy=0.3) is None  # a little background work
    assert threads.thread_limit(large, 128, busy=1.0) == 1     # one of the two cores is taken
    monkeypatch.setattr(threads, "_usable_cpus", lambda: 16)
    assert threads.thread_limit(large, 128, busy=3.2) == 13    # one thread per idle core
    assert threads.thread_limit(large, 128, busy=20.0) == 1


def test_the_environment_variable_overrides_the_rule(monkeypatch):
    small = VAE(64, hidden_dims=(128,), latent_dim=8)
    large = VAE(784, hidden_dims=(400,), latent_dim=20)
    monkeypatch.setenv(threads.ENV, "blas")
    assert threads.thread_limit(small, 128) is None
    monkeypatch.setenv(threads.ENV, "3")
    assert threads.thread_limit(large, 128, busy=0.0) == 3
    for bad in ("0", "-1", "many"):
        monkeypatch.setenv(threads.ENV, bad)
        with pytest.raises(ValueError, match="MINIVAE_BLAS_THREADS"):
            threads.thread_limit(small, 128)


def test_nothing_changes_on_cupy():
    class OnGPU:
        backend = "cupy"

    assert threads.thread_limit(OnGPU(), 128, "1") is None


def test_fit_trains_under_the_limit_and_restores_the_blas(auto):
    model = Autoencoder(64, hidden_dims=(16,), latent_dim=4, seed=0)  # tiny: one thread
    seen = []
    inner = model.loss_terms_and_grads

    def recording(*args, **kwargs):
        seen.append(blas_threads())
        return inner(*args, **kwargs)

    model.loss_terms_and_grads = recording
    X = np.random.default_rng(0).random((64, 64)).astype(np.float32)
    with threadpoolctl.threadpool_limits(2, user_api="blas"):  # as on a 2-core machine
        model.fit(X, epochs=1, batch_size=32, optimizer=Adam(), verbose=False)
        after = blas_threads()
    assert seen == [1, 1] and after == 2


def test_a_limit_never_raises_the_thread_count():
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        with threads.at_most(4) as limit:
            assert limit is None and blas_threads() == 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the load probe reads /proc (Linux)")
def test_the_probe_sees_another_process_spin():
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        busy = threads.busy_cores(0.3)
    finally:
        spinner.terminate()
        spinner.wait(timeout=10)
    assert busy is not None and 0.5 <= busy <= threads._usable_cpus() + 0.5
