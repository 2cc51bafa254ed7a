r"""The 2-D convolution and its transpose as forward/backward pairs (docs/derivations.md §10).

Arrays are NCHW: ``x`` has shape (N, C, H, W) — examples, channels, rows, columns. The
convolution of deep learning is a cross-correlation (the kernel is not flipped in the
forward pass); with stride :math:`s` and :math:`\mathrm{pad}` zeros on every side
(the symbols of §10: example :math:`b`, input channel :math:`r`, output channel :math:`o`,
output position :math:`(i, i')`, kernel offset :math:`(k, k')` in an :math:`f \times f'`
kernel, input size :math:`S`, output size :math:`T`):

.. math::
    \mathrm{out}_{b o i i'} = c_o + \sum_{r, k, k'} W_{o r k k'}\,
        \bar x_{b,\,r,\,s i + k,\,s i' + k'},
    \qquad T = \frac{S + 2\,\mathrm{pad} - f}{s} + 1

where :math:`\bar x` is :math:`x` with the zeros added and :math:`c` is the bias ``b``.
This module asks the sizes to *tile* (:math:`s` divides :math:`S + 2\,\mathrm{pad} - f`, and the same for the
width): PyTorch then gives the same output size, and the transposed convolution of the
output has exactly the shape of ``x`` again (otherwise it would need PyTorch's
``output_padding``, and the last rows of ``x`` would be silently ignored).

Two versions of each computation live here:

* ``*_loops``: plain Python loops written straight from the formula above (and from its
  derivatives). They are slow and they are the **source of truth**: the tests prove the
  fast version equal to them.
* the fast version, used by the layers: *im2col* copies the :math:`k_H k_W` shifted
  views of :math:`\bar x` into one matrix, so the whole convolution is **one matrix
  product**; its backward is two matrix products and the reverse copy (*col2im*).

The transposed convolution is the convolution's input gradient used as a forward pass,
so both pairs are built from the same three pieces (``_conv``, ``_conv_dx``, ``_conv_dW``).
"""
from __future__ import annotations

import numbers
from typing import NamedTuple

from .._checks import check_array
from ..backend import array_module


# ---------------------------------------------------------------------------- checks
def _check_int(v, name, minimum):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise TypeError(f"{name} must be an integer; got {type(v).__name__}")
    v = int(v)
    if v < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {v}")
    return v


def _check_conv_args(x, W, b, stride, padding, *, transposed):
    """Check the arguments of either forward pass; return ``(stride, padding)`` as ints."""
    check_array(x, "x", ndim=4)
    check_array(W, "W", ndim=4)
    check_array(b, "b", ndim=1)
    stride = _check_int(stride, "stride", 1)
    padding = _check_int(padding, "padding", 0)
    c_in_axis = 0 if transposed else 1
    layout = "(C_in, C_out, kH, kW)" if transposed else "(C_out, C_in, kH, kW)"
    if x.shape[1] != W.shape[c_in_axis]:
        raise ValueError(f"x must have {W.shape[c_in_axis]} channels (x.shape[1]) to match W of shape "
                         f"{tuple(W.shape)}, read as {layout}; got x of shape {tuple(x.shape)}")
    c_out = W.shape[1 - c_in_axis]
    if b.shape[0] != c_out:
        raise ValueError(f"b must have shape ({c_out},), one bias per output channel of W {layout}; "
                         f"got {tuple(b.shape)}")
    if array_module(x) is not array_module(W) or array_module(x) is not array_module(b):
        raise TypeError("x, W and b must live on the same backend (all NumPy or all CuPy)")
    kH, kW = W.shape[2:]
    if transposed:
        for name, size, k in (("height", x.shape[2], kH), ("width", x.shape[3], kW)):
            if (size - 1) * stride + k - 2 * padding < 1:
                raise ValueError(f"padding={padding} crops the whole output: the {name} would be "
                                 f"({size} - 1)*{stride} + {k} - 2*{padding} < 1")
        return stride, padding
    for name, size, k in (("height", x.shape[2], kH), ("width", x.shape[3], kW)):
        span = size + 2 * padding - k
        if span < 0:
            raise ValueError(f"x's {name} {size} with padding {padding} is smaller than the kernel's {k}")
        if span % stride:
            raise ValueError(
                f"x's {name} {size} does not tile: ({size} + 2*{padding} - {k}) = {span} is not a "
                f"multiple of stride {stride}, so the last {span % stride} row(s) or column(s) would "
                f"be ignored; pad or crop x, or change the padding")
    return stride, padding


def conv_output_size(size, k, stride, padding):
    r""":math:`T = (S + 2\,\mathrm{pad} - f)/s + 1`, the output height (or width) of a convolution that tiles."""
    return (size + 2 * padding - k) // stride + 1


def conv_transpose_output_size(size, k, stride, padding):
    r""":math:`S = (T - 1)s + f - 2\,\mathrm{pad}`, the output height (or width) of a transposed convolution."""
    return (size - 1) * stride + k - 2 * padding


# ---------------------------------------------------------------------------- the source of truth
def _pad(x, padding):
    """``x`` with ``padding`` zeros added on all four sides of each image (a new array).

    Laid out channel by channel in memory (a (C, N, ...) array seen as (N, C, ...)), the
    order in which :func:`_im2col` reads it.
    """
    xp = array_module(x)
    N, C, H, W_ = x.shape
    out = xp.zeros((C, N, H + 2 * padding, W_ + 2 * padding), dtype=x.dtype).transpose(1, 0, 2, 3)
    out[:, :, padding:padding + H, padding:padding + W_] = x
    return out


def _crop(xpad, padding):
    """Undo :func:`_pad`: drop ``padding`` rows and columns on every side."""
    H, W_ = xpad.shape[2] - 2 * padding, xpad.shape[3] - 2 * padding
    return xpad[:, :, padding:padding + H, padding:padding + W_]


def conv2d_forward_loops(x, W, b, stride=1, padding=0):
    r"""The convolution by plain loops over every output entry: the formula, read aloud.

    ``out[n, o, i, j] = b[o] + sum(W[o] * xpad[n, :, s*i : s*i+kH, s*j : s*j+kW])``.
    Shapes as in :func:`conv2d_forward`; returns only ``out``.
    """
    stride, padding = _check_conv_args(x, W, b, stride, padding, transposed=False)
    xp = array_module(x)
    N, C_out, (kH, kW) = x.shape[0], W.shape[0], W.shape[2:]
    xpad = _pad(x, padding)
    Ho, Wo = (conv_output_size(x.shape[a], W.shape[a], stride, padding) for a in (2, 3))
    out = xp.zeros((N, C_out, Ho, Wo), dtype=x.dtype)
    for n in range(N):
        for o in range(C_out):
            for i in range(Ho):
                for j in range(Wo):
                    window = xpad[n, :, stride * i:stride * i + kH, stride * j:stride * j + kW]
                    out[n, o, i, j] = b[o] + (W[o] * window).sum()
    return out


def conv2d_backward_loops(dout, x, W, stride=1, padding=0):
    r"""``(dx, dW, db)`` by the same loops: each output entry sends its gradient back.

    :math:`\mathrm{out}_{boii'}` read :math:`W_{o}` and the window of
    :math:`\bar x` at :math:`(si, si')`, so by the chain rule it adds
    :math:`\mathrm{dout}_{boii'} W_{o}` to that window of :math:`\mathrm{d}\bar x`,
    :math:`\mathrm{dout}_{boii'}` times the window to :math:`\mathrm{dW}_o`, and
    :math:`\mathrm{dout}_{boii'}` to :math:`\mathrm{db}_o`; the padding's gradient is dropped.
    """
    xp = array_module(x)
    stride, padding = _check_conv_args(x, W, xp.zeros(W.shape[0], dtype=W.dtype), stride, padding,
                                       transposed=False)
    kH, kW = W.shape[2:]
    xpad = _pad(x, padding)
    dxpad, dW, db = xp.zeros_like(xpad), xp.zeros_like(W), xp.zeros(W.shape[0], dtype=W.dtype)
    N, C_out, Ho, Wo = dout.shape
    for n in range(N):
        for o in range(C_out):
            for i in range(Ho):
                for j in range(Wo):
                    g = dout[n, o, i, j]
                    rows, cols = slice(stride * i, stride * i + kH), slice(stride * j, stride * j + kW)
                    dxpad[n, :, rows, cols] += g * W[o]
                    dW[o] += g * xpad[n, :, rows, cols]
                    db[o] += g
    return _crop(dxpad, padding), dW, db


def conv_transpose2d_forward_loops(x, W, b, stride=1, padding=0):
    r"""The transposed convolution by loops: each input entry paints a copy of the kernel.

    ``outpad[n, :, s*i : s*i+kH, s*j : s*j+kW] += x[n, c, i, j] * W[c]``, then crop
    ``padding`` on every side and add ``b``. It is :func:`conv2d_backward_loops`' ``dx``
    with ``x`` in the place of ``dout``: the same loop, nothing new.
    """
    stride, padding = _check_conv_args(x, W, b, stride, padding, transposed=True)
    xp = array_module(x)
    N, C_in, H, W_ = x.shape
    kH, kW = W.shape[2:]
    Ho, Wo = (conv_transpose_output_size(x.shape[a], W.shape[a], stride, padding) for a in (2, 3))
    outpad = xp.zeros((N, W.shape[1], Ho + 2 * padding, Wo + 2 * padding), dtype=x.dtype)
    for n in range(N):
        for c in range(C_in):
            for i in range(H):
                for j in range(W_):
                    outpad[n, :, stride * i:stride * i + kH, stride * j:stride * j + kW] += x[n, c, i, j] * W[c]
    return _crop(outpad, padding) + b.reshape(1, -1, 1, 1)


# ---------------------------------------------------------------------------- the fast pieces
def _im2col(x, kH, kW, stride, padding):
    r"""The windows of :math:`\bar x` as the columns of one matrix.

    Returns ``cols`` of shape (C·kH·kW, N·H'·W'): row ``(c, p, q)``, column ``(n, i, j)``
    holds :math:`\bar x_{b, r, si+k, si'+k'}`. Built from :math:`f f'` strided slices
    (one copy per kernel position), the same on NumPy and CuPy.
    """
    xp = array_module(x)
    N, C, H, W_ = x.shape
    Ho, Wo = conv_output_size(H, kH, stride, padding), conv_output_size(W_, kW, stride, padding)
    xpad = _pad(x, padding) if padding else x
    xt = xpad.transpose(1, 0, 2, 3)                      # (C, N, Hp, Wp): channels first
    cols = xp.empty((C, kH, kW, N, Ho, Wo), dtype=x.dtype)
    for p in range(kH):
        for q in range(kW):
            cols[:, p, q] = xt[:, :, p:p + stride * Ho:stride, q:q + stride * Wo:stride]
    return cols.reshape(C * kH * kW, N * Ho * Wo)


def _col2im(dcols, x_shape, kH, kW, stride, padding):
    """The adjoint of :func:`_im2col`: add each column's entries back where they were read."""
    xp = array_module(dcols)
    N, C, H, W_ = x_shape
    Ho, Wo = conv_output_size(H, kH, stride, padding), conv_output_size(W_, kW, stride, padding)
    d = dcols.reshape(C, kH, kW, N, Ho, Wo)
    dxt = xp.zeros((C, N, H + 2 * padding, W_ + 2 * padding), dtype=dcols.dtype)
    for p in range(kH):
        for q in range(kW):
            dxt[:, :, p:p + stride * Ho:stride, q:q + stride * Wo:stride] += d[:, p, q]
    return _crop(dxt.transpose(1, 0, 2, 3), padding)


def _conv(cols, W, N, Ho, Wo):
    """``W ⋆ x`` without bias from ``cols = _im2col(x)``: one matrix product -> (N, C_out, H', W').

    The result is the product's (C_out, N, H', W') array seen as (N, C_out, H', W'), not
    copied: the next layer's im2col and the backward's :func:`_rows` read that order
    without a copy, and element-wise layers between them keep it.
    """
    out = W.reshape(W.shape[0], -1) @ cols                # (C_out, N·H'·W')
    return out.reshape(W.shape[0], N, Ho, Wo).transpose(1, 0, 2, 3)


def _rows(dout):
    """``dout`` (N, C_out, H', W') as the matrix (C_out, N·H'·W') that matches ``cols``' columns."""
    return dout.transpose(1, 0, 2, 3).reshape(dout.shape[1], -1)


def _conv_dW(cols, rows, W_shape):
    r""":math:`\mathrm{dW}_{orkk'} = \sum_{b,i,i'} \mathrm{dout}_{boii'}\,\bar x_{b,r,si+k,si'+k'}`: one matrix product.

    ``rows = _rows(dout)``.
    """
    return (rows @ cols.T).reshape(W_shape)


def _conv_dx(rows, W, x_shape, stride, padding):
    r""":math:`\mathrm{dx}` of the convolution: :math:`W^\top \mathrm{dout}` as columns, put back by col2im.

    ``rows = _rows(dout)``.
    """
    dcols = W.reshape(W.shape[0], -1).T @ rows            # (C_in·kH·kW, N·H'·W')
    return _col2im(dcols, x_shape, W.shape[2], W.shape[3], stride, padding)


# ---------------------------------------------------------------------------- the pairs
class ConvCache(NamedTuple):
    """What :func:`conv2d_backward` needs: the input, the weights, the geometry, and the input's columns.

    ``cols`` is the fast version's copy of the windows of ``x`` (see :func:`_im2col`); a
    backward written from the formula needs only the first four fields.
    """

    x: object       # (N, C_in, H, W)
    W: object       # (C_out, C_in, kH, kW)
    stride: int
    padding: int
    cols: object    # (C_in·kH·kW, N·H'·W'), from _im2col(x)


def conv2d_forward(x, W, b, stride=1, padding=0):
    r"""2-D convolution (cross-correlation, as PyTorch's ``conv2d``), NCHW (§10.1).

    .. math::
        \mathrm{out}_{boii'} = c_o + \sum_{r=0}^{R-1} \sum_{k=0}^{f-1} \sum_{k'=0}^{f'-1}
            W_{orkk'}\, \bar x_{b,\,r,\,si+k,\,si'+k'}

    with :math:`\bar x` the input padded by ``padding`` zeros on each side and
    :math:`c` the bias ``b`` (symbols of §10).

    Parameters
    ----------
    x : array, shape (N, C_in, H, W)
    W : array, shape (C_out, C_in, kH, kW)
    b : array, shape (C_out,)
    stride : int >= 1
    padding : int >= 0

    Returns
    -------
    out : array, shape (N, C_out, H', W'), :math:`T = (S + 2\,\mathrm{pad} - f)/s + 1`
    cache : ConvCache

    Raises
    ------
    ValueError
        Wrong number of dimensions, channels of ``x`` and ``W`` that do not match, a
        bias of the wrong length, or sizes that do not tile (``stride`` does not divide
        ``H + 2*padding - kH``); the message names the argument.
    """
    stride, padding = _check_conv_args(x, W, b, stride, padding, transposed=False)
    N, _, H, W_ = x.shape
    kH, kW = W.shape[2:]
    Ho, Wo = conv_output_size(H, kH, stride, padding), conv_output_size(W_, kW, stride, padding)
    cols = _im2col(x, kH, kW, stride, padding)
    out = _conv(cols, W, N, Ho, Wo)
    out += b.reshape(1, -1, 1, 1)
    return out, ConvCache(x, W, stride, padding, cols)


def conv2d_backward(dout, cache):
    r"""Gradients of the convolution (§10.2, §10.3).

    .. math::
        \mathrm{d}\bar x_{brnn'} = \sum_{o,i,i'} \mathrm{dout}_{boii'}\, W_{or,\,n-si,\,n'-si'}, \qquad
        \mathrm{dW}_{orkk'} = \sum_{b,i,i'} \mathrm{dout}_{boii'}\, \bar x_{b,r,si+k,si'+k'}, \qquad
        \mathrm{db}_o = \sum_{b,i,i'} \mathrm{dout}_{boii'}

    (terms whose kernel index falls outside the kernel are zero). ``dx`` is
    :math:`\mathrm{d}\bar x` with the padding cropped: for stride 1 a *full*
    convolution of ``dout`` with the kernel flipped in both axes (channels swapped);
    for stride :math:`s`, the same after :math:`s-1` zeros are put between the entries
    of ``dout``. ``dW`` correlates the padded input with ``dout``.

    Parameters
    ----------
    dout : array, shape (N, C_out, H', W')
    cache : ConvCache

    Returns
    -------
    dx : array, shape (N, C_in, H, W)
    dW : array, shape (C_out, C_in, kH, kW)
    db : array, shape (C_out,)
    """
    check_array(dout, "dout", ndim=4)
    x, W, stride, padding, cols = cache
    x_shape = tuple(x.shape)
    N = x_shape[0]
    Ho = conv_output_size(x_shape[2], W.shape[2], stride, padding)
    Wo = conv_output_size(x_shape[3], W.shape[3], stride, padding)
    expected = (N, W.shape[0], Ho, Wo)
    if tuple(dout.shape) != expected:
        raise ValueError(f"dout must have the shape of the convolution's output, {expected}; got {tuple(dout.shape)}")
    rows = _rows(dout)                                    # one copy (none if dout is channel-major), used twice
    dx = _conv_dx(rows, W, x_shape, stride, padding)
    dW = _conv_dW(cols, rows, W.shape)
    db = dout.sum(axis=(0, 2, 3))
    return dx, dW, db


class ConvTransposeCache(NamedTuple):
    """What :func:`conv_transpose2d_backward` needs: the input, the weights, the geometry."""

    x: object       # (N, C_in, H, W)
    W: object       # (C_in, C_out, kH, kW)
    stride: int
    padding: int


def conv_transpose2d_forward(x, W, b, stride=1, padding=0):
    r"""Transposed convolution (as PyTorch's ``conv_transpose2d``), NCHW (§10.5).

    It is the input gradient of :func:`conv2d_forward` with the same ``W``, ``stride``
    and ``padding``, run as a forward pass on ``x``:

    .. math::
        \mathrm{out} = \mathrm{conv}_W^{\top}(x) + c, \qquad
        \overline{\mathrm{out}}_{b r n n'} = \sum_{o,i,i'} x_{boii'}\, W_{or,\,n-si,\,n'-si'}

    (then ``padding`` is cropped from every side). It maps a (H, W) map to
    :math:`S = (T-1)s + f - 2\,\mathrm{pad}`: with stride 2 it doubles the size, as a decoder needs.

    Parameters
    ----------
    x : array, shape (N, C_in, H, W)
    W : array, shape (C_in, C_out, kH, kW)
    b : array, shape (C_out,)
    stride : int >= 1
    padding : int >= 0

    Returns
    -------
    out : array, shape (N, C_out, H', W')
    cache : ConvTransposeCache
    """
    stride, padding = _check_conv_args(x, W, b, stride, padding, transposed=True)
    N, _, H, W_ = x.shape
    kH, kW = W.shape[2:]
    out_shape = (N, W.shape[1], conv_transpose_output_size(H, kH, stride, padding),
                 conv_transpose_output_size(W_, kW, stride, padding))
    out = _conv_dx(_rows(x), W, out_shape, stride, padding)  # the convolution's dx, with x as dout
    out += b.reshape(1, -1, 1, 1)
    return out, ConvTransposeCache(x, W, stride, padding)


def conv_transpose2d_backward(dout, cache):
    r"""Gradients of the transposed convolution (§10.5): the convolution's pair, read backwards.

    Since the forward is :math:`x \mapsto \mathrm{conv}_W^\top x`, its input gradient
    is the convolution itself, and its weight gradient is the convolution's ``dW`` with
    the roles of input and upstream gradient swapped:

    .. math::
        \mathrm{dx} = \mathrm{conv}_W(\mathrm{dout}), \qquad
        \mathrm{dW}_{orkk'} = \sum_{b,i,i'} x_{boii'}\, \overline{\mathrm{dout}}_{b,r,si+k,si'+k'}, \qquad
        \mathrm{db}_r = \sum_{b,n,n'} \mathrm{dout}_{brnn'}

    Parameters
    ----------
    dout : array, shape (N, C_out, H', W')
    cache : ConvTransposeCache

    Returns
    -------
    dx : array, shape (N, C_in, H, W)
    dW : array, shape (C_in, C_out, kH, kW)
    db : array, shape (C_out,)
    """
    check_array(dout, "dout", ndim=4)
    x, W, stride, padding = cache
    N, _, H, W_ = x.shape
    kH, kW = W.shape[2:]
    expected = (N, W.shape[1], conv_transpose_output_size(H, kH, stride, padding),
                conv_transpose_output_size(W_, kW, stride, padding))
    if tuple(dout.shape) != expected:
        raise ValueError(f"dout must have the shape of the transposed convolution's output, {expected}; "
                         f"got {tuple(dout.shape)}")
    cols = _im2col(dout, kH, kW, stride, padding)        # dout plays the convolution's input
    dx = _conv(cols, W, N, H, W_)
    dW = _conv_dW(cols, _rows(x), W.shape)               # x plays the convolution's upstream gradient
    db = dout.sum(axis=(0, 2, 3))
    return dx, dW, db
