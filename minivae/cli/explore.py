"""``python -m minivae explore CKPT [CKPT ...] --out explorer.html``: one web page to explore VAEs or CVAEs."""
from __future__ import annotations

import argparse
import os

from .common import (
    a_an, check_input_dim, check_output_file, common_data_options, describe_split, run_split, is_cvae, is_vae,
    load_model, positive_int, PROG, split_options, UserError,
)


def add_parser(commands):
    """Add ``explore`` to ``commands``."""
    from ..explore import DEFAULT_POINTS, MAX_PAGE_BYTES

    raw = argparse.RawDescriptionHelpFormatter
    explore = commands.add_parser(
        "explore", help="write one web page to explore a trained vae or cvae in a browser", formatter_class=raw,
        description="Write one self-contained HTML file: the latent plane with the held-out digits' mu as dots "
                    "and the digit decoded under the pointer, a pad to draw a digit and see its mu, sigma, KL "
                    "and one-sample ELBO, the label buttons of a CVAE and a walk between two points, on a phone "
                    "or with the keyboard. The weights and a JavaScript forward pass are inside the page: open "
                    "it from disk, no server, no network.",
        epilog=f"""\
examples:
  {PROG} explore runs/vae --out explorer.html          # held-out digits from runs/vae/history.json
  {PROG} explore runs/cvae/model.npz --out cvae.html --points 1000
  {PROG} explore model.npz --data digits --seed 0 --out explorer.html
  {PROG} explore runs/beta0.5 runs/beta1 runs/beta4 --out betas.html   # one page, a switch between them

The dots are held-out digits: the split is rebuilt from history.json next to the checkpoint
(--data, --seed and --test-size override it, and are needed when there is no history.json).
For a code of more than 2 numbers the page shows the two coordinates along which the
held-out mu spread most, and holds the others at values you can see and change.
Several checkpoints of the same data make one page with a button per model (their dots
are the same held-out digits, from the first one's split); it weighs about the sum of
their pages, and like any page it is refused past {MAX_PAGE_BYTES / 1e6:.0f} MB.
""")
    explore.add_argument("checkpoint", metavar="CKPT", nargs="+",
                         help="a model.npz, or the --out folder of a train run (several: one page, a switch)")
    explore.add_argument("--out", required=True, metavar="FILE", help="the HTML file to write")
    common_data_options(explore, required=False)
    split_options(explore)
    explore.add_argument("--points", type=positive_int, default=DEFAULT_POINTS, metavar="N",
                         help="held-out digits to embed as dots (default: %(default)s; each costs about one "
                              "image of bytes)")
    explore.add_argument("--title", default=None, help="the page's heading (default: the model and its layers; "
                                                       "one model only: several show each one's own)")
    explore.set_defaults(func=run)


def _title(model, data):
    name = type(model).__name__
    beta = f", beta {model.beta:g}" if model.beta != 1 else ""
    return f"{name} {'-'.join(map(str, (model.input_dim, *model.hidden_dims, model.latent_dim)))}{beta} " \
           f"on {data if len(str(data)) < 40 else os.path.basename(str(data))}"


def run(args):
    from ..explore import write_explorer

    loaded = [load_model(ckpt) for ckpt in args.checkpoint]
    for ckpt, (model, _) in zip(args.checkpoint, loaded):
        name = type(model).__name__
        if not is_vae(model):
            raise UserError(f"{ckpt} holds {a_an(name)}; the explorer shows the mu and sigma of a vae or cvae")
        if name == "ConvVAE":
            raise UserError(f"{ckpt} holds a ConvVAE; the explorer page runs dense networks only "
                            "and cannot show a convolutional one yet (sample and evaluate work on it)")
    if args.title is not None and len(loaded) > 1:
        raise UserError(f"--title names the page of one model; with {len(loaded)} models each button shows "
                        "its model's own title: leave --title out")
    out = os.path.expanduser(args.out)
    check_output_file(out, "--out", args.out, example="explorer.html")  # before any work
    model, path = loaded[0]
    _, X, _, y, data, split = run_split(args, path)
    for ckpt, (m, _) in zip(args.checkpoint, loaded):
        check_input_dim(m, X, ckpt, data)
    models = [m for m, _ in loaded]
    titles = [args.title or _title(m, data) for m in models]
    write_explorer(models if len(models) > 1 else model, X, y, out, n_points=args.points, seed=0,
                   title=titles if len(models) > 1 else titles[0])
    size = os.path.getsize(out)
    n = min(args.points, X.shape[0])
    dots = f"the {describe_split(split, X.shape[0])}" if n == X.shape[0] else \
        f"{n} of the {describe_split(split, X.shape[0])}"
    labels = f", {model.n_classes} label buttons" if is_cvae(model) else ""
    what = f"the {type(model).__name__} in {path}" if len(models) == 1 else \
        f"{len(models)} models ({', '.join(str(p) for _, p in loaded)}) with a switch"
    print(f"wrote {out} ({size / 1e6:.2f} MB): {what}, {dots} as dots{labels}")
    print("open it in a browser, straight from disk (no server, no network)")
    return 0
