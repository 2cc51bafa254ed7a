"""The command line refuses what it cannot do before doing any work, in one line (exit 2).

- more memory than the machine has (``--latent``, ``sample --n``, ``evaluate --n-samples``):
  one line that says how much was asked for;
- an ``--out`` that cannot be written (a file in the way, a special file, a read-only
  folder) is found before training or sampling, not after;
- a diverging run (``--lr 1e6``) exits 2 and saves nothing.
"""
import argparse
import contextlib
import io
import os
import sys

import numpy as np
import pytest

from minivae import VAE
from minivae.cli import main
from minivae.cli.common import check_memory, format_bytes, layer_shapes, UserError
from minivae.cli.train import KINDS

BIG = "1000000000"


def run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in argv])
    return status, out.getvalue(), err.getvalue()


def one_line_error(status, stderr, *expected):
    assert status == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("minivae: error: "), stderr
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    from minivae.datasets import load_digits

    X, _ = load_digits()
    model = VAE(64, (8,), 2, seed=0)
    model.fit(X[:64], epochs=1, verbose=False)
    return model.save(tmp_path_factory.mktemp("ckpt") / "model.npz")


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if anything starts training."""
    from minivae.models.base import Model

    def fit(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(Model, "fit", fit)


# ---------------------------------------------------------------------------
# memory
# ---------------------------------------------------------------------------

def test_training_a_model_too_big_for_memory(tmp_path, no_training):
    status, _, err = run(["train", "vae", "--data", "digits", "--latent", BIG, "--out", tmp_path / "r", "--quiet"])
    line = one_line_error(status, err, "training a VAE of ", " parameters (64 -> 256 -> 128 -> 1000000000)",
                          "needs about ", "TiB of memory, more than the ")
    assert "available" in line


def test_sampling_more_than_memory_holds(ckpt, tmp_path):
    for out in ("s.png", "s.npy"):
        status, _, err = run(["sample", ckpt, "--n", BIG, "--out", tmp_path / out])
        one_line_error(status, err, f"--n {BIG}: 1,000,000,000 samples of 64 pixels", "needs about ")
    assert not list(tmp_path.iterdir())


def test_importance_samples_beyond_memory(ckpt):
    status, _, err = run(["evaluate", ckpt, "--data", "digits", "--n-samples", BIG])
    one_line_error(status, err, f"--n-samples {BIG}: 1,000,000,000 codes decoded at once needs about ")


def test_a_memory_error_that_was_not_foreseen_is_one_line_too(ckpt, tmp_path, monkeypatch):
    def sample(self, n):
        raise MemoryError("Unable to allocate 5.00 GiB for an array with shape (5, 2**28)")

    monkeypatch.setattr(VAE, "sample", sample)
    status, _, err = run(["sample", ckpt, "--n", "4", "--out", tmp_path / "s.npy"])
    one_line_error(status, err, "out of memory: Unable to allocate 5.00 GiB")


def test_check_memory_says_how_much_was_asked_for():
    with pytest.raises(UserError, match=r"^the thing needs about 8192\.0 PiB of memory, more than the "):
        check_memory(2**63, "the thing")
    check_memory(1, "one byte")  # fits anywhere
    assert format_bytes(1536) == "1.5 KiB" and format_bytes(3 * 2**40) == "3.0 TiB"


@pytest.mark.parametrize("kind", KINDS)
def test_the_parameter_count_before_building_is_the_models(kind):
    """The memory estimate counts the layers the model will have; it must not drift from the models."""
    from minivae.cli.train import _build_model

    args = argparse.Namespace(kind=kind, hidden=(12, 5), latent=3, activation="relu", seed=0, likelihood="bernoulli",
                              beta=1.0, sigma=0.2, loss="bce", corruption="gaussian", noise=None, sparsity=0.05,
                              sparsity_weight=3.0, penalty="kl", contraction=0.1)
    D = 64 if kind == "convvae" else 20  # a ConvVAE reads square images
    model = _build_model(args, D, 4)
    assert sum(i * o + o for i, o in layer_shapes(args, D, 4)) == model.n_params()


# ---------------------------------------------------------------------------
# --out
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("blocker", ["folder", "fifo"])
def test_train_finds_a_blocked_output_before_training(tmp_path, no_training, blocker):
    out = tmp_path / "run"
    out.mkdir()
    if blocker == "folder":
        (out / "model.npz").mkdir()
        expected = "model.npz there is a folder"
    else:
        if not hasattr(os, "mkfifo"):
            pytest.skip("no named pipes here")
        os.mkfifo(out / "history.json")
        expected = "history.json there is a special file"
    status, _, err = run(["train", "ae", "--data", "digits", "--out", out, "--quiet"])
    one_line_error(status, err, f"--out '{out}'", expected)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write anywhere")
def test_train_finds_a_read_only_folder_before_training(tmp_path, no_training):
    out = tmp_path / "run"
    out.mkdir()
    out.chmod(0o555)
    try:
        status, _, err = run(["train", "ae", "--data", "digits", "--out", out, "--quiet"])
    finally:
        out.chmod(0o755)
    one_line_error(status, err, "cannot write in")


def test_sample_into_a_path_under_a_file_names_the_file(ckpt, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("not a folder")
    monkeypatch.setattr(VAE, "sample", lambda self, n: pytest.fail("sampled before checking --out"))
    status, _, err = run(["sample", ckpt, "--out", "afile/s.png"])
    one_line_error(status, err, "--out 'afile/s.png': 'afile' is a file, not a folder")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_sample_refuses_a_special_file(ckpt, tmp_path):
    fifo = tmp_path / "s.png"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # so that a regression writes into it instead of hanging
    try:
        status, _, err = run(["sample", ckpt, "--n", "4", "--out", fifo])
    finally:
        os.close(reader)
    one_line_error(status, err, "is a special file (a device, pipe or socket), not a regular file")


def test_sample_refuses_an_unknown_file_type_before_sampling(ckpt, tmp_path, monkeypatch):
    monkeypatch.setattr(VAE, "sample", lambda self, n: pytest.fail("sampled before checking --out"))
    status, _, err = run(["sample", ckpt, "--out", tmp_path / "s.xyz"])
    one_line_error(status, err, "cannot write .xyz files; use .npy or one of", ".png")


def test_sample_writes_through_a_temporary_file(ckpt, tmp_path):
    status, _, err = run(["sample", ckpt, "--n", "5", "--out", tmp_path / "new" / "s.npy"])
    assert status == 0, err
    assert [p.name for p in (tmp_path / "new").iterdir()] == ["s.npy"]  # no temporary left behind
    assert np.load(tmp_path / "new" / "s.npy").shape == (5, 64)
    if sys.platform != "win32":
        umask = os.umask(0)
        os.umask(umask)
        assert (tmp_path / "new" / "s.npy").stat().st_mode & 0o777 == 0o666 & ~umask


# ---------------------------------------------------------------------------
# divergence
# ---------------------------------------------------------------------------

def test_a_diverging_run_exits_2_and_saves_nothing(tmp_path):
    """It used to exit 0 and save a model whose loss was 3.6e27."""
    out = tmp_path / "r"
    status, _, err = run(["train", "ae", "--data", "digits", "--hidden", "6", "--latent", "2", "--lr", "1e6",
                          "--epochs", "2", "--out", out, "--quiet", "--no-figures"])
    one_line_error(status, err, "the loss became", "lower learning rate")
    assert not (out / "model.npz").exists() and not (out / "history.json").exists()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_evaluate_does_not_wait_on_a_fifo_named_history_json(ckpt, tmp_path):
    """history.json beside the checkpoint is read only if it is a regular file."""
    folder = tmp_path / "run"
    folder.mkdir()
    os.link(ckpt, folder / "model.npz")
    os.mkfifo(folder / "history.json")
    status, _, err = run(["evaluate", folder, "--n-samples", 2])  # without the check: blocks for ever
    one_line_error(status, err, "which data?")
