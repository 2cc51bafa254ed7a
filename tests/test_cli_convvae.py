"""``train convvae``: the run folder it writes is read by ``sample`` and ``evaluate``; ``explore`` says no in one line."""
import json

import pytest

import minivae
from minivae.cli import build_parser
from minivae.cli.train import CONVVAE_DEFAULTS, _fill_defaults

from .test_cli import run

pytest.importorskip("sklearn")


def test_convvae_defaults_are_channels():
    args = build_parser().parse_args(["train", "convvae", "--data", "digits", "--out", "unused"])
    _fill_defaults(args)
    assert (args.hidden, args.latent) == (CONVVAE_DEFAULTS["hidden"], CONVVAE_DEFAULTS["latent"])


def test_train_convvae_then_sample_evaluate_explore(tmp_path):
    out = tmp_path / "run"
    status, stdout, stderr = run(["train", "convvae", "--data", "digits", "--epochs", "2", "--hidden", "4,8",
                                  "--latent", "4", "--limit", "300", "--no-figures", "-q", "--out", out])
    assert status == 0, stderr
    model = minivae.load(out / "model.npz")
    assert type(model).__name__ == "ConvVAE" and model.hidden_dims == (4, 8)
    assert json.loads((out / "history.json").read_text())["run"]["class"] == "ConvVAE"
    status, stdout, stderr = run(["sample", out, "--out", tmp_path / "s.png"])
    assert status == 0 and (tmp_path / "s.png").stat().st_size > 0, stderr
    status, stdout, stderr = run(["evaluate", out, "--n-samples", "5", "--json", "-q"])
    assert status == 0, stderr
    result = json.loads(stdout)
    assert result["log_likelihood"] >= -result["neg_elbo"] - 1.0, result  # IW bound above the ELBO (noise aside)
    status, stdout, stderr = run(["explore", out, "--out", tmp_path / "e.html"])
    assert status != 0 and stderr.count("\n") == 1 and "ConvVAE" in stderr and "Traceback" not in stderr


def test_too_many_convolutions_for_the_image_is_one_line(tmp_path):
    status, _, stderr = run(["train", "convvae", "--data", "digits", "--hidden", "2,2,2,2", "-q", "--out", tmp_path])
    assert status != 0 and stderr.count("\n") == 1 and "between 1 and 3 convolutions for 8x8" in stderr
