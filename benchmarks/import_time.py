"""How long does ``import minivae`` take, and does it stay light?

Each measurement starts a fresh interpreter (so nothing is cached in ``sys.modules``) and
times ``import minivae`` inside it with ``time.perf_counter``; the median of ``--runs`` is
reported, together with the interpreter's own start-up for comparison, and a check that
matplotlib, scikit-learn, mlxtend and tqdm were not imported (they are loaded only by the
modules that use them: plots, datasets, the progress bar).

    python benchmarks/import_time.py            # 15 runs
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEAVY = ("matplotlib", "sklearn", "mlxtend", "tqdm", "scipy", "torch")
PROBE = (
    "import sys, time, json; t = time.perf_counter(); import minivae; "
    "dt = time.perf_counter() - t; "
    f"print(json.dumps({{'seconds': dt, 'heavy': [m for m in {HEAVY!r} if m in sys.modules]}}))"
)


def measure(code, runs):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = []
    for _ in range(runs):
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        out.append(json.loads(res.stdout.strip().splitlines()[-1]))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)
    results = measure(PROBE, args.runs)
    numpy_only = measure("import time, json; t = time.perf_counter(); import numpy; "
                         "print(json.dumps({'seconds': time.perf_counter() - t}))", args.runs)
    median = statistics.median(r["seconds"] for r in results)
    print(f"import minivae: median {median * 1000:.0f} ms over {args.runs} fresh interpreters "
          f"(of which import numpy alone: {statistics.median(r['seconds'] for r in numpy_only) * 1000:.0f} ms)")
    heavy = sorted({m for r in results for m in r["heavy"]})
    print("heavy modules imported:", ", ".join(heavy) if heavy else "none")
    return 0


if __name__ == "__main__":
    sys.exit(main())
