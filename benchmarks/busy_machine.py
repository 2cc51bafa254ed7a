"""How much slower does training get when the machine is busy, and what do BLAS threads do to it?

A student's laptop always has something else running. This script trains two workloads
on a quiet machine and again beside ``--busy`` processes that each keep one core busy
(a pure-Python loop, ``while True: pass``), under three BLAS thread settings:

- **BLAS default**: the thread count the BLAS chose (OpenBLAS: one per core);
- **minivae rule**: what ``fit`` does by default (``minivae/threads.py``): one BLAS thread
  when the largest matrix product of a step is small, the BLAS default otherwise;
- **1 thread**: one BLAS thread always.

The setting is passed to ``fit`` through ``MINIVAE_BLAS_THREADS`` (``blas``, ``auto``, ``1``).

Workloads:

- **demo fit**: the denoising demo's model, a ``DenoisingAutoencoder`` 784-256-32 (ReLU,
  BCE, masking noise), batch 64, Adam, ``--demo-epochs`` epochs over 4,000 rows: the size
  of most demos' models;
- **784-400-20 epoch**: the pytorch/examples VAE of ``train_speed.py`` (784-400-20, batch
  128, Adam), one epoch over ``--epoch-rows`` rows (default 60,000, one MNIST epoch).

The pixels are synthetic (uniform in [0, 1], seeded): speed does not depend on what they
show. Rounds are interleaved (each round runs every setting, quiet then busy), and the
table shows the median round, with the fastest and slowest in brackets.

``--sweep`` instead times ms per training step for a range of model sizes on 1 thread and
on the BLAS default, quiet and busy: the measurement ``SMALL_PRODUCT`` in
``minivae/threads.py`` was chosen from.

Run::

    python benchmarks/busy_machine.py                  # 3 rounds, 2 busy processes (a few minutes)
    python benchmarks/busy_machine.py --quick          # 1 round, small workloads (under a minute)
    python benchmarks/busy_machine.py --sweep          # ms/step by model size, 1 thread vs default

A machine that is busy with other work already gives noisy numbers; read the ratios
between settings within a round, and run it on an otherwise idle machine for the record.
A ratio is printed only when the rounds behind it agree within 1.5x (so at least two
rounds: ``--quick`` prints none); otherwise the table shows ``—`` and the reasons follow.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]  # _sanity, and minivae from a checkout, like the demos

from minivae import VAE, Adam, DenoisingAutoencoder  # noqa: E402
from minivae.threads import ENV, largest_product, thread_limit  # noqa: E402
from _sanity import problems, say  # noqa: E402

SETTINGS = {"BLAS default": "blas", "minivae rule": "auto", "1 thread": "1"}

#: (name, input_dim, hidden_dims, latent_dim, batch size) for --sweep, smallest product first
SWEEP = [
    ("8x8 digits AE 64-32-8 (anomaly)", 64, (32,), 8, 64),
    ("8x8 digits VAE 64-128-8", 64, (128,), 8, 128),
    ("AE 784-128-8 (ae_basics)", 784, (128,), 8, 64),
    ("AE 784-256-32 (denoising)", 784, (256,), 32, 64),
    ("VAE 784-256-128-8 (CLI)", 784, (256, 128), 8, 128),
    ("VAE 784-400-20, batch 64", 784, (400,), 20, 64),
    ("VAE 784-400-20 (benchmark)", 784, (400,), 20, 128),
    ("VAE 784-512-256-16, batch 256", 784, (512, 256), 16, 256),
]


# ---------------------------------------------------------------------- the load generator
@contextlib.contextmanager
def busy(n):
    """``n`` processes that each spin one core (pure Python) for as long as the block runs."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        if procs:
            time.sleep(0.5)  # let them get going
        yield
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()


@contextlib.contextmanager
def setting(value):
    """Run the block with ``MINIVAE_BLAS_THREADS=value`` (restored afterwards)."""
    old = os.environ.get(ENV)
    os.environ[ENV] = value
    try:
        yield
    finally:
        if old is None:
            del os.environ[ENV]
        else:
            os.environ[ENV] = old


# ---------------------------------------------------------------------- workloads
def data(rows, seed=0):
    return np.random.default_rng(seed).random((rows, 784), dtype=np.float32)


def demo_fit(X, epochs):
    model = DenoisingAutoencoder(784, hidden_dims=(256,), latent_dim=32, corruption="masking", seed=0)
    model.fit(X, epochs=epochs, batch_size=64, optimizer=Adam(2e-3), verbose=False)


def vae_epoch(X):
    model = VAE(784, hidden_dims=(400,), latent_dim=20, seed=0)
    model.fit(X, epochs=1, batch_size=128, optimizer=Adam(1e-3), verbose=False)


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - start


def machine():
    info = {"cpus": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__,
            "machine": platform.processor() or platform.machine()}
    if hasattr(os, "sched_getaffinity"):
        info["cpus usable"] = len(os.sched_getaffinity(0))
    if hasattr(os, "getloadavg"):
        info["load average at start (1 min)"] = round(os.getloadavg()[0], 2)
    try:
        from threadpoolctl import threadpool_info

        blas = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        info["blas"] = [f"{p['internal_api']} {p.get('version')}, {p['num_threads']} threads" for p in blas]
    except ImportError:
        info["blas"] = "unknown (threadpoolctl not installed)"
    return info


def spread(times):
    return f"{statistics.median(times):7.2f} s [{min(times):.2f}-{max(times):.2f}]"


# ---------------------------------------------------------------------- the two measurements
def compare(args):
    workloads = {
        f"demo fit (DAE 784-256-32, batch 64, {args.demo_epochs} epochs x 4,000 rows)":
            (demo_fit, (data(4000), args.demo_epochs)),
        f"784-400-20 VAE, one epoch of {args.epoch_rows:,} rows": (vae_epoch, (data(args.epoch_rows),)),
    }
    for fn, fargs in workloads.values():  # warm-up: page in the code and the BLAS
        with setting("auto"):
            fn(fargs[0][:1024], *fargs[1:])
    loads = (0, args.busy)
    times = {(w, b, s): [] for w in workloads for b in loads for s in SETTINGS}
    for r in range(args.repeats):
        for b in loads:
            with busy(b):
                for w, (fn, fargs) in workloads.items():
                    for s, value in SETTINGS.items():
                        with setting(value):
                            times[w, b, s].append(timed(fn, *fargs))
        print(f"round {r + 1} of {args.repeats} done", file=sys.stderr, flush=True)
    print(f"\nSeconds (median of {args.repeats} rounds [fastest-slowest]); busy = {args.busy} processes each "
          "spinning one core beside the training.\n")
    print(f"| workload | busy | {' | '.join(SETTINGS)} |")
    print(f"| --- | ---: |{' ---: |' * len(SETTINGS)}")
    for w in workloads:
        for b in loads:
            print(f"| {w} | {b} | " + " | ".join(spread(times[w, b, s]) for s in SETTINGS) + " |")
    print("\nSlowdown when busy (busy median / quiet median):\n")
    print(f"| workload | {' | '.join(SETTINGS)} |")
    print(f"| --- |{' ---: |' * len(SETTINGS)}")
    found = []
    for w in workloads:
        cells = []
        for s in SETTINGS:
            why = problems(rounds={f"{w}, busy {b}, {s}": times[w, b, s] for b in loads})
            found += why
            ratio = statistics.median(times[w, args.busy, s]) / statistics.median(times[w, 0, s])
            cells.append("—" if why else f"{ratio:.2f}x")
        print(f"| {w} | " + " | ".join(cells) + " |")
    say(found, "slowdown")
    return {f"{w} | busy {b} | {s}": t for (w, b, s), t in times.items()}


def sweep(args):
    X = data(4096)
    steps = {}
    loads = (0, args.busy) if args.busy else (0,)
    for r in range(args.repeats):
        for b in loads:
            with busy(b):
                for name, D, hidden, latent, batch in SWEEP:
                    for s in ("1", "blas"):
                        model = VAE(D, hidden_dims=hidden, latent_dim=latent, seed=0)
                        rows = X[:args.sweep_rows, :D]
                        with setting(s):
                            t = timed(model.fit, rows, epochs=1, batch_size=batch, optimizer=Adam(1e-3),
                                      verbose=False)
                        steps.setdefault((name, b, s), []).append(1e3 * t / -(-rows.shape[0] // batch))
        print(f"round {r + 1} of {args.repeats} done", file=sys.stderr, flush=True)
    print(f"\nms per training step (median of {args.repeats} rounds); busy = {args.busy} spinning processes.")
    print("'2/1' = time on the BLAS default / time on 1 thread (below 1: the threads help).\n")
    print("'rule' = what minivae's rule chooses on a quiet machine (on a busy one: one thread per idle core).\n")
    print("| model, batch | product (M mult-adds) | rule | quiet: 1 thread | default | 2/1 "
          + ("| busy: 1 thread | default | 2/1 |" if len(loads) > 1 else "|"))
    print("| --- | ---: | --- | ---: | ---: | ---: |" + (" ---: | ---: | ---: |" if len(loads) > 1 else ""))
    found = []
    for name, D, hidden, latent, batch in SWEEP:
        model = VAE(D, hidden_dims=hidden, latent_dim=latent, seed=0)
        rule = "1 thread" if thread_limit(model, batch, "auto", busy=0.0) == 1 else "default"
        cells = []
        for b in loads:
            one, default = (statistics.median(steps[name, b, s]) for s in ("1", "blas"))
            why = problems(rounds={f"{name}, busy {b}, {s}": steps[name, b, s] for s in ("1", "blas")})
            found += why
            cells += [f"{one:.2f}", f"{default:.2f}", "—" if why else f"{default / one:.2f}"]
        print(f"| {name}, {batch} | {largest_product(model, batch) / 1e6:.1f} | {rule} | " + " | ".join(cells) + " |")
    say(found, "'2/1' ratio")
    return {f"{n} | busy {b} | {s}": t for (n, b, s), t in steps.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--busy", type=int, default=2,
                        help="spinning processes beside the training (default: 2; 0: quiet only, with --sweep)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds (default: 3)")
    parser.add_argument("--demo-epochs", type=int, default=3, help="epochs of the demo fit (default: 3)")
    parser.add_argument("--epoch-rows", type=int, default=60000, help="rows of the VAE epoch (default: 60,000)")
    parser.add_argument("--sweep", action="store_true", help="ms per step by model size instead")
    parser.add_argument("--sweep-rows", type=int, default=2048, help="rows per --sweep fit (default: 2,048)")
    parser.add_argument("--quick", action="store_true", help="1 round, 1 demo epoch, 6,400 rows: a smoke test")
    parser.add_argument("--out", default=os.path.join(HERE, "results"), help="folder for the JSON (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.busy < 0 or (args.busy == 0 and not args.sweep):
        parser.error("--busy must be >= 1 (>= 0 with --sweep): the comparison needs a busy machine")
    if args.quick:
        args.repeats, args.demo_epochs, args.epoch_rows, args.sweep_rows = 1, 1, 6400, 512
    info = machine()
    print("machine: " + "; ".join(f"{k}: {v}" for k, v in info.items()))
    results = sweep(args) if args.sweep else compare(args)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "busy_machine_sweep.json" if args.sweep else "busy_machine.json")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"machine": info, "args": vars(args), "seconds" if not args.sweep else "ms_per_step": results},
                  f, indent=1)
    os.replace(tmp, path)
    print(f"\nevery time: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
