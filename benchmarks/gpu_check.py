"""One call for the first GPU lent to the project: does minivae's CuPy path hold up on CUDA?

Run it from a checkout, on a machine with an NVIDIA GPU and CuPy (``pip install -e
".[gpu,test,data]"``; PyTorch with CUDA is optional)::

    python benchmarks/gpu_check.py            # meant to finish within 8 minutes (not yet run on a GPU)

It prints, check by check, ``[ok]`` or ``[FAIL]`` with what it saw:

1. the device and the versions (GPU, CUDA runtime and driver, CuPy, NumPy, PyTorch);
2. every kernel of ``minivae/ops/kernels.py`` compiled by NVRTC and launched, in float32
   and float64 (what the C++ harness of the tests cannot check);
3. the CuPy tests (``pytest -k "(cupy or gpu) and not fakecupy and not unavailable"``:
   the real CuPy cases of the backend-parametrized tests and the GPU parity tests), none
   of which may be skipped;
4. one epoch of the 784-400-20 VAE (60,000 synthetic MNIST-shaped rows, batch 128, Adam)
   on CuPy, and of the same model in PyTorch on CUDA when present, in this one run, with
   the ratio of their times (``benchmarks/train_speed.py --backend cupy`` does it fully);
5. ``train``, ``sample`` and ``evaluate`` of ``python -m minivae`` with ``--backend cupy``;
6. the training steps that do not read the loss make no host read: they run under
   ``cupyx.allow_synchronize(False)``, which raises on a synchronisation CuPy detects
   (CuPy's own caveat: it can miss a synchronisation outside CuPy).

It exits 0 when every check passed, 1 when one failed, and 2, after one line saying why,
on a machine where the CuPy backend cannot run. ``--stand-in`` runs checks 1, 2, 4, 5 and
6 on the tests' CuPy stand-in (``tests/fakecupy``, no GPU), small, so the tests can run
this script everywhere; the numbers it then prints say nothing about a GPU.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [HERE, ROOT]  # _torch_peer, and minivae from this checkout

import numpy as np  # noqa: E402

import minivae  # noqa: E402
from minivae.backend import cupy_available, module_for  # noqa: E402
from minivae.ops import kernels  # noqa: E402
from minivae.train import SAVE_EVERY  # noqa: E402

RESULTS = []


def check(title):
    """Run the decorated check now; print ``[ok]`` or ``[FAIL]`` and what it said."""
    def run(fn):
        start = time.perf_counter()
        try:
            said = fn()
            ok = True
        except Exception as err:  # a check that fails must not stop the others
            said, ok = f"{type(err).__name__}: {err}\n{traceback.format_exc(limit=-3)}", False
        seconds = time.perf_counter() - start
        print(f"[{'ok' if ok else 'FAIL'}] {title} ({seconds:.1f} s)", flush=True)
        for line in str(said or "").rstrip().splitlines():
            print(f"      {line}", flush=True)
        RESULTS.append((title, ok))
        return fn
    return run


def device_lines(cp, stand_in):
    lines = [f"python {platform.python_version()}, numpy {np.__version__}, minivae {minivae.__version__}, "
             f"cupy {getattr(cp, '__version__', '?')}"]
    if stand_in:
        return lines + ["device: the tests' CuPy stand-in on NumPy (no GPU: these numbers are not a GPU's)"]
    rt = cp.cuda.runtime
    props = rt.getDeviceProperties(0)
    name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    lines.append(f"device 0 of {rt.getDeviceCount()}: {name}, {props['totalGlobalMem'] / 2**30:.1f} GiB, "
                 f"compute capability {props['major']}.{props['minor']}")
    lines.append(f"CUDA runtime {rt.runtimeGetVersion()}, driver {rt.driverGetVersion()}")
    try:
        import torch

        lines.append(f"torch {torch.__version__}, CUDA available: {torch.cuda.is_available()}")
    except ImportError:
        lines.append("torch: not installed (the PyTorch comparison is skipped)")
    return lines


def kernel_arguments(cp, name, dtype):
    """Inputs and outputs for one launch of kernel ``name``: arrays of ``dtype``, float scalars."""
    ins, outs, _ = kernels.source(name)
    rng = np.random.default_rng(0)
    args = []
    for typ, var in (p.split() for p in (ins + "," + outs).split(",")):
        if typ == "T" and var not in ("lr_t", "eps_t"):  # Adam's step size and epsilon are scalars
            args.append(cp.asarray((0.5 + rng.random(1000)).astype(dtype)))
        else:
            args.append(0.25)
    return args


def synchronize(cp, stand_in):
    if not stand_in:
        cp.cuda.Device().synchronize()


def time_minivae_epoch(X, hidden, stand_in, cp):
    from minivae import VAE, Adam

    model = VAE(X.shape[1], (hidden,), 20, seed=0)
    opt = Adam(lr=1e-3)
    model.fit(X[:1280], epochs=1, batch_size=128, optimizer=opt, verbose=False)  # warm-up: kernels, pools
    synchronize(cp, stand_in)
    start = time.perf_counter()
    history = model.fit(X, epochs=1, batch_size=128, optimizer=opt, verbose=False)
    synchronize(cp, stand_in)
    return time.perf_counter() - start, history["loss"][-1]


def time_torch_epoch(X_host, hidden):
    import _torch_peer

    torch = _torch_peer.torch
    if torch is None or not torch.cuda.is_available():
        return None
    model = _torch_peer.make_torch(0, input_dim=X_host.shape[1], hidden_dim=hidden).cuda()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    X = torch.from_numpy(X_host).cuda()
    gen = torch.Generator().manual_seed(0)
    _torch_peer.train_epoch(model, opt, X[:1280], 128, gen)  # warm-up
    torch.cuda.synchronize()
    start = time.perf_counter()
    _torch_peer.train_epoch(model, opt, X, 128, gen)
    torch.cuda.synchronize()
    return time.perf_counter() - start


def no_sync_between_reads(cp, forbid, n_steps=35):
    """Fit one epoch with every step that does not read the loss run under ``forbid()``."""
    from minivae import VAE, Adam

    model, opt = VAE(64, (32,), 4, seed=0), Adam(lr=1e-3)
    X = cp.asarray(np.random.default_rng(0).random((8 * n_steps, 64)).astype(np.float32))
    model.fit(X[:16], epochs=1, batch_size=8, optimizer=opt, verbose=False)  # binds the optimizer, builds kernels
    inner_loss, inner_step = model.loss_terms_and_grads, opt.step
    state = {"i": 0, "stack": None, "guarded": 0}

    def loss(*args, **kw):
        i = state["i"]
        if not (i % SAVE_EVERY == 0 or i == n_steps - 1):  # fit does not read this step's loss
            state["stack"] = contextlib.ExitStack()
            state["stack"].enter_context(forbid())
            state["guarded"] += 1
        return inner_loss(*args, **kw)

    def step(*args, **kw):
        try:
            return inner_step(*args, **kw)
        finally:
            if state["stack"] is not None:
                state["stack"].close()
                state["stack"] = None
            state["i"] += 1

    model.loss_terms_and_grads, opt.step = loss, step
    model.fit(X, epochs=1, batch_size=8, optimizer=opt, verbose=False)
    assert state["i"] == n_steps, state
    return f"{state['guarded']} of {n_steps} steps ran with synchronisation forbidden, and none synchronised"


def run_checks(cp, stand_in, n_rows, hidden, run_tests):
    @check("device and versions")
    def _():
        return "\n".join(device_lines(cp, stand_in))

    @check("every kernel compiles and runs, float32 and float64")
    def _():
        said = []
        for name in kernels.NAMES:
            for dtype in (np.float32, np.float64):
                out = kernels.kernel(cp, name)(*kernel_arguments(cp, name, dtype))
                outs = out if isinstance(out, tuple) else (out,)
                assert all(o.dtype == dtype and bool(cp.isfinite(o).all()) for o in outs), (name, dtype)
            said.append(name)
        return "launched: " + ", ".join(said)

    if run_tests:
        @check("the CuPy tests (none may skip on a GPU)")
        def _():
            done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                                   "-k", "(cupy or gpu) and not fakecupy and not unavailable", "tests"],
                                  cwd=ROOT, capture_output=True, text=True, timeout=300)
            tail = "\n".join(done.stdout.strip().splitlines()[-15:])
            assert done.returncode == 0 and " skipped" not in tail.splitlines()[-1], tail
            return tail.splitlines()[-1]

    @check(f"one epoch of the 784-{hidden}-20 VAE on {n_rows} rows: minivae on CuPy, PyTorch on CUDA")
    def _():
        X_host = np.random.default_rng(0).random((n_rows, 784), dtype=np.float32)
        X = cp.asarray(X_host)
        t_mini, loss = time_minivae_epoch(X, hidden, stand_in, cp)
        assert np.isfinite(loss), loss
        said = [f"minivae on CuPy: {t_mini:.2f} s, last loss {loss:.2f} nats"]
        t_torch = None if stand_in else time_torch_epoch(X_host, hidden)
        if t_torch is None:
            said.append("PyTorch on CUDA: not available here")
        else:
            said.append(f"PyTorch on CUDA: {t_torch:.2f} s; minivae / PyTorch = {t_mini / t_torch:.2f}")
        return "\n".join(said)

    @check("python -m minivae train / sample / evaluate --backend cupy")
    def _():
        from minivae.cli import main

        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "run")
            small = ["--hidden", "32", "--limit", "300"] if stand_in else []  # the stand-in is slow, not the point
            assert main(["train", "vae", "--data", "digits", "--epochs", "2", "--backend", "cupy", "--no-figures",
                         "--quiet", "--out", out, *small]) == 0
            with open(os.path.join(out, "history.json"), encoding="utf-8") as f:
                history = json.load(f)
            assert history["run"]["backend"] == "cupy", history["run"]
            assert main(["sample", out, "--n", "16", "--backend", "cupy", "--out", os.path.join(tmp, "s.png")]) == 0
            assert main(["evaluate", out, "--n-samples", "10", "--quiet", "--backend", "cupy"]) == 0
            return f"trained 2 epochs on digits: loss {history['loss'][-1]:.2f}, test {history['val_loss'][-1]:.2f}"

    @check("the steps that do not read the loss make no host read")
    def _():
        if stand_in:
            return no_sync_between_reads(cp, cp.forbid_host_reads)
        import cupyx

        def forbid():
            stack = contextlib.ExitStack()
            stack.enter_context(warnings.catch_warnings())
            warnings.simplefilter("ignore", DeprecationWarning)  # deprecated since CuPy 10, still there
            stack.enter_context(cupyx.allow_synchronize(False))
            return stack

        return no_sync_between_reads(cp, forbid)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=60000, help="rows of the timed epoch (default: %(default)s)")
    parser.add_argument("--hidden", type=int, default=400, help="hidden width of the timed VAE")
    parser.add_argument("--no-tests", action="store_true", help="skip the CuPy tests (check 3)")
    parser.add_argument("--stand-in", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.stand_in:
        ok, why = cupy_available()
        if not ok:
            print(f"gpu_check: no usable GPU here, nothing checked: {why}", file=sys.stderr)
            return 2
    cp = module_for("cupy")
    previous = minivae.get_backend()
    minivae.set_backend("cupy")
    RESULTS.clear()
    start = time.perf_counter()
    try:
        run_checks(cp, args.stand_in, args.n, args.hidden, run_tests=not args.stand_in and not args.no_tests)
    finally:
        minivae.set_backend(previous)
    failed = [title for title, ok in RESULTS if not ok]
    print(f"{len(RESULTS) - len(failed)} of {len(RESULTS)} checks passed in {time.perf_counter() - start:.0f} s"
          + (f"; failed: {'; '.join(failed)}" if failed else ""), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
