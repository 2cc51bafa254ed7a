"""The command line, ``python -m minivae`` (minivae/cli/): train -> sample -> evaluate on
tiny models, and every user error as one line on stderr with exit status 2.

Most tests call ``main([...])`` in-process; two run the real ``python -m minivae``.
Models are tiny (one epoch, a hidden layer of 16) so the whole file takes seconds.
"""
import contextlib
import io
import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minivae
from minivae.cli import main

ROOT = Path(__file__).resolve().parent.parent
PNG = b"\x89PNG\r\n\x1a\n"
TINY = ["--epochs", "1", "--hidden", "16", "--latent", "2", "--batch-size", "256"]


def run(argv):
    """``main(argv)`` with stdout and stderr captured: ``(status, stdout, stderr)``."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in argv])
    return status, out.getvalue(), err.getvalue()


def is_png(path):
    return Path(path).is_file() and Path(path).read_bytes()[:8] == PNG


class FakePlots:
    """Stands in for minivae.plots: records each call (a big grid of images takes seconds to draw)."""

    def __init__(self):
        self.calls = {}

    def __getattr__(self, name):
        def record(*args, **kwargs):
            self.calls[name] = (args, kwargs)
            Path(kwargs["path"]).write_bytes(PNG)

        return record


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One tiny VAE and one tiny CVAE trained on digits: ``kind -> (out, status, stdout, stderr)``.

    The VAE draws its figures for real; the CVAE's figure calls are recorded in ``runs["cvae_plots"]``.
    """
    import minivae.plots

    root = tmp_path_factory.mktemp("cli")
    runs = {}
    for kind in ("vae", "cvae"):
        out = root / kind
        with pytest.MonkeyPatch.context() as mp:
            if kind == "cvae":
                runs["cvae_plots"] = fake = FakePlots()
                for name in minivae.plots.__all__:
                    mp.setattr(minivae.plots, name, getattr(fake, name))
            runs[kind] = (out, *run(["train", kind, "--data", "digits", *TINY, "--out", out, "--quiet"]))
    return runs


@pytest.fixture(scope="module")
def fake_mnist(tmp_path_factory):
    """A Keras-style mnist.npz of random 28x28 digits (60 training, 20 test), for --data PATH."""
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("mnist") / "mnist.npz"
    np.savez(path, x_train=rng.integers(0, 256, (60, 28, 28), dtype=np.uint8), y_train=np.arange(60) % 10,
             x_test=rng.integers(0, 256, (20, 28, 28), dtype=np.uint8), y_test=np.arange(20) % 10)
    return path


@pytest.fixture(scope="module")
def ae_run(tmp_path_factory, fake_mnist):
    out = tmp_path_factory.mktemp("ae") / "run"
    return (out, *run(["train", "ae", "--data", fake_mnist, *TINY, "--out", out]))


# ---------------------------------------------------------------------------
# train
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["vae", "cvae"])
def test_train_writes_checkpoint_history_and_figures(trained, kind):
    out, status, stdout, stderr = trained[kind]
    assert status == 0, stderr
    for name in ("reconstructions.png", "training_curves.png", "latent.png", "samples.png"):
        assert is_png(out / name), name  # (a fake one for the cvae)
    model = minivae.load(out / "model.npz")
    assert type(model).__name__ == kind.upper()
    assert (model.hidden_dims, model.latent_dim) == ((16,), 2)
    history = json.loads((out / "history.json").read_text())
    assert history["epoch"] == [1] and len(history["loss"]) == len(history["val_loss"]) == 1
    assert history["run"]["data"] == "digits"
    assert history["run"]["split"] == {"kind": "random", "test_size": 0.2, "seed": 0}
    # it says where everything is, and the final train and test losses
    assert str(out / "model.npz") in stdout and str(out / "history.json") in stdout
    m = re.search(r"final loss \(nats per example\): train ([\d.]+), test ([\d.]+)", stdout)
    assert m, stdout
    assert float(m.group(1)) == pytest.approx(history["loss"][-1], abs=1e-4)
    assert float(m.group(2)) == pytest.approx(history["val_loss"][-1], abs=1e-4)
    assert "epoch 1/1" not in stdout and "warning" not in stderr  # --quiet, and every figure drawn


def test_train_cvae_draws_its_figures_with_the_labels(trained):
    calls = trained["cvae_plots"].calls
    assert set(calls) == {"reconstructions", "training_curves", "latent_scatter", "image_grid"}
    (x, x_hat), _ = calls["reconstructions"]
    assert x.shape == x_hat.shape == (10, 64)
    (Z, labels), _ = calls["latent_scatter"]
    assert Z.shape == (359, 2) and labels.shape == (359,)
    (samples,), kwargs = calls["image_grid"]
    assert samples.shape == (80, 64) and kwargs["ncols"] == 10  # 8 samples of each class, a column per class
    (history,), _ = calls["training_curves"]
    assert history["val_loss"]


def test_train_ae_on_a_path_prints_progress_and_skips_samples(ae_run):
    out, status, stdout, stderr = ae_run
    assert status == 0, stderr
    assert "epoch 1/1" in stdout and "training Autoencoder (784 -> 16 -> 2" in stdout
    assert is_png(out / "reconstructions.png") and is_png(out / "training_curves.png")
    assert not (out / "samples.png").exists()
    run_ = json.loads((out / "history.json").read_text())["run"]
    assert run_["split"] == {"kind": "official"} and (run_["n_train"], run_["n_test"]) == (60, 20)


@pytest.mark.parametrize("kind, options, expected", [
    ("dae", ["--corruption", "masking", "--noise", "0.4"], {"corruption": "masking", "noise": 0.4}),
    ("sae", ["--sparsity", "0.1", "--sparsity-weight", "2", "--penalty", "l1"],
     {"sparsity": 0.1, "sparsity_weight": 2.0, "penalty": "l1"}),
    ("cae", ["--contraction", "0.5", "--loss", "mse"], {"contraction": 0.5, "loss_name": "mse"}),
    ("vae", ["--beta", "0.5", "--likelihood", "gaussian", "--sigma", "0.3", "--activation", "tanh"],
     {"beta": 0.5, "likelihood": "gaussian", "sigma": 0.3, "activation": "tanh"}),
])
def test_train_passes_each_kinds_options_to_its_model(tmp_path, kind, options, expected):
    status, _, stderr = run(["train", kind, "--data", "digits", *TINY, "--limit", "100", "--no-figures", "-q",
                             "--out", tmp_path, *options])
    assert status == 0, stderr
    model = minivae.load(tmp_path / "model.npz")
    assert {k: getattr(model, k) for k in expected} == pytest.approx(expected)
    assert not list(tmp_path.glob("*.png"))


# ---------------------------------------------------------------------------
# sample
# ---------------------------------------------------------------------------

def test_sample_vae_png_and_npy(trained, tmp_path):
    out = trained["vae"][0]
    status, stdout, stderr = run(["sample", out, "--n", "6", "--out", tmp_path / "s.png"])
    assert status == 0, stderr
    assert is_png(tmp_path / "s.png") and str(tmp_path / "s.png") in stdout
    # the folder of a run and its model.npz are the same checkpoint; --seed picks the draws
    for name, ckpt, seed in (("a", out, 0), ("b", out / "model.npz", 0), ("c", out, 1)):
        assert run(["sample", ckpt, "--n", "5", "--seed", seed, "--out", tmp_path / f"{name}.npy"])[0] == 0
    a, b, c = (np.load(tmp_path / f"{name}.npy") for name in "abc")
    assert a.shape == (5, 64) and np.all((a >= 0) & (a <= 1))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_sample_cvae_labels(trained, tmp_path):
    out = trained["cvae"][0]
    status, _, stderr = run(["sample", out, "--label", "7", "--n", "4", "--out", tmp_path / "sevens.png"])
    assert status == 0, stderr
    assert is_png(tmp_path / "sevens.png")
    # --label repeated and as a list: n samples of each label
    status, stdout, stderr = run(["sample", out, "--label", "3", "--label", "5,8", "--n", "2",
                                  "--out", tmp_path / "x.npy"])
    assert status == 0, stderr
    assert np.load(tmp_path / "x.npy").shape == (6, 64) and "3, 5, 8" in stdout
    assert run(["sample", out, "--label", "all", "--n", "1", "--out", tmp_path / "all.npy"])[0] == 0
    assert np.load(tmp_path / "all.npy").shape == (10, 64)


# ---------------------------------------------------------------------------
# evaluate
# ---------------------------------------------------------------------------

def number(label, text):
    m = re.search(rf"^\s*{re.escape(label)}[^:]*:\s*(\S+)", text, re.MULTILINE)
    assert m, f"no {label!r} line in:\n{text}"
    return float(m.group(1))


def test_evaluate_vae_prints_elbo_likelihood_and_reconstruction(trained):
    out = trained["vae"][0]
    status, stdout, stderr = run(["evaluate", out, "--n-samples", "20"])
    assert status == 0, stderr
    neg_elbo = number("-ELBO", stdout)
    recon, kl = number("reconstruction error", stdout), number("KL", stdout)
    log_lik = number("log-likelihood", stdout)
    assert math.isfinite(neg_elbo) and neg_elbo > 0
    assert neg_elbo == pytest.approx(recon + kl, abs=2e-3) and kl >= 0
    # the same held-out split as training: -ELBO matches the last test loss up to Monte-Carlo noise
    history = json.loads((out / "history.json").read_text())
    assert neg_elbo == pytest.approx(history["val_loss"][-1], rel=0.03)
    # the importance-weighted bound is at least the ELBO, up to noise
    assert log_lik > -neg_elbo - 1.0
    assert "359 held-out examples (test_size 0.2, seed 0)" in stdout


def test_evaluate_cvae_json_and_explicit_split(trained, tmp_path):
    out = trained["cvae"][0]
    lone = tmp_path / "model.npz"  # no history.json beside it: the split comes from the options
    shutil.copy(out / "model.npz", lone)
    status, stdout, stderr = run(["evaluate", lone, "--data", "digits", "--seed", "0", "--test-size", "0.2",
                                  "--n-samples", "5", "--json"])
    assert status == 0, stderr
    result = json.loads(stdout)
    assert result["model"] == "CVAE" and result["n_examples"] == 359 and result["unit"] == "nats per example"
    assert math.isfinite(result["neg_elbo"]) and result["neg_elbo"] > 0
    assert math.isfinite(result["log_likelihood"]) and result["reconstruction_error"] > 0


def test_evaluate_ae_reports_reconstruction_error(ae_run):
    out = ae_run[0]
    status, stdout, stderr = run(["evaluate", out])
    assert status == 0, stderr
    assert "20 held-out examples (the official test set)" in stdout
    assert number("reconstruction error", stdout) > 0 and "-ELBO" not in stdout


# ---------------------------------------------------------------------------
# user errors: one line on stderr, exit status 2, no traceback
# ---------------------------------------------------------------------------

@pytest.fixture
def paths(trained, ae_run, fake_mnist, tmp_path):
    junk = tmp_path / "junk.npz"
    junk.write_text("not a checkpoint")
    lone = tmp_path / "lone" / "model.npz"
    lone.parent.mkdir()
    shutil.copy(trained["vae"][0] / "model.npz", lone)
    return {"vae": trained["vae"][0], "cvae": trained["cvae"][0], "ae": ae_run[0], "junk": junk,
            "mnist": fake_mnist, "lone": lone, "tmp": tmp_path, "png": tmp_path / "x.png"}


ERRORS = {
    "missing checkpoint": (["sample", "{tmp}/nope.npz", "--out", "{png}"], "no such checkpoint"),
    "missing checkpoint (evaluate)": (["evaluate", "{tmp}/nope.npz"], "no such checkpoint"),
    "folder without a checkpoint": (["evaluate", "{tmp}"], "without a model.npz"),
    "junk checkpoint": (["sample", "{junk}", "--out", "{png}"], "not a minivae checkpoint"),
    "ae cannot sample": (["sample", "{ae}", "--out", "{png}"],
                         "holds an Autoencoder, which cannot sample; train a vae or cvae"),
    "cvae without --label": (["sample", "{cvae}", "--out", "{png}"], "--label"),
    "--label out of range": (["sample", "{cvae}", "--label", "10", "--out", "{png}"], "out of range"),
    "--label not a number": (["sample", "{cvae}", "--label", "seven", "--out", "{png}"], "argument --label"),
    "--label on a vae": (["sample", "{vae}", "--label", "3", "--out", "{png}"], "--label is for a cvae"),
    "--epochs 0": (["train", "vae", "--data", "digits", "--epochs", "0", "--out", "{tmp}/r"], "--epochs"),
    "--hidden junk": (["train", "ae", "--data", "digits", "--hidden", "64,x", "--out", "{tmp}/r"], "--hidden"),
    "--test-size 1": (["train", "ae", "--data", "digits", "--test-size", "1", "--out", "{tmp}/r"], "--test-size"),
    "unknown data name": (["train", "vae", "--data", "fashion", "--out", "{tmp}/r"], "neither a data set name"),
    "folder without MNIST": (["train", "vae", "--data", "{tmp}", "--out", "{tmp}/r"], "MNIST files not found"),
    "library ValueError": (["train", "dae", "--data", "digits", "--corruption", "masking", "--noise", "3",
                            "--out", "{tmp}/r"], "noise"),
    "wrong data shape": (["evaluate", "{vae}", "--data", "{mnist}"], "64 features per example"),
    "no data for evaluate": (["evaluate", "{lone}"], "--data"),
    "no command": ([], "required"),
    "unknown model kind": (["train", "gan", "--data", "digits", "--out", "{tmp}/r"], "invalid choice"),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_user_errors_are_one_line_and_status_2(paths, case):
    argv, expected = ERRORS[case]
    status, stdout, stderr = run([a.format(**paths) for a in argv])
    assert status == 2, (stdout, stderr)
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("minivae: error: "), stderr
    assert expected in lines[0]
    assert not (paths["tmp"] / "r" / "model.npz").exists() and not paths["png"].exists()


def test_help_mentions_the_subcommands_and_each_kinds_options(capsys):
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    assert all(word in text for word in ("train", "sample", "evaluate", "examples:"))
    assert main(["train", "--help"]) == 0
    text = capsys.readouterr().out
    assert all(kind in text for kind in ("ae", "dae", "sae", "cae", "vae", "cvae"))
    assert main(["train", "vae", "--help"]) == 0
    assert "--beta" in capsys.readouterr().out
    assert main(["train", "dae", "--help"]) == 0
    text = capsys.readouterr().out
    assert "--noise NOISE" in text and "--beta BETA" not in text


def _python_m(*args, cwd):
    env = {k: v for k, v in os.environ.items() if k != "MINIVAE_DEBUG"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "minivae", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def test_python_m_minivae_help():
    result = _python_m("--help", cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "python -m minivae" in result.stdout
    assert all(word in result.stdout for word in ("train", "sample", "evaluate"))


def test_python_m_minivae_exits_2_on_a_user_error(tmp_path):
    result = _python_m("sample", "nope.npz", "--out", "x.png", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "minivae: error: no such checkpoint: 'nope.npz'"
