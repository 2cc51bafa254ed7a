"""``python -m minivae train KIND``: train a model, save it, its history and figures."""
from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time

from .common import (
    CHECKPOINT_NAME, common_data_options, data_record, float_in, HISTORY_NAME, is_cvae, is_vae,
    layer_widths, load_split, loss_unit, one_line, Parser, positive_int, PROG, UserError,
)
from . import runfolder
from ..checkpoint import write_atomically
from .common import check_train_memory, check_train_out, FIGURE_NAMES, seed_int

KINDS = {
    "ae": ("Autoencoder", "plain autoencoder"),
    "dae": ("DenoisingAutoencoder", "denoising autoencoder: reconstructs clean digits from corrupted ones"),
    "sae": ("SparseAutoencoder", "sparse autoencoder: a sigmoid code pushed towards a low mean activation"),
    "cae": ("ContractiveAutoencoder", "contractive autoencoder: penalises the encoder's Jacobian"),
    "vae": ("VAE", "variational autoencoder: a generative model you can sample from"),
    "cvae": ("CVAE", "conditional VAE: told the digit's class, samples any digit you ask for"),
    "convvae": ("ConvVAE", "convolutional VAE: stride-2 convolutions in, transposed ones out; "
                           "--hidden gives the channels (docs/derivations.md §10)"),
}

TRAIN_EPILOG = f"""\
examples:
  {PROG} train ae --data digits --latent 2 --epochs 30 --out runs/ae
  {PROG} train vae --data mnist-subset --hidden 512,256 --latent 16 --beta 1 --out runs/vae
  {PROG} train cvae --data digits --out runs/cvae     # 'train cvae --help': its own defaults

Each run writes into --out: model.npz (the checkpoint), history.json (losses per epoch
and the run's settings), reconstructions.png, training_curves.png, latent.png, and
samples.png for vae and cvae. The data are split into a training set and a held-out test
set (--test-size, seeded by --seed; full MNIST keeps its official test set); the test
loss is measured after every epoch.
"""


#: the options a CVAE gets by default on each data set (anything else: the "mnist-subset" row),
#: chosen so that a classifier trained on real digits reads >= 95 % of its samples as the
#: digit asked for (python benchmarks/cvae_agreement.py; why in docs/derivations.md §9.4)
CVAE_DEFAULTS = {
    "digits": {"hidden": (128,), "latent": 2, "beta": 1.0, "epochs": 100},
    "mnist-subset": {"hidden": (400,), "latent": 8, "beta": 4.0, "epochs": 60},
}
GENERIC_DEFAULTS = {"hidden": (256, 128), "latent": 8, "epochs": 20}
#: a convvae's --hidden are channels: two convolutions halve 28x28 (or 8x8) twice
CONVVAE_DEFAULTS = {"hidden": (16, 32), "latent": 16, "epochs": 20}

CVAE_EPILOG = f"""\
examples:
  {PROG} train cvae --data mnist-subset --out runs/cvae
  {PROG} sample runs/cvae --label 7 --out runs/sevens.png
  {PROG} evaluate runs/cvae        # -ELBO, log p(x|y), and how often a classifier reads the label asked for
  {PROG} train cvae --data digits --out runs/cvae-digits

Defaults by data set (each can be overridden):
  digits:                    --hidden 128 --latent 2 --beta 1 --epochs 100
  mnist-subset, MNIST files: --hidden 400 --latent 8 --beta 4 --epochs 60

Why beta 4 on MNIST: a CVAE is told the digit, so its code z need only keep the style.
But where information in z is cheap (a roomy code at beta 1) z stores the digit as well,
and then a z drawn from N(0, I) often lands where training only saw other digits' codes:
asked for a 7, such a model (--latent 8 --beta 1) draws a 7 only 54 to 78 % of the time.
Beta 4 makes every nat in z cost four times as much, the digit (which the label gives for
free) is dropped from z, and about 98 % of samples are the digit asked for, at a price:
a held-out -ELBO of 124 nats against 117 at beta 1 (a 2-number code also works, 99 %,
but at 140 nats).
'evaluate' measures the agreement; docs/derivations.md §9.4 has the story.
"""


def _add_train_kind(kinds, kind, common):
    cls_name, description = KINDS[kind]
    p = kinds.add_parser(kind, parents=[common], help=description, description=f"Train a {description}.",
                         epilog=CVAE_EPILOG if kind == "cvae" else TRAIN_EPILOG,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    g = p.add_argument_group(f"{kind} options")
    if kind in ("vae", "cvae", "convvae"):
        g.add_argument("--beta", type=float_in(0.0), default=None if kind == "cvae" else 1.0,
                       help="weight of the KL term; 1 trains on the ELBO itself (default: "
                            + ("by data set, see below)" if kind == "cvae" else "%(default)s)"))
        g.add_argument("--likelihood", choices=("bernoulli", "gaussian"), default="bernoulli",
                       help="p(x|z): bernoulli (pixels in [0, 1]) or gaussian with std --sigma (default: %(default)s)")
        g.add_argument("--sigma", type=float_in(0.0, low_open=True), default=0.2,
                       help="standard deviation of the gaussian likelihood (default: %(default)s)")
    else:
        g.add_argument("--loss", choices=("bce", "mse"), default="bce",
                       help="reconstruction loss: binary cross-entropy or squared error (default: %(default)s)")
    if kind == "dae":
        g.add_argument("--corruption", choices=("gaussian", "masking", "salt_and_pepper"), default="gaussian",
                       help="how the inputs are damaged (default: %(default)s)")
        g.add_argument("--noise", type=float_in(0.0), default=None,
                       help="std of the gaussian noise, or the fraction of pixels masking and "
                            "salt_and_pepper corrupt (default: 0.3, 0.3, 0.2)")
    if kind == "sae":
        g.add_argument("--sparsity", type=float_in(0.0, 1.0, low_open=True, high_open=True), default=0.05,
                       help="target mean activation rho of the code units, in (0, 1) (default: %(default)s)")
        g.add_argument("--sparsity-weight", type=float_in(0.0), default=3.0,
                       help="weight of the sparsity penalty (default: %(default)s)")
        g.add_argument("--penalty", choices=("kl", "l1"), default="kl",
                       help="the sparsity penalty (default: %(default)s)")
    if kind == "cae":
        g.add_argument("--contraction", type=float_in(0.0), default=0.1,
                       help="weight lambda of the Jacobian penalty (default: %(default)s)")
    p.set_defaults(func=run, kind=kind)
    return p


def add_parser(commands):
    """Add ``train`` and its one subcommand per model kind to ``commands``."""
    raw = argparse.RawDescriptionHelpFormatter
    common = Parser(add_help=False)
    g = common.add_argument_group("data and training")
    common_data_options(g, required=True)
    g.add_argument("--out", required=True, metavar="DIR", help="folder for model.npz, history.json and the figures")
    by_data = "; cvae: by data set, in 'Defaults by data set' at the end of the cvae help"
    g.add_argument("--epochs", type=positive_int, default=None,
                   help=f"passes over the training set (default: 20{by_data})")
    g.add_argument("--hidden", type=layer_widths, default=None, metavar="W1,W2,...",
                   help="widths of the encoder's hidden layers, the decoder mirrors them; "
                        f"'none' for no hidden layer (default: 256,128{by_data})")
    g.add_argument("--latent", type=positive_int, default=None, help=f"size of the code z (default: 8{by_data})")
    g.add_argument("--activation", choices=("relu", "leaky_relu", "tanh", "sigmoid", "softplus"), default="relu",
                   help="activation of the hidden layers (default: %(default)s)")
    g.add_argument("--batch-size", type=positive_int, default=128, help="examples per step (default: %(default)s)")
    g.add_argument("--lr", type=float_in(0.0, low_open=True), default=1e-3,
                   help="learning rate of Adam (default: %(default)s)")
    g.add_argument("--seed", type=seed_int, default=0,
                   help="seeds the split, the initial weights, the shuffling and the noise (default: %(default)s)")
    g.add_argument("--test-size", type=float_in(0.0, 1.0, low_open=True, high_open=True), default=0.2,
                   help="fraction of the data held out for testing (default: %(default)s)")
    g.add_argument("--limit", type=positive_int, default=None, metavar="N",
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


def _fill_defaults(args):
    """Put the default of every option left unset (``None``) into ``args``: by data set for a cvae."""
    if args.kind == "cvae":
        defaults = CVAE_DEFAULTS.get(args.data, CVAE_DEFAULTS["mnist-subset"])
    else:
        defaults = CONVVAE_DEFAULTS if args.kind == "convvae" else GENERIC_DEFAULTS
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)


def _build_model(args, input_dim, n_classes):
    from .. import models

    cls = getattr(models, KINDS[args.kind][0])
    kw = dict(hidden_dims=args.hidden, latent_dim=args.latent, activation=args.activation, seed=args.seed)
    if args.kind in ("vae", "cvae", "convvae"):
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



#: the option of each constructor argument that train passes from the command line
OPTIONS = {"hidden_dims": "--hidden", "latent_dim": "--latent", "activation": "--activation", "seed": "--seed",
           "likelihood": "--likelihood", "beta": "--beta", "sigma": "--sigma", "loss": "--loss",
           "corruption": "--corruption", "noise": "--noise", "sparsity": "--sparsity",
           "sparsity_weight": "--sparsity-weight", "penalty": "--penalty", "contraction": "--contraction"}


def _name_the_option(message):
    """``"sigma must be ..."`` -> ``"--sigma: sigma must be ..."``: a constructor's message, said as an option's."""
    first = message.split(" ", 1)[0]
    return f"{OPTIONS[first]}: {message}" if first in OPTIONS else message


def _options_record(args):
    skip = {"func", "command", "kind", "out", "data", "quiet", "figures", "backend"}
    rec = {k: v for k, v in vars(args).items() if k not in skip}
    rec["hidden"] = list(rec["hidden"])
    return rec


def _draw_figures(model, args, history, X_test, y_test, out):
    """Write the figures; return the paths written. A figure that fails is a warning, not an error."""
    from .. import plots
    from ..backend import to_numpy

    cvae = is_cvae(model)
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
        plots.training_curves(history, path=path, title=f"{name} on {args.data}", unit=loss_unit(model))

    def latent():
        codes = model.encode(X_test, y_test) if cvae else model.encode(X_test)
        Z = codes[0] if isinstance(codes, tuple) else codes  # a VAE's code is its posterior mean mu
        what = "posterior means" if is_vae(model) else "codes"
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
    if model.latent_dim >= 2 and X_test.shape[0] >= 2:  # a plane of the codes needs two of them
        figures.append(("latent.png", latent))
    if is_vae(model):
        figures.append(("samples.png", samples))
    written = []
    for filename, draw in figures:
        path = os.path.join(out, filename)
        try:
            draw()
        except (ValueError, TypeError) as err:
            print(f"minivae: warning: could not draw {filename}: {one_line(err)}", file=sys.stderr)
        except OSError as err:  # a full disk fails the whole run (the old one is kept), naming the file
            raise OSError(err.errno, err.strerror or str(err), err.filename or path) from err
        else:
            written.append(path)
    return written


def run(args):
    from ..optim import Adam

    _fill_defaults(args)
    out = os.path.expanduser(args.out)
    check_train_out(out, args.out)  # before any work: a folder that cannot be written fails fast
    X_train, X_test, y_train, y_test, split = load_split(args.data, test_size=args.test_size, seed=args.seed)
    if args.limit is not None and args.limit < X_train.shape[0]:
        import numpy

        keep = numpy.random.default_rng(args.seed).permutation(X_train.shape[0])[:args.limit]
        X_train, y_train = X_train[keep], y_train[keep]
    n_classes = int(max(y_train.max(), y_test.max())) + 1
    check_train_memory(args, KINDS[args.kind][0], X_train.shape[1], n_classes, X_train.shape[0])
    try:
        model = _build_model(args, X_train.shape[1], n_classes)
    except (ValueError, TypeError) as err:  # what the model's constructor refused: name the option
        raise UserError(_name_the_option(one_line(err))) from None
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

    from .. import __version__

    run = {"model": args.kind, "class": type(model).__name__, "data": data_record(args.data), "split": split,
           "n_train": int(X_train.shape[0]), "n_test": int(X_test.shape[0]), "options": _options_record(args),
           "seconds": seconds, "minivae_version": __version__,
           "backend": model.backend}  # the same seed gives other numbers on a GPU (cuRAND)
    record = {k: list(v) for k, v in history.items()}
    record["run"] = run
    # the whole run is written into a new folder, then replaces the old run at once (cli/runfolder.py)
    with runfolder.new_run(out, (CHECKPOINT_NAME, HISTORY_NAME, *FIGURE_NAMES)) as folder:
        run[runfolder.CHECKSUM_KEY] = runfolder.sha256(model.save(os.path.join(folder, CHECKPOINT_NAME)))
        text = json.dumps(record, indent=1) + "\n"
        write_atomically(os.path.join(folder, HISTORY_NAME), lambda f: f.write(text.encode("utf-8")),
                         what="a history")
        if args.figures and not args.quiet:
            print("drawing the figures ...", file=sys.stderr, flush=True)
        drawn = _draw_figures(model, args, history, X_test, y_test, folder) if args.figures else []
    figures = [os.path.join(out, os.path.basename(p)) for p in drawn]
    ckpt, history_path = os.path.join(out, CHECKPOINT_NAME), os.path.join(out, HISTORY_NAME)

    weighted = f"recon + {model.beta:g}·KL, " if is_vae(model) and model.beta != 1 else ""
    print(f"final loss ({weighted}{loss_unit(model)}): train {history['loss'][-1]:.4f}, "
          f"test {history['val_loss'][-1]:.4f}  [{args.epochs} epoch{'s' * (args.epochs != 1)}, {seconds:.1f} s]")
    print(f"checkpoint: {ckpt}")
    print(f"history:    {history_path}")
    if figures:
        print(f"figures:    {', '.join(figures)}")
    folder = shlex.quote(args.out)
    hint = [f"{PROG} evaluate {folder}"]
    if is_vae(model):
        drawn = shlex.quote(os.path.join(args.out, "sevens.png" if cvae else "new-samples.png"))
        hint.insert(0, f"{PROG} sample {folder}{' --label 7' if cvae else ''} --out {drawn}")
    print("next:       " + "\n            ".join(hint))
    return 0

