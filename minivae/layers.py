"""Thin objects around the functional pairs in :mod:`minivae.ops`.

A layer holds its parameters (``params``), remembers the cache of its last ``forward``,
and on ``backward(dy)`` returns the gradient for its input and **stores** the gradients
of its parameters in ``grads`` (replacing earlier ones). It never updates parameters:
that is the optimizer's job.
"""
from __future__ import annotations

from . import ops
from ._checks import MAX_SEED, MAX_SIZE, check_choice, check_number, check_positive_int
from .backend import Random, asarray, resolve_dtype
from .init import INITS, init_weight


class Layer:
    """Base class: no parameters, one cached forward."""

    def __init__(self):
        self.params = {}
        self.grads = {}
        self._cache = None

    def _need_cache(self):
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        return self._cache

    def to(self, backend):
        """Move the parameters to ``backend`` ("numpy" or "cupy") in place; return self."""
        for k, v in self.params.items():
            self.params[k] = asarray(v, backend=backend)
        self.grads = {}
        self._cache = None
        return self

    def __repr__(self):
        return f"{type(self).__name__}()"


class Dense(Layer):
    r"""Fully connected layer, ``forward(x) = x @ W + b`` (docs/derivations.md §1).

    Parameters
    ----------
    in_features, out_features : int
    init : {"he", "xavier", "glorot"}
        Weight initialiser (§2): He for ReLU-family layers, Xavier for sigmoid, tanh and
        linear ones. Biases start at zero.
    seed : int, optional
        Seed for this layer's own generator (ignored when ``rng`` is given).
    dtype : str or dtype, optional
        Default float32.
    rng : minivae.backend.Random, optional
        Draw the initial weights from this generator (models pass their own).

    Attributes
    ----------
    params : dict
        ``{"W": (in, out), "b": (out,)}``
    grads : dict
        Same keys, filled by ``backward``.
    """

    def __init__(self, in_features, out_features, *, init="he", seed=None, dtype=None, rng=None):
        super().__init__()
        self.in_features = check_positive_int(in_features, "in_features", maximum=MAX_SIZE)
        self.out_features = check_positive_int(out_features, "out_features", maximum=MAX_SIZE)
        check_choice(init, "init", INITS)
        if seed is not None and rng is None:
            seed = check_positive_int(seed, "seed", minimum=0, maximum=MAX_SEED)
        dt = resolve_dtype(dtype)
        rng = rng if rng is not None else Random(seed)
        W = init_weight(rng, self.in_features, self.out_features, init, dt)
        self.params = {"W": W, "b": rng.xp.zeros(self.out_features, dtype=dt)}
        self.init = init
        self.grad_out = None  # (dW, db) arrays to write gradients into, set by a training loop

    def forward(self, x):
        """``x``: (B, in) -> (B, out)."""
        out, self._cache = ops.dense_forward(x, self.params["W"], self.params["b"])
        return out

    def backward(self, dy, need_dx=True):
        """``dy``: (B, out) -> ``dx`` (B, in); stores ``grads["W"]``, ``grads["b"]``.

        ``need_dx=False`` skips ``dx`` (returns ``None``), for a network's first layer.
        """
        dx, dW, db = ops.dense_backward(dy, self._need_cache(), need_dx=need_dx, out=self.grad_out)
        self.grads = {"W": dW, "b": db}
        return dx

    def __repr__(self):
        return f"Dense({self.in_features}, {self.out_features}, init={self.init!r})"


class _Activation(Layer):
    _forward = staticmethod(ops.identity_forward)
    _backward = staticmethod(ops.identity_backward)

    def forward(self, x):
        out, self._cache = self._forward(x)
        return out

    def backward(self, dy):
        return self._backward(dy, self._need_cache())


class ReLU(_Activation):
    r"""``max(x, 0)`` (§3.1)."""

    _forward = staticmethod(ops.relu_forward)
    _backward = staticmethod(ops.relu_backward)


class LeakyReLU(_Activation):
    r"""``x`` if ``x > 0`` else ``negative_slope * x`` (§3.2)."""

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = check_number(negative_slope, "negative_slope", low=0.0)

    def forward(self, x):
        out, self._cache = ops.leaky_relu_forward(x, self.negative_slope)
        return out

    def backward(self, dy):
        return ops.leaky_relu_backward(dy, self._need_cache())

    def __repr__(self):
        return f"LeakyReLU(negative_slope={self.negative_slope})"


class Sigmoid(_Activation):
    r"""``1 / (1 + exp(-x))``, stable for large ``|x|`` (§3.3)."""

    _forward = staticmethod(ops.sigmoid_forward)
    _backward = staticmethod(ops.sigmoid_backward)


class Tanh(_Activation):
    r"""``tanh(x)`` (§3.4)."""

    _forward = staticmethod(ops.tanh_forward)
    _backward = staticmethod(ops.tanh_backward)


class Softplus(_Activation):
    r"""``log(1 + exp(x))``, stable (§3.5)."""

    _forward = staticmethod(ops.softplus_forward)
    _backward = staticmethod(ops.softplus_backward)


class Identity(_Activation):
    """The linear activation: passes its input through unchanged."""


ACTIVATIONS = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "softplus": Softplus,
    "linear": Identity,
}


def make_activation(name):
    """Return a new activation layer from its name (one of ``ACTIVATIONS``)."""
    return ACTIVATIONS[check_choice(name, "activation", ACTIVATIONS)]()


class Sequential(Layer):
    """Layers applied in order; ``backward`` runs them in reverse.

    ``params`` and ``grads`` are flattened with the layer's index as prefix: ``"0.W"``,
    ``"0.b"``, ``"2.W"``, … The arrays in ``params`` are the layers' own live arrays.
    """

    def __init__(self, *layers):
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layers[{i}] must be a minivae layer; got {type(layer).__name__}")
        self.layers = list(layers)

    @property
    def params(self):
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.params.items()}

    @params.setter
    def params(self, value):  # Layer.__init__ assigns {}; a Sequential's params are its layers'
        if value:
            raise AttributeError("set the parameters of a Sequential through its layers")

    @property
    def grads(self):
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.grads.items()}

    @grads.setter
    def grads(self, value):
        if value:
            raise AttributeError("a Sequential's gradients live in its layers")

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dy, need_input_grad=True):
        """Run every layer's backward, last to first; return the gradient for the input.

        ``need_input_grad=False`` lets a first Dense layer skip it (returns ``None``): an
        encoder reading the data needs no gradient for the data.
        """
        for i in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[i]
            if i == 0 and not need_input_grad and isinstance(layer, Dense):
                return layer.backward(dy, need_dx=False)
            dy = layer.backward(dy)
        return dy

    def to(self, backend):
        for layer in self.layers:
            layer.to(backend)
        return self

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, i):
        return self.layers[i]

    def __repr__(self):
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Sequential({inner})"
