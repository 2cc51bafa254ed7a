"""Where one training step of minivae's VAE spends its time, part by part.

The workload of ``train_speed.py`` (784-H-20 ReLU VAE, Bernoulli logits, Adam, float32).
Every op minivae's layers call is wrapped with a clock for the timed steps, then the
totals are divided by the number of steps:

- **dense layers**: ``dense_forward`` and ``dense_backward`` (the matrix products, the
  bias add, the bias gradient's column sums); beside them, the **matrix products alone**
  (the 14 products of ``train_speed.STEP_PRODUCTS`` at the same shapes, best of 5);
- **BCE loss and gradient**, **KL**, **reparameterization** (both ways), **ReLU** (both ways);
- **Adam**: one ``optimizer.step`` over the flat parameter buffer;
- **the rest of fit**: a full ``fit`` epoch's time per step minus everything above
  (shuffling, indexing the batch, drawing eps, Python glue, reading the loss, the backup).

Run::

    python benchmarks/step_profile.py                    # batch 128, hidden 400, 300 steps
    python benchmarks/step_profile.py --batch-size 512 --hidden 800

Timings on a busy machine mean little: run it on an idle one (it prints the load). When
its own numbers contradict each other (a part, or the matrix products alone, longer than
the whole step) it prints no shares and says why (``_sanity.py``).
The wrappers themselves cost about a microsecond per call, a few dozen per step.
"""
from __future__ import annotations

import argparse
import collections
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]

import minivae.layers as layers  # noqa: E402
import minivae.ops as ops  # noqa: E402
from minivae import VAE, Adam  # noqa: E402
from train_speed import D, J, MatmulFloor, cpu_model, numpy_blas  # noqa: E402
from _sanity import problems, say  # noqa: E402

PARTS = {  # part of the step -> the functions whose time it collects
    "dense layers (products + bias)": ("dense_forward", "dense_backward"),
    "BCE loss and gradient": ("bce_with_logits",),
    "KL and its gradient": ("kl_standard_normal",),
    "reparameterization (both ways)": ("reparameterize", "reparameterize_backward"),
    "ReLU (both ways)": ("relu_forward", "relu_backward"),
}


class Clock:
    """Wraps functions so that each call adds its wall time to ``totals[name]``."""

    def __init__(self):
        self.totals = collections.defaultdict(float)
        self.on = False

    def wrap(self, name, fn):
        def timed(*args, **kwargs):
            if not self.on:
                return fn(*args, **kwargs)
            start = time.perf_counter()
            out = fn(*args, **kwargs)
            self.totals[name] += time.perf_counter() - start
            return out

        return timed


def instrument(clock):
    """Route every call the VAE makes to the timed ops through ``clock``."""
    for names in PARTS.values():
        for name in names:
            setattr(ops, name, clock.wrap(name, getattr(ops, name)))
    layers.ReLU._forward = staticmethod(ops.relu_forward)
    layers.ReLU._backward = staticmethod(ops.relu_backward)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--hidden", type=int, default=400)
    p.add_argument("--steps", type=int, default=300, help="timed steps (default 300)")
    args = p.parse_args(argv)
    B, H, steps = args.batch_size, args.hidden, args.steps

    clock = Clock()
    instrument(clock)
    X = np.random.default_rng(0).random((B * steps, D), dtype=np.float32)
    model, opt = VAE(D, (H,), J, seed=0), Adam(1e-3)
    model.fit(X[:B * 20], epochs=1, batch_size=B, optimizer=opt, verbose=False)  # warm-up

    # the optimizer's step, timed inside fit through a wrapped Adam.step
    adam_step = opt.step
    opt.step = clock.wrap("adam", adam_step)
    clock.on = True
    start = time.perf_counter()
    model.fit(X, epochs=1, batch_size=B, optimizer=opt, verbose=False)
    per_step = (time.perf_counter() - start) / steps
    clock.on = False
    opt.step = adam_step

    floor = MatmulFloor(np, B, H, sync=lambda: None)
    floor.calibrate(0.5)
    matmuls = floor.floor_step()

    rows = [(part, sum(clock.totals[n] for n in names) / steps) for part, names in PARTS.items()]
    rows.append(("Adam (one step over the flat buffer)", clock.totals["adam"] / steps))
    rows.append(("the rest of fit (shuffle, batch, eps, glue)", per_step - sum(t for _, t in rows)))

    blas, threads = numpy_blas()
    print(f"Machine: {cpu_model()}, {os.cpu_count()} logical cores; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; NumPy {np.__version__} ({blas})")
    print(f"VAE {D}-{H}-{J}, batch {B}, float32, Adam; {steps} steps of one fit epoch\n")
    timed_parts = dict(rows[:-1])  # "the rest" is what the timed parts leave of the step
    found = problems(parts=timed_parts, whole=per_step)  # the parts, and their sum, within the step
    found += problems(parts={"the 14 matrix products alone": matmuls}, whole=per_step)  # inside the step
    print("| part of a training step | ms / step | share |")
    print("| --- | ---: | ---: |")
    for part, t in rows:
        share = "—" if found else f"{t / per_step:.0%}"
        print(f"| {part} | {t * 1e3:.3f} | {share} |")
    print(f"| **the whole step** | **{per_step * 1e3:.3f}** | 100% |")
    share = "" if found else f" ({matmuls / per_step:.0%} of the step; they sit inside the dense layers' row)"
    print(f"\nThe 14 matrix products alone, same shapes: {matmuls * 1e3:.3f} ms{share}.")
    say(found, "share")


if __name__ == "__main__":
    main()
