"""``exercises train``: a VAE trained with the learner's functions (minivae.exercises.substitute).

With the library's own functions swapped in, training is ``fit`` itself, bit for bit; a
learner's function is really called (counted, and a wrong one changes the result); and
everything swapped is put back afterwards, even when training fails.
"""
import contextlib
import io

import numpy as np
import pytest

from minivae import VAE, Adam, ops
from minivae.cli import main
from minivae.datasets import load_digits
from minivae.exercises import BY_NAME, CATALOGUE
from minivae.exercises.substitute import SWAPPABLE, learner_ops, train_vae
from minivae.layers import ReLU

from .test_exercises import LIBRARY_WORKBOOK

X = load_digits()[0][:300]
SMALL = dict(hidden_dims=(16,), latent_dim=2, epochs=2, batch_size=64, lr=3e-3, seed=0)


def library_functions():
    return {name: BY_NAME[name].solution for name in SWAPPABLE}


def fit_reference(activation="relu"):
    model = VAE(64, SMALL["hidden_dims"], SMALL["latent_dim"], activation=activation, seed=0)
    history = model.fit(X[:240], epochs=2, batch_size=64, optimizer=Adam(3e-3), validation_data=(X[240:],),
                        verbose=False)
    return model, history


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_with_the_library_functions_train_is_fit_bit_for_bit(activation):
    model, history, calls = train_vae(library_functions(), X[:240], X[240:], activation=activation, **SMALL)
    reference, ref_history = fit_reference(activation)
    for k, p in reference.params.items():
        assert np.array_equal(model.params[k], p), k
    assert history["loss"] == ref_history["loss"] and history["val_loss"] == ref_history["val_loss"]
    other = "relu_backward" if activation == "tanh" else "tanh_backward"
    used = {n for n, k in calls.items() if k}
    assert used == set(SWAPPABLE) - {"mse", "sigmoid_backward", other}
    assert calls["adam_step"] == 2 * 4 and calls["vae_backward"] == 2 * 4  # 240 examples: 4 batches an epoch


def test_a_wrong_learner_function_is_really_used():
    wrong = next(m for m in CATALOGUE["reparameterize_backward"] if m.key == "reparam_variance_for_std")
    model, _, calls = train_vae({"reparameterize_backward": wrong.fn}, X[:240], X[240:], **SMALL)
    reference, _ = fit_reference()
    assert calls == {"reparameterize_backward": 8}
    for k in ("logvar.0.W", "encoder.0.W"):  # the wrong dlogvar reaches the logvar head and the encoder
        assert not np.allclose(model.params[k], reference.params[k], rtol=1e-4, atol=0), k


def test_everything_swapped_is_put_back_even_when_training_fails():
    originals = {n: getattr(ops, n) for n in ("dense_backward", "bce_with_logits", "kl_standard_normal")}
    model = VAE(64, (8,), 2, seed=0)
    optimizer = Adam()

    def broken(dout, cache):
        raise RuntimeError("learner's bug")

    with pytest.raises(RuntimeError, match="learner's bug"):
        with learner_ops(model, optimizer, {**library_functions(), "relu_backward": broken}):
            assert ops.dense_backward is not originals["dense_backward"]
            model.loss_and_grads(X[:8])
    assert all(getattr(ops, n) is f for n, f in originals.items())
    assert "_backward" not in vars(model) and "_update" not in vars(optimizer)
    assert not any("_backward" in vars(layer) for block in model.blocks.values() for layer in block.layers)
    assert ReLU._backward is ops.relu_backward  # the class itself was never touched
    with pytest.raises(ValueError, match="kl_sparsity"):
        with learner_ops(model, optimizer, {"kl_sparsity": BY_NAME["kl_sparsity"].solution}):
            pass


def test_the_command_trains_says_which_functions_are_yours_and_draws(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    # the library's functions, but one classic mistake in tanh_backward and no vae_backward
    (work / "workbook.py").write_text(
        LIBRARY_WORKBOOK.replace("tanh_backward, ", "").replace(", vae_backward", "")
        + "\n\ndef tanh_backward(dout, cache):\n    return dout * (1.0 - cache.out)\n")
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        status = main(["exercises", "train", str(work), "--out", str(tmp_path / "run"), "--epochs", "1",
                       "--activation", "tanh"])
    text = out.getvalue()
    assert status == 0, text
    assert "trained a VAE 64-64-4 (tanh)" in text and "epoch   1: loss " in text
    assert "your functions in this VAE: dense_backward (" in text and "adam_step (" in text
    # counted, not assumed: the library's tanh_backward ran (the learner's failed), relu_backward did not run
    assert "the library's, for the rest: tanh_backward (failed), vae_backward (not in the workbook)\n" in text
    assert ("yours, passed but not used by this VAE: relu_backward, sigmoid_backward, mse, kl_sparsity, "
            "contractive_penalty") in text
    for name in ("samples.png", "reconstructions.png"):
        assert (tmp_path / "run" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
