"""``python -m minivae sample CKPT``: draw new digits from a trained VAE or CVAE."""
from __future__ import annotations

import argparse
import math
import os

from .common import a_an, is_cvae, is_vae, label_list, load_model, positive_int, PROG, UserError

def add_parser(commands):
    """Add ``sample`` to ``commands``."""
    raw = argparse.RawDescriptionHelpFormatter
    sample = commands.add_parser(
        "sample", help="draw new digits from a trained vae or cvae", formatter_class=raw,
        description="Draw new digits from a trained VAE (from the prior) or CVAE (of the labels asked for) "
                    "and save them as a grid of images.",
        epilog=f"""\
examples:
  {PROG} sample runs/vae --n 64 --out runs/samples.png
  {PROG} sample runs/cvae --label 7 --out runs/sevens.png
  {PROG} sample runs/cvae --label 3,5,8 --n 10 --out runs/three-five-eight.png   # one row per label
  {PROG} sample runs/cvae --label all --n 10 --seed 1 --out runs/all.png
  {PROG} sample runs/vae --n 1000 --out runs/samples.npy    # the pixels, as an array (n, D)
""")
    sample.add_argument("checkpoint", metavar="CKPT", help="a model.npz, or the --out folder of a train run")
    sample.add_argument("--out", required=True, metavar="FILE",
                        help="image to write (.png, .pdf, .svg, ...), or .npy for the raw pixels")
    sample.add_argument("--n", type=positive_int, default=None,
                        help="samples to draw (per label for a cvae; default: 64, or 10 per label for several labels)")
    sample.add_argument("--label", type=label_list, action="append", default=None, metavar="LABEL",
                        help="cvae only (required there): the class to draw, e.g. 7; several as 3,7 or "
                             "by repeating --label; 'all' for every class")
    sample.add_argument("--seed", type=int, default=0, help="seed of the latent draws (default: %(default)s)")
    sample.add_argument("--backend", choices=("numpy", "cupy"), default=None,
                        help="where to compute (default: $MINIVAE_BACKEND, else numpy)")
    sample.set_defaults(func=run)


def run(args):
    from ..backend import Random, to_numpy

    model, path = load_model(args.checkpoint)
    name = type(model).__name__
    if not is_vae(model):
        raise UserError(f"{args.checkpoint} holds {a_an(name)}, which cannot sample; train a vae or cvae")
    cvae = is_cvae(model)
    if not cvae and args.label is not None:
        raise UserError(f"--label is for a cvae; {args.checkpoint} holds {a_an(name)}, which samples without labels")
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
        from .. import plots

        if not os.path.splitext(out)[1]:
            raise UserError(f"--out {args.out!r} has no file type; end it in .png (or .pdf, .svg, .npy)")
        plots.image_grid(X, ncols=ncols, path=out, title=title)
    print(f"wrote {what} of the {name} in {path} to {out}")
    return 0

