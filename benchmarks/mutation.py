"""Mutation testing of the learner's tools, the checkpoint format, the loop and the explorer.

A mutant is the library with one small change (``<`` for ``<=``, ``1`` for ``0``, an
argument dropped, a string altered). The tests should fail on it: a mutant they *kill*
is a bug they would catch; one that *survives* is either a test missing or a change that
alters nothing a user can see (an *equivalent* mutant). The tool is mutmut
(``pip install -e ".[mutation]"``); this script runs it over one module at a time with
only the tests that cover that module, and prints each module's kill rate and its
survivors, with the diff of each survivor. A mutant mutmut reports as surviving, or as
reached by no test, is run again the plain way (written into the source, the tests run in
a new process) before it counts: mutmut misses mutants of code that runs when a module is
imported, and sees no test reach code that runs only in a test's child process.

    nice python benchmarks/mutation.py                       # every module, every mutant (hours)
    nice python benchmarks/mutation.py --sample 40 --seed 0  # 40 mutants drawn per module
    nice python benchmarks/mutation.py threads checkpoint    # some modules

Each module runs in a copy of the repository under ``--work`` (mutmut writes its mutants
beside the code it mutates), on one core (``--jobs``). Not part of the test suite: it is slow.
The measured table is in benchmarks/README.md.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: module -> (files mutmut mutates, tests that cover them)
MODULES = {
    "exercises": (["minivae/exercises/*"], ["tests/test_exercises.py", "tests/test_exercises_train.py",
                                            "tests/test_exercises_words.py", "tests/test_exercises_isolation.py",
                                            "tests/test_true_clues.py", "tests/test_learner_trials.py",
                                            "tests/test_catalogue_independent.py"]),
    "gradclues": (["minivae/gradclues.py"], ["tests/test_gradclues.py", "tests/test_gradclues_sentences.py",
                                             "tests/test_exercises.py", "tests/test_true_clues.py",
                                             "tests/test_clue_property.py", "tests/test_learner_trials.py"]),
    "checkpoint": (["minivae/checkpoint.py"], ["tests/test_checkpoint.py", "tests/test_checkpoint_hostile.py",
                                              "tests/test_checkpoint_layout.py", "tests/test_checkpoint_files.py",
                                              "tests/test_datafiles.py", "tests/test_run_folder.py"]),
    "models.base": (["minivae/models/base.py"], ["tests/test_autoencoder.py", "tests/test_vae.py",
                                                 "tests/test_cvae.py", "tests/test_models_variants.py",
                                                 "tests/test_robustness_inputs.py", "tests/test_train.py",
                                                 "tests/test_checkpoint.py", "tests/test_mutation_survivors.py",
                                                 "tests/test_robustness_fit.py", "tests/test_convvae.py"]),
    "train": (["minivae/train.py"], ["tests/test_train.py", "tests/test_robustness_fit.py", "tests/test_rollback.py",
                                     "tests/test_mutation_survivors.py"]),
    "threads": (["minivae/threads.py"], ["tests/test_threads.py", "tests/test_threads_rule.py",
                                         "tests/test_mutation_survivors.py"]),
    "explore": (["minivae/explore.py"], ["tests/test_explore.py", "tests/test_explorer_browser.py",
                                         "tests/test_explorer_ui.py", "tests/test_mutation_survivors.py"]),
}

#: what the tests read besides minivae/ and tests/ (mutmut copies these next to its mutants)
ALSO_COPY = ["README.md", "docs", "demos", "benchmarks", "sitecustomize.py"]

#: Child processes (``python -m minivae`` in a test) inherit mutmut's MUTANT_UNDER_TEST, so
#: they run the mutant under test, as they should. While mutmut only records which tests
#: reach which function ("stats"), a child in another folder cannot find mutmut's
#: configuration and fails; this file, on the children's PYTHONPATH, lets them run the
#: plain code then (what a child alone reaches is not counted as reached by its test).
SITECUSTOMIZE = """import os
if os.environ.get("MUTANT_UNDER_TEST") == "stats":
    os.environ["MUTANT_UNDER_TEST"] = ""
"""

#: mutmut's statuses; "killed" and "timeout" count as caught, "no tests" and "skipped" are not tried
CAUGHT = {"killed", "timeout"}
NOT_TRIED = {"no tests", "skipped", "not checked"}


def repository_files():
    """The files of the working tree that git tracks or would track (not the ignored ones)."""
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                         capture_output=True, check=True, timeout=60).stdout
    return [name for name in out.decode().split("\0") if name and (ROOT / name).is_file()]


def workspace(work, name, mutate, tests):
    """A fresh copy of the repository in ``work/name`` whose pyproject.toml configures mutmut."""
    folder = Path(work) / name.replace(".", "_")
    shutil.rmtree(folder, ignore_errors=True)
    for rel in repository_files():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, folder / rel)
    setting = {
        "source_paths": ["minivae"],
        "only_mutate": mutate,
        "also_copy": ALSO_COPY,
        "pytest_add_cli_args_test_selection": tests,
        "pytest_add_cli_args": ["-p", "no:random_order", "-q"],
    }
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE)
    with open(folder / "pyproject.toml", "a", encoding="utf-8") as f:
        f.write("\n[tool.mutmut]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in setting.items()))
    return folder


def mutmut(folder, *args, timeout):
    env = dict(os.environ, PYTHONPATH=str(folder / "mutants"))  # children (python -m minivae) see the mutants
    return subprocess.run([sys.executable, "-m", "mutmut", *args], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=timeout)


def mutant_names(folder):
    """Every mutant mutmut made in ``folder``, from its .meta files."""
    names = []
    for meta in sorted((folder / "mutants").rglob("*.meta")):
        names += sorted(json.loads(meta.read_text())["exit_code_by_key"])
    return names


def statuses(folder):
    out = mutmut(folder, "results", "--all", "true", timeout=600).stdout
    return dict(re.findall(r"^\s+(\S+): (.+)$", out, flags=re.M))


def confirm(folder, name, tests, timeout):
    """Run ``tests`` on the source with mutant ``name`` written into it: ``"killed"`` or ``"survived"``.

    mutmut switches mutants on inside functions at call time, in processes forked after
    the library was imported; code that runs at import (the exercises' tables are built
    then) keeps its plain version there, so a survivor is checked again the plain way.
    """
    mutated = mutmut(folder, "show", name, timeout=120).stdout
    path = folder / re.search(r"^--- (\S+)", mutated, flags=re.M).group(1)
    original = path.read_bytes()
    try:
        mutmut(folder, "apply", name, timeout=120)
        env = {k: v for k, v in os.environ.items() if k != "MUTANT_UNDER_TEST"}
        env["PYTHONPATH"] = str(folder)
        try:
            done = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:random_order", *tests],
                                  cwd=folder, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return "timeout"
        return "survived" if done.returncode == 0 else "killed"
    finally:
        path.write_bytes(original)


def run_module(name, work, sample, seed, jobs, timeout):
    mutate, tests = MODULES[name]
    folder = workspace(work, name, mutate, tests)
    # First pass: make the mutants and learn which tests reach which function (no mutant run).
    done = mutmut(folder, "run", "--max-children", str(jobs), "no_such_function_xyz*", timeout=timeout)
    names = mutant_names(folder)
    if not names:
        return {"module": name, "error": f"mutmut made no mutants\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"}
    chosen = sorted(random.Random(seed).sample(names, sample)) if 0 < sample < len(names) else names
    done = mutmut(folder, "run", "--max-children", str(jobs), *chosen, timeout=timeout)
    status = statuses(folder)
    got = {n: status.get(n, "not checked") for n in chosen}
    if all(s in NOT_TRIED for s in got.values()):
        return {"module": name, "error": f"no mutant was run\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"}
    for n in sorted(n for n, s in got.items() if s not in CAUGHT | {"skipped", "not checked"}):
        got[n] = confirm(folder, n, tests, timeout)  # survivors, and mutants reached only in a child process
    survivors = sorted(n for n, s in got.items() if s not in CAUGHT | NOT_TRIED)
    diffs = {n: mutmut(folder, "show", n, timeout=120).stdout for n in survivors}
    return {"module": name, "made": len(names), "chosen": len(chosen),
            "tried": sum(s not in NOT_TRIED for s in got.values()),
            "killed": sum(s in CAUGHT for s in got.values()),
            "statuses": got, "survivors": diffs}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", metavar="MODULE", help=f"some of {', '.join(MODULES)} (default: all)")
    parser.add_argument("--sample", type=int, default=0, help="mutants drawn at random per module (0: all)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the draw")
    parser.add_argument("--jobs", type=int, default=1, help="mutants run at once")
    parser.add_argument("--timeout", type=int, default=4 * 3600, help="seconds one module may take")
    parser.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "minivae-mutation"),
                        help="where the copies of the repository go")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    unknown = [m for m in args.modules if m not in MODULES]
    if unknown:
        parser.error(f"unknown module {unknown[0]!r}; choose among {', '.join(MODULES)}")
    results = []
    for name in args.modules or list(MODULES):
        result = run_module(name, args.work, args.sample, args.seed, args.jobs, args.timeout)
        if "error" in result:
            print(f"{name}: {result['error']}", file=sys.stderr, flush=True)
            continue
        results.append(result)
        if args.json:  # after each module: a long run stopped half-way keeps what it measured
            Path(args.json).write_text(json.dumps(results, indent=1))
        print(f"{name}: {result['killed']} of {result['tried']} killed "
              f"({result['chosen']} drawn of {result['made']} mutants)", flush=True)
    print("\n| module | mutants made | drawn | run | killed | kill rate |\n| --- | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        rate = f"{100 * r['killed'] / r['tried']:.0f} %" if r["tried"] else "-"
        print(f"| {r['module']} | {r['made']} | {r['chosen']} | {r['tried']} | {r['killed']} | {rate} |")
    for r in results:
        for n, diff in r["survivors"].items():
            print(f"\n## survivor {n} ({r['statuses'][n]})\n{diff.strip()}")


if __name__ == "__main__":
    main()
