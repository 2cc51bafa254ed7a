"""What every optimizer shares besides its update rule: its parameters, its memory, its checks.

:mod:`minivae.optim` holds the update rules (read that first); this module holds the
bookkeeping around them.

**One optimizer, one set of parameters.** An optimizer is given the parameters it
updates, in the convention PyTorch users know:

- when it is made, ``Adam(model.params, lr=1e-3)`` (a model's ``params`` knows its
  model) or ``Adam({"w": w}, lr=0.1)`` (any dict of arrays);
- or, when made without them, ``Adam(lr=1e-3)``, by the first ``fit`` that uses it, or by
  its first ``step(params, grads)``.

From then on ``step(grads)`` updates those parameters and no others: a step cannot
reach another model's arrays, because the optimizer never asks where to write. The
older form ``step(params, grads)`` stays valid when ``params`` are its own arrays.

An optimizer bound to a **model** follows it: after ``model.to("cupy")`` the next step
updates the model's new arrays and moves the memory along. It keeps its memory for all
of the model's parameters as one flat array (under the name :data:`FLAT`, the model's
one parameter buffer), so a step is a few passes over one array and ``fit`` can continue
it from one call to the next. An optimizer bound to a **dict** keeps its memory per
name (``"enc.0.W"`` and ``"dec.0.W"`` never share a velocity: keying it by ``"W"`` alone
is a known trap).
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

from .backend import array_module, asarray, backend_of

#: the name under which a model-bound optimizer keeps the memory of the model's one flat
#: parameter buffer
FLAT = "all parameters (flat)"


# hyperparameters become plain Python floats: NumPy 2 treats them as "weak" scalars, so
# ``0.9 * m`` stays float32 when ``m`` is float32
def real(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {type(value).__name__} {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value!r}")
    return value


def positive(name, value):
    value = real(name, value)
    if value <= 0.0:
        raise ValueError(f"{name} must be > 0; got {value!r}")
    return value


def unit_interval(name, value):
    """A decay rate: a real number in [0, 1)."""
    value = real(name, value)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be in [0, 1); got {value!r}")
    return value


def split_params(kind, args, names, given):
    """``(params, hyperparameters)`` from a constructor's positional ``args``.

    The parameters come first, as in PyTorch (``Adam(model.params, 1e-3)``), and may be
    left out (``Adam(1e-3)``): then the first positional is the learning rate. ``names``
    orders the hyperparameters; ``given`` holds those passed by keyword.
    """
    params = None
    if args and (args[0] is None or isinstance(args[0], Mapping)):
        params, args = args[0], args[1:]
    if len(args) > len(names):
        raise TypeError(f"{kind}() takes at most {len(names) + 1} positional arguments "
                        f"(params, {', '.join(names)}); got {len(args) + (params is not None)}")
    values = dict(given)
    for name, value in zip(names, args):
        if given.get(name) is not None:
            raise TypeError(f"{kind}() got {name} both by position and by keyword")
        values[name] = value
    return params, values


class Optimizer:
    """Base class: binds the parameters, checks each step, keeps the memory.

    A subclass names the arrays it keeps per parameter in ``state_names`` and writes the
    rule for one parameter in ``_update(name, p, g, s)``.

    Attributes
    ----------
    lr : float
        Learning rate; may be changed between steps (a schedule).
    steps : int
        How many times ``step`` has run since construction or ``reset()``.
    state : dict
        ``name -> {array_name: array, ..., "t": int}``, made (zeros) on a parameter's
        first step with its shape, dtype and device; ``t`` counts that parameter's steps.
    """

    state_names: tuple = ()

    def __init__(self, params=None, lr=None):
        self.lr = positive("lr", lr)
        self.steps = 0
        self.state = {}
        self._model = None   # the model whose parameters this optimizer updates, or
        self._params = None  # the dict of arrays it updates
        if params is not None:
            self._bind(params)

    # --- binding ---------------------------------------------------------------

    def _bind(self, params):
        """Make ``params`` (a model's ``params``, or a dict of arrays) the parameters this optimizer updates."""
        if not isinstance(params, Mapping):
            raise TypeError(f"params must be a dict of name -> array (such as model.params); "
                            f"got {type(params).__name__}")
        model = getattr(params, "model", None)
        if model is not None:
            self._model = model
        else:
            self._check(params, params, what="params")
            self._params = dict(params)

    def bind_model(self, model):
        """Bind to ``model`` unless bound already; refuse if bound to other parameters (used by ``fit``)."""
        if self._model is None and self._params is None:
            self._model = model
        elif self._model is not model:
            whose = "another model" if self._model is not None else "a dict of arrays"
            raise ValueError(
                f"this {type(self).__name__} updates the parameters of {whose}, given when it was made or "
                f"first used; one optimizer updates one model. Make a new {type(self).__name__}(...) for "
                "this model.")

    @property
    def params(self):
        """The live parameters this optimizer updates (``None`` until it is given some)."""
        return self._model.params if self._model is not None else self._params

    # --- the public loop -------------------------------------------------------

    def step(self, *args):
        """Update the parameters this optimizer was given, in place: ``step(grads)``.

        ``step(params, grads)`` is the same step, with ``params`` its own parameters
        (an optimizer made without them takes these as its own on this first step).

        Parameters
        ----------
        grads : dict of str -> array
            One gradient per parameter, with the parameters' names, shapes and device.

        Raises
        ------
        TypeError
            If a dict or an array is of the wrong kind, or lives on another device.
        ValueError
            If the names or shapes differ from the parameters' (the message names the
            key), or ``params`` are not this optimizer's own.
        """
        if len(args) not in (1, 2):
            raise TypeError(f"step takes grads, or params and grads; got {len(args)} arguments")
        grads = args[-1]
        if len(args) == 2 and self.params is None:  # made without parameters: these become its own
            self._check(args[0], grads)
            self._bind(args[0])
        elif len(args) == 2:
            self._same_arrays(args[0])
        if self.params is None:
            raise TypeError(f"this {type(self).__name__} has no parameters yet: give them when it is made, "
                            f"{type(self).__name__}(model.params, ...), or call step(params, grads) once")
        params = self.params
        self._check(params, grads)
        if self._model is not None:  # every gradient into the model's flat buffer: one update of one array
            flat, flat_grad, views = self._model._packed()
            for name, p in params.items():
                if grads[name] is not views[id(p)]:
                    views[id(p)][...] = grads[name]
            params, grads = {FLAT: flat}, {FLAT: flat_grad}
        # the state's shapes are checked before the first parameter moves
        states = {name: self._state_for(name, p) for name, p in params.items()}
        for name, p in params.items():
            self._update(name, p, grads[name].astype(p.dtype, copy=False), states[name])
        self.steps += 1

    def _update(self, name, p, g, s):
        """The rule for one parameter ``p`` (in place), gradient ``g``, memory ``s``: each subclass's own."""
        raise NotImplementedError(f"{type(self).__name__} has no update rule; use SGD or Adam")

    def reset(self):
        """Forget the memory (velocities, moments, step counts); keep the parameters."""
        self.steps = 0
        self.state = {}

    # --- checks ------------------------------------------------------------------

    def _same_arrays(self, params):
        own = self.params
        if not isinstance(params, Mapping) or params.keys() != own.keys() \
                or any(params[k] is not own[k] for k in own):
            raise ValueError(
                f"these are not the parameters this {type(self).__name__} updates (those it was given when "
                f"made or first used); one optimizer updates one model. Make a new {type(self).__name__}(...) "
                "for these, or call step(grads).")

    def _check(self, params, grads, what="grads"):
        for arg, d in (("params", params), (what, grads)):
            if not isinstance(d, Mapping):
                raise TypeError(f"{arg} must be a dict of name -> array; got {type(d).__name__}")
        missing = [name for name in params if name not in grads]
        extra = [name for name in grads if name not in params]
        if missing:
            raise ValueError(f"grads has no entry for parameter {missing[0]!r}")
        if extra:
            raise ValueError(f"grads has an entry {extra[0]!r} that is not in params")
        for name, p in params.items():
            g = grads[name]
            for kind, a in (("parameter", p), ("gradient", g)):
                if not (hasattr(a, "shape") and hasattr(a, "dtype")):
                    raise TypeError(f"{kind} {name!r} must be an array; got {type(a).__name__}")
            if p.dtype.kind != "f":
                raise TypeError(f"parameter {name!r} must be a floating array; got dtype {p.dtype}")
            if tuple(p.shape) != tuple(g.shape):
                raise ValueError(f"gradient {name!r} has shape {tuple(g.shape)} but its parameter "
                                 f"has shape {tuple(p.shape)}")
            if backend_of(p) != backend_of(g):
                raise TypeError(f"parameter {name!r} lives on {backend_of(p)} but its gradient on "
                                f"{backend_of(g)}; move them to the same backend")

    def _state_for(self, name, p):
        """The memory of parameter ``name``: made (zeros) on its first step, moved to follow ``p``."""
        s = self.state.get(name)
        if s is None:
            xp = array_module(p)
            s = self.state[name] = {k: xp.zeros_like(p) for k in self.state_names}
            s["t"] = 0
            return s
        for k in self.state_names:
            if tuple(s[k].shape) != tuple(p.shape):
                raise ValueError(f"parameter {name!r} has shape {tuple(p.shape)}, but the optimizer's state for "
                                 f"it has shape {tuple(s[k].shape)}: the model changed. Call reset() or use a "
                                 "new optimizer.")
            if backend_of(s[k]) != backend_of(p) or s[k].dtype != p.dtype:  # after model.to(...) or a load
                s[k] = asarray(s[k], dtype=p.dtype, backend=backend_of(p))
        return s

    # --- checkpoints ---------------------------------------------------------------

    @property
    def hyperparams(self):
        """The constructor's keyword arguments: ``type(self)(**hyperparams)``."""
        return {"lr": self.lr}

    def state_dict(self):
        """The memory as plain containers: ``{"type", "hyperparams", "steps", "state"}`` (arrays copied)."""
        return {
            "type": type(self).__name__,
            "hyperparams": dict(self.hyperparams),
            "steps": self.steps,
            "state": {name: {k: (v.copy() if k in self.state_names else v) for k, v in s.items()}
                      for name, s in self.state.items()},
        }

    def load_state_dict(self, d):
        """Restore the memory saved by :meth:`state_dict`; each array follows its parameter at the next step.

        Raises
        ------
        TypeError
            If ``d`` is not a dict.
        ValueError
            If ``d`` was saved by another kind of optimizer or lacks an entry.
        """
        if not isinstance(d, Mapping):
            raise TypeError(f"state dict must be a dict; got {type(d).__name__}")
        kind = type(self).__name__
        if d.get("type") != kind:
            raise ValueError(f"state dict was saved by optimizer {d.get('type')!r}, not {kind!r}")
        for key in ("steps", "state"):
            if key not in d:
                raise ValueError(f"state dict has no entry {key!r}")
        state = {}
        for name, s in d["state"].items():
            missing = [k for k in (*self.state_names, "t") if k not in s]
            if missing:
                raise ValueError(f"state for parameter {name!r} lacks {missing}")
            state[name] = {k: s[k].copy() for k in self.state_names}
            state[name]["t"] = int(s["t"])
        self.steps, self.state = int(d["steps"]), state

    # --- for fit: take back steps that led somewhere bad ---------------------------

    def _snapshot(self, into=None):
        """A copy of the memory for :meth:`_restore`; ``into``, an earlier snapshot, is reused (no allocation)."""
        old = {} if into is None else into["state"]
        state = {}
        for name, s in self.state.items():
            kept, saved = old.get(name, {}), {"t": s["t"]}
            for k in self.state_names:
                a, buf = s[k], kept.get(k)
                if buf is None or buf.shape != a.shape or buf.dtype != a.dtype or backend_of(buf) != backend_of(a):
                    buf = a.copy()
                else:
                    buf[...] = a
                saved[k] = buf
            state[name] = saved
        return {"steps": self.steps, "state": state}

    def _restore(self, snapshot):
        """Put the memory back as :meth:`_snapshot` saw it, writing into the live arrays."""
        for name in [n for n in self.state if n not in snapshot["state"]]:
            del self.state[name]
        for name, saved in snapshot["state"].items():
            s = self.state.setdefault(name, {})
            for k in self.state_names:
                if k in s and s[k].shape == saved[k].shape and backend_of(s[k]) == backend_of(saved[k]):
                    s[k][...] = saved[k]
                else:
                    s[k] = saved[k].copy()
            s["t"] = saved["t"]
        self.steps = snapshot["steps"]

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparams.items())
        return f"{type(self).__name__}({args})"
