r"""The convolutional VAE: the VAE of :mod:`minivae.models.vae` with convolutional networks (§10).

Only the encoder and the decoder change. The loss, its backward wiring, ``fit``,
``encode``, ``decode``, ``sample``, ``log_likelihood``, ``save`` and ``load`` are the
VAE's own, because the model still reads and writes rows of ``input_dim`` pixels: a
:class:`~minivae.conv_layers.Reshape` at each end turns them into square one-channel
images and back.
"""
from __future__ import annotations

import math

from ..conv_layers import Conv2d, ConvTranspose2d, Reshape
from ..layers import Layer, Sequential, make_activation
from .base import _SIZING, Model, _Shape, mlp
from .vae import VAE

KERNEL, STRIDE, PADDING = 4, 2, 1  # each convolution halves the side, each transposed one doubles it


class _ShapeOnlyConv(Layer):
    """A convolution's parameter shapes without the arrays (what sizing a model builds)."""

    def __init__(self, W_shape, n_bias):
        super().__init__()
        self.params = {"W": _Shape(W_shape), "b": _Shape((n_bias,))}


def _conv(cls, c_in, c_out, rng, dtype, init):
    """A ``cls`` layer with the model's geometry, or its shapes alone while a checkpoint is sized."""
    sizing = _SIZING.get()
    if sizing is None:
        return cls(c_in, c_out, KERNEL, stride=STRIDE, padding=PADDING, init=init, rng=rng, dtype=dtype)
    sizing[0] -= 2
    if sizing[0] < 0:
        raise ValueError("it describes more parameter arrays than a checkpoint can hold")
    shape = (c_out, c_in) if cls is Conv2d else (c_in, c_out)
    return _ShapeOnlyConv(shape + (KERNEL, KERNEL), c_out)


class ConvVAE(VAE):
    r"""A VAE whose encoder and decoder are convolutional, for square one-channel images.

    ::

        x (B, S·S) ─Reshape─> (B, 1, S, S) ─[Conv2d k4 s2 p1 → act] × n─> (B, C_n, S/2^n, S/2^n)
                   ─Reshape─> h ──┬─ Dense ─> mu ─────┐
                                  └─ Dense ─> logvar ─┴─> z = mu + exp(logvar/2)·eps
        z ─Dense → act─> Reshape (B, C_n, S/2^n, S/2^n)
          ─[ConvTranspose2d k4 s2 p1 → act] × (n-1)─> ConvTranspose2d k4 s2 p1 (linear)
          ─> (B, 1, S, S) ─Reshape─> out (B, S·S): logits (bernoulli) or means (gaussian)

    Each convolution (kernel 4, stride 2, padding 1) halves the side of the feature map,
    each transposed convolution doubles it (§10.1, §10.5): 28 → 14 → 7 and back for
    MNIST with two layers, 8 → 4 → 2 and back for the 8×8 digits.

    Parameters
    ----------
    input_dim : int
        Pixels per image, a square number ``S*S`` (784 or 64); ``S`` must be divisible by
        ``2 ** len(hidden_dims)``.
    hidden_dims : sequence of int
        Channels of the encoder's convolutions, first to last (default ``(16, 32)``);
        the decoder mirrors them.
    latent_dim, likelihood, beta, sigma, activation, seed, dtype
        As for :class:`~minivae.models.vae.VAE`.

    Examples
    --------
    >>> from minivae import ConvVAE
    >>> from minivae.datasets import load_digits
    >>> X, _ = load_digits()
    >>> vae = ConvVAE(64, hidden_dims=(8, 16), latent_dim=8)
    >>> history = vae.fit(X, epochs=2, verbose=False)
    >>> vae.sample(4).shape
    (4, 64)
    """

    def __init__(self, input_dim, hidden_dims=(16, 32), latent_dim=2, *, likelihood="bernoulli", beta=1.0,
                 sigma=1.0, activation="relu", seed=0, dtype="float32"):
        Model.__init__(self, input_dim, hidden_dims, latent_dim, seed=seed, dtype=dtype)  # not VAE's: no MLP
        self._set_options(likelihood, beta, sigma, activation)
        side, n = math.isqrt(self.input_dim), len(self.hidden_dims)
        if side * side != self.input_dim:
            raise ValueError(f"input_dim must be a square number of pixels (64 for 8x8, 784 for 28x28) "
                             f"for a ConvVAE; got {self.input_dim}")
        if n == 0 or side % (2 ** n):
            raise ValueError(f"hidden_dims must give between 1 and {max(1, (side & -side).bit_length() - 1)} "
                             f"convolutions for {side}x{side} images (each halves the side, which must stay "
                             f"whole); got {n}")
        self.side = side
        init = "he" if activation in ("relu", "leaky_relu") else "xavier"
        chans, t = (1, *self.hidden_dims), side // 2 ** n
        flat = chans[-1] * t * t
        enc = [Reshape((1, side, side))]
        for c_in, c_out in zip(chans[:-1], chans[1:]):
            enc += [_conv(Conv2d, c_in, c_out, self.rng, self.dtype, init), make_activation(activation)]
        self.blocks["encoder"] = Sequential(*enc, Reshape((flat,)))
        self.blocks["mu"] = mlp((flat, self.latent_dim), activation, self.rng, self.dtype)
        self.blocks["logvar"] = mlp((flat, self.latent_dim), activation, self.rng, self.dtype)
        dec = mlp((self.latent_dim, flat), activation, self.rng, self.dtype, last_activation=activation).layers
        dec.append(Reshape((chans[-1], t, t)))
        for i in range(n, 0, -1):
            dec.append(_conv(ConvTranspose2d, chans[i], chans[i - 1], self.rng, self.dtype,
                             init if i > 1 else "xavier"))
            if i > 1:
                dec.append(make_activation(activation))
        self.blocks["decoder"] = Sequential(*dec, Reshape((self.input_dim,)))
        self._pack_params()
