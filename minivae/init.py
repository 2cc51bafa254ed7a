"""Weight initialisers (derivations in docs/derivations.md §2).

A layer's weights start random so that its units differ; their *scale* decides whether
signals shrink or blow up as they pass through many layers. Both rules below choose the
variance that keeps the second moment of activations (and of gradients) roughly the same
from layer to layer.

- **He** (Kaiming) normal, for ReLU-family layers: :math:`W \\sim N(0, 2/n_{in})`.
  ReLU zeroes half of its inputs, halving the second moment; the factor 2 restores it
  (He et al., 2015).
- **Xavier** (Glorot) uniform, for tanh and linear layers:
  :math:`W \\sim U(-r, r)`, :math:`r = \\sqrt{6 / (n_{in} + n_{out})}`, whose variance
  :math:`2/(n_{in}+n_{out})` balances the forward and the backward pass of an activation
  with slope 1 and mean 0 at the origin (Glorot & Bengio, 2010). The sigmoid (slope 1/4,
  mean 1/2) is not covered by that argument; minivae's models still use this scale
  before it, as before every activation outside the ReLU family: a reasonable start
  for the one sigmoid code layer of the sparse and contractive autoencoders, not a
  derived rule (§2).

Biases start at zero.
"""
from __future__ import annotations

from .backend import resolve_dtype

INITS = ("he", "xavier", "glorot")


def init_weight(rng, in_features, out_features, init="he", dtype=None):
    """Draw a weight matrix of shape ``(in_features, out_features)``.

    Parameters
    ----------
    rng : minivae.backend.Random
        Source of the random numbers (decides the backend).
    in_features, out_features : int
    init : {"he", "xavier", "glorot"}
        ``"glorot"`` is another name for ``"xavier"``.
    dtype : str or dtype, optional
        Default float32.

    Returns
    -------
    W : array, shape (in_features, out_features)
    """
    dt = resolve_dtype(dtype)
    if init == "he":
        std = (2.0 / in_features) ** 0.5
        return (rng.normal((in_features, out_features), dtype=dt) * std).astype(dt, copy=False)
    if init in ("xavier", "glorot"):
        a = (6.0 / (in_features + out_features)) ** 0.5
        u = rng.uniform((in_features, out_features), dtype=dt)
        return ((2.0 * u - 1.0) * a).astype(dt, copy=False)
    raise ValueError(f"init must be one of {INITS}; got {init!r}")
