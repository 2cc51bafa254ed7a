"""What the subcommands share: argument types, one-line errors, data splits, checkpoints."""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import stat

PROG = "python -m minivae"

DATA_NAMES = ("digits", "mnist-subset")
CHECKPOINT_NAME = "model.npz"
HISTORY_NAME = "history.json"
EXIT_USAGE = 2


class UserError(Exception):
    """A mistake of the person at the keyboard: reported as one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line: ``minivae: error: ... (try ... --help)``."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"minivae: error: {one_line(message)} (see '{self.prog} --help')\n")


def one_line(text):
    return " ".join(str(text).split())


# ---------------------------------------------------------------------- argument types
def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1; got {value}")
    return value


def float_in(low=None, high=None, *, low_open=False, high_open=False):
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number; got {text!r}") from None
        bad = (not math.isfinite(value)
               or low is not None and (value <= low if low_open else value < low)
               or high is not None and (value >= high if high_open else value > high))
        if bad:
            lo = "-inf" if low is None else f"{low:g}"
            hi = "inf" if high is None else f"{high:g}"
            interval = f"{'(' if low_open else '['}{lo}, {hi}{')' if high_open else ']'}"
            raise argparse.ArgumentTypeError(f"must be a finite number in {interval}; got {text}")
        return value

    return parse


def layer_widths(text):
    """``"256,128"`` (or ``"256 128"``) -> ``(256, 128)``; ``""`` or ``"none"`` -> ``()``."""
    if text.strip().lower() in ("", "none"):
        return ()
    parts = [p for p in re.split(r"[,\s]+", text.strip()) if p]
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected layer widths separated by commas, such as 256,128 (or 'none'); got {text!r}") from None
    if any(d < 1 for d in dims):
        raise argparse.ArgumentTypeError(f"every layer width must be >= 1; got {text!r}")
    return dims


def label_list(text):
    """``"7"`` -> ``[7]``, ``"3,7"`` -> ``[3, 7]``, ``"all"`` -> ``"all"``."""
    if text.strip().lower() == "all":
        return "all"
    parts = [p for p in re.split(r"[,\s]+", text.strip()) if p]
    try:
        labels = [int(p) for p in parts]
    except ValueError:
        labels = []
    if not labels:
        raise argparse.ArgumentTypeError(
            f"expected a class label such as 7, a list such as 3,7, or 'all'; got {text!r}")
    return labels



def common_data_options(p, *, required):
    p.add_argument("--data", required=required, metavar="DATA",
                   help="'digits', 'mnist-subset', or the path of a folder with the MNIST IDX files "
                        "or an .npz file" + ("" if required else
                                            " (default: the data the model was trained on, from history.json)"))
    p.add_argument("--backend", choices=("numpy", "cupy"), default=None,
                   help="where to compute (default: $MINIVAE_BACKEND, else numpy)")



# ---------------------------------------------------------------------- data
def is_named(data):
    return data in DATA_NAMES


def load_split(data, *, test_size, seed):
    """``(X_train, X_test, y_train, y_test, split)`` for ``--data``; ``split`` describes how.

    The two embedded sets are split by :func:`minivae.datasets.train_test_split` (seeded,
    stratified); full MNIST from a path keeps its official 60,000 / 10,000 split.
    """
    from .. import datasets

    if is_named(data):
        loader = datasets.load_digits if data == "digits" else datasets.load_mnist_subset
        X, y = loader()
        X_train, X_test, y_train, y_test = datasets.train_test_split(X, y, test_size=test_size, seed=seed)
        return X_train, X_test, y_train, y_test, {"kind": "random", "test_size": test_size, "seed": seed}
    path = os.path.expanduser(data)
    if not os.path.exists(path):
        raise UserError(f"--data {data!r} is neither a data set name ({', '.join(DATA_NAMES)}) nor an existing "
                        "folder or .npz file")
    X_train, y_train = datasets.load_mnist(path, kind="train")
    X_test, y_test = datasets.load_mnist(path, kind="test")
    return X_train, X_test, y_train, y_test, {"kind": "official"}


def held_out_split(args, ckpt_path):
    """``(X_test, y_test, data, split)``: the held-out split of a train run, rebuilt.

    The data, seed and test size come from ``args`` (``--data``, ``--seed``,
    ``--test-size``) where given, else from the history.json beside ``ckpt_path``
    (else seed 0, test size 0.2).
    """
    run = read_run(ckpt_path)
    data = args.data or run.get("data")
    if data is None:
        raise UserError(f"which data? there is no readable {HISTORY_NAME} beside {ckpt_path}; "
                        "give --data (and --seed/--test-size as used in training)")
    split = run.get("split") if isinstance(run.get("split"), dict) else {}
    seed = args.seed if args.seed is not None else split.get("seed", 0)
    test_size = args.test_size if args.test_size is not None else split.get("test_size", 0.2)
    _, X, _, y, split = load_split(data, test_size=test_size, seed=seed)
    return X, y, data, split


def split_options(p):
    """``--seed`` and ``--test-size`` of a command that rebuilds a train run's held-out split."""
    p.add_argument("--seed", type=int, default=None,
                   help="seed of the split (default: the one in history.json, else 0)")
    p.add_argument("--test-size", type=float_in(0.0, 1.0, low_open=True, high_open=True), default=None,
                   help="held-out fraction (default: the one in history.json, else 0.2)")


def data_record(data):
    """How ``--data`` is written in history.json: a name, or an absolute path."""
    return data if is_named(data) else os.path.abspath(os.path.expanduser(data))


def describe_split(split, n_test):
    if split.get("kind") == "official":
        return f"{n_test} held-out examples (the official test set)"
    return f"{n_test} held-out examples (test_size {split['test_size']:g}, seed {split['seed']})"


# ---------------------------------------------------------------------- checkpoints
def checkpoint_path(ckpt):
    """The ``.npz`` file of ``CKPT``: the path itself, or ``model.npz`` inside a train folder.

    Only a regular file is accepted: a FIFO would block the command, a device never end.
    """
    from ..checkpoint import kind_of

    path = os.path.expanduser(ckpt)
    if os.path.isdir(path):
        inner = os.path.join(path, CHECKPOINT_NAME)
        if not os.path.exists(inner):
            raise UserError(f"{ckpt!r} is a folder without a {CHECKPOINT_NAME}; give the checkpoint file "
                            "or the --out folder of a train run")
        path = ckpt = inner
    elif not os.path.exists(path):
        raise UserError(f"no such checkpoint: {ckpt!r}")
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        raise UserError(f"{ckpt!r} is {kind_of(mode)}, not a regular file: a checkpoint is a .npz file "
                        f"(save one with model.save or '{PROG} train')")
    import zipfile

    if not zipfile.is_zipfile(path):
        raise UserError(f"{ckpt!r} is not a minivae checkpoint: it is not an .npz archive (save one with "
                        f"model.save or '{PROG} train')")
    return path


def load_model(ckpt):
    from ..models import load

    path = checkpoint_path(ckpt)
    return load(path), path


def read_run(ckpt_path):
    """The ``"run"`` record of the history.json beside a checkpoint, or ``{}``."""
    path = os.path.join(os.path.dirname(os.path.abspath(ckpt_path)), HISTORY_NAME)
    try:
        with open(path, encoding="utf-8") as f:
            run = json.load(f).get("run", {})
    except (OSError, ValueError, AttributeError):
        return {}
    return run if isinstance(run, dict) else {}


def is_vae(model):
    from ..models import VAE

    return isinstance(model, VAE)


def is_cvae(model):
    from ..models import CVAE

    return isinstance(model, CVAE)


def check_input_dim(model, X, ckpt, data):
    if X.shape[1] != model.input_dim:
        raise UserError(f"{ckpt} holds {a_an(type(model).__name__)} for {model.input_dim} features per example, "
                        f"but --data {data} has {X.shape[1]}; evaluate it on the data it was trained on")



def a_an(name):
    return f"{'an' if name[0] in 'AEIOU' else 'a'} {name}"


def recon_unit(model):
    """The unit of the reconstruction error: nats for a likelihood or cross-entropy, else squared error."""
    if is_vae(model) or model.loss_name == "bce":
        return "nats per example"
    return "per example (squared error summed over pixels)"


def loss_unit(model):
    """The unit of the training loss: a penalty added to the reconstruction makes it no longer nats."""
    from ..models import ContractiveAutoencoder, SparseAutoencoder

    if isinstance(model, (SparseAutoencoder, ContractiveAutoencoder)):
        return "per example"
    return recon_unit(model)
