r"""Update rules: plain SGD, SGD with (Nesterov) momentum, and Adam (derivations §8).

An optimizer is the only thing in minivae that changes parameters. It is given the
parameters it updates, then steps them with their gradients::

    opt = Adam(model.params, lr=1e-3)   # or Adam(lr=1e-3), bound by the first fit that uses it
    loss, grads = model.loss_and_grads(x)
    opt.step(grads)                     # every model.params[name] moves, in place

Each class below is its rule for one parameter ``p`` with gradient ``g`` and memory
``s`` (``_update``), written under its formula. Everything else an optimizer does (which
parameters it owns, the checks, the memory's bookkeeping, checkpoints) is in
:mod:`minivae.optimizer_state`.
"""
from __future__ import annotations

import math

from .backend import array_module
from .ops import kernels
from .optimizer_state import FLAT, Optimizer, positive, split_params, unit_interval

__all__ = ["Optimizer", "SGD", "Adam", "FLAT"]


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with momentum or Nesterov momentum.

    Plain SGD (``momentum=0``) keeps no memory:

    .. math:: \theta \leftarrow \theta - \eta\, g

    Momentum (heavy ball): a buffer :math:`m` (state ``"velocity"``, from zero)
    accumulates gradients, and the learning rate multiplies it when :math:`\theta` moves
    (PyTorch's form):

    .. math::

        m &\leftarrow \gamma m + g \\
        \theta &\leftarrow \theta - \eta\, m

    Nesterov (``nesterov=True``) steps with the gradient plus :math:`\gamma` times the
    *updated* buffer, :math:`\theta \leftarrow \theta - \eta\,(g + \gamma m)`: Sutskever et
    al. (2013)'s look-ahead rule written at the look-ahead point, so that the gradient is
    taken at the parameters themselves (§8 derives it).

    Parameters
    ----------
    params : dict of str -> array, optional
        The parameters to update (``model.params``); see :mod:`minivae.optimizer_state`.
    lr : float
        Learning rate :math:`\eta > 0`.
    momentum : float, default 0.0
        :math:`\gamma \in [0, 1)`. Zero keeps no state.
    nesterov : bool, default False
        Use Nesterov momentum; needs ``momentum > 0``.
    """

    def _update(self, name, p, g, s):
        lr, gamma = self.lr, self.momentum
        s["t"] += 1
        if gamma == 0.0:
            p -= lr * g
            return
        m = s["velocity"]
        m *= gamma
        m += g
        p -= (lr * (g + gamma * m)) if self.nesterov else (lr * m)

    def __init__(self, *args, lr=None, momentum=None, nesterov=None):
        params, h = split_params("SGD", args, ("lr", "momentum", "nesterov"),
                                 {"lr": lr, "momentum": momentum, "nesterov": nesterov})
        if h["lr"] is None:
            raise TypeError("SGD needs a learning rate: SGD(model.params, lr=0.1)")
        self.momentum = unit_interval("momentum", 0.0 if h["momentum"] is None else h["momentum"])
        nesterov = False if h["nesterov"] is None else h["nesterov"]
        if not isinstance(nesterov, bool):
            raise TypeError(f"nesterov must be True or False; got {type(nesterov).__name__} {nesterov!r}")
        if nesterov and self.momentum == 0.0:
            raise ValueError("nesterov=True needs momentum > 0; got momentum=0.0")
        self.nesterov = nesterov
        self.state_names = ("velocity",) if self.momentum > 0.0 else ()
        super().__init__(params, h["lr"])

    @property
    def hyperparams(self):
        return {"lr": self.lr, "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015): a step per coordinate scaled by running gradient moments.

    With :math:`m, v` starting at zero and :math:`t` the number of steps this parameter
    has taken (1 on its first):

    .. math::

        m &\leftarrow \beta_1 m + (1 - \beta_1)\, g \\
        v &\leftarrow \beta_2 v + (1 - \beta_2)\, g \odot g \\
        \hat m &= m / (1 - \beta_1^t), \qquad \hat v = v / (1 - \beta_2^t) \\
        \theta &\leftarrow \theta - \eta\, \hat m / (\sqrt{\hat v} + \epsilon)

    The bias correction undoes the pull of the zero start: on the first step
    :math:`\hat m = g` and :math:`\hat v = g^2`, so every coordinate moves by about
    :math:`\eta`, whatever the scale of its gradient. Forgetting :math:`t` here is a
    known trap. An optimizer bound to a model counts one :math:`t` for the model's flat
    parameter buffer, so a second ``fit`` with the same optimizer continues the first.

    Parameters
    ----------
    params : dict of str -> array, optional
        The parameters to update (``model.params``); see :mod:`minivae.optimizer_state`.
    lr : float, default 1e-3
        Learning rate :math:`\eta > 0`.
    betas : (float, float), default (0.9, 0.999)
        Decay rates :math:`\beta_1, \beta_2 \in [0, 1)` of the two moments.
    eps : float, default 1e-8
        :math:`\epsilon > 0`, added to :math:`\sqrt{\hat v}` so that no division is by zero.
    """

    state_names = ("m", "v")

    def _update_reference(self, name, p, g, s):
        """The rule exactly as written above: the one source of truth (:meth:`_update` is proved equal)."""
        xp = array_module(p)
        beta1, beta2 = self.beta1, self.beta2
        s["t"] += 1
        t, m, v = s["t"], s["m"], s["v"]
        m *= beta1
        m += (1.0 - beta1) * g
        v *= beta2
        v += (1.0 - beta2) * (g * g)
        m_hat = m / (1.0 - beta1**t)
        v_hat = v / (1.0 - beta2**t)
        p -= self.lr * m_hat / (xp.sqrt(v_hat) + self.eps)

    def _update(self, name, p, g, s):
        r"""The same update without temporaries: both corrections folded into :math:`\eta_t, \epsilon_t`.

        With :math:`c_2 = \sqrt{1 - \beta_2^t}` (Kingma & Ba 2015, end of §2),

        .. math::
            \eta\,\frac{\hat m}{\sqrt{\hat v} + \epsilon}
            = \underbrace{\frac{\eta\, c_2}{1 - \beta_1^t}}_{\eta_t}
              \frac{m}{\sqrt{v} + \epsilon c_2}

        On NumPy the arrays are walked in chunks that stay in the CPU's caches; on CuPy
        one fused kernel does it all.
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

    def __init__(self, *args, lr=None, betas=None, eps=None):
        params, h = split_params("Adam", args, ("lr", "betas", "eps"), {"lr": lr, "betas": betas, "eps": eps})
        betas = (0.9, 0.999) if h["betas"] is None else h["betas"]
        if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__"):
            raise TypeError(f"betas must be a pair (beta1, beta2); got {type(betas).__name__} {betas!r}")
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2); got {len(betas)} values {betas!r}")
        self.beta1 = unit_interval("betas[0]", betas[0])
        self.beta2 = unit_interval("betas[1]", betas[1])
        self.eps = positive("eps", 1e-8 if h["eps"] is None else h["eps"])
        super().__init__(params, 1e-3 if h["lr"] is None else h["lr"])

    @property
    def betas(self):
        return (self.beta1, self.beta2)

    @property
    def hyperparams(self):
        return {"lr": self.lr, "betas": self.betas, "eps": self.eps}

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
