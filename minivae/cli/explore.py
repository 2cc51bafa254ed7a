"""``python -m minivae explore CKPT --out explorer.html``: one web page to explore a VAE or CVAE."""
from __future__ import annotations

import argparse
import os

from .common import (
    a_an, check_input_dim, common_data_options, describe_split, run_split, is_cvae, is_vae, load_model,
    positive_int, PROG, split_options, UserError,
)
from .common import check_output_file


def add_parser(commands):
    """Add ``explore`` to ``commands``."""
    from ..explore import DEFAULT_POINTS

    raw = argparse.RawDescriptionHelpFormatter
    explore = commands.add_parser(
        "explore", help="write one web page to explore a trained vae or cvae in a browser", formatter_class=raw,
        description="Write one self-contained HTML file: the latent plane with the held-out digits' mu as dots "
                    "and the digit decoded under the pointer, a pad to draw a digit and see its mu and sigma, "
                    "the label buttons of a CVAE and a walk between two points. The weights and a JavaScript "
                    "forward pass are inside the page: open it from disk, no server, no network.",
        epilog=f"""\
examples:
  {PROG} explore runs/vae --out explorer.html          # held-out digits from runs/vae/history.json
  {PROG} explore runs/cvae/model.npz --out cvae.html --points 1000
  {PROG} explore model.npz --data digits --seed 0 --out explorer.html

The dots are held-out digits: the split is rebuilt from history.json next to the checkpoint
(--data, --seed and --test-size override it, and are needed when there is no history.json).
For a code of more than 2 numbers the page shows the two coordinates along which the
held-out mu spread most, and holds the others at values you can see and change.
""")
    explore.add_argument("checkpoint", metavar="CKPT", help="a model.npz, or the --out folder of a train run")
    explore.add_argument("--out", required=True, metavar="FILE", help="the HTML file to write")
    common_data_options(explore, required=False)
    split_options(explore)
    explore.add_argument("--points", type=positive_int, default=DEFAULT_POINTS, metavar="N",
                         help="held-out digits to embed as dots (default: %(default)s; each costs about one "
                              "image of bytes)")
    explore.add_argument("--title", default=None, help="the page's heading (default: the model and its layers)")
    explore.set_defaults(func=run)


def run(args):
    from ..explore import write_explorer

    model, path = load_model(args.checkpoint)
    name = type(model).__name__
    if not is_vae(model):
        raise UserError(f"{args.checkpoint} holds {a_an(name)}; the explorer shows the mu and sigma of a vae or cvae")
    if name == "ConvVAE":
        raise UserError(f"{args.checkpoint} holds a ConvVAE; the explorer page runs dense networks only "
                        "and cannot show a convolutional one yet (sample and evaluate work on it)")
    out = os.path.expanduser(args.out)
    check_output_file(out, "--out", args.out, example="explorer.html")  # before any work
    _, X, _, y, data, split = run_split(args, path)
    check_input_dim(model, X, args.checkpoint, data)
    title = args.title or f"{name} {'-'.join(map(str, (model.input_dim, *model.hidden_dims, model.latent_dim)))} " \
                          f"on {data if len(str(data)) < 40 else os.path.basename(str(data))}"
    write_explorer(model, X, y, out, n_points=args.points, seed=0, title=title)
    size = os.path.getsize(out)
    n = min(args.points, X.shape[0])
    dots = f"the {describe_split(split, X.shape[0])}" if n == X.shape[0] else \
        f"{n} of the {describe_split(split, X.shape[0])}"
    labels = f", {model.n_classes} label buttons" if is_cvae(model) else ""
    print(f"wrote {out} ({size / 1e6:.2f} MB): the {name} in {path}, {dots} as dots{labels}")
    print("open it in a browser, straight from disk (no server, no network)")
    return 0
