"""The command line's CVAE draws the digit asked for, and ``evaluate`` says how often.

``train cvae`` picks its defaults by data set (``CVAE_DEFAULTS``); ``evaluate`` on a CVAE
reports how often a classifier trained on real digits reads its samples as the label
asked for, and explains why its -ELBO differs a little from the test loss train printed.
"""
import json
import math
import re

import pytest

import minivae
from minivae.cli import build_parser
from minivae.cli.train import CVAE_DEFAULTS, GENERIC_DEFAULTS, _fill_defaults

from .test_cli import run

pytest.importorskip("sklearn")


def parsed(*argv):
    args = build_parser().parse_args(["train", *argv, "--out", "unused"])
    _fill_defaults(args)
    return args


def test_train_cvae_defaults_depend_on_the_data_set():
    for data in ("digits", "mnist-subset"):
        args = parsed("cvae", "--data", data)
        assert {k: getattr(args, k) for k in CVAE_DEFAULTS[data]} == CVAE_DEFAULTS[data]
    assert (parsed("cvae", "--data", "~/mnist").latent, parsed("cvae", "--data", "~/mnist").beta) == (8, 4.0)
    mine = parsed("cvae", "--data", "mnist-subset", "--latent", "3", "--beta", "1", "--epochs", "5")
    assert (mine.latent, mine.beta, mine.epochs, mine.hidden) == (3, 1.0, 5, (400,))  # what is given stays
    vae = parsed("vae", "--data", "mnist-subset")
    assert {k: getattr(vae, k) for k in GENERIC_DEFAULTS} == GENERIC_DEFAULTS and vae.beta == 1.0


def test_train_cvae_help_gives_cvae_examples_and_its_defaults(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "cvae", "--help"])
    text = capsys.readouterr().out
    assert "train cvae --data mnist-subset --out runs/cvae" in text and "sample runs/cvae --label 7" in text
    assert "--hidden 400 --latent 8 --beta 4 --epochs 60" in text
    assert "train ae --data digits" not in text  # not the generic examples
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "vae", "--help"])
    assert "--beta 4" not in capsys.readouterr().out


def test_a_cli_cvae_on_the_8x8_digits_draws_the_digit_asked_for(tmp_path):
    out = tmp_path / "cvae"
    status, _, stderr = run(["train", "cvae", "--data", "digits", "--no-figures", "-q", "--out", out])
    assert status == 0, stderr
    model = minivae.load(out / "model.npz")
    assert (model.hidden_dims, model.latent_dim, model.beta) == ((128,), 2, 1.0)  # the digits defaults
    status, stdout, stderr = run(["evaluate", out, "--n-samples", "10", "--per-label", "50", "--json", "-q"])
    assert status == 0, stderr
    agreement = json.loads(stdout)["label_agreement"]
    assert agreement["n_per_class"] == 50 and len(agreement["per_class"]) == 10
    assert agreement["agreement"] >= 0.95 and min(agreement["per_class"]) >= 0.85, agreement
    assert 0.85 <= agreement["classifier_accuracy"] < 1.0 and "logistic regression" in agreement["classifier"]
    assert agreement["agreement"] == pytest.approx(sum(agreement["per_class"]) / 10)
    # the text report says the same, per digit, with the judge's own accuracy beside it
    status, stdout, _ = run(["evaluate", out, "--n-samples", "10", "--per-label", "50", "-q"])
    m = re.search(r"label agreement: ([\d.]+) % of 500 samples \(50 per label\)", stdout)
    assert m and float(m.group(1)) == pytest.approx(100 * agreement["agreement"], abs=0.05), stdout
    assert "per asked label:" in stdout and "per real digit:" in stdout
    assert f"{100 * agreement['classifier_accuracy']:.1f} % accurate on 359 real held-out digits" in stdout


def test_evaluate_explains_its_elbo_against_the_test_loss_of_train(tmp_path):
    status, _, stderr = run(["train", "vae", "--data", "digits", "--epochs", "2", "--hidden", "32", "--latent", "4",
                             "--no-figures", "-q", "--out", tmp_path])
    assert status == 0, stderr
    status, stdout, stderr = run(["evaluate", tmp_path, "--n-samples", "50", "--json", "-q"])
    result = json.loads(stdout)
    val_loss = json.loads((tmp_path / "history.json").read_text())["val_loss"][-1]
    sd = result["neg_elbo_one_draw_sd"]
    # train's test loss is one draw of the same -ELBO: within a few of its standard deviations
    assert 0 < sd < 1 and abs(result["neg_elbo"] - val_loss) <= 5 * sd + 1e-3, (result, val_loss)
    status, stdout, _ = run(["evaluate", tmp_path, "--n-samples", "50", "-q"])
    assert "one draw of eps per example" in stdout and f"{sd:.2f} nats" in stdout
    assert "averaged over K=50 draws of eps" in stdout and math.isfinite(result["kl"])
