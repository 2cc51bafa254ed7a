"""Update rules: plain SGD, SGD with (Nesterov) momentum, and Adam.

An optimizer is the only thing in minivae that changes parameters. Models hand it two
dicts with the same keys, the live parameter arrays and their gradients::

    opt = Adam(lr=1e-3)
    loss, grads = model.loss_and_grads(x)
    opt.step(model.params, grads)      # every model.params[name] is updated in place

Everything an optimizer remembers between steps (a velocity, Adam's two moments and
its step count) is kept per parameter **name**, the full dotted name such as
``"enc.0.W"``. Keying it by the last part alone (``"W"``) would make every layer share
one velocity: a known trap in public NumPy autoencoders.

An optimizer with such a memory belongs to **one model**. Two models of the same
architecture have the same names, so one optimizer stepping both would blend their
moments; instead, a step that hands it another live model's array under a name it
already keeps state for raises ``ValueError``: make one optimizer per model.

The formulas are derived in ``docs/derivations.md`` §8.
"""
from __future__ import annotations

import math
import numbers
import weakref
from collections.abc import Mapping

from minivae.backend import array_module, asarray, backend_of
from minivae.ops import kernels

__all__ = ["Optimizer", "SGD", "Adam"]


# ---------------------------------------------------------------------------
# argument checks (hyperparameters become plain Python floats: NumPy 2 treats them as
# "weak" scalars, so ``0.9 * m`` stays float32 when ``m`` is float32)
# ---------------------------------------------------------------------------

def _real(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {type(value).__name__} {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value!r}")
    return value


def _positive(name, value):
    value = _real(name, value)
    if value <= 0.0:
        raise ValueError(f"{name} must be > 0; got {value!r}")
    return value


def _unit_interval(name, value):
    """A decay rate: a real number in [0, 1)."""
    value = _real(name, value)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be in [0, 1); got {value!r}")
    return value


def _shape(a):
    return tuple(a.shape)


def _memory_of(p):
    """``(array, where)``: the array that owns the memory of ``p``, and where ``p`` lies in it.

    Two views of the same memory (``W`` and ``W.reshape(-1)`` made again at each step)
    give the same answer; the arrays of two models do not.
    """
    root = p
    while isinstance(getattr(root, "base", None), type(root)):
        root = root.base
    start = p.data.ptr if hasattr(p.data, "ptr") else p.__array_interface__["data"][0]  # CuPy, NumPy
    return root, (start, _shape(p), tuple(p.strides))


class Optimizer:
    """Base class: checks what ``step`` is given and keeps per-parameter state.

    A subclass names the arrays it keeps for each parameter in ``state_names`` and
    writes the update rule for one parameter in ``_update``.

    Parameters
    ----------
    lr : float
        Learning rate, > 0.

    Attributes
    ----------
    lr : float
        May be changed between steps (a learning-rate schedule).
    steps : int
        How many times ``step`` has been called since construction or ``reset()``.
    state : dict
        ``name -> {array_name: array, ..., "t": int}``, created lazily on a parameter's
        first step, with the parameter's shape, dtype and device; ``t`` counts the steps
        that parameter has taken.

    Notes
    -----
    The state of a name belongs to its **owner**: by default the memory of the parameter
    array it was made for (the array that owns that memory, and the place in it, so a
    view made afresh at every step, ``W.reshape(-1)``, is the same parameter), or the
    model (``fit`` passes ``owner=model``, so the state survives ``model.to(...)``). A
    step whose owner differs:

    - while the first owner still exists (a second model of the same architecture)
      raises ``ValueError`` before anything moves: one optimizer per model;
    - once the first owner is gone (garbage collected), finds no state to continue: the
      name starts afresh, with ``t = 1`` on this step.

    State restored by :meth:`load_state_dict` has no owner yet and belongs to whatever
    takes the next step. An optimizer without memory (plain ``SGD``) may step anything.
    """

    #: names of the arrays kept per parameter (for example ``("m", "v")`` for Adam)
    state_names: tuple = ()

    def __init__(self, lr):
        self.lr = _positive("lr", lr)
        self.steps = 0
        self.state = {}
        self._owners = {}  # name -> (weak reference to the owner of its state, where in it)

    # --- the public loop ---------------------------------------------------

    def step(self, params, grads, *, owner=None):
        """Update every ``params[name]`` in place using ``grads[name]``.

        Parameters
        ----------
        params : dict of str -> array
            The live parameter arrays (floating point, NumPy or CuPy). They are
            modified in place; the dict and its arrays are never rebound.
        grads : dict of str -> array
            Gradients with exactly the keys of ``params``, each of the same shape and on
            the same device as its parameter.
        owner : object, optional
            What the state of these parameters belongs to (see the class notes); default:
            each parameter array itself. ``fit`` passes the model.

        Raises
        ------
        TypeError
            If ``params`` or ``grads`` is not a dict, or an entry is not a floating
            array, or a gradient lives on another device than its parameter.
        ValueError
            If the keys differ (the message names the key), a gradient's shape differs
            from its parameter's (the message names the key and both shapes), a
            parameter's shape no longer matches the state kept for that name, or the
            state of a name belongs to another owner that still exists (another model).
        """
        self._check(params, grads)
        owners = {name: _memory_of(p) if owner is None else (owner, None) for name, p in params.items()}
        for name, p in params.items():
            self._check_owner(name, owners[name], p)
        # all checks (state shapes included) come before the first parameter moves
        states = {name: self._state_for(name, p) for name, p in params.items()}
        for name, p in params.items():
            self._own(name, owners[name])
            g = grads[name].astype(p.dtype, copy=False)
            self._update(name, p, g, states[name])
        self.steps += 1

    def reset(self):
        """Forget all state (velocities, moments, step counts), as if newly built."""
        self.steps = 0
        self.state = {}
        self._owners = {}

    def _check_owner(self, name, owner, p=None):
        """Refuse ``owner`` (an ``(object, where)`` pair) if the state of ``name`` belongs to another that exists.

        State whose owner is gone is dropped (the name starts afresh); state without an
        owner (just loaded) is left for this step to take. A parameter ``p`` of another
        shape is left to :meth:`_state_for`, whose message names both shapes.
        """
        if name not in self._owners or name not in self.state:
            return
        ref, where = self._owners[name]
        holder = ref()
        if holder is None:
            del self.state[name], self._owners[name]
            return
        same = holder is owner[0] and where == owner[1]
        if same or p is not None and _shape(self.state[name][self.state_names[0]]) != _shape(p):
            return  # its own state; or another shape, which _state_for reports with both shapes
        raise ValueError(
            f"this {type(self).__name__} already keeps the state of {name!r} for another model that "
            f"still exists (t = {self.state[name]['t']} there); one optimizer keeps the memory of one "
            f"model. Make a new {type(self).__name__}(...) for this model, or call reset() first."
        )

    def _own(self, name, owner):
        """Record that the state of ``name`` belongs to ``owner``, an ``(object, where)`` pair."""
        if self.state_names:
            try:
                self._owners[name] = (weakref.ref(owner[0]), owner[1])
            except TypeError:  # an object without weak references: nothing to compare with later
                self._owners.pop(name, None)

    # --- checkpoints -------------------------------------------------------

    @property
    def hyperparams(self):
        """The constructor arguments, as a plain dict: ``type(self)(**hyperparams)``."""
        return {"lr": self.lr}

    def state_dict(self):
        """Return the optimizer's memory as plain Python containers and arrays.

        Returns
        -------
        dict
            ``{"type": "Adam", "hyperparams": {...}, "steps": int,
            "state": {name: {array_name: array, ..., "t": int}}}``. The arrays are
            copies, on the device of their parameter; later steps do not change them.
        """
        return {
            "type": type(self).__name__,
            "hyperparams": dict(self.hyperparams),
            "steps": self.steps,
            "state": {
                name: {k: (v.copy() if k in self.state_names else v) for k, v in s.items()}
                for name, s in self.state.items()
            },
        }

    def load_state_dict(self, d):
        """Restore the memory saved by :meth:`state_dict` (hyperparameters are not changed).

        Arrays may be on either device: each moves to its parameter's device and dtype
        at that parameter's next step.

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
        self.steps = int(d["steps"])
        self.state = state
        self._owners = {}  # the loaded state belongs to whichever arrays take the next step

    # --- for fit: take back steps that led somewhere bad ---------------------

    def _snapshot(self, into=None):
        """A copy of the memory (``steps``, every state's arrays and ``t``), for :meth:`_restore`.

        ``fit`` takes one after every loss it has checked; passing the previous snapshot
        as ``into`` reuses its arrays, so nothing is allocated once training runs.
        """
        old = {} if into is None else into["state"]
        state = {}
        for name, s in self.state.items():
            kept, saved = old.get(name, {}), {"t": s["t"]}
            for k in self.state_names:
                a, buf = s[k], kept.get(k)
                if buf is None or _shape(buf) != _shape(a) or buf.dtype != a.dtype or backend_of(buf) != backend_of(a):
                    buf = a.copy()
                else:
                    buf[...] = a
                saved[k] = buf
            state[name] = saved
        return {"steps": self.steps, "state": state}

    def _restore(self, snapshot):
        """Put the memory back as :meth:`_snapshot` saw it, writing into the live state arrays."""
        for name in [n for n in self.state if n not in snapshot["state"]]:
            del self.state[name]
            self._owners.pop(name, None)
        for name, saved in snapshot["state"].items():
            s = self.state.setdefault(name, {})
            for k in self.state_names:
                if k in s and _shape(s[k]) == _shape(saved[k]) and backend_of(s[k]) == backend_of(saved[k]):
                    s[k][...] = saved[k]
                else:
                    s[k] = saved[k].copy()
            s["t"] = saved["t"]
        self.steps = snapshot["steps"]

    # --- for subclasses ----------------------------------------------------

    def _update(self, name, p, g, s):
        """Apply the rule to one parameter ``p`` (in place), gradient ``g``, state ``s``."""
        raise NotImplementedError

    def _state_for(self, name, p):
        """The state dict for parameter ``name``, made (zeros) on its first step."""
        s = self.state.get(name)
        if s is None:
            xp = array_module(p)
            s = {k: xp.zeros_like(p) for k in self.state_names}
            s["t"] = 0
            self.state[name] = s
            return s
        for k in self.state_names:
            a = s[k]
            if _shape(a) != _shape(p):
                raise ValueError(
                    f"parameter {name!r} has shape {_shape(p)}, but the optimizer's state "
                    f"for it has shape {_shape(a)}: the model changed. Call reset() or use "
                    "a new optimizer."
                )
            # after model.to(...) or a checkpoint load: follow the parameter
            if backend_of(a) != backend_of(p) or a.dtype != p.dtype:
                s[k] = asarray(a, dtype=p.dtype, backend=backend_of(p))
        return s

    def _check(self, params, grads):
        for arg, d in (("params", params), ("grads", grads)):
            if not isinstance(d, Mapping):
                raise TypeError(f"{arg} must be a dict of name -> array; got {type(d).__name__}")
        for name in params:
            if name not in grads:
                raise ValueError(f"grads has no entry for parameter {name!r}")
        for name in grads:
            if name not in params:
                raise ValueError(f"grads has an entry {name!r} that is not in params")
        for name, p in params.items():
            g = grads[name]
            for what, a in (("parameter", p), ("gradient", g)):
                if not (hasattr(a, "shape") and hasattr(a, "dtype")):
                    raise TypeError(f"{what} {name!r} must be an array; got {type(a).__name__}")
            if p.dtype.kind != "f":
                raise TypeError(f"parameter {name!r} must be a floating array; got dtype {p.dtype}")
            if _shape(p) != _shape(g):
                raise ValueError(
                    f"gradient {name!r} has shape {_shape(g)} but its parameter has shape {_shape(p)}"
                )
            if backend_of(p) != backend_of(g):
                raise TypeError(
                    f"parameter {name!r} lives on {backend_of(p)} but its gradient on "
                    f"{backend_of(g)}; move them to the same backend"
                )

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparams.items())
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with momentum or Nesterov momentum.

    The momentum buffer :math:`m` (the state ``"velocity"``) starts at zero and
    accumulates gradients; the learning rate multiplies it when the parameter
    :math:`\theta` moves (the form PyTorch uses). See ``docs/derivations.md`` §8.

    Plain SGD (``momentum=0``):

    .. math:: \theta \leftarrow \theta - \eta\, g

    Momentum (heavy ball):

    .. math::

        m &\leftarrow \gamma m + g \\
        \theta &\leftarrow \theta - \eta\, m

    Nesterov momentum (``nesterov=True``): step with the gradient plus :math:`\gamma`
    times the *updated* buffer,

    .. math::

        m &\leftarrow \gamma m + g \\
        \theta &\leftarrow \theta - \eta\,(g + \gamma m)

    In terms of the buffer before the step that is
    :math:`\eta\,(g + \gamma g + \gamma^2 m)`: compared with momentum's
    :math:`\eta\,(g + \gamma m)` it adds :math:`\gamma g` and replaces :math:`\gamma m` by
    :math:`\gamma^2 m`. It is Sutskever et al. (2013)'s look-ahead rule
    :math:`\Delta \leftarrow \gamma \Delta - \eta \nabla f(\tilde\theta + \gamma \Delta),\
    \tilde\theta \leftarrow \tilde\theta + \Delta` written in the look-ahead point
    :math:`\theta = \tilde\theta + \gamma \Delta` (with :math:`\Delta = -\eta m`), so that the
    gradient is taken at the parameters themselves.

    Parameters
    ----------
    lr : float
        Learning rate :math:`\eta > 0`.
    momentum : float, default 0.0
        :math:`\gamma \in [0, 1)`. Zero keeps no state.
    nesterov : bool, default False
        Use Nesterov momentum; needs ``momentum > 0``.
    """

    def __init__(self, lr, momentum=0.0, nesterov=False):
        super().__init__(lr)
        self.momentum = _unit_interval("momentum", momentum)
        if not isinstance(nesterov, bool):
            raise TypeError(f"nesterov must be True or False; got {type(nesterov).__name__} {nesterov!r}")
        if nesterov and self.momentum == 0.0:
            raise ValueError("nesterov=True needs momentum > 0; got momentum=0.0")
        self.nesterov = nesterov
        self.state_names = ("velocity",) if self.momentum > 0.0 else ()

    @property
    def hyperparams(self):
        return {"lr": self.lr, "momentum": self.momentum, "nesterov": self.nesterov}

    def _update(self, name, p, g, s):
        lr, mu = self.lr, self.momentum
        s["t"] += 1
        if mu == 0.0:
            p -= lr * g
            return
        v = s["velocity"]
        v *= mu
        v += g
        if self.nesterov:
            p -= lr * (g + mu * v)
        else:
            p -= lr * v


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015): a step per coordinate scaled by running gradient moments.

    With :math:`m, v` starting at zero and :math:`t` the number of steps this parameter
    has taken (1 on its first step), see ``docs/derivations.md`` §8:

    .. math::

        m &\leftarrow \beta_1 m + (1 - \beta_1)\, g \\
        v &\leftarrow \beta_2 v + (1 - \beta_2)\, g \odot g \\
        \hat m &= m / (1 - \beta_1^t), \qquad \hat v = v / (1 - \beta_2^t) \\
        \theta &\leftarrow \theta - \eta\, \hat m / (\sqrt{\hat v} + \epsilon)

    The bias correction undoes the pull of the zero start: on the first step
    :math:`\hat m = g` and :math:`\hat v = g^2`, so every coordinate moves by about
    :math:`\eta`, whatever the scale of its gradient. Forgetting :math:`t` here is a known
    trap. :math:`t` is counted per parameter name, so a parameter that joins later starts
    its own correction at :math:`t = 1`. The moments and :math:`t` belong to one model
    (see :class:`Optimizer`): a second model that still exists is refused with a
    ``ValueError``; give it its own ``Adam``. ``fit`` hands the optimizer all of a
    model's parameters as one array under one name (``minivae.train.FLAT``), so there
    :math:`t` counts the steps of every ``fit`` call that used this optimizer on that
    model: a second call continues the first.

    Parameters
    ----------
    lr : float, default 1e-3
        Learning rate :math:`\eta > 0`.
    betas : (float, float), default (0.9, 0.999)
        Decay rates :math:`\beta_1, \beta_2 \in [0, 1)` of the two moments.
    eps : float, default 1e-8
        :math:`\epsilon > 0`, added to :math:`\sqrt{\hat v}` so that no division is by zero.
    """

    state_names = ("m", "v")

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(lr)
        if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__"):
            raise TypeError(f"betas must be a pair (beta1, beta2); got {type(betas).__name__} {betas!r}")
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2); got {len(betas)} values {betas!r}")
        self.beta1 = _unit_interval("betas[0]", betas[0])
        self.beta2 = _unit_interval("betas[1]", betas[1])
        self.eps = _positive("eps", eps)

    @property
    def betas(self):
        return (self.beta1, self.beta2)

    @property
    def hyperparams(self):
        return {"lr": self.lr, "betas": self.betas, "eps": self.eps}

    def _update_reference(self, name, p, g, s):
        """The rule exactly as written above: the one source of truth.

        :meth:`_update` computes the same numbers faster; a test proves them equal.
        """
        xp = array_module(p)
        beta1, beta2 = self.beta1, self.beta2
        s["t"] += 1
        t = s["t"]
        m, v = s["m"], s["v"]
        m *= beta1
        m += (1.0 - beta1) * g
        v *= beta2
        v += (1.0 - beta2) * (g * g)
        m_hat = m / (1.0 - beta1**t)
        v_hat = v / (1.0 - beta2**t)
        p -= self.lr * m_hat / (xp.sqrt(v_hat) + self.eps)

    def _update(self, name, p, g, s):
        r"""The same update as :meth:`_update_reference`, without temporaries.

        Both bias corrections fold into the step size and :math:`\epsilon`
        (Kingma & Ba 2015, end of §2): with :math:`c_2 = \sqrt{1 - \beta_2^t}`,

        .. math::
            \eta\,\frac{\hat m}{\sqrt{\hat v} + \epsilon}
            = \underbrace{\frac{\eta\, c_2}{1 - \beta_1^t}}_{\eta_t}
              \frac{m}{\sqrt{v} + \epsilon c_2}

        so no :math:`\hat m`, :math:`\hat v` arrays are made. On NumPy the arrays are
        walked in chunks that fit in the CPU cache; on CuPy one fused kernel does it all.
        """
        if not (p.flags.c_contiguous and g.flags.c_contiguous):
            return self._update_reference(name, p, g, s)
        s["t"] += 1
        lr_t, eps_t = self._folded(s["t"])
        xp = array_module(p)
        flat = [a.reshape(-1) for a in (p, g, s["m"], s["v"])]
        if kernels.usable(*flat):  # on a GPU: the whole update as one launch
            kernels.kernel(xp, "adam")(flat[1], self.beta1, self.beta2, lr_t, eps_t, flat[0], flat[2], flat[3])
        else:
            _adam_chunks(*flat, self.beta1, self.beta2, lr_t, eps_t, self._workspace(xp, p.dtype))

    def _folded(self, t):
        """``(lr_t, eps_t)``: the step size and epsilon with step ``t``'s bias corrections folded in."""
        c2 = math.sqrt(1.0 - self.beta2**t)
        return self.lr * c2 / (1.0 - self.beta1**t), self.eps * c2

    def _workspace(self, xp, dtype):
        """One scratch chunk per dtype, reused by every step (no allocation per step)."""
        ws = getattr(self, "_work", None)
        if ws is None or ws.dtype != dtype:
            ws = self._work = xp.empty(_CHUNK, dtype=dtype)
        return ws


#: elements per chunk of the NumPy Adam step: small enough that the chunk's five arrays
#: stay in the CPU's caches during the dozen passes of the update, large enough that
#: Python's cost per NumPy call is small (measured best at 2**18 for the 784-400-20 VAE)
_CHUNK = 1 << 18


def _adam_chunks(p, g, m, v, beta1, beta2, lr_t, eps_t, work):
    """The folded Adam update on 1-D arrays, chunk by chunk, every pass in place."""
    xp = array_module(p)
    for start in range(0, p.size, _CHUNK):
        stop = min(start + _CHUNK, p.size)
        ps, gs, ms, vs = p[start:stop], g[start:stop], m[start:stop], v[start:stop]
        w = work[:stop - start]
        ms *= beta1                          # m <- beta1 m + (1 - beta1) g
        xp.multiply(gs, 1.0 - beta1, out=w)
        ms += w
        vs *= beta2                          # v <- beta2 v + (1 - beta2) g^2
        xp.multiply(gs, gs, out=w)
        w *= 1.0 - beta2
        vs += w
        xp.sqrt(vs, out=w)                   # p <- p - lr_t m / (sqrt(v) + eps_t)
        w += eps_t
        xp.divide(ms, w, out=w)
        w *= lr_t
        ps -= w

