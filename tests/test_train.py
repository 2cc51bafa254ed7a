"""The training loop, ``fit`` (minivae/train.py): history, progress, seeded shuffling,
divergence, optimizer reuse and its argument checks."""
import re

import numpy as np
import pytest

import minivae
import minivae.train
from minivae import SGD, Adam, Autoencoder, TrainingDivergedError
from minivae.backend import Random
from minivae.models.base import params_to_numpy
from minivae.train import FLAT, diverged


def data(n=40, d=6, seed=0):
    return np.random.default_rng(seed).random((n, d)).astype(np.float32)


def same_params(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def spy_batches(model):
    """Record every batch ``fit`` hands to the model, with the parameters it saw and its loss."""
    calls = []
    inner = model.loss_terms_and_grads

    def spy(x, y=None, **kw):
        terms, grads = inner(x, y, **kw)
        calls.append({"x": np.array(x), "params": params_to_numpy(model), "loss": float(terms["loss"])})
        return terms, grads

    model.loss_terms_and_grads = spy
    return calls


# ---------------------------------------------------------------------------
# history
# ---------------------------------------------------------------------------

def test_history_keys_and_lengths():
    X, Xv = data(40), data(10, seed=1)
    model = Autoencoder(6, (4,), 2, seed=0)
    history = model.fit(X, epochs=3, batch_size=16, validation_data=(Xv,), verbose=False)
    assert history is model.history
    assert set(history) == {"epoch", "loss", "recon", "val_loss", "val_recon", "time"}
    assert all(len(v) == 3 for v in history.values())
    assert history["epoch"] == [1, 2, 3]
    assert all(isinstance(t, float) and t > 0 for t in history["time"])
    # the plain autoencoder has no penalty: the loss is the reconstruction
    assert history["loss"] == history["recon"]
    # the validation loss is measured after the epoch's last step
    assert history["val_loss"][-1] == pytest.approx(model.loss(Xv), rel=1e-5)
    # fitting again appends to the same history and keeps counting epochs
    model.fit(X, epochs=2, batch_size=16, validation_data=(Xv,), verbose=False)
    assert history["epoch"] == [1, 2, 3, 4, 5]
    assert all(len(v) == 5 for v in history.values())


def test_history_without_validation_has_no_val_keys():
    history = Autoencoder(6, (4,), 2, seed=0).fit(data(), epochs=2, verbose=False)
    assert set(history) == {"epoch", "loss", "recon", "time"}


def test_epoch_loss_is_the_mean_of_the_batch_losses_weighted_by_size():
    model = Autoencoder(6, (4,), 2, loss="mse", seed=0, dtype="float64")
    calls = spy_batches(model)
    X = data(10).astype(np.float64)
    history = model.fit(X, epochs=1, batch_size=4, optimizer=SGD(0.01), verbose=False)
    sizes = [len(c["x"]) for c in calls]
    assert sizes == [4, 4, 2]
    expected = sum(c["loss"] * len(c["x"]) for c in calls) / 10
    assert history["loss"][0] == pytest.approx(expected, rel=1e-12)


# ---------------------------------------------------------------------------
# progress
# ---------------------------------------------------------------------------

def test_verbose_false_prints_nothing(capsys):
    Autoencoder(6, (4,), 2, seed=0).fit(data(), epochs=2, batch_size=8, validation_data=(data(5),),
                                         verbose=False)
    out, err = capsys.readouterr()
    assert out == "" and err == ""


def test_verbose_true_shows_a_bar_with_the_running_loss_and_a_line_per_epoch(capsys):
    Autoencoder(6, (4,), 2, seed=0).fit(data(), epochs=2, batch_size=8, verbose=True)
    out, err = capsys.readouterr()
    # one summary line per epoch on stdout
    assert re.search(r"epoch 1/2: loss \d+\.\d{4}, recon \d+\.\d{4} \(\d+\.\d s\)", out)
    assert "epoch 2/2: loss" in out
    # the tqdm bar (stderr), named by its epoch, shows the running loss
    assert "epoch 1/2" in err and "epoch 2/2" in err
    assert re.search(r"loss=\d+\.\d{4}", err)


# ---------------------------------------------------------------------------
# shuffling
# ---------------------------------------------------------------------------

def test_batches_are_shuffled_differently_each_epoch():
    model = Autoencoder(6, (4,), 2, seed=0, dtype="float64")
    X = np.arange(60, dtype=np.float64).reshape(10, 6) / 60  # row i is recognisable by X[i, 0]
    calls = spy_batches(model)
    model.fit(X, epochs=3, batch_size=3, verbose=False)
    orders = []
    for epoch in range(3):
        seen = np.concatenate([c["x"][:, 0] for c in calls[epoch * 4:(epoch + 1) * 4]])
        orders.append(np.rint(seen * 10).astype(int))
    for order in orders:
        assert sorted(order) == list(range(10))  # every example once per epoch
    assert len({tuple(o) for o in orders} | {tuple(range(10))}) == 4  # never the same order


def test_shuffling_is_seeded_by_the_model_not_the_global_state():
    X = data(50)

    def train(seed, global_seed):
        np.random.seed(global_seed)  # must not matter
        model = Autoencoder(6, (4,), 2, seed=seed)
        model.fit(X, epochs=2, batch_size=8, verbose=False)
        return params_to_numpy(model)

    assert same_params(train(0, global_seed=1), train(0, global_seed=2))


def test_a_different_shuffling_seed_gives_different_parameters():
    """Same initial weights, only the shuffling generator differs: the result differs."""
    X = data(50)
    a = Autoencoder(6, (4,), 2, seed=0)
    b = Autoencoder(6, (4,), 2, seed=0)
    b.rng = Random(12345, backend=b.backend)  # the model's generator draws the permutations
    assert same_params(params_to_numpy(a), params_to_numpy(b))
    a.fit(X, epochs=2, batch_size=8, verbose=False)
    b.fit(X, epochs=2, batch_size=8, verbose=False)
    assert not same_params(params_to_numpy(a), params_to_numpy(b))


# ---------------------------------------------------------------------------
# divergence
# ---------------------------------------------------------------------------

DIVERGED = r"epoch \d+ .*lower learning rate"


@pytest.mark.filterwarnings("error")  # NumPy's overflow warnings must not pre-empt the check
def test_divergence_on_the_first_step_restores_the_initial_parameters():
    """lr = 1e20: after one step the float32 weights are ~1e20, the next loss overflows.

    So the last parameters whose loss was finite are the initial ones.
    """
    model = Autoencoder(6, (5,), 3, activation="tanh", loss="mse", seed=0)
    initial = params_to_numpy(model)
    with pytest.raises(TrainingDivergedError, match=DIVERGED) as info:
        model.fit(data(32), epochs=3, batch_size=8, optimizer=SGD(lr=1e20), verbose=False)
    message = str(info.value)
    assert "epoch 1 (batch 2 of 4)" in message
    assert "lr is 1e+20" in message
    assert same_params(params_to_numpy(model), initial)
    assert model.history["epoch"] == []  # no epoch finished


@pytest.mark.filterwarnings("error")
def test_saving_every_step_divergence_keeps_the_parameters_of_the_last_step_that_passed(monkeypatch):
    """SGD with lr = 1 takes a few steps to blow up; the model ends on the last step that passed.

    A spy records the parameters every batch was evaluated with and its loss; with a
    point saved at every step, after the error the model's parameters equal those of the
    last batch whose loss passed the rule (here a large but finite loss stops the run).
    """
    monkeypatch.setattr(minivae.train, "SAVE_EVERY", 1)
    model = Autoencoder(6, (5,), 3, activation="tanh", loss="mse", seed=0)
    calls = spy_batches(model)
    with pytest.raises(TrainingDivergedError, match=DIVERGED):
        model.fit(data(32), epochs=50, batch_size=8, optimizer=SGD(lr=1.0), verbose=False)
    first = calls[0]["loss"]
    passed = [c for c in calls if not diverged(c["loss"], first)]
    assert diverged(calls[-1]["loss"], first) and passed == calls[:-1]
    assert len(passed) > 1  # the interesting case: not simply the initial parameters
    after = params_to_numpy(model)
    assert all(np.isfinite(v).all() for v in after.values())
    assert same_params(after, passed[-1]["params"])


def test_divergence_error_is_a_floating_point_error_and_training_can_resume():
    model = Autoencoder(6, (5,), 3, activation="tanh", loss="mse", seed=0)
    with pytest.raises(FloatingPointError):
        model.fit(data(32), epochs=3, batch_size=8, optimizer=SGD(lr=1e20), verbose=False)
    history = model.fit(data(32), epochs=2, batch_size=8, optimizer=SGD(lr=1e-3), verbose=False)
    assert np.isfinite(history["loss"]).all()


def test_divergence_with_a_progress_bar_closes_it(capsys):
    """No half-drawn bar is left open after the error, even while its traceback is kept
    alive (as a notebook keeps the last one)."""
    from tqdm.auto import tqdm

    model = Autoencoder(6, (5,), 3, activation="tanh", loss="mse", seed=0)
    with pytest.raises(TrainingDivergedError) as info:
        model.fit(data(32), epochs=3, batch_size=8, optimizer=SGD(lr=1e20), verbose=True)
    open_bars = [bar for bar in list(tqdm._instances) if str(bar.desc).startswith("epoch")]
    assert info.tb is not None and not open_bars


# ---------------------------------------------------------------------------
# the optimizer
# ---------------------------------------------------------------------------

def test_one_optimizer_continues_across_fit_calls():
    X = data(40)
    model = Autoencoder(6, (4,), 2, seed=0)
    opt = Adam(lr=1e-3)
    model.fit(X, epochs=2, batch_size=16, optimizer=opt, verbose=False)  # 3 batches per epoch
    assert opt.steps == 6
    assert {s["t"] for s in opt.state.values()} == {6}
    # fit hands the optimizer the model's one flat buffer (per-name keying is tested in test_optim)
    assert set(opt.state) == {FLAT}
    model.fit(X, epochs=1, batch_size=16, optimizer=opt, verbose=False)
    assert opt.steps == 9
    assert {s["t"] for s in opt.state.values()} == {9}


def test_fit_defaults_to_adam_with_lr_1e_3():
    model = Autoencoder(6, (4,), 2, seed=0)
    before = params_to_numpy(model)
    model.fit(data(), epochs=1, verbose=False)
    after = params_to_numpy(model)
    # Adam's first step moves every weight that has a gradient by about lr = 1e-3
    step = np.abs(after["decoder.2.b"] - before["decoder.2.b"])
    assert np.allclose(step, 1e-3, rtol=1e-3)


# ---------------------------------------------------------------------------
# bad arguments
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, error, match", [
    ({"X": np.zeros((5, 7), np.float32)}, ValueError, r"^X must have shape \(n, 6\); got \(5, 7\)"),
    ({"X": np.zeros((2, 3, 6), np.float32)}, ValueError, r"^X must have shape \(n, 6\)"),
    ({"epochs": 0}, ValueError, r"^epochs must be an integer >= 1; got 0"),
    ({"epochs": 2.5}, TypeError, r"^epochs must be an integer"),
    ({"batch_size": 0}, ValueError, r"^batch_size must be an integer >= 1"),
    ({"log_every": 0}, ValueError, r"^log_every must be an integer >= 1"),
    ({"validation_data": np.zeros((3, 6))}, TypeError, r"validation_data must be a tuple"),
    ({"validation_data": (np.zeros((3, 5)),)}, ValueError, r"^validation_data must have shape \(n, 6\)"),
    ({"validation_data": (np.full((3, 6), 255.0),)}, ValueError, r"^validation_data must lie in \[0, 1\]"),
])
def test_bad_fit_arguments(kwargs, error, match):
    model = Autoencoder(6, (4,), 2, seed=0)
    before = params_to_numpy(model)
    args = {"X": data(), "epochs": 1, "verbose": False, **kwargs}
    with pytest.raises(error, match=match):
        model.fit(args.pop("X"), **args)
    assert same_params(params_to_numpy(model), before)  # nothing was trained


def test_epochs_is_required():
    with pytest.raises(TypeError, match="epochs"):
        Autoencoder(6, (4,), 2).fit(data())


def test_fit_on_the_current_backend(backend):
    """fit runs wherever the model lives (CuPy is skipped, with the reason, where it cannot run)."""
    previous = minivae.get_backend()
    minivae.set_backend(backend)
    try:
        model = Autoencoder(6, (4,), 2, seed=0)
        history = model.fit(data(), epochs=2, batch_size=8, log_every=1, verbose=False)
        assert np.isfinite(history["loss"]).all()
        assert all(minivae.backend.backend_of(v) == backend for v in model.params.values())
        initial = params_to_numpy(Autoencoder(6, (5,), 3, activation="tanh", loss="mse", seed=0))
        model = Autoencoder(6, (5,), 3, activation="tanh", loss="mse", seed=0)
        with pytest.raises(TrainingDivergedError, match=DIVERGED):
            model.fit(data(32), epochs=3, batch_size=8, optimizer=SGD(lr=1e20), log_every=1, verbose=False)
        assert same_params(params_to_numpy(model), initial)
    finally:
        minivae.set_backend(previous)
