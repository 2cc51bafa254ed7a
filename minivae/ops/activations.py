"""Elementwise activations as forward/backward pairs (docs/derivations.md §3).

Each backward is ``dx = dout * f'(x)``. Where the derivative is cheapest in terms of the
forward's *output* (sigmoid, tanh) the cache holds the output, and the backward uses it.
"""
from __future__ import annotations

from typing import NamedTuple

from ..backend import array_module
from .._checks import check_array, check_number, check_same_shape
from . import kernels


def _check_dout(dout, kept):
    check_array(dout, "dout")
    check_same_shape(kept, "the activation's input", dout, "dout")


class ReLUCache(NamedTuple):
    x: object  # the input, (any shape)


def relu_forward(x):
    r"""ReLU: :math:`f(x) = \max(x, 0)` (§3.1).

    Parameters
    ----------
    x : array, any shape

    Returns
    -------
    out : array, shape of x
    cache : ReLUCache
    """
    check_array(x, "x")
    xp = array_module(x)
    return xp.maximum(x, 0), ReLUCache(x)


def relu_backward(dout, cache):
    r""":math:`dx = dout \cdot \mathbf{1}[x > 0]` (§3.1; the kink at 0 gets derivative 0)."""
    _check_dout(dout, cache.x)
    if kernels.usable(dout, cache.x):  # on a GPU: the same formula in one launch
        return kernels.kernel(array_module(dout), "relu_backward")(dout, cache.x)
    return dout * (cache.x > 0)


class LeakyReLUCache(NamedTuple):
    x: object
    negative_slope: float


def leaky_relu_forward(x, negative_slope=0.01):
    r"""Leaky ReLU: :math:`f(x) = x` for :math:`x > 0`, :math:`\alpha x` otherwise (§3.2).

    Parameters
    ----------
    x : array, any shape
    negative_slope : float
        :math:`\alpha`, the slope for negative inputs.
    """
    check_array(x, "x")
    xp = array_module(x)
    a = check_number(negative_slope, "negative_slope", low=0.0)
    return xp.where(x > 0, x, a * x), LeakyReLUCache(x, a)


def leaky_relu_backward(dout, cache):
    r""":math:`dx = dout \cdot (1 \text{ if } x > 0 \text{ else } \alpha)` (§3.2)."""
    _check_dout(dout, cache.x)
    xp = array_module(dout)
    return xp.where(cache.x > 0, dout, cache.negative_slope * dout)


class SigmoidCache(NamedTuple):
    out: object  # sigma(x)


def sigmoid(x):
    r"""Stable logistic function :math:`\operatorname{sigmoid}(x) = 1/(1+e^{-x})` (§3.3).

    With :math:`r = \exp(-|x|) \in (0, 1]` (``e`` below), :math:`\operatorname{sigmoid}(x)
    = 1/(1+r)` for :math:`x \ge 0` and :math:`r/(1+r)` for :math:`x < 0`, so ``exp`` never
    overflows. As :math:`0 < r \le 1`, the numerator is :math:`\max(r, \mathbf{1}[x \ge 0])`:
    one branch-free pass instead of a ``where``.
    """
    xp = array_module(x)
    e = xp.exp(-xp.abs(x))
    return xp.maximum(e, x >= 0) / (1.0 + e)


def sigmoid_forward(x):
    r"""Sigmoid :math:`\operatorname{sigmoid}(x)`, stable for any finite x (§3.3).

    Returns
    -------
    out : array, shape of x, values in [0, 1]
    cache : SigmoidCache
        The output, since :math:`\operatorname{sigmoid}' = \operatorname{sigmoid}\,(1-\operatorname{sigmoid})`.
    """
    check_array(x, "x")
    out = sigmoid(x)
    return out, SigmoidCache(out)


def sigmoid_backward(dout, cache):
    r""":math:`dx = dout \cdot s(1 - s)` with :math:`s = \operatorname{sigmoid}(x)`, the cached output (§3.3)."""
    _check_dout(dout, cache.out)
    s = cache.out
    return dout * s * (1.0 - s)


class TanhCache(NamedTuple):
    out: object  # tanh(x)


def tanh_forward(x):
    r"""Hyperbolic tangent (§3.4). The cache holds the output, since :math:`\tanh' = 1 - \tanh^2`."""
    check_array(x, "x")
    out = array_module(x).tanh(x)
    return out, TanhCache(out)


def tanh_backward(dout, cache):
    r""":math:`dx = dout \cdot (1 - \tanh^2 x)`, from the cached output (§3.4)."""
    _check_dout(dout, cache.out)
    t = cache.out
    return dout * (1.0 - t * t)


class SoftplusCache(NamedTuple):
    s: object  # sigma(x), the derivative of softplus


def softplus_forward(x):
    r"""Softplus :math:`\log(1 + e^x)`, evaluated stably (§3.5).

    .. math:: \operatorname{softplus}(x) = \max(x, 0) + \log(1 + e^{-|x|})

    The cache holds :math:`\operatorname{sigmoid}(x)`, softplus's derivative, built from
    the same :math:`r = \exp(-|x|)` (``e`` below).
    """
    check_array(x, "x")
    xp = array_module(x)
    e = xp.exp(-xp.abs(x))
    out = xp.maximum(x, 0) + xp.log1p(e)
    s = xp.maximum(e, x >= 0) / (1.0 + e)  # sigma(x), as in sigmoid()
    return out, SoftplusCache(s)


def softplus_backward(dout, cache):
    r""":math:`dx = dout \cdot \operatorname{sigmoid}(x)` (§3.5)."""
    _check_dout(dout, cache.s)
    return dout * cache.s


class IdentityCache(NamedTuple):
    shape: tuple


def identity_forward(x):
    """The linear (identity) activation, so a layer list can say "no nonlinearity"."""
    check_array(x, "x")
    return x, IdentityCache(tuple(x.shape))


def identity_backward(dout, cache):
    """:math:`dx = dout`."""
    check_array(dout, "dout")
    if tuple(dout.shape) != cache.shape:
        raise ValueError(f"dout must have shape {cache.shape}; got {tuple(dout.shape)}")
    return dout
