"""Tests for survivors of benchmarks/mutation.py in the models, the thread rule and the
explorer: each fails on the mutant named in its docstring (public behaviour only)."""
import os

import numpy as np
import pytest

from minivae import SGD, VAE, Autoencoder
from minivae import threads
from minivae.explore import pad_geometry


def test_fit_takes_batches_of_128_by_default():
    """models.base fit: the documented default batch_size=128 (mutant: 129)."""
    model, opt = Autoencoder(4, (3,), 2, seed=0), SGD(lr=0.01)
    model.fit(np.random.default_rng(0).random((129, 4)), epochs=1, optimizer=opt, verbose=False)
    assert opt.steps == 2  # 129 rows: a batch of 128 and one of 1


def test_blas_threads_1_is_a_valid_setting(monkeypatch):
    """threads.thread_limit: MINIVAE_BLAS_THREADS=1, the setting that gives the same numbers on any load (mutant: n < 2 refused)."""
    monkeypatch.setenv(threads.ENV, "1")
    assert threads.thread_limit(VAE(784, hidden_dims=(400,), latent_dim=20), 128, busy=0.0) == 1


def test_the_idle_cores_are_counted_among_those_this_process_may_use(monkeypatch):
    """threads._usable_cpus: the cores of the process's affinity, not the machine's (mutant: os.cpu_count)."""
    if not hasattr(os, "sched_getaffinity"):
        pytest.skip("no CPU affinity on this platform")
    monkeypatch.delenv(threads.ENV, raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})  # taskset -c 0-3 on a 64-core machine
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    large = VAE(784, hidden_dims=(400,), latent_dim=20)
    assert threads.thread_limit(large, 128, busy=1.0) == 3  # 4 usable cores, one busy


def test_a_model_without_weight_matrices_has_no_large_product():
    """threads.largest_product: no 2-D parameter gives 0 (mutant: max() of nothing raises)."""
    class BiasesOnly:
        params = {"b": np.zeros(3)}

    assert threads.largest_product(BiasesOnly(), 128) == 0


def test_blank_images_put_the_pad_centre_in_the_middle():
    """explore.pad_geometry: with no ink the centre is the image's middle, (side - 1) / 2 (mutant: * 2)."""
    assert pad_geometry(np.zeros((2, 64)), 8)["center"] == [3.5, 3.5]
    assert pad_geometry(np.zeros((1, 28 * 28)), 28)["center"] == [13.5, 13.5]


@pytest.mark.skipif(not os.path.exists("/proc/stat"), reason="the load probe reads /proc/stat (Linux)")
def test_the_probe_counts_each_online_cpu_once():
    """threads._cpu_ticks: one per ``cpuN`` line of /proc/stat (mutant: 2 each, the load read twice too high)."""
    busy, total, n_cpus = threads._cpu_ticks()
    assert n_cpus == os.cpu_count() and 0 <= busy <= total


# ---------------------------------------------------------------------- survivors of the sample on the merged code
def test_a_model_moved_by_to_still_samples_and_trains():
    """models.base Model.to: the model's generator moves with it (mutant: rng set to None)."""
    model = VAE(8, (4,), 2, seed=0).to("numpy")
    assert model.sample(3).shape == (3, 8)
    model.fit(np.random.default_rng(0).random((6, 8)), epochs=1, batch_size=3, verbose=False)


def test_validation_data_of_three_items_is_refused():
    """train.fit: validation_data is (X_val,) or (X_val, y_val) (mutant: a 3-tuple accepted, its first item used)."""
    X = np.random.default_rng(0).random((6, 4))
    with pytest.raises(TypeError, match="validation_data"):
        Autoencoder(4, (3,), 2, seed=0).fit(X, epochs=1, validation_data=(X, X, X), verbose=False)


def test_a_cvaes_validation_data_keeps_its_labels():
    """train.fit: (X_val, y_val) gives the labels to the validation loss (mutant: the labels dropped)."""
    from minivae import CVAE

    rng = np.random.default_rng(0)
    X, y = rng.random((6, 4)), np.arange(6) % 3
    history = CVAE(4, 3, (3,), 2, seed=0).fit(X, y, epochs=1, validation_data=(X, y), verbose=False)
    assert len(history["val_loss"]) == 1 and np.isfinite(history["val_loss"][0])


def test_evaluate_terms_averages_over_every_batch():
    """models.base evaluate_terms: the mean over all of X, batch by batch (mutant: only the last batch kept)."""
    X = np.random.default_rng(0).random((7, 4))
    model = Autoencoder(4, (3,), 2, seed=0)
    whole = model.evaluate_terms(X)["loss"]
    assert model.evaluate_terms(X, batch_size=3)["loss"] == pytest.approx(whole, rel=1e-6)
    assert model.evaluate_terms(X[6:])["loss"] != pytest.approx(whole, rel=1e-3)  # the last batch alone differs


def test_a_path_that_is_no_file_name_is_named_in_the_error():
    """models.base save: the TypeError says what a path must be (mutant: an empty message)."""
    with pytest.raises(TypeError, match=r"path must be a file name \(str or os.PathLike\); got int"):
        Autoencoder(4, (3,), 2, seed=0).save(123)


def test_the_explorer_data_names_its_format_and_its_model():
    """explore.explorer_data: the page's data says its format and the model's kind (mutants: altered strings)."""
    from minivae.explore import choose_plane, explorer_data

    X = np.random.default_rng(0).random((6, 4))
    data = explorer_data(VAE(4, (3,), 2, seed=0), X, n_points=6)
    assert data["format"] == "minivae-explorer/1" and data["kind"] == "VAE"
    with pytest.raises(ValueError, match=r"mu must have shape \(n, latent_dim\) with n >= 1 and latent_dim >= 2"):
        choose_plane(np.zeros((0, 2)))


def test_a_divergence_after_some_steps_says_which_step_it_went_back_to():
    """train.fit: the message names the saved step (mutant: always 'at the start of this run')."""
    from minivae.train import TrainingDivergedError

    model = Autoencoder(6, (5,), 3, activation="tanh", loss="mse", seed=0)  # diverges slowly
    opt = SGD(lr=0.3)
    X = np.random.default_rng(0).random((64, 6)).astype(np.float32)
    with pytest.raises(TrainingDivergedError) as caught:
        model.fit(X, epochs=20, batch_size=8, optimizer=opt, verbose=False)
    k = opt.steps
    assert k > 0 and f"after step {k} of this run" in str(caught.value)


def test_a_factor_of_the_width_is_named_with_its_d():
    """gradclues _at, _say: a factor 1/D is named, with what D is (mutants: D never looked up, or not said)."""
    from minivae.exercises import BY_NAME
    from minivae.exercises.checker import check_exercise

    def mse(pred, target):  # the loss right, its gradient divided by the width as well
        B, D = pred.shape
        return ((pred - target) ** 2).sum() / B, 2 * (pred - target) / (B * D)

    result = check_exercise(BY_NAME["mse"], mse)
    assert "is 0.3333 = 1/D times the true one everywhere (D = 3, the width of its last axis)" in result.diagnosis


def test_a_backup_is_copied_where_hard_links_are_refused(tmp_path, monkeypatch):
    """exercises.workbook keep_backup: without hard links the bytes are copied (mutant: nothing written)."""
    from minivae.exercises.workbook import keep_backup

    path = tmp_path / "workbook.py"
    path.write_bytes(b"def relu_backward(dout, cache):\n    return dout * (cache.x > 0)\n")

    def no_links(src, dst):
        raise PermissionError("hard links are not allowed here")

    monkeypatch.setattr(os, "link", no_links)
    backup = keep_backup(str(path))
    assert os.path.basename(backup) == "workbook-backup-1.py"
    assert open(backup, "rb").read() == path.read_bytes()


def test_a_shape_clue_names_the_shape_it_was_given():
    """gradclues clues: the shape clue says the learner's shape (mutant: no shape handed to it)."""
    from minivae.gradclues import clues

    assert clues("dW", np.ones((3, 4)), np.ones((4, 3))) == [
        "dW has shape (3, 4) where (4, 3) belongs: the shape of its transpose: a transpose is missing or extra"]


def test_a_factor_b_over_d_is_named():
    """gradclues _factors: B/D by its name (mutant: "b/d")."""
    from minivae.exercises import BY_NAME
    from minivae.exercises.checker import check_exercise

    def mse(pred, target):  # the gradient divided by the width instead of the batch
        B, D = pred.shape
        return ((pred - target) ** 2).sum() / B, 2 * (pred - target) / D

    assert "is 1.667 = B/D times the true one everywhere" in check_exercise(BY_NAME["mse"], mse).diagnosis


def test_the_plane_reaches_past_the_farthest_dots():
    """explore._plane_extent: dots out at 5 widen the plane past the prior's 3 (mutant: the dots ignored)."""
    from minivae.explore import _plane_extent

    assert _plane_extent(np.full((10, 2), 5.0), [0, 1]) == 6.0  # 5 * 1.15 = 5.75, rounded up to a half
    assert _plane_extent(np.full((10, 2), 1.0), [0, 1]) == 3.0  # never less than the prior's 3 sigma


def test_an_overflowing_digit_is_counted_alone(monkeypatch):
    """explore.explorer_data: the digits whose mu or logvar overflow, counted one by one (mutant: all or none)."""
    from minivae.explore import explorer_data

    model = VAE(4, (3,), 2, seed=0)
    encode = model.encode

    def one_bad(X, *a):
        mu, logvar = encode(X, *a)
        logvar = np.array(logvar)
        logvar[0, 1] = np.inf
        return mu, logvar

    monkeypatch.setattr(model, "encode", one_bad)
    with pytest.raises(ValueError, match="for 1 of the 6 held-out digits"):
        explorer_data(model, np.random.default_rng(0).random((6, 4)), n_points=6)
