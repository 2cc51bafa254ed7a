"""How long does ``python -m minivae exercises check`` of all the exercises take?

The workbook is the answer key (the library's own functions), so every exercise runs on
all its cases and passes. Each run is a fresh ``python -m minivae exercises check DIR``,
timed from outside: Python's start, this process's imports and inputs, the child process
that imports the workbook (started while the inputs are made), every call, the judging.
The median and the fastest of ``--runs`` are printed, with the load average before the
runs (a busy machine is slower).

    python benchmarks/exercises_check.py            # 7 runs
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from minivae.exercises import EXERCISES  # noqa: E402 (the repository's own copy)
ANSWER_KEY = """\
from minivae.ops import (dense_backward, relu_backward, sigmoid_backward, tanh_backward, mse, bce_with_logits,
                         kl_standard_normal, reparameterize_backward)
from minivae.models.sparse import kl_sparsity
from minivae.exercises.solutions import adam_step, contractive_penalty, vae_backward
from minivae.ops.conv import conv2d_backward
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    seconds = []
    with tempfile.TemporaryDirectory() as folder:
        with open(os.path.join(folder, "workbook.py"), "w", encoding="utf-8") as f:
            f.write(ANSWER_KEY)
        for _ in range(args.runs):
            start = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "minivae", "exercises", "check", folder],
                                  capture_output=True, text=True, env=env)
            seconds.append(time.perf_counter() - start)
            if done.returncode != 0 or f"{len(EXERCISES)} passed." not in done.stdout:
                sys.exit(f"the answer key did not pass:\n{done.stdout}{done.stderr}")
    print(f"exercises check, all {len(EXERCISES)} passing, {args.runs} runs (load average {load:.1f} before): "
          f"median {statistics.median(seconds):.2f} s, fastest {min(seconds):.2f} s")


if __name__ == "__main__":
    main()
