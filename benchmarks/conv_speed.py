"""How fast does minivae train its ConvVAE, next to PyTorch and next to its own matrix products?

The workload is ``ConvVAE(784, hidden_dims=(16, 32), latent_dim=16)`` (the demo's and
``train convvae``'s default): 28x28 -> Conv2d(1, 16, 4, s2, p1) -> ReLU -> Conv2d(16, 32,
4, s2, p1) -> ReLU -> two Dense(1568, 16) heads; 16 -> Dense(1568) -> ReLU ->
ConvTranspose2d(32, 16, 4, s2, p1) -> ReLU -> ConvTranspose2d(16, 1, 4, s2, p1) -> 784
logits; Bernoulli likelihood plus the closed-form KL, averaged over the batch; Adam(lr=1e-3),
batch 128, float32. The PyTorch peer is the same network with ``torch.nn`` layers and the
same loss.

The data are ``--n`` rows of 784 synthetic pixels drawn uniformly from [0, 1] with a seeded
generator (speed does not depend on what the pixels show; nothing is downloaded).

What is timed, one epoch at a time (the median of ``--repeats`` rounds):

- **minivae**: ``model.fit(X, epochs=1, ...)``, the real training loop;
- **pytorch** (when installed): shuffle, index, forward, backward, ``Adam.step``, with its
  threads set to NumPy's BLAS threads so both use the same cores;
- **matmul floor**: only the matrix products one minivae step performs (listed by
  :func:`step_products`: each convolution is one product forward and two backward, im2col
  style), at the same shapes and dtype, into preallocated outputs, summed over an epoch's
  steps. It leaves out the copies im2col and col2im make, the activations, the loss and Adam.

The three alternate round by round, so a machine that gets busier affects all alike. Beside
the wall-clock seconds, the CPU seconds each library's process used are reported: on a busy
machine, with ``--threads 1``, they are the fairer comparison (time spent waiting for a core
does not count). Then
one more minivae epoch runs under ``cProfile``, and the time inside each piece of
``minivae/ops/conv.py`` (and the rest) says where the time goes.

Run::

    python benchmarks/conv_speed.py               # 4,000 rows (the MNIST subset's training set), 3 rounds
    python benchmarks/conv_speed.py --threads 1   # one BLAS/PyTorch thread each (a busy machine)
    python benchmarks/conv_speed.py --quick       # 512 rows, 1 round: a smoke test
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]  # _sanity, and minivae from a checkout

from minivae import Adam, ConvVAE  # noqa: E402
from _sanity import problems, say  # noqa: E402

try:  # optional: the comparison
    import torch
    from torch import nn
    from torch.nn import functional as F
except ImportError:  # pragma: no cover - depends on the machine
    torch = None

try:
    import threadpoolctl
except ImportError:  # pragma: no cover
    threadpoolctl = None

SIDE, CHANNELS, LATENT, K = 28, (16, 32), 16, 4


def step_products(side, channels, latent, B):
    """``[(m, k, n), ...]``: the shapes of the matrix products of one minivae training step.

    A convolution (§10.6) is ``W (O, R·f²) @ cols (R·f², B·T²)`` forward; backward,
    ``dout (O, B·T²) @ cols.T`` for dW and ``W.T @ dout`` for dx. A transposed convolution
    is the same three products read the other way. Dense layers: one forward, two backward.
    """
    f2, out = K * K, []
    sizes = [side // 2 ** i for i in range(len(channels) + 1)]
    chans = (1, *channels)
    for i, (R, O) in enumerate(zip(chans[:-1], chans[1:])):  # encoder convolutions: S = sizes[i] -> T = sizes[i+1]
        n = B * sizes[i + 1] ** 2
        out += [(O, R * f2, n), (O, n, R * f2), (R * f2, O, n)]  # forward, dW, dx (minivae computes dx even first)
    flat = chans[-1] * sizes[-1] ** 2
    for _ in range(2):  # the mu and logvar heads
        out += [(B, flat, latent), (flat, B, latent), (B, latent, flat)]
    out += [(B, latent, flat), (latent, B, flat), (B, flat, latent)]  # the decoder's Dense
    for i in range(len(channels), 0, -1):  # transposed convolutions: sizes[i] -> sizes[i-1]
        R, O, n = chans[i], chans[i - 1], B * sizes[i] ** 2
        out += [(O * f2, R, n), (R, O * f2, n), (R, n, O * f2)]  # forward (dx-like), dx (conv), dW
    return out


if torch is not None:

    class TorchConvVAE(nn.Module):
        """The same network in PyTorch."""

        def __init__(self):
            super().__init__()
            c1, c2 = CHANNELS
            t = SIDE // 4
            self.enc = nn.Sequential(nn.Conv2d(1, c1, K, 2, 1), nn.ReLU(), nn.Conv2d(c1, c2, K, 2, 1), nn.ReLU(),
                                     nn.Flatten())
            self.mu, self.logvar = nn.Linear(c2 * t * t, LATENT), nn.Linear(c2 * t * t, LATENT)
            self.dec = nn.Sequential(nn.Linear(LATENT, c2 * t * t), nn.ReLU(), nn.Unflatten(1, (c2, t, t)),
                                     nn.ConvTranspose2d(c2, c1, K, 2, 1), nn.ReLU(),
                                     nn.ConvTranspose2d(c1, 1, K, 2, 1), nn.Flatten())

        def loss(self, x):
            h = self.enc(x.view(-1, 1, SIDE, SIDE))
            mu, logvar = self.mu(h), self.logvar(h)
            z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
            logits = self.dec(z)
            recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
            kl = 0.5 * (mu * mu + logvar.exp() - 1.0 - logvar).sum()
            return (recon + kl) / x.shape[0]

    def torch_epoch(model, opt, X, B, gen):
        perm = torch.randperm(X.shape[0], generator=gen)
        for s in range(0, X.shape[0], B):
            xb = X[perm[s:s + B]]
            opt.zero_grad(set_to_none=True)
            loss = model.loss(xb)
            loss.backward()
            opt.step()


def floor_epoch(products, n, B, dtype, repeats=3):
    """Seconds of the step's matrix products summed over the steps of an epoch (best of ``repeats``)."""
    rng = np.random.default_rng(0)
    mats = [(rng.random((m, k), dtype=dtype), rng.random((k, n_), dtype=dtype), np.empty((m, n_), dtype=dtype))
            for m, k, n_ in products]
    steps = -(-n // B)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for a, b, c in mats:
            np.matmul(a, b, out=c)
        best = min(best, time.perf_counter() - start)
    return best * steps


def blas_threads():
    if threadpoolctl is None:
        return None
    blas = [i for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
    return int(blas[0]["num_threads"]) if blas else None


def where_the_time_goes(model, X, B):
    """One minivae epoch under cProfile: seconds inside each piece (own time, not counting callees)."""
    prof = cProfile.Profile()
    opt = Adam(lr=1e-3)
    prof.enable()
    model.fit(X, epochs=1, batch_size=B, optimizer=opt, verbose=False)
    prof.disable()
    stats = pstats.Stats(prof).stats
    groups = {
        "im2col (copies of the windows)": ("conv.py", ("_im2col",)),
        "col2im (adding windows back)": ("conv.py", ("_col2im",)),
        "convolution products (+ layout copy)": ("conv.py", ("_conv", "_conv_dW", "_conv_dx", "_rows")),
        "padding, checks and the rest of conv.py": ("conv.py", None),
        "dense layers": ("dense.py", None),
        "activations": ("activations.py", None),
        "Adam": ("optim.py", None),
    }
    seconds = {k: 0.0 for k in groups}
    total = 0.0
    for (filename, _, func), (_, _, tottime, _, _) in stats.items():
        total += tottime
        for label, (file_part, funcs) in groups.items():
            if filename.endswith(file_part) and (funcs is None or func in funcs):
                seconds[label] += tottime
                break
    seconds["everything else (losses, fit's loop, NumPy calls from Python)"] = total - sum(seconds.values())
    return seconds, total


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=4000, help="rows per epoch (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3, help="rounds; the median is reported")
    parser.add_argument("--quick", action="store_true", help="512 rows, 1 round")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS and PyTorch threads for all three (default: as NumPy's BLAS starts; on a "
                             "busy machine 1 is fairer, see busy_machine.py)")
    args = parser.parse_args(argv)
    if args.threads and threadpoolctl is not None:
        threadpoolctl.threadpool_limits(args.threads, user_api="blas")
    if args.quick:
        args.n, args.repeats = 512, 1
    B = args.batch_size
    X = np.random.default_rng(0).random((args.n, SIDE * SIDE), dtype=np.float32)
    model = ConvVAE(SIDE * SIDE, CHANNELS, LATENT, seed=0)
    opt = Adam(lr=1e-3)
    threads = blas_threads()
    products = step_products(SIDE, CHANNELS, LATENT, B)
    tX = tmodel = topt = gen = None
    if torch is not None:
        if threads:
            torch.set_num_threads(threads)
        torch.manual_seed(0)
        tX, tmodel, gen = torch.from_numpy(X), TorchConvVAE(), torch.Generator().manual_seed(0)
        topt = torch.optim.Adam(tmodel.parameters(), lr=1e-3)
    # warm-up: a short epoch each
    model.fit(X[:2 * B], epochs=1, batch_size=B, optimizer=opt, verbose=False)
    if torch is not None:
        torch_epoch(tmodel, topt, tX[:2 * B], B, gen)
    times = {"minivae": [], "pytorch": [], "floor": []}
    cpu = {"minivae": [], "pytorch": []}

    def timed(name, fn):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        times[name].append(time.perf_counter() - start)
        cpu[name].append(time.process_time() - start_cpu)

    for _ in range(args.repeats):
        timed("minivae", lambda: model.fit(X, epochs=1, batch_size=B, optimizer=opt, verbose=False))
        if torch is not None:
            timed("pytorch", lambda: torch_epoch(tmodel, topt, tX, B, gen))
        times["floor"].append(floor_epoch(products, args.n, B, np.float32))
    med = {k: statistics.median(v) for k, v in times.items() if v}
    med_cpu = {k: statistics.median(v) for k, v in cpu.items() if v}
    print(f"ConvVAE 784 -> conv{CHANNELS} -> {LATENT}, {model.n_params():,} parameters; {args.n} rows, batch {B}, "
          f"float32, {args.repeats} round(s), BLAS threads: {threads or 'unknown'}")
    libs = {k: med[k] for k in ("minivae", "pytorch") if k in med}
    found = problems(floor=med["floor"], totals=libs, rounds=times,
                     peers=("minivae", med["minivae"], "PyTorch", med["pytorch"]) if "pytorch" in med else None)

    def ratio(a, b):
        return "—" if found else f"{a / b:.2f}"

    print("| what | wall seconds per epoch (median) | relative to minivae | CPU seconds of the process (median) |")
    print("| --- | --- | --- | --- |")
    print(f"| minivae | {med['minivae']:.3f} | 1.00 | {med_cpu['minivae']:.3f} |")
    if "pytorch" in med:
        print(f"| pytorch {torch.__version__} (CPU) | {med['pytorch']:.3f} | {ratio(med['pytorch'], med['minivae'])} | "
              f"{med_cpu['pytorch']:.3f} |")
    print(f"| matmul floor ({len(products)} products per step) | {med['floor']:.3f} | "
          f"{ratio(med['floor'], med['minivae'])} | |")
    if "pytorch" in med and not found:
        print(f"minivae / pytorch = {med['minivae'] / med['pytorch']:.2f} in wall time, "
              f"{med_cpu['minivae'] / med_cpu['pytorch']:.2f} in CPU time (fairer on a busy machine with one thread "
              "each; with more threads, CPU time also counts threads that spin)")
    say(found)
    seconds, total = where_the_time_goes(model, X, B)
    print(f"\nwhere one minivae epoch's time goes (cProfile, own time; {total:.2f} s in all under the profiler):")
    print("| piece | seconds | share |")
    print("| --- | --- | --- |")
    for label, s in sorted(seconds.items(), key=lambda kv: -kv[1]):
        print(f"| {label} | {s:.3f} | {s / total:.0%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
