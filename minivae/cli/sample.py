"""``python -m minivae sample CKPT``: draw new digits from a trained VAE or CVAE."""
from __future__ import annotations

import argparse
import math
import os

from ..checkpoint import write_atomically
from .common import (
    a_an, check_memory, check_output_file, is_cvae, is_vae, label_list, load_model, positive_int, PROG, seed_int,
    UserError,
)

#: about how much memory drawing and saving an image grid takes per image: the grid is one
#: mosaic, and its peak grew by 91 KiB per image from 100 to 1,600 28x28 images (measured
#: with resource.getrusage around plots.image_grid and a PNG save)
PANEL_BYTES = 128 * 1024


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
    sample.add_argument("--seed", type=seed_int, default=0, help="seed of the latent draws (default: %(default)s)")
    sample.add_argument("--backend", choices=("numpy", "cupy"), default=None,
                        help="where to compute (default: $MINIVAE_BACKEND, else numpy)")
    sample.set_defaults(func=run)


def _check_out(out, given):
    """Before sampling: a file we can write, of a type we can write (``.npy`` or a matplotlib format)."""
    check_output_file(out, "--out", given, example="samples.png")
    ext = os.path.splitext(out)[1].lower()
    if ext == ".npy":
        return
    if not ext:
        raise UserError(f"--out {given!r} has no file type; end it in .png (or .pdf, .svg, .npy)")
    from matplotlib.backend_bases import FigureCanvasBase

    types = FigureCanvasBase.get_supported_filetypes()
    if ext[1:] not in types:
        raise UserError(f"--out {given!r}: cannot write {ext} files; use .npy or one of "
                        f"{', '.join('.' + t for t in sorted(types))}")


def _check_sample_memory(model, n, n_total, out):
    """One line instead of a crash when the samples asked for do not fit in memory."""
    image = not out.lower().endswith(".npy")
    per_sample = model.dtype.itemsize * 3 * (model.input_dim + model.latent_dim) + 16  # codes, pixels, a label
    per_sample += PANEL_BYTES if image else 0
    check_memory(n_total * per_sample, f"--n {n}: {n_total:,} samples of {model.input_dim} pixels"
                 + (", drawn as an image grid," if image else ""), model.backend)


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
    out = os.path.expanduser(args.out)
    _check_out(out, args.out)
    if cvae:
        classes = []
        for item in args.label:
            classes.extend(range(model.n_classes) if item == "all" else item)
        bad = [c for c in classes if not 0 <= c < model.n_classes]
        if bad:
            raise UserError(f"--label {bad[0]} is out of range: this CVAE knows the classes 0..{model.n_classes - 1}")
        n = args.n if args.n is not None else (64 if len(classes) == 1 else 10)
        _check_sample_memory(model, n, n * len(classes), out)
        labels = [c for c in classes for _ in range(n)]
        X = model.sample(labels)
        ncols = n if len(classes) > 1 else math.ceil(math.sqrt(n))
        what = f"{n} samples of each of the labels {', '.join(map(str, classes))}" if len(classes) > 1 \
            else f"{n} samples of label {classes[0]}"
        title = f"CVAE samples, one row per label ({', '.join(map(str, classes))})" if len(classes) > 1 \
            else f"CVAE samples of the digit {classes[0]}"
    else:
        n = args.n if args.n is not None else 64
        _check_sample_memory(model, n, n, out)
        X = model.sample(n)
        ncols = math.ceil(math.sqrt(n))
        what, title = f"{n} samples from the prior", "VAE samples from the prior"
    if out.lower().endswith(".npy"):
        import numpy

        write_atomically(out, lambda f: numpy.save(f, to_numpy(X)), what="a sample file")
    else:
        from .. import plots
        from ..plots.common import DPI

        fig = plots.image_grid(X, ncols=ncols, title=title)
        file_type = os.path.splitext(out)[1][1:].lower()
        write_atomically(out, lambda f: fig.savefig(f, format=file_type, dpi=DPI), what="an image")
    print(f"wrote {what} of the {name} in {path} to {out}")
    return 0

