"""The catalogue of classic mistakes, part 3: the convolution's backward pass (§10).

Each entry is the library's ``conv2d_backward`` with one thing done wrong, computed
from the formula of docs/derivations.md §10 with the wrong step in it.
"""
from __future__ import annotations

from .. import ops
from ..backend import array_module
from .spec import mistake

DX, DW = "§10.2 (dx: a full convolution with the flipped kernel)", "§10.3 (dW as a correlation; db)"


def _padded(x, pad, pad2=None):
    """``x`` with ``pad`` zeros above and below each image and ``pad2`` (default ``pad``) left and right."""
    pad2 = pad if pad2 is None else pad2
    return array_module(x).pad(x, ((0, 0), (0, 0), (pad, pad), (pad2, pad2)))


def _dx_padded(dout, W, stride, flip):
    """d(xpad) by §10.2: dout dilated by the stride, padded by f - 1, correlated with the kernel
    (flipped when ``flip``, channels swapped); when the sizes tile, it has xpad's shape."""
    xp = array_module(dout)
    B, O, T, T2 = dout.shape
    k, k2 = W.shape[2:]
    dilated = xp.zeros((B, O, (T - 1) * stride + 1, (T2 - 1) * stride + 1), dtype=dout.dtype)
    dilated[:, :, ::stride, ::stride] = dout
    kernel = W[:, :, ::-1, ::-1] if flip else W
    kernel = xp.ascontiguousarray(kernel.transpose(1, 0, 2, 3))
    full = _padded(dilated, k - 1, k2 - 1)
    return ops.conv2d_forward(full, kernel, xp.zeros(W.shape[1], dtype=W.dtype), 1, 0)[0]


@mistake("conv2d_backward", DX,
         "dx uses the kernel as it is, not flipped: the forward pass reads the input at offset +k from each "
         "window's corner, so the outputs that read a pixel sit at offset -k from it, and the kernel must be "
         "flipped in both axes (and its two channel axes swapped).")
def kernel_not_flipped(dout, cache):
    x, W, stride, pad = cache[:4]
    dxpad = _dx_padded(dout, W, stride, flip=False)
    _, dW, db = ops.conv2d_backward(dout, cache)
    return dxpad[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]].copy(), dW, db


@mistake("conv2d_backward", DW,
         "dW pairs each entry of dout with the window one pixel further on, ignoring the stride: output "
         "(i, j) read the window whose corner is at (s·i, s·j), so dW[o, r, k, l] sums dout[b, o, i, j] times "
         "xpad[b, r, s·i + k, s·j + l].")
def stride_ignored_in_dW(dout, cache):
    x, W, stride, pad = cache[:4]
    xp = array_module(dout)
    xpad = _padded(x, pad)
    T, T2 = dout.shape[2:]
    dW = xp.zeros_like(W)
    for k in range(W.shape[2]):
        for l in range(W.shape[3]):
            dW[:, :, k, l] = xp.einsum("boij,brij->or", dout, xpad[:, :, k:k + T, l:l + T2])
    dx, _, db = ops.conv2d_backward(dout, cache)
    return dx, dW, db


@mistake("conv2d_backward", DX,
         "dx crops all 2·padding rows and columns of the padded gradient from the top and the left: padding "
         "added `padding` zeros on EACH side, so crop `padding` from each side; cropping from one side shifts "
         "the whole gradient by `padding` pixels.")
def padding_cropped_on_wrong_side(dout, cache):
    x, W, stride, pad = cache[:4]
    dxpad = _dx_padded(dout, W, stride, flip=True)  # the padded gradient, its border included
    _, dW, db = ops.conv2d_backward(dout, cache)
    return dxpad[:, :, 2 * pad:2 * pad + x.shape[2], 2 * pad:2 * pad + x.shape[3]].copy(), dW, db


@mistake("conv2d_backward", DW,
         "db sums dout over the examples only (dout.sum(axis=0)): the bias of channel o is added at every "
         "position (i, j) of every example, so db[o] sums dout over the examples AND the positions: "
         "dout.sum(axis=(0, 2, 3)).")
def db_not_summed_over_positions(dout, cache):
    dx, dW, _ = ops.conv2d_backward(dout, cache)
    return dx, dW, dout.sum(axis=0)


@mistake("conv2d_backward", DW,
         "db averages dout over the positions (a mean over i, j): each of the T·T' positions adds the bias "
         "once, so each contributes its whole dout; the sum, not the mean.")
def db_averaged_over_positions(dout, cache):
    dx, dW, _ = ops.conv2d_backward(dout, cache)
    return dx, dW, dout.sum(axis=0).mean(axis=(1, 2))
