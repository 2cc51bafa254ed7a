"""The training loop shared by every model: shuffled mini-batches, progress, history.

``fit`` never computes a gradient itself: it asks the model for
``loss_terms_and_grads`` on each batch and hands the gradients to the optimizer.
"""
from __future__ import annotations

import time


#: the name under which ``fit`` hands the optimizer the model's one flat parameter buffer
FLAT = "all parameters (flat)"


class TrainingDivergedError(FloatingPointError):
    """The loss became NaN or infinite; the model keeps its last finite parameters."""


def _progress(iterable, total, desc, verbose):
    if not verbose:
        return iterable
    from tqdm.auto import tqdm  # imported here: `import minivae` stays light

    return tqdm(iterable, total=total, desc=desc, leave=False, dynamic_ncols=True)


def _finite(value):
    return value == value and value not in (float("inf"), float("-inf"))


def _batches(n, batch_size, perm):
    for start in range(0, n, batch_size):
        yield perm[start:start + batch_size]


def _epoch_mean(xp, values, sizes):
    """The mean over the epoch's examples of a term given per batch (a batch-size-weighted mean).

    Reduced once per epoch, in float64, with one read from the device.
    """
    w = xp.asarray(sizes, dtype="float64")
    return float(xp.stack(values).astype("float64") @ w) / float(sum(sizes))


def _float_warnings_off():
    """Silence NumPy's overflow/invalid warnings inside the loop.

    A diverging run overflows long before its loss is read; the loop itself checks the
    loss and the parameters and raises :class:`TrainingDivergedError` with the last finite
    parameters restored. Left on, the warnings would only add noise, and where they are
    errors (``-W error``) they would escape before the parameters are restored. CuPy
    does not warn, so this touches NumPy only.
    """
    from .backend import module_for

    return module_for("numpy").errstate(over="ignore", invalid="ignore", divide="ignore")


def _diverged(model, params, backup, value, where, optimizer):
    for k, v in params.items():
        v[...] = backup[k]
    raise TrainingDivergedError(
        f"the loss became {value} in {where}; training stopped and the model keeps the "
        "parameters of its last finite step. Try a lower learning rate (the optimizer's lr "
        f"is {optimizer.lr:g})."
    )


def fit(model, X, y=None, *, epochs, batch_size=128, optimizer=None, validation_data=None,
        verbose=True, log_every=None):
    """Train ``model`` on ``X`` (and labels ``y`` for a CVAE). See :meth:`Model.fit`."""
    from ._checks import check_positive_int
    from .optim import Adam
    from .threads import blas_threads_for

    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    # reading the loss is free on the CPU; on a GPU it waits for the device, so check less often
    if log_every is None:
        log_every = 1 if model.backend == "numpy" else 20
    log_every = check_positive_int(log_every, "log_every")
    X, y = model._prepare(X, y, name="X")
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (1, 2):
            raise TypeError("validation_data must be a tuple (X_val,) or (X_val, y_val)")
        Xv, yv = model._prepare(*validation_data, name="validation_data") if len(validation_data) == 2 \
            else model._prepare(validation_data[0], None, name="validation_data")
    optimizer = optimizer if optimizer is not None else Adam()
    n = X.shape[0]
    n_batches = -(-n // batch_size)
    history = model.history
    with _float_warnings_off(), blas_threads_for(model, batch_size), \
            model._gradient_buffers() as (flat, flat_grad, grad_views):
        # The optimizer sees the model's parameters as one array (under one name), so a
        # step is a few passes over one buffer; `backup` is the last parameters whose loss
        # was finite, refreshed with a single copy.
        params, grads_flat = {FLAT: flat}, {FLAT: flat_grad}
        backup = {FLAT: flat.copy()}
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            perm = model.rng.permutation(n)
            per_batch, sizes = {}, []  # each batch's terms, kept as arrays: no device work per step
            bar = _progress(_batches(n, batch_size, perm), n_batches, f"epoch {epoch}/{epochs}", verbose)
            for i, idx in enumerate(bar):
                xb = X[idx]
                yb = None if y is None else y[idx]
                terms, grads = model.loss_terms_and_grads(xb, yb, check=False)
                for k, g in grads.items():
                    if g is not grad_views[k]:  # a gradient made outside the layers (a penalty's)
                        grad_views[k][...] = g
                loss = terms["loss"]
                if (i + 1) % log_every == 0 or i + 1 == n_batches:
                    value = float(loss)  # on a GPU this is the one host synchronisation
                    if not _finite(value):
                        _diverged(model, params, backup, value, f"epoch {epoch} (batch {i + 1} of {n_batches})",
                                  optimizer)
                    backup[FLAT][...] = flat
                    if verbose and hasattr(bar, "set_postfix"):
                        bar.set_postfix(loss=f"{value:.4f}")
                for k, v in terms.items():
                    per_batch.setdefault(k, []).append(v)
                sizes.append(xb.shape[0])
                optimizer.step(params, grads_flat)
            if not bool(model.xp.isfinite(flat).all()):
                _diverged(model, params, backup, "nan", f"the last step of epoch {epoch}", optimizer)
            record = {k: _epoch_mean(model.xp, v, sizes) for k, v in per_batch.items()}
            if validation_data is not None:
                for k, v in model.evaluate_terms(Xv, yv).items():
                    record[f"val_{k}"] = v
            record["time"] = time.perf_counter() - start
            history["epoch"].append(len(history["epoch"]) + 1)
            for k, v in record.items():
                history.setdefault(k, []).append(v)
            if verbose:
                shown = ", ".join(f"{k} {v:.4f}" for k, v in record.items() if k != "time")
                print(f"epoch {epoch}/{epochs}: {shown} ({record['time']:.1f} s)", flush=True)
    return history
