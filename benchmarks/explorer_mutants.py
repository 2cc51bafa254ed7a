"""Do the explorer's browser tests catch a wrong page? Hand-written mutants of its JavaScript.

Each mutant below is one plausible mistake in minivae/explorer/*.js or .css (the classic VAE traps
among them: the variance shown as sigma, the noise scaled by exp(logvar)). The script copies
the repository's ``minivae/`` and ``tests/`` to a temporary folder, plants one mutant at a
time there (the working tree is never touched), runs the browser tests
(``tests/test_explorer_browser.py`` and ``tests/test_explorer_ui.py``) on the copy, stopping
at the first failure, and prints which mutants the tests kill and which survive. Not part of the
suite (each run takes the browser tests' time, some 20-40 s on the 2-core machine).

    python benchmarks/explorer_mutants.py              # every mutant
    python benchmarks/explorer_mutants.py --only sigma-is-variance -k sigma_as   # one test against one mutant
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ("tests/test_explorer_browser.py", "tests/test_explorer_ui.py")

#: name -> (file under minivae/explorer/, the original text, the mutant's text)
MUTANTS = {
    "sigma-is-variance": ("nn.js", "Float64Array.from(logvar, (lv) => Math.exp(0.5 * lv))",
                          "Float64Array.from(logvar, (lv) => Math.exp(lv))"),
    "ellipse-radius-is-variance": ("plane.js", "k * c.sigma[pa] * scale(), k * c.sigma[pb] * scale()",
                                   "k * c.sigma[pa] ** 2 * scale(), k * c.sigma[pb] ** 2 * scale()"),
    "ellipse-axes-swapped": ("plane.js", "k * c.sigma[pa] * scale(), k * c.sigma[pb] * scale()",
                             "k * c.sigma[pb] * scale(), k * c.sigma[pa] * scale()"),
    "kl-without-the-minus-one": ("nn.js", "0.5 * (m * m + Math.exp(logvar[j]) - 1 - logvar[j])",
                                 "0.5 * (m * m + Math.exp(logvar[j]) - logvar[j])"),
    "kl-with-sigma-for-variance": ("nn.js", "0.5 * (m * m + Math.exp(logvar[j]) - 1 - logvar[j])",
                                   "0.5 * (m * m + Math.exp(0.5 * logvar[j]) - 1 - logvar[j])"),
    "bce-sign-flipped": ("nn.js", "Math.log1p(Math.exp(-Math.abs(l))) - x[i] * l",
                         "Math.log1p(Math.exp(-Math.abs(l))) + x[i] * l"),
    "gaussian-without-its-constant": ("nn.js", "return sum * (0.5 / s2) + 0.5 * D * Math.log(2 * Math.PI * s2);",
                                      "return sum * (0.5 / s2);"),
    "elbo-adds-the-kl": ("nn.js", "elbo: -recon - kl, mu", "elbo: -recon + kl, mu"),
    "noise-scaled-by-variance": ("explorer.js", "(m, j) => m + cloud.sigma[j] * eps[j]); // z = mu + sigma * eps",
                                 "(m, j) => m + Math.exp(cloud.logvar[j]) * eps[j]); // z = mu + sigma * eps"),
    "terms-noise-scaled-by-variance": ("nn.js", "(m, j) => m + sigma[j] * eps[j]);",
                                       "(m, j) => m + Math.exp(logvar[j]) * eps[j]);"),
    "samples-ignore-sigma": ("explorer.js", "(m, j) => m + cloud.sigma[j] * eps[j]); // z = mu + sigma * eps",
                             "(m, j) => m + eps[j]); // z = mu + sigma * eps"),
    "samples-keep-the-old-label": ("explorer.js", "const samples = cached(\"samples\", `${srcKey}|${state.epsVersion}`",
                                   "const samples = cached(\"samples\", `${state.epsVersion}`"),
    "nearest-by-the-first-coordinate-only": (
        "explorer.js", "const d = (heldMu[k * J + pa] - z[pa]) ** 2 + (heldMu[k * J + pb] - z[pb]) ** 2;",
        "const d = (heldMu[k * J + pa] - z[pa]) ** 2;"),
    "sliders-ignored-after-drawing": ("controls.js", "      z[j] = Number(input.value);\n      setZ(z, \"slider\");",
                                      "      z[j] = Number(input.value);\n      state.z = z;"),
    "label-keeps-the-dot-label": ("controls.js", "    if (C > 0) state.label = heldLabels[k];\n", ""),
    "arrow-keys-swap-axes": ("controls.js", "ArrowUp: [0, 1], ArrowDown: [0, -1]", "ArrowUp: [0, -1], ArrowDown: [0, 1]"),
    "plane-fixed-width": ("explorer.css", "#plane { box-sizing: border-box; width: 100%;",
                          "#plane { box-sizing: border-box; width: 460px;"),
    "plane-scrolls-under-a-finger": ("explorer.css", "background: #fff; cursor: crosshair; touch-action: none; }",
                                     "background: #fff; cursor: crosshair; touch-action: auto; }"),
    "no-focus-ring": ("explorer.css", ":focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }",
                      ":focus-visible { outline: none; }"),
    "walk-captions-as-digits": ("explorer.js", ": `t=${(s / (WALK_STEPS - 1)).toFixed(2).slice(1)}`", ": `${s}`"),
    "bernoulli-draw-inverted": ("explorer.js", "(g.uniform() < p ? 1 : 0)", "(g.uniform() < p ? 0 : 1)"),
}


def plant(copy, name):
    file, original, mutant = MUTANTS[name]
    path = copy / "minivae" / "explorer" / file
    text = path.read_text(encoding="utf-8")
    if text.count(original) != 1:
        raise SystemExit(f"{name}: the original text is not in minivae/explorer/{file} exactly once; update MUTANTS")
    path.write_text(text.replace(original, mutant), encoding="utf-8")


def run_tests(copy, timeout, select=None):
    env = {**os.environ, "PYTHONPATH": str(copy)}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                           *TESTS, *(["-k", select] if select else [])],
                          cwd=copy, env=env, capture_output=True, text=True, timeout=timeout)
    failed = [line.split(" - ")[0].removeprefix("FAILED ") for line in proc.stdout.splitlines()
              if line.startswith("FAILED")]
    return proc.returncode, failed, proc.stdout.strip().splitlines()[-1:]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=list(MUTANTS), help="just these mutants")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per test run")
    parser.add_argument("-k", dest="select", metavar="EXPR", help="only the tests pytest -k EXPR selects")
    args = parser.parse_args(argv)
    names = args.only or list(MUTANTS)
    survivors = []
    for name in names:
        with tempfile.TemporaryDirectory(prefix="minivae-mutant-") as folder:
            copy = Path(folder)
            for part in ("minivae", "tests", "benchmarks"):
                shutil.copytree(ROOT / part, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
            plant(copy, name)
            status, failed, last = run_tests(copy, args.timeout, args.select)
        if status == 0:
            survivors.append(name)
            print(f"SURVIVED  {name}", flush=True)
        else:
            print(f"killed    {name}: {', '.join(failed) or last}", flush=True)
    print(f"{len(names) - len(survivors)} of {len(names)} mutants killed; survivors: {', '.join(survivors) or 'none'}")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
