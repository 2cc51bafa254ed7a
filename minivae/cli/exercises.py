"""``python -m minivae exercises start|check|train DIR``: learn by deriving (minivae.exercises).

``start`` writes a workbook of stubs, ``check`` says for each exercise *passed*, *failed*
(what is wrong, and the classic mistake or the pattern behind it) or *not started*, and
``train`` trains a small VAE on the 8x8 digits with every function that passed. The exit
status of ``check`` is 0 only when every exercise asked for passed, so an autograder can
run it as it is.

``check`` imports the workbook and calls the learner's functions in a child process
(:mod:`minivae.exercises.isolation`) and judges in this one: whatever the workbook does
(exit, print, hang, fork, replace the checker's functions), the report is the checker's.
Its formats: a text report (with what each exercise printed, trimmed), ``--json`` (the
checker's output alone) and ``--format gradescope`` (Gradescope's ``results.json``).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from contextlib import contextmanager

from .common import PROG, UserError, float_in, one_line, positive_int

EXIT_NOT_ALL_PASSED = 1
#: seconds one call of a learner's function may take (minivae.exercises.isolation.TIMEOUT, without importing it)
TIMEOUT = 10.0

EPILOG = f"""\
examples:
  {PROG} exercises start my-work                    # my-work/workbook.py, every exercise
  {PROG} exercises start hw3 --only relu_backward kl_standard_normal   # a teacher's subset
  {PROG} exercises check my-work
  {PROG} exercises check my-work --only relu_backward --json          # for an autograder
  {PROG} exercises check . --format gradescope --out /autograder/results/results.json
  {PROG} exercises start my-work --add vae_backward  # append a stub the workbook lacks
  {PROG} exercises train my-work --out my-work/run

check exits with status 0 only when every exercise asked for passed (1 otherwise, 2 for a
usage error). The exercises, in the workbook's order: {{names}}.
"""


def add_parser(commands):
    """Add ``exercises`` and its three actions to ``commands``."""
    from ..exercises import BY_NAME

    raw = argparse.RawDescriptionHelpFormatter
    p = commands.add_parser(
        "exercises", help="derive and write the backward passes yourself; the checker says what is wrong and why",
        description="Learn by deriving: write each backward pass in a workbook, check it against numerical "
                    "gradients and the library (a wrong one is diagnosed), then train a VAE made of your own "
                    "functions. See docs/exercises.md.",
        epilog=EPILOG.format(names=", ".join(BY_NAME)), formatter_class=raw)
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    only = dict(nargs="+", metavar="NAME", default=None, help="only these exercises (default: all)")

    start = actions.add_parser("start", help="write DIR/workbook.py, one stub per exercise",
                               description="Write DIR/workbook.py: one stub per exercise, in the order of the "
                                           "README's reading guide.",
                               epilog=f"examples:\n  {PROG} exercises start my-work\n"
                                      f"  {PROG} exercises start hw3 --only relu_backward kl_standard_normal",
                               formatter_class=raw)
    start.add_argument("dir", metavar="DIR", help="the folder for the workbook (made if missing)")
    which = start.add_mutually_exclusive_group()
    which.add_argument("--only", **only)
    which.add_argument("--add", nargs="+", metavar="NAME",
                       help="append these exercises' stubs to an existing workbook.py (those it lacks), leaving "
                            "the rest of the file as it is")
    start.add_argument("--force", action="store_true",
                       help="start workbook.py afresh; the old one is kept as workbook-backup-N.py")
    start.set_defaults(func=run_start)

    check = actions.add_parser("check", help="check the workbook in DIR: passed, failed (and why), not started",
                               description="Check each exercise of DIR/workbook.py: the shapes and dtypes, "
                                           "gradient checks in float64 over many inputs, the meaning of the "
                                           "formula, agreement with the library. Exit status 0 only when every "
                                           "exercise asked for passed.",
                               epilog=f"examples:\n  {PROG} exercises check my-work\n"
                                      f"  {PROG} exercises check my-work --only relu_backward --json",
                               formatter_class=raw)
    check.add_argument("dir", metavar="DIR", help="the folder holding workbook.py")
    check.add_argument("--only", **only)
    check.add_argument("--format", choices=("text", "json", "gradescope"), default="text",
                       help="text (default): the report, with what each function printed; json: a list of "
                            "{exercise, status, max_rel_error, diagnosis}; gradescope: Gradescope's results.json")
    check.add_argument("--json", action="store_const", const="json", dest="format", help="the same as --format json")
    check.add_argument("--out", metavar="FILE", default=None,
                       help="write the report to FILE (atomically) instead of printing it")
    check.add_argument("--timeout", type=float_in(0, 3600, low_open=True), default=TIMEOUT, metavar="SECONDS",
                       help="how long one call of a function of yours may take before it is stopped and the "
                            "exercise fails (default: %(default)g; the workbook's import may take at least 10)")
    check.set_defaults(func=run_check)

    train = actions.add_parser("train", help="train a small VAE on the 8x8 digits with your passed functions",
                               description="Train a small VAE on scikit-learn's 8x8 digits in which every "
                                           "function that passes its check is yours; the library's is used "
                                           "for the rest. Writes samples.png and reconstructions.png.",
                               epilog=f"examples:\n  {PROG} exercises train my-work --out my-work/run\n"
                                      f"  {PROG} exercises train my-work --out my-work/run-tanh --activation tanh",
                               formatter_class=raw)
    train.add_argument("dir", metavar="DIR", help="the folder holding workbook.py")
    train.add_argument("--out", required=True, metavar="OUT", help="folder for the figures")
    train.add_argument("--epochs", type=positive_int, default=30,
                       help="passes over the 80 %% of the 8x8 digits kept for training (default: %(default)s)")
    train.add_argument("--activation", choices=("relu", "sigmoid", "tanh"), default="relu",
                       help="the hidden layers' activation, whose backward is one of yours (default: %(default)s)")
    train.add_argument("--seed", type=int, default=0, help="the model's seed (default: %(default)s)")
    train.set_defaults(func=run_train)


# ---------------------------------------------------------------------- start
def run_start(args):
    from ..exercises import select
    from ..exercises.workbook import add, write

    if args.add:
        if args.force:
            raise UserError("--add keeps the workbook and appends to it; --force starts it afresh: choose one")
        path, added = add(args.dir, select(args.add))
        there = [n for n in args.add if n not in {e.name for e in added}]
        print(f"added {len(added)} exercise{'s' if len(added) != 1 else ''} to {path}" +
              (":" if added else "; it has every one named already"))
        for e in added:
            print(f"  {e.name:25s} docs/derivations.md {e.section}")
        if there and added:
            print(f"already there, left as they are: {', '.join(dict.fromkeys(there))}")
        return 0
    chosen = select(args.only)
    path, backup = write(args.dir, chosen, force=args.force)
    if backup:
        print(f"kept the previous workbook as {backup}")
    print(f"wrote {len(chosen)} exercise{'s' if len(chosen) != 1 else ''} to {path}:")
    for e in chosen:
        print(f"  {e.name:25s} docs/derivations.md {e.section}")
    print(f"next: fill in {chosen[0].name}, then run '{PROG} exercises check {args.dir}'")
    return 0


# ---------------------------------------------------------------------- check
@contextmanager
def on_numpy():
    """Check and train on NumPy whatever ``$MINIVAE_BACKEND`` says: a learner's functions are NumPy code."""
    from ..backend import BackendUnavailableError, get_backend, set_backend

    try:
        previous = get_backend()
    except BackendUnavailableError:  # $MINIVAE_BACKEND=cupy where CuPy cannot run: not needed here
        previous = None
    set_backend("numpy")
    try:
        yield
    finally:
        if previous is not None:
            set_backend(previous)


def check_workbook(directory, only=None, timeout=TIMEOUT):
    """``(path, results, printed)``: every asked exercise of the workbook checked, the learner's code in a child.

    Without ``only``, the exercises are those the workbook defines (a teacher's subset);
    with it, a name the workbook lacks counts as not started. ``printed`` is what the
    workbook printed while it was imported; each result's ``output`` what it printed
    while that exercise was checked.

    Raises
    ------
    WorkbookError
        When the workbook does not import (or ends its process, or hangs, while it does).
    """
    from ..exercises import select
    from ..exercises.checker import FAILED, NOT_STARTED, Result, cases_of, check_exercise
    from ..exercises.isolation import Session
    from ..exercises.workbook import compiled, defined_names, path_of

    path = path_of(directory)
    name = os.path.basename(path)
    _, text = compiled(path)  # a syntax error needs no child process to be told
    named, results = defined_names(text), []
    with Session(path, timeout) as session:
        session.start()  # the child imports NumPy and minivae while this process makes the inputs
        with on_numpy():
            for e in select(only):
                if e.name in named:
                    cases_of(e)
        defined = session.open()
        printed = session.output()
        for e in select(only):
            kind = defined.get(e.name)
            if kind is None:
                if only:
                    results.append(Result(e.name, NOT_STARTED, diagnosis=f"{name} has no function {e.name}"))
            elif kind != "function":
                results.append(Result(e.name, FAILED, problem=f"{e.name} in {name} is a {kind}, not a function."))
            else:
                with on_numpy():
                    result = check_exercise(e, session.function(e.name), path)
                result.output = session.output()
                results.append(result)
    if not results:
        raise UserError(f"{path} defines none of the exercises; make a new one with '{PROG} exercises start'")
    return path, results, printed


def run_check(args):
    from ..exercises import select
    from ..exercises.checker import FAILED, PASSED, Result
    from ..exercises.workbook import WorkbookError, path_of
    from .exercises_report import REPORTS, emit

    broken = None
    try:
        path, results, printed = check_workbook(args.dir, args.only, args.timeout)
    except WorkbookError as err:  # the file does not import: every exercise asked for fails, in one line
        path, printed, broken = path_of(args.dir), "", one_line(err)
        results = [Result(e.name, FAILED, diagnosis=f"the workbook does not import: {broken}")
                   for e in select(args.only)]
    emit(REPORTS[args.format](path, results, printed, broken), args.out)
    return 0 if all(r.status == PASSED for r in results) else EXIT_NOT_ALL_PASSED


# ---------------------------------------------------------------------- train
def run_train(args):
    from ..datasets import load_digits, train_test_split
    from ..exercises import BY_NAME
    from ..exercises.substitute import SWAPPABLE, train_vae
    from ..exercises.workbook import WorkbookError, load

    try:
        path, results, _ = check_workbook(args.dir, None)
        module = load(path)  # training runs the passed functions here, in this process
    except WorkbookError as err:
        print(f"minivae: {one_line(err)}", file=sys.stderr)
        return EXIT_NOT_ALL_PASSED
    status = {r.exercise: r.status for r in results}
    mine = {n: getattr(module, n) for n in SWAPPABLE if status.get(n) == "passed"}
    # the library's own functions go through the same counted swap, so the report says what really ran
    functions = {n: mine.get(n, BY_NAME[n].solution) for n in SWAPPABLE}
    os.makedirs(args.out, exist_ok=True)
    X, y = load_digits()
    X_train, X_test, _, _ = train_test_split(X, y, test_size=0.2, seed=0)
    with on_numpy():
        start = time.perf_counter()
        model, history, calls = train_vae(functions, X_train, X_test, activation=args.activation,
                                          epochs=args.epochs, seed=args.seed)
        widths = "-".join(map(str, (model.input_dim, *model.hidden_dims, model.latent_dim)))
        print(f"trained a VAE {widths} ({args.activation}) on {X_train.shape[0]} of the 8x8 digits for "
              f"{args.epochs} epoch{'s' if args.epochs != 1 else ''} in {time.perf_counter() - start:.1f} s")
        _report(history, calls, status, mine)
        _figures(model, X_test, args.out)
    return 0


def _report(history, calls, status, mine):
    """The loss every five epochs, and whose functions the training called (counted, not assumed)."""
    for i in sorted({0, *range(4, len(history["loss"]), 5), len(history["loss"]) - 1}):
        print(f"  epoch {i + 1:3d}: loss {history['loss'][i]:.3f}, held-out {history['val_loss'][i]:.3f} "
              "(nats per digit)")
    yours = [f"{n} ({k:,} calls)" for n, k in calls.items() if k and n in mine]
    library = [f"{n} ({status.get(n, 'not in the workbook')})" for n, k in calls.items() if k and n not in mine]
    unused = [n for n, s in status.items() if s == "passed" and not calls.get(n)]
    print("your functions in this VAE: " + (", ".join(yours) if yours else "none yet (every op is the library's)"))
    if library:
        print("the library's, for the rest: " + ", ".join(library))
    if unused:
        print("yours, passed but not used by this VAE: " + ", ".join(unused))


def _figures(model, X_test, out):
    from .. import plots

    samples = os.path.join(out, "samples.png")
    recon = os.path.join(out, "reconstructions.png")
    plots.image_grid(model.sample(64), ncols=8, path=samples, title="VAE samples from the prior")
    plots.reconstructions(X_test[:10], model.reconstruct(X_test[:10]), path=recon,
                          title="held-out digits and their reconstructions")
    print(f"figures: {samples}, {recon}")
