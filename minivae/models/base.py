"""What every model shares: parameters, batched inference, ``fit``, ``save`` and ``load``.

A model is a few :class:`~minivae.layers.Sequential` blocks plus a loss. Subclasses
define ``loss_terms_and_grads``; everything else here is bookkeeping.
"""
from __future__ import annotations

import contextvars
import os
from collections import namedtuple
from contextlib import contextmanager

from .. import checkpoint
from .._checks import MAX_SEED, MAX_SIZE, check_finite, check_positive_int, check_unit_interval
from ..backend import Random, asarray, get_backend, module_for, resolve_dtype, to_numpy
from ..layers import Dense, Layer, Sequential, make_activation

#: class name -> class of every model ``load`` may build; minivae/models/__init__.py fills it
MODELS = {}

# While a model is being sized (see ``describe``), how many more parameter arrays it may
# have: mlp then builds shape-only layers and counts their arrays. None otherwise.
_SIZING = contextvars.ContextVar("minivae_sizing", default=None)
_Shape = namedtuple("_Shape", "shape")


class _ShapeOnly(Layer):
    """A Dense layer's parameter shapes without the arrays: what sizing a model builds."""

    def __init__(self, in_features, out_features):
        super().__init__()
        self.params = {"W": _Shape((in_features, out_features)), "b": _Shape((out_features,))}


def mlp(sizes, activation, rng, dtype, *, last_activation=None):
    """A stack of Dense layers with ``activation`` between them.

    ``sizes = (d0, d1, ..., dk)`` gives ``k`` Dense layers; every one but the last is
    followed by ``activation``; the last by ``last_activation`` (``None``: no activation,
    the layer's output is linear). He initialisation before ReLU-family activations,
    Xavier elsewhere (docs/derivations.md §2).
    """
    sizing = _SIZING.get()
    if sizing is not None:
        sizing[0] -= 2 * (len(sizes) - 1)  # W and b per layer
        if sizing[0] < 0:
            raise ValueError(f"it describes more than the {checkpoint.MAX_ARRAYS:,} parameter arrays "
                             "a checkpoint can hold")
    layers = []
    for i, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        act = activation if i < len(sizes) - 2 else last_activation
        init = "he" if act in ("relu", "leaky_relu") else "xavier"
        layers.append(_ShapeOnly(d_in, d_out) if sizing is not None
                      else Dense(d_in, d_out, init=init, rng=rng, dtype=dtype))
        if act is not None:
            layers.append(make_activation(act))
    return Sequential(*layers)


def _check_hidden_dims(hidden_dims):
    if isinstance(hidden_dims, int):
        hidden_dims = (hidden_dims,)
    if isinstance(hidden_dims, (str, bytes)):
        raise TypeError(f"hidden_dims must be a sequence of integers such as (256, 128); got "
                        f"{type(hidden_dims).__name__} {hidden_dims!r}")
    try:
        dims = tuple(hidden_dims)
    except TypeError:
        raise TypeError(f"hidden_dims must be a sequence of integers; got {type(hidden_dims).__name__}") from None
    return tuple(check_positive_int(h, f"hidden_dims[{i}]", maximum=MAX_SIZE) for i, h in enumerate(dims))


class ModelParams(dict):
    """A model's ``params``: a plain dict of name -> live array, with ``.model`` the model."""

    def __init__(self, model, items):
        super().__init__(items)
        self.model = model


class Model:
    """Base class of every model.

    Subclasses build their blocks in ``__init__`` (registering them in ``self.blocks``,
    name -> Sequential) and implement :meth:`loss_terms_and_grads`.

    Parameters
    ----------
    input_dim : int
        Number of features of one example (64 for 8×8 digits, 784 for MNIST).
    hidden_dims : sequence of int
        Widths of the hidden layers of the encoder; the decoder mirrors them.
    latent_dim : int
        Size of the code (the bottleneck).
    seed : int
        Seeds the model's own generator: initial weights, shuffling, noise.
    dtype : {"float32", "float64"}
    """

    #: names of the constructor arguments saved in a checkpoint (subclasses extend)
    _config_keys = ("input_dim", "hidden_dims", "latent_dim", "seed", "dtype")
    _needs_labels = False

    def __init__(self, input_dim, hidden_dims=(), latent_dim=2, *, seed=0, dtype="float32"):
        self.input_dim = check_positive_int(input_dim, "input_dim", maximum=MAX_SIZE)
        self.hidden_dims = _check_hidden_dims(hidden_dims)
        self.latent_dim = check_positive_int(latent_dim, "latent_dim", maximum=MAX_SIZE)
        if seed is not None:
            seed = check_positive_int(seed, "seed", minimum=0, maximum=MAX_SEED)
        self.seed = seed
        self.dtype = resolve_dtype(dtype)
        self.backend = get_backend()
        self.rng = Random(seed, backend=self.backend)
        self.blocks = {}
        self.history = {"epoch": []}

    # ------------------------------------------------------------------ parameters
    @property
    def xp(self):
        """The array module (numpy or cupy) the model lives on."""
        return module_for(self.backend)

    @property
    def encoder(self):
        """The block that maps data to the code (a :class:`~minivae.layers.Sequential`)."""
        return self.blocks["encoder"]

    @property
    def decoder(self):
        """The block that maps a code back to data."""
        return self.blocks["decoder"]

    @property
    def params(self):
        """Name -> live parameter array, e.g. ``"encoder.0.W"``. Editing one edits the model.

        The dict also knows its model (``.model``), so ``Adam(model.params)`` makes an
        optimizer of this model that follows it through ``to``.
        """
        return ModelParams(self, ((f"{b}.{k}", v) for b, block in self.blocks.items() for k, v in block.params.items()))

    def _collect_grads(self):
        return {f"{b}.{k}": v for b, block in self.blocks.items() for k, v in block.grads.items()}

    # ------------------------------------------------------------------ one flat buffer
    def _dense_layers(self):
        return [layer for block in self.blocks.values() for layer in block.layers if layer.params]

    def _pack_params(self):
        """Put every parameter in one flat buffer; each layer keeps views into it.

        ``params`` still names each array, and editing one edits the model, but an
        optimizer can now update everything in a few passes over one array, and a
        training loop can copy all parameters at once. Called at the end of
        construction, and again whenever the arrays have been replaced (``to``).
        """
        if _SIZING.get() is not None:
            return  # a model being sized has no arrays to pack
        xp = self.xp
        layers = self._dense_layers()
        n = sum(int(v.size) for layer in layers for v in layer.params.values())
        flat = xp.empty(n, dtype=self.dtype)
        flat_grad = xp.zeros(n, dtype=self.dtype)
        grad_views, param_views, offset = {}, [], 0
        for layer in layers:
            for k, v in list(layer.params.items()):
                view = flat[offset:offset + v.size].reshape(v.shape)
                view[...] = v
                layer.params[k] = view
                param_views.append(view)
                grad_views[id(view)] = flat_grad[offset:offset + v.size].reshape(v.shape)
                offset += int(v.size)
        # param_views keeps the packed views alive, so no new array can reuse their ids
        # and slip past the staleness check in _packed
        self._flat = (flat, flat_grad, grad_views, param_views)

    def _packed(self):
        """``(flat_params, flat_grads, {id(param view): grad view})``, re-packed if stale.

        Stale means some layer holds an array that is not one of the packed views (it
        was replaced, for example by ``layer.params["W"] = new``).
        """
        flat = getattr(self, "_flat", None)
        if flat is None or any(id(v) not in flat[2] for v in self.params.values()):
            self._pack_params()
        return self._flat[:3]

    @contextmanager
    def _gradient_buffers(self):
        """While active, every Dense layer writes its gradients into the flat gradient buffer.

        Yields ``(flat_params, flat_grads, views)`` with ``views`` name -> the gradient
        view of that parameter. Outside it, ``loss_and_grads`` returns fresh arrays, so
        a caller keeping gradients from two calls never sees one overwrite the other.
        """
        flat, flat_grad, grad_views = self._packed()
        layers = self._dense_layers()
        for layer in layers:
            layer.grad_out = tuple(grad_views[id(layer.params[k])] for k in ("W", "b"))
        views = {name: grad_views[id(v)] for name, v in self.params.items()}
        try:
            yield flat, flat_grad, views
        finally:
            for layer in layers:
                layer.grad_out = None

    def n_params(self):
        """Number of scalar parameters."""
        return sum(int(v.size) for v in self.params.values())

    def to(self, backend):
        """Move the model to ``backend`` ("numpy" or "cupy") in place; return it."""
        for block in self.blocks.values():
            block.to(backend)
        self.backend = backend
        self.rng = Random(self.rng.spawn_seed(), backend=backend)
        self._pack_params()
        return self

    # ------------------------------------------------------------------ input checks
    def _prepare(self, X, y=None, *, name="X", check_range=True, allow_empty=False):
        """Check ``X`` (and ``y``) and put them on the model's backend and dtype.

        Every model treats bad data alike: not an array, complex numbers, a wrong shape,
        NaN or infinity, or values beyond the model's dtype are refused (``_as_input``);
        so is an empty ``X`` where a mean over the examples is taken (a loss,
        ``fit``). Methods that answer example by example (``encode``, ``decode``,
        ``reconstruct``, per-example scores) pass ``allow_empty=True`` and return
        zero rows of the right width.
        """
        X = self._as_input(X, name)
        if X.shape[0] == 0 and not allow_empty:
            raise ValueError(f"{name} is empty: it needs at least one example (row)")
        if check_range and getattr(self, "_unit_targets", False):
            check_unit_interval(X, name)
        y = self._prepare_labels(y, X.shape[0])
        return X, y

    def _as_input(self, X, name, width=None):
        """``X`` (n, width) as a finite array of the model's dtype, on its backend (default width: input_dim)."""
        width = self.input_dim if width is None else width
        if not hasattr(X, "shape") or not hasattr(X, "dtype"):
            raise TypeError(f"{name} must be an array of shape (n, {width}); got {type(X).__name__}")
        if X.dtype.kind == "c":
            raise TypeError(f"{name} must hold real numbers; got the complex dtype {X.dtype} "
                            f"(use {name}.real if the imaginary parts are meant to be zero)")
        if X.dtype.kind not in "fiub":
            raise TypeError(f"{name} must hold numbers; got dtype {X.dtype}")
        if X.ndim != 2 or X.shape[1] != width:
            raise ValueError(f"{name} must have shape (n, {width}); got {tuple(X.shape)}")
        with module_for("numpy").errstate(over="ignore"):  # check_finite names an overflow below
            out = asarray(X, dtype=self.dtype, backend=self.backend)
        check_finite(out, name, source=X)
        return out

    def _finite_result(self, values, what, X):
        """``values`` (one number per example of ``X``), or a ValueError naming the cause when one overflowed.

        Finite inputs and weights can still give a loss beyond the dtype's largest number
        (inputs of 3e19 squared); it is refused, not returned as inf or NaN.
        """
        xp = self.xp
        bad = ~xp.isfinite(values)
        if not bool(bad.any()):
            return values
        i = int(xp.argmax(bad))
        big = lambda a: float(xp.abs(a).max()) if a.size else 0.0  # noqa: E731
        weights = max(big(v) for v in self.params.values())
        raise ValueError(
            f"{what} of example {i} overflows {self.dtype.name} (it came out {float(values[i])}): inputs up to "
            f"{big(X):.3g} and weights up to {weights:.3g}{self._overflow_cause()} give numbers beyond the "
            f"largest {self.dtype.name} ({float(xp.finfo(self.dtype).max):.3g})")

    def _overflow_cause(self):
        """What besides inputs and weights can make a loss overflow, for :meth:`_finite_result`."""
        return ""

    def _prepare_labels(self, y, n):
        if y is not None:
            raise TypeError(f"{type(self).__name__} takes no labels; got y")
        return None

    # ------------------------------------------------------------------ the loss
    def loss_terms_and_grads(self, x, y=None, *, eps=None, rng=None, check=True, grads=True):
        """Return ``(terms, grads)``: ``terms["loss"]`` and its parts as 0-d arrays.

        Subclasses implement this; ``loss`` and ``loss_and_grads`` call it.
        """
        raise NotImplementedError

    def loss(self, x, y=None, *, eps=None, rng=None):
        """The training loss on the batch ``x`` (per example, averaged over the batch)."""
        terms, _ = self.loss_terms_and_grads(x, y, eps=eps, rng=rng, grads=False)
        return float(terms["loss"])

    def loss_and_grads(self, x, y=None, *, eps=None, rng=None):
        """``(loss, grads)``: the loss and its exact gradient, keyed like :attr:`params`."""
        terms, grads = self.loss_terms_and_grads(x, y, eps=eps, rng=rng)
        return float(terms["loss"]), grads

    def evaluate_terms(self, X, y=None, batch_size=1024):
        """Each loss term averaged over all of ``X``, as Python floats (no gradients)."""
        X, y = self._prepare(X, y)
        sums, n = {}, X.shape[0]
        for s in range(0, n, batch_size):
            xb = X[s:s + batch_size]
            yb = None if y is None else y[s:s + batch_size]
            terms, _ = self.loss_terms_and_grads(xb, yb, check=False, grads=False)
            for k, v in terms.items():
                sums[k] = sums.get(k, 0.0) + float(v) * xb.shape[0]
        return {k: v / n for k, v in sums.items()}

    # ------------------------------------------------------------------ training
    def fit(self, X, y=None, *, epochs=None, batch_size=128, optimizer=None, validation_data=None, verbose=True,
            log_every=None):
        """Train on ``X`` with mini-batches; return the history.

        Parameters
        ----------
        X : array, shape (n, input_dim)
        y : array of int, shape (n,), optional
            Class labels (only for conditional models).
        epochs : int
            Required (keyword only): ``fit(X, epochs=30)``.
        batch_size : int
        optimizer : minivae.SGD or minivae.Adam, optional
            Default ``Adam(lr=1e-3)``. Made with this model's parameters
            (``Adam(model.params, lr=1e-3)``), or made without any and bound to this
            model by its first ``fit``; one bound to anything else is refused
            (``ValueError``; make one optimizer per model). It updates all the parameters
            as one flat array (see ``_pack_params``), its memory kept under the single
            name ``minivae.train.FLAT``: calling ``fit`` again with the same optimizer
            continues its moments and step count.
        validation_data : tuple, optional
            ``(X_val,)`` or ``(X_val, y_val)``; its loss is recorded each epoch.
        verbose : bool
            A progress bar per epoch and one line per epoch.
        log_every : int, optional
            Read the loss every this many steps (default: every step on NumPy, every
            ``minivae.train.SAVE_EVERY`` = 10 on CuPy, where reading it waits for the
            GPU); it is read every ``SAVE_EVERY`` steps and at each epoch's end anyway.

        Returns
        -------
        history : dict of lists
            ``"epoch"``, ``"loss"`` and its parts, ``"val_..."``, ``"time"`` (seconds per
            epoch). Calling ``fit`` again appends to the same history.

        Raises
        ------
        TrainingDivergedError
            When the loss turns NaN or infinite, or rises far above where this call
            started (the rule is :func:`minivae.train.diverged`); the model and the
            optimizer are put back together to the last point ``fit`` saved (every
            ``minivae.train.SAVE_EVERY`` steps, at a loss that passed the check).
        TypeError
            For arguments of the wrong kind (``fit(X, 30)`` suggests ``epochs=30``).

        Notes
        -----
        ``Ctrl-C`` (``KeyboardInterrupt``) waits for the optimizer step under way, so an
        interrupted ``fit`` leaves the model and the optimizer at the end of a whole step.
        """
        from ..train import fit

        return fit(self, X, y, epochs=epochs, batch_size=batch_size, optimizer=optimizer,
                   validation_data=validation_data, verbose=verbose, log_every=log_every)

    # ------------------------------------------------------------------ inference
    def _batched(self, fn, X, batch_size):
        batch_size = check_positive_int(batch_size, "batch_size")
        # an empty X still goes through fn once, so the result is empty with the right width
        starts = range(0, X.shape[0], batch_size) or range(1)
        outs = [fn(X[s:s + batch_size]) for s in starts]
        if isinstance(outs[0], tuple):
            return tuple(self.xp.concatenate(parts) for parts in zip(*outs))
        return self.xp.concatenate(outs)

    def _check_codes(self, Z, name="Z"):
        """Codes ``Z`` (n, latent_dim), checked as data are (see :meth:`_prepare`)."""
        return self._as_input(Z, name, width=self.latent_dim)

    # ------------------------------------------------------------------ checkpoints
    def config(self):
        """The constructor arguments, as JSON-friendly values (saved with the weights)."""
        cfg = {k: getattr(self, k) for k in self._config_keys}
        cfg["hidden_dims"] = list(self.hidden_dims)
        cfg["dtype"] = self.dtype.name
        return cfg

    def save(self, path):
        """Write the model to ``path`` (``.npz`` is appended if missing) and return the path.

        A ``path`` that names no file (``""``, a folder such as ``"runs/"``) is refused.

        What :func:`load` would refuse (an unknown class, a config it cannot read, a NaN
        or infinite weight), ``save`` refuses first with the same ``ValueError``, leaving
        any old file as it was. The file is written to a temporary file beside it and
        renamed over it (see :func:`minivae.checkpoint.write`: modes, symlinks, stale
        temporary files).
        """
        from .. import __version__

        path = checkpoint_file(path, "save")
        raw, meta = checkpoint.encode_config(
            path, {"class": type(self).__name__, "version": __version__, "config": self.config()})
        arrays = {k: to_numpy(v) for k, v in self.params.items()}
        _, shapes, dtype = describe(path, meta)
        checkpoint.check_arrays(path, arrays, shapes, dtype, type(self).__name__)
        return checkpoint.write(path, raw, arrays)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"


# ---------------------------------------------------------------------- checkpoints
def describe(path, meta):
    """``(cls, shapes, dtype)`` of the model a checkpoint's ``meta`` describes, sized without building it.

    The class's own constructor runs on ``meta["config"]`` (so every argument is checked
    as usual), but with shape-only layers: ``shapes`` (name -> shape of each parameter)
    costs no memory, however wide the config asks the layers to be. A config with more
    layers than a checkpoint can hold is refused before its layers exist.
    """
    name = meta.get("class")
    cls = MODELS.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f"{path!r}: unknown model class {name!r}; known: {sorted(MODELS)}")
    config = meta.get("config")
    token = _SIZING.set([checkpoint.MAX_ARRAYS])
    try:
        if not isinstance(config, dict):
            raise TypeError(f"the config must be a JSON object of constructor arguments; got {config!r:.80}")
        sized = cls(**config)
    except (TypeError, ValueError, OverflowError) as err:
        raise ValueError(f"{path!r}: its config cannot build a model of class {cls.__name__}: {err}") from None
    finally:
        _SIZING.reset(token)
    return cls, {k: v.shape for k, v in sized.params.items()}, sized.dtype


def checkpoint_file(path, verb):
    """The checkpoint file ``path`` names, by the rule ``save`` and ``load`` share: ``.npz`` appended if missing.

    A name with nothing before the ``.npz`` (``""``, ``"runs/"``, ``".npz"``) names no file: refused.
    ``load`` reads ``path`` as given only when there is no such ``.npz`` but ``path`` exists.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file name (str or os.PathLike); got {type(path).__name__}")
    name = checkpoint.npz_path(path)
    if os.path.basename(name) == ".npz":
        raise ValueError(f"cannot {verb} {os.fspath(path)!r}: it names a folder or nothing, not a file; "
                         "give a file name such as 'runs/model.npz'")
    if verb == "load" and not os.path.lexists(name) and os.path.lexists(path):
        return os.fspath(path)  # no save wrote it, but it is there: read it (and say what it is)
    return name


def load(path):
    """Load any model saved with ``model.save(path)``, onto the current backend.

    ``path`` follows the rule of ``save``: ``.npz`` is appended if it lacks it, so
    ``load("model")`` reads the ``model.npz`` that ``save("model")`` wrote (a file of
    another name is read as given when no such ``.npz`` exists).

    The file is checked before it is trusted and sized before it is read (see
    :mod:`minivae.checkpoint`): its directory, config and array headers must agree with
    the model the config describes before that model is built, so loading any file
    costs memory bounded by its own size.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        For anything else: a junk, truncated, damaged or foreign file, a special file,
        a config that builds no model, arrays that do not fit it, NaN or infinite
        weights. The message names the file and the problem.
    """
    with checkpoint.Checkpoint(checkpoint_file(path, "load")) as ckpt:
        cls, shapes, dtype = describe(ckpt.path, ckpt.meta)
        ckpt.expect(shapes, dtype, cls.__name__)
        model = cls(**ckpt.meta["config"])  # sized above: no larger than the file
        for name, v in model.params.items():
            v[...] = model.xp.asarray(ckpt.read(name))
    return model


def params_to_numpy(model):
    """Name -> NumPy copy of every parameter (for checkpoints and comparisons)."""
    return {k: to_numpy(v).copy() for k, v in model.params.items()}
