"""The dense (fully connected) layer as a forward/backward pair (docs/derivations.md §1)."""
from __future__ import annotations

from typing import NamedTuple

from .._checks import check_array
from ..backend import array_module


class DenseCache(NamedTuple):
    """What :func:`dense_backward` needs: the layer's input and its weights."""

    x: object  # (B, in)
    W: object  # (in, out)


def dense_forward(x, W, b):
    r"""Affine map of a batch: ``out = x @ W + b``.

    .. math:: \mathrm{out}_{bk} = \sum_i x_{bi} W_{ik} + c_k

    Parameters
    ----------
    x : array, shape (B, in)
    W : array, shape (in, out)
    b : array, shape (out,)
        The bias, :math:`c` in the formulas (there :math:`b` indexes examples, §0).

    Returns
    -------
    out : array, shape (B, out)
    cache : DenseCache
        ``(x, W)``, exactly what the backward pass needs.

    Raises
    ------
    ValueError
        If the shapes do not fit together (the message names the argument).
    """
    check_array(x, "x", ndim=2)
    check_array(W, "W", ndim=2)
    check_array(b, "b", ndim=1)
    if x.shape[1] != W.shape[0]:
        raise ValueError(
            f"x must have W.shape[0] = {W.shape[0]} features (columns); got shape {tuple(x.shape)}"
        )
    if b.shape[0] != W.shape[1]:
        raise ValueError(f"b must have shape ({W.shape[1]},) to match W's columns; got {tuple(b.shape)}")
    out = x @ W
    out += b
    return out, DenseCache(x, W)


def dense_backward(dout, cache, *, need_dx=True, out=None):
    r"""Gradients of the dense layer (docs/derivations.md §1).

    By the chain rule on :math:`\mathrm{out}_{bk} = \sum_i x_{bi} W_{ik} + c_k` (``b`` is the
    bias :math:`c`):

    .. math::
        \mathrm{dx} = \mathrm{dout}\, W^\top, \qquad \mathrm{dW} = x^\top \mathrm{dout}, \qquad
        \mathrm{db}_k = \frac{\partial L}{\partial c_k} = \sum_b \mathrm{dout}_{bk}

    Parameters
    ----------
    dout : array, shape (B, out)
        Upstream gradient :math:`\partial L / \partial \mathrm{out}`.
    cache : DenseCache
        From :func:`dense_forward`.
    need_dx : bool
        ``False`` skips ``dx`` (returned as ``None``): the first layer of a network has
        no use for the gradient of its data, and skipping it saves one matrix product.
    out : (array, array), optional
        Arrays of shapes (in, out) and (out,) to write ``dW`` and ``db`` into (a
        training loop reuses them, so a step allocates nothing for the gradients).

    Returns
    -------
    dx : array, shape (B, in), or None
    dW : array, shape (in, out)
    db : array, shape (out,)
    """
    check_array(dout, "dout", ndim=2)
    x, W = cache
    if tuple(dout.shape) != (x.shape[0], W.shape[1]):
        raise ValueError(
            f"dout must have the shape of the layer's output, {(x.shape[0], W.shape[1])}; "
            f"got {tuple(dout.shape)}"
        )
    xp = array_module(dout)
    dW_out, db_out = (None, None) if out is None else out
    dx = dout @ W.T if need_dx else None
    dW = xp.matmul(x.T, dout, out=dW_out)
    db = dout.sum(axis=0, out=db_out)
    return dx, dW, db
