"""The training loop shared by every model: shuffled mini-batches, progress, history.

``fit`` never computes a gradient itself: it asks the model for
``loss_terms_and_grads`` on each batch and hands the gradients to the optimizer.

Two promises hold whatever happens during a run:

- **divergence** (see :func:`diverged`) stops training with
  :class:`TrainingDivergedError`, and the model and the optimizer are put back together
  to the last *saved point*: ``fit`` reads the loss of every ``SAVE_EVERY``-th step
  of the call (steps 0, 10, 20, ... on either backend, whatever ``log_every`` is) and,
  when it passes the check, copies the parameters and the optimizer's memory there, so
  they go back at most ``SAVE_EVERY`` steps, on NumPy and on CuPy alike;
- **Ctrl-C** (``KeyboardInterrupt``) waits for the optimizer step under way to finish,
  so the model and the optimizer always stop at the end of a whole step.
"""
from __future__ import annotations

import numbers
import signal
import threading
import time
from contextlib import contextmanager


from .optimizer_state import FLAT  # noqa: F401 (the name of a model-bound optimizer's memory)

#: how far a batch loss may rise above the first loss of a ``fit`` call, in units of
#: ``|first loss| + 1``, before training counts as diverged (see :func:`diverged`)
MAX_RISE = 1e4

#: how many steps apart ``fit`` saves the parameters and the optimizer's memory to go back
#: to on divergence (it reads the loss of each of those steps, so it never saves unchecked
#: parameters; with its default log_every a GPU run reads the loss there and at each
#: epoch's last step only). Saving copies the parameters and, for Adam, both moments: together
#: about a tenth of a step of the 784-400-20 VAE on a CPU, so every 10 steps it costs
#: about 1 % of the time, where saving at every step would cost 10 %
SAVE_EVERY = 10


class TrainingDivergedError(FloatingPointError):
    """Training diverged (see :func:`diverged`).

    The model and the optimizer (its moments and step counts) are put back together to
    the last saved point (at most ``SAVE_EVERY`` steps before the failure, on either
    backend; its loss passed the check), so ``fit`` can be called again, for example with a lower
    learning rate.
    """


def diverged(value, first):
    r"""Whether a batch loss ``value`` says that training has diverged.

    It has when the loss is NaN or infinite, or when it has risen far above the first
    batch loss of this ``fit`` call, ``first``:

    .. math:: L > L_1 + 10^4\,(|L_1| + 1)

    Training lowers the loss, so a run that is learning stays near or below where it
    started: batch-to-batch noise and the overshoots of a large step change it by a
    fraction, or a few times, of :math:`|L_1|`. A loss ten thousand times that far
    above the start means the parameters have been thrown away from any sensible
    model (a squared error 10^4 times larger is an output error 100 times larger), and
    waiting for the overflow to ``inf`` would only keep worse parameters. The rise is
    measured from :math:`L_1` in units of :math:`|L_1| + 1` rather than as a ratio,
    because a Gaussian likelihood's loss can be zero or negative; the ``+ 1`` (one nat,
    or one unit of squared error, per example) keeps a start near zero from making the
    rule hair-trigger. On the demos and the test suite the largest rise seen in a run
    that did not diverge is far below the threshold (the numbers are in the tests).
    """
    if value != value or value in (float("inf"), float("-inf")):
        return True
    return value - first > MAX_RISE * (abs(first) + 1.0)


def _progress(iterable, total, desc, verbose):
    if not verbose:
        return iterable
    from tqdm.auto import tqdm  # imported here: `import minivae` stays light

    return tqdm(iterable, total=total, desc=desc, leave=False, dynamic_ncols=True)


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
    loss and the parameters and raises :class:`TrainingDivergedError` with the last good
    parameters restored. Left on, the warnings would only add noise, and where they are
    errors (``-W error``) they would escape before the parameters are restored. CuPy
    does not warn, so this touches NumPy only.
    """
    from .backend import module_for

    return module_for("numpy").errstate(over="ignore", invalid="ignore", divide="ignore")


class _WholeSteps:
    """Makes Ctrl-C wait for the end of a step (used as ``with guard: ...; with guard.atomic(): ...``).

    While active, a SIGINT that arrives inside ``atomic()`` is remembered and delivered
    (the previous handler runs: normally it raises ``KeyboardInterrupt``) as soon as the
    block ends; outside ``atomic()`` it is delivered at once. Python runs signal handlers
    only between bytecodes of the main thread, so this is all it takes; elsewhere (a
    worker thread, or a SIGINT that is ignored or not handled by Python) it does nothing.
    """

    def __init__(self):
        self._previous = None
        self._deferring = False
        self._pending = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if callable(previous):
                self._previous = previous
                signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
        return False

    def _handler(self, signum, frame):
        if self._deferring:
            self._pending = (signum, frame)
        else:
            self._previous(signum, frame)

    @contextmanager
    def atomic(self):
        self._deferring = True
        try:
            yield
        finally:
            self._deferring = False
            pending, self._pending = self._pending, None
            if pending is not None and self._previous is not None:
                self._previous(*pending)


class _SavedPoint:
    """The parameters and the optimizer's memory after step ``taken`` of a ``fit`` call."""

    def __init__(self, flat, optimizer):
        self.flat, self.optimizer = flat, optimizer
        self.params = flat.copy()
        self.memory = optimizer._snapshot()
        self.taken = 0

    def save(self, taken):
        self.params[...] = self.flat
        self.memory = self.optimizer._snapshot(into=self.memory)
        self.taken = taken

    def restore(self):
        self.flat[...] = self.params
        self.optimizer._restore(self.memory)


def _check_call(model, y, epochs, optimizer):
    """The ``TypeError`` s of a wrongly called ``fit``, each saying what was expected."""
    from .optim import Optimizer

    call = "fit(X, y, epochs=...)" if model._needs_labels else "fit(X, epochs=...)"
    if isinstance(y, numbers.Integral) and not isinstance(y, bool):
        labels = "the class labels, an array of shape (n,)" if model._needs_labels else "None (it takes no labels)"
        raise TypeError(f"y must be {labels}; got the integer {y}. epochs is a keyword argument: "
                        f"to train for {y} epochs write {call.replace('...', str(y))}")
    if epochs is None:
        raise TypeError(f"fit needs epochs, the number of passes over X: {call}")
    if optimizer is not None and not isinstance(optimizer, Optimizer):
        raise TypeError("optimizer must be a minivae optimizer such as minivae.Adam(lr=1e-3) or "
                        f"minivae.SGD(lr=0.1, momentum=0.9); got {type(optimizer).__name__} {optimizer!r}")


def fit(model, X, y=None, *, epochs=None, batch_size=128, optimizer=None, validation_data=None,
        verbose=True, log_every=None):
    """Train ``model`` on ``X`` (and labels ``y`` for a CVAE). See :meth:`Model.fit`.

    The loss of a batch is read when the steps taken in this call are a multiple of
    ``log_every`` or of ``SAVE_EVERY``, and on each epoch's last batch (``log_every``
    defaults to 1 on NumPy and to ``SAVE_EVERY`` on CuPy, where a read waits for the
    device); a loss that :func:`diverged` ends training with
    :class:`TrainingDivergedError`, the model and the optimizer back at the last saved
    point, at most ``SAVE_EVERY`` steps earlier.
    ``Ctrl-C`` stops training at the end of the step under way (see
    :class:`_WholeSteps`): the optimizer has then taken exactly the steps whose updates
    are in the parameters.
    """
    from ._checks import check_positive_int
    from .optim import Adam
    from .threads import blas_threads_for

    _check_call(model, y, epochs, optimizer)
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    # reading the loss is free on the CPU; on a GPU it waits for the device, so check less often
    if log_every is None:
        log_every = 1 if model.backend == "numpy" else SAVE_EVERY
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
    with _float_warnings_off(), _WholeSteps() as guard, blas_threads_for(model, batch_size), \
            model._gradient_buffers() as (flat, flat_grad, grad_views):
        # The optimizer updates this model (bound now if it was made without parameters;
        # one bound to anything else is refused before any work) as one flat buffer, so
        # a saved point is a copy of that buffer and of the optimizer's moments.
        optimizer.bind_model(model)
        saved = _SavedPoint(flat, optimizer)
        first = None  # the first batch loss of this call: the divergence rule's reference
        taken = 0  # steps taken in this call

        def stop(what):
            with guard.atomic():
                saved.restore()
            raise TrainingDivergedError(
                f"{what}; training stopped, and the model and the optimizer are back where they were "
                f"{f'after step {saved.taken} of' if saved.taken else 'at the start of'} this run (the last saved "
                f"point, at most {SAVE_EVERY} steps back). "
                f"Try a lower learning rate (the optimizer's lr is {optimizer.lr:g}).")

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
                save_here = taken % SAVE_EVERY == 0  # a save point is only taken where its loss was read
                read = save_here or taken % log_every == 0 or i + 1 == n_batches
                if read:
                    value = float(loss)  # on a GPU this is the one host synchronisation
                    first = value if first is None else first
                    if diverged(value, first):
                        stop(f"the loss became {value:.4g} in epoch {epoch} (batch {i + 1} of {n_batches}); "
                             f"this run started at {first:.4g}")
                    if verbose and hasattr(bar, "set_postfix"):
                        bar.set_postfix(loss=f"{value:.4f}")
                for k, v in terms.items():
                    per_batch.setdefault(k, []).append(v)
                sizes.append(xb.shape[0])
                with guard.atomic():  # Ctrl-C lands before or after a whole step, never inside
                    if save_here and taken > saved.taken:  # this loss was read and passed: save here
                        saved.save(taken)
                    optimizer.step(grads)
                    taken += 1
            if not bool(model.xp.isfinite(flat).all()):
                stop(f"the parameters became NaN or infinite in the last step of epoch {epoch}")
            record = {k: _epoch_mean(model.xp, v, sizes) for k, v in per_batch.items()}
            if validation_data is not None:
                for k, v in model.evaluate_terms(Xv, yv).items():
                    record[f"val_{k}"] = v
            record["time"] = time.perf_counter() - start
            with guard.atomic():  # an epoch is recorded whole or not at all
                history["epoch"].append(len(history["epoch"]) + 1)
                for k, v in record.items():
                    history.setdefault(k, []).append(v)
            if verbose:
                shown = ", ".join(f"{k} {v:.4f}" for k, v in record.items() if k != "time")
                print(f"epoch {epoch}/{epochs}: {shown} ({record['time']:.1f} s)", flush=True)
    return history
