"""Train a VAE in which the learner's functions replace the library's.

A VAE's training step reaches the ops in four ways, and each is swapped in its own
place, for one training run only (:func:`learner_ops`):

- through the package ``minivae.ops``: the Dense layers call ``ops.dense_backward``, the
  VAE calls ``ops.bce_with_logits``, ``ops.kl_standard_normal`` and
  ``ops.reparameterize_backward``. These names are replaced in ``minivae.ops`` while the
  ``with`` block runs, and put back after it, whatever happens;
- through each activation layer's ``_backward`` (``ReLU._backward`` is bound when the
  class is made): set on the model's own layers only;
- through ``VAE._backward``, the whole backward pass: set on the model only;
- through ``Adam._update``, one parameter's step: set on the optimizer only.

``fit``'s fast paths stay honest: the first Dense layer asks for no ``dx`` (the learner's
function computes it and it is dropped), and ``fit`` hands the layers buffers to write
their gradients into (the learner's arrays are copied there). Every swapped function is
counted as it is called, so the command reports what really ran.
"""
from __future__ import annotations

from contextlib import contextmanager

from .. import ops
from ..layers import ReLU, Sigmoid, Tanh


def _dense_backward(mine):
    """The learner's ``dense_backward(dout, cache)`` behind the library's signature."""

    def dense_backward(dout, cache, *, need_dx=True, out=None):
        dx, dW, db = mine(dout, cache)
        if out is not None:  # fit's gradient buffers
            out[0][...] = dW
            out[1][...] = db
            dW, db = out
        return (dx if need_dx else None), dW, db

    return dense_backward


def _bce_with_logits(mine):
    """The learner's ``bce_with_logits(logits, target)`` behind the library's signature."""

    def bce_with_logits(logits, target, *, check_target=True):
        return mine(logits, target)

    return bce_with_logits


#: exercises called through the package ``minivae.ops``: name -> adapter to the library's signature
OPS = {"dense_backward": _dense_backward, "bce_with_logits": _bce_with_logits, "mse": None,
       "kl_standard_normal": None, "reparameterize_backward": None}
#: exercises called through an activation layer's ``_backward``
LAYERS = {"relu_backward": ReLU, "sigmoid_backward": Sigmoid, "tanh_backward": Tanh}
#: every exercise a VAE's training can use (which ones it does use depends on its activation)
SWAPPABLE = (*OPS, *LAYERS, "vae_backward", "adam_step")


def _replace(obj, attr, value):
    """Set ``obj.attr = value``; return the function that undoes it."""
    own = attr in vars(obj)
    old = vars(obj).get(attr)
    setattr(obj, attr, value)

    def undo():
        if own:
            setattr(obj, attr, old)
        else:
            delattr(obj, attr)

    return undo


def _counted(name, fn, calls):
    def counted(*args, **kwargs):
        calls[name] += 1
        return fn(*args, **kwargs)

    return counted


@contextmanager
def learner_ops(model, optimizer, mine):
    """While active, ``model`` and ``optimizer`` compute with the learner's functions.

    Parameters
    ----------
    model : VAE
    optimizer : Adam
    mine : dict
        Exercise name (one of :data:`SWAPPABLE`) -> the learner's function.

    Yields
    ------
    calls : dict
        Name -> how many times the learner's function has been called so far.
    """
    unknown = [n for n in mine if n not in SWAPPABLE]
    if unknown:
        raise ValueError(f"a VAE's training cannot use {unknown[0]!r}; it uses {', '.join(SWAPPABLE)}")
    calls = dict.fromkeys(mine, 0)
    undo = []
    try:
        for name, fn in mine.items():
            fn = _counted(name, fn, calls)
            if name in OPS:
                undo.append(_replace(ops, name, OPS[name](fn) if OPS[name] else fn))
            elif name in LAYERS:
                undo += [_replace(layer, "_backward", fn) for block in model.blocks.values()
                         for layer in block.layers if isinstance(layer, LAYERS[name])]
            elif name == "vae_backward":
                undo.append(_replace(model, "_backward", lambda *pieces, fn=fn: fn(model, *pieces)))
            else:  # adam_step: the optimizer's rule for one parameter, with its own hyperparameters
                undo.append(_replace(optimizer, "_update", lambda _name, p, g, s, fn=fn: fn(
                    p, g, s, lr=optimizer.lr, beta1=optimizer.beta1, beta2=optimizer.beta2, eps=optimizer.eps)))
        yield calls
    finally:
        for step in reversed(undo):
            step()


def train_vae(mine, X, X_val, *, hidden_dims=(64,), latent_dim=4, activation="relu", epochs=30, batch_size=64,
              lr=3e-3, seed=0):
    """Train a VAE on ``X`` with the learner's functions ``mine`` in place of the library's.

    With ``mine`` empty (or holding the library's own functions) this is exactly
    ``VAE(...).fit(X, ...)`` with the same arguments: the same parameters, bit for bit.

    Returns
    -------
    model : VAE
    history : dict
        As ``fit`` returns it (with ``val_loss`` on ``X_val``).
    calls : dict
        Name -> how many times the learner's function was called.
    """
    from ..models import VAE
    from ..optim import Adam

    model = VAE(X.shape[1], hidden_dims, latent_dim, activation=activation, seed=seed)
    optimizer = Adam(lr)
    with learner_ops(model, optimizer, mine) as calls:
        history = model.fit(X, epochs=epochs, batch_size=batch_size, optimizer=optimizer,
                            validation_data=(X_val,), verbose=False)
    return model, history, dict(calls)
