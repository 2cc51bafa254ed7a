"""Divergence puts the model back at most ``SAVE_EVERY`` steps, whatever the loss-read interval.

On a GPU ``fit`` reads the loss only every few steps (a read waits for the device), so a
NaN gradient can land between two reads. These tests plant a NaN or infinite gradient at
a chosen step and check the promise of ``minivae/train.py`` on both backends and at
several read intervals, the GPU's default included: the model ends finite, on the
parameters it had after a step whose loss was read and passed, at most ``SAVE_EVERY``
steps before the step where the failure was seen.
"""
import numpy as np
import pytest

import minivae
from minivae import Adam, Autoencoder, TrainingDivergedError
from minivae.backend import module_for
from minivae.models.base import params_to_numpy
from minivae.train import SAVE_EVERY

BATCH, N_BATCHES = 8, 8  # 8 steps an epoch: the epoch ends fall between the save points


def _model(backend):
    previous = minivae.get_backend()
    minivae.set_backend(backend)
    try:
        return Autoencoder(6, (5,), 3, seed=0)
    finally:
        minivae.set_backend(previous)


def _data():
    return np.random.default_rng(0).random((BATCH * N_BATCHES, 6)).astype(np.float32)


def plant_gradient(model, step, value):
    """Make the gradient of step ``step + 1`` (the loss call numbered ``step``) all ``value``.

    Returns the list of the parameters (on the host) each loss call saw, in order.
    """
    seen, inner = [], model.loss_terms_and_grads

    def spy(x, y=None, **kw):
        terms, grads = inner(x, y, **kw)
        seen.append(params_to_numpy(model))
        if len(seen) - 1 == step:
            xp = module_for(model.backend)
            grads = {k: xp.full_like(g, value) for k, g in grads.items()}
        return terms, grads

    model.loss_terms_and_grads = spy
    return seen


@pytest.mark.parametrize("log_every", [None, 1, 20, 25])  # None: the backend's own interval
@pytest.mark.parametrize("nan_at", [3, 12, 29])
def test_a_nan_gradient_between_two_reads_goes_back_to_a_read_and_passed_step(backend, log_every, nan_at):
    model, opt = _model(backend), Adam(lr=1e-2)
    seen = plant_gradient(model, nan_at, float("nan"))
    with pytest.raises(TrainingDivergedError, match=f"at most {SAVE_EVERY} steps back"):
        model.fit(_data(), epochs=10, batch_size=BATCH, optimizer=opt, verbose=False, log_every=log_every)
    detected = len(seen) - 1  # the loss call whose loss failed: the model had taken that many steps
    assert detected > nan_at
    back_to = opt.steps
    assert 0 <= detected - back_to <= SAVE_EVERY
    restored = params_to_numpy(model)
    assert all(np.isfinite(v).all() for v in restored.values())
    assert back_to <= nan_at  # before the NaN reached the parameters ...
    assert restored.keys() == seen[back_to].keys()  # ... and exactly where the model was then
    assert all(np.array_equal(restored[k], seen[back_to][k]) for k in restored)


def test_an_infinite_gradient_on_an_epochs_last_step_is_caught_at_the_epochs_end(backend):
    """No loss is computed after an epoch's last step: the check of the parameters catches it."""
    model, opt = _model(backend), Adam(lr=1e-2)
    last = 2 * N_BATCHES - 1  # the last step of epoch 2
    seen = plant_gradient(model, last, float("inf"))
    with pytest.raises(TrainingDivergedError, match="last step of epoch 2.*at most 10 steps back"):
        model.fit(_data(), epochs=2, batch_size=BATCH, optimizer=opt, verbose=False)
    assert len(seen) == last + 1
    restored = params_to_numpy(model)
    assert all(np.isfinite(v).all() for v in restored.values())
    assert opt.steps == SAVE_EVERY and last + 1 - opt.steps <= SAVE_EVERY
    assert all(np.array_equal(restored[k], seen[SAVE_EVERY][k]) for k in restored)
    assert model.history["epoch"] == [1]  # epoch 2 is not recorded
