"""``python -m minivae evaluate CKPT``: measure a trained model on its held-out split."""
from __future__ import annotations

import argparse
import json

from .common import (
    check_importance_memory, check_input_dim, common_data_options, describe_split, is_cvae, is_vae, load_model,
    loss_unit, positive_int, PROG, recon_unit, run_split, split_options,
)


def add_parser(commands):
    """Add ``evaluate`` to ``commands``."""
    raw = argparse.RawDescriptionHelpFormatter
    evaluate = commands.add_parser(
        "evaluate", help="measure a trained model on its held-out test set", formatter_class=raw,
        description="Measure a trained model on the held-out split that train kept aside: the negative "
                    "ELBO and the importance-weighted log-likelihood (vae, cvae) and the reconstruction "
                    "error (every model), in nats per example; for a cvae also how often a classifier "
                    "trained on real digits reads its samples as the digit asked for.",
        epilog=f"""\
examples:
  {PROG} evaluate runs/vae                       # data and split read from runs/vae/history.json
  {PROG} evaluate runs/vae/model.npz --n-samples 1000
  {PROG} evaluate model.npz --data digits --seed 0 --test-size 0.2 --json

The split is rebuilt from history.json next to the checkpoint (data, seed, test size);
--data, --seed and --test-size override it (and are needed when there is no history.json).

The -ELBO here averages K draws of eps per example; the test loss that train printed is
the same quantity from one draw, so the two differ by Monte-Carlo noise (the output says
by how much such one-draw values spread). The KL is in closed form: it matches exactly.
For a cvae, --per-label samples of each digit are read by a logistic regression trained
on the real training digits (scikit-learn); its own accuracy on real held-out digits is
printed beside the agreement.
""")
    evaluate.add_argument("checkpoint", metavar="CKPT", help="a model.npz, or the --out folder of a train run")
    common_data_options(evaluate, required=False)
    split_options(evaluate)
    evaluate.add_argument("--n-samples", type=positive_int, default=100, metavar="K",
                          help="importance samples per example for the log-likelihood (default: %(default)s)")
    evaluate.add_argument("--per-label", type=positive_int, default=100, metavar="N",
                          help="cvae: samples of each label the classifier reads (default: %(default)s)")
    evaluate.add_argument("--json", action="store_true", help="print the results as one JSON object")
    evaluate.add_argument("--quiet", "-q", action="store_true", help="no progress bars (they go to stderr)")
    evaluate.set_defaults(func=run)


#: one-draw estimates of the -ELBO whose spread ``evaluate`` reports
ONE_DRAW_REPEATS = 10

#: the label-agreement classifier learns from at most this many training digits (full MNIST: 60,000)
MAX_CLASSIFIER_TRAIN = 10_000


def evaluate_model(model, X, y, n_samples, *, progress=False):
    """The numbers ``evaluate`` prints, as a dict of floats (per example, averaged over ``X``).

    For a VAE or CVAE, ``"neg_elbo_one_draw_sd"`` is the standard deviation of
    ``ONE_DRAW_REPEATS`` estimates of the -ELBO from one draw of eps per example, as
    ``train`` computes its test loss: the noise in that number.
    """
    cvae = is_cvae(model)
    labels = (y,) if cvae else ()
    results = {}
    if is_vae(model):
        import statistics

        xp = model.xp
        elbo = model.elbo(X, *labels, n_samples=n_samples, progress=progress)
        one_draw = [-float(model.elbo(X, *labels, n_samples=1).mean()) for _ in range(ONE_DRAW_REPEATS)]
        results["neg_elbo_one_draw_sd"] = statistics.stdev(one_draw)
        mu, logvar = model.encode(X, *labels)
        kl = 0.5 * (mu * mu + xp.exp(logvar) - 1.0 - logvar).sum(axis=1)
        results["neg_elbo"] = -float(elbo.mean())
        results["kl"] = float(kl.mean())
        # -ELBO = E_q[-log p(x|z)] + KL: the reconstruction term of the model's own loss
        results["reconstruction_error"] = results["neg_elbo"] - results["kl"]
        results["log_likelihood"] = float(model.log_likelihood(X, *labels, n_samples=n_samples,
                                                               progress=progress).mean())
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
    X_train, X, y_train, y, data, split = run_split(args, path)
    check_input_dim(model, X, args.checkpoint, data)
    check_importance_memory(model, args.n_samples)
    results = evaluate_model(model, X, y, args.n_samples, progress=not args.quiet)
    agreement = _label_agreement(model, X_train, y_train, X, y, args) if is_cvae(model) else None
    name = type(model).__name__
    if args.json:
        out = {"checkpoint": path, "model": name, "data": data, "split": split, "n_examples": int(X.shape[0]),
               "n_samples": args.n_samples, "unit": recon_unit(model), **results}
        if agreement is not None:
            out["label_agreement"] = agreement.as_dict()
        print(json.dumps(out))
        return 0
    unit, objective_unit = recon_unit(model), loss_unit(model)
    print(f"{name} from {path}, on {data}: {describe_split(split, X.shape[0])}")
    rows = []
    if "neg_elbo" in results:
        given, given_z = ("x, y", "x|z, y") if is_cvae(model) else ("x", "x|z")
        rows.append(("-ELBO", results["neg_elbo"], f"{unit}  (averaged over K={args.n_samples} draws of eps)"))
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
    if "neg_elbo_one_draw_sd" in results:
        same = "this -ELBO" if model.beta == 1 else f"the loss (beta = {model.beta:g}) above"
        print(f"  (train's test loss is {same}, estimated with one draw of eps per example;\n"
              f"   one-draw estimates spread by {results['neg_elbo_one_draw_sd']:.2f} nats (std of "
              f"{ONE_DRAW_REPEATS}), hence a small difference; the KL is exact in both)")
    if agreement is not None:
        print("label agreement: " + "\n".join(agreement.lines()))
    return 0


def _label_agreement(model, X_train, y_train, X_test, y_test, args):
    """How often a classifier trained on real digits reads the CVAE's samples as the label asked for."""
    import sys

    import numpy

    from ..agreement import label_agreement
    from ..backend import to_numpy

    if X_train.shape[0] > MAX_CLASSIFIER_TRAIN:
        keep = numpy.random.default_rng(0).permutation(X_train.shape[0])[:MAX_CLASSIFIER_TRAIN]
        X_train, y_train = X_train[keep], y_train[keep]
    if not args.quiet:
        print(f"label agreement: training a classifier on {X_train.shape[0]:,} real digits, then reading "
              f"{args.per_label} samples of each label ...", file=sys.stderr, flush=True)
    classes = numpy.unique(to_numpy(y_train))
    if classes.size < 2:  # nothing to tell apart: the other numbers are still measured
        print(f"minivae: note: no label agreement: the training digits hold only the class {classes[0]}, "
              "and a classifier needs two", file=sys.stderr)
        return None
    return label_agreement(model, X_train, y_train, X_test, y_test, per_class=args.per_label)

