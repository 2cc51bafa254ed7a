"""``python -m minivae exercises start|check|train DIR``: learn by deriving (minivae.exercises).

``start`` writes a workbook of stubs, ``check`` says for each exercise *passed*, *failed*
(what is wrong, and the classic mistake or the pattern behind it) or *not started*, and
``train`` trains a small VAE on the 8x8 digits with every function that passed. The exit
status of ``check`` is 0 only when every exercise asked for passed, so an autograder can
run it as it is.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
import time
from contextlib import contextmanager

from .common import PROG, UserError, one_line, positive_int

EXIT_NOT_ALL_PASSED = 1

EPILOG = f"""\
examples:
  {PROG} exercises start my-work                    # my-work/workbook.py, every exercise
  {PROG} exercises start hw3 --only relu_backward kl_standard_normal   # a teacher's subset
  {PROG} exercises check my-work
  {PROG} exercises check my-work --only relu_backward --json          # for an autograder
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
    start.add_argument("--only", **only)
    start.add_argument("--force", action="store_true", help="overwrite an existing workbook.py")
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
    check.add_argument("--json", action="store_true",
                       help="print a JSON list of {exercise, status, max_rel_error, diagnosis}")
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
    from ..exercises.workbook import write

    chosen = select(args.only)
    path = write(args.dir, chosen, force=args.force)
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


def check_workbook(directory, only=None):
    """``(path, module, results)``: every asked exercise of the workbook checked (minivae.exercises.checker).

    Without ``only``, the exercises are those the workbook defines (a teacher's subset);
    with it, a name the workbook lacks counts as not started.
    """
    from ..exercises import select
    from ..exercises.checker import NOT_STARTED, Result, check_exercise
    from ..exercises.workbook import load, path_of

    path = path_of(directory)
    module = load(path)
    results = []
    for e in select(only):
        fn = getattr(module, e.name, None)
        if fn is None:
            if only:
                results.append(Result(e.name, NOT_STARTED, diagnosis=f"{os.path.basename(path)} has no "
                                                                    f"function {e.name}"))
        elif not callable(fn):
            raise UserError(f"{e.name} in {path} is a {type(fn).__name__}, not a function")
        else:
            with on_numpy():
                results.append(check_exercise(e, fn, path))
    if not results:
        raise UserError(f"{path} defines none of the exercises; make a new one with '{PROG} exercises start'")
    return path, module, results


def _text(path, results):
    lines = [f"checking {path}", ""]
    for r in results:
        status = "FAILED" if r.status == "failed" else r.status
        extra = f"({r.cases} cases, largest relative error {r.max_rel_error:.1e})" if r.status == "passed" else ""
        lines.append(f"  {r.exercise:25s} {status:12s} {extra}".rstrip())
        for text in (r.problem, r.diagnosis):
            if text:
                lines.append(textwrap.fill(text, 100, initial_indent=" " * 6, subsequent_indent=" " * 6))
    counts = {s: sum(r.status == s for r in results) for s in ("passed", "failed", "not started")}
    lines += ["", ", ".join(f"{n} {s}" for s, n in counts.items() if n) + "."]
    return "\n".join(lines)


def run_check(args):
    from ..exercises import select
    from ..exercises.checker import FAILED, PASSED, Result
    from ..exercises.workbook import WorkbookError

    try:
        path, _, results = check_workbook(args.dir, args.only)
    except WorkbookError as err:  # the file does not import: every exercise asked for fails, in one line
        if args.json:
            print(json.dumps([Result(e.name, FAILED, diagnosis=f"the workbook does not import: {err}").as_json()
                              for e in select(args.only)], indent=1))
        else:
            print(f"minivae: {one_line(err)}", file=sys.stderr)
        return EXIT_NOT_ALL_PASSED
    if args.json:
        print(json.dumps([r.as_json() for r in results], indent=1))
    else:
        print(_text(path, results))
    return 0 if all(r.status == PASSED for r in results) else EXIT_NOT_ALL_PASSED


# ---------------------------------------------------------------------- train
def run_train(args):
    from ..datasets import load_digits, train_test_split
    from ..exercises import BY_NAME
    from ..exercises.substitute import SWAPPABLE, train_vae
    from ..exercises.workbook import WorkbookError

    try:
        _, module, results = check_workbook(args.dir, None)
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
