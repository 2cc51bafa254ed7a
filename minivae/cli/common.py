"""What the subcommands share: argument types, one-line errors, data splits, checkpoints."""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import stat
import tempfile

from ..memory import available_memory, format_bytes  # noqa: F401  (format_bytes: for the commands)

PROG = "python -m minivae"

DATA_NAMES = ("digits", "mnist-subset")
CHECKPOINT_NAME = "model.npz"
HISTORY_NAME = "history.json"
MAX_HISTORY = 64 * 2**20  # bytes; history.json takes a few hundred bytes per epoch
#: the figures ``train`` may write beside them
FIGURE_NAMES = ("reconstructions.png", "training_curves.png", "latent.png", "samples.png")
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


def seed_int(text):
    """A seed: a whole number in ``0 .. 2**64 - 1``, what the models and the split accept."""
    from .._checks import MAX_SEED

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0; got {text!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be a whole number in 0 .. 2**64 - 1; got {value}")
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


def run_split(args, ckpt_path):
    """``(X_train, X_test, y_train, y_test, data, split)``: the split of a train run, rebuilt.

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
    X_train, X_test, y_train, y_test, split = load_split(data, test_size=test_size, seed=seed)
    return X_train, X_test, y_train, y_test, data, split


def split_options(p):
    """``--seed`` and ``--test-size`` of a command that rebuilds a train run's held-out split."""
    p.add_argument("--seed", type=seed_int, default=None,
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


# ---------------------------------------------------------------------- memory
def check_memory(nbytes, what, backend="numpy"):
    """Raise :class:`UserError` if ``what`` (which needs about ``nbytes``) cannot fit in memory.

    Called before the allocation, so that an impossible request ends in one line that
    says how much was asked for, not in a traceback or the kernel's out-of-memory kill.
    """
    avail = available_memory(backend)
    if avail is not None and nbytes > avail:
        where = "the GPU" if backend == "cupy" else "this machine"
        raise UserError(f"{what} needs about {format_bytes(nbytes)} of memory, more than the "
                        f"{format_bytes(avail)} {where} has available")


def check_importance_memory(model, n_samples):
    """One line instead of a crash when ``n_samples`` codes per example do not fit in memory.

    The log-likelihood decodes at least ``n_samples`` codes at once (one example's, or
    a batch of examples near 2**17 codes in all); each code carries every layer's
    activations through the decoder.
    """
    if not is_vae(model):
        return  # only the VAE family draws importance samples
    rows = n_samples * max(1, 2**17 // (n_samples * max(1, model.input_dim // 64)))
    units = model.input_dim + 4 * model.latent_dim + sum(int(layer.params["b"].size) for layer in model._dense_layers())
    check_memory(3 * rows * units * model.dtype.itemsize,
                 f"--n-samples {n_samples}: {rows:,} codes decoded at once", model.backend)


# ---------------------------------------------------------------------- output paths
def check_output_folder(folder, option, given):
    """Make ``folder`` if needed and prove it writable, before any work is done.

    Raises :class:`UserError` naming ``option`` when a part of the path is a file, or
    when a temporary file cannot be created (and removed) in the folder.
    """
    existing = folder
    while existing and not os.path.exists(existing):  # the nearest part of the path that exists
        existing = os.path.dirname(existing)
    existing = existing or os.curdir
    if not os.path.isdir(existing):
        kind = "a file" if os.path.isfile(existing) else "a special file"
        raise UserError(f"{option} {given!r}: {existing!r} is {kind}, not a folder")
    try:
        os.makedirs(folder, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".minivae-write-test-")
        os.close(fd)
        os.remove(probe)
    except OSError as err:
        raise UserError(f"{option} {given!r}: cannot write in {folder!r} ({err.strerror or err})") from None


def check_output_file(path, option, given, *, example):
    """Refuse ``path`` unless it is a regular file or does not exist yet, in a writable folder."""
    if os.path.isdir(path):
        raise UserError(f"{option} {given!r} is a folder; give a file name such as {example}")
    if os.path.exists(path) and not os.path.isfile(path):
        raise UserError(f"{option} {given!r} is a special file (a device, pipe or socket), not a regular file; "
                        f"give a file name such as {example}")
    check_output_folder(os.path.dirname(path) or os.curdir, option, given)


def check_train_out(out, given):
    """Before training: --out is (or can be made) a writable folder, and nothing in it blocks a file it writes.

    A run replaces its folder as a whole (:mod:`minivae.cli.runfolder`), so the folder
    around it must be writable too, and a folder of other files is not taken for one.
    """
    from . import runfolder

    if os.path.exists(out) and not os.path.isdir(out):
        raise UserError(f"--out {given!r} is a file; it must be a folder (it will hold model.npz and the figures)")
    real = os.path.realpath(out)
    here = os.path.realpath(os.getcwd())
    if here == real or here.startswith(real.rstrip(os.sep) + os.sep):
        raise UserError(f"--out {given!r} is the current folder or holds it: a run replaces its folder as a whole, "
                        "which would leave you in a removed folder; run train from outside it")
    runfolder.recover(real)
    if os.path.isdir(real) and os.listdir(real) and not any(
            os.path.lexists(os.path.join(real, name)) for name in (CHECKPOINT_NAME, HISTORY_NAME)):
        raise UserError(f"--out {given!r} is a folder of other files, not a train run: a run replaces its "
                        "folder as a whole; give a new or empty folder")
    check_output_folder(out, "--out", given)
    check_output_folder(os.path.dirname(real), "--out", f"{given} (its parent folder, where the new run is "
                        "written before it replaces the old)")
    for name in (CHECKPOINT_NAME, HISTORY_NAME, *FIGURE_NAMES):
        path = os.path.join(out, name)
        if os.path.exists(path) and not os.path.isfile(path):
            kind = "a folder" if os.path.isdir(path) else "a special file (a device, pipe or socket)"
            raise UserError(f"--out {given!r}: {name} there is {kind}, where the run writes a file; "
                            "move it away or choose another --out")


def layer_shapes(args, input_dim, n_classes):
    """``(in, out)`` of every Dense layer of the model ``train`` builds from ``args``, as the models build them."""
    h, latent = tuple(args.hidden), args.latent
    if args.kind == "convvae":  # a k x k convolution from R to O channels has the parameters of a (R·k², O) layer
        chans, flat = (1, *h), _convvae_maps(args, input_dim)[-1]
        k2 = 16  # ConvVAE's 4 x 4 kernels
        encoder = [(r * k2, o) for r, o in zip(chans[:-1], chans[1:])]
        decoder = [(latent, flat)] + [(chans[i] * k2, chans[i - 1]) for i in range(len(h), 0, -1)]
        return [*encoder, (flat, latent), (flat, latent), *decoder]
    if args.kind in ("vae", "cvae"):
        c = n_classes if args.kind == "cvae" else 0
        encoder, decoder = (input_dim + c, *h), (latent + c, *h[::-1], input_dim)
        heads = [(encoder[-1], latent)] * 2  # mu and logvar
    else:
        encoder = (input_dim, *h, latent)
        decoder, heads = encoder[::-1], []
    return [*zip(encoder[:-1], encoder[1:]), *heads, *zip(decoder[:-1], decoder[1:])]


def _convvae_maps(args, input_dim):
    """Numbers per example in each feature map of a ConvVAE's encoder (each convolution halves the side)."""
    side = math.isqrt(input_dim)
    return [c * max(1, side // 2 ** (i + 1)) ** 2 for i, c in enumerate(args.hidden)]


def check_train_memory(args, class_name, input_dim, n_classes, n_train):
    """One line instead of a crash when the model asked for cannot be trained in this machine's memory."""
    from ..backend import get_backend, resolve_dtype

    shapes = layer_shapes(args, input_dim, n_classes)
    n_params = sum(i * o + o for i, o in shapes)
    batch = min(args.batch_size, n_train)
    # the weights, their gradients, Adam's two moments and fit's saved copy of the weights and
    # the moments (7 numbers per parameter); a batch's activations and their gradients (about
    # 4 numbers per unit of every layer)
    units = input_dim + sum(o for _, o in shapes)
    if args.kind == "convvae":  # the feature maps (twice: encoder and decoder) and im2col's 4x copies of them
        units += 2 * 5 * sum(_convvae_maps(args, input_dim))
    numbers = 7 * n_params + 4 * batch * units
    arch = " -> ".join(str(d) for d in (input_dim, *args.hidden, args.latent))
    check_memory(numbers * resolve_dtype(None).itemsize,
                 f"training {a_an(class_name)} of {n_params:,} parameters ({arch}) in batches of {batch}",
                 get_backend())


# ---------------------------------------------------------------------- checkpoints
def checkpoint_path(ckpt):
    """The ``.npz`` file of ``CKPT``: the path itself, or ``model.npz`` inside a train folder.

    Only a regular file is accepted: a FIFO would block the command, a device never end.
    """
    from ..checkpoint import kind_of
    from ..models.base import checkpoint_file

    path = os.path.expanduser(ckpt)
    if os.path.isdir(path):
        inner = os.path.join(path, CHECKPOINT_NAME)
        if not os.path.exists(inner):
            raise UserError(f"{ckpt!r} is a folder without a {CHECKPOINT_NAME}; give the checkpoint file "
                            "or the --out folder of a train run")
        path = ckpt = inner
    else:
        from .runfolder import interrupted

        path = checkpoint_file(path, "load")  # the rule of save and load: .npz appended if missing
        if not os.path.exists(path):
            given = os.path.realpath(os.path.expanduser(ckpt))  # the run folder, or its model.npz
            raise UserError(interrupted(given) or interrupted(os.path.dirname(given))
                            or f"no such checkpoint: {ckpt!r}")
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
    """``(model, path)`` of ``CKPT``; refused when the history.json beside it belongs to another model."""
    from ..models import load

    path = checkpoint_path(ckpt)
    read_run(path)
    return load(path), path


def read_run(ckpt_path):
    """The ``"run"`` record of the history.json beside a checkpoint, or ``{}`` when there is none.

    Only a regular file is read (a FIFO named history.json would block the command). A
    history that cannot be read, or that records the checksum of another model
    (``checkpoint_sha256``, written by ``train``), is refused: its split would be another run's.
    """
    from .runfolder import CHECKSUM_KEY, sha256

    path = os.path.join(os.path.dirname(os.path.abspath(ckpt_path)), HISTORY_NAME)
    if not os.path.isfile(path):
        return {}
    fix = "move it away and give --data (and --seed, --test-size) as used in training, or train again"
    try:
        if os.path.getsize(path) > MAX_HISTORY:
            raise ValueError(f"it is larger than {format_bytes(MAX_HISTORY)}")
        with open(path, encoding="utf-8") as f:
            run = json.load(f).get("run", {})
        if not isinstance(run, dict):
            raise ValueError("its 'run' entry is not an object")
    except (OSError, ValueError, AttributeError, RecursionError) as err:
        raise UserError(f"{path} cannot be read ({one_line(err)}): {fix}") from None
    recorded = run.get(CHECKSUM_KEY)
    if recorded is not None and recorded != sha256(ckpt_path):
        raise UserError(f"{path} belongs to another model than {ckpt_path} (its {CHECKSUM_KEY} differs), so "
                        f"its split is another run's: {fix}")
    return run


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
