"""``python -m minivae evaluate CKPT``: measure a trained model on its held-out split."""
from __future__ import annotations

import argparse
import json

from .common import (
    check_input_dim, common_data_options, describe_split, held_out_split, is_cvae, is_vae, load_model,
    loss_unit, positive_int, PROG, recon_unit, split_options,
)
from .common import check_importance_memory

def add_parser(commands):
    """Add ``evaluate`` to ``commands``."""
    raw = argparse.RawDescriptionHelpFormatter
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
    common_data_options(evaluate, required=False)
    split_options(evaluate)
    evaluate.add_argument("--n-samples", type=positive_int, default=100, metavar="K",
                          help="importance samples per example for the log-likelihood (default: %(default)s)")
    evaluate.add_argument("--json", action="store_true", help="print the results as one JSON object")
    evaluate.set_defaults(func=run)


def evaluate_model(model, X, y, n_samples):
    """The numbers ``evaluate`` prints, as a dict of floats (per example, averaged over ``X``)."""
    cvae = is_cvae(model)
    labels = (y,) if cvae else ()
    results = {}
    if is_vae(model):
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


def run(args):
    model, path = load_model(args.checkpoint)
    X, y, data, split = held_out_split(args, path)
    check_input_dim(model, X, args.checkpoint, data)
    check_importance_memory(model, args.n_samples)
    results = evaluate_model(model, X, y, args.n_samples)
    name = type(model).__name__
    if args.json:
        out = {"checkpoint": path, "model": name, "data": data, "split": split, "n_examples": int(X.shape[0]),
               "n_samples": args.n_samples, "unit": recon_unit(model), **results}
        print(json.dumps(out))
        return 0
    unit, objective_unit = recon_unit(model), loss_unit(model)
    print(f"{name} from {path}, on {data}: {describe_split(split, X.shape[0])}")
    rows = []
    if "neg_elbo" in results:
        given, given_z = ("x, y", "x|z, y") if is_cvae(model) else ("x", "x|z")
        rows.append(("-ELBO", results["neg_elbo"], unit))
        rows.append(("reconstruction error", results["reconstruction_error"], f"{unit}  (E_q[-log p({given_z})])"))
        rows.append((f"KL(q(z|{given}) || p(z))", results["kl"], unit))
        if "loss" in results:
            rows.append((f"loss (beta = {model.beta:g})", results["loss"], unit))
        rows.append((f"log-likelihood (IW, K={args.n_samples})", results["log_likelihood"],
                     f"{unit}  (importance-weighted estimate of log p({'x|y' if is_cvae(model) else 'x'}))"))
    else:
        corrupted = ", on corrupted inputs" if hasattr(model, "corrupt") else ""
        rows.append(("loss", results["loss"], f"{objective_unit}  (the training objective{corrupted})"))
        if "penalty" in results:
            rows.append(("penalty", results["penalty"], "per example"))
        rows.append(("reconstruction error", results["reconstruction_error"], unit))
    width = max(len(r[0]) for r in rows)
    for label, value, u in rows:
        print(f"  {label:<{width}} : {value:10.4f} {u}")
    return 0

