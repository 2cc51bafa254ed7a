"""A run folder is one unit, and paths are checked before they are trusted.

- ``train --out DIR`` writes a whole new run beside the old one and swaps it in: a failure
  or a kill at any moment leaves the old run or the new one, never a mix;
- history.json names its model (the SHA-256 of model.npz): evaluate, sample and explore
  refuse another run's history in one line;
- ``save`` refuses a name without a file, ``load`` appends ``.npz`` as ``save`` does;
  every message about an option names it; ``--out`` is checked before any work; an
  OSError names the file.
"""
import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minivae
from minivae import VAE
from minivae.cli import runfolder
from tests.test_robustness_cli import no_training, one_line_error, run  # noqa: F401  (a fixture)

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--epochs", "1", "--hidden", "3", "--latent", "2", "--quiet"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A Keras-style .npz of 12 training and 6 test 2x2 'digits' of 3 classes (no scikit-learn needed)."""
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("data") / "tiny.npz"
    np.savez(path, x_train=rng.integers(0, 256, (12, 2, 2), dtype=np.uint8), y_train=np.arange(12) % 3,
             x_test=rng.integers(0, 256, (6, 2, 2), dtype=np.uint8), y_test=np.arange(6) % 3)
    return path


@pytest.fixture
def cheap_figures(monkeypatch):
    """Each figure a few bytes written where train asks: the run folder is under test, not matplotlib."""
    import minivae.plots

    def write(*args, path=None, **kwargs):
        Path(path).write_bytes(b"a figure")

    for name in ("reconstructions", "training_curves", "latent_scatter", "image_grid"):
        monkeypatch.setattr(minivae.plots, name, write)


def train(data, out, *extra):
    return run(["train", "vae", "--data", data, *TINY, *extra, "--out", out])


def snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(Path(folder).iterdir())}


def test_history_names_its_model(data, tmp_path):
    status, _, err = train(data, tmp_path / "run", "--no-figures")
    assert status == 0, err
    recorded = json.loads((tmp_path / "run" / "history.json").read_text())["run"][runfolder.CHECKSUM_KEY]
    assert recorded == runfolder.sha256(tmp_path / "run" / "model.npz")


def test_a_second_run_that_fails_while_writing_keeps_the_first_whole(data, tmp_path, monkeypatch, cheap_figures):
    """It used to leave the new model.npz beside the old history.json (whose split is another run's)."""
    out = tmp_path / "run"
    assert train(data, out)[0] == 0
    (out / "mine.txt").write_text("the user's own file")
    before = snapshot(out)

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("minivae.cli.train._draw_figures", full_disk)
    status, _, err = train(data, out, "--seed", "7")
    line = one_line_error(status, err, "No space left on device", "the previous run in", "is kept")
    assert snapshot(out) == before, line
    assert sorted(os.listdir(tmp_path)) == ["run"]  # no temporary folder left behind


def test_a_new_run_replaces_the_whole_old_one_and_keeps_the_users_files(data, tmp_path, cheap_figures):
    out = tmp_path / "run"
    assert train(data, out)[0] == 0
    (out / "new-samples.png").write_bytes(b"made by sample")
    assert (out / "latent.png").exists()
    status, _, err = train(data, out, "--no-figures", "--seed", "3")
    assert status == 0, err
    names = sorted(os.listdir(out))
    assert names == ["history.json", "model.npz", "new-samples.png"], names  # the old figures went with the old run
    assert (out / "new-samples.png").read_bytes() == b"made by sample"
    assert json.loads((out / "history.json").read_text())["run"]["options"]["seed"] == 3
    assert sorted(os.listdir(tmp_path)) == ["run"]


@pytest.mark.parametrize("command", ["evaluate", "sample", "explore"])
def test_readers_refuse_another_runs_history(data, tmp_path, command):
    for name, seed in (("a", "0"), ("b", "7")):
        assert train(data, tmp_path / name, "--no-figures", "--seed", seed)[0] == 0
    (tmp_path / "a" / "history.json").write_bytes((tmp_path / "b" / "history.json").read_bytes())
    argv = {"evaluate": ["--n-samples", "2"], "sample": ["--n", "2", "--out", tmp_path / "s.npy"],
            "explore": ["--out", tmp_path / "e.html"]}[command]
    status, _, err = run([command, tmp_path / "a", *argv])
    one_line_error(status, err, "history.json belongs to another model", "model.npz", "train again")


def test_a_damaged_history_is_refused_not_ignored(data, tmp_path):
    """A truncated history.json used to be skipped silently: evaluate then used seed 0, test size 0.2."""
    out = tmp_path / "run"
    assert train(data, out, "--no-figures")[0] == 0
    text = (out / "history.json").read_text()
    (out / "history.json").write_text(text[:len(text) // 2])
    status, _, err = run(["evaluate", out, "--n-samples", "2"])
    one_line_error(status, err, "history.json cannot be read", "give --data")


KILL_MID_SWAP = """
import os, sys
import minivae.cli.runfolder as runfolder
from minivae.cli import main

real_rename = os.rename
def rename(src, dst):
    real_rename(src, dst)
    if str(dst).endswith(".old"):  # the old run renamed aside, the new one not yet in: killed here
        os._exit(137)
runfolder.os.rename = rename
main(sys.argv[1:])
"""


def test_a_kill_between_the_two_renames_is_named_and_undone(data, tmp_path):
    """The one moment with no run folder: the readers say where both runs are; the next train restores."""
    out = tmp_path / "run"
    assert train(data, out, "--no-figures")[0] == 0
    first = snapshot(out)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    killed = subprocess.run([sys.executable, "-c", KILL_MID_SWAP, "train", "vae", "--data", str(data), *TINY,
                             "--no-figures", "--seed", "5", "--out", str(out)], env=env, capture_output=True,
                            text=True, timeout=120)
    assert killed.returncode == 137, killed.stderr
    assert not out.exists()
    leftovers = sorted(p.suffix for p in tmp_path.iterdir())
    assert leftovers == [".old", ".tmp"], leftovers
    for ckpt in (out, out / "model.npz"):
        status, _, err = run(["evaluate", ckpt, "--n-samples", "2"])
        one_line_error(status, err, "a train run was stopped while replacing it", ".old", "the new one (complete)",
                       "rename one of them")
    runfolder.recover(str(out))  # what the next train does first
    assert snapshot(out) == first and sorted(os.listdir(tmp_path)) == ["run"]


def test_train_removes_what_a_killed_writer_left(data, tmp_path):
    out = tmp_path / "run"
    assert train(data, out, "--no-figures")[0] == 0
    stale_tmp = tmp_path / ".minivae-run-run.0123abcd.tmp"
    stale_tmp.mkdir()
    (stale_tmp / "model.npz").write_bytes(b"half")
    stale_old = tmp_path / ".minivae-run-run.89abcdef.old"
    stale_old.mkdir()
    assert train(data, out, "--no-figures")[0] == 0
    assert sorted(os.listdir(tmp_path)) == ["run"]


def test_train_refuses_a_folder_of_other_files(data, tmp_path, no_training):
    (tmp_path / "notes.txt").write_text("not a run")
    status, _, err = train(data, tmp_path)
    one_line_error(status, err, "is a folder of other files, not a train run")
    assert os.listdir(tmp_path) == ["notes.txt"]


# ---------------------------------------------------------------------------
# paths
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["", "folder/", ".npz", "folder/.npz"])
def test_save_refuses_a_name_without_a_file(tmp_path, monkeypatch, name):
    """save("dir/") used to write a hidden dir/.npz, save("") a ./.npz."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder").mkdir()
    with pytest.raises(ValueError, match="names a folder or nothing, not a file"):
        VAE(4, (3,), 2).save(name)
    assert sorted(os.listdir(tmp_path)) == ["folder"] and os.listdir(tmp_path / "folder") == []


def test_load_appends_npz_as_save_does(tmp_path):
    model = VAE(4, (3,), 2, seed=1)
    assert model.save(tmp_path / "x") == str(tmp_path / "x.npz")
    loaded = minivae.load(tmp_path / "x")  # used to say "no checkpoint at 'x'"
    assert np.array_equal(loaded.params["encoder.0.W"], model.params["encoder.0.W"])
    assert run(["sample", tmp_path / "x", "--n", "2", "--out", tmp_path / "s.npy"])[0] == 0


@pytest.mark.parametrize("command", ["train", "sample", "evaluate", "explore"])
def test_a_bad_seed_names_the_option(data, tmp_path, command):
    """--seed -1 used to say 'expected non-negative integer' (NumPy's words) without naming it."""
    argv = {"train": ["train", "vae", "--data", data, "--out", tmp_path / "r"],
            "sample": ["sample", tmp_path, "--out", tmp_path / "s.png"],
            "evaluate": ["evaluate", tmp_path], "explore": ["explore", tmp_path, "--out", tmp_path / "e.html"]}
    status, _, err = run([*argv[command], "--seed", "-1"])
    one_line_error(status, err, "argument --seed", "got -1")


def test_explore_checks_out_before_any_work(tmp_path, monkeypatch):
    """explore --out existing-file/x.html used to fail only after reading the data and the model."""
    (tmp_path / "afile").write_text("a file")
    model = VAE(4, (3,), 2)
    model.save(tmp_path / "model.npz")
    monkeypatch.setattr("minivae.cli.explore.run_split", lambda *a: pytest.fail("read the data before --out"))
    status, _, err = run(["explore", tmp_path / "model.npz", "--out", tmp_path / "afile" / "x.html"])
    one_line_error(status, err, "--out", "is a file, not a folder")


def test_train_checks_out_before_reading_the_data(data, tmp_path, monkeypatch):
    (tmp_path / "afile").write_text("a file")
    monkeypatch.setattr("minivae.cli.train.load_split", lambda *a, **k: pytest.fail("read the data before --out"))
    status, _, err = train(data, tmp_path / "afile" / "run")
    one_line_error(status, err, "--out", "is a file, not a folder")


def test_a_file_size_limit_names_the_file(data, tmp_path):
    """A real EFBIG (ulimit -f): the error names the file, and the old run is kept."""
    resource = pytest.importorskip("resource")
    out = tmp_path / "run"
    assert train(data, out, "--no-figures")[0] == 0
    first = snapshot(out)

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (512, 512))

    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run([sys.executable, "-m", "minivae", "train", "vae", "--data", str(data), *TINY,
                           "--no-figures", "--out", str(out)], env=env, capture_output=True, text=True,
                          timeout=120, preexec_fn=small_files)
    one_line_error(proc.returncode, proc.stderr, "File too large", f"{out / 'model.npz'}'",
                   "the previous run in")
    assert snapshot(out) == first


@pytest.mark.parametrize("argv, option", [
    (["vae", "--likelihood", "gaussian", "--sigma", "1e-30"], "--sigma: sigma must be"),
    (["dae", "--corruption", "masking", "--noise", "3"], "--noise: noise"),
])
def test_what_a_model_refuses_names_the_option(data, tmp_path, no_training, argv, option):
    status, _, err = run(["train", *argv, "--data", data, "--out", tmp_path / "r", "--quiet"])
    one_line_error(status, err, option)


def test_a_diverging_run_is_named_as_such_not_as_an_overflow(data, tmp_path):
    status, _, err = run(["train", "ae", "--data", data, "--lr", "1e300", "--epochs", "3", "--out", tmp_path / "r",
                          "--quiet", "--no-figures"])
    line = one_line_error(status, err, "training stopped", "lower learning rate")
    assert "numbers too large" not in line


def test_train_refuses_to_replace_the_folder_it_runs_in(data, tmp_path, monkeypatch, no_training):
    out = tmp_path / "run"
    out.mkdir()
    monkeypatch.chdir(out)
    status, _, err = train(data, ".")
    one_line_error(status, err, "--out '.' is the current folder or holds it")
